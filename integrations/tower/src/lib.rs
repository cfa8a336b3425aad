//! tracekit integration for tower (work in progress: see the HTTP auto-instrumentation issue).
