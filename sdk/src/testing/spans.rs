//! [`Spans`]: finished spans with lookups and assertions for tests.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::{Key, Value};
use opentelemetry_sdk::trace::SpanData;

/// Finished spans (from an [`InMemoryExporter`](crate::export::memory::InMemoryExporter)
/// or anywhere else) with lookups by name and assertions on parent links
/// and attributes. Assertions panic with a message listing what was there.
///
/// ```
/// use opentelemetry::KeyValue;
/// use tracekit::testing::{SpanDataBuilder, Spans};
///
/// let root = SpanDataBuilder::new("checkout").build();
/// let child = SpanDataBuilder::new("charge")
///     .child_of(&root)
///     .attribute(KeyValue::new("payment.method", "card"))
///     .build();
/// let spans = Spans::new(vec![child, root]);
///
/// spans.assert_parent("charge", "checkout");
/// spans.assert_attribute("charge", "payment.method", "card");
/// assert_eq!(spans.children_of("checkout").len(), 1);
/// let trace_id = spans.assert_single_trace();
/// assert_eq!(spans.tree(), "checkout\n  charge\n");
/// # let _ = trace_id;
/// ```
#[derive(Clone, Debug, Default)]
pub struct Spans {
    spans: Vec<SpanData>,
}

impl From<Vec<SpanData>> for Spans {
    fn from(spans: Vec<SpanData>) -> Self {
        Self::new(spans)
    }
}

impl Spans {
    /// Wrap these spans.
    pub fn new(spans: Vec<SpanData>) -> Self {
        Self { spans }
    }

    /// All spans, in the order given.
    pub fn as_slice(&self) -> &[SpanData] {
        &self.spans
    }

    /// Iterate over the spans.
    pub fn iter(&self) -> std::slice::Iter<'_, SpanData> {
        self.spans.iter()
    }

    /// How many spans there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The span names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.spans.iter().map(|s| s.name.as_ref()).collect()
    }

    /// The first span named `name`.
    pub fn find(&self, name: &str) -> Option<&SpanData> {
        self.spans.iter().find(|s| s.name == name)
    }

    /// Every span named `name`.
    pub fn all_named(&self, name: &str) -> Vec<&SpanData> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    /// The only span named `name`.
    ///
    /// # Panics
    /// When there is no such span, or more than one.
    pub fn get(&self, name: &str) -> &SpanData {
        match self.all_named(name).as_slice() {
            [one] => one,
            [] => panic!("no span named {name:?}; spans: {:?}", self.names()),
            many => panic!("{} spans named {name:?}; expected one", many.len()),
        }
    }

    /// The span with this id.
    pub fn by_id(&self, span_id: SpanId) -> Option<&SpanData> {
        self.spans
            .iter()
            .find(|s| s.span_context.span_id() == span_id)
    }

    /// The parent of the only span named `name`, if it is among these spans.
    pub fn parent_of(&self, name: &str) -> Option<&SpanData> {
        let span = self.get(name);
        if span.parent_span_id == SpanId::INVALID {
            return None;
        }
        self.by_id(span.parent_span_id)
    }

    /// The direct children of the only span named `name`, by start time.
    pub fn children_of(&self, name: &str) -> Vec<&SpanData> {
        let parent = self.get(name);
        let mut children: Vec<&SpanData> = self
            .spans
            .iter()
            .filter(|s| {
                s.parent_span_id == parent.span_context.span_id()
                    && s.span_context.trace_id() == parent.span_context.trace_id()
            })
            .collect();
        children.sort_by_key(|s| s.start_time);
        children
    }

    /// Spans with no parent among these spans (true roots, and children of
    /// remote or missing parents), by start time.
    pub fn roots(&self) -> Vec<&SpanData> {
        let mut roots: Vec<&SpanData> = self
            .spans
            .iter()
            .filter(|s| {
                s.parent_span_id == SpanId::INVALID || self.by_id(s.parent_span_id).is_none()
            })
            .collect();
        roots.sort_by_key(|s| s.start_time);
        roots
    }

    /// The distinct trace ids, sorted.
    pub fn trace_ids(&self) -> Vec<TraceId> {
        let ids: BTreeSet<[u8; 16]> = self
            .spans
            .iter()
            .map(|s| s.span_context.trace_id().to_bytes())
            .collect();
        ids.into_iter().map(TraceId::from_bytes).collect()
    }

    /// Only the spans of `trace_id`.
    pub fn in_trace(&self, trace_id: TraceId) -> Spans {
        Spans::new(
            self.spans
                .iter()
                .filter(|s| s.span_context.trace_id() == trace_id)
                .cloned()
                .collect(),
        )
    }

    /// Check that `child` (the only span of that name) has `parent` as its
    /// parent, in the same trace.
    ///
    /// # Panics
    /// When it does not, or either name is missing or ambiguous.
    pub fn assert_parent(&self, child: &str, parent: &str) {
        let c = self.get(child);
        let p = self.get(parent);
        assert_eq!(
            c.span_context.trace_id(),
            p.span_context.trace_id(),
            "{child:?} and {parent:?} are in different traces"
        );
        assert!(
            c.parent_span_id == p.span_context.span_id(),
            "the parent of {child:?} is {:?}, not {parent:?}",
            self.by_id(c.parent_span_id)
                .map(|s| s.name.to_string())
                .unwrap_or_else(|| format!("span {}", c.parent_span_id))
        );
    }

    /// Check that `name` (the only span of that name) has no parent.
    ///
    /// # Panics
    /// When it has one.
    pub fn assert_root(&self, name: &str) {
        let span = self.get(name);
        assert!(
            span.parent_span_id == SpanId::INVALID,
            "{name:?} has parent {}",
            span.parent_span_id
        );
    }

    /// Check that `name` has the attribute `key` equal to `expected`.
    ///
    /// # Panics
    /// When the attribute is missing or different.
    pub fn assert_attribute(&self, name: &str, key: &str, expected: impl Into<Value>) {
        assert_attribute(self.get(name), key, expected);
    }

    /// Check that every span belongs to one trace, and return its id.
    ///
    /// # Panics
    /// When there are no spans, or several traces.
    pub fn assert_single_trace(&self) -> TraceId {
        match self.trace_ids().as_slice() {
            [one] => *one,
            [] => panic!("no spans"),
            many => panic!("spans belong to {} traces: {many:?}", many.len()),
        }
    }

    /// The span tree as text, two spaces per level, children by start
    /// time: handy to compare a whole trace's shape in one assertion.
    pub fn tree(&self) -> String {
        let mut out = String::new();
        let mut stack: Vec<(&SpanData, usize)> =
            self.roots().into_iter().rev().map(|s| (s, 0)).collect();
        let mut seen = BTreeSet::new();
        while let Some((span, depth)) = stack.pop() {
            if !seen.insert((
                span.span_context.trace_id().to_bytes(),
                span.span_context.span_id().to_bytes(),
            )) {
                continue;
            }
            let _ = writeln!(out, "{}{}", "  ".repeat(depth), span.name);
            let mut children: Vec<&SpanData> = self
                .spans
                .iter()
                .filter(|s| {
                    s.parent_span_id == span.span_context.span_id()
                        && s.span_context.trace_id() == span.span_context.trace_id()
                })
                .collect();
            children.sort_by_key(|s| s.start_time);
            stack.extend(children.into_iter().rev().map(|s| (s, depth + 1)));
        }
        out
    }
}

