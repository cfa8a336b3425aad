//! Runs the demo binary as a user would, with `OTEL_EXPORTER_OTLP_ENDPOINT`
//! pointing at this test's own OTLP receiver (the "exports there as well"
//! path), and checks what that receiver decoded: one whole, well-formed
//! trace per order across the services, baggage at inventory, the
//! declined payments, no card number anywhere, no health-check spans, and
//! for each confirmed order the queue hop: checkout's PRODUCER span and
//! notifications' CONSUMER span (its child) in the order's trace, the
//! baggage carried across in the message headers; and the same hop through
//! a real NATS server when `NATS_URL` names one.

use checkout_demo::scenario::{self, ALL_CARDS};
use checkout_demo::services::ServiceName;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    MESSAGING_DESTINATION_NAME, MESSAGING_OPERATION_TYPE, MESSAGING_SYSTEM, SERVER_PORT,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tracekit::testing::receiver::{OtlpReceiver, ReceivedSpan};
use tracekit_nats::testing::NatsServer;

/// Orders 1..=4: order 3 is slow (back-ordered item), order 4 declined.
const ORDERS: u32 = 4;
/// The demo is killed (and the test fails) after this.
const DEMO_TIMEOUT: Duration = Duration::from_secs(50);

const SPAN_KIND_SERVER: i32 = 2;
const SPAN_KIND_CLIENT: i32 = 3;
const SPAN_KIND_PRODUCER: i32 = 4;
const SPAN_KIND_CONSUMER: i32 = 5;
const STATUS_ERROR: i32 = 2;

struct DemoRun {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Run the demo with `orders` orders to its end, at most
/// [`DEMO_TIMEOUT`], and check that it exits 0; its queue on the NATS
/// server at `nats` if given, else the embedded one.
fn run_demo(receiver: &OtlpReceiver, orders: u32, nats: Option<&str>) -> DemoRun {
    let mut command = Command::new(env!("CARGO_BIN_EXE_checkout-demo"));
    command
        .args(["--orders", &orders.to_string()])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Whatever the environment running the tests says, the defaults apply.
    for var in [
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_PROPAGATORS",
        checkout_demo::queue::NATS_URL_VAR,
    ] {
        command.env_remove(var);
    }
    if let Some(url) = nats {
        command.env(checkout_demo::queue::NATS_URL_VAR, url);
    }
    let mut child = command.spawn().expect("start the demo");
    let mut stdout_pipe = child.stdout.take().expect("stdout");
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let stdout_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout_pipe.read_to_string(&mut text);
        text
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + DEMO_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the demo") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr_reader.join().unwrap_or_default();
            panic!("the demo did not finish within {DEMO_TIMEOUT:?}; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = DemoRun {
        status,
        stdout: stdout_reader.join().unwrap_or_default(),
        stderr: stderr_reader.join().unwrap_or_default(),
    };
    assert!(
        run.status.success(),
        "the demo exits 0; got {}\nstdout:\n{}\nstderr:\n{}",
        run.status,
        run.stdout,
        run.stderr
    );
    run
}

fn is_error(span: &ReceivedSpan) -> bool {
    span.span.status.as_ref().map(|s| s.code) == Some(STATUS_ERROR)
}

/// Every string in a value, nested ones included.
fn strings_of<'a>(value: &'a AnyValue, out: &mut Vec<&'a str>) {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => out.push(s),
        Some(any_value::Value::ArrayValue(array)) => {
            array.values.iter().for_each(|v| strings_of(v, out));
        }
        Some(any_value::Value::KvlistValue(list)) => {
            for kv in &list.values {
                out.push(&kv.key);
                if let Some(v) = &kv.value {
                    strings_of(v, out);
                }
            }
        }
        Some(any_value::Value::BytesValue(bytes)) => {
            // Text smuggled as bytes would count too.
            if let Ok(text) = std::str::from_utf8(bytes) {
                out.push(text);
            }
        }
        _ => {}
    }
}

fn attribute_strings<'a>(attributes: &'a [KeyValue], out: &mut Vec<&'a str>) {
    for kv in attributes {
        out.push(&kv.key);
        if let Some(v) = &kv.value {
            strings_of(v, out);
        }
    }
}

