//! [`TracekitLayer`]: the `tracing_subscriber::Layer` turning `tracing` spans
//! and events into tracekit spans and span events.

use super::active_context;
use super::fields::{parse_span_kind, EventFieldVisitor, SpecialFields, OTEL_KIND};
use super::span_ext::{SetParentError, WithContext};
use super::span_state::{
    context_of, visit_fields, PendingSpan, SharesParentContext, SpanState, StartedSpan,
};
use crate::trace::EXCEPTION_EVENT_NAME;
use crate::Tracer;
use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{CODE_FILE_PATH, CODE_LINE_NUMBER};
use std::any::TypeId;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Attribute key for the level of a span event made from a `tracing` event.
pub const EVENT_LEVEL_KEY: &str = "level";
/// Attribute key for the target of a span event made from a `tracing` event.
pub const EVENT_TARGET_KEY: &str = "target";

/// What the layer does besides making spans; see the `with_*` methods of
/// [`TracekitLayer`].
#[derive(Clone, Copy, Debug)]
struct LayerConfig {
    events: bool,
    event_level: LevelFilter,
    error_events_as_status: bool,
    location: bool,
}

/// A [`Layer`] that records `tracing` spans as tracekit spans.
///
/// Build it from a [`Tracer`] with [`TracekitLayer::new`] (or
/// [`layer`](super::layer)) and add it to any subscriber whose spans can be
/// looked up (a [`Registry`](tracing_subscriber::Registry) stack). See the
/// [module documentation](super) for what it records.
pub struct TracekitLayer<S> {
    tracer: Tracer,
    config: LayerConfig,
    with_context: WithContext,
    _subscriber: PhantomData<fn(S)>,
}

