//! tracekit integration for reqwest (work in progress: see the HTTP auto-instrumentation issue).
