//! tracekit integration for axum (work in progress: see the HTTP auto-instrumentation issue).
