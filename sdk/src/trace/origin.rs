//! [`SpanOrigin`]: what every span of one tracer shares.
//!
//! A tracer builds its origin once (its instrumentation scope and its
//! provider's export preparation) and each recording span's record holds a
//! counted reference to it, so a scope is freed once its tracer and the
//! records that refer to it are gone: a process that makes tracers with
//! ever new names keeps no memory for the names it no longer uses.
//!
//! The count is not changed for every span: a recycled record keeps its
//! last span's origin and is nearly always reused by the same tracer (see
//! `record_pool`). Counting every span (up on the application's thread,
//! down on the export thread) makes start and end about 15% slower in wall
//! time (`span_profile`, native, 5M spans: 160 -> 184 ns without
//! attributes, 220 -> 256 with 5), its cache line bouncing between the two
//! threads; `record_pool` has the figures.

use super::export_prep::ExportPrep;
use opentelemetry::InstrumentationScope;
use std::sync::{Arc, LazyLock};

/// The instrumentation scope of a tracer and the export preparation of
/// its provider, shared by the tracer and every span it starts.
#[derive(Debug)]
pub(crate) struct SpanOrigin {
    pub(crate) scope: InstrumentationScope,
    pub(crate) prep: Arc<ExportPrep>,
}

impl SpanOrigin {
    /// An owned copy of the scope for export. Texts given as `&'static str`
    /// (the usual tracer name) are copied as references; owned texts (a
    /// `String` name) are copied, one allocation each per exported span.
    #[inline]
    pub(crate) fn export_scope(&self) -> InstrumentationScope {
        self.scope.clone()
    }
}

/// The scope reported for a record without an origin (only a recycled
/// record whose provider was dropped has none; a span's record always has
/// one).
pub(crate) fn no_scope() -> &'static InstrumentationScope {
    static EMPTY: LazyLock<InstrumentationScope> = LazyLock::new(InstrumentationScope::default);
    &EMPTY
}
