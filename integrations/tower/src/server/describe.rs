//! The name and start attributes of a server span, from the request.

use super::request_headers::RequestHeaders;
use crate::active_span::Protocol;
use crate::address::{
    default_port, first_listed, forwarded_client_of, forwarded_parameter, host_of, split_host_port,
};
use crate::capture::HeaderCapture;
use crate::grpc::{is_grpc_content_type, service_and_method};
use crate::interned::{intern, intern_route, Kind};
use crate::method::KnownMethod;
use crate::redaction::redact_query;
use crate::request_info::RequestInfo;
use http::{Request, Version};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_ROUTE,
    NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT, URL_PATH, URL_QUERY, URL_SCHEME,
    USER_AGENT_ORIGINAL,
};
#[allow(deprecated)]
use opentelemetry_semantic_conventions::attribute::{RPC_METHOD, RPC_SERVICE, RPC_SYSTEM};
use std::borrow::Cow;

/// `rpc.system` for gRPC.
const GRPC_SYSTEM: &str = "grpc";

/// What a server span starts with.
pub(crate) struct ServerRequest {
    pub(crate) name: Cow<'static, str>,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) protocol: Protocol,
}

/// `network.protocol.version` of an HTTP version.
pub(crate) fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// The `url.scheme` value; the usual schemes cost no allocation.
fn scheme_value(scheme: &str) -> opentelemetry::Value {
    match scheme {
        "http" => "http".into(),
        "https" => "https".into(),
        other => other.to_owned().into(),
    }
}

/// `value` as an attribute value: interned when `kind`'s budget allows
/// (no allocation), else an owned copy.
fn interned_value(kind: Kind, value: &str) -> opentelemetry::Value {
    match intern(kind, value) {
        Some(kept) => kept.into(),
        None => value.to_owned().into(),
    }
}

