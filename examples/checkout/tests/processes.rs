//! The service processes never outlive their owner: dropped (after an
//! error or a panic) or stopped, every one is gone.

use checkout_demo::orchestrator::processes::{ServiceProcess, ServiceSet};
use checkout_demo::queue::EmbeddedQueue;
use checkout_demo::services::ServiceName;
use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};
use tracekit::testing::receiver::OtlpReceiver;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_checkout-demo"))
}

fn listening(url: &str) -> bool {
    let address = url.trim_start_matches("http://");
    TcpStream::connect(address).is_ok()
}

#[test]
fn a_dropped_set_leaves_no_service_running() {
    let receiver = OtlpReceiver::start().unwrap();
    let queue = EmbeddedQueue::start().unwrap();
    let mut services = ServiceSet::start(exe(), &receiver.http_endpoint(), queue.url()).unwrap();
    services.wait_healthy(Duration::from_secs(20)).unwrap();
    let urls: Vec<String> = services.urls().map(|(_, url)| url.to_string()).collect();
    assert_eq!(urls.len(), 6);
    assert!(urls.iter().all(|u| listening(u)));
    drop(services);
    for url in &urls {
        assert!(!listening(url), "{url} still answers after the drop");
    }
    // Nothing was traced: only health checks ran.
    assert_eq!(receiver.span_count(), 0);
}

#[test]
fn a_panic_still_stops_the_services() {
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.http_endpoint();
    let queue = EmbeddedQueue::start().unwrap();
    let queue_url = queue.url().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let mut services = ServiceSet::start(exe(), &endpoint, &queue_url).unwrap();
        services.wait_healthy(Duration::from_secs(20)).unwrap();
        let urls: Vec<String> = services.urls().map(|(_, url)| url.to_string()).collect();
        tx.send(urls).unwrap();
        panic!("the demo failed half-way");
    })
    .join();
    assert!(outcome.is_err());
    let urls = rx.recv().unwrap();
    for url in &urls {
        assert!(!listening(url), "{url} still answers after the panic");
    }
}

#[test]
fn a_service_that_ignores_the_pipe_is_killed() {
    // The kill path: with its deadline already passed, a running service
    // is killed at once instead of being waited for.
    let receiver = OtlpReceiver::start().unwrap();
    let port = checkout_demo::orchestrator::processes::free_ports(1).unwrap()[0];
    let mut payment = ServiceProcess::spawn(
        exe(),
        ServiceName::Payment,
        port,
        &receiver.http_endpoint(),
        &BTreeMap::new(),
        "", // payment takes no queue
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !listening(payment.url()) {
        assert!(Instant::now() < deadline, "payment never listened");
        assert!(payment.exited().is_none(), "payment exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, killed) = payment.wait_or_kill(Instant::now());
    assert!(killed, "a running service is killed at the deadline");
    assert!(status.is_some_and(|s| !s.success()));
    assert!(!listening(payment.url()));
}
