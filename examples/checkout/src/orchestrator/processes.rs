//! The six service processes: the demo binary started again with
//! `--service NAME`, on ports the demo picked, each holding a pipe to the
//! demo on its standard input. They stop when that pipe closes; whatever
//! is still running when a [`ServiceSet`] (or a [`ServiceProcess`]) is
//! dropped, after an error or a panic included, is killed.

use crate::services::{ServiceName, HEALTH_ROUTE};
use std::collections::BTreeMap;
use std::io;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How often health and exit are polled.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long a dropped process gets to stop by itself before it is killed.
const DROP_GRACE: Duration = Duration::from_secs(2);

/// Variables the services must not inherit: `OTEL_SERVICE_NAME` would give
/// all six the same name.
pub const NOT_INHERITED: [&str; 1] = ["OTEL_SERVICE_NAME"];

/// `n` distinct free ports on 127.0.0.1 (all bound at once, then released
/// for the services to take).
pub fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// One running service.
#[derive(Debug)]
pub struct ServiceProcess {
    name: ServiceName,
    url: String,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl ServiceProcess {
    /// Start `exe --service name --port port ...`; `queue` is given to
    /// the services that use one.
    pub fn spawn(
        exe: &Path,
        name: ServiceName,
        port: u16,
        receiver: &str,
        urls: &BTreeMap<ServiceName, String>,
        queue: &str,
    ) -> io::Result<ServiceProcess> {
        let mut command = Command::new(exe);
        command
            .arg("--service")
            .arg(name.as_str())
            .arg("--port")
            .arg(port.to_string())
            .arg("--receiver")
            .arg(receiver)
            .arg("--stop-on-stdin-close");
        for peer in name.calls() {
            if let Some(url) = urls.get(peer) {
                command.arg("--peer").arg(format!("{peer}={url}"));
            }
        }
        if name.uses_queue() {
            command.arg("--queue").arg(queue);
        }
        for var in NOT_INHERITED {
            command.env_remove(var);
        }
        // The demo says where its traces go; six start-up lines from
        // tracekit would only repeat it.
        command.env("TRACEKIT_QUIET", "true");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        Ok(ServiceProcess {
            name,
            url: format!("http://127.0.0.1:{port}"),
            child,
            stdin,
        })
    }

    /// Which service.
    pub fn name(&self) -> ServiceName {
        self.name
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Ask it to stop (flushing its spans): close its standard input.
    pub fn request_stop(&mut self) {
        self.stdin.take();
    }

    /// Wait for its exit until `deadline`; kill it after that. The exit
    /// status, and whether it had to be killed.
    pub fn wait_or_kill(&mut self, deadline: Instant) -> (Option<ExitStatus>, bool) {
        loop {
            if let Some(status) = self.exited() {
                return (Some(status), false);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                return (self.child.wait().ok(), true);
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if self.exited().is_none() {
            self.request_stop();
            self.wait_or_kill(Instant::now() + DROP_GRACE);
        }
    }
}

/// The six services, started together.
#[derive(Debug)]
pub struct ServiceSet {
    processes: Vec<ServiceProcess>,
}

impl ServiceSet {
    /// Start all six on free 127.0.0.1 ports, exporting to `receiver`,
    /// checkout and notifications using the queue at `queue`.
    pub fn start(exe: &Path, receiver: &str, queue: &str) -> Result<ServiceSet, String> {
        let ports = free_ports(ServiceName::ALL.len())
            .map_err(|e| format!("cannot find free ports on 127.0.0.1: {e}"))?;
        let urls: BTreeMap<ServiceName, String> = ServiceName::ALL
            .iter()
            .zip(&ports)
            .map(|(name, port)| (*name, format!("http://127.0.0.1:{port}")))
            .collect();
        let mut processes = Vec::with_capacity(ports.len());
        for (name, port) in ServiceName::ALL.into_iter().zip(ports) {
            // On failure, `processes` is dropped: those started are stopped.
            let process = ServiceProcess::spawn(exe, name, port, receiver, &urls, queue)
                .map_err(|e| format!("cannot start {name} ({}): {e}", exe.display()))?;
            processes.push(process);
        }
        Ok(ServiceSet { processes })
    }

    /// The base URL of `name`.
    pub fn url(&self, name: ServiceName) -> Option<&str> {
        self.processes
            .iter()
            .find(|p| p.name() == name)
            .map(ServiceProcess::url)
    }

    /// The services and their URLs, in start order.
    pub fn urls(&self) -> impl Iterator<Item = (ServiceName, &str)> {
        self.processes.iter().map(|p| (p.name(), p.url()))
    }

    /// Wait until every service answers its health check (never traced).
    /// Fails when one exits first or `timeout` passes.
    pub fn wait_healthy(&mut self, timeout: Duration) -> Result<(), String> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let deadline = Instant::now() + timeout;
        let mut pending: Vec<usize> = (0..self.processes.len()).collect();
        while !pending.is_empty() {
            let mut still = Vec::with_capacity(pending.len());
            for i in pending {
                let process = &mut self.processes[i];
                if let Some(status) = process.exited() {
                    return Err(format!(
                        "{} exited before it was ready ({status})",
                        process.name()
                    ));
                }
                let healthy = client
                    .get(format!("{}{HEALTH_ROUTE}", process.url()))
                    .send()
                    .is_ok_and(|r| r.status().is_success());
                if !healthy {
                    still.push(i);
                }
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                let names: Vec<String> = pending
                    .iter()
                    .map(|&i| self.processes[i].name().to_string())
                    .collect();
                return Err(format!("not ready after {timeout:?}: {}", names.join(", ")));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
        Ok(())
    }

    /// Stop every service (each flushes its spans on the way out), waiting
    /// at most `timeout` before killing. Fails when one had to be killed or
    /// exited with an error.
    pub fn stop(mut self, timeout: Duration) -> Result<(), String> {
        self.stop_all(timeout)
    }

    fn stop_all(&mut self, timeout: Duration) -> Result<(), String> {
        for process in &mut self.processes {
            process.request_stop();
        }
        let deadline = Instant::now() + timeout;
        let mut problems = Vec::new();
        for process in &mut self.processes {
            match process.wait_or_kill(deadline) {
                (_, true) => problems.push(format!(
                    "{} did not stop within {timeout:?} and was killed",
                    process.name()
                )),
                (Some(status), false) if !status.success() => {
                    problems.push(format!("{} exited with {status}", process.name()))
                }
                _ => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

impl Drop for ServiceSet {
    fn drop(&mut self) {
        // All at once, so they wind down in parallel; each process's own
        // drop then waits for it (and kills it if need be).
        for process in &mut self.processes {
            process.request_stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct() {
        let ports = free_ports(5).unwrap();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        assert!(ports.iter().all(|&p| p != 0));
    }
}
