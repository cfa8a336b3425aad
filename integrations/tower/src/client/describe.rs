//! The name and start attributes of a client span.

use crate::address::{default_port, split_host_port};
use crate::grpc::{is_grpc, service_and_method};
use crate::method::KnownMethod;
use crate::redaction::redact_url;
use http::header::HOST;
use http::{HeaderMap, Method, Uri};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, SERVER_ADDRESS, SERVER_PORT, URL_FULL,
    URL_TEMPLATE,
};
#[allow(deprecated)]
use opentelemetry_semantic_conventions::attribute::{RPC_METHOD, RPC_SERVICE, RPC_SYSTEM};
use std::borrow::Cow;

/// What a client span starts with.
#[derive(Clone, Debug)]
pub struct ClientRequest {
    /// The span name: `{method}`, `{method} {template}`, or
    /// `package.Service/Method` for gRPC.
    pub name: Cow<'static, str>,
    /// The start attributes.
    pub attributes: Vec<KeyValue>,
    /// Whether the request is gRPC (RPC conventions apply).
    pub grpc: bool,
}

/// Name and attributes for a client request to `url` (any absolute URL
/// text; it is redacted here), with the optional caller-given template.
/// Shared by this crate's client layer and `tracekit-reqwest`.
pub fn describe_client_request(
    method: &Method,
    url: &str,
    headers: &HeaderMap,
    template: Option<&str>,
) -> ClientRequest {
    let mut attributes = Vec::with_capacity(8);
    let uri: Option<Uri> = url.parse().ok();
    if let Some(uri) = &uri {
        if let Some((host, port)) = uri.authority().and_then(|a| split_host_port(a.as_str())) {
            attributes.push(KeyValue::new(SERVER_ADDRESS, host.to_owned()));
            if let Some(port) = port.or_else(|| uri.scheme_str().and_then(default_port)) {
                attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            }
        }
    }
    if is_grpc(headers) {
        let path = uri.as_ref().map(Uri::path).unwrap_or("");
        #[allow(deprecated)]
        attributes.push(KeyValue::new(RPC_SYSTEM, "grpc"));
        let name = match service_and_method(path) {
            Some((service, rpc)) => {
                #[allow(deprecated)]
                attributes.extend([
                    KeyValue::new(RPC_SERVICE, service.to_owned()),
                    KeyValue::new(RPC_METHOD, rpc.to_owned()),
                ]);
                Cow::Owned(path[1..].to_owned())
            }
            None => Cow::Borrowed("grpc"),
        };
        return ClientRequest {
            name,
            attributes,
            grpc: true,
        };
    }
    let known = KnownMethod::of(method);
    attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, known.attribute_value()));
    if let Some(original) = known.original() {
        attributes.push(KeyValue::new(
            HTTP_REQUEST_METHOD_ORIGINAL,
            original.to_owned(),
        ));
    }
    attributes.push(KeyValue::new(URL_FULL, redact_url(url).into_owned()));
    let name = match template {
        Some(template) => {
            attributes.push(KeyValue::new(URL_TEMPLATE, template.to_owned()));
            Cow::Owned(format!("{} {template}", known.span_name()))
        }
        None => Cow::Borrowed(known.span_name()),
    };
    ClientRequest {
        name,
        attributes,
        grpc: false,
    }
}

/// `scheme://authority` of `uri` (scheme `http` when none is written),
/// or `None` when it has no authority.
pub(crate) fn origin_prefix(uri: &Uri) -> Option<String> {
    let authority = uri.authority()?;
    let scheme = uri.scheme_str().unwrap_or("http");
    Some(format!("{scheme}://{authority}"))
}

/// The URL of a request for `uri`: `uri` itself when it has an authority
/// or no `origin` is known, else its path and query after `origin`.
pub(crate) fn request_url(uri: &Uri, origin: Option<&str>) -> String {
    match origin {
        Some(origin) if uri.authority().is_none() => {
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            let mut url = String::with_capacity(origin.len() + path.len());
            url.push_str(origin);
            url.push_str(path);
            url
        }
        _ => uri.to_string(),
    }
}

