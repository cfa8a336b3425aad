//! [`HeaderExtractor`] and [`HeaderInjector`]: an [`http::HeaderMap`] as a
//! propagation carrier.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use tracekit_propagators::{TRACEPARENT_HEADER, TRACESTATE_HEADER};

/// Propagation fields looked up on every request, as ready header names so
/// the lookup skips parsing the name: `traceparent`, `tracestate`,
/// `baggage`.
pub(crate) static WELL_KNOWN: [HeaderName; 3] = [
    HeaderName::from_static(TRACEPARENT_HEADER),
    HeaderName::from_static(TRACESTATE_HEADER),
    HeaderName::from_static("baggage"),
];

/// A field value as the text propagators read: a value that is not visible
/// ASCII (with spaces and tabs) reads as empty, which no propagator
/// accepts, so it still counts as an occurrence.
#[inline]
pub(crate) fn field_text(value: &HeaderValue) -> &str {
    value.to_str().unwrap_or("")
}

/// The ready header name for `key`, if it is a well-known field.
fn well_known(key: &str) -> Option<&'static HeaderName> {
    // A match on the text compiles to a length switch and one comparison.
    match key {
        "traceparent" => Some(&WELL_KNOWN[0]),
        "tracestate" => Some(&WELL_KNOWN[1]),
        "baggage" => Some(&WELL_KNOWN[2]),
        _ => None,
    }
}

/// Reads propagation fields from request headers. Header names are
/// case-insensitive; every occurrence of a repeated header is visible
/// through [`Extractor::get_all`]. A value that is not visible ASCII reads
/// as absent through [`Extractor::get`] and as an empty (invalid) entry
/// through `get_all`, so it still counts as an occurrence.
#[derive(Clone, Copy, Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = match well_known(key) {
            Some(name) => self.0.get(name),
            None => self.0.get(key),
        };
        value.and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all = match well_known(key) {
            Some(name) => self.0.get_all(name),
            None => self.0.get_all(key),
        };
        let values: Vec<&str> = all.iter().map(field_text).collect();
        if values.is_empty() {
            None
        } else {
            Some(values)
        }
    }
}

/// Writes propagation fields into request headers, replacing any value
/// already there. Fields whose name or value is not a valid header are
/// skipped.
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let name = match well_known(key) {
            Some(name) => name.clone(),
            None => match HeaderName::from_bytes(key.as_bytes()) {
                Ok(name) => name,
                Err(_) => return,
            },
        };
        if let Ok(value) = HeaderValue::try_from(value) {
            self.0.insert(name, value);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extractor_sees_every_value_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.append("TraceState", HeaderValue::from_static("a=1"));
        headers.append("tracestate", HeaderValue::from_static("b=2"));
        let extractor = HeaderExtractor(&headers);
        assert_eq!(extractor.get("tracestate"), Some("a=1"));
        assert_eq!(extractor.get_all("TRACESTATE"), Some(vec!["a=1", "b=2"]));
        assert_eq!(extractor.get_all("baggage"), None);
        assert_eq!(extractor.keys(), vec!["tracestate"]);
    }

    #[test]
    fn well_known_fields_map_to_their_header_names() {
        for name in &WELL_KNOWN {
            assert_eq!(well_known(name.as_str()), Some(name));
        }
        assert_eq!(well_known("x-other"), None);
    }

    #[test]
    fn extractor_ignores_non_ascii_values() {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_bytes(b"00-\xff").unwrap());
        assert_eq!(HeaderExtractor(&headers).get("traceparent"), None);
        assert_eq!(
            HeaderExtractor(&headers).get_all("traceparent"),
            Some(vec![""])
        );
    }

    #[test]
    fn injector_replaces_and_skips_invalid() {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_static("old"));
        let mut injector = HeaderInjector(&mut headers);
        injector.set("traceparent", "new".to_string());
        injector.set("bad header", "x".to_string());
        injector.set("baggage", "line\nbreak".to_string());
        assert_eq!(headers.get("traceparent").unwrap(), "new");
        assert_eq!(headers.len(), 1);
    }
}
