//! Attribute-key patterns (exact keys and `*` globs) and the index that
//! finds the first rule matching a key.

use std::fmt;

/// A pattern over attribute keys: an exact key (`http.request.header.cookie`)
/// or a glob where `*` stands for any run of characters, dots included
/// (`*.password`, `db.*.secret`, `*token`).
///
/// Matching ignores ASCII case, so `*.password` also matches
/// `User.Password`.
///
/// ```
/// use tracekit::redaction::KeyPattern;
///
/// let p = KeyPattern::parse("*.password").unwrap();
/// assert!(p.matches("db.password"));
/// assert!(p.matches("Login.PASSWORD"));
/// assert!(!p.matches("password_reset"));
/// assert!(KeyPattern::parse("has space").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyPattern {
    /// The pattern as written, lowercased, with runs of `*` collapsed.
    text: Box<str>,
    /// How to match it, derived from `text`.
    shape: Shape,
}

/// The common pattern shapes get a direct comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Shape {
    /// No `*`.
    Exact,
    /// `*literal`.
    Suffix,
    /// `literal*`.
    Prefix,
    /// Anything else.
    Glob,
}

/// Why a key pattern was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidPattern {
    /// The pattern is empty.
    Empty,
    /// The pattern contains whitespace or a control character.
    Whitespace,
    /// The pattern is only `*`, so it would match every attribute.
    MatchesEverything,
}

impl fmt::Display for InvalidPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidPattern::Empty => "empty key pattern",
            InvalidPattern::Whitespace => "key pattern contains whitespace or a control character",
            InvalidPattern::MatchesEverything => "key pattern matches every attribute",
        })
    }
}

impl std::error::Error for InvalidPattern {}

impl KeyPattern {
    /// Parse a pattern; surrounding whitespace is trimmed.
    pub fn parse(pattern: &str) -> Result<KeyPattern, InvalidPattern> {
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return Err(InvalidPattern::Empty);
        }
        if pattern.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidPattern::Whitespace);
        }
        if pattern.chars().all(|c| c == '*') {
            return Err(InvalidPattern::MatchesEverything);
        }
        let mut text = String::with_capacity(pattern.len());
        for c in pattern.chars() {
            if c == '*' && text.ends_with('*') {
                continue;
            }
            text.push(c.to_ascii_lowercase());
        }
        let stars = text.matches('*').count();
        let shape = match stars {
            0 => Shape::Exact,
            1 if text.starts_with('*') => Shape::Suffix,
            1 if text.ends_with('*') => Shape::Prefix,
            _ => Shape::Glob,
        };
        Ok(KeyPattern {
            text: text.into_boxed_str(),
            shape,
        })
    }

    /// The normalised pattern (lowercase, single `*`s).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has a `*`.
    pub fn is_glob(&self) -> bool {
        self.text.contains('*')
    }

    /// Whether `key` matches, ignoring ASCII case.
    #[inline]
    pub fn matches(&self, key: &str) -> bool {
        let (p, k) = (self.text.as_bytes(), key.as_bytes());
        match self.shape {
            Shape::Exact => p.eq_ignore_ascii_case(k),
            Shape::Suffix => {
                let lit = &p[1..];
                k.len() >= lit.len() && k[k.len() - lit.len()..].eq_ignore_ascii_case(lit)
            }
            Shape::Prefix => {
                let lit = &p[..p.len() - 1];
                k.len() >= lit.len() && k[..lit.len()].eq_ignore_ascii_case(lit)
            }
            Shape::Glob => glob_match(p, k),
        }
    }
}

impl fmt::Debug for KeyPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPattern({:?})", self.text)
    }
}

impl fmt::Display for KeyPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for KeyPattern {
    type Err = InvalidPattern;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyPattern::parse(s)
    }
}

