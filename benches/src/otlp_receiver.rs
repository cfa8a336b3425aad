//! An OTLP/HTTP receiver on loopback that decodes nothing: it counts
//! requests, bytes and spans (walking the protobuf fields, no allocation)
//! and answers each request with an empty success. Export benchmarks send
//! to it so the receiving side costs next to nothing and the same for
//! every stack. Also: per-thread CPU times, to tell export threads' CPU
//! from the application's.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The receiver's thread names (as the kernel keeps them).
pub const RECEIVER: &str = "bench-receiver";

/// Counts what arrives; answers every request with an empty success.
#[derive(Default)]
pub struct Counts {
    requests: AtomicU64,
    bytes: AtomicU64,
    spans: AtomicU64,
}

impl Counts {
    /// Spans received since the last [`Counts::take`].
    pub fn spans(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
    }

    /// `(requests, bytes, spans)` since the last call.
    pub fn take(&self) -> (u64, u64, u64) {
        (
            self.requests.swap(0, Ordering::SeqCst),
            self.bytes.swap(0, Ordering::SeqCst),
            self.spans.swap(0, Ordering::SeqCst),
        )
    }
}

/// Start the receiver on 127.0.0.1: its address and its counts.
pub fn start_receiver() -> (SocketAddr, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
    let addr = listener.local_addr().expect("address");
    let counts = Arc::new(Counts::default());
    let accept_counts = Arc::clone(&counts);
    std::thread::Builder::new()
        .name(RECEIVER.into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let counts = Arc::clone(&accept_counts);
                let _ = std::thread::Builder::new()
                    .name(RECEIVER.into())
                    .spawn(move || serve(stream, &counts));
            }
        })
        .expect("receiver thread");
    (addr, counts)
}

/// HTTP/1.1 keep-alive: read a request (headers, then `Content-Length`
/// bytes), count it, answer 200 with an empty protobuf body.
fn serve(stream: TcpStream, counts: &Counts) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let mut length = 0usize;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        counts.requests.fetch_add(1, Ordering::Relaxed);
        counts.bytes.fetch_add(length as u64, Ordering::Relaxed);
        counts
            .spans
            .fetch_add(count_spans(&body), Ordering::Relaxed);
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\n\
                      content-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// The length-delimited fields numbered `tag` of a protobuf message.
fn fields(mut message: &[u8], tag: u64) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !message.is_empty() {
        let Ok(key) = prost::encoding::decode_varint(&mut message) else {
            break;
        };
        let skip = match key & 7 {
            0 => {
                let _ = prost::encoding::decode_varint(&mut message);
                0
            }
            1 => 8,
            5 => 4,
            2 => match prost::encoding::decode_varint(&mut message) {
                Ok(len) => len as usize,
                Err(_) => break,
            },
            _ => break,
        };
        if skip > message.len() {
            break;
        }
        if key & 7 == 2 && key >> 3 == tag {
            out.push(&message[..skip]);
        }
        message = &message[skip..];
    }
    out
}

/// Spans in an `ExportTraceServiceRequest`: resource_spans (1), then
/// scope_spans (2), then spans (2).
fn count_spans(request: &[u8]) -> u64 {
    fields(request, 1)
        .into_iter()
        .flat_map(|resource_spans| fields(resource_spans, 2))
        .map(|scope_spans| fields(scope_spans, 2).len() as u64)
        .sum()
}

/// CPU time of each thread of this process, by thread id, with its name.
pub fn thread_cpu() -> HashMap<u32, (String, Duration)> {
    let mut out = HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let nanos = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        out.insert(tid, (name.trim().to_string(), Duration::from_nanos(nanos)));
    }
    out
}

/// CPU used since `before` by the threads `counted` accepts (by name).
pub fn cpu_since(
    before: &HashMap<u32, (String, Duration)>,
    counted: impl Fn(u32, &str) -> bool,
) -> Duration {
    thread_cpu()
        .into_iter()
        .filter(|(tid, (name, _))| counted(*tid, name))
        .map(|(tid, (_, now))| now.saturating_sub(before.get(&tid).map_or(Duration::ZERO, |b| b.1)))
        .sum()
}
