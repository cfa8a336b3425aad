//! Recycled span records.
//!
//! A recording span's record is allocated on the application's thread and
//! released on the export thread. With the system allocator, freeing on
//! another thread than the one that allocated is slow for both (the memory
//! goes back through a shared arena under a lock). Instead, the export
//! thread hands emptied boxes back through a bounded, lock-free pool and
//! new spans take them from it; when the pool is empty or full, the
//! allocator is used as usual.
//!
//! A span dropped on the application's thread (its processor's queue was
//! full) leaves its box in a one-slot, per-thread spare, taken first by the
//! next span on that thread without touching any shared memory.

use super::finished_span::SpanRecord;
use crossbeam_queue::ArrayQueue;
use std::cell::Cell;
use std::sync::OnceLock;

/// Boxes kept for reuse at most.
const POOL_CAPACITY: usize = 4096;

static POOL: OnceLock<ArrayQueue<Box<SpanRecord>>> = OnceLock::new();

thread_local! {
    static SPARE: Cell<Option<Box<SpanRecord>>> = const { Cell::new(None) };
}

fn pool() -> &'static ArrayQueue<Box<SpanRecord>> {
    POOL.get_or_init(|| ArrayQueue::new(POOL_CAPACITY))
}

/// Box `record`, reusing a recycled allocation when one is available.
#[inline]
pub(crate) fn boxed(record: SpanRecord) -> Box<SpanRecord> {
    let reused = SPARE
        .try_with(Cell::take)
        .ok()
        .flatten()
        .or_else(|| pool().pop());
    match reused {
        Some(mut reused) => {
            *reused = record;
            reused
        }
        None => Box::new(record),
    }
}

/// Give back a box whose contents were moved out (its vectors are empty,
/// so it owns no other allocation), from the export thread.
#[inline]
pub(crate) fn recycle(emptied: Box<SpanRecord>) {
    let _ = pool().push(emptied);
}

/// Give back an emptied box on the thread that will start the next span.
#[inline]
pub(crate) fn recycle_here(emptied: Box<SpanRecord>) {
    let displaced = match SPARE.try_with(|spare| spare.replace(Some(emptied))) {
        Ok(previous) => previous,
        Err(_) => return, // thread shutting down: the box is freed
    };
    if let Some(previous) = displaced {
        recycle(previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, SpanKind, Status};
    use opentelemetry::InstrumentationScope;
    use std::borrow::Cow;
    use std::time::SystemTime;

    fn record(name: &'static str) -> SpanRecord {
        SpanRecord {
            scope: crate::trace::scope_registry::intern(InstrumentationScope::builder("pool").build()),
            prep: crate::trace::export_prep::ExportPrep::for_provider(Vec::new(), None),
            parent_span_id: SpanId::INVALID,
            parent_is_remote: false,
            name: Cow::Borrowed(name),
            kind: SpanKind::Internal,
            start_time: SystemTime::UNIX_EPOCH,
            start_raw: None,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes: 0,
            events: Vec::new(),
            dropped_events: 0,
            links: Vec::new(),
            dropped_links: 0,
            status: Status::Unset,
        }
    }

    #[test]
    fn a_spare_box_is_reused_on_the_same_thread() {
        let first = boxed(record("first"));
        let address = &*first as *const SpanRecord;
        recycle_here(first);
        let second = boxed(record("second"));
        assert_eq!(&*second as *const SpanRecord, address);
        assert_eq!(second.name, "second");
    }
}
