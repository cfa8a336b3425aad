//! The demo itself: an in-process OTLP receiver, a queue (the embedded
//! one, or the NATS server `$NATS_URL` names), the six services as child
//! processes exporting to the receiver, a handful of orders, and each
//! order's trace drawn as one waterfall across the services, the queue hop
//! included.

pub mod customer;
pub mod processes;
pub mod traces;

use crate::queue::{EmbeddedQueue, NATS_URL_VAR};
use crate::scenario;
use crate::services::ServiceName;
use processes::ServiceSet;
use std::io::{IsTerminal, Write};
use std::time::Duration;
use tracekit::export::waterfall::WaterfallRenderer;
use tracekit::testing::receiver::{OtlpReceiver, ReceivedSpan};

/// How long the services may take to answer their health checks.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// How long one trace may take to arrive whole after its answer.
pub const TRACE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the services may take to flush and exit.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The queue between checkout and notifications.
enum Broker {
    /// The NATS server at this URL (from `$NATS_URL`).
    Nats(String),
    /// The embedded queue, served by this process.
    Embedded(EmbeddedQueue),
}

impl Broker {
    /// NATS when `$NATS_URL` is set (and not empty), else the embedded
    /// queue.
    fn start() -> Result<Broker, String> {
        match std::env::var(NATS_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Ok(Broker::Nats(url.trim().to_string())),
            _ => EmbeddedQueue::start()
                .map(Broker::Embedded)
                .map_err(|e| format!("cannot start the embedded queue: {e}")),
        }
    }

    fn url(&self) -> &str {
        match self {
            Broker::Nats(url) => url,
            Broker::Embedded(queue) => queue.url(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Broker::Nats(url) => format!("NATS at {url} (from {NATS_URL_VAR})"),
            Broker::Embedded(queue) => format!(
                "embedded, at {} (set {NATS_URL_VAR}=nats://127.0.0.1:4222 to use a NATS server)",
                queue.url()
            ),
        }
    }
}

/// Run the demo with `orders` orders, writing to `out`. Every child
/// process is gone when this returns, whatever happened.
pub fn run(orders: u32, out: &mut dyn Write) -> Result<(), String> {
    let receiver =
        OtlpReceiver::start().map_err(|e| format!("cannot start the OTLP receiver: {e}"))?;
    let broker = Broker::start()?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut services = ServiceSet::start(&exe, &receiver.http_endpoint(), broker.url())?;
    services.wait_healthy(STARTUP_TIMEOUT)?;
    let gateway = services
        .url(ServiceName::Gateway)
        .ok_or("the gateway did not start")?
        .to_string();
    introduce(out, &services, &receiver, &broker).map_err(write_error)?;

    let client = customer::client()?;
    let renderer = WaterfallRenderer::new()
        .with_color(use_color())
        .with_max_attributes(4)
        .with_max_name_width(60);
    let mut incomplete = Vec::new();
    for number in 1..=orders {
        let order = scenario::order(number);
        let answer = customer::send_order(&client, &gateway, &order)?;
        let summary = match &answer.outcome {
            Some(o) if o.status == "confirmed" => format!(
                "confirmed ({})",
                o.authorization.as_deref().unwrap_or("no authorization")
            ),
            Some(o) => o.error.clone().unwrap_or_else(|| o.status.clone()),
            None => "no order outcome in the answer".to_string(),
        };
        writeln!(out, "── order {} → {} {summary}", order.id, answer.status)
            .map_err(write_error)?;
        let confirmed = answer
            .outcome
            .as_ref()
            .is_some_and(|o| o.status == "confirmed");
        let Some(trace_id) = answer.trace_id else {
            incomplete.push(format!("{}: no traceparent in the answer", order.id));
            continue;
        };
        let spans = match traces::wait_for_trace(&receiver, trace_id, confirmed, TRACE_TIMEOUT) {
            Ok(spans) => spans,
            Err((spans, missing)) => {
                incomplete.push(format!(
                    "{}: trace {trace_id} incomplete: {missing:?}",
                    order.id
                ));
                spans
            }
        };
        draw(out, &renderer, &spans).map_err(write_error)?;
    }

    services.stop(STOP_TIMEOUT)?;
    writeln!(
        out,
        "{orders} orders, {} spans received; services stopped, every span flushed.",
        receiver.span_count()
    )
    .map_err(write_error)?;
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
    {
        writeln!(
            out,
            "The services sent the same spans to your OTLP endpoint too (failures would be reported above)."
        )
        .map_err(write_error)?;
    } else {
        writeln!(
            out,
            "Set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318) to send them to Jaeger or any OTLP backend as well."
        )
        .map_err(write_error)?;
    }
    if incomplete.is_empty() {
        Ok(())
    } else {
        Err(incomplete.join("\n"))
    }
}

fn introduce(
    out: &mut dyn Write,
    services: &ServiceSet,
    receiver: &OtlpReceiver,
    broker: &Broker,
) -> std::io::Result<()> {
    writeln!(
        out,
        "checkout-demo: six services, each its own process and tracer provider"
    )?;
    for (name, url) in services.urls() {
        writeln!(out, "  {name:<13} {url}")?;
    }
    writeln!(out, "  {:<13} {}", "queue", broker.describe())?;
    writeln!(
        out,
        "  spans go to an in-process OTLP receiver at {}",
        receiver.http_endpoint()
    )?;
    writeln!(out)
}

fn draw(
    out: &mut dyn Write,
    renderer: &WaterfallRenderer,
    spans: &[ReceivedSpan],
) -> std::io::Result<()> {
    let waterfall: Vec<_> = spans.iter().map(ReceivedSpan::to_waterfall).collect();
    renderer.render_trace(&waterfall, out)?;
    out.flush()
}

fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn write_error(e: std::io::Error) -> String {
    format!("cannot write the output: {e}")
}
