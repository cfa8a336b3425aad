//! The one list of sensitive query parameter names, shared by the SDK's
//! redactor (`url.full`, `url.query` and free text) and the tower HTTP
//! layers (`url.full` / `url.query` before they are recorded).

/// Query (and `name=value`) parameters whose values are always redacted,
/// lowercase, compared ASCII-case-insensitively: the semantic conventions'
/// list (`AWSAccessKeyId`, `Signature`, `sig`, `X-Goog-Signature`) plus
/// common token, password, key, secret and signature names.
///
/// ```
/// use tracekit_propagators::{is_sensitive_query_parameter, SENSITIVE_QUERY_PARAMETERS};
///
/// assert!(SENSITIVE_QUERY_PARAMETERS.contains(&"access_token"));
/// assert!(is_sensitive_query_parameter("X-Amz-Signature"));
/// assert!(!is_sensitive_query_parameter("page"));
/// ```
pub const SENSITIVE_QUERY_PARAMETERS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "client_secret",
    "auth",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "session_token",
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "key",
    "signature",
    "sig",
    "credential",
    "credentials",
    "private_key",
    "jwt",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "awsaccesskeyid",
];

/// Whether `name` is one of [`SENSITIVE_QUERY_PARAMETERS`], ignoring ASCII
/// case.
pub fn is_sensitive_query_parameter(name: &str) -> bool {
    SENSITIVE_QUERY_PARAMETERS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_lowercase_and_has_no_repeats() {
        for (i, name) in SENSITIVE_QUERY_PARAMETERS.iter().enumerate() {
            assert_eq!(*name, name.to_ascii_lowercase());
            assert!(name.len() >= 2, "{name}");
            assert!(!SENSITIVE_QUERY_PARAMETERS[..i].contains(name), "{name}");
        }
    }

    #[test]
    fn case_is_ignored() {
        assert!(is_sensitive_query_parameter("AWSAccessKeyId"));
        assert!(is_sensitive_query_parameter("Signature"));
        assert!(!is_sensitive_query_parameter("tokens"));
    }
}
