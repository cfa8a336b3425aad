//! Recognising gRPC requests and naming their spans.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue};

/// Whether the request is gRPC: a `content-type` starting with
/// `application/grpc` (`application/grpc+proto`, `application/grpc-web`...).
pub fn is_grpc(headers: &HeaderMap) -> bool {
    is_grpc_content_type(headers.get(CONTENT_TYPE))
}

/// [`is_grpc`] from the `content-type` value already looked up.
pub(crate) fn is_grpc_content_type(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type else {
        return false;
    };
    let bytes = value.as_bytes();
    const PREFIX: &[u8] = b"application/grpc";
    bytes.len() >= PREFIX.len() && bytes[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
}

/// The service and method of a gRPC path `/package.Service/Method`.
pub fn service_and_method(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (service, method) = rest.split_once('/')?;
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((service, method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_content_types() {
        let check = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, v.parse().unwrap());
            is_grpc(&h)
        };
        assert!(check("application/grpc"));
        assert!(check("application/grpc+proto"));
        assert!(check("Application/GRPC;charset=utf-8"));
        assert!(check("application/grpc-web"));
        assert!(!check("application/grp"));
        assert!(!check("application/json"));
        assert!(!is_grpc(&HeaderMap::new()));
    }

    #[test]
    fn paths() {
        assert_eq!(
            service_and_method("/helloworld.Greeter/SayHello"),
            Some(("helloworld.Greeter", "SayHello"))
        );
        assert_eq!(service_and_method("/Greeter/"), None);
        assert_eq!(service_and_method("/a/b/c"), None);
        assert_eq!(service_and_method("nope"), None);
    }
}
