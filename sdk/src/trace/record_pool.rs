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
//!
//! A recycled box also keeps its last span's origin (the tracer's scope and
//! export preparation, reference-counted): reused for a span of the same
//! tracer, as it nearly always is, it is kept without touching the count.
//! A count changed for every span, up on the application's thread and down
//! on the export thread, bounces its cache line between the two. The
//! origins kept are bounded by the pool's size, and those of a provider's
//! tracers are released when the provider is dropped
//! ([`release_origins`]).
//!
//! # Why it stays (issue 18: measured against the plain version)
//!
//! The plain version (`Box::new` per span, the record freed wherever the
//! span ends up, usually the export thread, the origin `Arc` cloned per
//! span) was measured against this pool in the same runs (glibc's
//! allocator, 2 shared cores):
//!
//! - span start+end, `span_profile tracekit <case> 5000000`, native,
//!   interleaved rounds, medians of wall ns per span (the application's
//!   thread) and of process CPU ns per exported span:
//!   `start_end` pool 160 / 289, plain 276 / 490 (+72% / +70%);
//!   `start_end_5_attrs` pool 220 / 425, plain 516 / 1268 (+135% /
//!   +198%). The pool with the origin counted per span (its release on
//!   the export thread) alone: 184 / 391 and 256 / 493 (+15%, +16% wall).
//!   The plain version also drops more spans at full speed (its export
//!   thread keeps up with 55-80% of the spans the pool's does).
//! - Under callgrind, which runs threads one at a time and so sees neither
//!   the allocator's arena lock nor cache lines moving between cores, the
//!   plain version executes fewer instructions (`--whole-queue`, 20,000
//!   spans: application thread 1,718 -> 1,621 per span with 5 attributes,
//!   1,089 -> 990 without; export thread 1,881 -> 1,063 and 844 -> 753):
//!   the pool's cost is instructions, its gain is the memory traffic
//!   between threads that instruction counts do not show.
//! - export, `otlp_export` (OTLP http/protobuf to a loopback receiver;
//!   one run per version, tracekit's row and its ratio to the official
//!   SDK's in the same run): export CPU per exported span at full speed
//!   pool 0.358 us (official/tracekit 4.16x, 2.49M spans/s exported),
//!   plain 0.610 us (2.32x, 1.48M spans/s); paced at 200,000 spans/s
//!   pool 0.575 us (2.56x), plain 0.621 us (2.24x).
//! - `http_profile tracekit`: under callgrind the server executes 5,052
//!   instructions per request with the pool, 5,061 plain (+0.2%, 20,000
//!   requests); natively (200,000 requests, 4 interleaved rounds,
//!   medians) 2,425 ns of server-thread CPU per request with the pool,
//!   3,487 plain (+44%).

use super::export_prep::ExportPrep;
use super::origin::SpanOrigin;
use super::span_record::SpanRecord;
use crossbeam_queue::ArrayQueue;
use std::cell::Cell;
use std::sync::{Arc, OnceLock};

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

/// Box `record` (given without an origin) with `origin`, reusing a
/// recycled allocation when one is available.
#[inline]
pub(crate) fn boxed(record: SpanRecord, origin: &Arc<SpanOrigin>) -> Box<SpanRecord> {
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
            let held = reused.origin.take();
            debug_assert!(owns_nothing(&reused));
            std::mem::forget(std::mem::replace(&mut *reused, record));
            // A recycled box still holds the origin of its last span: kept
            // when it is this span's too, so the count is not touched;
            // otherwise released here, on the application's thread.
            reused.origin = Some(match held {
                Some(held) if Arc::ptr_eq(&held, origin) => held,
                _ => origin.clone(),
            });
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
        None => Box::new(SpanRecord {
            origin: Some(origin.clone()),
            ..record
        }),
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

/// Release the origins that recycled boxes keep of the spans of the
/// provider whose export preparation is `prep` (called when it is
/// dropped), so its tracers' scopes are freed: the boxes in the pool and
/// this thread's spare. Another thread's spare (one box) keeps its origin
/// until that thread starts a span or exits.
pub(crate) fn release_origins(prep: &Arc<ExportPrep>) {
    let of_provider = |record: &mut SpanRecord| {
        if record
            .origin
            .as_ref()
            .is_some_and(|origin| Arc::ptr_eq(&origin.prep, prep))
        {
            record.origin = None;
        }
    };
    let _ = SPARE.try_with(|spare| {
        if let Some(mut record) = spare.take() {
            of_provider(&mut record);
            spare.set(Some(record));
        }
    });
    let pool = pool();
    // Every box once round (others may take or give boxes meanwhile: a
    // box is then looked at twice or not at all, which costs nothing).
    for _ in 0..pool.len() {
        let Some(mut record) = pool.pop() else {
            break;
        };
        of_provider(&mut record);
        if pool.push(record).is_err() {
            break;
        }
    }
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
    use std::borrow::Cow;
    use std::time::SystemTime;

    fn record(name: &'static str) -> SpanRecord {
        SpanRecord {
            origin: None,
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

    fn origin() -> Arc<SpanOrigin> {
        Arc::new(SpanOrigin {
            scope: opentelemetry::InstrumentationScope::builder("pool").build(),
            prep: ExportPrep::for_provider(Vec::new(), None),
        })
    }

    #[test]
    fn a_recycled_box_keeps_its_origin_for_the_same_tracer_only() {
        let (a, b) = (origin(), origin());
        let first = boxed(record("first"), &a);
        assert_eq!(Arc::strong_count(&a), 2);
        recycle_here(first);
        // Reused for the same origin: the one it holds serves, uncounted.
        let second = boxed(record("second"), &a);
        assert!(Arc::ptr_eq(second.origin.as_ref().unwrap(), &a));
        assert_eq!(Arc::strong_count(&a), 2);
        recycle_here(second);
        // Reused for another: the old one is released.
        let third = boxed(record("third"), &b);
        assert_eq!((Arc::strong_count(&a), Arc::strong_count(&b)), (1, 2));
        recycle_here(third);
        // Dropping b's provider releases it from the spare box.
        release_origins(&b.prep);
        assert_eq!(Arc::strong_count(&b), 1);
    }

    #[test]
    fn a_recycled_box_keeps_its_attribute_buffer_for_the_next_span() {
        use opentelemetry::KeyValue;
        let mut first = boxed(record("first"), &origin());
        first.attributes = Vec::with_capacity(8);
        let buffer = first.attributes.as_ptr();
        recycle_here(first);
        let mut second = record("second");
        second.attributes = vec![KeyValue::new("b", 2), KeyValue::new("c", 3)];
        let second = boxed(second, &origin());
        assert_eq!(second.attributes.as_ptr(), buffer);
        assert_eq!(
            second.attributes,
            vec![KeyValue::new("b", 2), KeyValue::new("c", 3)]
        );

        // A buffer too large is not kept.
        let mut big = second;
        big.attributes = Vec::with_capacity(MAX_KEPT_ATTRIBUTE_CAPACITY + 1);
        recycle_here(big);
        let third = boxed(record("third"), &origin());
        assert_eq!(third.attributes.capacity(), 0);
    }

    #[test]
    fn a_spare_box_is_reused_on_the_same_thread() {
        let first = boxed(record("first"), &origin());
        let address = &*first as *const SpanRecord;
        recycle_here(first);
        let second = boxed(record("second"), &origin());
        assert_eq!(&*second as *const SpanRecord, address);
        assert_eq!(second.name, "second");
    }
}
