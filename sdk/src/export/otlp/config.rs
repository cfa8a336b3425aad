//! [`OtlpConfig`]: where and how the OTLP exporter sends spans, read from the
//! `OTEL_EXPORTER_OTLP_*` variables or set in code.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::retry::RetryPolicy;

use crate::env::{warn_invalid, EnvSource};
use crate::redaction::url_for_messages;

use super::headers::{hide_values, parse_headers};
use super::tls::TlsFiles;

/// Default OTLP/HTTP collector address (the `/v1/traces` path is appended).
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318";
/// Default OTLP/gRPC collector address.
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
/// Path of the traces service for OTLP/HTTP.
pub const HTTP_TRACES_PATH: &str = "/v1/traces";
/// Default export timeout (`OTEL_EXPORTER_OTLP_TIMEOUT`): 10 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(10_000);

/// The OTLP transport and encoding (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OtlpProtocol {
    /// `http/protobuf`: binary protobuf over HTTP (the default).
    #[default]
    HttpProtobuf,
    /// `http/json`: the OTLP JSON encoding over HTTP.
    HttpJson,
    /// `grpc`: the `TraceService/Export` gRPC call.
    Grpc,
}

impl OtlpProtocol {
    /// Parse the specification's spelling (`grpc`, `http/protobuf`,
    /// `http/json`), ignoring ASCII case.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("http/protobuf") {
            Some(Self::HttpProtobuf)
        } else if value.eq_ignore_ascii_case("http/json") {
            Some(Self::HttpJson)
        } else if value.eq_ignore_ascii_case("grpc") {
            Some(Self::Grpc)
        } else {
            None
        }
    }

    /// The specification's spelling of this protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HttpProtobuf => "http/protobuf",
            Self::HttpJson => "http/json",
            Self::Grpc => "grpc",
        }
    }

    /// Whether this protocol travels over plain HTTP (not gRPC).
    pub fn is_http(self) -> bool {
        !matches!(self, Self::Grpc)
    }
}

impl fmt::Display for OtlpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request body compression (`OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OtlpCompression {
    /// No compression (the default).
    #[default]
    None,
    /// gzip.
    Gzip,
}

impl OtlpCompression {
    /// Parse `gzip` or `none`, ignoring ASCII case.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("gzip") {
            Some(Self::Gzip)
        } else if value.eq_ignore_ascii_case("none") {
            Some(Self::None)
        } else {
            None
        }
    }

    /// The specification's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
        }
    }
}

/// How the endpoint was given: a base address that still needs the signal
/// path (for HTTP), or the traces endpoint itself.
#[derive(Clone, Debug, PartialEq, Eq)]
enum EndpointSetting {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or [`OtlpConfig::with_base_endpoint`].
    Base(String),
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or [`OtlpConfig::with_endpoint`]:
    /// used as is.
    Traces(String),
}

/// Configuration of the OTLP span exporter.
///
/// Start from [`OtlpConfig::from_env`] (what an operator set) or
/// [`OtlpConfig::default`] (the specification's defaults), adjust with the
/// builder-style `with_*` methods, then call [`OtlpConfig::build_exporter`].
///
/// ```
/// use std::time::Duration;
/// use tracekit::export::otlp::{OtlpConfig, OtlpProtocol};
///
/// let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")];
/// let config = OtlpConfig::from_env(&env).with_timeout(Duration::from_secs(3));
/// assert_eq!(config.protocol(), OtlpProtocol::HttpProtobuf);
/// assert_eq!(config.endpoint(), "http://collector:4318/v1/traces");
///
/// let grpc = OtlpConfig::default().with_protocol(OtlpProtocol::Grpc);
/// assert_eq!(grpc.endpoint(), "http://localhost:4317");
/// ```
#[derive(Clone)]
pub struct OtlpConfig {
    protocol: OtlpProtocol,
    endpoint: Option<EndpointSetting>,
    headers: Vec<(String, String)>,
    timeout: Duration,
    compression: OtlpCompression,
    retry: Option<RetryPolicy>,
    tls: TlsFiles,
    insecure: bool,
    /// Where the protocol and the compression came from (the variable, or
    /// the builder method), for warnings about them.
    protocol_origin: &'static str,
    compression_origin: &'static str,
}

/// Header values are left out: they are often credentials (API keys,
/// `Authorization`), and a configuration is the kind of value that ends up
/// in a log line.
impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpConfig")
            .field("protocol", &self.protocol)
            .field("endpoint", &url_for_messages(&self.endpoint()))
            .field("header_names", &header_names)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("retry", &self.retry)
            .field("tls", &self.tls)
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl Default for OtlpConfig {
    fn default() -> Self {
        Self {
            protocol: OtlpProtocol::default(),
            endpoint: None,
            headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            compression: OtlpCompression::None,
            retry: Some(RetryPolicy::recommended()),
            tls: TlsFiles::default(),
            insecure: false,
            protocol_origin: "the default",
            compression_origin: "the default",
        }
    }
}

/// Names of the variables read for one setting: the traces-specific one
/// first, then the general one.
const PROTOCOL_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
];
const HEADERS_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_HEADERS",
];
const TIMEOUT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
];
const COMPRESSION_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
];
const INSECURE_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
    "OTEL_EXPORTER_OTLP_INSECURE",
];
/// The traces-specific endpoint variable (used as is).
pub const TRACES_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// The general endpoint variable (HTTP gets `/v1/traces` appended).
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

