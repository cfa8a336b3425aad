//! The server layer keeps its own copies of host names and user agents
//! (interned, so repeated ones cost no allocation) within fixed budgets:
//! 200,000 requests that each bring a host and a user agent never seen
//! before leave the memory in use bounded. Its own test binary, so the
//! allocator count sees no other test.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::sync::atomic::{AtomicIsize, Ordering};
use tower::{service_fn, Layer, Service, ServiceExt};
use tracekit_propagators::TraceContextPropagator;
use tracekit_tower::HttpServerLayer;

/// The system allocator, counting the bytes in use.
struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call goes to the system allocator with the caller's
// arguments unchanged; the count is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn distinct_hosts_and_user_agents_leave_memory_bounded() {
    // Every span is recorded and ended, then dropped: no processor keeps it.
    let provider = tracekit::TracerProvider::builder().build();
    let layer = HttpServerLayer::builder()
        .tracer(provider.tracer("server"))
        .propagator(TraceContextPropagator::new())
        .build();
    let mut service = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
    }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut serve = |i: u32| {
        let request = Request::get("/items")
            .header("host", format!("h{i}.adversarial.example:8080"))
            .header(
                "user-agent",
                format!("adversarial-client/{i}.0 (probe {i})"),
            )
            .body(Full::new(Bytes::new()))
            .unwrap();
        runtime.block_on(async {
            let response = service.ready().await.unwrap().call(request).await.unwrap();
            response.into_body().collect().await.unwrap();
        });
    };
    // Past the first requests every budget is spent.
    for i in 0..20_000 {
        serve(i);
    }
    let before = IN_USE.load(Ordering::Relaxed);
    for i in 20_000..200_000 {
        serve(i);
    }
    let growth = IN_USE.load(Ordering::Relaxed) - before;
    assert!(
        growth < 256 * 1024,
        "180,000 more distinct hosts and user agents grew the heap by {growth} bytes"
    );
}
