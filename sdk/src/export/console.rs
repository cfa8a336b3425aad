//! [`ConsoleExporter`]: prints each finished trace as a waterfall, for
//! development.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::sync::Mutex;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::Key;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::resource::SERVICE_NAME;

use super::waterfall::{WaterfallRenderer, WaterfallSpan};

/// How long spans wait for their trace's local root before being printed
/// anyway.
pub const DEFAULT_ORPHAN_TIMEOUT: Duration = Duration::from_secs(30);
/// How many spans may wait for their roots at once; past that the oldest
/// traces are printed as they are.
pub const DEFAULT_MAX_BUFFERED_SPANS: usize = 4096;

/// A [`SpanExporter`] printing each trace as a waterfall once its local
/// root (the span with no parent, or a remote one) has ended: the span tree
/// indented by parent, with service, duration, a timing bar, status, key
/// attributes and events.
///
/// Spans wait in a bounded buffer until their root arrives. Spans whose
/// root does not come within the orphan timeout, or that overflow the
/// buffer, are printed as a partial trace; `force_flush` and `shutdown`
/// print everything still waiting.
///
/// ```
/// use std::io::Write;
/// use std::sync::{Arc, Mutex};
/// use opentelemetry_sdk::trace::SpanExporter;
/// use tracekit::export::console::ConsoleExporter;
/// use tracekit::testing::SpanDataBuilder;
///
/// #[derive(Clone, Default)]
/// struct Captured(Arc<Mutex<Vec<u8>>>);
/// impl Write for Captured {
///     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
///         self.0.lock().unwrap().extend_from_slice(buf);
///         Ok(buf.len())
///     }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let captured = Captured::default();
/// let exporter = ConsoleExporter::with_writer(captured.clone());
/// let root = SpanDataBuilder::new("GET /").build();
/// let child = SpanDataBuilder::new("query").child_of(&root).build();
/// futures_executor::block_on(exporter.export(vec![child])).unwrap();
/// assert!(captured.0.lock().unwrap().is_empty()); // waiting for the root
/// futures_executor::block_on(exporter.export(vec![root])).unwrap();
/// let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
/// assert!(text.contains("└─ query"));
/// ```
pub struct ConsoleExporter {
    state: Mutex<State>,
    renderer: WaterfallRenderer,
    service_name: String,
    orphan_timeout: Duration,
    max_buffered_spans: usize,
}

struct State {
    writer: Box<dyn Write + Send>,
    pending: HashMap<TraceId, PendingTrace>,
    buffered: usize,
}

struct PendingTrace {
    spans: Vec<WaterfallSpan>,
    first_seen: Instant,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("service_name", &self.service_name)
            .field("color", &self.renderer.color())
            .finish()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleExporter {
    /// Print to standard output, in colour when it is a terminal and
    /// `NO_COLOR` is not set.
    pub fn new() -> Self {
        let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self::with_writer(io::stdout()).with_color(color)
    }

    /// Print to `writer`, without colour.
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        Self {
            state: Mutex::new(State {
                writer: Box::new(writer),
                pending: HashMap::new(),
                buffered: 0,
            }),
            renderer: WaterfallRenderer::new(),
            service_name: "unknown_service".to_string(),
            orphan_timeout: DEFAULT_ORPHAN_TIMEOUT,
            max_buffered_spans: DEFAULT_MAX_BUFFERED_SPANS,
        }
    }

    /// Turn ANSI colours on or off.
    pub fn with_color(mut self, color: bool) -> Self {
        self.renderer = self.renderer.with_color(color);
        self
    }

    /// Draw with this renderer (its colour setting included).
    pub fn with_renderer(mut self, renderer: WaterfallRenderer) -> Self {
        self.renderer = renderer;
        self
    }

    /// How long spans wait for their root before being printed anyway.
    pub fn with_orphan_timeout(mut self, timeout: Duration) -> Self {
        self.orphan_timeout = timeout;
        self
    }

    /// How many spans may wait for their roots at once (at least 1).
    pub fn with_max_buffered_spans(mut self, spans: usize) -> Self {
        self.max_buffered_spans = spans.max(1);
        self
    }

    /// The service name printed on each line (from the resource).
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// Print every span still waiting for its root.
    fn flush_all(&self) -> OTelSdkResult {
        let mut state = self.state.lock();
        let mut traces: Vec<PendingTrace> = state.pending.drain().map(|(_, t)| t).collect();
        state.buffered = 0;
        traces.sort_by_key(|t| t.first_seen);
        let mut text = Vec::new();
        for trace in traces {
            self.render_partial(&trace.spans, &mut text)?;
        }
        write_out(&mut state, &text)
    }

