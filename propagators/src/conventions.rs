//! Semantic-convention names that `opentelemetry-semantic-conventions`
//! does not define, shared by the SDK and the integrations.

/// The name of exception events, per the semantic conventions (an event
/// name, which `opentelemetry_semantic_conventions` does not list; its
/// `exception.*` attributes it does).
///
/// ```
/// assert_eq!(tracekit_propagators::EXCEPTION_EVENT_NAME, "exception");
/// ```
pub const EXCEPTION_EVENT_NAME: &str = "exception";
