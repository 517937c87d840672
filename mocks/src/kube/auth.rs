//! Who may talk to the API server. With [`KubeAuth`] the server speaks TLS with a certificate
//! of its own CA and admits only requests bearing the kubeconfig's token, as a Magnum
//! cluster's API server does: anything else is `401 Unauthorized` (the answer of
//! kube-apiserver with anonymous auth off). Without it the server is plain http and admits
//! everyone, for in-process tests and the tools that bring no credentials.
//!
//! The CA, its key and the token are drawn from the operating system's random source at
//! start (see [`crate::secret`]): no two servers share them, and nothing the engine prints
//! depends on them.

use std::sync::Arc;

/// Errors making a server's TLS identity.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot make the API server's certificate")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot set up TLS for the API server")]
    Tls(#[from] rustls::Error),
}

/// A server's CA, certificate and bearer token.
pub struct KubeAuth {
    /// The bearer token clients must send (`Authorization: Bearer ...`).
    pub token: String,
    /// The CA certificate (PEM) that signed the server's certificate: a kubeconfig's
    /// `certificate-authority-data`.
    pub ca_pem: String,
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for KubeAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeAuth").finish_non_exhaustive()
    }
}

impl KubeAuth {
    /// A new CA and a server certificate valid for `hosts` (DNS names or IP addresses;
    /// `localhost` and `127.0.0.1` are always included), and `token` or a random one.
    pub fn generate(hosts: &[String], token: Option<String>) -> Result<KubeAuth, AuthError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "magsim kubernetes CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca.self_signed(&ca_key)?;

        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        for h in hosts {
            if !names.contains(h) {
                names.push(h.clone());
            }
        }
        let mut leaf = CertificateParams::new(names)?;
        leaf.distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate()?;
        let cert = leaf.signed_by(&key, &ca_cert, &ca_key)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )?;
        // HTTP/1.1 only: what the server speaks (watches stream as chunked responses).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(KubeAuth {
            token: token.unwrap_or_else(crate::secret::random_text::<32>),
            ca_pem: ca_cert.pem(),
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Whether an `Authorization` header carries the token (compared in constant time).
    pub(crate) fn admits(&self, authorization: Option<&[u8]>) -> bool {
        let Some(sent) = authorization.and_then(|h| h.strip_prefix(b"Bearer ")) else {
            return false;
        };
        let want = self.token.as_bytes();
        sent.len() == want.len()
            && sent.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// Serves `router` over TLS on `listener` until `stop` turns true: each connection one
/// HTTP/1.1 session on its own task.
pub(crate) async fn serve_tls(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    acceptor: tokio_rustls::TlsAcceptor,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (tcp, _) = tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::debug!("kube mock accept: {e}");
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!("kube mock TLS handshake: {e}");
                    return;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .with_upgrades()
                .await
            {
                tracing::debug!("kube mock connection: {e}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_is_admitted() {
        let a = KubeAuth::generate(&["10.0.0.1".into()], None).unwrap();
        let b = KubeAuth::generate(&[], None).unwrap();
        assert_ne!(a.token, b.token, "each server draws its own token");
        assert_ne!(a.ca_pem, b.ca_pem, "and its own CA");
        assert!(a.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let good = format!("Bearer {}", a.token);
        assert!(a.admits(Some(good.as_bytes())));
        assert!(!a.admits(None));
        assert!(
            !a.admits(Some(a.token.as_bytes())),
            "the scheme is required"
        );
        assert!(!a.admits(Some(format!("Bearer {}", b.token).as_bytes())));
        assert!(!a.admits(Some(b"Bearer ")));
        let fixed = KubeAuth::generate(&[], Some("chosen".into())).unwrap();
        assert!(fixed.admits(Some(b"Bearer chosen")));
    }
}
