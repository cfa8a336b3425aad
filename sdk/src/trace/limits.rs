//! Span limits: how many attributes, events and links a span keeps, and how
//! long attribute values may be.

use crate::env::{parse_u64, EnvSource};
use opentelemetry::{Array, KeyValue, StringValue, Value};

/// Limits applied to every recording span, per the OpenTelemetry
/// specification's "Span Limits".
///
/// Attributes beyond a count limit are dropped and counted; string values
/// (and strings inside arrays) longer than a length limit are truncated at a
/// character boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLimits {
    /// Maximum attributes on a span (default 128).
    pub max_attributes_per_span: u32,
    /// Maximum length in characters of a span attribute's string value;
    /// `None` means unlimited (the default).
    pub max_attribute_value_length: Option<u32>,
    /// Maximum events on a span (default 128).
    pub max_events_per_span: u32,
    /// Maximum links on a span (default 128).
    pub max_links_per_span: u32,
    /// Maximum attributes on one event (default 128).
    pub max_attributes_per_event: u32,
    /// Maximum attributes on one link (default 128).
    pub max_attributes_per_link: u32,
}

/// The specification's default count limit.
pub const DEFAULT_COUNT_LIMIT: u32 = 128;

impl Default for SpanLimits {
    fn default() -> Self {
        SpanLimits {
            max_attributes_per_span: DEFAULT_COUNT_LIMIT,
            max_attribute_value_length: None,
            max_events_per_span: DEFAULT_COUNT_LIMIT,
            max_links_per_span: DEFAULT_COUNT_LIMIT,
            max_attributes_per_event: DEFAULT_COUNT_LIMIT,
            max_attributes_per_link: DEFAULT_COUNT_LIMIT,
        }
    }
}

fn count_limit(env: &dyn EnvSource, specific: &str, general: Option<&str>) -> u32 {
    let fallback = match general {
        Some(general) => parse_u64(env, general, "the default 128")
            .map(clamp_u32)
            .unwrap_or(DEFAULT_COUNT_LIMIT),
        None => DEFAULT_COUNT_LIMIT,
    };
    parse_u64(env, specific, &fallback.to_string())
        .map(clamp_u32)
        .unwrap_or(fallback)
}

fn clamp_u32(v: u64) -> u32 {
    v.min(u32::MAX as u64) as u32
}

impl SpanLimits {
    /// Read the limits from `OTEL_SPAN_*`, `OTEL_EVENT_*`, `OTEL_LINK_*` and
    /// the general `OTEL_ATTRIBUTE_*` variables. A model-specific variable
    /// wins over the general one; invalid values warn and fall back.
    pub fn from_env(env: &dyn EnvSource) -> Self {
        let general_count = Some("OTEL_ATTRIBUTE_COUNT_LIMIT");
        let general_len =
            parse_u64(env, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "no limit").map(clamp_u32);
        let span_len = parse_u64(
            env,
            "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            &general_len.map_or("no limit".to_string(), |v| v.to_string()),
        )
        .map(clamp_u32)
        .or(general_len);
        SpanLimits {
            max_attributes_per_span: count_limit(
                env,
                "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
                general_count,
            ),
            max_attribute_value_length: span_len,
            max_events_per_span: count_limit(env, "OTEL_SPAN_EVENT_COUNT_LIMIT", None),
            max_links_per_span: count_limit(env, "OTEL_SPAN_LINK_COUNT_LIMIT", None),
            max_attributes_per_event: count_limit(
                env,
                "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
                general_count,
            ),
            max_attributes_per_link: count_limit(
                env,
                "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
                general_count,
            ),
        }
    }
}

/// Truncate string values (and strings inside string arrays) to at most
/// `limit` characters, cutting at a character boundary.
pub(crate) fn truncate_value(value: &mut Value, limit: usize) {
    match value {
        Value::String(s) => {
            if let Some(cut) = truncated(s.as_str(), limit) {
                *s = StringValue::from(cut.to_string());
            }
        }
        Value::Array(Array::String(items)) => {
            for s in items.iter_mut() {
                if let Some(cut) = truncated(s.as_str(), limit) {
                    *s = StringValue::from(cut.to_string());
                }
            }
        }
        _ => {}
    }
}

/// The prefix of `s` holding `limit` characters, or `None` when `s` is
/// already short enough.
fn truncated(s: &str, limit: usize) -> Option<&str> {
    if s.len() <= limit {
        return None;
    }
    s.char_indices().nth(limit).map(|(idx, _)| &s[..idx])
}

