//! The [`Resource`] describing this process: service identity, SDK, host and
//! process attributes, merged from detection, code and the environment.
//!
//! Precedence, lowest to highest: detected attributes
//! (`telemetry.sdk.*`, `host.name`, `process.*`, `service.instance.id`),
//! then what code sets through [`ResourceConfig`], then
//! `OTEL_RESOURCE_ATTRIBUTES`, then `OTEL_SERVICE_NAME`. Without any service
//! name (an empty one counts as none) the specification's
//! `unknown_service:<executable>` is used.

use crate::env::{warn_invalid, EnvSource};
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::resource::{
    DEPLOYMENT_ENVIRONMENT_NAME, HOST_NAME, PROCESS_EXECUTABLE_NAME, PROCESS_PID,
    SERVICE_INSTANCE_ID, SERVICE_NAME, SERVICE_VERSION, TELEMETRY_SDK_LANGUAGE, TELEMETRY_SDK_NAME,
    TELEMETRY_SDK_VERSION,
};
use std::collections::HashMap;

/// The SDK name reported as `telemetry.sdk.name`.
pub const SDK_NAME: &str = "tracekit";

/// What code says about the service; the environment may override it.
#[derive(Clone, Debug, Default)]
pub struct ResourceConfig {
    /// `service.name`.
    pub service_name: Option<String>,
    /// `service.version`.
    pub service_version: Option<String>,
    /// `deployment.environment.name`.
    pub deployment_environment: Option<String>,
    /// Any other attributes.
    pub attributes: Vec<KeyValue>,
}

impl ResourceConfig {
    /// Build the resource, reading `OTEL_SERVICE_NAME` and
    /// `OTEL_RESOURCE_ATTRIBUTES` from `env`.
    pub fn build(&self, env: &dyn EnvSource) -> Resource {
        let mut attrs: Vec<KeyValue> = detected_attributes();
        let set = |attrs: &mut Vec<KeyValue>, kv: KeyValue| match attrs
            .iter_mut()
            .find(|a| a.key == kv.key)
        {
            Some(existing) => existing.value = kv.value,
            None => attrs.push(kv),
        };
        for kv in &self.attributes {
            set(&mut attrs, kv.clone());
        }
        // An empty service name counts as none: the next source decides.
        if let Some(name) = self.service_name.as_ref().filter(|n| !n.is_empty()) {
            set(&mut attrs, KeyValue::new(SERVICE_NAME, name.clone()));
        }
        if let Some(version) = &self.service_version {
            set(&mut attrs, KeyValue::new(SERVICE_VERSION, version.clone()));
        }
        if let Some(environment) = &self.deployment_environment {
            set(
                &mut attrs,
                KeyValue::new(DEPLOYMENT_ENVIRONMENT_NAME, environment.clone()),
            );
        }
        if let Some(raw) = env.get("OTEL_RESOURCE_ATTRIBUTES") {
            match parse_resource_attributes(&raw) {
                Ok(parsed) => {
                    for kv in parsed {
                        if kv.key.as_str() == SERVICE_NAME && kv.value.as_str().is_empty() {
                            continue;
                        }
                        set(&mut attrs, kv);
                    }
                }
                Err(reason) => {
                    // Keys only: a value may be something the user would
                    // rather not see in a log (resource attributes are
                    // exported, but a malformed list is not).
                    warn_invalid(
                        "OTEL_RESOURCE_ATTRIBUTES",
                        &crate::export::otlp::hide_values(&raw),
                        &reason,
                        "no attributes from it",
                    );
                }
            }
        }
        if let Some(name) = env.get("OTEL_SERVICE_NAME") {
            set(&mut attrs, KeyValue::new(SERVICE_NAME, name));
        }
        if !attrs
            .iter()
            .any(|a| a.key.as_str() == SERVICE_NAME && !a.value.as_str().is_empty())
        {
            set(
                &mut attrs,
                KeyValue::new(
                    SERVICE_NAME,
                    format!("unknown_service:{}", executable_name().unwrap_or_default()),
                ),
            );
        }
        Resource::builder_empty().with_attributes(attrs).build()
    }
}

/// Parse `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas,
/// keys and values percent-decoded and trimmed. Any malformed pair makes the
/// whole value invalid (the specification asks to discard it then). The
/// error names the malformed entry by its position (the non-empty entries
/// counted from 1), never by its text, which may hold a value the user
/// would not want in a log.
pub fn parse_resource_attributes(raw: &str) -> Result<Vec<KeyValue>, String> {
    let mut out: Vec<KeyValue> = Vec::new();
    let pairs = raw.split(',').filter(|pair| !pair.trim().is_empty());
    for (position, pair) in pairs.enumerate().map(|(i, pair)| (i + 1, pair)) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("entry {position} has no '='"))?;
        let key = decode(key.trim()).map_err(|e| format!("entry {position}: {e}"))?;
        if key.is_empty() {
            return Err(format!("entry {position} has an empty key"));
        }
        let value = decode(value.trim()).map_err(|e| format!("entry {position}: {e}"))?;
        match out.iter_mut().find(|kv| kv.key.as_str() == key) {
            Some(existing) => existing.value = Value::from(value),
            None => out.push(KeyValue::new(Key::from(key), value)),
        }
    }
    Ok(out)
}

fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    // A '%' not followed by two hex digits is malformed.
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err("bad percent-encoding".to_string());
        }
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "does not decode to UTF-8".to_string())
}

fn executable_name() -> Option<String> {
    std::env::current_exe()
        .ok()?
        .file_name()?
        .to_str()
        .map(str::to_string)
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
}

