//! Who may talk to the API server. With [`KubeAuth`] the server speaks TLS with a certificate
//! of the cluster's CA ([`ClusterCa`]) and admits only requests bearing the kubeconfig's
//! token or a client certificate that CA signed, as a Magnum cluster's API server does:
//! anything else is `401 Unauthorized` (the answer of kube-apiserver with anonymous auth
//! off). Without it the server is plain http and admits everyone, for in-process tests and
//! the tools that bring no credentials.
//!
//! The CA, its key and the token are drawn from the operating system's random source at
//! start (see [`crate::secret`]): no two servers share them, and nothing the engine prints
//! depends on them.

use crate::ca::{CaError, ClusterCa};
use std::sync::Arc;

/// Set on a request whose connection presented a client certificate the CA signed (rustls
/// verified it in the handshake): the request is authenticated without a token.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientCertificate;

/// Errors making a server's TLS identity.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot make the API server's certificate")]
    Certificate(#[from] CaError),
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
    /// A server certificate valid for `hosts` (DNS names or IP addresses; `localhost` and
    /// `127.0.0.1` are always included) signed by `ca`, and `token` or a random one. Client
    /// certificates `ca` signed are admitted too (Magnum's `coe cluster config`).
    pub fn new(
        ca: &ClusterCa,
        hosts: &[String],
        token: Option<String>,
    ) -> Result<KubeAuth, AuthError> {
        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        for h in hosts {
            if !names.contains(h) {
                names.push(h.clone());
            }
        }
        let (cert, key) = ca.server_identity(names)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // A client certificate is optional (kubectl with the token sends none); one that is
        // sent must chain to the CA.
        let clients = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(ca.roots()),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| AuthError::Tls(rustls::Error::General(e.to_string())))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(clients)
            .with_single_cert(vec![cert], key)?;
        // HTTP/1.1 only: what the server speaks (watches stream as chunked responses).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(KubeAuth {
            token: token.unwrap_or_else(crate::secret::random_text::<32>),
            ca_pem: ca.pem().to_string(),
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
            let certified = tls
                .get_ref()
                .1
                .peer_certificates()
                .is_some_and(|c| !c.is_empty());
            let router = match certified {
                true => router.layer(axum::Extension(ClientCertificate)),
                false => router,
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
        let ca = |name: &str| ClusterCa::generate(name).unwrap();
        let a = KubeAuth::new(&ca("a"), &["10.0.0.1".into()], None).unwrap();
        let b = KubeAuth::new(&ca("b"), &[], None).unwrap();
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
        let fixed = KubeAuth::new(&ca("k8s"), &[], Some("chosen".into())).unwrap();
        assert!(fixed.admits(Some(b"Bearer chosen")));
    }
}
