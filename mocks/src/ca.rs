//! The cluster's certificate authority, the one thing Magnum and the cluster's API server
//! share: Magnum hands out its certificate (`GET /v1/certificates/{cluster}`) and signs
//! client certificates with it (`POST /v1/certificates`, what `openstack coe cluster config`
//! asks for), and the API server's own certificate is signed by it and admits the client
//! certificates it signed. So a kubeconfig written by `coe cluster config` works against
//! `magsim serve` as it does against a Magnum cluster.
//!
//! The key is drawn from the operating system's random source (rcgen, ring): nothing the
//! engine prints depends on it.

use std::sync::Arc;

/// Errors making or using the CA.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot make a certificate")]
    Certificate(#[from] rcgen::Error),
    /// The CSR could not be read or its signature does not verify.
    #[error("invalid certificate signing request")]
    InvalidCsr,
}

/// How long Magnum's signed certificates are valid (`[x509] term_of_validity`, 1825 days),
/// and how far back they start (one day, for clocks behind).
const TERM_OF_VALIDITY_DAYS: i64 = 1825;

/// A CA: its certificate and key. Cheap to clone (shared).
#[derive(Clone)]
pub struct ClusterCa(Arc<Inner>);

struct Inner {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
    pem: String,
}

impl ClusterCa {
    /// A new CA named `common_name` (Magnum names a cluster's CA after the cluster).
    pub fn generate(common_name: &str) -> Result<ClusterCa, CaError> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let pem = cert.pem();
        Ok(ClusterCa(Arc::new(Inner { cert, key, pem })))
    }

    /// The CA certificate, PEM: a kubeconfig's `certificate-authority-data`.
    pub fn pem(&self) -> &str {
        &self.0.pem
    }

    /// Signs a client's CSR (PEM) as Magnum's `sign` does: the CSR's subject and public key
    /// (`CN=admin, O=system:masters` from magnumclient), valid from a day ago for
    /// [`TERM_OF_VALIDITY_DAYS`], for client authentication. Answers the certificate, PEM,
    /// without a trailing newline (Magnum strips it).
    pub fn sign_client(&self, csr_pem: &str) -> Result<String, CaError> {
        let mut csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|_| CaError::InvalidCsr)?;
        let now = time::OffsetDateTime::now_utc();
        csr.params.not_before = now - time::Duration::days(1);
        csr.params.not_after = now + time::Duration::days(TERM_OF_VALIDITY_DAYS);
        csr.params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = csr.signed_by(&self.0.cert, &self.0.key)?;
        Ok(cert.pem().trim_end().to_string())
    }

    /// A server certificate for `names` (DNS names or IP addresses) and its key, DER.
    pub(crate) fn server_identity(
        &self,
        names: Vec<String>,
    ) -> Result<
        (
            rustls::pki_types::CertificateDer<'static>,
            rustls::pki_types::PrivateKeyDer<'static>,
        ),
        CaError,
    > {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose};
        let mut leaf = CertificateParams::new(names)?;
        leaf.distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate()?;
        let cert = leaf.signed_by(&key, &self.0.cert, &self.0.key)?;
        Ok((
            cert.der().clone(),
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        ))
    }

    /// The CA as the only root a TLS verifier trusts.
    pub(crate) fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        // Our own freshly made certificate: always a valid trust anchor.
        let _ = roots.add(self.0.cert.der().clone());
        roots
    }
}

impl PartialEq for ClusterCa {
    fn eq(&self, other: &ClusterCa) -> bool {
        self.0.pem == other.0.pem
    }
}

impl Eq for ClusterCa {}

impl std::fmt::Debug for ClusterCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterCa").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_a_csr_keeping_its_subject() {
        let ca = ClusterCa::generate("k8s").unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "admin");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "system:masters");
        let key = rcgen::KeyPair::generate().unwrap();
        let csr = params.serialize_request(&key).unwrap().pem().unwrap();
        let cert = ca.sign_client(&csr).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(cert.ends_with("-----END CERTIFICATE-----"));
        assert!(matches!(
            ca.sign_client("not a csr"),
            Err(CaError::InvalidCsr)
        ));
    }
}
