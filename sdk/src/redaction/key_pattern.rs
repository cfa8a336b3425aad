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
        Ok(KeyPattern {
            text: text.into_boxed_str(),
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
    pub fn matches(&self, key: &str) -> bool {
        glob_match(self.text.as_bytes(), key.as_bytes())
    }

    /// The last byte of the pattern when it does not end with `*`: every
    /// matching key ends with it (lowercased).
    fn last_literal(&self) -> Option<u8> {
        match self.text.as_bytes().last() {
            Some(b'*') | None => None,
            Some(&b) => Some(b),
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
/// Patterns ending in a literal byte are bucketed by that byte, so a key is
/// only compared with the few patterns that can end like it, plus the
/// patterns ending in `*`.
#[derive(Clone, Debug)]
pub(crate) struct KeyIndex {
    /// `starts[b]..starts[b + 1]` indexes `bucketed` for last byte `b`.
    starts: Box<[u32; 257]>,
    /// Patterns with a literal last byte, grouped by it, by rule order.
    bucketed: Vec<(KeyPattern, usize)>,
    /// Patterns ending in `*`, by rule order.
    open_ended: Vec<(KeyPattern, usize)>,
}

impl KeyIndex {
    /// Index `(pattern, rule)` pairs.
    pub(crate) fn new(entries: Vec<(KeyPattern, usize)>) -> KeyIndex {
        let mut bucketed: Vec<(KeyPattern, usize)> = Vec::new();
        let mut open_ended = Vec::new();
        for (pattern, rule) in entries {
            if pattern.last_literal().is_some() {
                bucketed.push((pattern, rule));
            } else {
                open_ended.push((pattern, rule));
            }
        }
        bucketed.sort_by_key(|(p, rule)| (p.last_literal().unwrap_or(0), *rule));
        open_ended.sort_by_key(|(_, rule)| *rule);
        let mut starts = Box::new([0u32; 257]);
        for (p, _) in &bucketed {
            let b = p.last_literal().unwrap_or(0) as usize;
            starts[b + 1] += 1;
        }
        for b in 0..256 {
            starts[b + 1] += starts[b];
        }
        KeyIndex {
            starts,
            bucketed,
            open_ended,
        }
    }

    /// Whether no pattern is indexed.
    pub(crate) fn is_empty(&self) -> bool {
        self.bucketed.is_empty() && self.open_ended.is_empty()
    }

    /// The lowest rule number whose pattern matches `key`.
    #[inline]
    pub(crate) fn lookup(&self, key: &str) -> Option<usize> {
        let last = key.as_bytes().last()?.to_ascii_lowercase() as usize;
        let bucket = &self.bucketed[self.starts[last] as usize..self.starts[last + 1] as usize];
        let from_bucket = bucket
            .iter()
            .find(|(p, _)| p.matches(key))
            .map(|(_, rule)| *rule);
        let from_open = self
            .open_ended
            .iter()
            .take_while(|(_, rule)| from_bucket.is_none_or(|b| *rule < b))
            .find(|(p, _)| p.matches(key))
            .map(|(_, rule)| *rule);
        from_open.or(from_bucket)
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
        ]);
        assert_eq!(index.lookup("user.password"), Some(0));
        assert_eq!(index.lookup("db.password"), Some(1));
        assert_eq!(index.lookup("x.password"), Some(3));
        assert_eq!(index.lookup("x.Password"), Some(3));
        assert_eq!(index.lookup("word"), Some(9));
        assert_eq!(index.lookup("other"), None);
        assert_eq!(index.lookup(""), None);
        assert!(KeyIndex::new(Vec::new()).is_empty());
    }
}
