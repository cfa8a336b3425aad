//! How many values each rule redacted: relaxed atomics bumped only when a
//! rule changes something, read as a [`RedactionCounters`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// One rule's count in a [`RedactionCounters`] snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCount {
    /// The rule's name: a built-in rule's [name](super::BuiltinRule::name),
    /// or `<action>:<pattern>` for a key rule added by configuration
    /// (`delete:*.ssn`, `hash:user.id`).
    pub rule: String,
    /// Values the rule redacted so far: attributes deleted, masked or
    /// hashed by a key rule; strings (an attribute's value, or one string of
    /// a string array) rewritten by a value rule.
    pub redacted: u64,
}

/// A snapshot of a [`Redactor`](super::Redactor)'s counters, one entry per
/// rule in running order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedactionCounters {
    /// The per-rule counts.
    pub rules: Vec<RuleCount>,
}

impl RedactionCounters {
    /// The count of the rule named `rule` (summed if several rules share the
    /// name); `None` when no rule has that name.
    pub fn get(&self, rule: &str) -> Option<u64> {
        self.rules
            .iter()
            .filter(|r| r.rule == rule)
            .map(|r| r.redacted)
            .reduce(|a, b| a + b)
    }

    /// Values redacted by all rules together.
    pub fn total(&self) -> u64 {
        self.rules.iter().map(|r| r.redacted).sum()
    }
}

/// The live counters: one atomic per rule.
#[derive(Debug, Default)]
pub(crate) struct RuleCounters {
    names: Vec<String>,
    counts: Box<[AtomicU64]>,
}

impl RuleCounters {
    pub(crate) fn new(names: Vec<String>) -> Self {
        let counts = names.iter().map(|_| AtomicU64::new(0)).collect();
        RuleCounters { names, counts }
    }

    #[inline]
    pub(crate) fn bump(&self, rule: usize) {
        if let Some(c) = self.counts.get(rule) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> RedactionCounters {
        RedactionCounters {
            rules: self
                .names
                .iter()
                .zip(self.counts.iter())
                .map(|(name, count)| RuleCount {
                    rule: name.clone(),
                    redacted: count.load(Ordering::Relaxed),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_get_and_total() {
        let c = RuleCounters::new(vec!["a".into(), "b".into(), "a".into()]);
        c.bump(0);
        c.bump(1);
        c.bump(1);
        c.bump(2);
        c.bump(99);
        let s = c.snapshot();
        assert_eq!(s.get("a"), Some(2));
        assert_eq!(s.get("b"), Some(2));
        assert_eq!(s.get("c"), None);
        assert_eq!(s.total(), 4);
    }
}