/// Add or overwrite `kv` in `attributes` under a count limit. Returns `true`
/// when the attribute was dropped because the limit was reached.
///
/// Value lengths are not limited here: values are truncated in the export
/// path, after redaction has seen them whole (see `ExportPrep`).
#[inline]
pub(crate) fn upsert_attribute(
    attributes: &mut Vec<KeyValue>,
    kv: KeyValue,
    max_count: u32,
) -> bool {
    if let Some(existing) = attributes.iter_mut().find(|a| a.key == kv.key) {
        existing.value = kv.value;
        return false;
    }
    if attributes.len() >= max_count as usize {
        return true;
    }
    attributes.push(kv);
    false
}

/// Apply the count limit to a list of attributes given all at once (an
/// event's or a link's). Returns how many were dropped.
#[inline]
pub(crate) fn limit_attribute_list(attributes: &mut Vec<KeyValue>, max_count: u32) -> u32 {
    let mut dropped = 0;
    if attributes.len() > max_count as usize {
        dropped = (attributes.len() - max_count as usize) as u32;
        attributes.truncate(max_count as usize);
    }
    dropped
}

/// Truncate every string value in `attributes` to `limit` characters.
pub(crate) fn truncate_values(attributes: &mut [KeyValue], limit: usize) {
    for kv in attributes {
        truncate_value(&mut kv.value, limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_specification() {
        let limits = SpanLimits::default();
        assert_eq!(limits.max_attributes_per_span, 128);
        assert_eq!(limits.max_events_per_span, 128);
        assert_eq!(limits.max_links_per_span, 128);
        assert_eq!(limits.max_attributes_per_event, 128);
        assert_eq!(limits.max_attributes_per_link, 128);
        assert_eq!(limits.max_attribute_value_length, None);
    }

    #[test]
    fn specific_variables_win_over_general_ones() {
        let env = [
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "10"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "20"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "4"),
            ("OTEL_SPAN_LINK_COUNT_LIMIT", "5"),
            ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "6"),
        ];
        let limits = SpanLimits::from_env(&env);
        assert_eq!(limits.max_attributes_per_span, 3);
        assert_eq!(limits.max_attributes_per_event, 10);
        assert_eq!(limits.max_attributes_per_link, 6);
        assert_eq!(limits.max_events_per_span, 4);
        assert_eq!(limits.max_links_per_span, 5);
        assert_eq!(limits.max_attribute_value_length, Some(20));

        let env = [
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "20"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "7"),
        ];
        assert_eq!(
            SpanLimits::from_env(&env).max_attribute_value_length,
            Some(7)
        );
    }

    #[test]
    fn invalid_values_fall_back() {
        let env = [
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "many"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1"),
        ];
        assert_eq!(SpanLimits::from_env(&env), SpanLimits::default());
    }

    #[test]
    fn truncation_respects_char_boundaries_and_arrays() {
        let mut v = Value::from("héllo wörld");
        truncate_value(&mut v, 2);
        assert_eq!(v.as_str(), "hé");
        let mut v = Value::Array(Array::String(vec!["abcdef".into(), "ab".into()]));
        truncate_value(&mut v, 3);
        assert_eq!(
            v,
            Value::Array(Array::String(vec!["abc".into(), "ab".into()]))
        );
        let mut v = Value::I64(123456);
        truncate_value(&mut v, 1);
        assert_eq!(v, Value::I64(123456));
    }

    #[test]
    fn upsert_overwrites_and_counts_drops() {
        let mut attrs = Vec::new();
        assert!(!upsert_attribute(&mut attrs, KeyValue::new("a", "1"), 2));
        assert!(!upsert_attribute(&mut attrs, KeyValue::new("b", "2"), 2));
        assert!(upsert_attribute(&mut attrs, KeyValue::new("c", "3"), 2));
        // Overwriting an existing key never counts as a drop, even at the limit.
        assert!(!upsert_attribute(
            &mut attrs,
            KeyValue::new("a", "longer"),
            2
        ));
        assert_eq!(
            attrs,
            vec![KeyValue::new("a", "longer"), KeyValue::new("b", "2")]
        );
        truncate_values(&mut attrs, 3);
        assert_eq!(
            attrs,
            vec![KeyValue::new("a", "lon"), KeyValue::new("b", "2")]
        );
    }

    #[test]
    fn attribute_lists_are_cut_to_the_count_limit() {
        let mut attrs: Vec<KeyValue> = (0..5).map(|i| KeyValue::new(format!("k{i}"), i)).collect();
        assert_eq!(limit_attribute_list(&mut attrs, 3), 2);
        assert_eq!(attrs.len(), 3);
    }
}
