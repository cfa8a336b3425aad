//! Command-line arguments.
//!
//! ```text
//! checkout-demo [--orders N]
//! checkout-demo --service NAME --port P [--bind IP] [--receiver URL]
//!               [--peer NAME=URL]... [--queue URL] [--stop-on-stdin-close]
//! ```
//!
//! The first form is the demo; the second runs one service (the demo
//! starts its six services that way, a deployment runs them directly).
//! Checkout and notifications need `--queue`: `nats://HOST:PORT` for a
//! NATS server, or the `http://` URL of the demo's embedded queue.

use crate::services::ServiceName;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// How many orders the demo sends when `--orders` is not given.
pub const DEFAULT_ORDERS: u32 = 5;

/// The most orders one run sends.
pub const MAX_ORDERS: u32 = 100;

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// The whole demo: start the services, send orders, show the traces.
    Demo {
        /// How many orders to send.
        orders: u32,
    },
    /// One service.
    Service(ServiceArgs),
    /// Print [`USAGE`].
    Help,
}

/// Arguments of one service process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceArgs {
    /// Which service.
    pub service: ServiceName,
    /// Address to listen on (default 127.0.0.1).
    pub bind: IpAddr,
    /// Port to listen on.
    pub port: u16,
    /// OTLP/HTTP base URL of the demo's receiver, exported to besides
    /// whatever `OTEL_EXPORTER_OTLP_*` selects.
    pub receiver: Option<String>,
    /// Base URLs of the services this one calls.
    pub peers: BTreeMap<ServiceName, String>,
    /// The queue checkout publishes to and notifications consumes from
    /// (see [`crate::queue`]).
    pub queue: Option<String>,
    /// Shut down when standard input closes (the demo holds the other end,
    /// so services never outlive it).
    pub stop_on_stdin_close: bool,
}

/// The usage text.
pub const USAGE: &str = "usage: checkout-demo [--orders N]\n       \
checkout-demo --service gateway|checkout|payment|fraud|inventory|notifications --port P \
[--bind IP] [--receiver URL] [--peer NAME=URL]... [--queue URL] [--stop-on-stdin-close]";