impl<S> fmt::Debug for TracekitLayer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracekitLayer")
            .field("tracer", &self.tracer)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S> TracekitLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    /// A layer starting its spans with `tracer`; events become span events
    /// at every level, ERROR events don't change the status, and no code
    /// location attributes are added.
    pub fn new(tracer: Tracer) -> Self {
        TracekitLayer {
            tracer,
            config: LayerConfig {
                events: true,
                event_level: LevelFilter::TRACE,
                error_events_as_status: false,
                location: false,
            },
            with_context: WithContext {
                context: Self::ext_context,
                set_parent: Self::ext_set_parent,
                add_link: Self::ext_add_link,
            },
            _subscriber: PhantomData,
        }
    }

    /// Whether `tracing` events inside a span become span events (default
    /// `true`).
    pub fn with_events(mut self, enabled: bool) -> Self {
        self.config.events = enabled;
        self
    }

    /// The most verbose level of events recorded as span events (default
    /// `TRACE`: all that reach the layer). `LevelFilter::OFF` records none.
    pub fn with_event_level(mut self, level: LevelFilter) -> Self {
        self.config.event_level = level;
        self
    }

    /// Whether an ERROR-level event sets its span's status to Error, with the
    /// event's message as description (default `false`: an error that was
    /// logged and handled doesn't fail the operation).
    pub fn with_error_events_as_status(mut self, enabled: bool) -> Self {
        self.config.error_events_as_status = enabled;
        self
    }

    /// Whether spans carry `code.file.path` and `code.line.number` of the
    /// place they were created (default `false`).
    pub fn with_location(mut self, enabled: bool) -> Self {
        self.config.location = enabled;
        self
    }

    /// The tracer spans are started with.
    pub fn tracer(&self) -> &Tracer {
        &self.tracer
    }

    fn add_location(
        &self,
        meta: &'static Metadata<'static>,
        sink: &mut impl super::fields::AttributeSink,
    ) {
        if !self.config.location {
            return;
        }
        if let Some(file) = meta.file() {
            sink.set_attribute(KeyValue::new(CODE_FILE_PATH, file));
        }
        if let Some(line) = meta.line() {
            sink.set_attribute(KeyValue::new(CODE_LINE_NUMBER, i64::from(line)));
        }
    }

    fn ext_context(dispatch: &Dispatch, id: &Id) -> Option<Context> {
        let layer = dispatch.downcast_ref::<TracekitLayer<S>>()?;
        let subscriber = dispatch.downcast_ref::<S>()?;
        let span = subscriber.span(id)?;
        context_of(&span, &layer.tracer)
    }

    fn ext_set_parent(dispatch: &Dispatch, id: &Id, parent: Context) -> Result<(), SetParentError> {
        let subscriber = dispatch
            .downcast_ref::<S>()
            .ok_or(SetParentError::NotTracked)?;
        let span = subscriber.span(id).ok_or(SetParentError::NotTracked)?;
        let mut extensions = span.extensions_mut();
        if extensions.get_mut::<SharesParentContext>().is_some() {
            return Err(SetParentError::AlreadyStarted);
        }
        match extensions.get_mut::<SpanState>() {
            Some(SpanState::Pending(pending)) => {
                pending.parent_cx = parent;
                Ok(())
            }
            Some(SpanState::Started(_)) => Err(SetParentError::AlreadyStarted),
            None => Err(SetParentError::NotTracked),
        }
    }

    fn ext_add_link(dispatch: &Dispatch, id: &Id, span_context: SpanContext) {
        let Some(subscriber) = dispatch.downcast_ref::<S>() else {
            return;
        };
        let Some(span) = subscriber.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(state) = extensions.get_mut::<SpanState>() {
            state.add_link(span_context);
        }
    }

    /// The span kind asked for by an `otel.kind` field, looked for only when
    /// the callsite declares one (it must be known before the span starts).
    fn kind_of(attrs: &Attributes<'_>) -> SpanKind {
        if attrs.metadata().fields().field(OTEL_KIND).is_none() {
            return SpanKind::Internal;
        }
        let mut visitor = KindVisitor(None);
        attrs.record(&mut visitor);
        visitor.0.unwrap_or(SpanKind::Internal)
    }

    /// A span with a `tracing` parent: started now.
    fn start_child(
        &self,
        attrs: &Attributes<'_>,
        parent_cx: Context,
        parent_tracked: bool,
    ) -> Option<SpanState> {
        let meta = attrs.metadata();
        let mut span = self
            .tracer
            .start_span(meta.name(), Self::kind_of(attrs), &parent_cx);
        if opentelemetry::trace::Span::is_recording(&span) {
            let mut special = SpecialFields::default();
            visit_fields(attrs, &mut span, &mut special);
            self.add_location(meta, &mut span);
            return Some(SpanState::Started(StartedSpan::new(
                span,
                &parent_cx,
                Some(&mut special),
            )));
        }
        if parent_tracked && shares_parent_context(&span, &parent_cx) {
            // Nothing to record and nothing new to propagate: the parent's
            // context stands for this span.
            return None;
        }
        Some(SpanState::Started(StartedSpan::new(span, &parent_cx, None)))
    }

    /// A root span: pending until first needed, so it can still be given a
    /// remote parent.
    fn pending_root(&self, attrs: &Attributes<'_>, parent_cx: Context) -> SpanState {
        let meta = attrs.metadata();
        let mut pending = PendingSpan {
            parent_cx,
            name: meta.name(),
            start_raw: Tracer::clock_now(),
            attributes: Vec::new(),
            links: Vec::new(),
            special: None,
        };
        if !meta.fields().is_empty() {
            let location = if self.config.location { 2 } else { 0 };
            pending
                .attributes
                .reserve_exact(meta.fields().len() + location);
            let mut special = SpecialFields::default();
            visit_fields(attrs, &mut pending.attributes, &mut special);
            if !special.is_empty() {
                pending.special = Some(Box::new(special));
            }
        }
        self.add_location(meta, &mut pending.attributes);
        SpanState::Pending(pending)
    }

    /// The context an event belongs to: its explicit parent's, or the
    /// current one (the innermost entered span, `tracing` or OpenTelemetry).
    fn event_context(&self, event: &Event<'_>, ctx: &LayerContext<'_, S>) -> Option<Context> {
        if let Some(parent) = event.parent() {
            let span = ctx.span(parent)?;
            let mut extensions = span.extensions_mut();
            match extensions.get_mut::<SpanState>()? {
                state @ SpanState::Pending(_) => Some(state.start(&self.tracer).cx.clone()),
                SpanState::Started(started) if started.recording => Some(started.cx.clone()),
                SpanState::Started(_) => None,
            }
        } else if event.is_contextual() {
            Some(Context::current())
        } else {
            None
        }
    }
}

/// The current OpenTelemetry context when it holds a span other than the
/// one in `parent_cx` (one started with the OpenTelemetry API while the
/// `tracing` parent was entered).
fn inner_otel_context(parent_cx: &Context) -> Option<Context> {
    Context::map_current(|current| {
        let current_span = current.span();
        let current_sc = current_span.span_context();
        let parent_span = parent_cx.span();
        (current_sc.is_valid() && current_sc.span_id() != parent_span.span_context().span_id())
            .then(|| current.clone())
    })
}

/// Whether a non-recording `span` would propagate exactly what its parent's
/// context does already (same trace, flags and trace state, parent not
/// sampled), so that it needs no context of its own.
fn shares_parent_context(span: &crate::Span, parent_cx: &Context) -> bool {
    use opentelemetry::trace::Span as _;
    let own = span.span_context();
    let parent_span = parent_cx.span();
    let parent = parent_span.span_context();
    parent.is_valid()
        && !parent.is_sampled()
        && !parent.is_remote()
        && own.trace_id() == parent.trace_id()
        && own.trace_flags() == parent.trace_flags()
        && own.trace_state() == parent.trace_state()
}

