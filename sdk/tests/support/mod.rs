//! What several OTLP test binaries share.

/// The OTLP protocols this build of tracekit speaks (cargo features
/// `http-json` and `grpc`).
pub fn protocols() -> Vec<&'static str> {
    let mut protocols = vec!["http/protobuf"];
    if cfg!(feature = "http-json") {
        protocols.push("http/json");
    }
    if cfg!(feature = "grpc") {
        protocols.push("grpc");
    }
    protocols
}
