//! Certificates made fresh for TLS tests: a private CA, a server
//! certificate for `127.0.0.1` and `localhost`, and a client certificate,
//! all signed by that CA.

use std::io;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

use super::ReceiverTls;

/// A private CA and the server and client certificates it signed (PEM),
/// for pointing an exporter at an [`OtlpReceiver`](super::OtlpReceiver)
/// started with TLS.
///
/// ```
/// use tracekit::testing::receiver::{OtlpReceiver, TestCertificates};
///
/// let pki = TestCertificates::generate().expect("certificates");
/// let receiver = OtlpReceiver::start_tls(pki.receiver_tls())?;
/// assert!(receiver.http_endpoint().starts_with("https://127.0.0.1:"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TestCertificates {
    /// The CA certificate: what a client must trust.
    pub ca_pem: String,
    /// The server's certificate (for `127.0.0.1` and `localhost`).
    pub server_certificate_pem: String,
    /// The server's private key.
    pub server_key_pem: String,
    /// A client certificate for mutual TLS.
    pub client_certificate_pem: String,
    /// The client certificate's private key.
    pub client_key_pem: String,
}

/// Where [`TestCertificates::write_to`] put the files an exporter reads.
#[derive(Clone, Debug)]
pub struct TestCertificateFiles {
    /// `ca.pem`: for `OTEL_EXPORTER_OTLP_CERTIFICATE`.
    pub ca: PathBuf,
    /// `client.pem`: for `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`.
    pub client_certificate: PathBuf,
    /// `client-key.pem`: for `OTEL_EXPORTER_OTLP_CLIENT_KEY`.
    pub client_key: PathBuf,
}

impl TestCertificates {
    /// Make a new CA and certificates.
    pub fn generate() -> Result<Self, String> {
        Self::make().map_err(|e| format!("cannot make test certificates: {e}"))
    }

    fn make() -> Result<Self, rcgen::Error> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "tracekit test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let leaf =
            |names: Vec<String>, common_name: &str| -> Result<(String, String), rcgen::Error> {
                let mut params = CertificateParams::new(names)?;
                params
                    .distinguished_name
                    .push(DnType::CommonName, common_name);
                let key = KeyPair::generate()?;
                let certificate = params.signed_by(&key, &ca)?;
                Ok((certificate.pem(), key.serialize_pem()))
            };
        let (server_certificate_pem, server_key_pem) = leaf(
            vec!["127.0.0.1".to_string(), "localhost".to_string()],
            "tracekit test collector",
        )?;
        let (client_certificate_pem, client_key_pem) = leaf(Vec::new(), "tracekit test exporter")?;
        Ok(TestCertificates {
            ca_pem: ca.pem(),
            server_certificate_pem,
            server_key_pem,
            client_certificate_pem,
            client_key_pem,
        })
    }

    /// The receiver's TLS settings: the server certificate, no client
    /// certificate asked for.
    pub fn receiver_tls(&self) -> ReceiverTls {
        ReceiverTls::new(
            self.server_certificate_pem.as_bytes(),
            self.server_key_pem.as_bytes(),
        )
    }

    /// The receiver's TLS settings for mutual TLS: clients must present a
    /// certificate this CA signed.
    pub fn receiver_mutual_tls(&self) -> ReceiverTls {
        self.receiver_tls()
            .require_client_certificate(self.ca_pem.as_bytes())
    }

    /// Write the CA certificate and the client's certificate and key into
    /// `dir`, for the exporter's variables.
    pub fn write_to(&self, dir: &Path) -> io::Result<TestCertificateFiles> {
        let files = TestCertificateFiles {
            ca: dir.join("ca.pem"),
            client_certificate: dir.join("client.pem"),
            client_key: dir.join("client-key.pem"),
        };
        std::fs::write(&files.ca, &self.ca_pem)?;
        std::fs::write(&files.client_certificate, &self.client_certificate_pem)?;
        std::fs::write(&files.client_key, &self.client_key_pem)?;
        Ok(files)
    }
}
