//! The receiver's TLS side: a server certificate, and optionally the CA
//! whose client certificates it requires (mutual TLS), for both the
//! OTLP/HTTP listener (tokio-rustls in front of the same router) and the
//! gRPC one (tonic's own TLS).

use std::io;
use std::sync::Arc;

use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// TLS settings of an [`OtlpReceiver`](super::OtlpReceiver) started with
/// [`OtlpReceiver::start_tls`](super::OtlpReceiver::start_tls): its
/// certificate chain and key (PEM), and, for mutual TLS, the CA (PEM) that
/// must have signed every client's certificate.
///
/// ```
/// use tracekit::testing::receiver::ReceiverTls;
///
/// # let (cert_pem, key_pem, ca_pem) = (Vec::new(), Vec::new(), Vec::new());
/// let tls = ReceiverTls::new(cert_pem, key_pem).require_client_certificate(ca_pem);
/// # let _ = tls;
/// ```
#[derive(Clone, Debug)]
pub struct ReceiverTls {
    certificate_chain_pem: Vec<u8>,
    private_key_pem: Vec<u8>,
    client_ca_pem: Option<Vec<u8>>,
}

impl ReceiverTls {
    /// Serve with this certificate chain and private key (PEM).
    pub fn new(
        certificate_chain_pem: impl Into<Vec<u8>>,
        private_key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        ReceiverTls {
            certificate_chain_pem: certificate_chain_pem.into(),
            private_key_pem: private_key_pem.into(),
            client_ca_pem: None,
        }
    }

    /// Accept only clients presenting a certificate signed by this CA
    /// (PEM).
    pub fn require_client_certificate(mut self, client_ca_pem: impl Into<Vec<u8>>) -> Self {
        self.client_ca_pem = Some(client_ca_pem.into());
        self
    }

    /// The acceptor of the HTTP listener.
    pub(crate) fn http_acceptor(&self) -> io::Result<TlsAcceptor> {
        let invalid = |what: &str, e: &dyn std::fmt::Display| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
        };
        let chain = CertificateDer::pem_slice_iter(&self.certificate_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("the certificate chain", &e))?;
        let key = PrivateKeyDer::from_pem_slice(&self.private_key_pem)
            .map_err(|e| invalid("the private key", &e))?;
        let provider = Arc::new(aws_lc_rs::default_provider());
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid("TLS versions", &e))?;
        let builder = match &self.client_ca_pem {
            Some(ca_pem) => {
                let mut roots = RootCertStore::empty();
                for ca in CertificateDer::pem_slice_iter(ca_pem) {
                    let ca = ca.map_err(|e| invalid("the client CA", &e))?;
                    roots.add(ca).map_err(|e| invalid("the client CA", &e))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| invalid("the client CA", &e))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| invalid("the certificate and key", &e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// tonic's settings for the gRPC listener.
    pub(crate) fn grpc_config(&self) -> tonic::transport::ServerTlsConfig {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let config = ServerTlsConfig::new().identity(Identity::from_pem(
            &self.certificate_chain_pem,
            &self.private_key_pem,
        ));
        match &self.client_ca_pem {
            Some(ca_pem) => config.client_ca_root(Certificate::from_pem(ca_pem)),
            None => config,
        }
    }
}

/// Serve `router` over TLS on `listener` until the future is dropped; a
/// client failing the handshake only loses its own connection.
pub(crate) async fn serve_http(
    listener: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
    router: axum::Router,
) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
