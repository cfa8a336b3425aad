//! [`HeaderCapture`]: request or response headers recorded as
//! `http.request.header.<name>` / `http.response.header.<name>` by
//! allow-list, never credentials.

use http::header::{HeaderMap, HeaderName};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};
use opentelemetry_semantic_conventions::attribute::{HTTP_REQUEST_HEADER, HTTP_RESPONSE_HEADER};

/// Headers that are never captured, whatever the allow-list says.
pub const NEVER_CAPTURED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "apikey",
    "x-auth-token",
    "x-amz-security-token",
];

/// Whether `name` (lower case) is a credential header that is never
/// captured: the [`NEVER_CAPTURED`] list and any name mentioning an API
/// key.
pub fn is_never_captured(name: &str) -> bool {
    NEVER_CAPTURED.contains(&name)
        || name.contains("api-key")
        || name.contains("api_key")
        || name.contains("apikey")
}

/// Which side of the exchange a [`HeaderCapture`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderSide {
    /// `http.request.header.<name>`.
    Request,
    /// `http.response.header.<name>`.
    Response,
}

/// An allow-list of headers to record, each as a string-array attribute
/// holding every value of the header (the conventions' form).
///
/// ```
/// use tracekit_tower::{HeaderCapture, HeaderSide};
/// let capture = HeaderCapture::new(HeaderSide::Request, ["X-Request-Id", "Authorization"]);
/// // Authorization is refused: it can never be captured.
/// assert_eq!(capture.names().count(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct HeaderCapture {
    entries: Vec<(HeaderName, Key)>,
}

impl HeaderCapture {
    /// Capture `names` (case-insensitive) on `side`. Invalid names,
    /// duplicates and never-captured names are left out.
    pub fn new<I, S>(side: HeaderSide, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let prefix = match side {
            HeaderSide::Request => HTTP_REQUEST_HEADER,
            HeaderSide::Response => HTTP_RESPONSE_HEADER,
        };
        let mut entries: Vec<(HeaderName, Key)> = Vec::new();
        for name in names {
            let Ok(header) = HeaderName::from_bytes(name.as_ref().trim().as_bytes()) else {
                continue;
            };
            if is_never_captured(header.as_str()) || entries.iter().any(|(h, _)| *h == header) {
                continue;
            }
            let key = Key::new(format!("{prefix}.{}", header.as_str()));
            entries.push((header, key));
        }
        HeaderCapture { entries }
    }

    /// Whether nothing is captured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The captured header names.
    pub fn names(&self) -> impl Iterator<Item = &HeaderName> {
        self.entries.iter().map(|(h, _)| h)
    }

    /// Append the attributes for the allowed headers present in `headers`.
    pub fn record(&self, headers: &HeaderMap, out: &mut Vec<KeyValue>) {
        for (name, key) in &self.entries {
            let values: Vec<StringValue> = headers
                .get_all(name)
                .iter()
                .map(|v| StringValue::from(String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            if !values.is_empty() {
                out.push(KeyValue::new(
                    key.clone(),
                    Value::Array(Array::String(values)),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn credentials_can_never_be_allowed() {
        let capture = HeaderCapture::new(
            HeaderSide::Request,
            [
                "authorization",
                "Cookie",
                "set-cookie",
                "proxy-authorization",
                "x-api-key",
                "X-Partner-Api-Key",
                "x-request-id",
                "x-request-id",
                "bad name",
            ],
        );
        let names: Vec<&str> = capture.names().map(HeaderName::as_str).collect();
        assert_eq!(names, vec!["x-request-id"]);
    }

    #[test]
    fn every_value_is_recorded_under_the_convention_key() {
        let capture = HeaderCapture::new(HeaderSide::Response, ["X-Cache", "x-missing"]);
        let mut headers = HeaderMap::new();
        headers.append("x-cache", HeaderValue::from_static("hit"));
        headers.append("x-cache", HeaderValue::from_static("miss"));
        let mut out = Vec::new();
        capture.record(&headers, &mut out);
        assert_eq!(
            out,
            vec![KeyValue::new(
                "http.response.header.x-cache",
                Value::Array(Array::String(vec!["hit".into(), "miss".into()]))
            )]
        );
    }
}
