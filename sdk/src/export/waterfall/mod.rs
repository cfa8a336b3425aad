//! Traces drawn as waterfalls: a span tree with timing bars, for terminals.
//!
//! Format-neutral: [`WaterfallSpan`] can be made from the SDK's `SpanData`
//! ([`WaterfallSpan::from_span_data`]) or from decoded OTLP (the test
//! receiver does), and [`WaterfallRenderer`] writes to any [`std::io::Write`].

mod model;
mod render;
mod style;
mod text;
mod tree;

pub use model::{WaterfallEvent, WaterfallSpan};
pub use render::WaterfallRenderer;
