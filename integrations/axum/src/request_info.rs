//! [`AxumRequestInfo`]: the route template and peer address axum knows.

use axum::extract::{ConnectInfo, MatchedPath};
use http::Request;
use std::net::{IpAddr, SocketAddr};
use tracekit_tower::RequestInfo;

/// Reads axum's [`MatchedPath`] (the route template, `/users/{id}`) and
/// [`ConnectInfo<SocketAddr>`] (the peer, when the app is served with
/// `into_make_service_with_connect_info::<SocketAddr>()`).
///
/// `MatchedPath` is set by the router before route layers run, so the
/// server layer must be added with `Router::layer` (or `route_layer`) to
/// see it; requests no route matched are named by their method only.
#[derive(Clone, Copy, Debug, Default)]
pub struct AxumRequestInfo;

impl RequestInfo for AxumRequestInfo {
    fn route<'r, B>(&self, request: &'r Request<B>) -> Option<&'r str> {
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
    }

    fn peer_address<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_matched_path_and_connect_info() {
        let mut request = Request::get("/users/42").body(()).unwrap();
        assert_eq!(AxumRequestInfo.route(&request), None);
        assert_eq!(AxumRequestInfo.peer_address(&request), None);
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        assert_eq!(
            AxumRequestInfo.peer_address(&request),
            Some(IpAddr::from([127, 0, 0, 1]))
        );
    }
}
