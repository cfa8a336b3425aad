//! Exporters: OTLP ([`otlp`]), the console waterfall ([`console`], drawn by
//! [`waterfall`]) and in-memory ([`memory`]).

pub mod console;
pub mod memory;
pub mod otlp;
pub mod waterfall;