    fn render_partial(&self, spans: &[WaterfallSpan], out: &mut Vec<u8>) -> OTelSdkResult {
        writeln!(
            out,
            "  (partial trace: its root span has not ended here; {} span{} shown)",
            spans.len(),
            if spans.len() == 1 { "" } else { "s" }
        )
        .and_then(|_| self.renderer.render_trace(spans, out))
        .map_err(io_error)
    }
}

fn io_error(e: io::Error) -> OTelSdkError {
    OTelSdkError::InternalFailure(format!("console exporter cannot write: {e}"))
}

fn write_out(state: &mut State, text: &[u8]) -> OTelSdkResult {
    if text.is_empty() {
        return Ok(());
    }
    state
        .writer
        .write_all(text)
        .and_then(|_| state.writer.flush())
        .map_err(io_error)
}

/// Take `root` and all its buffered descendants out of `spans`.
fn take_subtree(spans: &mut Vec<WaterfallSpan>, root: SpanId) -> Vec<WaterfallSpan> {
    let mut members = vec![root];
    let mut taken = Vec::new();
    let mut i = 0;
    while i < members.len() {
        let id = members[i];
        let mut j = 0;
        while j < spans.len() {
            if spans[j].span_id == id || (spans[j].parent_span_id == id && id != SpanId::INVALID) {
                let span = spans.swap_remove(j);
                if span.span_id != id {
                    members.push(span.span_id);
                }
                taken.push(span);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    taken
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let now = Instant::now();
        let mut text = Vec::new();
        let mut state = self.state.lock();
        for data in &batch {
            let is_local_root =
                data.parent_span_id == SpanId::INVALID || data.parent_span_is_remote;
            let span = WaterfallSpan::from_span_data(data, &self.service_name);
            let trace_id = span.trace_id;
            let span_id = span.span_id;
            let pending = state
                .pending
                .entry(trace_id)
                .or_insert_with(|| PendingTrace {
                    spans: Vec::new(),
                    first_seen: now,
                });
            pending.spans.push(span);
            let mut buffered_delta: isize = 1;
            if is_local_root {
                let tree = take_subtree(&mut pending.spans, span_id);
                buffered_delta -= tree.len() as isize;
                let empty = pending.spans.is_empty();
                if empty {
                    state.pending.remove(&trace_id);
                }
                self.renderer
                    .render_trace(&tree, &mut text)
                    .map_err(io_error)?;
            }
            state.buffered = state.buffered.saturating_add_signed(buffered_delta);
        }

        // Orphans: traces whose root did not come in time, then the oldest
        // traces while the buffer is over its bound.
        let mut expired: Vec<TraceId> = state
            .pending
            .iter()
            .filter(|(_, t)| now.duration_since(t.first_seen) >= self.orphan_timeout)
            .map(|(id, _)| *id)
            .collect();
        if state.buffered > self.max_buffered_spans {
            let mut by_age: Vec<(Instant, TraceId)> = state
                .pending
                .iter()
                .filter(|(id, _)| !expired.contains(id))
                .map(|(id, t)| (t.first_seen, *id))
                .collect();
            by_age.sort_by_key(|(seen, _)| *seen);
            let mut over = state.buffered - self.max_buffered_spans;
            for (_, id) in by_age {
                if over == 0 {
                    break;
                }
                let count = state.pending.get(&id).map_or(0, |t| t.spans.len());
                over = over.saturating_sub(count);
                expired.push(id);
            }
        }
        for id in expired {
            if let Some(trace) = state.pending.remove(&id) {
                state.buffered = state.buffered.saturating_sub(trace.spans.len());
                self.render_partial(&trace.spans, &mut text)?;
            }
        }
        write_out(&mut state, &text)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.flush_all()
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.flush_all()
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Some(name) = resource.get(&Key::from_static_str(SERVICE_NAME)) {
            self.service_name = name.as_str().into_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SpanDataBuilder;
    use opentelemetry::trace::{SpanKind, Status};
    use opentelemetry::KeyValue;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock()).into_owned()
        }
    }

    fn export(exporter: &ConsoleExporter, spans: Vec<SpanData>) {
        futures_executor::block_on(exporter.export(spans)).unwrap();
    }

    fn checkout_trace() -> Vec<SpanData> {
        let root = SpanDataBuilder::new("GET /checkout")
            .trace_id(TraceId::from(0xabcu128))
            .kind(SpanKind::Server)
            .duration(Duration::from_millis(120))
            .attribute(KeyValue::new("http.route", "/checkout"))
            .attribute(KeyValue::new("http.response.status_code", 502))
            .status(Status::error("payment declined"))
            .build();
        let cart = SpanDataBuilder::new("load_cart")
            .child_of(&root)
            .offset(Duration::from_millis(2))
            .duration(Duration::from_millis(12))
            .attribute(KeyValue::new("order.items.count", 3))
            .build();
        let charge = SpanDataBuilder::new("charge")
            .child_of(&root)
            .kind(SpanKind::Client)
            .offset(Duration::from_millis(20))
            .duration(Duration::from_millis(80))
            .status(Status::error("declined"))
            .event(
                "exception",
                Duration::from_millis(40),
                vec![
                    KeyValue::new("exception.type", "CardDeclined"),
                    KeyValue::new("exception.stacktrace", "at line 1"),
                ],
            )
            .build();
        vec![cart, charge, root]
    }

    #[test]
    fn prints_the_trace_when_its_root_arrives() {
        let captured = Captured::default();
        let mut exporter = ConsoleExporter::with_writer(captured.clone());
        exporter.set_resource(&Resource::builder_empty().with_service_name("shop").build());
        let mut spans = checkout_trace();
        let root = spans.pop().unwrap();
        export(&exporter, spans);
        assert_eq!(captured.text(), "");
        export(&exporter, vec![root]);
        let text = captured.text();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("▶ trace 00000000000000000000000000000abc"));
        assert!(
            lines[0].contains("3 spans · 1 service · 2 errors · 120 ms"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains(" shop  GET /checkout (server)"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains("│██████████████████████████████│"),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("ERROR: payment declined"));
        assert!(lines[1].contains("http.route=/checkout http.response.status_code=502"));
        assert!(
            lines[2].contains("├─ load_cart") && lines[2].contains("12.0 ms"),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains("order.items.count=3"));
        assert!(lines[3].contains("└─ charge (client)") && lines[3].contains("80.0 ms"));
        // The event line: marker under the bar, exception type shown, stack
        // trace hidden.
        assert!(lines[4].contains("• exception +40.0 ms"), "{}", lines[4]);
        assert!(lines[4].contains('◆'));
        assert!(lines[4].contains("exception.type=CardDeclined"));
        assert!(!text.contains("stacktrace"));
        // No escape codes without colour.
        assert!(!text.contains('\x1b'));
        insta_like_snapshot(&text);
    }

    /// Bars of the children sit inside the root's span of time: the
    /// charge bar starts after the cart bar.
    fn insta_like_snapshot(text: &str) {
        let bar_start = |line: &str| {
            line.find('│')
                .and_then(|i| line[i..].find(['█', '▐', '▕', '▏', '▎', '▍', '▌', '▋', '▊', '▉']))
        };
        let lines: Vec<&str> = text.lines().collect();
        let cart = bar_start(lines[2]);
        let charge = bar_start(lines[3]);
        assert!(cart < charge, "{text}");
    }

    #[test]
    fn colours_only_when_asked() {
        let captured = Captured::default();
        let exporter = ConsoleExporter::with_writer(captured.clone()).with_color(true);
        export(&exporter, checkout_trace());
        assert!(captured.text().contains("\x1b[1;31m"));
    }

    #[test]
    fn orphans_are_flushed_on_force_flush_and_when_the_buffer_is_full() {
        let captured = Captured::default();
        let exporter = ConsoleExporter::with_writer(captured.clone()).with_max_buffered_spans(2);
        let parent = SpanDataBuilder::new("never-ends").build();
        let a = SpanDataBuilder::new("a").child_of(&parent).build();
        export(&exporter, vec![a]);
        assert_eq!(captured.text(), "");
        exporter.force_flush().unwrap();
        assert!(captured.text().contains("partial trace"));
        assert!(captured.text().contains(" a "));

        let captured = Captured::default();
        let exporter = ConsoleExporter::with_writer(captured.clone()).with_max_buffered_spans(2);
        let orphans: Vec<SpanData> = (0..3u128)
            .map(|i| {
                SpanDataBuilder::new("orphan")
                    .trace_id(TraceId::from(100 + i))
                    .parent(SpanId::from(9u64), false)
                    .build()
            })
            .collect();
        export(&exporter, orphans);
        assert!(captured.text().contains("partial trace"));
        assert!(exporter.state.lock().buffered <= 2);
        exporter.shutdown().unwrap();
        assert_eq!(exporter.state.lock().buffered, 0);
        assert_eq!(captured.text().matches("orphan").count(), 3);
    }

    #[test]
    fn a_remote_parent_makes_a_local_root() {
        let captured = Captured::default();
        let exporter = ConsoleExporter::with_writer(captured.clone());
        let server = SpanDataBuilder::new("handle")
            .parent(SpanId::from(77u64), true)
            .build();
        export(&exporter, vec![server]);
        assert!(captured.text().contains("handle"));
        assert!(exporter.state.lock().pending.is_empty());
    }

    #[test]
    fn orphan_timeout_expires_waiting_spans() {
        let captured = Captured::default();
        let exporter =
            ConsoleExporter::with_writer(captured.clone()).with_orphan_timeout(Duration::ZERO);
        let child = SpanDataBuilder::new("late")
            .parent(SpanId::from(5u64), false)
            .build();
        export(&exporter, vec![child]);
        assert!(captured.text().contains("partial trace"));
    }
}