/// Every string a span carries: name, status message, attributes,
/// events and their attributes, links' attributes, resource attributes.
fn all_strings(span: &ReceivedSpan) -> Vec<&str> {
    let mut out = vec![span.span.name.as_str(), span.span.trace_state.as_str()];
    if let Some(status) = &span.span.status {
        out.push(&status.message);
    }
    attribute_strings(&span.span.attributes, &mut out);
    for event in &span.span.events {
        out.push(&event.name);
        attribute_strings(&event.attributes, &mut out);
    }
    for link in &span.span.links {
        attribute_strings(&link.attributes, &mut out);
    }
    if let Some(resource) = &span.resource {
        attribute_strings(&resource.attributes, &mut out);
    }
    out
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn event_attribute(
    event: &opentelemetry_proto::tonic::trace::v1::span::Event,
    key: &str,
) -> Option<String> {
    let value = event
        .attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?;
    Some(match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        other => format!("{other:?}"),
    })
}

/// The one span of `service` named `name` in a trace.
fn only<'a>(trace: &[&'a ReceivedSpan], service: ServiceName, name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = trace
        .iter()
        .filter(|s| s.service_name() == service.as_str() && s.span.name == name)
        .collect();
    assert_eq!(found.len(), 1, "one {name} span from {service}");
    found[0]
}