/// Finds the `otel.kind` field.
struct KindVisitor(Option<SpanKind>);

impl Visit for KindVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == OTEL_KIND {
            self.0 = parse_span_kind(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == OTEL_KIND {
            self.0 = parse_span_kind(&format!("{value:?}"));
        }
    }
}

impl<S> Layer<S> for TracekitLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        // The registry resolved the parent (explicit, or the current span for
        // a contextual one) when it created the span: no second look at the
        // span stack.
        let state = match span.parent() {
            None => {
                // One look at the current context for both questions. The
                // SDK's own work (exports) runs with telemetry suppressed: it
                // must never produce spans, or exporting would feed itself.
                let parent_cx = Context::map_current(|current| {
                    if current.is_telemetry_suppressed() {
                        None
                    } else if attrs.is_root() {
                        Some(Context::new())
                    } else {
                        Some(current.clone())
                    }
                });
                let Some(parent_cx) = parent_cx else {
                    return;
                };
                Some(self.pending_root(attrs, parent_cx))
            }
            Some(_) if Context::is_current_telemetry_suppressed() => return,
            Some(parent) => match context_of(&parent, &self.tracer) {
                // An OpenTelemetry API span started inside the contextual
                // parent is current: it is the innermost span, the parent.
                Some(parent_cx) if attrs.parent().is_none() => match inner_otel_context(&parent_cx)
                {
                    Some(otel_cx) => self.start_child(attrs, otel_cx, false),
                    None => self.start_child(attrs, parent_cx, true),
                },
                Some(parent_cx) => self.start_child(attrs, parent_cx, true),
                // A parent the layer never saw (filtered out): the current
                // OpenTelemetry context is the best parent left.
                None => self.start_child(attrs, Context::current(), false),
            },
        };
        let mut extensions = span.extensions_mut();
        match state {
            Some(state) => extensions.insert(state),
            None => extensions.insert(SharesParentContext),
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(state) = extensions.get_mut::<SpanState>() {
            state.record(values);
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: LayerContext<'_, S>) {
        let (Some(span), Some(follows)) = (ctx.span(id), ctx.span(follows)) else {
            return;
        };
        let Some(follows_cx) = context_of(&follows, &self.tracer) else {
            return;
        };
        let span_context = follows_cx.span().span_context().clone();
        let mut extensions = span.extensions_mut();
        if let Some(state) = extensions.get_mut::<SpanState>() {
            state.add_link(span_context);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let meta = event.metadata();
        let as_event = self.config.events && self.config.event_level >= *meta.level();
        let as_status = self.config.error_events_as_status && *meta.level() == Level::ERROR;
        if !(as_event || as_status) || Context::is_current_telemetry_suppressed() {
            return;
        }
        let Some(cx) = self.event_context(event, &ctx) else {
            return;
        };
        let span = cx.span();
        if !span.is_recording() {
            return;
        }
        let mut visitor = EventFieldVisitor::default();
        event.record(&mut visitor);
        if as_status {
            let description = visitor
                .message
                .clone()
                .or_else(|| visitor.exception.as_ref().map(|e| e.message.clone()))
                .unwrap_or_default();
            span.set_status(Status::error(description));
        }
        if !as_event {
            return;
        }
        let name: Cow<'static, str> = match (visitor.message, &visitor.exception) {
            (Some(message), _) => Cow::Owned(message),
            (None, Some(_)) => Cow::Borrowed(EXCEPTION_EVENT_NAME),
            (None, None) => Cow::Borrowed(meta.name()),
        };
        let mut attributes = Vec::with_capacity(visitor.attributes.len() + 4);
        attributes.push(KeyValue::new(EVENT_LEVEL_KEY, meta.level().as_str()));
        attributes.push(KeyValue::new(EVENT_TARGET_KEY, meta.target()));
        attributes.append(&mut visitor.attributes);
        if let Some(exception) = visitor.exception {
            attributes.extend(exception.into_attributes());
        }
        span.add_event(name, attributes);
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        if let Some(cx) = context_of(&span, &self.tracer) {
            active_context::enter(id.into_u64(), cx);
        }
    }

    fn on_exit(&self, id: &Id, _ctx: LayerContext<'_, S>) {
        active_context::exit(id.into_u64());
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let state = span.extensions_mut().remove::<SpanState>();
        match state {
            Some(mut state @ SpanState::Pending(_)) => {
                state.start(&self.tracer);
                if let SpanState::Started(started) = state {
                    started.end();
                }
            }
            Some(SpanState::Started(started)) => started.end(),
            None => {}
        }
    }

    /// # Safety
    ///
    /// Returns pointers to `self` or to its [`WithContext`] only for the
    /// matching `TypeId`, as the `downcast_raw` contract requires.
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else if id == TypeId::of::<WithContext>() {
            Some(&self.with_context as *const WithContext as *const ())
        } else {
            None
        }
    }
}