/// `*`-only glob match of `key` against the lowercase `pattern`, ignoring
/// ASCII case in `key`. Pieces between stars are matched leftmost-first,
/// which is exact for `*`-only globs.
fn glob_match(pattern: &[u8], key: &[u8]) -> bool {
    let mut pieces = pattern.split(|&b| b == b'*');
    let Some(first) = pieces.next() else {
        return key.is_empty();
    };
    if !pattern.contains(&b'*') {
        return pattern.eq_ignore_ascii_case(key);
    }
    // The last piece is the suffix; the first the prefix.
    let last = pattern.rsplit(|&b| b == b'*').next().unwrap_or_default();
    if key.len() < first.len() + last.len()
        || !key[..first.len()].eq_ignore_ascii_case(first)
        || !key[key.len() - last.len()..].eq_ignore_ascii_case(last)
    {
        return false;
    }
    let mut rest = &key[first.len()..key.len() - last.len()];
    let middle_count = pattern
        .iter()
        .filter(|&&b| b == b'*')
        .count()
        .saturating_sub(1);
    for piece in pieces.take(middle_count) {
        match find_ignore_case(rest, piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// First position of the lowercase `needle` in `haystack`, ignoring ASCII
/// case.
fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Finds, for a key, the lowest-numbered rule with a matching pattern.
///
/// A plain list in rule order, checked pattern by pattern: it is consulted
/// only when a key's decision is not yet cached (see the redactor's key
/// caches), so its speed does not show on the export path.
#[derive(Clone, Debug)]
pub(crate) struct KeyIndex {
    /// `(pattern, rule)`, by rule.
    entries: Vec<(KeyPattern, usize)>,
}

impl KeyIndex {
    /// Index `(pattern, rule)` pairs.
    pub(crate) fn new(mut entries: Vec<(KeyPattern, usize)>) -> KeyIndex {
        entries.sort_by_key(|(_, rule)| *rule);
        KeyIndex { entries }
    }

    /// Whether no pattern is indexed.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The lowest rule number whose pattern matches `key`.
    pub(crate) fn lookup(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .find(|(pattern, _)| pattern.matches(key))
            .map(|(_, rule)| *rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> KeyPattern {
        KeyPattern::parse(s).unwrap()
    }

    #[test]
    fn exact_and_glob_matching() {
        assert!(p("http.request.header.authorization").matches("HTTP.Request.Header.Authorization"));
        assert!(
            !p("http.request.header.authorization").matches("http.request.header.authorization2")
        );
        assert!(p("*.password").matches("a.b.password"));
        assert!(!p("*.password").matches("password"));
        assert!(p("*token").matches("csrftoken"));
        assert!(p("db.*").matches("db.statement"));
        assert!(p("a*b*c").matches("abc"));
        assert!(p("a*b*c").matches("a-b-b-c"));
        assert!(!p("a*b*c").matches("acb"));
        assert!(p("rpc.*.request.metadata.authorization")
            .matches("rpc.grpc.request.metadata.authorization"));
        assert!(!p("a*a").matches("a"));
        assert!(p("é*").matches("éclair"));
    }

    #[test]
    fn invalid_patterns() {
        assert_eq!(KeyPattern::parse("  "), Err(InvalidPattern::Empty));
        assert_eq!(KeyPattern::parse("a b"), Err(InvalidPattern::Whitespace));
        assert_eq!(KeyPattern::parse("a\u{7}"), Err(InvalidPattern::Whitespace));
        assert_eq!(
            KeyPattern::parse("**"),
            Err(InvalidPattern::MatchesEverything)
        );
        assert_eq!(p(" A**B ").as_str(), "a*b");
    }

    #[test]
    fn index_returns_the_lowest_matching_rule() {
        let index = KeyIndex::new(vec![
            (p("*.password"), 3),
            (p("db.*"), 1),
            (p("user.password"), 0),
            (p("*d"), 9),
            (p("pre*"), 2),
            (p("a*b*c"), 4),
        ]);
        assert_eq!(index.lookup("prefix.password"), Some(2));
        assert_eq!(index.lookup("A-B-C"), Some(4));
        assert_eq!(index.lookup("user.password"), Some(0));
        assert_eq!(index.lookup("db.password"), Some(1));
        assert_eq!(index.lookup("x.password"), Some(3));
        assert_eq!(index.lookup("x.Password"), Some(3));
        assert_eq!(index.lookup("word"), Some(9));
        assert_eq!(index.lookup("other"), None);
        assert_eq!(index.lookup(""), None);
        assert!(KeyIndex::new(Vec::new()).is_empty());
    }

    #[test]
    fn index_agrees_with_checking_every_pattern() {
        let sets: [&[&str]; 3] = [
            &[
                "*password",
                "*token",
                "http.request.header.cookie",
                "a*b*key",
                "db.*",
            ],
            &["*d", "x", "*.ssn", "pre*"],
            &["*.secret", "*api_key", "user.id"],
        ];
        let keys = [
            "db.password",
            "DB.PASSWORD",
            "csrftoken",
            "http.request.header.cookie",
            "http.request.method",
            "a.b.key",
            "axbykey",
            "key",
            "word",
            "x",
            "X",
            "ssn",
            "u.ssn",
            "prefix",
            "pr",
            "",
            "d",
            "user.id",
            "user.ids",
            "svc.secret",
            "svc.Secret",
            "my_api_key",
            "url.full",
            "é.password",
            "tokén",
        ];
        for set in sets {
            let entries: Vec<(KeyPattern, usize)> =
                set.iter().enumerate().map(|(i, s)| (p(s), i)).collect();
            let index = KeyIndex::new(entries.clone());
            for key in keys {
                let expected = entries
                    .iter()
                    .filter(|(pattern, _)| pattern.matches(key))
                    .map(|(_, rule)| *rule)
                    .min();
                assert_eq!(index.lookup(key), expected, "{key} in {set:?}");
            }
        }
    }
}