/// Name and attributes for the server span of `request`, whose headers
/// `known` were read from.
pub(crate) fn describe<B, I: RequestInfo>(
    request: &Request<B>,
    info: &I,
    capture: &HeaderCapture,
    known: &RequestHeaders<'_>,
) -> ServerRequest {
    let headers = request.headers();
    let uri = request.uri();
    let mut attributes = Vec::with_capacity(12);

    // The original client's scheme and host when a proxy reports them
    // (`Forwarded`, then `X-Forwarded-*`), else the request's own, as the
    // HTTP server conventions order them.
    let scheme = forwarded_parameter(known.forwarded, "proto")
        .or_else(|| first_listed(known.x_forwarded_proto))
        .or_else(|| uri.scheme_str())
        .unwrap_or("http");
    let original_host = forwarded_parameter(known.forwarded, "host")
        .or_else(|| first_listed(known.x_forwarded_host));
    let host_port = match original_host {
        Some(host) => split_host_port(host),
        None => host_of(uri, known.host),
    };
    if let Some((host, port)) = host_port {
        attributes.push(KeyValue::new(
            SERVER_ADDRESS,
            interned_value(Kind::Host, host),
        ));
        if let Some(port) = port.or_else(|| default_port(scheme)) {
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
    }
    match forwarded_client_of(known.forwarded, known.x_forwarded_for) {
        Some(client) => attributes.push(KeyValue::new(CLIENT_ADDRESS, client.to_owned())),
        None => {
            if let Some(peer) = info.peer_address(request) {
                attributes.push(KeyValue::new(CLIENT_ADDRESS, peer.to_string()));
            }
        }
    }
    if let Some(version) = protocol_version(request.version()) {
        attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
    }

    if is_grpc_content_type(known.content_type) {
        let path = uri.path();
        let name = match service_and_method(path) {
            Some((service, method)) => {
                #[allow(deprecated)]
                attributes.extend([
                    KeyValue::new(RPC_SYSTEM, GRPC_SYSTEM),
                    KeyValue::new(RPC_SERVICE, service.to_owned()),
                    KeyValue::new(RPC_METHOD, method.to_owned()),
                ]);
                path[1..].to_owned()
            }
            None => {
                #[allow(deprecated)]
                attributes.push(KeyValue::new(RPC_SYSTEM, GRPC_SYSTEM));
                GRPC_SYSTEM.to_owned()
            }
        };
        capture.record(headers, &mut attributes);
        return ServerRequest {
            name: Cow::Owned(name),
            attributes,
            protocol: Protocol::Grpc,
        };
    }

    let method = KnownMethod::of(request.method());
    attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, method.attribute_value()));
    if let Some(original) = method.original() {
        attributes.push(KeyValue::new(
            HTTP_REQUEST_METHOD_ORIGINAL,
            original.to_owned(),
        ));
    }
    attributes.push(KeyValue::new(URL_SCHEME, scheme_value(scheme)));
    attributes.push(KeyValue::new(URL_PATH, uri.path().to_owned()));
    if let Some(query) = uri.query() {
        attributes.push(KeyValue::new(URL_QUERY, redact_query(query).into_owned()));
    }
    if let Some(agent) = known.user_agent {
        // A caller sends the same agent request after request: interned,
        // it costs no allocation. Text beyond visible ASCII is copied.
        let value = match agent.to_str() {
            Ok(text) => interned_value(Kind::UserAgent, text),
            Err(_) => String::from_utf8_lossy(agent.as_bytes())
                .into_owned()
                .into(),
        };
        attributes.push(KeyValue::new(USER_AGENT_ORIGINAL, value));
    }
    let name = match info.route(request) {
        Some(route) => match intern_route(method.span_name(), route) {
            Some((route, name)) => {
                attributes.push(KeyValue::new(HTTP_ROUTE, route));
                Cow::Borrowed(name)
            }
            None => {
                attributes.push(KeyValue::new(HTTP_ROUTE, route.to_owned()));
                let prefix = method.span_name();
                let mut name = String::with_capacity(prefix.len() + 1 + route.len());
                name.push_str(prefix);
                name.push(' ');
                name.push_str(route);
                Cow::Owned(name)
            }
        },
        None => Cow::Borrowed(method.span_name()),
    };
    capture.record(headers, &mut attributes);
    ServerRequest {
        name,
        attributes,
        protocol: Protocol::Http,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::HeaderSide;
    use crate::request_info::NoRequestInfo;
    use std::net::IpAddr;

    #[derive(Clone)]
    struct Fixed;
    impl RequestInfo for Fixed {
        fn route<'r, B>(&self, _request: &'r Request<B>) -> Option<&'r str> {
            Some("/users/{id}")
        }
        fn peer_address<B>(&self, _request: &Request<B>) -> Option<IpAddr> {
            Some(IpAddr::from([127, 0, 0, 1]))
        }
    }

    use crate::test_support::attribute_value as get;

    /// [`describe`] of `request`, its known headers read as the service
    /// reads them.
    fn described<B>(
        request: &Request<B>,
        info: &impl RequestInfo,
        capture: &HeaderCapture,
    ) -> ServerRequest {
        describe(
            request,
            info,
            capture,
            &RequestHeaders::read(request.headers()),
        )
    }

    #[test]
    fn http_request_with_route() {
        let request = Request::get("/users/42?token=abc&x=1")
            .header("host", "127.0.0.1:8080")
            .header("user-agent", "test/1")
            .header("x-request-id", "r1")
            .header("authorization", "Bearer secret")
            .body(())
            .unwrap();
        let capture = HeaderCapture::new(HeaderSide::Request, ["x-request-id", "authorization"]);
        let described = described(&request, &Fixed, &capture);
        assert_eq!(described.name, "GET /users/{id}");
        assert_eq!(described.protocol, Protocol::Http);
        let a = &described.attributes;
        assert_eq!(get(a, HTTP_REQUEST_METHOD), Some("GET".into()));
        assert_eq!(get(a, HTTP_ROUTE), Some("/users/{id}".into()));
        assert_eq!(get(a, URL_PATH), Some("/users/42".into()));
        assert_eq!(get(a, URL_QUERY), Some("token=REDACTED&x=1".into()));
        assert_eq!(get(a, URL_SCHEME), Some("http".into()));
        assert_eq!(get(a, SERVER_ADDRESS), Some("127.0.0.1".into()));
        assert_eq!(get(a, SERVER_PORT), Some(8080i64.into()));
        assert_eq!(get(a, CLIENT_ADDRESS), Some("127.0.0.1".into()));
        assert_eq!(get(a, NETWORK_PROTOCOL_VERSION), Some("1.1".into()));
        assert_eq!(get(a, USER_AGENT_ORIGINAL), Some("test/1".into()));
        assert!(get(a, "http.request.header.x-request-id").is_some());
        assert!(get(a, "http.request.header.authorization").is_none());
    }

    /// Behind a proxy, `server.*` and `url.scheme` describe what the client
    /// asked for: `Forwarded`'s host and proto first, then
    /// `X-Forwarded-Host`/`-Proto`, then the request's own authority and
    /// scheme (the HTTP server conventions' order).
    #[test]
    fn a_proxy_reported_host_and_scheme_come_first() {
        let attributes = |headers: &[(&str, &str)]| {
            let mut request = Request::get("/users/42");
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            described(
                &request.body(()).unwrap(),
                &Fixed,
                &HeaderCapture::default(),
            )
            .attributes
        };
        let address = |a: &[KeyValue]| {
            (
                get(a, URL_SCHEME),
                get(a, SERVER_ADDRESS),
                get(a, SERVER_PORT),
            )
        };
        let expect = |scheme: &'static str, host: &'static str, port: i64| {
            (Some(scheme.into()), Some(host.into()), Some(port.into()))
        };
        let internal = ("host", "10.0.0.7:8080");
        assert_eq!(
            address(&attributes(&[internal])),
            expect("http", "10.0.0.7", 8080)
        );
        let forwarded = (
            "forwarded",
            "for=192.0.2.60;proto=https;host=public.example, for=10.0.0.1;host=lb.internal",
        );
        let a = attributes(&[internal, forwarded, ("x-forwarded-host", "other.example")]);
        assert_eq!(address(&a), expect("https", "public.example", 443));
        assert_eq!(get(&a, CLIENT_ADDRESS), Some("192.0.2.60".into()));
        let a = attributes(&[
            internal,
            ("x-forwarded-host", "shop.example:8443, lb.internal"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(address(&a), expect("https", "shop.example", 8443));
        let a = attributes(&[
            internal,
            ("forwarded", "for=192.0.2.60;host=\"[2001:db8::1]:9000\""),
        ]);
        assert_eq!(address(&a), expect("http", "2001:db8::1", 9000));
    }

    #[test]
    fn user_agents_are_kept_whole_and_repeated_ones_shared() {
        let agent_of = |value: &[u8]| {
            let request = Request::get("/")
                .header("user-agent", http::HeaderValue::from_bytes(value).unwrap())
                .body(())
                .unwrap();
            let described = described(&request, &NoRequestInfo, &HeaderCapture::default());
            get(&described.attributes, USER_AGENT_ORIGINAL).unwrap()
        };
        let first = agent_of(b"describe-agent/2.1");
        let second = agent_of(b"describe-agent/2.1");
        assert_eq!(first, "describe-agent/2.1".into());
        // Interned: both spans point at one copy of the text.
        let text = |value: &opentelemetry::Value| match value {
            opentelemetry::Value::String(s) => s.as_str().as_ptr(),
            other => panic!("not a string: {other:?}"),
        };
        assert!(std::ptr::eq(text(&first), text(&second)));
        // Beyond visible ASCII: UTF-8 kept as it is, other bytes replaced.
        assert_eq!(agent_of("agent/é".as_bytes()), "agent/é".into());
        assert_eq!(agent_of(b"agent/\xff"), "agent/\u{fffd}".into());
    }

    #[test]
    fn unknown_method_without_route() {
        let request = Request::builder()
            .method("PURGE")
            .uri("/cache")
            .header("host", "example.com")
            .body(())
            .unwrap();
        let described = described(&request, &NoRequestInfo, &HeaderCapture::default());
        assert_eq!(described.name, "HTTP");
        let a = &described.attributes;
        assert_eq!(get(a, HTTP_REQUEST_METHOD), Some("_OTHER".into()));
        assert_eq!(get(a, HTTP_REQUEST_METHOD_ORIGINAL), Some("PURGE".into()));
        assert_eq!(get(a, SERVER_PORT), Some(80i64.into()));
        assert!(get(a, HTTP_ROUTE).is_none());
        assert!(get(a, URL_QUERY).is_none());
    }

    #[test]
    fn grpc_request_gets_rpc_conventions() {
        let request = Request::post("/helloworld.Greeter/SayHello")
            .header("content-type", "application/grpc")
            .version(Version::HTTP_2)
            .body(())
            .unwrap();
        let described = described(&request, &Fixed, &HeaderCapture::default());
        assert_eq!(described.name, "helloworld.Greeter/SayHello");
        assert_eq!(described.protocol, Protocol::Grpc);
        let a = &described.attributes;
        assert_eq!(get(a, "rpc.system"), Some("grpc".into()));
        assert_eq!(get(a, "rpc.service"), Some("helloworld.Greeter".into()));
        assert_eq!(get(a, "rpc.method"), Some("SayHello".into()));
        assert_eq!(get(a, NETWORK_PROTOCOL_VERSION), Some("2".into()));
        assert!(get(a, HTTP_ROUTE).is_none());
    }
}
