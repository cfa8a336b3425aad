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
    /// Skipped entries: `(position, reason)`, the position counting the
    /// non-empty entries from 1.
    pub skipped: Vec<(usize, &'static str)>,
}

impl ParsedHeaders {
    /// A one-line description of the first skipped entry, if any. It
    /// names the entry by its position, never by its text: header values
    /// are often credentials.
    pub fn first_problem(&self) -> Option<String> {
        self.skipped
            .first()
            .map(|(position, reason)| format!("entry {position}: {reason}"))
    }
}

/// The header list as it may be shown in a warning: each value replaced by
/// `<hidden>`, and each entry without a valid header name before its `=`
/// (where a token pasted without its key would be) hidden whole. The keys
/// stay, so that the user can find the entry a warning names.
pub(crate) fn hide_values(input: &str) -> String {
    input
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((key, _)) if http::HeaderName::from_bytes(key.trim().as_bytes()).is_ok() => {
                format!("{}=<hidden>", key.trim())
            }
            _ => "<hidden>".to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parse `k=v,k2=v2`. Whitespace around keys and values is ignored, empty
/// list members are skipped silently, values are percent-decoded (as UTF-8).
/// Keys must be valid HTTP header names; values valid header values.
pub(crate) fn parse_headers(input: &str) -> ParsedHeaders {
    let mut parsed = ParsedHeaders::default();
    let entries = input.split(',').map(str::trim).filter(|e| !e.is_empty());
    for (position, entry) in entries.enumerate().map(|(i, e)| (i + 1, e)) {
        let Some((key, value)) = entry.split_once('=') else {
            parsed.skipped.push((position, "missing '='"));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || http::HeaderName::from_bytes(key.as_bytes()).is_err() {
            parsed.skipped.push((position, "not a valid header name"));
            continue;
        }
        let value = match percent_decode_str(value.trim()).decode_utf8() {
            Ok(value) => value.into_owned(),
            Err(_) => {
                parsed
                    .skipped
                    .push((position, "value is not UTF-8 after percent-decoding"));
                continue;
            }
        };
        if http::HeaderValue::from_str(&value).is_err() {
            parsed.skipped.push((position, "not a valid header value"));
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
        assert_eq!(
            parsed.first_problem().as_deref(),
            Some("entry 2: missing '='")
        );
    }

    #[test]
    fn warnings_show_keys_but_no_values() {
        let input = "api-key=s3cret, Bearer t0ken ,bad key=v4lue,x-tenant=acme%2C1,,";
        let shown = hide_values(input);
        assert_eq!(
            shown,
            "api-key=<hidden>,<hidden>,<hidden>,x-tenant=<hidden>"
        );
        let problem = parse_headers(input).first_problem().unwrap();
        assert_eq!(problem, "entry 2: missing '='");
        for secret in ["s3cret", "t0ken", "v4lue", "acme"] {
            assert!(!shown.contains(secret) && !problem.contains(secret));
        }
    }
}
