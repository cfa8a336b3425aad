//! Host, port and client-address parsing for `server.*` and
//! `client.address`.

#[cfg(test)]
use http::header::{HeaderMap, FORWARDED};
use http::header::{HeaderName, HeaderValue};

/// `X-Forwarded-For`, the de-facto client address header.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// `X-Forwarded-Proto`, the de-facto original scheme header.
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// `X-Forwarded-Host`, the de-facto original host header.
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
use http::Uri;

/// The port a scheme uses when none is written.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        // The usual spellings first: no case folding.
        "http" => Some(80),
        "https" => Some(443),
        _ if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("ws") => Some(80),
        _ if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("wss") => {
            Some(443)
        }
        _ => None,
    }
}

/// Split `host[:port]` (IPv6 in brackets) into the host, without
/// brackets, and the port if one is written and valid.
pub fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    // One pass over the bytes (this runs on every request): where the
    // userinfo ends, and the colons after it. `@` and `:` are ASCII, so
    // every index found is a char boundary.
    let mut start = 0;
    let mut last_colon = None;
    let mut several_colons = false;
    for (i, &b) in authority.as_bytes().iter().enumerate() {
        if b == b'@' {
            start = i + 1;
            last_colon = None;
            several_colons = false;
        } else if b == b':' {
            several_colons |= last_colon.is_some();
            last_colon = Some(i);
        }
    }
    let rest = &authority[start..];
    let trimmed = trim(rest);
    if trimmed.is_empty() {
        return None;
    }
    if let Some(inner) = trimmed.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host, port));
    }
    match last_colon {
        // More than one colon without brackets: a bare IPv6 address.
        Some(_) if several_colons => Some((trimmed, None)),
        Some(colon) => {
            // Colons are not whitespace: the last one is inside `trimmed`.
            let colon = colon - start - (rest.len() - rest.trim_start().len());
            Some((&trimmed[..colon], trimmed[colon + 1..].parse().ok()))
        }
        None => Some((trimmed, None)),
    }
}

/// `value.trim()`, skipped when both ends are visible ASCII (nothing to
/// trim: any other whitespace starts with a non-ASCII byte).
#[inline]
fn trim(value: &str) -> &str {
    match value.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => value,
        [only] if only.is_ascii_graphic() => value,
        _ => value.trim(),
    }
}

/// Host and port of the server a request addressed: the URI's authority
/// (HTTP/2 `:authority`, absolute-form) or else the `Host` header.
#[cfg(test)]
fn request_host<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<(&'a str, Option<u16>)> {
    host_of(uri, headers.get(http::header::HOST))
}

/// [`request_host`] from the `Host` header value already looked up.
pub(crate) fn host_of<'a>(
    uri: &'a Uri,
    host: Option<&'a HeaderValue>,
) -> Option<(&'a str, Option<u16>)> {
    if let Some(authority) = uri.authority() {
        return split_host_port(authority.as_str());
    }
    split_host_port(host?.to_str().ok()?)
}

/// The original client as forwarding proxies report it: the first
/// `for=` of `Forwarded`, else the first entry of `X-Forwarded-For`.
/// Obfuscated identifiers (`_hidden`, `unknown`) are not addresses.
#[cfg(test)]
fn forwarded_client(headers: &HeaderMap) -> Option<&str> {
    forwarded_client_of(headers.get(FORWARDED), headers.get(X_FORWARDED_FOR))
}

/// [`forwarded_client`] from the `Forwarded` and `X-Forwarded-For` values
/// already looked up.
pub(crate) fn forwarded_client_of<'a>(
    forwarded: Option<&'a HeaderValue>,
    x_forwarded_for: Option<&'a HeaderValue>,
) -> Option<&'a str> {
    if let Some(node) = forwarded_parameter(forwarded, "for") {
        return node_address(node);
    }
    node_address(first_listed(x_forwarded_for)?)
}

/// The parameter `name` (`for`, `host`, `proto`) of the first element of a
/// `Forwarded` header (RFC 7239: the one the first proxy added), unquoted.
pub(crate) fn forwarded_parameter<'a>(
    forwarded: Option<&'a HeaderValue>,
    name: &str,
) -> Option<&'a str> {
    let first = forwarded?.to_str().ok()?.split(',').next()?;
    first.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"'))
    })
}

