//! Drives the built `w3c-test-service` binary on 127.0.0.1 the way the W3C
//! harness does, and checks what reaches an echo server.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";

/// One call as the echo server saw it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    traceparent: Vec<String>,
    tracestate: Vec<String>,
    body: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn echo_server() -> (String, Log) {
    let log: Log = Arc::default();
    let record = log.clone();
    let app = Router::new().route(
        "/echo/{n}",
        post(
            move |Path(n): Path<String>, headers: HeaderMap, body: Bytes| {
                let record = record.clone();
                async move {
                    let all = |name: &str| {
                        headers
                            .get_all(name)
                            .iter()
                            .map(|v| v.to_str().unwrap_or("").to_string())
                            .collect::<Vec<_>>()
                    };
                    record.lock().unwrap().push(Seen {
                        path: n,
                        traceparent: all("traceparent"),
                        tracestate: all("tracestate"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    "{}"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), log)
}

/// Start the service on a free port; returns it and its base URL.
async fn start_service() -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_w3c-test-service"))
        .args(["--port", "0"])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_TRACES_EXPORTER")
        .env_remove("OTEL_PROPAGATORS")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the service binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .expect("ready line in time")
    .unwrap();
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("the ready line ends with the URL")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url)
}

/// The echo server, the running service and a client, as each test
/// starts them.
struct Harness {
    echo: String,
    log: Log,
    child: Child,
    service: String,
    client: reqwest::Client,
}

impl Harness {
    async fn start() -> Harness {
        let (echo, log) = echo_server().await;
        let (child, service) = start_service().await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        Harness {
            echo,
            log,
            child,
            service,
            client,
        }
    }
}

fn parts(traceparent: &str) -> Vec<String> {
    traceparent.split('-').map(str::to_string).collect()
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks one outgoing traceparent is well formed; returns its fields.
fn valid(traceparent: &[String]) -> Vec<String> {
    assert_eq!(
        traceparent.len(),
        1,
        "exactly one traceparent: {traceparent:?}"
    );
    let p = parts(&traceparent[0]);
    assert_eq!(p.len(), 4, "{traceparent:?}");
    assert_eq!(p[0], "00");
    assert!(is_lower_hex(&p[1], 32) && p[1] != "0".repeat(32));
    assert!(is_lower_hex(&p[2], 16) && p[2] != "0".repeat(16));
    assert!(is_lower_hex(&p[3], 2));
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behaves_like_the_harness_expects() {
    let Harness {
        echo,
        log,
        mut child,
        service,
        client,
    } = Harness::start().await;
    let test_url = format!("{service}/test");
    let send = |headers: Vec<(&'static str, String)>, body: String| {
        let mut request = client
            .post(&test_url)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let calls = |names: &[&str]| {
        let list: Vec<String> = names
            .iter()
            .map(|n| format!(r#"{{"url": "{echo}/echo/{n}", "arguments": {{"case": "{n}"}}}}"#))
            .collect();
        format!("[{}]", list.join(","))
    };
    let take = |log: &Log| std::mem::take(&mut *log.lock().unwrap());

    // An empty array: 200, nothing sent on.
    let response = send(vec![], "[]".into()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(take(&log).is_empty());

    // A valid parent with tracestate, two calls: same trace, flags kept,
    // each call its own parent id, tracestate forwarded, arguments as body.
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let response = send(
        vec![
            ("traceparent", traceparent.clone()),
            ("tracestate", "foo=1,bar=2".into()),
        ],
        calls(&["a", "b"]),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let seen = take(&log);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, "a");
    assert_eq!(seen[1].path, "b");
    assert_eq!(seen[0].body, r#"{"case":"a"}"#);
    let first = valid(&seen[0].traceparent);
    let second = valid(&seen[1].traceparent);
    assert_eq!(first[1], TRACE_ID);
    assert_eq!(second[1], TRACE_ID);
    assert_ne!(first[2], PARENT_ID);
    assert_ne!(first[2], second[2], "a new parent id per call");
    assert_eq!(first[3], "01");
    assert_eq!(seen[0].tracestate, vec!["foo=1,bar=2"]);

    // Unsampled parent: same trace, flag kept off.
    send(
        vec![("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-00"))],
        calls(&["u"]),
    )
    .await
    .unwrap();
    let seen = take(&log);
    let p = valid(&seen[0].traceparent);
    assert_eq!(p[1], TRACE_ID);
    assert_eq!(u8::from_str_radix(&p[3], 16).unwrap() & 1, 0);

    // Malformed, duplicated or uppercase traceparent: a new trace, and
    // the tracestate that came with it is dropped.
    let broken: Vec<Vec<(&'static str, String)>> = vec![
        vec![
            ("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-0x")),
            ("tracestate", "foo=1".into()),
        ],
        vec![
            ("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01")),
            (
                "traceparent",
                format!("00-{}-{PARENT_ID}-01", "1".repeat(32)),
            ),
            ("tracestate", "foo=1".into()),
        ],
        vec![
            (
                "traceparent",
                format!("00-{}-{PARENT_ID}-01", TRACE_ID.to_uppercase()),
            ),
            ("tracestate", "foo=1".into()),
        ],
        vec![("traceparent", "00-xyz".into())],
    ];
    for headers in broken {
        let shown = format!("{headers:?}");
        let response = send(headers, calls(&["x"])).await.unwrap();
        assert_eq!(response.status(), 200);
        let seen = take(&log);
        assert_eq!(seen.len(), 1, "{shown}");
        let p = valid(&seen[0].traceparent);
        assert_ne!(p[1], TRACE_ID, "restarted trace for {shown}");
        assert!(seen[0].tracestate.is_empty(), "no tracestate for {shown}");
    }

    // No trace headers at all: a new trace still goes out.
    send(vec![], calls(&["n"])).await.unwrap();
    valid(&take(&log)[0].traceparent);

    // A failing call does not stop the next one.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let body = format!(
        r#"[{{"url": "http://{closed}/gone", "arguments": 1}}, {{"url": "{echo}/echo/after", "arguments": [1, 2]}}]"#
    );
    let response = send(vec![("traceparent", traceparent)], body)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = take(&log);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "after");
    assert_eq!(seen[0].body, "[1,2]");
    assert_eq!(valid(&seen[0].traceparent)[1], TRACE_ID);

    child.start_kill().unwrap();
    let _ = child.wait().await;
}

/// The `tracestate` members the service sent on for one incoming request
/// with a valid `traceparent` and `tracestate` fields `fields`, as the
/// harness reads them: `(key, value)` pairs in order.
async fn forwarded_members(
    client: &reqwest::Client,
    service: &str,
    echo: &str,
    log: &Log,
    fields: &[&str],
) -> Vec<(String, String)> {
    let mut request = client
        .post(format!("{service}/test"))
        .header("content-type", "application/json")
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-00"))
        .body(format!(r#"[{{"url": "{echo}/echo/ts", "arguments": []}}]"#));
    for field in fields {
        request = request.header("tracestate", *field);
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
    let seen = std::mem::take(&mut *log.lock().unwrap());
    assert_eq!(seen.len(), 1, "{fields:?}");
    assert_eq!(valid(&seen[0].traceparent)[1], TRACE_ID, "{fields:?}");
    seen[0]
        .tracestate
        .join(",")
        .split(',')
        .map(|m| m.trim_matches([' ', '\t']))
        .filter(|m| !m.is_empty())
        .map(|m| {
            let (k, v) = m.split_once('=').expect("key=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The `tracestate` cases of the current W3C test suite (Level 2, strict),
/// including the key grammar of the current editor's draft.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracestate_as_the_current_suite_expects() {
    let Harness {
        echo,
        log,
        mut child,
        service,
        client,
    } = Harness::start().await;
    let members = |fields: Vec<String>| {
        let (client, service, echo, log) = (&client, &service, &echo, &log);
        async move {
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            forwarded_members(client, service, echo, log, &fields).await
        }
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let owned = |fields: &[&str]| fields.iter().map(|f| f.to_string()).collect::<Vec<_>>();

    // Inherited, in order, across fields; empty fields and OWS tolerated.
    assert_eq!(
        members(owned(&["foo=1,bar=2", "rojo=1,congo=2", "baz=3"])).await,
        pairs(&[
            ("foo", "1"),
            ("bar", "2"),
            ("rojo", "1"),
            ("congo", "2"),
            ("baz", "3")
        ])
    );
    assert_eq!(
        members(owned(&["", "foo=1 \t , \t bar=2"])).await,
        pairs(&[("foo", "1"), ("bar", "2")])
    );

    // Duplicated keys: the tracestate is still inherited, the first kept.
    for fields in [
        &["foo=1,foo=1"][..],
        &["foo=1,foo=2"],
        &["foo=1", "foo=1"],
        &["foo=1", "foo=2"],
    ] {
        assert_eq!(
            members(owned(fields)).await,
            pairs(&[("foo", "1")]),
            "{fields:?}"
        );
    }

    // At signs anywhere after the first character, any number of times.
    for key in ["foo@", "foo@@bar", "foo@bar@baz"] {
        assert_eq!(
            members(vec![format!("{key}=1,bar=2")]).await,
            pairs(&[(key, "1"), ("bar", "2")])
        );
    }
    assert!(members(owned(&["@foo=1,bar=2"])).await.is_empty());

    // Keys of up to 256 characters, whatever the at signs.
    for key in [
        "z".repeat(256),
        format!("{}@{}", "t".repeat(241), "v".repeat(14)),
        format!("{}@v", "t".repeat(242)),
        format!("t@{}", "v".repeat(15)),
    ] {
        assert_eq!(
            members(vec!["foo=1".into(), format!("{key}=1")]).await,
            vec![("foo".into(), "1".into()), (key.clone(), "1".into())],
            "{key}"
        );
    }
    assert!(
        members(vec!["foo=1".into(), format!("{}=1", "z".repeat(257))])
            .await
            .is_empty()
    );

    // 32 members inherited, 33 discard the list.
    let list: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
    assert_eq!(members(vec![list[..32].join(",")]).await.len(), 32);
    assert!(members(vec![list.join(",")]).await.is_empty());

    // Illegal keys and values discard the list.
    for field in ["foo =1", "FOO=1", "foo.bar=1", "foo=bar=baz", "foo=,bar=3"] {
        assert!(members(owned(&[field])).await.is_empty(), "{field}");
    }

    child.start_kill().unwrap();
    let _ = child.wait().await;
}
