//! The exporter's TLS files: CA certificates to trust beside the system's
//! trust store, and a client certificate and key for mutual TLS, read from
//! `OTEL_EXPORTER_OTLP_[TRACES_]{CERTIFICATE,CLIENT_CERTIFICATE,CLIENT_KEY}`
//! or set in code, checked when read.

use std::path::{Path, PathBuf};

use crate::env::{warn_invalid, EnvSource};

/// CA certificates to trust (PEM), traces-specific variable first.
pub(crate) const CERTIFICATE_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
];
/// The client's certificate chain for mutual TLS (PEM).
pub(crate) const CLIENT_CERTIFICATE_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
];
/// The client's private key for mutual TLS (PEM).
pub(crate) const CLIENT_KEY_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
];

/// One file setting and where it came from (a variable or a builder
/// method), so that a problem names what the user wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FileSetting {
    path: PathBuf,
    origin: &'static str,
}

/// The TLS files of an [`OtlpConfig`](super::OtlpConfig).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    certificate: Option<FileSetting>,
    client_certificate: Option<FileSetting>,
    client_key: Option<FileSetting>,
}

/// A client certificate chain and its private key, PEM.
#[derive(Clone, Debug)]
#[cfg_attr(not(any(feature = "tls", feature = "grpc")), allow(dead_code))]
pub(crate) struct ClientIdentity {
    pub(crate) certificate_pem: Vec<u8>,
    pub(crate) key_pem: Vec<u8>,
}

/// What the TLS files hold, read and checked.
#[derive(Clone, Debug, Default)]
#[cfg_attr(not(any(feature = "tls", feature = "grpc")), allow(dead_code))]
pub(crate) struct TlsMaterial {
    /// Extra CA certificates to trust (PEM, one or more).
    pub(crate) ca_pem: Option<Vec<u8>>,
    /// The certificate and key for mutual TLS.
    pub(crate) client: Option<ClientIdentity>,
}

impl TlsFiles {
    /// Read the variables. A file that is missing, unreadable or not the
    /// PEM it should be is reported once, naming the variable, and left
    /// out; so is a client key without its certificate, or the reverse.
    pub(crate) fn from_env(env: &dyn EnvSource) -> Self {
        let certificate = first_usable(
            env,
            &CERTIFICATE_VARS,
            read_certificates,
            "the system's trust store only",
        );
        let client_certificate = first_usable(
            env,
            &CLIENT_CERTIFICATE_VARS,
            read_certificates,
            "no client certificate",
        );
        let client_key = first_usable(
            env,
            &CLIENT_KEY_VARS,
            read_private_key,
            "no client certificate",
        );
        let mut files = TlsFiles {
            certificate,
            client_certificate,
            client_key,
        };
        match (&files.client_certificate, &files.client_key) {
            (Some(cert), None) => {
                warn_invalid(
                    cert.origin,
                    &cert.path.display().to_string(),
                    "a client certificate needs its key in OTEL_EXPORTER_OTLP_CLIENT_KEY",
                    "no client certificate",
                );
                files.client_certificate = None;
            }
            (None, Some(key)) => {
                warn_invalid(
                    key.origin,
                    &key.path.display().to_string(),
                    "a client key needs its certificate in OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                    "no client certificate",
                );
                files.client_key = None;
            }
            _ => {}
        }
        files
    }

    /// Trust the CA certificates in the PEM file at `path`.
    pub(crate) fn set_certificate(&mut self, path: PathBuf) {
        self.certificate = Some(FileSetting {
            path,
            origin: "OtlpConfig::with_certificate",
        });
    }

    /// Present this certificate chain and key (PEM files) to the server.
    pub(crate) fn set_client_certificate(&mut self, certificate: PathBuf, key: PathBuf) {
        let origin = "OtlpConfig::with_client_certificate";
        self.client_certificate = Some(FileSetting {
            path: certificate,
            origin,
        });
        self.client_key = Some(FileSetting { path: key, origin });
    }

    /// The CA certificate file, if any.
    pub(crate) fn certificate(&self) -> Option<&Path> {
        self.certificate.as_ref().map(|f| f.path.as_path())
    }