/// `server.address` and, when written, `server.port` from the `Host`
/// header, for a request whose URL named no server.
pub(crate) fn push_host_header_server(headers: &HeaderMap, attributes: &mut Vec<KeyValue>) {
    let Some((host, port)) = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(split_host_port)
    else {
        return;
    };
    attributes.push(KeyValue::new(SERVER_ADDRESS, host.to_owned()));
    if let Some(port) = port {
        attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::attribute_value as get;

    #[test]
    fn http_client_request() {
        let described = describe_client_request(
            &Method::GET,
            "https://u:p@api.example/users/42?password=x",
            &HeaderMap::new(),
            Some("/users/{id}"),
        );
        assert_eq!(described.name, "GET /users/{id}");
        let a = &described.attributes;
        assert_eq!(
            get(a, URL_FULL),
            Some("https://REDACTED:REDACTED@api.example/users/42?password=REDACTED".into())
        );
        assert_eq!(get(a, SERVER_ADDRESS), Some("api.example".into()));
        assert_eq!(get(a, SERVER_PORT), Some(443i64.into()));
        assert_eq!(get(a, URL_TEMPLATE), Some("/users/{id}".into()));
        assert!(!described.grpc);
    }

    #[test]
    fn unknown_method_and_no_template() {
        let method = Method::from_bytes(b"PURGE").unwrap();
        let described =
            describe_client_request(&method, "http://127.0.0.1:9/x", &HeaderMap::new(), None);
        assert_eq!(described.name, "HTTP");
        assert_eq!(get(&described.attributes, SERVER_PORT), Some(9i64.into()));
        assert_eq!(
            get(&described.attributes, HTTP_REQUEST_METHOD_ORIGINAL),
            Some("PURGE".into())
        );
    }

    #[test]
    fn grpc_client_request() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/grpc".parse().unwrap());
        let described = describe_client_request(
            &Method::POST,
            "http://127.0.0.1:50051/helloworld.Greeter/SayHello",
            &headers,
            None,
        );
        assert!(described.grpc);
        assert_eq!(described.name, "helloworld.Greeter/SayHello");
        assert_eq!(
            get(&described.attributes, "rpc.method"),
            Some("SayHello".into())
        );
        assert!(get(&described.attributes, URL_FULL).is_none());
    }

    #[test]
    fn origins_and_request_urls() {
        let origin = |text: &str| origin_prefix(&text.parse().unwrap());
        assert_eq!(
            origin("http://127.0.0.1:50051").as_deref(),
            Some("http://127.0.0.1:50051")
        );
        assert_eq!(
            origin("https://api.example/prefix").as_deref(),
            Some("https://api.example")
        );
        assert_eq!(origin("[::1]:9").as_deref(), Some("http://[::1]:9"));
        assert_eq!(origin("/path/only"), None);

        let path_only: Uri = "/demo.v1.Greeter/SayHello?x=1".parse().unwrap();
        assert_eq!(
            request_url(&path_only, Some("http://h:1")),
            "http://h:1/demo.v1.Greeter/SayHello?x=1"
        );
        assert_eq!(
            request_url(&path_only, None),
            "/demo.v1.Greeter/SayHello?x=1"
        );
        let absolute: Uri = "http://other:2/x".parse().unwrap();
        assert_eq!(
            request_url(&absolute, Some("http://h:1")),
            "http://other:2/x"
        );
    }

    #[test]
    fn host_header_names_the_server_of_a_path_only_request() {
        let mut attributes = Vec::new();
        let mut headers = HeaderMap::new();
        push_host_header_server(&headers, &mut attributes);
        assert!(attributes.is_empty());
        headers.insert(HOST, "h.example:8443".parse().unwrap());
        push_host_header_server(&headers, &mut attributes);
        assert_eq!(get(&attributes, SERVER_ADDRESS), Some("h.example".into()));
        assert_eq!(get(&attributes, SERVER_PORT), Some(8443i64.into()));
        let mut attributes = Vec::new();
        headers.insert(HOST, "h.example".parse().unwrap());
        push_host_header_server(&headers, &mut attributes);
        assert_eq!(get(&attributes, SERVER_ADDRESS), Some("h.example".into()));
        assert_eq!(get(&attributes, SERVER_PORT), None);
        let mut attributes = Vec::new();
        headers.insert(HOST, http::HeaderValue::from_bytes(b"\xff").unwrap());
        push_host_header_server(&headers, &mut attributes);
        assert!(attributes.is_empty());
    }
}
