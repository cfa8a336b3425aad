//! `docker stop` sends SIGTERM: the service stops serving through
//! `tracekit::shutdown_signal()`, its guard drops, and the spans still
//! buffered (the batch delay is 5 s by default, an hour in
//! `OtlpReceiver::command`) reach the collector before it exits.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use tracekit::testing::receiver::{terminate, OtlpReceiver};

/// One `POST /test` with an empty list of calls; the response's status line.
fn post_empty_test(address: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .write_all(
            b"POST /test HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 2\r\nConnection: close\r\n\r\n[]",
        )
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_string()
}

#[test]
fn sigterm_delivers_the_buffered_spans_before_exit() {
    let receiver = OtlpReceiver::start().unwrap();
    let mut child = receiver
        .command(env!("CARGO_BIN_EXE_w3c-test-service"))
        .args(["--port", "0"])
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let address = line
        .trim()
        .rsplit("http://")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{line:?}");

    for _ in 0..3 {
        assert_eq!(post_empty_test(&address), "HTTP/1.1 200 OK");
    }
    // Nothing exported yet: the spans wait for the batch.
    assert_eq!(receiver.span_count(), 0);

    terminate(&child).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);

    // The process has exited: whatever arrived, arrived before exit.
    assert!(
        receiver.wait_for_spans(3, Duration::from_millis(1)),
        "{stderr}"
    );
    let spans = receiver.spans();
    assert_eq!(spans.len(), 3, "{stderr}");
    for span in &spans {
        assert_eq!(span.span.name, "POST /test");
        assert_eq!(span.service_name(), "w3c-test-service");
    }
}
