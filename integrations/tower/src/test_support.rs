//! Helpers shared by the crate's unit tests.

use opentelemetry::{KeyValue, Value};

/// The value of the attribute named `key`, if any.
pub(crate) fn attribute_value(attributes: &[KeyValue], key: &str) -> Option<Value> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}
