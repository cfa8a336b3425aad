//! Redaction configured from `TRACEKIT_REDACT_*` variables, end to end:
//! from an environment map to redacted attributes.

use opentelemetry::KeyValue;
use tracekit::redaction::RedactionConfig;

fn value(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

#[test]
fn env_lists_delete_hash_and_mask_keys() {
    let env = [
        ("TRACEKIT_REDACT_DELETE_KEYS", "*.ssn,debug.dump"),
        ("TRACEKIT_REDACT_HASH_KEYS", "user.id"),
        ("TRACEKIT_REDACT_HASH_KEY", "an-env-provided-hmac-key"),
        ("TRACEKIT_REDACT_MASK_KEYS", "order.note"),
        ("TRACEKIT_REDACT_PARAMS", "session"),
    ];
    let r = RedactionConfig::from_env(&env).build();
    let mut attrs = vec![
        KeyValue::new("customer.ssn", "078-05-1120"),
        KeyValue::new("debug.dump", "..."),
        KeyValue::new("user.id", "alice"),
        KeyValue::new("order.note", "leave at door"),
        KeyValue::new("url.full", "https://h/?session=s&q=1"),
        KeyValue::new("db.password", "still a default"),
    ];
    r.redact_attributes(&mut attrs);
    assert_eq!(attrs.len(), 4);
    assert!(value(&attrs, "user.id").is_some_and(|v| v.starts_with("hmac-sha256:")));
    assert_eq!(value(&attrs, "order.note").as_deref(), Some("REDACTED"));
    assert_eq!(
        value(&attrs, "url.full").as_deref(),
        Some("https://h/?session=REDACTED&q=1")
    );
    assert_eq!(value(&attrs, "db.password").as_deref(), Some("REDACTED"));
}

#[test]
fn env_turns_defaults_off_and_personal_data_on() {
    let env = [
        ("TRACEKIT_REDACT_DEFAULTS", "false"),
        ("TRACEKIT_REDACT_PERSONAL_DATA", "true"),
    ];
    let r = RedactionConfig::from_env(&env).build();
    let mut attrs = vec![
        KeyValue::new("db.password", "visible"),
        KeyValue::new("msg", "from carol@example.com"),
    ];
    r.redact_attributes(&mut attrs);
    assert_eq!(value(&attrs, "db.password").as_deref(), Some("visible"));
    assert_eq!(
        value(&attrs, "msg").as_deref(),
        Some("from c***@example.com")
    );
}

#[test]
fn invalid_env_entries_never_panic_and_keep_the_rest() {
    let env = [
        ("TRACEKIT_REDACT_DEFAULTS", "maybe"),
        ("TRACEKIT_REDACT_DELETE_KEYS", "*, bad key ,good.key"),
        ("TRACEKIT_REDACT_DISABLE", "no_such_rule"),
        ("TRACEKIT_REDACT_HASH_KEYS", "user.id"),
        ("TRACEKIT_REDACT_HASH_KEY", "short"),
        ("TRACEKIT_REDACT_MASK", "\u{7}"),
    ];
    let config = RedactionConfig::from_env(&env);
    assert_eq!(config.invalid_rules().len(), 5);
    let r = config.build();
    let mut attrs = vec![
        KeyValue::new("good.key", "x"),
        KeyValue::new("user.id", "alice"),
        KeyValue::new("note", "4111111111111111"),
    ];
    r.redact_attributes(&mut attrs);
    assert_eq!(value(&attrs, "good.key"), None);
    // No usable key: the hash rule masks.
    assert_eq!(value(&attrs, "user.id").as_deref(), Some("REDACTED"));
    // The invalid DEFAULTS value keeps the defaults on.
    assert_eq!(value(&attrs, "note").as_deref(), Some("REDACTED"));
}