impl OtlpConfig {
    /// Read `OTEL_EXPORTER_OTLP_[TRACES_]{PROTOCOL,ENDPOINT,HEADERS,TIMEOUT,COMPRESSION}`
    /// and the TLS variables `…CERTIFICATE`, `…CLIENT_CERTIFICATE`,
    /// `…CLIENT_KEY` (PEM files, checked when read) and `…INSECURE`.
    ///
    /// The traces-specific variable wins over the general one. An invalid
    /// value is reported once with [`warn_invalid`] and the next setting
    /// (the general variable, then the default) is used instead. Retries are
    /// on, with [`RetryPolicy::recommended`].
    pub fn from_env(env: &dyn EnvSource) -> Self {
        let mut config = Self::default();

        let mut bad_protocols = Vec::new();
        for var in PROTOCOL_VARS {
            if let Some(raw) = env.get(var) {
                match OtlpProtocol::parse(&raw) {
                    Some(protocol) => {
                        config.protocol = protocol;
                        config.protocol_origin = var;
                        break;
                    }
                    None => bad_protocols.push((var, raw)),
                }
            }
        }
        for (var, raw) in bad_protocols {
            warn_invalid(
                var,
                &raw,
                "expected grpc, http/protobuf or http/json",
                config.protocol.as_str(),
            );
        }

        let mut bad_insecure = Vec::new();
        for var in INSECURE_VARS {
            if let Some(raw) = env.get(var) {
                match parse_bool(&raw) {
                    Some(insecure) => {
                        config.insecure = insecure;
                        break;
                    }
                    None => bad_insecure.push((var, raw)),
                }
            }
        }
        for (var, raw) in bad_insecure {
            let fallback = config.insecure.to_string();
            warn_invalid(var, &raw, "expected true or false", &fallback);
        }

        if let Some(raw) = env.get(TRACES_ENDPOINT_VAR) {
            match validate_endpoint(&raw, config.protocol) {
                Ok(()) => config.endpoint = Some(EndpointSetting::Traces(raw)),
                Err(reason) => {
                    warn_invalid(
                        TRACES_ENDPOINT_VAR,
                        &url_for_messages(&raw),
                        reason,
                        "the next endpoint setting",
                    );
                }
            }
        }
        if config.endpoint.is_none() {
            if let Some(raw) = env.get(ENDPOINT_VAR) {
                match validate_endpoint(&raw, config.protocol) {
                    Ok(()) => config.endpoint = Some(EndpointSetting::Base(raw)),
                    Err(reason) => {
                        let fallback = url_for_messages(&config.endpoint());
                        warn_invalid(ENDPOINT_VAR, &url_for_messages(&raw), reason, &fallback);
                    }
                }
            }
        }

        if let Some((var, raw)) = first_set(env, &HEADERS_VARS) {
            let parsed = parse_headers(&raw);
            if let Some(problem) = parsed.first_problem() {
                // Header values are often credentials: keep them off stderr.
                let shown = hide_values(&raw);
                warn_invalid(var, &shown, &problem, "the well-formed entries only");
            }
            config.headers = parsed.headers;
        }

        let mut bad_timeouts = Vec::new();
        for var in TIMEOUT_VARS {
            if let Some(raw) = env.get(var) {
                match raw.parse::<u64>() {
                    Ok(ms) if ms > 0 => {
                        config.timeout = Duration::from_millis(ms);
                        break;
                    }
                    _ => bad_timeouts.push((var, raw)),
                }
            }
        }
        for (var, raw) in bad_timeouts {
            let fallback = format!("{} ms", config.timeout.as_millis());
            warn_invalid(
                var,
                &raw,
                "expected a positive number of milliseconds",
                &fallback,
            );
        }

        let mut bad_compressions = Vec::new();
        for var in COMPRESSION_VARS {
            if let Some(raw) = env.get(var) {
                match OtlpCompression::parse(&raw) {
                    Some(compression) => {
                        config.compression = compression;
                        config.compression_origin = var;
                        break;
                    }
                    None => bad_compressions.push((var, raw)),
                }
            }
        }
        for (var, raw) in bad_compressions {
            warn_invalid(
                var,
                &raw,
                "expected gzip or none",
                config.compression.as_str(),
            );
        }

        config.tls = TlsFiles::from_env(env);
        config
    }

