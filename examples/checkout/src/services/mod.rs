//! The six services. Each runs in a process of its own with its own
//! tracer provider and `service.name`: an axum app behind the tracekit
//! layer (SERVER spans, context extracted from the caller), calling its
//! peers through the tracekit reqwest middleware (CLIENT spans, context
//! injected), with business functions traced by `#[instrument]`. After a
//! successful charge, checkout publishes `order.confirmed` on the
//! [queue](crate::queue) (a PRODUCER span) and notifications consumes it
//! (a CONSUMER span, the producer's child).
//!
//! ```text
//! gateway ──► checkout ──┬─► fraud       (concurrently)
//!                        ├─► inventory   (concurrently)
//!                        ├─► payment     (then)
//!                        └─► order.confirmed ──queue──► notifications
//! ```

pub mod checkout;
pub mod downstream;
pub mod fraud;
pub mod gateway;
pub mod inventory;
pub mod notifications;
pub mod payment;
pub mod server;
pub mod telemetry;

use crate::cli::ServiceArgs;
use std::fmt;

/// Route of the health check every service answers (never traced).
pub const HEALTH_ROUTE: &str = "/health";

/// One of the six services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceName {
    /// The public entry point: `POST /orders`.
    Gateway,
    /// Orchestrates one checkout: `POST /checkout`.
    Checkout,
    /// Charges the card: `POST /charge`.
    Payment,
    /// Scores the order's risk: `POST /score`.
    Fraud,
    /// Reserves stock: `POST /reserve`.
    Inventory,
    /// Tells the customer: consumes `order.confirmed` from the queue.
    Notifications,
}

impl ServiceName {
    /// All six, callers before callees.
    pub const ALL: [ServiceName; 6] = [
        ServiceName::Gateway,
        ServiceName::Checkout,
        ServiceName::Payment,
        ServiceName::Fraud,
        ServiceName::Inventory,
        ServiceName::Notifications,
    ];

    /// The name, also its `service.name`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Gateway => "gateway",
            ServiceName::Checkout => "checkout",
            ServiceName::Payment => "payment",
            ServiceName::Fraud => "fraud",
            ServiceName::Inventory => "inventory",
            ServiceName::Notifications => "notifications",
        }
    }

    /// The service called `name`.
    pub fn parse(name: &str) -> Option<ServiceName> {
        ServiceName::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The services this one calls.
    pub fn calls(self) -> &'static [ServiceName] {
        match self {
            ServiceName::Gateway => &[ServiceName::Checkout],
            ServiceName::Checkout => &[
                ServiceName::Fraud,
                ServiceName::Inventory,
                ServiceName::Payment,
            ],
            _ => &[],
        }
    }

    /// Whether this service needs the queue (`--queue`): checkout
    /// publishes to it, notifications consumes from it.
    pub fn uses_queue(self) -> bool {
        matches!(self, ServiceName::Checkout | ServiceName::Notifications)
    }

    /// Whether it serves requests of an order (a SERVER span in every
    /// order's trace); notifications only consumes messages.
    pub fn serves_orders(self) -> bool {
        self != ServiceName::Notifications
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that widths and alignment (`{name:<13}`) apply.
        f.pad(self.as_str())
    }
}

/// Run one service until it is told to stop, then flush its spans.
/// Blocks; builds its own tokio runtime.
pub fn run(args: ServiceArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("{}: cannot start a tokio runtime: {e}", args.service))?;
    // The guard outlives the runtime's work: dropping it, after the server
    // stopped, exports every span still queued.
    let guard = telemetry::install(args.service, args.receiver.as_deref())?;
    let outcome = runtime.block_on(async {
        let app = match args.service {
            ServiceName::Gateway => gateway::router(&args)?,
            ServiceName::Checkout => checkout::router(&args).await?,
            ServiceName::Payment => payment::router(),
            ServiceName::Fraud => fraud::router(),
            ServiceName::Inventory => inventory::router(),
            ServiceName::Notifications => notifications::router(&args).await?,
        };
        server::serve(&args, app).await
    });
    drop(runtime);
    let flushed = guard
        .tracekit()
        .shutdown()
        .map_err(|e| format!("{}: flushing spans failed: {e}", args.service));
    // Exports fail quietly while the service runs; say so once, at the end.
    let counters = guard.counters();
    if counters.export_failures > 0 {
        eprintln!(
            "{}: {} span exports failed, {} spans lost: is the OTLP endpoint reachable?",
            args.service, counters.export_failures, counters.dropped_export_failed
        );
    }
    drop(guard);
    outcome.and(flushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for service in ServiceName::ALL {
            assert_eq!(ServiceName::parse(service.as_str()), Some(service));
            assert_eq!(service.to_string(), service.as_str());
        }
        assert_eq!(ServiceName::parse("Gateway"), None);
        assert_eq!(format!("{:<8}|", ServiceName::Fraud), "fraud   |");
    }

    #[test]
    fn only_gateway_and_checkout_call_others() {
        assert_eq!(ServiceName::Gateway.calls(), &[ServiceName::Checkout]);
        assert_eq!(ServiceName::Checkout.calls().len(), 3);
        for leaf in [
            ServiceName::Payment,
            ServiceName::Fraud,
            ServiceName::Inventory,
            ServiceName::Notifications,
        ] {
            assert!(leaf.calls().is_empty());
        }
    }

    #[test]
    fn the_queue_connects_checkout_and_notifications() {
        let users: Vec<_> = ServiceName::ALL
            .into_iter()
            .filter(|s| s.uses_queue())
            .collect();
        assert_eq!(users, [ServiceName::Checkout, ServiceName::Notifications]);
        assert!(!ServiceName::Notifications.serves_orders());
        assert!(ServiceName::Payment.serves_orders());
    }
}
