//! The server side: [`TracekitLayer`] wraps any
//! `tower::Service<http::Request<B>>` in a SERVER span per request.

mod builder;
mod describe;
mod layer;
mod request_headers;
mod service;

pub use builder::TracekitLayerBuilder;
pub use layer::TracekitLayer;
pub use service::TracekitService;
