//! A real NATS server for tests (feature `testing`): [`NatsServer::start`]
//! runs `nats-server -a 127.0.0.1 -p PORT` on a free port, installing
//! Debian's `nats-server` package first when the binary is missing (this
//! needs root on a Debian-based machine, which this project's CI is), and
//! says why when it cannot: a test using it fails rather than passing
//! without a broker.
//!
//! ```no_run
//! let server = tracekit_nats::testing::NatsServer::start()
//!     .unwrap_or_else(|why| panic!("no NATS server: {why}"));
//! println!("connect to {}", server.url());
//! // dropping `server` stops it
//! ```

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a started server may take to accept connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A `nats-server` child process on 127.0.0.1, killed when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    port: u16,
}

impl NatsServer {
    /// Start a server on a free port of 127.0.0.1 and wait until it
    /// accepts connections; install `nats-server` first when it is not on
    /// `PATH` (see [`ensure_installed`]). The error says what failed.
    pub fn start() -> Result<NatsServer, String> {
        let binary = ensure_installed()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
        let child = Command::new(&binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = NatsServer { child, port };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = server.child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Err(format!(
                    "nats-server exited at start ({status}): {}",
                    stderr.trim()
                ));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "nats-server did not listen on 127.0.0.1:{port} within {START_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where Debian's package puts the binary, for a `PATH` without `sbin`.
const INSTALLED_AT: [&str; 2] = ["/usr/sbin/nats-server", "/usr/bin/nats-server"];

/// A `nats-server` that runs: from `PATH`, or where the package puts it.
fn find() -> Option<PathBuf> {
    std::iter::once("nats-server")
        .chain(INSTALLED_AT)
        .map(PathBuf::from)
        .find(|binary| {
            Command::new(binary)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let output = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run apt-get {}: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "apt-get {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The `nats-server` binary to run (from `PATH`, or where Debian's
/// package puts it): when there is none, install the package
/// (`apt-get install -y nats-server`, after an `apt-get update` if the
/// first try fails).
pub fn ensure_installed() -> Result<PathBuf, String> {
    if let Some(binary) = find() {
        return Ok(binary);
    }
    let install = ["install", "-y", "-qq", "nats-server"];
    if let Err(first) = apt_get(&install) {
        apt_get(&["update", "-qq"]).map_err(|e| format!("{first}; then {e}"))?;
        apt_get(&install).map_err(|e| format!("{first}; after apt-get update: {e}"))?;
    }
    find().ok_or_else(|| {
        "apt-get installed nats-server, yet `nats-server --version` does not run".to_string()
    })
}
