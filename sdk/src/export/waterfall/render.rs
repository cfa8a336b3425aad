//! [`WaterfallRenderer`]: draws traces as indented span trees with timing
//! bars.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanKind, Status, TraceId};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute as semconv;

use super::model::WaterfallSpan;
use super::style::{Painter, Style};
use super::text;
use super::tree;

/// Attributes shown first when a span has them, in this order.
const KEY_ATTRIBUTES: [&str; 10] = [
    semconv::HTTP_ROUTE,
    semconv::HTTP_RESPONSE_STATUS_CODE,
    semconv::ERROR_TYPE,
    semconv::RPC_METHOD,
    semconv::RPC_RESPONSE_STATUS_CODE,
    semconv::DB_SYSTEM_NAME,
    semconv::DB_OPERATION_NAME,
    semconv::MESSAGING_DESTINATION_NAME,
    semconv::SERVER_ADDRESS,
    semconv::URL_FULL,
];

/// Event attributes shown first (the stack trace is never shown: it does
/// not fit on a line).
const KEY_EVENT_ATTRIBUTES: [&str; 2] = [semconv::EXCEPTION_TYPE, semconv::EXCEPTION_MESSAGE];
const HIDDEN_ATTRIBUTES: [&str; 1] = [semconv::EXCEPTION_STACKTRACE];

const MAX_SERVICE_WIDTH: usize = 20;
const MAX_VALUE_WIDTH: usize = 48;
const MAX_STATUS_WIDTH: usize = 40;

/// Draws traces as waterfalls:
///
/// ```text
/// ▶ trace 4bf92f3577b34da6a3ce929d0e0e4736 · 3 spans · 2 services · 1 error · 120 ms
///  checkout  GET /checkout (server)   120 ms │████████████████████│ ERROR: declined  http.route=/checkout
///  checkout  ├─ load_cart            12.0 ms │██▏                 │
///  payment   └─ charge (client)      80.0 ms │    ██████████████  │ ERROR: declined
///               • exception +40.0 ms         │          ◆         │ exception.type=Declined
/// ```
///
/// Each line shows the service, the span name indented under its parent,
/// its duration, a bar placing its start and length within the trace, its
/// status and a few key attributes; events follow as sub-lines.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
/// use tracekit::export::waterfall::{WaterfallRenderer, WaterfallSpan};
///
/// let root = WaterfallSpan {
///     trace_id: TraceId::from(7u128),
///     span_id: SpanId::from(1u64),
///     parent_span_id: SpanId::INVALID,
///     service_name: "shop".into(),
///     name: "GET /".into(),
///     kind: SpanKind::Server,
///     start: UNIX_EPOCH,
///     end: UNIX_EPOCH + Duration::from_millis(20),
///     status: Status::Ok,
///     attributes: vec![],
///     events: vec![],
/// };
/// let text = WaterfallRenderer::new().render_to_string(&[root]);
/// assert!(text.contains("GET /"));
/// assert!(text.contains("20.0 ms"));
/// ```
#[derive(Clone, Debug)]
pub struct WaterfallRenderer {
    color: bool,
    bar_width: usize,
    max_attributes: usize,
    max_name_width: usize,
    show_events: bool,
}

impl Default for WaterfallRenderer {
    fn default() -> Self {
        Self {
            color: false,
            bar_width: 30,
            max_attributes: 4,
            max_name_width: 44,
            show_events: true,
        }
    }
}

