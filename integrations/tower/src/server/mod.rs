//! The server side: [`HttpServerLayer`] wraps any
//! `tower::Service<http::Request<B>>` in a SERVER span per request.

mod builder;
mod describe;
mod layer;
mod request_headers;
mod service;

pub use builder::HttpServerLayerBuilder;
pub use layer::HttpServerLayer;
pub use service::HttpServerService;

/// The W3C fields the server's one pass over `headers` notes.
#[cfg(test)]
pub(crate) fn scanned_trace_context(
    headers: &http::HeaderMap,
) -> crate::trace_context_headers::TraceContextFields<'_> {
    request_headers::RequestHeaders::read(headers)
        .trace_context
        .expect("a small map is scanned")
}
