//! The client side: [`HttpClientLayer`] wraps a tower HTTP client
//! (hyper-util's, tonic's channel...) in a CLIENT span per request and
//! injects the span's context into the request headers.

mod builder;
mod describe;
mod layer;
mod service;

pub use builder::HttpClientLayerBuilder;
pub use describe::{describe_client_request, ClientRequest};
pub use layer::HttpClientLayer;
pub use service::HttpClientService;
