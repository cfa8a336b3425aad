//! The baggage the gateway sets and inventory reads, two hops away.

/// The customer's tier (`gold`, `silver`, `bronze`).
pub const CUSTOMER_TIER: &str = "customer.tier";

/// The region the order is served from.
pub const REGION: &str = "region";