#[test]
fn the_demo_traces_every_order_across_six_services_and_the_queue() {
    let receiver = OtlpReceiver::start().expect("start the test's receiver");
    let run = run_demo(&receiver, ORDERS, None);

    // What the terminal showed: one waterfall per order, all services.
    assert_eq!(
        run.stdout.matches("▶ trace ").count(),
        ORDERS as usize,
        "one waterfall per order:\n{}",
        run.stdout
    );
    for service in ServiceName::ALL {
        assert!(
            run.stdout.contains(&format!(" {service} ")),
            "{service} in the waterfall"
        );
    }
    assert!(
        run.stdout.contains("502 Bad Gateway"),
        "the declined order's answer is shown"
    );

    // The services flushed to this receiver before the demo exited.
    let spans = receiver.spans();
    assert!(!spans.is_empty(), "spans reached the test's receiver");
    let mut traces: BTreeMap<String, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in &spans {
        traces.entry(span.trace_id_hex()).or_default().push(span);
    }
    // Health checks (the demo polls every service) produced nothing: the
    // only traces are the orders'.
    assert_eq!(
        traces.len(),
        ORDERS as usize,
        "one trace per order, nothing else"
    );
    for span in &spans {
        assert!(
            !span.span.name.contains("/health")
                && span.attribute("url.path").as_deref() != Some("/health")
                && span.attribute("http.route").as_deref() != Some("/health"),
            "no health-check span: {}",
            span.span.name
        );
    }

    let mut orders_seen = HashSet::new();
    for (trace_id, trace) in &traces {
        // Which order this is.
        let place_order = only(trace, ServiceName::Gateway, "place_order");
        let order_id = place_order.attribute("order.id").expect("order.id");
        let number: u32 = order_id
            .trim_start_matches("ord-")
            .parse()
            .expect("order number");
        let confirmed = !scenario::is_declined(number);

        // Every service, notifications only when the order was confirmed.
        let services: HashSet<String> = trace.iter().map(|s| s.service_name()).collect();
        let expected: HashSet<String> = ServiceName::ALL
            .iter()
            .filter(|s| confirmed || s.serves_orders())
            .map(|s| s.as_str().to_string())
            .collect();
        assert_eq!(services, expected, "trace {trace_id}: the services");
        assert!(trace.iter().all(|s| s.trace_id_hex() == *trace_id));

        // One tree rooted at the gateway's SERVER span.
        let roots: Vec<_> = trace
            .iter()
            .filter(|s| s.span.parent_span_id.is_empty())
            .collect();
        assert_eq!(roots.len(), 1, "trace {trace_id}: one root");
        let root = roots[0];
        assert_eq!(root.service_name(), "gateway");
        assert_eq!(root.span.kind, SPAN_KIND_SERVER);
        assert_eq!(root.span.name, "POST /orders");
        let ids: HashSet<&[u8]> = trace.iter().map(|s| s.span.span_id.as_slice()).collect();
        assert_eq!(ids.len(), trace.len(), "span ids are unique");
        let mut children: HashMap<&[u8], Vec<&[u8]>> = HashMap::new();
        for span in trace.iter().filter(|s| !s.span.parent_span_id.is_empty()) {
            assert!(
                ids.contains(span.span.parent_span_id.as_slice()),
                "trace {trace_id}: the parent of {} ({}) is in the trace",
                span.span.name,
                span.service_name()
            );
            children
                .entry(span.span.parent_span_id.as_slice())
                .or_default()
                .push(span.span.span_id.as_slice());
        }
        let mut reached = HashSet::new();
        let mut stack = vec![root.span.span_id.as_slice()];
        while let Some(id) = stack.pop() {
            if reached.insert(id) {
                stack.extend(children.get(id).into_iter().flatten());
            }
        }
        assert_eq!(
            reached.len(),
            trace.len(),
            "trace {trace_id}: one connected tree"
        );

        // Each hop: a CLIENT span, parent of the callee's SERVER span.
        for server in trace
            .iter()
            .filter(|s| s.span.kind == SPAN_KIND_SERVER && s.service_name() != "gateway")
        {
            let parent = trace
                .iter()
                .find(|s| s.span.span_id == server.span.parent_span_id)
                .expect("parent");
            assert_eq!(
                parent.span.kind, SPAN_KIND_CLIENT,
                "{} is called by a client span",
                server.span.name
            );
        }

        assert!(orders_seen.insert(number), "{order_id} traced once");
        let order = scenario::order(number);
        assert_eq!(
            place_order.attribute("order.items.count"),
            Some(order.items.len().to_string())
        );
        assert_eq!(
            place_order.attribute("payment.method").as_deref(),
            Some("card")
        );

        // Fraud and inventory called side by side from one checkout span.
        let process = only(trace, ServiceName::Checkout, "process_checkout");
        let score = only(trace, ServiceName::Checkout, "POST /score");
        let reserve = only(trace, ServiceName::Checkout, "POST /reserve");
        assert_eq!(score.span.parent_span_id, process.span.span_id);
        assert_eq!(reserve.span.parent_span_id, process.span.span_id);

        // Span events with the risk score.
        let assess = only(trace, ServiceName::Fraud, "assess_risk");
        let names: Vec<&str> = assess.span.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["fraud_check_started", "fraud_check_completed"]);
        let risk = event_attribute(&assess.span.events[1], "risk_score").expect("risk_score");
        assert!(
            risk.parse::<f64>().is_ok_and(|r| (0.0..=1.0).contains(&r)),
            "{risk}"
        );

        // Baggage set at the gateway, recorded by inventory two hops away.
        let stock = only(trace, ServiceName::Inventory, "reserve_stock");
        assert_eq!(
            stock.attribute("customer.tier"),
            Some(order.customer_tier.clone())
        );
        assert_eq!(stock.attribute("region"), Some(order.region.clone()));
        let slow = trace
            .iter()
            .any(|s| s.span.name == "query_remote_warehouse");
        assert_eq!(
            slow,
            scenario::is_backordered(number),
            "{order_id}: warehouse lookup"
        );

        // The card, masked, on the payment span.
        let charge = only(trace, ServiceName::Payment, "authorize_charge");
        let last4: String = digits(&order.payment.card_number)
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert_eq!(
            charge.attribute("payment.card.number"),
            Some(format!("**** **** **** {last4}"))
        );

        // The queue hop of a confirmed order: checkout's PRODUCER span under
        // process_checkout, notifications' CONSUMER span its child (across
        // the embedded queue, in the message headers), the notification's
        // own work below that with the baggage the gateway set.
        let published = trace
            .iter()
            .filter(|s| s.span.name == "publish order.confirmed")
            .count();
        let consumed = trace
            .iter()
            .filter(|s| s.span.name == "process order.confirmed")
            .count();
        if confirmed {
            let producer = only(trace, ServiceName::Checkout, "publish order.confirmed");
            let consumer = only(trace, ServiceName::Notifications, "process order.confirmed");
            let notify = only(trace, ServiceName::Notifications, "send_confirmation");
            assert_eq!(producer.span.kind, SPAN_KIND_PRODUCER);
            assert_eq!(consumer.span.kind, SPAN_KIND_CONSUMER);
            assert_eq!(producer.span.parent_span_id, process.span.span_id);
            assert_eq!(consumer.span.parent_span_id, producer.span.span_id);
            assert_eq!(notify.span.parent_span_id, consumer.span.span_id);
            for (span, operation) in [(producer, "send"), (consumer, "process")] {
                assert_eq!(
                    span.attribute(MESSAGING_SYSTEM).as_deref(),
                    Some(checkout_demo::queue::EMBEDDED_SYSTEM)
                );
                assert_eq!(
                    span.attribute(MESSAGING_DESTINATION_NAME).as_deref(),
                    Some(checkout_demo::queue::ORDER_CONFIRMED)
                );
                assert_eq!(
                    span.attribute(MESSAGING_OPERATION_TYPE).as_deref(),
                    Some(operation)
                );
            }
            assert_eq!(notify.attribute("order.id"), Some(order_id.clone()));
            assert_eq!(
                notify.attribute("customer.tier"),
                Some(order.customer_tier.clone()),
                "{order_id}: baggage across the queue"
            );
        } else {
            assert_eq!((published, consumed), (0, 0), "{order_id}: no confirmation");
        }

        // Declined payments: Error + exception on the payment span, 502 at
        // the gateway. Accepted ones: no error anywhere.
        let gateway_status = root.attribute("http.response.status_code");
        if scenario::is_declined(number) {
            assert!(is_error(charge), "{order_id}: the payment span failed");
            let exception = charge
                .span
                .events
                .iter()
                .find(|e| e.name == "exception")
                .expect("an exception event");
            assert_eq!(
                event_attribute(exception, "exception.type").as_deref(),
                Some("CardDeclined")
            );
            assert!(event_attribute(exception, "exception.message")
                .is_some_and(|m| m.contains("declined")));
            assert_eq!(gateway_status.as_deref(), Some("502"));
            assert!(is_error(root), "{order_id}: the gateway's 502 is an error");
        } else {
            assert!(trace.iter().all(|s| !is_error(s)), "{order_id}: no error");
            assert_eq!(gateway_status.as_deref(), Some("200"));
        }
    }
    assert_eq!(orders_seen, (1..=ORDERS).collect::<HashSet<_>>());
    assert!(
        (1..=ORDERS).any(scenario::is_declined),
        "the run covers a decline"
    );
    assert!(
        (1..=ORDERS).any(scenario::is_backordered),
        "the run covers a slow order"
    );

    // No raw card number anywhere in the exported data.
    let raw_cards: Vec<String> = ALL_CARDS.iter().map(|c| digits(c)).collect();
    for span in &spans {
        for text in all_strings(span) {
            let compact: String = text
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '.' | '_'))
                .collect();
            for raw in &raw_cards {
                assert!(
                    !compact.contains(raw.as_str()),
                    "a card number leaked in {} of {}: {text:?}",
                    span.span.name,
                    span.service_name()
                );
            }
        }
    }
    // Nor on the terminal.
    for raw in &raw_cards {
        let compact: String = run
            .stdout
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        assert!(
            !compact.contains(raw.as_str()),
            "a card number in the demo's output"
        );
    }
}

