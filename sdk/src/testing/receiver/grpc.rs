//! The OTLP/gRPC side of the receiver: `TraceService/Export`.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic_types::{ErrorDetails, StatusExt};

use super::http::MAX_BODY;
use super::store::{ReceivedRequest, ReceivedVia, Store};

/// The gRPC trace service storing what it receives.
#[derive(Debug)]
pub(crate) struct GrpcTraceService {
    store: Arc<Store>,
}

/// The tonic service, accepting gzip and raw messages up to [`MAX_BODY`].
pub(crate) fn service(store: Arc<Store>) -> TraceServiceServer<GrpcTraceService> {
    TraceServiceServer::new(GrpcTraceService { store })
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(MAX_BODY)
}

#[tonic::async_trait]
impl TraceService for GrpcTraceService {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        if let Some(scripted) = self.store.begin_attempt() {
            let code = scripted.grpc_code();
            let message = format!("scripted response {}", scripted.status);
            return Err(match scripted.retry_after {
                Some(delay) => tonic::Status::with_error_details(
                    code,
                    message,
                    ErrorDetails::with_retry_info(Some(delay)),
                ),
                None => tonic::Status::new(code, message),
            });
        }
        let metadata = request.metadata();
        let gzip = metadata
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let headers = metadata
            .clone()
            .into_headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.store.accept(ReceivedRequest {
            via: ReceivedVia::Grpc,
            gzip,
            headers,
            request: request.into_inner(),
        });
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}
