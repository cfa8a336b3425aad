//! Per-span state the layer keeps in a `tracing` span's extensions.
//!
//! A span with a `tracing` parent starts at once (its parent is known and
//! cannot change). A root span (no `tracing` parent) stays *pending* until
//! first needed — entered, given a child or an event, asked for its context,
//! or closed — so that [`SpanExt::set_parent`](super::SpanExt::set_parent)
//! can still give it a remote parent; its start time is still the moment it
//! was created.

use super::fields::{AttributeSink, ContextSpanSink, SpanFieldVisitor, SpecialFields};
use crate::trace::EXCEPTION_EVENT_NAME;
use crate::{Span, Tracer};
use opentelemetry::trace::{Link, SpanContext, SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use std::borrow::Cow;
use std::time::SystemTime;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// The layer's data for one `tracing` span.
#[derive(Debug)]
pub(crate) enum SpanState {
    /// A root span not started yet.
    Pending(PendingSpan),
    /// A started span.
    Started(StartedSpan),
}

/// Marker for a span of an unsampled trace that needs no context of its
/// own: its parent's context (same trace id, flags and trace state, not
/// recording) stands for it, so it costs no allocation.
#[derive(Debug)]
pub(crate) struct SharesParentContext;

/// A root span waiting to start.
#[derive(Debug)]
pub(crate) struct PendingSpan {
    pub(crate) parent_cx: Context,
    pub(crate) name: &'static str,
    /// When the `tracing` span was created, on the span clock.
    pub(crate) start_raw: u64,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) links: Vec<Link>,
    /// Special fields seen so far; boxed, and only when there are any, to
    /// keep the state small (it is moved into and out of the extensions).
    pub(crate) special: Option<Box<SpecialFields>>,
}

impl PendingSpan {
    /// Start the span, taking what it buffered (the caller replaces the
    /// pending state with the started one).
    fn start(&mut self, tracer: &Tracer) -> StartedSpan {
        let mut special = self.special.take();
        let name = match special.as_mut().and_then(|s| s.name.take()) {
            Some(name) => Cow::Owned(name),
            None => Cow::Borrowed(self.name),
        };
        let kind = special
            .as_mut()
            .and_then(|s| s.kind.take())
            .unwrap_or(SpanKind::Internal);
        let span = tracer.start_at(
            name,
            kind,
            self.start_raw,
            std::mem::take(&mut self.attributes),
            std::mem::take(&mut self.links),
            &self.parent_cx,
        );
        StartedSpan::new(span, &self.parent_cx, special.as_deref_mut())
    }
}

/// A started span: the OpenTelemetry context holding it, made current while
/// the `tracing` span is entered.
#[derive(Debug)]
pub(crate) struct StartedSpan {
    /// The parent's context with this span in it.
    pub(crate) cx: Context,
    /// Whether the span records (cached: asking the span takes a lock).
    pub(crate) recording: bool,
    /// Span-clock start of a recording span, so that its end is timed on
    /// the same clock without reading the OS wall clock.
    clock_start: Option<(u64, SystemTime)>,
    /// An `otel.status_description` recorded before the status it describes.
    pub(crate) status_description: Option<String>,
    /// Whether the layer set an Error status, so that a description
    /// recorded after it still reaches the span.
    error_set: bool,
}

impl StartedSpan {
    /// Wrap a freshly started span, applying what the special fields asked
    /// for (status, exception events; the name was applied by the caller).
    pub(crate) fn new(
        mut span: Span,
        parent_cx: &Context,
        special: Option<&mut SpecialFields>,
    ) -> Self {
        use opentelemetry::trace::Span as _;
        let recording = span.is_recording();
        let clock_start = span.clock_start();
        let mut status_description = None;
        let mut error_set = false;
        if let (true, Some(special)) = (recording, special) {
            if let Some(name) = special.name.take() {
                span.update_name(name);
            }
            for exception in special.exceptions.drain(..) {
                span.add_event(EXCEPTION_EVENT_NAME, exception.into_attributes());
            }
            if let Some(status) = special.status(None) {
                error_set = matches!(status, Status::Error { .. });
                span.set_status(status);
            }
            status_description = special.status_description.take();
        }
        let cx = if recording {
            parent_cx.with_span(span)
        } else {
            parent_cx.with_remote_span_context(span.span_context().clone())
        };
        StartedSpan {
            cx,
            recording,
            clock_start,
            status_description,
            error_set,
        }
    }

    /// The span's context.
    #[inline]
    pub(crate) fn span_context(&self) -> SpanContext {
        self.cx.span().span_context().clone()
    }

