//! Helpers for testing code instrumented with tracekit.
