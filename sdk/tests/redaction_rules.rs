//! The redaction rules and defaults, through the public API: span, event
//! and link attributes, string arrays, exception messages, `SpanData`.

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_semantic_conventions::attribute::{
    EXCEPTION_MESSAGE, EXCEPTION_TYPE, HTTP_REQUEST_METHOD, URL_FULL, URL_QUERY,
    USER_AGENT_ORIGINAL, USER_EMAIL,
};
use std::borrow::Cow;
use std::time::SystemTime;
use tracekit::redaction::{BuiltinRule, KeyAction, RedactionConfig, Redactor};

const CARD: &str = "4111 1111 1111 1111";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

fn text(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

fn strings(attrs: &[KeyValue], key: &str) -> Vec<String> {
    match attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
    {
        Some(Value::Array(Array::String(items))) => {
            items.iter().map(|s| s.as_str().to_string()).collect()
        }
        other => panic!("{key} is not a string array: {other:?}"),
    }
}

fn redact(redactor: &Redactor, attrs: Vec<KeyValue>) -> Vec<KeyValue> {
    let mut attrs = attrs;
    redactor.redact_attributes(&mut attrs);
    attrs
}

#[test]
fn default_credential_headers_are_masked_including_arrays() {
    let r = Redactor::default();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new(
                "http.request.header.authorization",
                Value::Array(Array::String(vec![StringValue::from("Bearer abc")])),
            ),
            KeyValue::new("http.request.header.cookie", "sid=1; theme=dark"),
            KeyValue::new(
                "http.response.header.set-cookie",
                Value::Array(Array::String(vec!["a=1".into(), "b=2".into()])),
            ),
            KeyValue::new("http.request.header.proxy-authorization", "Basic dTpw"),
            KeyValue::new("HTTP.Request.Header.X-Api-Key", "k-123"),
            KeyValue::new("rpc.grpc.request.metadata.authorization", "t"),
            KeyValue::new("http.request.header.content-type", "application/json"),
        ],
    );
    assert_eq!(
        strings(&attrs, "http.request.header.authorization"),
        ["REDACTED"]
    );
    assert_eq!(
        text(&attrs, "http.request.header.cookie").as_deref(),
        Some("REDACTED")
    );
    assert_eq!(
        strings(&attrs, "http.response.header.set-cookie"),
        ["REDACTED", "REDACTED"]
    );
    assert_eq!(
        text(&attrs, "http.request.header.proxy-authorization").as_deref(),
        Some("REDACTED")
    );
    assert_eq!(
        text(&attrs, "HTTP.Request.Header.X-Api-Key").as_deref(),
        Some("REDACTED")
    );
    assert_eq!(
        text(&attrs, "rpc.grpc.request.metadata.authorization").as_deref(),
        Some("REDACTED")
    );
    assert_eq!(
        text(&attrs, "http.request.header.content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(r.counters().get("credential_headers"), Some(6));
}

#[test]
fn default_secret_keys_are_masked_whatever_their_type() {
    let r = Redactor::default();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new("db.password", "hunter2"),
            KeyValue::new("app.client_secret", "s3cr3t"),
            KeyValue::new("session.token", 12345_i64),
            KeyValue::new("stripe.api_key", "sk_live_x"),
            KeyValue::new("userPassword", "x"),
            KeyValue::new("password_reset.requested", true),
            KeyValue::new("gen_ai.usage.input_tokens", 42_i64),
        ],
    );
    for key in [
        "db.password",
        "app.client_secret",
        "session.token",
        "stripe.api_key",
        "userPassword",
    ] {
        assert_eq!(text(&attrs, key).as_deref(), Some("REDACTED"), "{key}");
    }
    assert_eq!(
        text(&attrs, "password_reset.requested").as_deref(),
        Some("true")
    );
    assert_eq!(
        text(&attrs, "gen_ai.usage.input_tokens").as_deref(),
        Some("42")
    );
    assert_eq!(r.counters().get("secret_keys"), Some(5));
}