    /// Apply a `record` call.
    pub(crate) fn record(&mut self, values: &tracing::span::Record<'_>) {
        if !self.recording {
            return;
        }
        let mut special = SpecialFields::default();
        let mut sink = ContextSpanSink(self.cx.span());
        values.record(&mut SpanFieldVisitor {
            sink: &mut sink,
            special: &mut special,
        });
        self.apply(&mut special);
    }

    fn apply(&mut self, special: &mut SpecialFields) {
        let span = self.cx.span();
        if let Some(name) = special.name.take() {
            span.update_name(name);
        }
        for exception in special.exceptions.drain(..) {
            span.add_event(EXCEPTION_EVENT_NAME, exception.into_attributes());
        }
        match special.status(self.status_description.as_deref()) {
            Some(status) => {
                self.error_set |= matches!(status, Status::Error { .. });
                span.set_status(status);
            }
            // A description arriving after the Error status it describes.
            None => match &special.status_description {
                Some(description) if self.error_set => {
                    span.set_status(Status::error(description.clone()))
                }
                _ => {}
            },
        }
        if let Some(description) = special.status_description.take() {
            self.status_description = Some(description);
        }
    }

    /// End the span (when the `tracing` span closes).
    pub(crate) fn end(self) {
        if self.recording {
            match self.clock_start {
                Some(start) => self
                    .cx
                    .span()
                    .end_with_timestamp(Tracer::clock_time_since(start)),
                None => self.cx.span().end(),
            }
        }
    }
}

impl SpanState {
    /// The started span, starting a pending one now.
    pub(crate) fn start(&mut self, tracer: &Tracer) -> &mut StartedSpan {
        if let SpanState::Pending(pending) = self {
            let started = pending.start(tracer);
            *self = SpanState::Started(started);
        }
        match self {
            SpanState::Started(started) => started,
            SpanState::Pending(_) => unreachable!("a pending span was started just above"),
        }
    }

    /// Apply a `record` call: buffered while pending, set on the span once
    /// started.
    pub(crate) fn record(&mut self, values: &tracing::span::Record<'_>) {
        match self {
            SpanState::Pending(pending) => values.record(&mut SpanFieldVisitor {
                sink: &mut pending.attributes,
                special: pending.special.get_or_insert_with(Box::default),
            }),
            SpanState::Started(started) => started.record(values),
        }
    }

    /// Add a link (from `follows_from` or [`SpanExt::add_link`](super::SpanExt::add_link)).
    pub(crate) fn add_link(&mut self, span_context: SpanContext) {
        if !span_context.is_valid() {
            return;
        }
        match self {
            SpanState::Pending(pending) => pending.links.push(Link::with_context(span_context)),
            SpanState::Started(started) if started.recording => {
                started.cx.span().add_link(span_context, Vec::new())
            }
            SpanState::Started(_) => {}
        }
    }
}

/// Visit `attrs` into `sink`, collecting special fields into `special`.
pub(crate) fn visit_fields<S: AttributeSink>(
    attrs: &tracing::span::Attributes<'_>,
    sink: &mut S,
    special: &mut SpecialFields,
) {
    attrs.record(&mut SpanFieldVisitor { sink, special });
}

/// The OpenTelemetry context standing for `span`: its own (started now if it
/// was pending) or, for spans sharing their parent's context or unknown to
/// the layer, the nearest ancestor's. `None` when no ancestor has one.
pub(crate) fn context_of<S>(span: &SpanRef<'_, S>, tracer: &Tracer) -> Option<Context>
where
    S: for<'a> LookupSpan<'a>,
{
    // The span itself first, without the registry lookups of `scope()`:
    // this is every `enter` of a started span.
    if let Some(cx) = own_context(span, tracer) {
        return cx;
    }
    let mut next = span.parent();
    while let Some(ancestor) = next {
        if let Some(cx) = own_context(&ancestor, tracer) {
            return cx;
        }
        next = ancestor.parent();
    }
    None
}

/// `Some(context)` when `span` has a state of its own (started now if it was
/// pending), `None` when the search must go on to its parent.
#[inline]
fn own_context<S>(span: &SpanRef<'_, S>, tracer: &Tracer) -> Option<Option<Context>>
where
    S: for<'a> LookupSpan<'a>,
{
    // One (write) lock: a pending span is started in place.
    let mut extensions = span.extensions_mut();
    let state = extensions.get_mut::<SpanState>()?;
    Some(Some(state.start(tracer).cx.clone()))
}