/// The first entry of a comma-separated `X-Forwarded-*` value (the one the
/// first proxy added), trimmed; `None` when empty.
pub(crate) fn first_listed(value: Option<&HeaderValue>) -> Option<&str> {
    let first = value?.to_str().ok()?.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

/// The address part of a `Forwarded` node (`1.2.3.4:80`, `[::1]:80`).
fn node_address(node: &str) -> Option<&str> {
    if node.is_empty() || node.starts_with('_') || node.eq_ignore_ascii_case("unknown") {
        return None;
    }
    split_host_port(node).map(|(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn host_and_port() {
        assert_eq!(
            split_host_port("example.com:8080"),
            Some(("example.com", Some(8080)))
        );
        assert_eq!(split_host_port("example.com"), Some(("example.com", None)));
        assert_eq!(split_host_port("[::1]:9"), Some(("::1", Some(9))));
        assert_eq!(split_host_port("[::1]"), Some(("::1", None)));
        assert_eq!(split_host_port("::1"), Some(("::1", None)));
        assert_eq!(split_host_port("u:p@h:1"), Some(("h", Some(1))));
        assert_eq!(split_host_port("h:notaport"), Some(("h", None)));
        assert_eq!(split_host_port(""), None);
        assert_eq!(split_host_port("[::1"), None);
        assert_eq!(split_host_port(" h:2 "), Some(("h", Some(2))));
        assert_eq!(split_host_port("a:b@\u{a0}h:3"), Some(("h", Some(3))));
    }

    /// The reading before the one-pass version: two searches and a trim.
    fn reference_split(authority: &str) -> Option<(&str, Option<u16>)> {
        let after_userinfo = authority.rfind('@').map_or(0, |at| at + 1);
        let authority = authority[after_userinfo..].trim();
        if authority.is_empty() {
            return None;
        }
        if let Some(rest) = authority.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return Some((host, port));
        }
        match authority.rfind(':') {
            Some(colon) if authority[..colon].contains(':') => Some((authority, None)),
            Some(colon) => Some((&authority[..colon], authority[colon + 1..].parse().ok())),
            None => Some((authority, None)),
        }
    }

    #[test]
    fn one_pass_split_agrees_with_the_reference_on_every_short_input() {
        let pieces = [
            "h", "1", ":", "@", "[", "]", " ", "\t", "\u{a0}", "\u{3000}",
        ];
        let mut inputs = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = inputs
                .iter()
                .flat_map(|s| pieces.iter().map(move |p| format!("{s}{p}")))
                .collect();
            for input in &longer {
                assert_eq!(split_host_port(input), reference_split(input), "{input:?}");
            }
            inputs = longer;
        }
    }

    #[test]
    fn request_host_prefers_the_authority() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("h.example:81"));
        let uri: Uri = "/x".parse().unwrap();
        assert_eq!(request_host(&uri, &headers), Some(("h.example", Some(81))));
        let uri: Uri = "http://a.example:82/x".parse().unwrap();
        assert_eq!(request_host(&uri, &headers), Some(("a.example", Some(82))));
    }

    #[test]
    fn forwarded_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "forwarded",
            HeaderValue::from_static("For=\"[2001:db8::1]:4711\";proto=http, for=10.0.0.1"),
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("192.0.2.1"));
        assert_eq!(forwarded_client(&headers), Some("2001:db8::1"));
        headers.remove("forwarded");
        assert_eq!(forwarded_client(&headers), Some("192.0.2.1"));
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("unknown, 1.1.1.1"),
        );
        assert_eq!(forwarded_client(&headers), None);
        assert_eq!(default_port("HTTPS"), Some(443));
        assert_eq!(default_port("http"), Some(80));
        assert_eq!(default_port("https"), Some(443));
        assert_eq!(default_port("Ws"), Some(80));
        assert_eq!(default_port("wss"), Some(443));
        assert_eq!(default_port("ftp"), None);
    }
}
