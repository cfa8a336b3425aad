//! Knowing when an order's trace has fully arrived at the receiver: every
//! order-serving service's SERVER span is there (and, for a confirmed
//! order, notifications' CONSUMER span), one root (the gateway's SERVER
//! span), and every other span's parent is there too.

use crate::services::ServiceName;
use opentelemetry::trace::TraceId;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tracekit::testing::receiver::{OtlpReceiver, ReceivedSpan};

/// OTLP's `SPAN_KIND_SERVER`.
pub const SPAN_KIND_SERVER: i32 = 2;

/// OTLP's `SPAN_KIND_CONSUMER`.
pub const SPAN_KIND_CONSUMER: i32 = 5;

/// What completeness needs to know of a span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanNode {
    /// `service.name` of its resource.
    pub service: String,
    /// OTLP span kind.
    pub kind: i32,
    /// Its id.
    pub span_id: Vec<u8>,
    /// Its parent's id, empty for a root.
    pub parent_span_id: Vec<u8>,
}

impl SpanNode {
    /// The node of a received span.
    pub fn of(span: &ReceivedSpan) -> SpanNode {
        SpanNode {
            service: span.service_name(),
            kind: span.span.kind,
            span_id: span.span.span_id.clone(),
            parent_span_id: span.span.parent_span_id.clone(),
        }
    }

    fn is_root(&self) -> bool {
        self.parent_span_id.is_empty() || self.parent_span_id.iter().all(|b| *b == 0)
    }
}

/// What a trace still lacks; empty when complete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Missing {
    /// Services without their SERVER (or CONSUMER) span yet.
    pub services: Vec<ServiceName>,
    /// Spans whose parent has not arrived.
    pub orphans: usize,
    /// Roots other than one gateway SERVER span.
    pub bad_roots: usize,
}

impl Missing {
    /// Whether nothing is missing.
    pub fn is_complete(&self) -> bool {
        self.services.is_empty() && self.orphans == 0 && self.bad_roots == 0
    }
}

/// What the spans of one trace still lack. `confirmed`: the order was
/// confirmed, so notifications consumed its `order.confirmed` message.
pub fn missing(spans: &[SpanNode], confirmed: bool) -> Missing {
    let services = ServiceName::ALL
        .into_iter()
        .filter(|name| {
            let kind = if name.serves_orders() {
                SPAN_KIND_SERVER
            } else if confirmed {
                SPAN_KIND_CONSUMER
            } else {
                return false;
            };
            !spans
                .iter()
                .any(|s| s.kind == kind && s.service == name.as_str())
        })
        .collect();
    let ids: HashSet<&[u8]> = spans.iter().map(|s| s.span_id.as_slice()).collect();
    let orphans = spans
        .iter()
        .filter(|s| !s.is_root() && !ids.contains(s.parent_span_id.as_slice()))
        .count();
    let roots: Vec<&SpanNode> = spans.iter().filter(|s| s.is_root()).collect();
    let good_root =
        |s: &&SpanNode| s.kind == SPAN_KIND_SERVER && s.service == ServiceName::Gateway.as_str();
    let bad_roots = match roots.as_slice() {
        [only] if good_root(only) => 0,
        [] => 1,
        more => more
            .iter()
            .filter(|s| !good_root(s))
            .count()
            .max(more.len() - 1),
    };
    Missing {
        services,
        orphans,
        bad_roots,
    }
}

/// The received spans of `trace_id`.
pub fn spans_of(receiver: &OtlpReceiver, trace_id: TraceId) -> Vec<ReceivedSpan> {
    let id = trace_id.to_bytes();
    receiver
        .spans()
        .into_iter()
        .filter(|s| s.span.trace_id.as_slice() == id)
        .collect()
}

/// Wait until the trace is complete (see [`missing`]): `Ok(spans)`, or
/// `Err((spans so far, what is missing))` when `timeout` passes first.
pub fn wait_for_trace(
    receiver: &OtlpReceiver,
    trace_id: TraceId,
    confirmed: bool,
    timeout: Duration,
) -> Result<Vec<ReceivedSpan>, (Vec<ReceivedSpan>, Missing)> {
    let deadline = Instant::now() + timeout;
    loop {
        let seen = receiver.span_count();
        let spans = spans_of(receiver, trace_id);
        let nodes: Vec<SpanNode> = spans.iter().map(SpanNode::of).collect();
        let lacking = missing(&nodes, confirmed);
        if lacking.is_complete() {
            return Ok(spans);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err((spans, lacking));
        }
        // Sleep until more spans arrive (or the time is up).
        receiver.wait_for_spans(seen + 1, left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(service: &str, kind: i32, id: u8, parent: u8) -> SpanNode {
        SpanNode {
            service: service.into(),
            kind,
            span_id: vec![id; 8],
            parent_span_id: if parent == 0 { vec![] } else { vec![parent; 8] },
        }
    }

    fn whole() -> Vec<SpanNode> {
        vec![
            node("gateway", SPAN_KIND_SERVER, 1, 0),
            node("gateway", 3, 2, 1),
            node("checkout", SPAN_KIND_SERVER, 3, 2),
            node("checkout", 1, 4, 3),
            node("checkout", 3, 5, 4),
            node("fraud", SPAN_KIND_SERVER, 6, 5),
            node("checkout", 3, 7, 4),
            node("inventory", SPAN_KIND_SERVER, 8, 7),
            node("checkout", 3, 9, 4),
            node("payment", SPAN_KIND_SERVER, 10, 9),
            node("checkout", 4, 11, 4),
            node("notifications", SPAN_KIND_CONSUMER, 12, 11),
        ]
    }

    #[test]
    fn a_whole_trace_is_complete() {
        assert!(missing(&whole(), true).is_complete());
    }

    #[test]
    fn a_confirmed_order_waits_for_its_notification() {
        let spans: Vec<_> = whole()
            .into_iter()
            .filter(|s| s.service != "notifications")
            .collect();
        assert_eq!(
            missing(&spans, true).services,
            vec![ServiceName::Notifications]
        );
        // A refused order has no notification to wait for.
        assert!(missing(&spans, false).is_complete());
    }

    #[test]
    fn a_missing_service_is_named() {
        let spans: Vec<_> = whole()
            .into_iter()
            .filter(|s| s.service != "fraud")
            .collect();
        let lacking = missing(&spans, true);
        assert_eq!(lacking.services, vec![ServiceName::Fraud]);
        assert!(!lacking.is_complete());
    }

    #[test]
    fn a_span_without_its_parent_is_an_orphan() {
        // The checkout's CLIENT span to fraud has not arrived yet.
        let spans: Vec<_> = whole()
            .into_iter()
            .filter(|s| s.span_id != vec![5; 8])
            .collect();
        assert_eq!(missing(&spans, true).orphans, 1);
    }

    #[test]
    fn the_root_must_be_the_gateway_server_span() {
        let mut spans = whole();
        spans[0].service = "checkout".into();
        assert_eq!(missing(&spans, true).bad_roots, 1);
        let mut two_roots = whole();
        two_roots.push(node("payment", SPAN_KIND_SERVER, 11, 0));
        assert_eq!(missing(&two_roots, true).bad_roots, 1);
        assert_eq!(missing(&[], true).bad_roots, 1);
        // An all-zero parent id is a root too.
        let mut zeroed = whole();
        zeroed[0].parent_span_id = vec![0; 8];
        assert!(missing(&zeroed, true).is_complete());
    }
}