#[test]
fn default_value_rules_rewrite_in_place() {
    let r = Redactor::default();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new(
                URL_FULL,
                "https://user:pass@api.example.com/v1/items?page=2&access_token=abc#top",
            ),
            KeyValue::new(URL_QUERY, "q=OpenTelemetry&sig=xyz"),
            KeyValue::new("message", format!("auth with Bearer {JWT} failed")),
            KeyValue::new("raw.jwt", format!("jwt:{JWT}")),
            KeyValue::new("note", format!("paid with {CARD} today")),
            KeyValue::new("basic", "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ],
    );
    assert_eq!(
        text(&attrs, URL_FULL).as_deref(),
        Some("https://REDACTED:REDACTED@api.example.com/v1/items?page=2&access_token=REDACTED#top")
    );
    assert_eq!(
        text(&attrs, URL_QUERY).as_deref(),
        Some("q=OpenTelemetry&sig=REDACTED")
    );
    assert_eq!(
        text(&attrs, "message").as_deref(),
        Some("auth with Bearer REDACTED failed")
    );
    assert_eq!(text(&attrs, "raw.jwt").as_deref(), Some("jwt:REDACTED"));
    assert_eq!(
        text(&attrs, "note").as_deref(),
        Some("paid with REDACTED today")
    );
    assert_eq!(
        text(&attrs, "basic").as_deref(),
        Some("Authorization: Basic REDACTED")
    );
    let c = r.counters();
    assert_eq!(c.get("url_credentials"), Some(1));
    assert_eq!(c.get("query_secrets"), Some(2));
    assert_eq!(c.get("auth_credentials"), Some(2));
    assert_eq!(c.get("jwt"), Some(1));
    assert_eq!(c.get("card_number"), Some(1));
}

#[test]
fn strings_inside_arrays_are_scanned_one_by_one() {
    let r = Redactor::default();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new(
                "cards.seen",
                Value::Array(Array::String(vec![
                    "order 1234567812345678".into(),
                    CARD.into(),
                    "https://h/?token=t".into(),
                ])),
            ),
            KeyValue::new("numbers", Value::Array(Array::I64(vec![4111111111111111]))),
        ],
    );
    assert_eq!(
        strings(&attrs, "cards.seen"),
        [
            "order 1234567812345678",
            "REDACTED",
            "https://h/?token=REDACTED"
        ]
    );
    // Only strings are scanned: an integer card number is not text.
    assert_eq!(
        text(&attrs, "numbers").as_deref(),
        Some("[4111111111111111]")
    );
}

#[test]
fn luhn_negative_order_numbers_stay() {
    let r = Redactor::default();
    let attrs = redact(&r, vec![KeyValue::new("order.id", "ORD-4111111111111112")]);
    assert_eq!(
        text(&attrs, "order.id").as_deref(),
        Some("ORD-4111111111111112")
    );
    assert_eq!(r.counters().total(), 0);
}

#[test]
fn events_exception_messages_and_links_are_redacted() {
    let r = Redactor::default();
    let mut attrs = vec![KeyValue::new(HTTP_REQUEST_METHOD, "POST")];
    let mut events = vec![
        Event::new(
            "exception",
            SystemTime::now(),
            vec![
                KeyValue::new(EXCEPTION_TYPE, "PaymentError"),
                KeyValue::new(EXCEPTION_MESSAGE, format!("declined: {CARD}")),
            ],
            0,
        ),
        Event::new(
            "exception",
            SystemTime::now(),
            vec![KeyValue::new(
                EXCEPTION_MESSAGE,
                "upstream rejected header 'Authorization: Bearer sk_live_abc123'",
            )],
            0,
        ),
    ];
    let mut links = vec![Link::new(
        SpanContext::empty_context(),
        vec![
            KeyValue::new("link.password", "p"),
            KeyValue::new("link.url", "ftp://a:b@h/"),
        ],
        0,
    )];
    r.redact_parts(&mut attrs, &mut events, &mut links);
    assert_eq!(
        text(&events[0].attributes, EXCEPTION_MESSAGE).as_deref(),
        Some("declined: REDACTED")
    );
    assert_eq!(
        text(&events[0].attributes, EXCEPTION_TYPE).as_deref(),
        Some("PaymentError")
    );
    assert_eq!(
        text(&events[1].attributes, EXCEPTION_MESSAGE).as_deref(),
        Some("upstream rejected header 'Authorization: Bearer REDACTED'")
    );
    assert_eq!(
        text(&links[0].attributes, "link.password").as_deref(),
        Some("REDACTED")
    );
    assert_eq!(
        text(&links[0].attributes, "link.url").as_deref(),
        Some("ftp://REDACTED:REDACTED@h/")
    );
    assert_eq!(text(&attrs, HTTP_REQUEST_METHOD).as_deref(), Some("POST"));
}