#[test]
fn with_nats_url_the_queue_hop_goes_through_a_real_nats_server() {
    let server = NatsServer::start()
        .unwrap_or_else(|why| panic!("this test needs a NATS server and none can be had: {why}"));
    let receiver = OtlpReceiver::start().expect("start the test's receiver");
    // Orders 1 and 2 are both confirmed.
    let run = run_demo(&receiver, 2, Some(&server.url()));
    assert!(
        run.stdout.contains(&format!("NATS at {}", server.url())),
        "the demo says it uses NATS:\n{}",
        run.stdout
    );
    let spans = receiver.spans();
    let producers: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.span.name == "publish order.confirmed")
        .collect();
    assert_eq!(producers.len(), 2, "one publish per confirmed order");
    let port = server.port().to_string();
    for producer in producers {
        let consumer = spans
            .iter()
            .find(|s| s.span.parent_span_id == producer.span.span_id)
            .expect("the consumer span, child of the producer");
        assert_eq!(producer.service_name(), "checkout");
        assert_eq!(consumer.service_name(), "notifications");
        assert_eq!(producer.span.kind, SPAN_KIND_PRODUCER);
        assert_eq!(consumer.span.kind, SPAN_KIND_CONSUMER);
        assert_eq!(consumer.span.name, "process order.confirmed");
        assert_eq!(consumer.span.trace_id, producer.span.trace_id);
        for span in [producer, consumer] {
            assert_eq!(span.attribute(MESSAGING_SYSTEM).as_deref(), Some("nats"));
            assert_eq!(span.attribute(SERVER_PORT).as_deref(), Some(port.as_str()));
        }
        // The order's trace reaches back to the gateway.
        assert!(spans
            .iter()
            .any(|s| s.span.trace_id == producer.span.trace_id
                && s.service_name() == "gateway"
                && s.span.parent_span_id.is_empty()));
    }
}
