//! Parsing `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`: a W3C-baggage-like list of
//! `key=value` pairs separated by commas, values percent-decoded.

use percent_encoding::percent_decode_str;

/// The outcome of parsing a header list: the well-formed entries, and the
/// entries that were skipped with the reason.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ParsedHeaders {
    /// Well-formed `(name, value)` pairs, in order; a repeated name keeps
    /// its last value.
    pub headers: Vec<(String, String)>,
    /// Skipped entries: `(entry, reason)`.
    pub skipped: Vec<(String, &'static str)>,
}

impl ParsedHeaders {
    /// A one-line description of the first skipped entry, if any.
    pub fn first_problem(&self) -> Option<String> {
        self.skipped
            .first()
            .map(|(entry, reason)| format!("entry {entry:?}: {reason}"))
    }
}

/// Parse `k=v,k2=v2`. Whitespace around keys and values is ignored, empty
/// list members are skipped silently, values are percent-decoded (as UTF-8).
/// Keys must be valid HTTP header names; values valid header values.
pub(crate) fn parse_headers(input: &str) -> ParsedHeaders {
    let mut parsed = ParsedHeaders::default();
    for entry in input.split(',') {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let Some((key, value)) = entry.split_once('=') else {
            parsed.skipped.push((entry.to_string(), "missing '='"));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || http::HeaderName::from_bytes(key.as_bytes()).is_err() {
            parsed
                .skipped
                .push((entry.to_string(), "not a valid header name"));
            continue;
        }
        let value = match percent_decode_str(value.trim()).decode_utf8() {
            Ok(value) => value.into_owned(),
            Err(_) => {
                parsed.skipped.push((
                    entry.to_string(),
                    "value is not UTF-8 after percent-decoding",
                ));
                continue;
            }
        };
        if http::HeaderValue::from_str(&value).is_err() {
            parsed
                .skipped
                .push((entry.to_string(), "not a valid header value"));
            continue;
        }
        parsed.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        parsed.headers.push((key.to_string(), value));
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &str) -> Vec<(String, String)> {
        parse_headers(input).headers
    }

    #[test]
    fn parses_and_percent_decodes() {
        assert_eq!(
            pairs(" api-key = secret%20value ,tenant=a%2Cb,,"),
            vec![
                ("api-key".to_string(), "secret value".to_string()),
                ("tenant".to_string(), "a,b".to_string())
            ]
        );
        assert_eq!(pairs("k=a=b"), vec![("k".to_string(), "a=b".to_string())]);
        assert_eq!(pairs("k="), vec![("k".to_string(), String::new())]);
    }

    #[test]
    fn later_duplicates_win() {
        assert_eq!(pairs("a=1,A=2"), vec![("A".to_string(), "2".to_string())]);
    }

    #[test]
    fn malformed_entries_are_skipped_and_reported() {
        let parsed = parse_headers("good=1,novalue,bad key=2,=3,x=%ff,y=line%0Abreak");
        assert_eq!(parsed.headers, vec![("good".to_string(), "1".to_string())]);
        assert_eq!(parsed.skipped.len(), 5);
        assert!(parsed
            .first_problem()
            .is_some_and(|p| p.contains("novalue")));
    }
}