#[test]
fn span_data_is_redacted_and_its_name_left_alone() {
    let r = Redactor::default();
    let cx = SpanContext::new(
        TraceId::from(1u128),
        SpanId::from(1u64),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    let mut span = SpanData {
        span_context: cx.clone(),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Server,
        name: Cow::Borrowed("GET /pay?token=in-the-name"),
        start_time: SystemTime::now(),
        end_time: SystemTime::now(),
        attributes: vec![KeyValue::new("card", CARD)],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::error(format!("charge of {CARD} failed")),
        instrumentation_scope: InstrumentationScope::builder("t").build(),
    };
    span.events.events.push(Event::new(
        "exception",
        SystemTime::now(),
        vec![KeyValue::new(EXCEPTION_MESSAGE, format!("bad {JWT}"))],
        0,
    ));
    span.links
        .links
        .push(Link::new(cx, vec![KeyValue::new("auth.token", "x")], 0));
    r.redact_span_data(&mut span);
    assert_eq!(span.name, "GET /pay?token=in-the-name");
    assert_eq!(text(&span.attributes, "card").as_deref(), Some("REDACTED"));
    assert_eq!(
        text(&span.events.events[0].attributes, EXCEPTION_MESSAGE).as_deref(),
        Some("bad REDACTED")
    );
    assert_eq!(
        text(&span.links.links[0].attributes, "auth.token").as_deref(),
        Some("REDACTED")
    );
    assert_eq!(
        span.status,
        Status::Error {
            description: "charge of REDACTED failed".into()
        }
    );
}

#[test]
fn overlapping_patterns_are_redacted_once_by_the_first_rule() {
    let r = Redactor::default();
    let attrs = redact(
        &r,
        vec![
            // URL credentials + query secret + JWT + card in one value.
            KeyValue::new(
                "u",
                format!("https://u:p@h/cb?token={JWT}&ref=4111111111111111&x=1"),
            ),
            // A JWT used as a bearer token: one redaction, by auth_credentials.
            KeyValue::new("h", format!("Bearer {JWT}")),
            // A card number behind a sensitive parameter.
            KeyValue::new("q", "pan=1&password=4111111111111111"),
        ],
    );
    assert_eq!(
        text(&attrs, "u").as_deref(),
        Some("https://REDACTED:REDACTED@h/cb?token=REDACTED&ref=REDACTED&x=1")
    );
    assert_eq!(text(&attrs, "h").as_deref(), Some("Bearer REDACTED"));
    assert_eq!(
        text(&attrs, "q").as_deref(),
        Some("pan=1&password=REDACTED")
    );
    let c = r.counters();
    assert_eq!(c.get("jwt"), Some(0));
    assert_eq!(c.get("auth_credentials"), Some(1));
    assert_eq!(c.get("card_number"), Some(1));
    assert_eq!(c.get("query_secrets"), Some(2));
}

#[test]
fn non_ascii_strings_survive_around_redactions() {
    let r = RedactionConfig::new().with_personal_data().build();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new("msg", format!("Zahlung mit Karte {CARD} für José — 日本")),
            KeyValue::new("who", "contact: élodie.martin@exemple.fr ✉"),
            KeyValue::new("plain", "naïve café — 東京 🚀"),
        ],
    );
    assert_eq!(
        text(&attrs, "msg").as_deref(),
        Some("Zahlung mit Karte REDACTED für José — 日本")
    );
    assert_eq!(
        text(&attrs, "who").as_deref(),
        Some("contact: é***@exemple.fr ✉")
    );
    assert_eq!(
        text(&attrs, "plain").as_deref(),
        Some("naïve café — 東京 🚀")
    );
}

#[test]
fn personal_data_is_opt_in() {
    let attrs = || {
        vec![
            KeyValue::new(USER_EMAIL, "alice@example.com"),
            KeyValue::new("comment", "mail bob@example.org please"),
            KeyValue::new("client.address", "203.0.113.7"),
        ]
    };
    let defaults = redact(&Redactor::default(), attrs());
    assert_eq!(
        text(&defaults, USER_EMAIL).as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(
        text(&defaults, "comment").as_deref(),
        Some("mail bob@example.org please")
    );

    let masked = redact(
        &RedactionConfig::new().with_personal_data().build(),
        attrs(),
    );
    assert_eq!(text(&masked, USER_EMAIL).as_deref(), Some("REDACTED"));
    assert_eq!(
        text(&masked, "comment").as_deref(),
        Some("mail b***@example.org please")
    );
    assert_eq!(text(&masked, "client.address").as_deref(), Some("REDACTED"));

    let hashed = redact(
        &RedactionConfig::new()
            .with_personal_data()
            .with_hash_key(b"0123456789abcdef-key")
            .build(),
        attrs(),
    );
    let email = text(&hashed, USER_EMAIL).unwrap_or_default();
    assert!(
        email.starts_with("hmac-sha256:") && email.len() == 12 + 16,
        "{email}"
    );
}

#[test]
fn key_rules_delete_mask_hash_and_keep_in_order() {
    let r = RedactionConfig::new()
        .keep("debug.token")
        .delete("*.ssn")
        .mask("internal.*")
        .hash("user.id")
        .hash("tags")
        .with_hash_key(b"an-hmac-key-of-enough-bytes")
        .build();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new("customer.ssn", "078-05-1120"),
            KeyValue::new("internal.note", "x"),
            KeyValue::new("user.id", "alice"),
            KeyValue::new(
                "tags",
                Value::Array(Array::String(vec!["a".into(), "b".into()])),
            ),
            KeyValue::new("debug.token", "visible"),
            KeyValue::new("other.token", "hidden"),
        ],
    );
    assert_eq!(text(&attrs, "customer.ssn"), None);
    assert_eq!(attrs.len(), 5);
    assert_eq!(text(&attrs, "internal.note").as_deref(), Some("REDACTED"));
    let user = text(&attrs, "user.id").unwrap_or_default();
    assert!(user.starts_with("hmac-sha256:"), "{user}");
    // Equal values hash equally, across redactions.
    let again = redact(&r, vec![KeyValue::new("user.id", "alice")]);
    assert_eq!(text(&again, "user.id"), Some(user.clone()));
    let tags = strings(&attrs, "tags");
    assert_eq!(tags.len(), 2);
    assert_ne!(tags[0], tags[1]);
    assert_eq!(text(&attrs, "debug.token").as_deref(), Some("visible"));
    assert_eq!(text(&attrs, "other.token").as_deref(), Some("REDACTED"));
    let c = r.counters();
    assert_eq!(c.get("delete:*.ssn"), Some(1));
    assert_eq!(c.get("mask:internal.*"), Some(1));
    assert_eq!(c.get("hash:user.id"), Some(2));
    assert_eq!(c.get("keep:debug.token"), Some(0));
}

