//! Exporters: OTLP, console waterfall, in-memory.
