//! Reading `OTEL_*` configuration: where values come from and how mistakes
//! are reported.
//!
//! Every reader takes an [`EnvSource`] rather than touching the process
//! environment directly, so that configuration can be tested without
//! mutating global state. Invalid values never panic: the reader falls back
//! to the specification's default and reports it once with [`warn_invalid`].

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// A source of configuration variables (the process environment, or a map
/// in tests).
pub trait EnvSource {
    /// The raw value of `name`, if set.
    fn get_raw(&self, name: &str) -> Option<String>;

    /// The value of `name`, trimmed; `None` when unset or empty (the
    /// specification treats an empty value as unset).
    fn get(&self, name: &str) -> Option<String> {
        let value = self.get_raw(name)?;
        let trimmed = value.trim();
        if trimmed.is_empty() {
            None
        } else {
            Some(trimmed.to_string())
        }
    }
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    /// A value that is not valid UTF-8 counts as unset, with one warning
    /// naming the variable (never the value, which may be a secret such as
    /// an OTLP header).
    fn get_raw(&self, name: &str) -> Option<String> {
        match std::env::var(name) {
            Ok(value) => Some(value),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                warn_not_utf8(name);
                None
            }
        }
    }
}

/// Report, once per variable and process, a variable whose value is not
/// valid UTF-8 and is therefore treated as unset.
fn warn_not_utf8(var: &str) -> bool {
    let first = first_warning(var);
    if first {
        eprintln!("tracekit: ignoring {var} (its value is not valid UTF-8); using its default, as if unset");
        tracing::warn!(target: "tracekit::env", variable = var, reason = "not valid UTF-8", fallback = "the default, as if unset", "invalid configuration value");
    }
    first
}

impl EnvSource for HashMap<String, String> {
    fn get_raw(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

impl EnvSource for HashMap<&str, &str> {
    fn get_raw(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).map(|v| v.to_string())
    }
}

impl<const N: usize> EnvSource for [(&str, &str); N] {
    fn get_raw(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

impl EnvSource for [(&str, &str)] {
    fn get_raw(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

impl<E: EnvSource + ?Sized> EnvSource for &E {
    fn get_raw(&self, name: &str) -> Option<String> {
        (**self).get_raw(name)
    }
}

static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Report an invalid configuration value once per variable and process:
/// `tracekit: ignoring OTEL_X="value" (reason); using fallback`.
///
/// Written to standard error (the `tracing` subscriber may not be installed
/// yet when configuration is read) and also emitted as a `tracing` warning.
/// Returns `true` when the warning was printed, `false` when this variable
/// was already reported.
pub fn warn_invalid(var: &str, value: &str, reason: &str, fallback: &str) -> bool {
    let first = first_warning(var);
    if first {
        eprintln!("tracekit: ignoring {var}={value:?} ({reason}); using {fallback}");
        tracing::warn!(target: "tracekit::env", variable = var, value, reason, fallback, "invalid configuration value");
    }
    first
}

/// Print `line`, a complete warning from another crate's configuration
/// reader (`tracekit: ignoring OTEL_TRACES_SAMPLER=…`), unless this very
/// line was printed before: a pipeline built twice from one environment
/// reports each mistake once. Returns whether it was printed.
pub(crate) fn warn_line_once(line: &str) -> bool {
    let first = first_warning(line);
    if first {
        eprintln!("{line}");
    }
    first
}

/// Whether `var` gets its first warning now (later ones are not printed).
fn first_warning(var: &str) -> bool {
    let mut guard = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    guard
        .get_or_insert_with(HashSet::new)
        .insert(var.to_string())
}

/// Parse a non-negative integer variable; invalid values warn and yield `None`.
pub fn parse_u64(env: &dyn EnvSource, var: &str, fallback_text: &str) -> Option<u64> {
    let raw = env.get(var)?;
    match raw.parse::<u64>() {
        Ok(v) => Some(v),
        Err(_) => {
            warn_invalid(var, &raw, "not a non-negative integer", fallback_text);
            None
        }
    }
}

/// Parse a duration in milliseconds; invalid values warn and yield `None`.
pub fn parse_millis(env: &dyn EnvSource, var: &str, fallback_text: &str) -> Option<Duration> {
    parse_u64(env, var, fallback_text).map(Duration::from_millis)
}

/// Parse a boolean (`true`/`false`, case-insensitive, as the specification
/// requires); anything else warns and yields `None`.
pub fn parse_bool(env: &dyn EnvSource, var: &str, fallback_text: &str) -> Option<bool> {
    let raw = env.get(var)?;
    if raw.eq_ignore_ascii_case("true") {
        Some(true)
    } else if raw.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        warn_invalid(var, &raw, "expected true or false", fallback_text);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let env = [("A", "  "), ("B", " 12 ")];
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B").as_deref(), Some("12"));
        assert_eq!(env.get("C"), None);
    }

    #[test]
    fn integers_and_bools_parse_or_fall_back() {
        let env = [
            ("N", "42"),
            ("BAD_N", "-3"),
            ("T", "TRUE"),
            ("BAD_T", "yes"),
        ];
        assert_eq!(parse_u64(&env, "N", "1"), Some(42));
        assert_eq!(parse_u64(&env, "BAD_N", "1"), None);
        assert_eq!(parse_bool(&env, "T", "false"), Some(true));
        assert_eq!(parse_bool(&env, "BAD_T", "false"), None);
        assert_eq!(
            parse_millis(&env, "N", "5000"),
            Some(Duration::from_millis(42))
        );
    }

    #[test]
    fn each_line_from_another_reader_is_printed_once() {
        let line = "tracekit: ignoring TRACEKIT_TEST_LINE=\"x\" (bad); using y";
        assert!(warn_line_once(line));
        assert!(!warn_line_once(line));
    }

    #[test]
    fn each_variable_warns_once() {
        assert!(warn_invalid("TRACEKIT_TEST_ONCE", "x", "bad", "default"));
        assert!(!warn_invalid("TRACEKIT_TEST_ONCE", "y", "bad", "default"));
    }
}
