//! The console waterfall as a newcomer sees it: a multi-service trace
//! rendered through the public API, checked on the captured text.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::KeyValue;
use tracekit::export::waterfall::{WaterfallEvent, WaterfallRenderer, WaterfallSpan};

fn span(
    id: u64,
    parent: u64,
    service: &str,
    name: &str,
    kind: SpanKind,
    start_ms: u64,
    len_ms: u64,
) -> WaterfallSpan {
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    WaterfallSpan {
        trace_id: TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736u128),
        span_id: SpanId::from(id),
        parent_span_id: if parent == 0 {
            SpanId::INVALID
        } else {
            SpanId::from(parent)
        },
        service_name: service.into(),
        name: name.into(),
        kind,
        start: t0 + Duration::from_millis(start_ms),
        end: t0 + Duration::from_millis(start_ms + len_ms),
        status: Status::Unset,
        attributes: vec![],
        events: vec![],
    }
}

fn checkout() -> Vec<WaterfallSpan> {
    let mut gateway = span(1, 0, "gateway", "POST /checkout", SpanKind::Server, 0, 1240);
    gateway.attributes = vec![
        KeyValue::new("http.route", "/checkout"),
        KeyValue::new("http.response.status_code", 502),
    ];
    gateway.status = Status::error("payment failed");
    let call = span(2, 1, "gateway", "POST checkout", SpanKind::Client, 5, 1230);
    let mut checkout = span(3, 2, "checkout", "POST /orders", SpanKind::Server, 8, 1220);
    checkout.attributes = vec![
        KeyValue::new("order.id", "A-1042"),
        KeyValue::new("order.items.count", 3),
    ];
    let mut payment = span(4, 3, "payment", "charge_card", SpanKind::Internal, 20, 310);
    payment.status = Status::error("card declined");
    payment.attributes = vec![KeyValue::new("payment.card", "**** 4242")];
    payment.events = vec![WaterfallEvent {
        name: "exception".into(),
        time: payment.start + Duration::from_millis(300),
        attributes: vec![
            KeyValue::new("exception.type", "CardDeclined"),
            KeyValue::new("exception.message", "insufficient funds"),
        ],
    }];
    let fraud = span(5, 3, "fraud", "score", SpanKind::Internal, 340, 90);
    let inventory = span(
        6,
        3,
        "inventory",
        "reserve_items",
        SpanKind::Internal,
        340,
        880,
    );
    vec![inventory, fraud, payment, checkout, call, gateway]
}

#[test]
fn multi_service_trace_renders_as_one_tree() {
    let text = WaterfallRenderer::new().render_to_string(&checkout());
    println!("{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("▶ trace 4bf92f3577b34da6a3ce929d0e0e4736 · 6 spans"));
    assert!(
        lines[1].starts_with(" gateway    POST /checkout (server)"),
        "{text}"
    );
    assert!(lines[2].contains("└─ POST checkout (client)"), "{text}");
    assert!(
        lines[3].starts_with(" checkout      └─ POST /orders (server)"),
        "{text}"
    );
    assert!(
        lines[4].starts_with(" payment          ├─ charge_card"),
        "{text}"
    );
    assert!(lines[5].contains("│     • exception +300 ms"), "{text}");
    assert!(lines[5].contains("│       ◆      "), "{text}");
    // Siblings starting together keep their recorded order.
    assert!(lines[6].contains("├─ reserve_items"), "{text}");
    assert!(lines[7].contains("└─ score"), "{text}");
    // The root's bar fills the whole width; a late child's bar starts late.
    assert!(
        lines[1].contains("│██████████████████████████████│"),
        "{text}"
    );
    assert!(lines[6].contains("│        ▐"), "{text}");
    assert!(text.contains("5 services"), "{text}");
    assert!(text.contains("ERROR: card declined"));
    assert!(text.contains("exception.type=CardDeclined exception.message=insufficient funds"));
}

#[test]
fn coloured_output_for_terminals() {
    let text = WaterfallRenderer::new()
        .with_color(true)
        .render_to_string(&checkout());
    println!("{text}");
    assert!(text.contains("\x1b["));
    assert!(text.ends_with("\n\n"));
}
