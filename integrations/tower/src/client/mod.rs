//! The client side: [`TracekitClientLayer`] wraps a tower HTTP client
//! (hyper-util's, tonic's channel...) in a CLIENT span per request and
//! injects the span's context into the request headers.

mod builder;
mod describe;
mod layer;
mod service;

pub use builder::TracekitClientLayerBuilder;
pub use describe::{describe_client_request, ClientRequest};
pub use layer::TracekitClientLayer;
pub use service::TracekitClientService;
