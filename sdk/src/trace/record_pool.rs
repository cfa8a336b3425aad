//! Recycled span records.
//!
//! A recording span's record is allocated on the application's thread and
//! released on the export thread. With the system allocator, freeing on
//! another thread than the one that allocated is slow for both (the memory
//! goes back through a shared arena under a lock). Instead, the export
//! thread hands emptied boxes back through this bounded, lock-free pool and
//! new spans take them from it; when the pool is empty or full, the
//! allocator is used as usual.

use super::finished_span::SpanRecord;
use crossbeam_queue::ArrayQueue;
use std::sync::OnceLock;

/// Boxes kept for reuse at most.
const POOL_CAPACITY: usize = 4096;

static POOL: OnceLock<ArrayQueue<Box<SpanRecord>>> = OnceLock::new();

fn pool() -> &'static ArrayQueue<Box<SpanRecord>> {
    POOL.get_or_init(|| ArrayQueue::new(POOL_CAPACITY))
}

/// Box `record`, reusing a recycled allocation when one is available.
#[inline]
pub(crate) fn boxed(record: SpanRecord) -> Box<SpanRecord> {
    match pool().pop() {
        Some(mut reused) => {
            *reused = record;
            reused
        }
        None => Box::new(record),
    }
}

/// Give back a box whose contents were moved out (its vectors are empty,
/// so it owns no other allocation).
#[inline]
pub(crate) fn recycle(emptied: Box<SpanRecord>) {
    let _ = pool().push(emptied);
}
