//! `error.type` values for failed requests.

use reqwest_middleware::Error;

/// A low-cardinality `error.type` for a request that got no response:
/// `timeout`, `name_resolution_error`, `connection_error`, `body_error`,
/// `decode_error`, `redirect_error`, `request_error`, or the middleware /
/// reqwest error type for anything else.
pub fn error_type(error: &Error) -> &'static str {
    match error {
        Error::Middleware(_) => "reqwest_middleware::Error",
        Error::Reqwest(e) if e.is_timeout() => "timeout",
        Error::Reqwest(e) if e.is_dns() => "name_resolution_error",
        Error::Reqwest(e) if e.is_connect() => "connection_error",
        Error::Reqwest(e) if e.is_body() => "body_error",
        Error::Reqwest(e) if e.is_decode() => "decode_error",
        Error::Reqwest(e) if e.is_redirect() => "redirect_error",
        Error::Reqwest(e) if e.is_request() => "request_error",
        Error::Reqwest(_) => "reqwest::Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middleware_errors_have_their_type() {
        let error = Error::middleware(std::io::Error::other("x"));
        assert_eq!(error_type(&error), "reqwest_middleware::Error");
    }
}