    /// Use this protocol.
    pub fn with_protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.protocol = protocol;
        self.protocol_origin = "OtlpConfig::with_protocol";
        self
    }

    /// Send to exactly this URL (like `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`:
    /// no path is appended).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(EndpointSetting::Traces(endpoint.into()));
        self
    }

    /// Send to this collector base address (like `OTEL_EXPORTER_OTLP_ENDPOINT`:
    /// HTTP protocols get `/v1/traces` appended, gRPC uses it as is).
    pub fn with_base_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(EndpointSetting::Base(endpoint.into()));
        self
    }

    /// Add a header (HTTP) or metadata entry (gRPC) sent with every export.
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
        self.headers.push((key, value.into()));
        self
    }

    /// The time one export may take in total, retries and back-off included.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Compress request bodies.
    pub fn with_compression(mut self, compression: OtlpCompression) -> Self {
        self.compression = compression;
        self.compression_origin = "OtlpConfig::with_compression";
        self
    }

    /// Retry with this policy (the default is [`RetryPolicy::recommended`]:
    /// up to 3 retries, exponential back-off from 100 ms to 1.6 s, up to
    /// 100 ms of jitter), always within the export timeout.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Trust the CA certificates of this PEM file, in addition to the
    /// system's trust store (like `OTEL_EXPORTER_OTLP_CERTIFICATE`): for a
    /// collector whose certificate a private CA signed. The file is read
    /// when the exporter is built; a problem with it fails the build.
    pub fn with_certificate(mut self, ca_pem_file: impl Into<PathBuf>) -> Self {
        self.tls.set_certificate(ca_pem_file.into());
        self
    }

    /// Present this client certificate chain and private key (PEM files) to
    /// a collector that asks for one: mutual TLS (like
    /// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `…CLIENT_KEY`).
    pub fn with_client_certificate(
        mut self,
        certificate_pem_file: impl Into<PathBuf>,
        key_pem_file: impl Into<PathBuf>,
    ) -> Self {
        self.tls
            .set_client_certificate(certificate_pem_file.into(), key_pem_file.into());
        self
    }

    /// For a gRPC endpoint written without a scheme (`collector:4317`):
    /// `true` connects in plain text, `false` (the default) with TLS (like
    /// `OTEL_EXPORTER_OTLP_INSECURE`). An `http://` or `https://` endpoint
    /// always says for itself.
    pub fn with_insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Make a single attempt per export.
    pub fn without_retry(mut self) -> Self {
        self.retry = None;
        self
    }

    /// The protocol in use.
    pub fn protocol(&self) -> OtlpProtocol {
        self.protocol
    }

    /// The URL spans are sent to, with the signal path resolved (and, for
    /// a gRPC endpoint given without a scheme, `https://` or, when
    /// insecure, `http://` put in front).
    pub fn endpoint(&self) -> String {
        match (&self.endpoint, self.protocol.is_http()) {
            (Some(EndpointSetting::Traces(url)), true) => url.clone(),
            (Some(EndpointSetting::Base(url)), true) => append_traces_path(url),
            (Some(EndpointSetting::Traces(url) | EndpointSetting::Base(url)), false) => {
                if has_http_scheme(url) {
                    url.clone()
                } else if self.insecure {
                    format!("http://{url}")
                } else {
                    format!("https://{url}")
                }
            }
            (None, true) => append_traces_path(DEFAULT_HTTP_ENDPOINT),
            (None, false) => DEFAULT_GRPC_ENDPOINT.to_string(),
        }
    }

    /// The PEM file of extra CA certificates to trust, if any.
    pub fn certificate(&self) -> Option<&Path> {
        self.tls.certificate()
    }

    /// The client certificate and key files for mutual TLS, if any.
    pub fn client_certificate(&self) -> Option<(&Path, &Path)> {
        self.tls.client_certificate()
    }

    /// The variable (or builder method) the protocol came from.
    pub(crate) fn protocol_origin(&self) -> &'static str {
        self.protocol_origin
    }

    /// The variable (or builder method) the compression came from.
    pub(crate) fn compression_origin(&self) -> &'static str {
        self.compression_origin
    }

    /// The TLS files.
    pub(crate) fn tls_files(&self) -> &TlsFiles {
        &self.tls
    }

    /// Headers sent with every export, in the order given.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The total time one export may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The compression in use.
    pub fn compression(&self) -> OtlpCompression {
        self.compression
    }

    /// The retry policy, `None` when retries are off.
    pub fn retry_policy(&self) -> Option<&RetryPolicy> {
        self.retry.as_ref()
    }
}