impl<'a> IntoIterator for &'a Spans {
    type Item = &'a SpanData;
    type IntoIter = std::slice::Iter<'a, SpanData>;
    fn into_iter(self) -> Self::IntoIter {
        self.spans.iter()
    }
}

/// The value of attribute `key` on `span`.
pub fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == Key::from(key.to_string()))
        .map(|kv| &kv.value)
}

/// Check that `span` has the attribute `key` equal to `expected`.
///
/// # Panics
/// When the attribute is missing or different.
pub fn assert_attribute(span: &SpanData, key: &str, expected: impl Into<Value>) {
    let expected = expected.into();
    match attribute(span, key) {
        Some(actual) => assert_eq!(
            actual, &expected,
            "attribute {key:?} of span {:?}",
            span.name
        ),
        None => panic!(
            "span {:?} has no attribute {key:?}; it has {:?}",
            span.name,
            span.attributes
                .iter()
                .map(|kv| kv.key.as_str())
                .collect::<Vec<_>>()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SpanDataBuilder;
    use opentelemetry::KeyValue;
    use std::time::Duration;

    fn sample() -> Spans {
        let root = SpanDataBuilder::new("root").build();
        let a = SpanDataBuilder::new("a")
            .child_of(&root)
            .offset(Duration::from_millis(1))
            .attribute(KeyValue::new("n", 1))
            .build();
        let b = SpanDataBuilder::new("b").child_of(&root).build();
        let c = SpanDataBuilder::new("c").child_of(&a).build();
        Spans::new(vec![c, a, b, root])
    }

    #[test]
    fn navigates_the_tree() {
        let spans = sample();
        assert_eq!(spans.tree(), "root\n  b\n  a\n    c\n");
        assert_eq!(spans.parent_of("c").map(|s| s.name.as_ref()), Some("a"));
        assert_eq!(spans.children_of("root").len(), 2);
        assert_eq!(spans.roots().len(), 1);
        spans.assert_parent("c", "a");
        spans.assert_root("root");
        spans.assert_attribute("a", "n", 1);
        assert_eq!(attribute(spans.get("b"), "n"), None);
        assert_eq!(spans.assert_single_trace(), TraceId::from(1u128));
    }

    #[test]
    #[should_panic(expected = "not \"b\"")]
    fn wrong_parent_is_reported() {
        sample().assert_parent("c", "b");
    }

    #[test]
    #[should_panic(expected = "no span named")]
    fn missing_span_is_reported() {
        sample().get("zzz");
    }

    #[test]
    #[should_panic(expected = "attribute")]
    fn wrong_attribute_value_is_reported() {
        sample().assert_attribute("a", "n", 2);
    }
}