/// Parse the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut orders = None;
    let mut service = None;
    let mut port = None;
    let mut bind = None;
    let mut receiver = None;
    let mut peers = BTreeMap::new();
    let mut queue = None;
    let mut stop_on_stdin_close = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        if flag == "--stop-on-stdin-close" && inline.is_none() {
            stop_on_stdin_close = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Ok(Command::Help);
        }
        let mut value = || -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "--orders" => {
                let raw = value()?;
                let n: u32 = raw
                    .parse()
                    .map_err(|_| format!("invalid --orders {raw:?}: expected a number"))?;
                if n == 0 || n > MAX_ORDERS {
                    return Err(format!("--orders must be between 1 and {MAX_ORDERS}"));
                }
                orders = Some(n);
            }
            "--service" => {
                let raw = value()?;
                service = Some(
                    ServiceName::parse(&raw).ok_or_else(|| format!("unknown service {raw:?}"))?,
                );
            }
            "--port" => {
                let raw = value()?;
                port = Some(
                    raw.parse::<u16>()
                        .map_err(|_| format!("invalid --port {raw:?}"))?,
                );
            }
            "--bind" => {
                let raw = value()?;
                bind = Some(
                    raw.parse::<IpAddr>()
                        .map_err(|_| format!("invalid --bind {raw:?}: expected an IP address"))?,
                );
            }
            "--receiver" => receiver = Some(value()?),
            "--queue" => {
                let raw = value()?;
                if raw.is_empty() {
                    return Err("--queue needs a URL".to_string());
                }
                queue = Some(raw);
            }
            "--peer" => {
                let raw = value()?;
                let (name, url) = raw
                    .split_once('=')
                    .ok_or_else(|| format!("invalid --peer {raw:?}: expected NAME=URL"))?;
                let name = ServiceName::parse(name)
                    .ok_or_else(|| format!("invalid --peer {raw:?}: unknown service {name:?}"))?;
                if url.is_empty() {
                    return Err(format!("invalid --peer {raw:?}: empty URL"));
                }
                peers.insert(name, url.trim_end_matches('/').to_string());
            }
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
        }
    }
    match service {
        None => {
            if port.is_some()
                || bind.is_some()
                || receiver.is_some()
                || !peers.is_empty()
                || queue.is_some()
            {
                return Err(format!(
                    "--port, --bind, --receiver, --peer and --queue need --service\n{USAGE}"
                ));
            }
            Ok(Command::Demo {
                orders: orders.unwrap_or(DEFAULT_ORDERS),
            })
        }
        Some(service) => {
            if orders.is_some() {
                return Err("--orders is for the demo, not a single service".to_string());
            }
            let port = port.ok_or_else(|| format!("--service needs --port\n{USAGE}"))?;
            for needed in service.calls() {
                if !peers.contains_key(needed) {
                    return Err(format!(
                        "{service} calls {needed}: give --peer {needed}=URL"
                    ));
                }
            }
            if service.uses_queue() && queue.is_none() {
                return Err(format!(
                    "{service} uses the order.confirmed queue: give --queue URL"
                ));
            }
            Ok(Command::Service(ServiceArgs {
                service,
                bind: bind.unwrap_or(IpAddr::from([127, 0, 0, 1])),
                port,
                receiver,
                peers,
                queue,
                stop_on_stdin_close,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_list(list: &[&str]) -> Result<Command, String> {
        parse(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn the_demo_is_the_default() {
        assert_eq!(
            parse_list(&[]),
            Ok(Command::Demo {
                orders: DEFAULT_ORDERS
            })
        );
        assert_eq!(
            parse_list(&["--orders", "3"]),
            Ok(Command::Demo { orders: 3 })
        );
        assert_eq!(parse_list(&["--orders=7"]), Ok(Command::Demo { orders: 7 }));
    }

    #[test]
    fn bad_order_counts_are_refused() {
        for bad in [
            &["--orders"][..],
            &["--orders", "0"],
            &["--orders", "x"],
            &["--orders", "1000"],
        ] {
            assert!(parse_list(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn services_take_port_peers_and_receiver() {
        let parsed = parse_list(&[
            "--service",
            "checkout",
            "--port",
            "8081",
            "--receiver",
            "http://127.0.0.1:4318",
            "--peer",
            "payment=http://127.0.0.1:1/",
            "--peer=fraud=http://127.0.0.1:2",
            "--peer",
            "inventory=http://127.0.0.1:3",
            "--queue",
            "nats://127.0.0.1:4222",
            "--stop-on-stdin-close",
        ]);
        let Ok(Command::Service(args)) = parsed else {
            panic!("{parsed:?}");
        };
        assert_eq!(args.service, ServiceName::Checkout);
        assert_eq!(args.port, 8081);
        assert_eq!(args.bind, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(args.receiver.as_deref(), Some("http://127.0.0.1:4318"));
        assert_eq!(args.peers[&ServiceName::Payment], "http://127.0.0.1:1");
        assert_eq!(args.peers[&ServiceName::Fraud], "http://127.0.0.1:2");
        assert_eq!(args.queue.as_deref(), Some("nats://127.0.0.1:4222"));
        assert!(args.stop_on_stdin_close);
    }

    #[test]
    fn services_need_their_peers_and_a_port() {
        assert!(parse_list(&["--service", "payment"]).is_err());
        assert!(parse_list(&["--service", "gateway", "--port", "1"]).is_err());
        assert!(parse_list(&["--service", "billing", "--port", "1"]).is_err());
        assert!(parse_list(&["--service", "payment", "--port", "1", "--orders", "2"]).is_err());
        assert!(parse_list(&["--port", "1"]).is_err());
        assert!(parse_list(&["--service", "payment", "--port", "1", "--peer", "x"]).is_err());
        assert!(
            parse_list(&["--service", "payment", "--port", "1", "--bind", "localhost"]).is_err()
        );
        assert!(parse_list(&["--service", "payment", "--port", "1", "--bind", "0.0.0.0"]).is_ok());
        // Checkout and notifications need the queue; nobody else takes it
        // without --service.
        assert!(parse_list(&["--service", "notifications", "--port", "1"]).is_err());
        assert!(parse_list(&[
            "--service",
            "notifications",
            "--port",
            "1",
            "--queue",
            "http://127.0.0.1:2"
        ])
        .is_ok());
        assert!(parse_list(&["--service", "notifications", "--port", "1", "--queue="]).is_err());
        assert!(parse_list(&["--queue", "nats://127.0.0.1:4222"]).is_err());
    }

    #[test]
    fn unknown_arguments_are_refused() {
        assert!(parse_list(&["--verbose"]).is_err());
        assert_eq!(parse_list(&["--help"]), Ok(Command::Help));
    }
}
