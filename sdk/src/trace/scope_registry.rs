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

/// An owned copy of an interned scope for export, built without
/// allocating: its name, version and schema URL borrow the interned
/// texts (they live for the whole process). Cloning would copy owned
/// texts and run the attribute vector's general clone for every span.
#[inline]
pub(crate) fn export_copy(scope: &'static InstrumentationScope) -> InstrumentationScope {
    let mut builder = InstrumentationScope::builder(scope.name());
    if let Some(version) = scope.version() {
        builder = builder.with_version(version);
    }
    if let Some(schema_url) = scope.schema_url() {
        builder = builder.with_schema_url(schema_url);
    }
    if scope.attributes().next().is_some() {
        builder = builder.with_attributes(scope.attributes().cloned());
    }
    builder.build()
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

    #[test]
    fn export_copies_equal_the_scope_and_borrow_its_texts() {
        let owned = intern(
            InstrumentationScope::builder(String::from("export-copy"))
                .with_version(String::from("2.1"))
                .with_schema_url(String::from("https://opentelemetry.io/schemas/1.30.0"))
                .with_attributes([opentelemetry::KeyValue::new("scope.kind", "test")])
                .build(),
        );
        let copy = export_copy(owned);
        assert_eq!(&copy, owned);
        assert_eq!(copy.attributes().count(), 1);
        assert!(std::ptr::eq(copy.name().as_ptr(), owned.name().as_ptr()));
        assert!(std::ptr::eq(
            copy.version().map(str::as_ptr).unwrap_or(std::ptr::null()),
            owned.version().map(str::as_ptr).unwrap_or(std::ptr::null()),
        ));

        let bare = intern(InstrumentationScope::builder("export-copy-bare").build());
        assert_eq!(&export_copy(bare), bare);
    }
}
