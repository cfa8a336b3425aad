//! [`SharedPropagator`] and [`global`]: a propagator installed as
//! `opentelemetry::global`'s that integrations can use directly, without
//! the global slot's lock and dynamic dispatch, for as long as it is the
//! global one.

use crate::{BaggagePropagator, CompositePropagator, TraceContextPropagator};
use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::Context;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// What a propagator does when it is one of the W3C propagators: a
/// carrier that knows the header names can then read and write them
/// directly, with the same result as the propagator's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum W3cPropagation {
    /// W3C Trace Context alone ([`TraceContextPropagator`]).
    TraceContext,
    /// W3C Trace Context, then W3C Baggage: the OpenTelemetry default
    /// (`OTEL_PROPAGATORS` unset, or `tracecontext,baggage`).
    TraceContextAndBaggage,
}

impl W3cPropagation {
    /// What `propagator` is: a [`TraceContextPropagator`], or a
    /// [`CompositePropagator`] whose [`CompositePropagator::w3c`] says;
    /// `None` for anything else.
    ///
    /// ```
    /// use tracekit_propagators::{BaggagePropagator, CompositePropagator, TraceContextPropagator, W3cPropagation};
    ///
    /// assert_eq!(W3cPropagation::of(&TraceContextPropagator::new()), Some(W3cPropagation::TraceContext));
    /// assert_eq!(W3cPropagation::of(&CompositePropagator::default()), Some(W3cPropagation::TraceContextAndBaggage));
    /// assert_eq!(W3cPropagation::of(&BaggagePropagator::new()), None);
    /// ```
    pub fn of<P: TextMapPropagator + 'static>(propagator: &P) -> Option<W3cPropagation> {
        let any = propagator as &dyn Any;
        if any.is::<TraceContextPropagator>() {
            Some(W3cPropagation::TraceContext)
        } else if let Some(composite) = any.downcast_ref::<CompositePropagator>() {
            composite.w3c()
        } else if let Some(shared) = any.downcast_ref::<SharedPropagator>() {
            shared.w3c
        } else {
            None
        }
    }

    /// Whether W3C Baggage is read and written too.
    pub fn has_baggage(self) -> bool {
        self == W3cPropagation::TraceContextAndBaggage
    }

    /// Writes `cx` into `injector` as the propagator would.
    pub fn inject_context(self, cx: &Context, injector: &mut dyn Injector) {
        TraceContextPropagator::new().inject_context(cx, injector);
        if self.has_baggage() {
            BaggagePropagator::new().inject_context(cx, injector);
        }
    }
}

/// A propagator behind an `Arc`, cheap to clone, which remembers what it
/// is ([`W3cPropagation`]) when it is one of the W3C propagators.
#[derive(Clone)]
pub struct SharedPropagator {
    propagator: Arc<dyn TextMapPropagator + Send + Sync>,
    w3c: Option<W3cPropagation>,
}

impl SharedPropagator {
    /// Shares `propagator`.
    pub fn new<P: TextMapPropagator + Send + Sync + 'static>(propagator: P) -> Self {
        SharedPropagator {
            w3c: W3cPropagation::of(&propagator),
            propagator: Arc::new(propagator),
        }
    }

    /// What it does, when it is one of the W3C propagators.
    pub fn w3c(&self) -> Option<W3cPropagation> {
        self.w3c
    }
}

impl fmt::Debug for SharedPropagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedPropagator")
            .field("w3c", &self.w3c)
            .finish_non_exhaustive()
    }
}

impl TextMapPropagator for SharedPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        self.propagator.inject_context(cx, injector)
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        self.propagator.extract_with_context(cx, extractor)
    }

    fn fields(&self) -> FieldIter<'_> {
        self.propagator.fields()
    }
}

/// The global propagator through [`SharedPropagator`]: installed with
/// [`global::set_text_map_propagator`], it is `opentelemetry::global`'s
/// propagator like any other, and [`global::installed`] hands it out
/// without taking the global slot's lock, until something else is
/// installed in that slot.
///
/// ```
/// use tracekit_propagators::{global, SharedPropagator, TraceContextPropagator, W3cPropagation};
///
/// global::set_text_map_propagator(SharedPropagator::new(TraceContextPropagator::new()));
/// let installed = global::installed().expect("the global propagator");
/// assert_eq!(installed.w3c(), Some(W3cPropagation::TraceContext));
///
/// // A propagator set through the OpenTelemetry API replaces it: the
/// // global one wins.
/// opentelemetry::global::set_text_map_propagator(tracekit_propagators::B3Propagator::new());
/// assert!(global::installed().is_none());
/// ```
pub mod global {
    use super::SharedPropagator;
    use opentelemetry::propagation::{
        text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
    };
    use opentelemetry::Context;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    /// A propagator installed in the global slot, and whether it still is.
    #[derive(Debug)]
    struct Installed {
        propagator: SharedPropagator,
        in_global_slot: AtomicBool,
    }

    /// The first propagator installed by [`set_text_map_propagator`]
    /// (a process installs one; later ones are installed without the
    /// direct path).
    static FIRST: OnceLock<Installed> = OnceLock::new();

    /// What the global slot holds: replacing it there drops it, and that
    /// is how [`installed`] learns it no longer is the global propagator.
    #[derive(Debug)]
    struct GlobalSlot(&'static Installed);

    impl Drop for GlobalSlot {
        fn drop(&mut self) {
            self.0.in_global_slot.store(false, Ordering::Release);
        }
    }

    impl TextMapPropagator for GlobalSlot {
        fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
            self.0.propagator.inject_context(cx, injector)
        }

        fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
            self.0.propagator.extract_with_context(cx, extractor)
        }

        fn fields(&self) -> FieldIter<'_> {
            self.0.propagator.fields()
        }
    }

    /// Makes `propagator` `opentelemetry::global`'s text-map propagator.
    /// The first propagator installed this way is then also handed out by
    /// [`installed`] for as long as the global slot holds it.
    pub fn set_text_map_propagator(propagator: SharedPropagator) {
        let mut fresh = Some(propagator);
        let first = FIRST.get_or_init(|| Installed {
            propagator: fresh.take().expect("taken once"),
            // True before it is in the slot: were it replaced at once,
            // the drop would find the flag to clear.
            in_global_slot: AtomicBool::new(true),
        });
        match fresh {
            // A later one: the first, if still in the slot, is dropped
            // from it here.
            Some(later) => opentelemetry::global::set_text_map_propagator(later),
            None => opentelemetry::global::set_text_map_propagator(GlobalSlot(first)),
        }
    }

    /// The global propagator, when it is the one
    /// [`set_text_map_propagator`] installed first and nothing has
    /// replaced it; `None` otherwise (then use
    /// `opentelemetry::global::get_text_map_propagator`).
    #[inline]
    pub fn installed() -> Option<&'static SharedPropagator> {
        let first = FIRST.get()?;
        first
            .in_global_slot
            .load(Ordering::Acquire)
            .then_some(&first.propagator)
    }
}