impl WaterfallRenderer {
    /// Plain text, 30-cell bars, up to 4 attributes a line, events shown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Use ANSI colours (for terminals).
    pub fn with_color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }

    /// Bar width in terminal cells (at least 4).
    pub fn with_bar_width(mut self, cells: usize) -> Self {
        self.bar_width = cells.max(4);
        self
    }

    /// How many attributes to show per line.
    pub fn with_max_attributes(mut self, count: usize) -> Self {
        self.max_attributes = count;
        self
    }

    /// Widest span-name column (tree drawing included) before names are
    /// cut with `…` (at least 12).
    pub fn with_max_name_width(mut self, cols: usize) -> Self {
        self.max_name_width = cols.max(12);
        self
    }

    /// Show span events as sub-lines.
    pub fn with_events(mut self, show: bool) -> Self {
        self.show_events = show;
        self
    }

    /// Whether colours are on.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Render spans of any number of traces: each trace in turn, in order
    /// of its earliest span.
    pub fn render(&self, spans: &[WaterfallSpan], out: &mut dyn Write) -> io::Result<()> {
        let mut groups: HashMap<TraceId, Vec<WaterfallSpan>> = HashMap::new();
        for span in spans {
            groups.entry(span.trace_id).or_default().push(span.clone());
        }
        let mut traces: Vec<Vec<WaterfallSpan>> = groups.into_values().collect();
        traces.sort_by_key(|t| t.iter().map(|s| s.start).min());
        for trace in &traces {
            self.render_trace(trace, out)?;
        }
        Ok(())
    }

    /// [`render`](Self::render) into a `String`.
    pub fn render_to_string(&self, spans: &[WaterfallSpan]) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.render(spans, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Render the spans of one trace (all spans are drawn as one tree, even
    /// if their trace ids differ), followed by a blank line.
    pub fn render_trace(&self, spans: &[WaterfallSpan], out: &mut dyn Write) -> io::Result<()> {
        let Some(first) = spans.first() else {
            return Ok(());
        };
        let painter = Painter { color: self.color };
        let t0 = spans.iter().map(|s| s.start).min().unwrap_or(first.start);
        let t1 = spans
            .iter()
            .flat_map(|s| {
                std::iter::once(s.end)
                    .chain(std::iter::once(s.start))
                    .chain(s.events.iter().map(|e| e.time))
            })
            .max()
            .unwrap_or(first.end);
        let total = since(t1, t0);
        let total_nanos = (total.as_nanos() as f64).max(1.0);
        let fraction = |t: SystemTime| since(t, t0).as_nanos() as f64 / total_nanos;

        let rows = tree::rows(spans);
        let lines: Vec<SpanLine> = rows
            .iter()
            .map(|row| self.span_line(&spans[row.index], row))
            .collect();

        let service_w = lines
            .iter()
            .map(|l| text::width(&l.service))
            .max()
            .unwrap_or(0);
        let name_w = lines
            .iter()
            .flat_map(|l| {
                std::iter::once(text::width(&l.label)).chain(l.events.iter().map(|e| e.width))
            })
            .max()
            .unwrap_or(0);
        let duration_w = lines
            .iter()
            .map(|l| text::width(&l.duration))
            .max()
            .unwrap_or(0);
        let status_w = lines
            .iter()
            .map(|l| text::width(&l.status))
            .max()
            .unwrap_or(0);

        // Header.
        let services: BTreeSet<&str> = spans.iter().map(|s| s.service_name.as_str()).collect();
        let errors = spans
            .iter()
            .filter(|s| matches!(s.status, Status::Error { .. }))
            .count();
        let mut header = String::new();
        painter.push(
            &mut header,
            Style::Bold,
            &format!("▶ trace {}", first.trace_id),
        );
        let mut facts = vec![
            plural(spans.len(), "span", "spans"),
            plural(services.len(), "service", "services"),
        ];
        if errors > 0 {
            facts.push(plural(errors, "error", "errors"));
        }
        facts.push(text::duration(total));
        for fact in facts {
            painter.push(&mut header, Style::Dim, " · ");
            let style = if fact.contains("error") {
                Style::Error
            } else {
                Style::Bold
            };
            painter.push(&mut header, style, &fact);
        }
        writeln!(out, "{header}")?;

        for (row, line) in rows.iter().zip(&lines) {
            let span = &spans[row.index];
            let is_error = matches!(span.status, Status::Error { .. });
            let mut s = String::from(" ");
            painter.push(
                &mut s,
                Style::service(&span.service_name),
                &text::pad(&line.service, service_w),
            );
            s.push_str("  ");
            painter.push(&mut s, Style::Dim, &row.prefix);
            let name_style = if row.prefix.is_empty() {
                Some(Style::Bold)
            } else if is_error {
                Some(Style::Error)
            } else {
                None
            };
            match name_style {
                Some(style) => painter.push(&mut s, style, &line.name),
                None => s.push_str(&line.name),
            }
            painter.push(&mut s, Style::Dim, &line.kind);
            s.push_str(&" ".repeat(name_w.saturating_sub(text::width(&line.label)) + 2));
            s.push_str(&" ".repeat(duration_w.saturating_sub(text::width(&line.duration))));
            s.push_str(&line.duration);
            s.push(' ');
            let track = if self.color { '·' } else { ' ' };
            let bar = text::bar(
                fraction(span.start),
                fraction(span.end),
                self.bar_width,
                track,
            );
            painter.push(&mut s, Style::Dim, "│");
            self.push_bar(&mut s, &painter, &bar, is_error);
            painter.push(&mut s, Style::Dim, "│");
            s.push(' ');
            let status_style = if is_error { Style::Error } else { Style::Ok };
            painter.push(&mut s, status_style, &line.status);
            if !line.attributes.is_empty() {
                s.push_str(&" ".repeat(status_w.saturating_sub(text::width(&line.status)) + 2));
                painter.push(&mut s, Style::Dim, &line.attributes);
            }
            writeln!(out, "{}", s.trim_end())?;

            for event in &line.events {
                let mut s = String::from(" ");
                s.push_str(&" ".repeat(service_w + 2));
                painter.push(&mut s, Style::Dim, &row.continuation);
                let event_style = if event.is_exception {
                    Style::Error
                } else {
                    Style::Event
                };
                painter.push(&mut s, event_style, &event.name);
                painter.push(&mut s, Style::Dim, &event.offset);
                s.push_str(&" ".repeat(name_w.saturating_sub(event.width) + 3 + duration_w));
                painter.push(&mut s, Style::Dim, "│");
                let marker = text::marker(fraction(event.time), self.bar_width, '◆', track);
                let (before, after) = marker.split_once('◆').unwrap_or((&marker, ""));
                painter.push(&mut s, Style::Dim, before);
                painter.push(&mut s, event_style, "◆");
                painter.push(&mut s, Style::Dim, after);
                painter.push(&mut s, Style::Dim, "│");
                if !event.attributes.is_empty() {
                    s.push_str(&" ".repeat(status_w + 3));
                    painter.push(&mut s, Style::Dim, &event.attributes);
                }
                writeln!(out, "{}", s.trim_end())?;
            }
        }
        writeln!(out)
    }

    fn push_bar(&self, line: &mut String, painter: &Painter, bar: &str, is_error: bool) {
        let style = if is_error {
            Style::ErrorBar
        } else {
            Style::Bar
        };
        // Track cells dim, span cells coloured.
        let mut run = String::new();
        let mut run_is_track = None;
        for c in bar.chars() {
            let is_track = c == '·' || c == ' ';
            if run_is_track.is_some_and(|t| t != is_track) {
                painter.push(
                    line,
                    if run_is_track == Some(true) {
                        Style::Dim
                    } else {
                        style
                    },
                    &run,
                );
                run.clear();
            }
            run_is_track = Some(is_track);
            run.push(c);
        }
        if !run.is_empty() {
            painter.push(
                line,
                if run_is_track == Some(true) {
                    Style::Dim
                } else {
                    style
                },
                &run,
            );
        }
    }

    fn span_line(&self, span: &WaterfallSpan, row: &tree::Row) -> SpanLine {
        let kind = match span.kind {
            SpanKind::Server => " (server)",
            SpanKind::Client => " (client)",
            SpanKind::Producer => " (producer)",
            SpanKind::Consumer => " (consumer)",
            SpanKind::Internal => "",
        };
        let prefix_w = text::width(&row.prefix);
        let room = self
            .max_name_width
            .saturating_sub(prefix_w + text::width(kind))
            .max(6);
        let name = text::truncate(&span.name, room);
        let label = format!("{}{}{}", row.prefix, name, kind);
        let status = match &span.status {
            Status::Unset => String::new(),
            Status::Ok => "OK".to_string(),
            Status::Error { description } if description.is_empty() => "ERROR".to_string(),
            Status::Error { description } => {
                text::truncate(&format!("ERROR: {description}"), MAX_STATUS_WIDTH)
            }
        };
        let events = if self.show_events {
            span.events
                .iter()
                .map(|event| {
                    let offset = text::duration(since(event.time, span.start));
                    let room = self
                        .max_name_width
                        .saturating_sub(text::width(&row.continuation) + 4 + text::width(&offset))
                        .max(6);
                    let name = format!("• {}", text::truncate(&event.name, room));
                    let offset = format!(" +{offset}");
                    EventLine {
                        width: text::width(&row.continuation)
                            + text::width(&name)
                            + text::width(&offset),
                        name,
                        offset,
                        is_exception: event.name == crate::trace::EXCEPTION_EVENT_NAME,
                        time: event.time,
                        attributes: self.attributes(&event.attributes, &KEY_EVENT_ATTRIBUTES),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        SpanLine {
            service: text::truncate(&span.service_name, MAX_SERVICE_WIDTH),
            label,
            name,
            kind: kind.to_string(),
            duration: text::duration(span.duration()),
            status,
            attributes: self.attributes(&span.attributes, &KEY_ATTRIBUTES),
            events,
        }
    }

    /// Up to `max_attributes` as `key=value`: the key ones first, then the
    /// rest in recorded order.
    fn attributes(&self, attributes: &[KeyValue], key_first: &[&str]) -> String {
        let shown = |kv: &&KeyValue| !HIDDEN_ATTRIBUTES.contains(&kv.key.as_str());
        let mut picked: Vec<&KeyValue> = key_first
            .iter()
            .filter_map(|key| attributes.iter().find(|kv| kv.key.as_str() == *key))
            .collect();
        for kv in attributes.iter().filter(shown) {
            if picked.len() >= self.max_attributes {
                break;
            }
            if !picked.iter().any(|p| p.key == kv.key) {
                picked.push(kv);
            }
        }
        picked.truncate(self.max_attributes);
        picked
            .iter()
            .map(|kv| {
                format!(
                    "{}={}",
                    text::truncate(kv.key.as_str(), MAX_VALUE_WIDTH),
                    text::truncate(&text::value(&kv.value), MAX_VALUE_WIDTH)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The prepared text of one span line.
struct SpanLine {
    service: String,
    /// Tree prefix + name + kind, for width computations.
    label: String,
    name: String,
    kind: String,
    duration: String,
    status: String,
    attributes: String,
    events: Vec<EventLine>,
}

struct EventLine {
    /// `• name`.
    name: String,
    /// ` +offset` from the span's start.
    offset: String,
    /// Columns taken by the tree continuation, name and offset.
    width: usize,
    is_exception: bool,
    time: SystemTime,
    attributes: String,
}

fn since(t: SystemTime, origin: SystemTime) -> Duration {
    t.duration_since(origin).unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
