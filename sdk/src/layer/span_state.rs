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
use opentelemetry::trace::{
    Link, SpanBuilder, SpanContext, SpanKind, TraceContextExt, Tracer as _,
};
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
    pub(crate) name: Cow<'static, str>,
    pub(crate) start_time: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) links: Vec<Link>,
    pub(crate) special: SpecialFields,
}

impl Default for PendingSpan {
    fn default() -> Self {
        PendingSpan {
            parent_cx: Context::new(),
            name: Cow::Borrowed(""),
            start_time: SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            links: Vec::new(),
            special: SpecialFields::default(),
        }
    }
}

impl PendingSpan {
    fn start(mut self, tracer: &Tracer) -> StartedSpan {
        let name = match self.special.name.take() {
            Some(name) => Cow::Owned(name),
            None => self.name,
        };
        let builder = SpanBuilder {
            name,
            span_kind: Some(self.special.kind.take().unwrap_or(SpanKind::Internal)),
            start_time: Some(self.start_time),
            attributes: (!self.attributes.is_empty()).then_some(self.attributes),
            links: (!self.links.is_empty()).then_some(self.links),
            ..SpanBuilder::from_name("")
        };
        let span = tracer.build_with_context(builder, &self.parent_cx);
        StartedSpan::new(span, &self.parent_cx, &mut self.special)
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
    /// An `otel.status_description` recorded before the status it describes.
    pub(crate) status_description: Option<String>,
}

impl StartedSpan {
    /// Wrap a freshly started span, applying what the special fields asked
    /// for (status, exception events; the name was applied by the caller).
    pub(crate) fn new(mut span: Span, parent_cx: &Context, special: &mut SpecialFields) -> Self {
        use opentelemetry::trace::Span as _;
        let recording = span.is_recording();
        let mut status_description = None;
        if recording {
            if let Some(name) = special.name.take() {
                span.update_name(name);
            }
            for exception in special.exceptions.drain(..) {
                span.add_event(EXCEPTION_EVENT_NAME, exception.into_attributes());
            }
            if let Some(status) = special.status(None) {
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
            status_description,
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
        if let Some(status) = special.status(self.status_description.as_deref()) {
            span.set_status(status);
        }
        if let Some(description) = special.status_description.take() {
            self.status_description = Some(description);
        }
    }

    /// End the span (when the `tracing` span closes).
    pub(crate) fn end(self) {
        if self.recording {
            self.cx.span().end();
        }
    }
}

impl SpanState {
    /// The started span, starting a pending one now.
    pub(crate) fn start(&mut self, tracer: &Tracer) -> &mut StartedSpan {
        if let SpanState::Pending(pending) = self {
            let pending = std::mem::take(pending);
            *self = SpanState::Started(pending.start(tracer));
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
                special: &mut pending.special,
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
    for ancestor in span.scope() {
        let pending = {
            let extensions = ancestor.extensions();
            match extensions.get::<SpanState>() {
                Some(SpanState::Started(started)) => return Some(started.cx.clone()),
                Some(SpanState::Pending(_)) => true,
                None => false,
            }
        };
        if pending {
            let mut extensions = ancestor.extensions_mut();
            if let Some(state) = extensions.get_mut::<SpanState>() {
                return Some(state.start(tracer).cx.clone());
            }
        }
    }
    None
}