/// A random (version 4) UUID for `service.instance.id`.
fn instance_id() -> String {
    use rand::RngCore;
    let mut rng = rand::rng();
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

static INSTANCE_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn detected_attributes() -> Vec<KeyValue> {
    let mut attrs = vec![
        KeyValue::new(TELEMETRY_SDK_NAME, SDK_NAME),
        KeyValue::new(TELEMETRY_SDK_LANGUAGE, "rust"),
        KeyValue::new(TELEMETRY_SDK_VERSION, env!("CARGO_PKG_VERSION")),
        KeyValue::new(PROCESS_PID, std::process::id() as i64),
        KeyValue::new(
            SERVICE_INSTANCE_ID,
            INSTANCE_ID.get_or_init(instance_id).clone(),
        ),
    ];
    if let Some(exe) = executable_name() {
        attrs.push(KeyValue::new(PROCESS_EXECUTABLE_NAME, exe));
    }
    if let Some(host) = host_name() {
        attrs.push(KeyValue::new(HOST_NAME, host));
    }
    attrs
}

/// Look up a string attribute of a resource (e.g. `service.name`).
pub fn resource_string(resource: &Resource, key: &'static str) -> Option<String> {
    resource
        .get(&Key::from_static_str(key))
        .map(|v| v.as_str().into_owned())
}

/// Group the attributes of `resource` in a map, for display and tests.
pub fn resource_map(resource: &Resource) -> HashMap<String, String> {
    resource
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.as_str().into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(resource: &Resource) -> String {
        resource_string(resource, SERVICE_NAME).unwrap()
    }

    #[test]
    fn service_name_precedence() {
        let code = ResourceConfig {
            service_name: Some("from-code".into()),
            ..Default::default()
        };
        let none: [(&str, &str); 0] = [];
        assert_eq!(name(&code.build(&none)), "from-code");
        let attrs = [("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs")];
        assert_eq!(name(&code.build(&attrs)), "from-attrs");
        let both = [
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"),
            ("OTEL_SERVICE_NAME", "from-env"),
        ];
        assert_eq!(name(&code.build(&both)), "from-env");
        let unknown = ResourceConfig::default().build(&none);
        assert!(name(&unknown).starts_with("unknown_service:"));
    }

    #[test]
    fn an_empty_service_name_counts_as_none() {
        let empty_attr = [("OTEL_RESOURCE_ATTRIBUTES", "service.name=,team=a")];
        let code = ResourceConfig {
            service_name: Some("from-code".into()),
            ..Default::default()
        };
        // The next source decides: the code's name, else unknown_service.
        assert_eq!(name(&code.build(&empty_attr)), "from-code");
        let built = ResourceConfig::default().build(&empty_attr);
        assert!(name(&built).starts_with("unknown_service:"));
        assert_eq!(resource_map(&built)["team"], "a");
        let empty_code = ResourceConfig {
            service_name: Some(String::new()),
            attributes: vec![KeyValue::new(SERVICE_NAME, "")],
            ..Default::default()
        };
        let none: [(&str, &str); 0] = [];
        assert!(name(&empty_code.build(&none)).starts_with("unknown_service:"));
    }

    #[test]
    fn detected_attributes_are_present() {
        let none: [(&str, &str); 0] = [];
        let map = resource_map(&ResourceConfig::default().build(&none));
        assert_eq!(map["telemetry.sdk.name"], "tracekit");
        assert_eq!(map["telemetry.sdk.language"], "rust");
        assert_eq!(map["process.pid"], std::process::id().to_string());
        assert_eq!(map["service.instance.id"].len(), 36);
        assert!(map.contains_key("process.executable.name"));
    }

    #[test]
    fn resource_attributes_are_percent_decoded() {
        let parsed =
            parse_resource_attributes("a=b%20c, deployment.environment.name = prod ,x=%2C")
                .unwrap();
        assert_eq!(
            parsed,
            vec![
                KeyValue::new("a", "b c"),
                KeyValue::new("deployment.environment.name", "prod"),
                KeyValue::new("x", ","),
            ]
        );
    }

    #[test]
    fn malformed_resource_attributes_are_discarded_whole() {
        assert!(parse_resource_attributes("a=1,broken").is_err());
        assert!(parse_resource_attributes("a=%zz").is_err());
        assert!(parse_resource_attributes("=v").is_err());
        // The errors name the entry by position, never its text.
        let error = |raw| parse_resource_attributes(raw).unwrap_err();
        assert_eq!(error("a=1,, s3cret"), "entry 2 has no '='");
        assert_eq!(error("a=1,=s3cret"), "entry 2 has an empty key");
        assert_eq!(error("k=s3cret%zz"), "entry 1: bad percent-encoding");
        assert_eq!(error("k=s3cret%ff"), "entry 1: does not decode to UTF-8");
        assert_eq!(
            crate::export::otlp::hide_values("a=1,, s3cret,k=s3cret"),
            "a=<hidden>,<hidden>,k=<hidden>"
        );
        let env = [("OTEL_RESOURCE_ATTRIBUTES", "team=a,broken")];
        let map = resource_map(&ResourceConfig::default().build(&env));
        assert!(!map.contains_key("team"));
    }

    #[test]
    fn code_sets_version_and_environment() {
        let config = ResourceConfig {
            service_name: Some("svc".into()),
            service_version: Some("1.2.3".into()),
            deployment_environment: Some("staging".into()),
            attributes: vec![KeyValue::new("team", "payments")],
        };
        let none: [(&str, &str); 0] = [];
        let map = resource_map(&config.build(&none));
        assert_eq!(map["service.version"], "1.2.3");
        assert_eq!(map["deployment.environment.name"], "staging");
        assert_eq!(map["team"], "payments");
    }
}
