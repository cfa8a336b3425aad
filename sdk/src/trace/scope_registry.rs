//! Interned instrumentation scopes.
//!
//! Every span refers to its tracer's instrumentation scope. Holding it by
//! reference count would make each span bump a counter on the
//! application's thread and drop it on the export thread: one cache line
//! bouncing between cores for every span. Scopes are few and live for the
//! whole process, so each distinct scope is stored once, for good, and
//! spans carry a plain `&'static` reference.

use opentelemetry::InstrumentationScope;
use parking_lot::Mutex;
use std::collections::HashSet;

static SCOPES: Mutex<Option<HashSet<&'static InstrumentationScope>>> = Mutex::new(None);

/// The process-wide copy of `scope` (created on first use).
pub(crate) fn intern(scope: InstrumentationScope) -> &'static InstrumentationScope {
    let mut guard = SCOPES.lock();
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(existing) = set.get(&scope) {
        return existing;
    }
    let leaked: &'static InstrumentationScope = Box::leak(Box::new(scope));
    set.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_scopes_share_one_copy() {
        let a = intern(InstrumentationScope::builder("interned-a").build());
        let b = intern(InstrumentationScope::builder("interned-a").build());
        let c = intern(
            InstrumentationScope::builder("interned-a")
                .with_version("1.0")
                .build(),
        );
        assert!(std::ptr::eq(a, b));
        assert!(!std::ptr::eq(a, c));
        assert_eq!(c.version(), Some("1.0"));
    }
}
