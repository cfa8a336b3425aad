//! The small tokio runtime owned by a gRPC OTLP exporter: tonic needs one,
//! and the thread calling `export` usually has none.

use std::future::Future;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

/// A one-worker multi-thread runtime. Work spawned on it progresses on its
/// own thread, so its results can be awaited from any executor.
#[derive(Debug)]
pub(crate) struct GrpcRuntime {
    runtime: Option<tokio::runtime::Runtime>,
}

impl GrpcRuntime {
    /// Start the runtime (one worker thread, timers and I/O enabled).
    pub fn new() -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tracekit-otlp-grpc")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the gRPC runtime: {e}"))?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    /// Run `f` with this runtime as the current one (for code that spawns
    /// onto "the current runtime" while being set up).
    pub fn in_context<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.runtime {
            Some(runtime) => {
                let _guard = runtime.enter();
                f()
            }
            None => f(),
        }
    }

    /// Run `future` on this runtime and wait for its result. The returned
    /// future can be awaited by any executor.
    pub async fn run<F>(&self, future: F) -> OTelSdkResult
    where
        F: Future<Output = OTelSdkResult> + Send + 'static,
    {
        let Some(runtime) = &self.runtime else {
            return Err(OTelSdkError::AlreadyShutdown);
        };
        runtime.spawn(future).await.map_err(|e| {
            OTelSdkError::InternalFailure(format!("the gRPC export task failed: {e}"))
        })?
    }
}

impl Drop for GrpcRuntime {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which tokio forbids inside another
        // runtime; letting it wind down in the background is always allowed.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