/// The first variable of `vars` that is set, with its value.
fn first_set<'a>(env: &dyn EnvSource, vars: &[&'a str]) -> Option<(&'a str, String)> {
    vars.iter()
        .find_map(|var| env.get(var).map(|value| (*var, value)))
}

/// `base` with the OTLP/HTTP traces path appended, without doubling the
/// slash.
fn append_traces_path(base: &str) -> String {
    let trimmed = base.trim_end_matches('/');
    format!("{trimmed}{HTTP_TRACES_PATH}")
}

/// Whether `url` starts with `http://` or `https://` (any case).
fn has_http_scheme(url: &str) -> bool {
    has_scheme(url, "http://") || has_scheme(url, "https://")
}

/// Whether `url` starts with `scheme` (written with its `://`), ignoring
/// ASCII case.
pub(super) fn has_scheme(url: &str, scheme: &str) -> bool {
    url.get(..scheme.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
}

/// An endpoint must be an absolute `http` or `https` URL with a host; for
/// gRPC, `host:port` alone is allowed too (TLS unless insecure, as the
/// specification describes).
fn validate_endpoint(raw: &str, protocol: OtlpProtocol) -> Result<(), &'static str> {
    if !protocol.is_http() && !raw.contains("://") {
        return raw
            .parse::<http::uri::Authority>()
            .map(drop)
            .map_err(|_| "expected an http or https URL, or host:port");
    }
    let uri: http::Uri = raw.parse().map_err(|_| "not a valid URL")?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        // `collector:4318`, or no URL at all.
        None => return Err("no scheme: write the URL as http://host:port or https://host:port"),
        Some(_) => return Err("the URL scheme must be http or https"),
    }
    if uri.authority().is_none() {
        return Err("the URL has no host");
    }
    Ok(())
}

