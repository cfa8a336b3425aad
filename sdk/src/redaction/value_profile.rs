//! Value profiles: how much value scanning an attribute gets, by its key.
//!
//! Some semantic-convention attributes have values whose form the
//! conventions fix, and that form cannot carry a user secret; scanning them
//! costs time on every span and finds nothing. Unless
//! [`RedactionConfig::scan_all_values`](super::RedactionConfig::scan_all_values)
//! is set, these keys (matched exactly, case included, as the conventions
//! spell them) get a narrower scan:
//!
//! | key | profile | why |
//! |---|---|---|
//! | `http.request.method` | none | an HTTP method token (`GET`, `_OTHER`) |
//! | `http.route` | none | the server framework's route template (`/users/{id}`), never the request's own path |
//! | `server.address` | none | a host name or IP address |
//! | `network.protocol.name`, `network.protocol.version` | none | `http`, `1.1` |
//! | `network.transport`, `network.type` | none | `tcp`, `ipv4` |
//! | `url.scheme` | none | `https` |
//! | `http.response.status_code`, `http.request.resend_count`, `http.request.body.size`, `http.response.body.size`, `server.port`, `client.port`, `network.peer.port`, `network.local.port` | none | integers by the conventions (a string there is not the conventions' attribute, and is not scanned either) |
//! | `user_agent.original` | none | the `User-Agent` header: product tokens and comments naming the client software (credentials travel in `Authorization` and `Cookie`, which key rules mask) |
//! | `url.full`, `url.query` | URL | only `url_credentials` and `query_secrets`: exactly the scrubbing the conventions ask for these attributes (userinfo as `REDACTED:REDACTED`, sensitive query parameters as `name=REDACTED`) |
//!
//! Every other key gets every value rule. Key rules are decided first and
//! are never skipped: `mask("url.full")` still masks it, and `keep`
//! still keeps it.
//!
//! What the narrower scan gives up: a secret that an application puts, by
//! mistake, into one of these attributes in a shape only a skipped scanner
//! recognises (a JWT or card number under an unremarkable query parameter
//! name in `url.full`, an email address in a user agent) is not redacted.
//! Applications that cannot rule that out turn the profiles off with
//! `scan_all_values` or `TRACEKIT_REDACT_SCAN_ALL_VALUES=true`.

use opentelemetry_semantic_conventions::attribute::{
    CLIENT_PORT, HTTP_REQUEST_BODY_SIZE, HTTP_REQUEST_METHOD, HTTP_REQUEST_RESEND_COUNT,
    HTTP_RESPONSE_BODY_SIZE, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE, NETWORK_LOCAL_PORT,
    NETWORK_PEER_PORT, NETWORK_PROTOCOL_NAME, NETWORK_PROTOCOL_VERSION, NETWORK_TRANSPORT,
    NETWORK_TYPE, SERVER_ADDRESS, SERVER_PORT, URL_FULL, URL_QUERY, URL_SCHEME,
    USER_AGENT_ORIGINAL,
};

/// How much of the value scanning an attribute's value gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueProfile {
    /// Every value rule.
    All,
    /// Only the URL rules (`url_credentials`, `query_secrets`).
    Url,
    /// No value rule.
    Skip,
}

/// The profile of the attribute `key` (exact, case-sensitive match).
pub(crate) fn profile_of(key: &str) -> ValueProfile {
    match key {
        HTTP_REQUEST_METHOD
        | HTTP_ROUTE
        | SERVER_ADDRESS
        | NETWORK_PROTOCOL_NAME
        | NETWORK_PROTOCOL_VERSION
        | NETWORK_TRANSPORT
        | NETWORK_TYPE
        | URL_SCHEME
        | USER_AGENT_ORIGINAL
        // Integers by the conventions.
        | HTTP_RESPONSE_STATUS_CODE
        | HTTP_REQUEST_RESEND_COUNT
        | HTTP_REQUEST_BODY_SIZE
        | HTTP_RESPONSE_BODY_SIZE
        | SERVER_PORT
        | CLIENT_PORT
        | NETWORK_PEER_PORT
        | NETWORK_LOCAL_PORT => ValueProfile::Skip,
        URL_FULL | URL_QUERY => ValueProfile::Url,
        _ => ValueProfile::All,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_follow_the_conventions_exactly() {
        assert_eq!(profile_of(HTTP_ROUTE), ValueProfile::Skip);
        assert_eq!(profile_of(USER_AGENT_ORIGINAL), ValueProfile::Skip);
        assert_eq!(profile_of(HTTP_RESPONSE_STATUS_CODE), ValueProfile::Skip);
        assert_eq!(profile_of(SERVER_PORT), ValueProfile::Skip);
        assert_eq!(profile_of(URL_FULL), ValueProfile::Url);
        assert_eq!(profile_of(URL_QUERY), ValueProfile::Url);
        // Case and near-misses are not the conventions' attributes.
        assert_eq!(profile_of("HTTP.ROUTE"), ValueProfile::All);
        assert_eq!(profile_of("url.full.raw"), ValueProfile::All);
        assert_eq!(profile_of("url.path"), ValueProfile::All);
        assert_eq!(profile_of(""), ValueProfile::All);
    }
}
