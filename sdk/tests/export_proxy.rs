//! OTLP over https through an HTTP proxy named by `HTTPS_PROXY`: the
//! exporter tunnels with `CONNECT`, and TLS still ends at the collector.
//! Its own test binary, since the proxy variables are process-wide.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanExporter;
use tracekit::export::otlp::OtlpConfig;
use tracekit::testing::receiver::{OtlpReceiver, TestCertificates};
use tracekit::testing::SpanDataBuilder;

/// A `CONNECT`-only proxy on 127.0.0.1 recording the targets it tunnels to.
fn start_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&targets);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || tunnel(client, &seen));
        }
    });
    (address, targets)
}

/// Serve one `CONNECT`: note the target, connect, then copy both ways.
fn tunnel(mut client: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => return,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n");
        return;
    };
    seen.lock().unwrap().push(target.to_string());
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
    let mut client_write = client.try_clone().unwrap();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up_write);
        let _ = up_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Write);
}

#[test]
fn https_export_goes_through_the_https_proxy() {
    let pki = TestCertificates::generate().unwrap();
    let dir = std::env::temp_dir().join(format!("tracekit-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = pki.write_to(&dir).unwrap();
    let receiver = OtlpReceiver::start_tls(pki.receiver_tls()).unwrap();
    let (proxy, targets) = start_proxy();
    // The only test of this binary: nothing else reads the environment.
    std::env::set_var("HTTPS_PROXY", &proxy);
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    let mut env = receiver.env("http/protobuf");
    env.insert(
        "OTEL_EXPORTER_OTLP_CERTIFICATE".into(),
        files.ca.display().to_string(),
    );
    let config = OtlpConfig::from_env(&env as &HashMap<String, String>)
        .with_timeout(Duration::from_secs(5))
        .without_retry();
    let exporter = config.build_exporter().expect("exporter");
    let span = SpanDataBuilder::new("through-proxy")
        .trace_id(TraceId::from(7))
        .span_id(SpanId::from(7))
        .build();
    std::thread::spawn(move || futures_executor::block_on(exporter.export(vec![span])))
        .join()
        .unwrap()
        .expect("export through the proxy");

    assert_eq!(receiver.span_count(), 1);
    let receiver_address = receiver.http_endpoint().replace("https://", "");
    assert_eq!(*targets.lock().unwrap(), vec![receiver_address]);
}
