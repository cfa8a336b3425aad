//! What can be checked of `deploy/` without Docker: the services start the
//! way the compose file runs them, and the sample order is one the gateway
//! takes. (The YAML itself was checked with a YAML parser when written;
//! there is no YAML crate in this workspace.)

use checkout_demo::cli::{self, Command};
use checkout_demo::model::Order;
use checkout_demo::services::ServiceName;
use std::collections::BTreeSet;
use std::net::IpAddr;

const COMPOSE: &str = include_str!("../../deploy/compose.yaml");
const COLLECTOR: &str = include_str!("../../deploy/otel-collector.yaml");
const ORDER: &str = include_str!("../../deploy/order.json");

#[test]
fn every_compose_command_starts_a_service_reachable_by_its_peers() {
    let mut started = BTreeSet::new();
    for line in COMPOSE.lines().map(str::trim) {
        let Some(flow) = line.strip_prefix("command: [\"--service\"") else {
            continue;
        };
        // The command is a YAML flow sequence of quoted strings: JSON.
        let args: Vec<String> =
            serde_json::from_str(&format!("[\"--service\"{flow}")).expect("a JSON array");
        let Ok(Command::Service(service)) = cli::parse(args.clone()) else {
            panic!("not a service command: {args:?}");
        };
        assert_eq!(
            service.bind,
            IpAddr::from([0, 0, 0, 0]),
            "reachable from other containers"
        );
        assert_eq!(service.port, 8080);
        assert_eq!(service.receiver, None, "exports through OTEL_* only");
        assert!(!service.stop_on_stdin_close, "containers stop on SIGTERM");
        for (peer, url) in &service.peers {
            assert_eq!(url, &format!("http://{peer}:8080"));
        }
        if service.service.uses_queue() {
            assert_eq!(service.queue.as_deref(), Some("nats://nats:4222"));
        }
        started.insert(service.service);
    }
    assert_eq!(
        started,
        ServiceName::ALL.into_iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        COMPOSE
            .matches("OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318")
            .count(),
        1,
        "one shared environment block"
    );
}

#[test]
fn the_sample_order_is_a_valid_order() {
    let order: Order = serde_json::from_str(ORDER).expect("an order");
    assert!(!order.items.is_empty());
    assert!(order.total_cents() > 0);
}

#[test]
fn the_collector_keeps_errors_slow_traces_and_ten_percent() {
    for needle in [
        "memory_limiter:",
        "status_codes: [ERROR]",
        "threshold_ms: 1000",
        "sampling_percentage: 10",
        "processors: [memory_limiter, attributes/redact, redaction, tail_sampling, batch]",
        "exporters: [otlp/jaeger]",
        "endpoint: jaeger:4317",
    ] {
        assert!(COLLECTOR.contains(needle), "{needle}");
    }
}
