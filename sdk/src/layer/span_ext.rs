//! [`SpanExt`]: OpenTelemetry context operations on a `tracing::Span`.
//!
//! A `tracing::Span` only knows its id and its dispatcher. The layer
//! registers a [`WithContext`] (a table of functions that know the concrete
//! subscriber type) which the span reaches through
//! [`Dispatch::downcast_ref`](tracing::Dispatch::downcast_ref).

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceId};
use opentelemetry::Context;
use std::fmt;
use tracing::span::Id;
use tracing::Dispatch;

/// Functions of the layer reachable from a span through its dispatcher.
#[derive(Clone, Copy)]
pub(crate) struct WithContext {
    pub(crate) context: fn(&Dispatch, &Id) -> Option<Context>,
    pub(crate) set_parent: fn(&Dispatch, &Id, Context) -> Result<(), SetParentError>,
    pub(crate) add_link: fn(&Dispatch, &Id, SpanContext),
}

/// Why [`SpanExt::set_parent`] did not re-parent the span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetParentError {
    /// The span has already started (it has a `tracing` parent, or it was
    /// entered, given a child or an event, or asked for its context): its
    /// parent can no longer change. Create it with `parent: None` and call
    /// `set_parent` right away.
    AlreadyStarted,
    /// The span is disabled, or its subscriber has no
    /// [`TracekitLayer`](super::TracekitLayer).
    NotTracked,
}

impl fmt::Display for SetParentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetParentError::AlreadyStarted => f.write_str("the span has already started"),
            SetParentError::NotTracked => f.write_str("the span is not tracked by a TracekitLayer"),
        }
    }
}

impl std::error::Error for SetParentError {}

/// OpenTelemetry operations on a [`tracing::Span`] recorded by a
/// [`TracekitLayer`](super::TracekitLayer).
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
/// use opentelemetry::Context;
/// use tracekit::layer::SpanExt;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let provider = tracekit::TracerProvider::builder().build();
/// let subscriber = tracing_subscriber::registry().with(tracekit::layer::layer(provider.tracer("app")));
/// tracing::subscriber::with_default(subscriber, || {
///     // A parent extracted from incoming headers.
///     let remote = SpanContext::new(
///         TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736_u128),
///         SpanId::from(0x00f067aa0ba902b7_u64),
///         TraceFlags::SAMPLED,
///         true,
///         TraceState::NONE,
///     );
///     let span = tracing::info_span!("request");
///     span.set_parent(Context::new().with_remote_span_context(remote)).unwrap();
///     assert_eq!(span.trace_id(), TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736_u128));
/// });
/// ```
pub trait SpanExt {
    /// Make the span a child of the span in `parent` (typically a remote
    /// parent extracted from request headers). Call it before the span is
    /// entered, given a child or an event, or asked for its context; a span
    /// created with a `tracing` parent starts at once and cannot be
    /// re-parented (create it with `parent: None` to re-parent it).
    fn set_parent(&self, parent: Context) -> Result<(), SetParentError>;

    /// The OpenTelemetry context with this span in it (the span starts now
    /// if it had not). An empty context when the span is not tracked.
    fn context(&self) -> Context;

    /// The span's `SpanContext`; invalid when the span is not tracked. A
    /// span of an unsampled trace may report its parent's, which stands for
    /// it.
    fn span_context(&self) -> SpanContext;

    /// The span's trace id ([`TraceId::INVALID`] when not tracked).
    fn trace_id(&self) -> TraceId {
        self.span_context().trace_id()
    }

    /// The span's id ([`SpanId::INVALID`] when not tracked).
    fn span_id(&self) -> SpanId {
        self.span_context().span_id()
    }

    /// Link the span to another (for instance a message's producer span).
    /// Invalid span contexts are ignored.
    fn add_link(&self, span_context: SpanContext);
}

impl SpanExt for tracing::Span {
    fn set_parent(&self, parent: Context) -> Result<(), SetParentError> {
        self.with_subscriber(
            |(id, dispatch)| match dispatch.downcast_ref::<WithContext>() {
                Some(with) => (with.set_parent)(dispatch, id, parent),
                None => Err(SetParentError::NotTracked),
            },
        )
        .unwrap_or(Err(SetParentError::NotTracked))
    }

    fn context(&self) -> Context {
        self.with_subscriber(|(id, dispatch)| {
            let with = dispatch.downcast_ref::<WithContext>()?;
            (with.context)(dispatch, id)
        })
        .flatten()
        .unwrap_or_default()
    }

    fn span_context(&self) -> SpanContext {
        self.context().span().span_context().clone()
    }

    fn add_link(&self, span_context: SpanContext) {
        self.with_subscriber(|(id, dispatch)| {
            if let Some(with) = dispatch.downcast_ref::<WithContext>() {
                (with.add_link)(dispatch, id, span_context);
            }
        });
    }
}
