//! The smallest real tracekit program: `init`, a few nested spans with
//! attributes, an event, and an error recorded as an exception event with
//! Error status.
//!
//! With no configuration the finished trace is printed as a waterfall;
//! with `OTEL_EXPORTER_OTLP_ENDPOINT` set it is exported there instead, and
//! dropping the guard delivers every span before the process exits.
//!
//! ```sh
//! cargo run -p quickstart
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run -p quickstart
//! ```

use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    CODE_FUNCTION_NAME, DB_QUERY_TEXT, DB_SYSTEM_NAME, HTTP_REQUEST_METHOD, HTTP_ROUTE,
};
use std::thread::sleep;
use std::time::Duration;
use tracekit::ExporterKind;

/// A payment failure, recorded on the span as an exception.
#[derive(Debug)]
struct CardDeclined {
    reason: &'static str,
}

impl std::fmt::Display for CardDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "card declined: {}", self.reason)
    }
}

impl std::error::Error for CardDeclined {}

fn charge_card(amount_cents: i64) -> Result<(), CardDeclined> {
    sleep(Duration::from_millis(15));
    if amount_cents > 10_000 {
        Err(CardDeclined {
            reason: "insufficient funds",
        })
    } else {
        Ok(())
    }
}

fn main() {
    // Console waterfall unless the environment names an exporter or an
    // OTLP endpoint.
    let guard = tracekit::builder()
        .service_name("quickstart")
        .service_version(env!("CARGO_PKG_VERSION"))
        .default_exporters(&[ExporterKind::Console])
        .install();

    let tracer = tracekit::tracer("quickstart");
    let request = tracer
        .span_builder("POST /checkout")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new(HTTP_REQUEST_METHOD, "POST"),
            KeyValue::new(HTTP_ROUTE, "/checkout"),
            KeyValue::new("order.id", "A-1001"),
        ])
        .start(&tracer);
    let cx = opentelemetry::Context::current_with_span(request);
    let _attached = cx.clone().attach();

    tracer.in_span("load cart", |cx| {
        let mut query = tracer
            .span_builder("SELECT carts")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new(DB_SYSTEM_NAME, "postgresql"),
                KeyValue::new(DB_QUERY_TEXT, "SELECT * FROM carts WHERE id = $1"),
            ])
            .start(&tracer);
        sleep(Duration::from_millis(8));
        query.end();
        cx.span()
            .add_event("cart_loaded", vec![KeyValue::new("order.items.count", 3)]);
    });

    tracer.in_span("charge card", |cx| {
        let span = cx.span();
        span.set_attribute(KeyValue::new(CODE_FUNCTION_NAME, "charge_card"));
        span.set_attribute(KeyValue::new("payment.method", "card"));
        if let Err(err) = charge_card(12_500) {
            tracekit::trace::record_exception(&span, &err);
            span.set_status(Status::error(err.to_string()));
        }
    });

    cx.span().set_status(Status::error("payment failed"));
    cx.span().end();
    drop(_attached);

    // Dropping the guard flushes: every span reaches the exporter first.
    let provider = guard.provider().clone();
    drop(guard);
    let counters = provider.counters();
    eprintln!(
        "quickstart: {} spans ended, {} exported, {} dropped",
        counters.ended,
        counters.exported,
        counters.dropped()
    );
}
