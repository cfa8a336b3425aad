//! Making a span's OpenTelemetry `Context` current while the `tracing` span
//! is entered.
//!
//! `ContextGuard`s are tied to their thread, so they live in a thread-local
//! stack keyed by span id rather than in the span. Entering pushes one;
//! exiting drops the most recent one of that span (exits may come out of
//! order, which the OpenTelemetry context stack handles).

use opentelemetry::{Context, ContextGuard};
use std::cell::RefCell;

thread_local! {
    static ACTIVE: RefCell<Vec<(u64, ContextGuard)>> = const { RefCell::new(Vec::new()) };
}

/// Make `cx` current for span `id` on this thread.
#[inline]
pub(crate) fn enter(id: u64, cx: Context) {
    let guard = cx.attach();
    // If the thread is shutting down or the stack is busy, the guard drops
    // here and the context is detached at once: never a panic.
    let _ = ACTIVE.try_with(|active| {
        if let Ok(mut active) = active.try_borrow_mut() {
            active.push((id, guard));
        }
    });
}

/// Restore the context that was current before span `id` was entered.
#[inline]
pub(crate) fn exit(id: u64) {
    let guard = ACTIVE
        .try_with(|active| {
            let mut active = active.try_borrow_mut().ok()?;
            // Almost always the innermost entry: exits mirror enters.
            if active.last().is_some_and(|(span, _)| *span == id) {
                return active.pop().map(|(_, guard)| guard);
            }
            let pos = active.iter().rposition(|(span, _)| *span == id)?;
            Some(active.remove(pos).1)
        })
        .ok()
        .flatten();
    // Dropped outside the borrow: detaching may drop the last handle of a
    // span, which may run arbitrary code.
    drop(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Marker(u8);

    fn current_marker() -> Option<u8> {
        Context::map_current(|cx| cx.get::<Marker>().map(|m| m.0))
    }

    #[test]
    fn enter_and_exit_restore_the_previous_context_even_out_of_order() {
        enter(1, Context::new().with_value(Marker(1)));
        enter(2, Context::new().with_value(Marker(2)));
        assert_eq!(current_marker(), Some(2));
        exit(1);
        assert_eq!(current_marker(), Some(2));
        exit(2);
        assert_eq!(current_marker(), None);
        // Exiting a span never entered does nothing.
        exit(3);
        assert_eq!(current_marker(), None);
    }

    #[test]
    fn reentering_a_span_stacks() {
        enter(7, Context::new().with_value(Marker(7)));
        enter(7, Context::new().with_value(Marker(8)));
        exit(7);
        assert_eq!(current_marker(), Some(7));
        exit(7);
        assert_eq!(current_marker(), None);
    }
}