#[test]
fn hash_rules_without_a_key_fall_back_to_the_mask() {
    let r = RedactionConfig::disabled().hash("user.id").build();
    let attrs = redact(&r, vec![KeyValue::new("user.id", "alice")]);
    assert_eq!(text(&attrs, "user.id").as_deref(), Some("REDACTED"));
    assert_eq!(r.counters().get("hash:user.id"), Some(1));
}

#[test]
fn defaults_off_leave_everything_but_explicit_rules() {
    let r = RedactionConfig::new()
        .without_defaults()
        .delete("x")
        .build();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new("x", "gone"),
            KeyValue::new("db.password", "kept"),
            KeyValue::new("note", CARD),
        ],
    );
    assert_eq!(attrs.len(), 2);
    assert_eq!(text(&attrs, "db.password").as_deref(), Some("kept"));
    assert_eq!(text(&attrs, "note").as_deref(), Some(CARD));
}

#[test]
fn each_default_can_be_turned_off_alone() {
    let r = RedactionConfig::new()
        .disable(BuiltinRule::CardNumber)
        .build();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new("n", CARD),
            KeyValue::new("t", format!("x {JWT}")),
        ],
    );
    assert_eq!(text(&attrs, "n").as_deref(), Some(CARD));
    assert_eq!(text(&attrs, "t").as_deref(), Some("x REDACTED"));
}

#[test]
fn custom_mask_and_sensitive_params() {
    let r = RedactionConfig::new()
        .with_mask("***")
        .sensitive_param("session")
        .key_rule("*.pin", KeyAction::Mask)
        .build();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new("u", "/x?session=abc&token=t"),
            KeyValue::new("card.pin", 1234_i64),
        ],
    );
    assert_eq!(
        text(&attrs, "u").as_deref(),
        Some("/x?session=***&token=***")
    );
    assert_eq!(text(&attrs, "card.pin").as_deref(), Some("***"));
}

#[test]
fn long_value_with_a_card_near_its_end_is_fully_redacted() {
    // Redaction runs before truncation: the whole value is scanned, so a
    // card number at the far end of a long value is still caught, and none
    // of its digits survive for a later truncation to expose.
    let r = Redactor::default();
    let long = format!("{}{CARD} end", "lorem ipsum ".repeat(10_000));
    let attrs = redact(&r, vec![KeyValue::new("payload", long.clone())]);
    let value = text(&attrs, "payload").unwrap_or_default();
    assert!(value.ends_with("lorem ipsum REDACTED end"));
    assert_eq!(value.len(), long.len() - CARD.len() + "REDACTED".len());
    assert!(!value.contains("4111"));
}

#[test]
fn user_agent_and_typical_http_values_match_nothing() {
    let r = Redactor::default();
    let attrs = redact(
        &r,
        vec![
            KeyValue::new(USER_AGENT_ORIGINAL, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"),
            KeyValue::new(URL_FULL, "https://api.example.com/v1/users/1234567/orders?page=2&sort=desc"),
            KeyValue::new("http.route", "/v1/users/{id}/orders"),
            KeyValue::new("server.address", "api.example.com"),
            KeyValue::new("trace.note", "2024-05-01T12:00:00Z took 1234 ms"),
        ],
    );
    assert_eq!(attrs.len(), 5);
    assert_eq!(r.counters().total(), 0);
}
