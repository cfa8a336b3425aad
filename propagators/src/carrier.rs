//! [`FieldCarrier`]: an ordered, case-insensitive, multi-value carrier that
//! can be written to and read back from a line of text, so that a context can
//! ride inside a queued job or a message payload.

use opentelemetry::propagation::{Extractor, Injector};

/// An ordered list of `(name, value)` fields, like the header section of an
/// HTTP message.
///
/// - names are compared ASCII case-insensitively and stored lowercase;
/// - [`Injector::set`] replaces every field of that name, [`FieldCarrier::append`]
///   adds one more (so a name may repeat, as HTTP headers can);
/// - [`Extractor::get_all`] returns every value of a name, in order, which is
///   what the propagators of this crate read;
/// - [`FieldCarrier::to_text`] / [`FieldCarrier::from_text`] turn it into a
///   `name: value` per line text and back, for job and message payloads.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use tracekit_propagators::{FieldCarrier, TraceContextPropagator};
///
/// let mut carrier = FieldCarrier::new();
/// carrier.append("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// let payload = carrier.to_text(); // store it with the job
///
/// let restored = FieldCarrier::from_text(&payload);
/// let cx = TraceContextPropagator::new().extract(&restored);
/// assert!(cx.span().span_context().is_valid());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldCarrier {
    fields: Vec<(String, String)>,
}

impl FieldCarrier {
    /// Creates an empty carrier.
    pub const fn new() -> Self {
        FieldCarrier { fields: Vec::new() }
    }

    /// Creates a carrier holding `pairs` in order (names lowercased).
    pub fn from_pairs<I, N, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: Into<String>,
    {
        let mut carrier = FieldCarrier::new();
        for (name, value) in pairs {
            carrier.append(name.as_ref(), value);
        }
        carrier
    }

    /// Adds a field after the existing ones, keeping earlier fields of the
    /// same name.
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.fields.push((name.to_ascii_lowercase(), value.into()));
    }

    /// The fields in order, names lowercase.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// `true` when the carrier holds no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Serialises the fields as one `name: value` line each (`\n`
    /// separated). Fields whose name or value contains a line break or whose
    /// name contains `:` cannot be represented and are left out.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.fields {
            if name.is_empty() || name.contains([':', '\n', '\r']) || value.contains(['\n', '\r']) {
                continue;
            }
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        }
        out
    }

    /// Parses text written by [`FieldCarrier::to_text`]; lines without a
    /// `:` or with an empty name are skipped. Values are trimmed of
    /// surrounding spaces and tabs, like HTTP field values.
    pub fn from_text(text: &str) -> Self {
        let mut carrier = FieldCarrier::new();
        for line in text.lines() {
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim_matches([' ', '\t']);
                if !name.is_empty() {
                    carrier.append(name, value.trim_matches([' ', '\t']));
                }
            }
        }
        carrier
    }
}

impl Injector for FieldCarrier {
    fn set(&mut self, key: &str, value: String) {
        self.fields
            .retain(|(name, _)| !name.eq_ignore_ascii_case(key));
        self.fields.push((key.to_ascii_lowercase(), value));
    }

    fn reserve(&mut self, additional: usize) {
        self.fields.reserve(additional);
    }
}

impl Extractor for FieldCarrier {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::with_capacity(self.fields.len());
        for (name, _) in &self.fields {
            if !keys.contains(&name.as_str()) {
                keys.push(name);
            }
        }
        keys
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self
            .fields
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
            .collect();
        if values.is_empty() {
            None
        } else {
            Some(values)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_multi_value() {
        let carrier =
            FieldCarrier::from_pairs([("TraceState", "a=1"), ("tracestate", "b=2"), ("x", "y")]);
        assert_eq!(carrier.get_all("TRACESTATE"), Some(vec!["a=1", "b=2"]));
        assert_eq!(carrier.get("tracestate"), Some("a=1"));
        assert_eq!(carrier.get_all("missing"), None);
        assert_eq!(carrier.keys(), vec!["tracestate", "x"]);
    }

    #[test]
    fn set_replaces_all_fields_of_a_name() {
        let mut carrier = FieldCarrier::from_pairs([("b3", "0"), ("B3", "1")]);
        carrier.set("B3", "d".to_string());
        assert_eq!(carrier.get_all("b3"), Some(vec!["d"]));
        assert_eq!(carrier.len(), 1);
    }

    #[test]
    fn text_round_trip() {
        let carrier = FieldCarrier::from_pairs([
            ("traceparent", "00-ab"),
            ("baggage", "k=v;p=1"),
            ("baggage", "x=y"),
        ]);
        let text = carrier.to_text();
        assert_eq!(text, "traceparent: 00-ab\nbaggage: k=v;p=1\nbaggage: x=y\n");
        assert_eq!(FieldCarrier::from_text(&text), carrier);
        let mut bad = FieldCarrier::new();
        bad.append("a", "line\nbreak");
        assert_eq!(bad.to_text(), "");
        assert!(FieldCarrier::from_text("no colon\n: empty name\n").is_empty());
    }
}