/// `true` or `false`, ignoring ASCII case and surrounding spaces.
fn parse_bool(raw: &str) -> Option<bool> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("true") {
        Some(true)
    } else if raw.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(env: &[(&str, &str)]) -> OtlpConfig {
        OtlpConfig::from_env(&env)
    }

    #[test]
    fn defaults_follow_the_specification() {
        let c = config(&[]);
        assert_eq!(c.protocol(), OtlpProtocol::HttpProtobuf);
        assert_eq!(c.endpoint(), "http://localhost:4318/v1/traces");
        assert_eq!(c.timeout(), Duration::from_secs(10));
        assert_eq!(c.compression(), OtlpCompression::None);
        assert!(c.headers().is_empty());
        assert!(c.retry_policy().is_some());
        let grpc = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
        assert_eq!(grpc.endpoint(), "http://localhost:4317");
    }

    #[test]
    fn base_endpoint_gets_the_traces_path_and_signal_endpoint_is_used_as_is() {
        let base = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")]);
        assert_eq!(base.endpoint(), "http://c:4318/v1/traces");
        let base_path = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/otlp")]);
        assert_eq!(base_path.endpoint(), "http://c:4318/otlp/v1/traces");
        let both = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://signal:9999/custom",
            ),
        ]);
        assert_eq!(both.endpoint(), "http://signal:9999/custom");
        let grpc_base = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
        ]);
        assert_eq!(grpc_base.endpoint(), "http://c:4317");
    }

    #[test]
    fn protocol_and_compression_remember_where_they_came_from() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ]);
        assert_eq!(c.protocol_origin(), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
        assert_eq!(c.compression_origin(), "OTEL_EXPORTER_OTLP_COMPRESSION");
        let c = c
            .with_protocol(OtlpProtocol::HttpJson)
            .with_compression(OtlpCompression::Gzip);
        assert_eq!(c.protocol_origin(), "OtlpConfig::with_protocol");
        assert_eq!(c.compression_origin(), "OtlpConfig::with_compression");
    }

    #[test]
    fn debug_output_names_headers_without_their_values() {
        let c = config(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cret")])
            .with_header("Authorization", "Bearer t0ken");
        let debug = format!("{c:?}");
        assert!(
            debug.contains("api-key") && debug.contains("Authorization"),
            "{debug}"
        );
        assert!(
            !debug.contains("s3cret") && !debug.contains("t0ken"),
            "{debug}"
        );
    }

    #[test]
    fn traces_specific_variables_win() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "HTTP/JSON"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "500"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2"),
        ]);
        assert_eq!(c.protocol(), OtlpProtocol::HttpJson);
        assert_eq!(c.timeout(), Duration::from_millis(1500));
        assert_eq!(c.compression(), OtlpCompression::Gzip);
        assert_eq!(c.headers(), &[("b".to_string(), "2".to_string())]);
    }

    #[test]
    fn invalid_values_fall_back() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "carrier-pigeon"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "soon"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "-5"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "brotli"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "collector/4317"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x"),
        ]);
        assert_eq!(c.protocol(), OtlpProtocol::Grpc);
        assert_eq!(c.timeout(), DEFAULT_TIMEOUT);
        assert_eq!(c.compression(), OtlpCompression::None);
        assert_eq!(c.endpoint(), DEFAULT_GRPC_ENDPOINT);
        let http_without_scheme = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")]);
        assert_eq!(
            http_without_scheme.endpoint(),
            "http://localhost:4318/v1/traces"
        );
        assert_eq!(
            validate_endpoint("collector:4318", OtlpProtocol::HttpProtobuf),
            Err("no scheme: write the URL as http://host:port or https://host:port")
        );
        assert_eq!(
            validate_endpoint("not-a-url", OtlpProtocol::HttpProtobuf),
            Err("no scheme: write the URL as http://host:port or https://host:port")
        );
        assert_eq!(
            validate_endpoint("ftp://x", OtlpProtocol::HttpProtobuf),
            Err("the URL scheme must be http or https")
        );
        let zero = config(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "0")]);
        assert_eq!(zero.timeout(), DEFAULT_TIMEOUT);
    }

    #[test]
    fn grpc_endpoints_without_a_scheme_use_tls_unless_insecure() {
        let grpc = [("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")];
        let tls = config(&[grpc[0], ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]);
        assert_eq!(tls.endpoint(), "https://collector:4317");
        let plain = config(&[
            grpc[0],
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "TRUE"),
        ]);
        assert_eq!(plain.endpoint(), "http://collector:4317");
        // The scheme, when given, wins over the insecure setting.
        let https = config(&[
            grpc[0],
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "true"),
        ]);
        assert_eq!(https.endpoint(), "https://c:4317");
        let bad = config(&[
            grpc[0],
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "yes"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ]);
        assert_eq!(bad.endpoint(), "http://collector:4317");
        assert_eq!(
            OtlpConfig::default()
                .with_protocol(OtlpProtocol::Grpc)
                .with_endpoint("c:1")
                .with_insecure(true)
                .endpoint(),
            "http://c:1"
        );
    }

    #[test]
    fn builder_overrides_and_protocol_change_moves_the_default_endpoint() {
        let c = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")])
            .with_protocol(OtlpProtocol::Grpc)
            .with_header("X-Key", "1")
            .with_header("x-key", "2")
            .without_retry();
        assert_eq!(c.endpoint(), DEFAULT_GRPC_ENDPOINT);
        assert_eq!(c.headers(), &[("x-key".to_string(), "2".to_string())]);
        assert!(c.retry_policy().is_none());
        let base = OtlpConfig::default().with_base_endpoint("http://h:1");
        assert_eq!(base.endpoint(), "http://h:1/v1/traces");
        assert_eq!(
            base.with_protocol(OtlpProtocol::Grpc).endpoint(),
            "http://h:1"
        );
    }
}
