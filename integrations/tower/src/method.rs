//! Request methods as the HTTP semantic conventions record them.

use http::Method;

/// The value of `http.request.method` for a method outside the known set.
pub const OTHER_METHOD: &str = "_OTHER";

/// The span-name prefix for a method outside the known set.
pub const OTHER_METHOD_SPAN_NAME: &str = "HTTP";

/// A request method as the semantic conventions see it: one of the methods
/// of RFC 9110, `PATCH` (RFC 5789) or `QUERY`, or anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownMethod<'a> {
    /// A known method; the value is its canonical (case-sensitive) name.
    Known(&'static str),
    /// Any other method; the value is the method exactly as received.
    Other(&'a str),
}

impl<'a> KnownMethod<'a> {
    /// Classify `method`. Method names are case-sensitive: `get` is not
    /// `GET`.
    pub fn of(method: &'a Method) -> Self {
        let known = match *method {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::CONNECT => "CONNECT",
            Method::OPTIONS => "OPTIONS",
            Method::TRACE => "TRACE",
            Method::PATCH => "PATCH",
            _ if method.as_str() == "QUERY" => "QUERY",
            _ => return KnownMethod::Other(method.as_str()),
        };
        KnownMethod::Known(known)
    }

    /// The `http.request.method` value: the method, or `_OTHER`.
    pub fn attribute_value(&self) -> &'static str {
        match self {
            KnownMethod::Known(name) => name,
            KnownMethod::Other(_) => OTHER_METHOD,
        }
    }

    /// The first word of the span name: the method, or `HTTP`.
    pub fn span_name(&self) -> &'static str {
        match self {
            KnownMethod::Known(name) => name,
            KnownMethod::Other(_) => OTHER_METHOD_SPAN_NAME,
        }
    }

    /// The original method when it is not a known one
    /// (`http.request.method_original`).
    pub fn original(&self) -> Option<&'a str> {
        match self {
            KnownMethod::Known(_) => None,
            KnownMethod::Other(original) => Some(original),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_keep_their_names() {
        for name in [
            "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY",
        ] {
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            let known = KnownMethod::of(&method);
            assert_eq!(known, KnownMethod::Known(name));
            assert_eq!(known.attribute_value(), name);
            assert_eq!(known.span_name(), name);
            assert_eq!(known.original(), None);
        }
    }

    #[test]
    fn other_methods_are_other_and_keep_the_original() {
        for name in ["get", "PURGE", "FOO"] {
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            let known = KnownMethod::of(&method);
            assert_eq!(known.attribute_value(), "_OTHER");
            assert_eq!(known.span_name(), "HTTP");
            assert_eq!(known.original(), Some(name));
        }
    }
}
