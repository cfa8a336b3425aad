//! W3C/B3/Jaeger propagators.
