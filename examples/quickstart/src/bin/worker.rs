//! A background worker: no server, so no graceful-shutdown hook, and it
//! runs until it is stopped. `flush_on_signal()` keeps its spans: on
//! SIGTERM (`docker stop`, Kubernetes) or SIGINT (Ctrl-C) tracekit exports
//! every span still buffered, then exits with status 143 or 130. Without
//! it the signal kills the process and up to 5 s of spans (the batch
//! delay) are lost.
//!
//! ```sh
//! cargo run -p quickstart --bin worker    # Ctrl-C to stop
//! ```

use opentelemetry::trace::{TraceContextExt, Tracer as _};
use opentelemetry::KeyValue;
use std::io::Write;
use std::time::Duration;
use tracekit::ExporterKind;

fn main() {
    let _guard = tracekit::builder()
        .service_name("worker")
        .default_exporters(&[ExporterKind::Console])
        .flush_on_signal()
        .install();

    let tracer = tracekit::tracer("worker");
    for job in 1_i64.. {
        tracer.in_span("process job", |cx| {
            cx.span().set_attribute(KeyValue::new("job.id", job));
            std::thread::sleep(Duration::from_millis(20));
        });
        // Progress on standard output (a test waits for it).
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "job {job} done");
        let _ = stdout.flush();
    }
}
