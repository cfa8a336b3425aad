//! Span status rules of the HTTP and gRPC semantic conventions.

/// Which end of the exchange a span describes; the rules differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A server span.
    Server,
    /// A client span.
    Client,
}

/// Whether an HTTP response status code marks the span as an error: 5xx
/// for servers (4xx is the client's fault), anything from 400 on for
/// clients. Codes outside 100..=599 are errors on both sides.
pub fn http_status_is_error(side: Side, code: u16) -> bool {
    if !(100..=599).contains(&code) {
        return true;
    }
    match side {
        Side::Server => code >= 500,
        Side::Client => code >= 400,
    }
}

/// gRPC status code names, by code (0..=16).
const GRPC_CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The name of a gRPC status code (`DEADLINE_EXCEEDED` for 4), if it is
/// one of the defined codes.
pub fn grpc_code_name(code: i64) -> Option<&'static str> {
    usize::try_from(code)
        .ok()
        .and_then(|i| GRPC_CODE_NAMES.get(i).copied())
}

/// Whether a gRPC status code marks the span as an error: on a server only
/// `UNKNOWN`, `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`,
/// `UNAVAILABLE` and `DATA_LOSS` (the others are the caller's doing); on a
/// client every code but `OK`.
pub fn grpc_status_is_error(side: Side, code: i64) -> bool {
    match side {
        Side::Server => matches!(code, 2 | 4 | 12 | 13 | 14 | 15) || grpc_code_name(code).is_none(),
        Side::Client => code != 0,
    }
}

/// Parse a `grpc-status` header value.
pub fn parse_grpc_status(value: &[u8]) -> Option<i64> {
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_rules() {
        assert!(!http_status_is_error(Side::Server, 200));
        assert!(!http_status_is_error(Side::Server, 404));
        assert!(http_status_is_error(Side::Server, 500));
        assert!(http_status_is_error(Side::Server, 503));
        assert!(!http_status_is_error(Side::Client, 302));
        assert!(http_status_is_error(Side::Client, 404));
        assert!(http_status_is_error(Side::Client, 500));
        assert!(http_status_is_error(Side::Server, 600));
        assert!(http_status_is_error(Side::Client, 99));
    }

    #[test]
    fn grpc_rules() {
        assert!(!grpc_status_is_error(Side::Server, 0));
        assert!(!grpc_status_is_error(Side::Server, 5));
        assert!(!grpc_status_is_error(Side::Server, 3));
        for code in [2, 4, 12, 13, 14, 15] {
            assert!(grpc_status_is_error(Side::Server, code));
        }
        assert!(grpc_status_is_error(Side::Server, 99));
        assert!(grpc_status_is_error(Side::Client, 5));
        assert!(!grpc_status_is_error(Side::Client, 0));
        assert_eq!(grpc_code_name(4), Some("DEADLINE_EXCEEDED"));
        assert_eq!(grpc_code_name(17), None);
        assert_eq!(grpc_code_name(-1), None);
        assert_eq!(parse_grpc_status(b" 14"), Some(14));
        assert_eq!(parse_grpc_status(b"x"), None);
    }
}
