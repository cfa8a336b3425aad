//! The OTLP/HTTP side of the receiver: `POST /v1/traces` with protobuf or
//! JSON bodies, optionally gzip-compressed.

use std::io::Read;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

use super::store::{ReceivedRequest, ReceivedVia, Store};

/// Largest accepted request body (the OTLP/HTTP specification's
/// recommended limit).
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// The router serving `POST /v1/traces`.
pub(crate) fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/v1/traces", post(export))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(store)
}

async fn export(State(store): State<Arc<Store>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(scripted) = store.begin_attempt() {
        let status =
            StatusCode::from_u16(scripted.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        if let Some(delay) = scripted.retry_after {
            let secs = delay.as_secs_f64().ceil() as u64;
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        return response;
    }

    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let via = if content_type.starts_with(PROTOBUF) {
        ReceivedVia::HttpProtobuf
    } else if content_type.starts_with(JSON) {
        ReceivedVia::HttpJson
    } else {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content type {content_type:?}"),
        )
            .into_response();
    };

    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let gzip = match encoding.as_str() {
        "gzip" => true,
        "identity" | "" => false,
        other => {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported content encoding {other:?}"),
            )
                .into_response()
        }
    };
    let body = if gzip {
        match gunzip(&body) {
            Ok(plain) => Bytes::from(plain),
            Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
        }
    } else {
        body
    };

    let decoded: Result<ExportTraceServiceRequest, String> = match via {
        ReceivedVia::HttpJson => serde_json::from_slice(&body).map_err(|e| e.to_string()),
        _ => ExportTraceServiceRequest::decode(body).map_err(|e| e.to_string()),
    };
    let request = match decoded {
        Ok(request) => request,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };

    store.accept(ReceivedRequest {
        via,
        gzip,
        headers: header_pairs(&headers),
        request,
    });

    let reply = ExportTraceServiceResponse {
        partial_success: None,
    };
    match via {
        ReceivedVia::HttpJson => match serde_json::to_vec(&reply) {
            Ok(json) => ([(header::CONTENT_TYPE, JSON)], json).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
        _ => ([(header::CONTENT_TYPE, PROTOBUF)], reply.encode_to_vec()).into_response(),
    }
}

/// Decompress a gzip body, refusing to inflate past [`MAX_BODY`].
fn gunzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut plain)
        .map_err(|e| format!("invalid gzip body: {e}"))?;
    if plain.len() > MAX_BODY {
        return Err("decompressed body too large".to_string());
    }
    Ok(plain)
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gunzip_round_trips_and_rejects_garbage() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"hello").unwrap();
        let compressed = encoder.finish().unwrap();
        assert_eq!(gunzip(&compressed).unwrap(), b"hello");
        assert!(gunzip(b"not gzip").is_err());
    }
}
