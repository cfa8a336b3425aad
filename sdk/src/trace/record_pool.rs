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
//! A recycled box keeps its attribute vector (up to a bound), and a new
//! span's start attributes are moved into it: the vector the caller built
//! is then freed on its own thread, and the one that crosses to the export
//! thread is never freed at all. The export thread exports copies of the
//! attributes and leaves the originals in the box when they are small
//! ([`MAX_KEPT_VALUE_BYTES`]): the next span on the application's thread
//! drops them there, so the strings it allocated (a URL path, say) go back
//! to its own allocator cache instead of crossing threads.
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

/// Attribute capacity a recycled box keeps at most: its emptied attribute
/// vector travels with it, so spans starting with (or later given) up to
/// this many attributes allocate none, and the memory the pool keeps stays
/// bounded.
const MAX_KEPT_ATTRIBUTE_CAPACITY: usize = 32;

/// Text a recycled box may carry back in its exported attributes' values,
/// at most; larger values are freed on the export thread.
pub(crate) const MAX_KEPT_VALUE_BYTES: usize = 1024;

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
            let mut kept = std::mem::take(&mut reused.attributes);
            // The previous span's attributes, sent back to be freed here.
            kept.clear();
            // Everything else a recycled record held was moved out (on the
            // export thread) or emptied (`discard`), so it owns nothing:
            // overwrite it without running its drop glue (80 instructions
            // of empty-vector checks per span). Were something left, it
            // would leak, never be freed twice.
            debug_assert!(owns_nothing(&reused));
            std::mem::forget(std::mem::replace(&mut *reused, record));
            if kept.capacity() >= reused.attributes.len() {
                // The start attributes move into the recycled buffer and
                // the caller's vector is freed here, on the thread that
                // allocated it, where the allocator serves the next one
                // from its thread cache.
                kept.append(&mut reused.attributes);
                reused.attributes = kept;
            }
            reused
        }
        None => Box::new(record),
    }
}

/// Whether an emptied record holds nothing to free but its attributes.
fn owns_nothing(record: &SpanRecord) -> bool {
    record.events.capacity() == 0
        && record.links.capacity() == 0
        && matches!(record.name, std::borrow::Cow::Borrowed(_))
        && matches!(
            record.status,
            opentelemetry::trace::Status::Unset | opentelemetry::trace::Status::Ok
        )
}

/// Keep a record's attribute buffer for the next span unless it is larger
/// than [`MAX_KEPT_ATTRIBUTE_CAPACITY`], and the attributes still in it
/// (already exported) only while their text is within
/// [`MAX_KEPT_VALUE_BYTES`].
#[inline]
fn trim(emptied: &mut SpanRecord) {
    if emptied.attributes.capacity() > MAX_KEPT_ATTRIBUTE_CAPACITY {
        emptied.attributes = Vec::new();
    } else if !emptied.attributes.is_empty()
        && value_bytes(&emptied.attributes) > MAX_KEPT_VALUE_BYTES
    {
        emptied.attributes.clear();
    }
}

/// The text the values of `attributes` hold, roughly (string values and
/// string arrays; other values count as nothing).
pub(crate) fn value_bytes(attributes: &[opentelemetry::KeyValue]) -> usize {
    use opentelemetry::{Array, Value};
    attributes
        .iter()
        .map(|kv| match &kv.value {
            Value::String(s) => s.as_str().len(),
            Value::Array(Array::String(strings)) => strings.iter().map(|s| s.as_str().len()).sum(),
            _ => 0,
        })
        .sum()
}

/// Give back a box whose contents were moved out (its vectors are empty
/// but for the exported attributes, kept when small), from the export
/// thread.
#[inline]
pub(crate) fn recycle(mut emptied: Box<SpanRecord>) {
    trim(&mut emptied);
    let _ = pool().push(emptied);
}

/// Give back an emptied box on the thread that will start the next span.
#[inline]
pub(crate) fn recycle_here(mut emptied: Box<SpanRecord>) {
    trim(&mut emptied);
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
            scope: crate::trace::scope_registry::intern(
                InstrumentationScope::builder("pool").build(),
            ),
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
    fn a_recycled_box_keeps_its_attribute_buffer_for_the_next_span() {
        use opentelemetry::KeyValue;
        let mut first = boxed(record("first"));
        first.attributes = Vec::with_capacity(8);
        let buffer = first.attributes.as_ptr();
        recycle_here(first);
        let mut second = record("second");
        second.attributes = vec![KeyValue::new("b", 2), KeyValue::new("c", 3)];
        let second = boxed(second);
        assert_eq!(second.attributes.as_ptr(), buffer);
        assert_eq!(
            second.attributes,
            vec![KeyValue::new("b", 2), KeyValue::new("c", 3)]
        );

        // A buffer too large is not kept.
        let mut big = second;
        big.attributes = Vec::with_capacity(MAX_KEPT_ATTRIBUTE_CAPACITY + 1);
        recycle_here(big);
        let third = boxed(record("third"));
        assert_eq!(third.attributes.capacity(), 0);
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
