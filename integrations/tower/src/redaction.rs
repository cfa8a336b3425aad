//! Redaction of URLs before they become `url.full` / `url.query`: no
//! credentials, no secrets in query values.

use std::borrow::Cow;

/// What replaces a redacted credential or query value, per the semantic
/// conventions.
pub const REDACTED: &str = "REDACTED";

/// Query parameters whose values are always redacted (compared
/// ASCII-case-insensitively): the one list the SDK's redactor uses too.
pub use tracekit_propagators::SENSITIVE_QUERY_PARAMETERS;

use tracekit_propagators::is_sensitive_query_parameter as is_sensitive;

/// `query` (without the `?`) with the values of sensitive parameters
/// replaced by `REDACTED`; borrowed when nothing needed redacting.
///
/// ```
/// use tracekit_tower::redaction::redact_query;
/// assert_eq!(redact_query("q=rust&token=abc"), "q=rust&token=REDACTED");
/// assert_eq!(redact_query("page=2"), "page=2");
/// ```
pub fn redact_query(query: &str) -> Cow<'_, str> {
    let needs = query.split('&').any(|pair| match pair.split_once('=') {
        Some((name, value)) => !value.is_empty() && value != REDACTED && is_sensitive(name),
        None => false,
    });
    if !needs {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len() + REDACTED.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_sensitive(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
    Cow::Owned(out)
}

/// An absolute URL fit for `url.full`: user name and password replaced by
/// `REDACTED:REDACTED` (the conventions' form), sensitive query values
/// redacted, the fragment dropped (it never reaches the server).
///
/// ```
/// use tracekit_tower::redaction::redact_url;
/// assert_eq!(
///     redact_url("https://alice:s3cret@example.com/a?api_key=k&x=1#top"),
///     "https://REDACTED:REDACTED@example.com/a?api_key=REDACTED&x=1"
/// );
/// ```
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let url = match url.find('#') {
        Some(i) => &url[..i],
        None => url,
    };
    // The authority runs from after "scheme://" to the next '/', '?' or end.
    let authority_start = url.find("://").map(|i| i + 3);
    let userinfo_end = authority_start.and_then(|start| {
        let rest = &url[start..];
        let authority_len = rest.find(['/', '?']).unwrap_or(rest.len());
        rest[..authority_len]
            .rfind('@')
            .map(|at| (start, start + at))
    });
    let (before_query, query) = match url.find('?') {
        Some(i) => (&url[..i], Some(&url[i + 1..])),
        None => (url, None),
    };
    let redacted_query = query.map(redact_query);
    let query_changed = matches!(redacted_query, Some(Cow::Owned(_)));
    if userinfo_end.is_none() && !query_changed {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len() + 2 * REDACTED.len());
    match userinfo_end {
        Some((start, at)) => {
            out.push_str(&before_query[..start]);
            out.push_str(REDACTED);
            out.push(':');
            out.push_str(REDACTED);
            out.push_str(&before_query[at..]);
        }
        None => out.push_str(before_query),
    }
    if let Some(query) = redacted_query {
        out.push('?');
        out.push_str(&query);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_of_sensitive_names_are_redacted() {
        assert_eq!(
            redact_query("a=1&Token=x&PASSWORD=y&sig=z&flag&api_key="),
            "a=1&Token=REDACTED&PASSWORD=REDACTED&sig=REDACTED&flag&api_key="
        );
        assert!(matches!(redact_query("a=1&b=2"), Cow::Borrowed(_)));
        assert!(matches!(redact_query(""), Cow::Borrowed(_)));
    }

    #[test]
    fn credentials_are_redacted_even_without_password() {
        assert_eq!(
            redact_url("http://bob@127.0.0.1:8080/x"),
            "http://REDACTED:REDACTED@127.0.0.1:8080/x"
        );
        assert_eq!(
            redact_url("http://127.0.0.1/p@th?q=a@b"),
            "http://127.0.0.1/p@th?q=a@b"
        );
    }

    #[test]
    fn clean_urls_are_borrowed_and_fragments_dropped() {
        assert!(matches!(
            redact_url("http://127.0.0.1:9/a?b=c"),
            Cow::Borrowed("http://127.0.0.1:9/a?b=c")
        ));
        assert_eq!(redact_url("http://h/a#frag"), "http://h/a");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn userinfo_and_query_together() {
        assert_eq!(
            redact_url("https://u:p@h:1/?secret=s&page=2"),
            "https://REDACTED:REDACTED@h:1/?secret=REDACTED&page=2"
        );
    }
}
