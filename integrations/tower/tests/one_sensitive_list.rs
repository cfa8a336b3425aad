//! The tower layers and the SDK's redactor redact the same query
//! parameters: one list, in `tracekit-propagators`.

use opentelemetry::KeyValue;
use tracekit::redaction::{RedactionConfig, Redactor};
use tracekit_tower::redaction::{redact_url, REDACTED, SENSITIVE_QUERY_PARAMETERS};

#[test]
fn the_layers_and_the_redactor_see_the_same_list() {
    assert_eq!(
        SENSITIVE_QUERY_PARAMETERS,
        tracekit_propagators::SENSITIVE_QUERY_PARAMETERS
    );
    let redactor = Redactor::new(RedactionConfig::default());
    for name in SENSITIVE_QUERY_PARAMETERS {
        let upper = name.to_ascii_uppercase();
        for name in [name.to_string(), upper] {
            let url = format!("https://h/p?a=1&{name}=s3cr3t&b=2");
            let expected = format!("https://h/p?a=1&{name}={REDACTED}&b=2");
            assert_eq!(redact_url(&url), expected, "tower layers: {name}");
            let mut attributes = vec![KeyValue::new("url.full", url.clone())];
            redactor.redact_attributes(&mut attributes);
            assert_eq!(
                attributes[0].value.as_str(),
                expected.as_str(),
                "SDK redactor: {name}"
            );
        }
    }
    // A name on neither side stays with both.
    let clean = "https://h/p?page=2&tokens=3";
    assert_eq!(redact_url(clean), clean);
    assert_eq!(redactor.redact_str(clean), None);
}
