//! [`RequestInfo`]: what a framework knows about a request that plain
//! `http` types don't carry (the matched route, the peer address).

use http::Request;
use std::net::IpAddr;

/// A hook giving the server layer framework knowledge about a request.
/// Implemented by framework integrations (`tracekit-axum` reads axum's
/// `MatchedPath` and `ConnectInfo`); [`NoRequestInfo`] knows nothing.
pub trait RequestInfo: Clone + Send + Sync + 'static {
    /// The route template that matched (`/users/{id}`), never the raw path.
    fn route<'r, B>(&self, request: &'r Request<B>) -> Option<&'r str>;

    /// The address of the connection's peer, used for `client.address`
    /// when no `Forwarded` / `X-Forwarded-For` header names the client.
    fn peer_address<B>(&self, request: &Request<B>) -> Option<IpAddr>;
}

/// A [`RequestInfo`] that knows no route and no peer.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRequestInfo;

impl RequestInfo for NoRequestInfo {
    fn route<'r, B>(&self, _request: &'r Request<B>) -> Option<&'r str> {
        None
    }

    fn peer_address<B>(&self, _request: &Request<B>) -> Option<IpAddr> {
        None
    }
}