    /// The client certificate and key files, if any.
    pub(crate) fn client_certificate(&self) -> Option<(&Path, &Path)> {
        match (&self.client_certificate, &self.client_key) {
            (Some(cert), Some(key)) => Some((&cert.path, &key.path)),
            _ => None,
        }
    }

    /// Read and check the files; the error names the setting and the
    /// problem.
    pub(crate) fn load(&self) -> Result<TlsMaterial, String> {
        let read = |setting: &FileSetting, read: fn(&Path) -> Result<Vec<u8>, String>| {
            read(&setting.path).map_err(|problem| format!("{}: {problem}", setting.origin))
        };
        let ca_pem = match &self.certificate {
            Some(setting) => Some(read(setting, read_certificates)?),
            None => None,
        };
        let client = match (&self.client_certificate, &self.client_key) {
            (Some(cert), Some(key)) => Some(ClientIdentity {
                certificate_pem: read(cert, read_certificates)?,
                key_pem: read(key, read_private_key)?,
            }),
            (None, None) => None,
            (Some(setting), None) | (None, Some(setting)) => {
                return Err(format!(
                    "{}: a client certificate and its key go together",
                    setting.origin
                ))
            }
        };
        Ok(TlsMaterial { ca_pem, client })
    }
}

/// The first of `vars` naming a file that `read` accepts; each one that is
/// set but unusable is reported once, with `fallback` if nothing follows.
fn first_usable(
    env: &dyn EnvSource,
    vars: &[&'static str],
    read: fn(&Path) -> Result<Vec<u8>, String>,
    fallback: &str,
) -> Option<FileSetting> {
    let mut problems = Vec::new();
    let mut found = None;
    for &var in vars {
        let Some(raw) = env.get(var) else { continue };
        match read(Path::new(&raw)) {
            Ok(_) => {
                found = Some(FileSetting {
                    path: PathBuf::from(raw),
                    origin: var,
                });
                break;
            }
            Err(problem) => problems.push((var, raw, problem)),
        }
    }
    for (var, raw, problem) in problems {
        let fallback = match &found {
            Some(setting) => format!("{} instead", setting.origin),
            None => fallback.to_string(),
        };
        warn_invalid(var, &raw, &problem, &fallback);
    }
    found
}

/// The bytes of a file, or why not.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A PEM file holding one or more certificates, checked.
fn read_certificates(path: &Path) -> Result<Vec<u8>, String> {
    let pem = read_file(path)?;
    pem_check::certificates(&pem).map_err(|problem| format!("{}: {problem}", path.display()))?;
    Ok(pem)
}

/// A PEM file holding a private key, checked.
fn read_private_key(path: &Path) -> Result<Vec<u8>, String> {
    let pem = read_file(path)?;
    pem_check::private_key(&pem).map_err(|problem| format!("{}: {problem}", path.display()))?;
    Ok(pem)
}

/// PEM checks with rustls' own parser.
#[cfg(any(feature = "tls", feature = "grpc"))]
mod pem_check {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    pub(super) fn certificates(pem: &[u8]) -> Result<(), String> {
        let mut count = 0;
        for certificate in CertificateDer::pem_slice_iter(pem) {
            certificate.map_err(|e| format!("not a valid PEM certificate file ({e})"))?;
            count += 1;
        }
        if count == 0 {
            return Err("no PEM certificate in the file".into());
        }
        Ok(())
    }

    pub(super) fn private_key(pem: &[u8]) -> Result<(), String> {
        PrivateKeyDer::from_pem_slice(pem)
            .map(drop)
            .map_err(|e| format!("no valid PEM private key in the file ({e})"))
    }
}

/// Without a TLS feature the files cannot be used at all.
#[cfg(not(any(feature = "tls", feature = "grpc")))]
mod pem_check {
    const NO_TLS: &str = "TLS needs tracekit's cargo feature `tls` (or `grpc` for gRPC)";

    pub(super) fn certificates(_pem: &[u8]) -> Result<(), String> {
        Err(NO_TLS.into())
    }

    pub(super) fn private_key(_pem: &[u8]) -> Result<(), String> {
        Err(NO_TLS.into())
    }
}
