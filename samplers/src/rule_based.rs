//! [`RuleBased`]: an ordered list of rules, each sending the spans it
//! matches to its own sampler.

use crate::rule_text::{self, RuleParseError};
use crate::sampler::{AlwaysOff, Sampler, SamplingParameters, SamplingResult};
use opentelemetry::trace::SpanKind;
use opentelemetry::Value;
use std::fmt;
use std::str::FromStr;

/// A literal to compare attribute values and span names with. Typed forms
/// are parsed once, so that numbers and booleans match without formatting
/// the attribute value.
#[derive(Clone, Debug, PartialEq)]
struct Literal {
    text: String,
    int: Option<i64>,
    float: Option<f64>,
    boolean: Option<bool>,
}

impl Literal {
    fn new(text: impl Into<String>) -> Literal {
        let text = text.into();
        Literal {
            int: text.parse().ok(),
            float: text.parse().ok(),
            boolean: match text.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            text,
        }
    }

    #[inline]
    fn matches(&self, value: &Value) -> bool {
        match value {
            Value::String(s) => s.as_str() == self.text,
            Value::I64(i) => self.int == Some(*i),
            Value::F64(f) => self.float == Some(*f),
            Value::Bool(b) => self.boolean == Some(*b),
            _ => false,
        }
    }
}

/// How a span name or attribute value is compared.
#[derive(Clone, Debug, PartialEq)]
enum TextMatch {
    /// Equal to the literal (attribute values of any scalar type).
    Exact(Literal),
    /// Starts with the text (string values only).
    Prefix(String),
    /// Equal to one of the literals.
    OneOf(Vec<Literal>),
}

impl TextMatch {
    #[inline]
    fn matches_str(&self, s: &str) -> bool {
        match self {
            TextMatch::Exact(l) => l.text == s,
            TextMatch::Prefix(p) => s.starts_with(p.as_str()),
            TextMatch::OneOf(ls) => ls.iter().any(|l| l.text == s),
        }
    }

    #[inline]
    fn matches_value(&self, value: &Value) -> bool {
        match self {
            TextMatch::Exact(l) => l.matches(value),
            TextMatch::Prefix(p) => match value {
                Value::String(s) => s.as_str().starts_with(p.as_str()),
                _ => false,
            },
            TextMatch::OneOf(ls) => ls.iter().any(|l| l.matches(value)),
        }
    }
}

/// One condition of a [`Rule`].
#[derive(Clone, Debug, PartialEq)]
enum Condition {
    Name(TextMatch),
    /// A bit set of span kinds (see [`kind_bit`]).
    Kinds(u8),
    Attribute(String, TextMatch),
}

#[inline]
fn kind_bit(kind: &SpanKind) -> u8 {
    match kind {
        SpanKind::Client => 1,
        SpanKind::Server => 2,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 8,
        SpanKind::Internal => 16,
    }
}

const KINDS: [(SpanKind, &str); 5] = [
    (SpanKind::Client, "client"),
    (SpanKind::Server, "server"),
    (SpanKind::Producer, "producer"),
    (SpanKind::Consumer, "consumer"),
    (SpanKind::Internal, "internal"),
];

/// The span kind named `name` in the text form (`server`, `client`,
/// `producer`, `consumer`, `internal`; case-insensitive).
pub(crate) fn kind_named(name: &str) -> Option<SpanKind> {
    KINDS
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(k, _)| k.clone())
}

impl Condition {
    #[inline]
    fn matches(&self, params: &SamplingParameters<'_>) -> bool {
        match self {
            Condition::Name(m) => m.matches_str(params.name),
            Condition::Kinds(bits) => bits & kind_bit(params.kind) != 0,
            Condition::Attribute(key, m) => params
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .is_some_and(|kv| m.matches_value(&kv.value)),
        }
    }
}

/// A rule: conditions that must all hold (on the span's name, kind and
/// start attributes), and the sampler deciding for the spans that match.
///
/// A rule without conditions matches every span.
///
/// ```
/// use opentelemetry::trace::SpanKind;
/// use opentelemetry_semantic_conventions::attribute::HTTP_REQUEST_METHOD;
/// use tracekit_samplers::{ratio, Rule};
///
/// let rule = Rule::new(ratio(0.5))
///     .kind(SpanKind::Server)
///     .name_prefix("GET ")
///     .attribute_in(HTTP_REQUEST_METHOD, ["GET", "HEAD"]);
/// assert_eq!(
///     rule.to_string(),
///     "kind=server & name^=\"GET \" & http.request.method in [GET, HEAD]: TraceIdRatioBased{0.5}"
/// );
/// ```
#[derive(Debug)]
pub struct Rule {
    conditions: Vec<Condition>,
    sampler: Box<dyn Sampler>,
}

impl Rule {
    /// A rule sending the spans it matches to `sampler`; add conditions with
    /// the other methods.
    pub fn new(sampler: impl Sampler + 'static) -> Rule {
        Self::from_boxed(Box::new(sampler))
    }

    /// Like [`new`](Self::new), for an already boxed sampler.
    pub fn from_boxed(sampler: Box<dyn Sampler>) -> Rule {
        Rule {
            conditions: Vec::new(),
            sampler,
        }
    }

    /// Also require the span name to equal `name`.
    pub fn name_eq(self, name: impl Into<String>) -> Rule {
        self.with(Condition::Name(TextMatch::Exact(Literal::new(name))))
    }

    /// Also require the span name to start with `prefix`.
    pub fn name_prefix(self, prefix: impl Into<String>) -> Rule {
        self.with(Condition::Name(TextMatch::Prefix(prefix.into())))
    }

    /// Also require the span name to be one of `names`.
    pub fn name_in<I: IntoIterator<Item = S>, S: Into<String>>(self, names: I) -> Rule {
        self.with(Condition::Name(one_of(names)))
    }

    /// Also require the span kind to be `kind`. Calling it again with
    /// another kind accepts either: kinds form a set.
    pub fn kind(self, kind: SpanKind) -> Rule {
        self.kinds([kind])
    }

    /// Also require the span kind to be one of `kinds`.
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = SpanKind>) -> Rule {
        let bits = kinds.into_iter().fold(0, |bits, k| bits | kind_bit(&k));
        for condition in &mut self.conditions {
            if let Condition::Kinds(existing) = condition {
                *existing |= bits;
                return self;
            }
        }
        self.with(Condition::Kinds(bits))
    }

    /// Also require the attribute `key` to equal `value`. A string value is
    /// compared as text; integer, float and boolean attribute values match
    /// when `value` parses to the same number or `true`/`false`.
    pub fn attribute_eq(self, key: impl Into<String>, value: impl Into<String>) -> Rule {
        self.with(Condition::Attribute(
            key.into(),
            TextMatch::Exact(Literal::new(value)),
        ))
    }

    /// Also require the string attribute `key` to start with `prefix`.
    pub fn attribute_prefix(self, key: impl Into<String>, prefix: impl Into<String>) -> Rule {
        self.with(Condition::Attribute(
            key.into(),
            TextMatch::Prefix(prefix.into()),
        ))
    }

    /// Also require the attribute `key` to equal one of `values` (compared
    /// as [`attribute_eq`](Self::attribute_eq) does).
    pub fn attribute_in<I: IntoIterator<Item = S>, S: Into<String>>(
        self,
        key: impl Into<String>,
        values: I,
    ) -> Rule {
        self.with(Condition::Attribute(key.into(), one_of(values)))
    }

    /// The sampler of this rule.
    pub fn sampler(&self) -> &dyn Sampler {
        self.sampler.as_ref()
    }

    /// Whether the span described by `params` meets every condition.
    #[inline]
    pub fn matches(&self, params: &SamplingParameters<'_>) -> bool {
        self.conditions.iter().all(|c| c.matches(params))
    }

    fn with(mut self, condition: Condition) -> Rule {
        self.conditions.push(condition);
        self
    }
}

fn one_of<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> TextMatch {
    TextMatch::OneOf(values.into_iter().map(Literal::new).collect())
}

/// Samples each span with the sampler of the first rule it matches, or with
/// the default sampler when none does.
///
/// Rules look at the span's name, kind and start attributes (exact value,
/// prefix, or membership in a set). Build them in code:
///
/// ```
/// use opentelemetry::trace::{SpanKind, TraceId};
/// use opentelemetry::KeyValue;
/// use opentelemetry_semantic_conventions::attribute::HTTP_ROUTE;
/// use tracekit_samplers::{ratio, AlwaysOff, AlwaysOn, Rule, RuleBased, Sampler, SamplingParameters};
///
/// let sampler = RuleBased::builder()
///     .rule(Rule::new(AlwaysOff).attribute_eq(HTTP_ROUTE, "/health"))
///     .rule(Rule::new(AlwaysOn).name_prefix("GET /checkout"))
///     .default_sampler(ratio(0.05))
///     .build();
///
/// let attributes = [KeyValue::new(HTTP_ROUTE, "/health")];
/// let params = SamplingParameters {
///     attributes: &attributes,
///     ..SamplingParameters::root(TraceId::from(1), "GET /health", &SpanKind::Server)
/// };
/// assert!(!sampler.should_sample(&params).decision.is_sampled());
/// ```
///
/// or from the text form (grammar in the [crate documentation](crate#rule-text-form)):
///
/// ```
/// use tracekit_samplers::RuleBased;
///
/// let sampler: RuleBased =
///     "http.route=/health: always_off; name^=GET /checkout: always_on; *: traceidratio(0.05)"
///         .parse()
///         .expect("valid rules");
/// assert_eq!(sampler.rules().len(), 3);
/// assert!("http.route=/health".parse::<RuleBased>().is_err());
/// ```
#[derive(Debug)]
pub struct RuleBased {
    rules: Vec<Rule>,
    default: Box<dyn Sampler>,
}

impl RuleBased {
    /// Start building: no rules, default [`AlwaysOff`] (the specification's
    /// rule-based sampler does not sample spans no rule matches).
    pub fn builder() -> RuleBasedBuilder {
        RuleBasedBuilder {
            rules: Vec::new(),
            default: Box::new(AlwaysOff),
        }
    }

    /// Parse the text form; see the [crate documentation](crate#rule-text-form).
    pub fn parse(text: &str) -> Result<RuleBased, RuleParseError> {
        rule_text::parse_rules(text)
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The sampler for spans that no rule matches.
    pub fn default_sampler(&self) -> &dyn Sampler {
        self.default.as_ref()
    }
}

impl FromStr for RuleBased {
    type Err = RuleParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleBased::parse(s)
    }
}

/// Builds a [`RuleBased`] sampler.
#[derive(Debug)]
pub struct RuleBasedBuilder {
    rules: Vec<Rule>,
    default: Box<dyn Sampler>,
}

impl RuleBasedBuilder {
    /// Append a rule; rules are tried in the order they are added.
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// The sampler for spans no rule matches (default [`AlwaysOff`]).
    pub fn default_sampler(self, sampler: impl Sampler + 'static) -> Self {
        self.default_boxed(Box::new(sampler))
    }

    /// Like [`default_sampler`](Self::default_sampler), already boxed.
    pub fn default_boxed(mut self, sampler: Box<dyn Sampler>) -> Self {
        self.default = sampler;
        self
    }

    /// The sampler.
    pub fn build(self) -> RuleBased {
        RuleBased {
            rules: self.rules,
            default: self.default,
        }
    }
}

impl Sampler for RuleBased {
    #[inline]
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        match self.rules.iter().find(|rule| rule.matches(params)) {
            Some(rule) => rule.sampler.should_sample(params),
            None => self.default.should_sample(params),
        }
    }

    fn description(&self) -> String {
        let rules: Vec<String> = self.rules.iter().map(Rule::to_string).collect();
        format!(
            "RuleBased{{[{}],default:{}}}",
            rules.join("; "),
            self.default.description()
        )
    }
}

impl fmt::Display for Rule {
    /// The rule in (approximately) its text form, with the sampler's
    /// description after the colon.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conditions.is_empty() {
            f.write_str("*")?;
        }
        for (i, condition) in self.conditions.iter().enumerate() {
            if i > 0 {
                f.write_str(" & ")?;
            }
            match condition {
                Condition::Name(m) => write_match(f, "name", m)?,
                Condition::Attribute(key, m) => {
                    if rule_text::is_bare_key(key) {
                        write_match(f, key, m)?
                    } else {
                        write_match(f, &rule_text::quote(key), m)?
                    }
                }
                Condition::Kinds(bits) => {
                    let names: Vec<&str> = KINDS
                        .iter()
                        .filter(|(k, _)| bits & kind_bit(k) != 0)
                        .map(|(_, n)| *n)
                        .collect();
                    if names.len() == 1 {
                        write!(f, "kind={}", names[0])?;
                    } else {
                        write!(f, "kind in [{}]", names.join(", "))?;
                    }
                }
            }
        }
        write!(f, ": {}", self.sampler.description())
    }
}

fn write_match(f: &mut fmt::Formatter<'_>, field: &str, m: &TextMatch) -> fmt::Result {
    match m {
        TextMatch::Exact(l) => write!(f, "{field}={}", rule_text::value_text(&l.text)),
        TextMatch::Prefix(p) => write!(f, "{field}^={}", rule_text::value_text(p)),
        TextMatch::OneOf(ls) => {
            let values: Vec<String> = ls.iter().map(|l| rule_text::value_text(&l.text)).collect();
            write!(f, "{field} in [{}]", values.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::{AlwaysOn, SamplingDecision};
    use opentelemetry::trace::TraceId;
    use opentelemetry::KeyValue;
    use opentelemetry_semantic_conventions::attribute::{
        HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE,
    };

    /// Reports which rule fired through the attributes it adds.
    #[derive(Debug)]
    struct Tag(&'static str);
    impl Sampler for Tag {
        fn should_sample(&self, _: &SamplingParameters<'_>) -> SamplingResult {
            SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: vec![KeyValue::new("rule", self.0)],
                trace_state: None,
            }
        }
        fn description(&self) -> String {
            format!("Tag({})", self.0)
        }
    }

    fn fired(sampler: &RuleBased, name: &str, kind: SpanKind, attrs: &[KeyValue]) -> String {
        let params = SamplingParameters {
            attributes: attrs,
            ..SamplingParameters::root(TraceId::from(9u128), name, &kind)
        };
        let result = sampler.should_sample(&params);
        result
            .attributes
            .first()
            .map(|kv| kv.value.as_str().into_owned())
            .unwrap_or_else(|| format!("{:?}", result.decision))
    }

    #[test]
    fn rules_fire_in_order() {
        let sampler = RuleBased::builder()
            .rule(Rule::new(Tag("health")).attribute_eq(HTTP_ROUTE, "/health"))
            .rule(Rule::new(Tag("checkout")).name_prefix("GET /checkout"))
            .rule(Rule::new(Tag("get")).name_prefix("GET "))
            .rule(Rule::new(Tag("checkout-later")).name_prefix("GET /checkout"))
            .default_sampler(Tag("default"))
            .build();
        let health = [KeyValue::new(HTTP_ROUTE, "/health")];
        let other = [KeyValue::new(HTTP_ROUTE, "/healthz")];
        let s = SpanKind::Server;
        // The first matching rule wins even when later ones match too.
        assert_eq!(
            fired(&sampler, "GET /checkout/1", s.clone(), &health),
            "health"
        );
        assert_eq!(
            fired(&sampler, "GET /checkout/1", s.clone(), &other),
            "checkout"
        );
        assert_eq!(fired(&sampler, "GET /cart", s.clone(), &[]), "get");
        assert_eq!(fired(&sampler, "POST /cart", s.clone(), &other), "default");
        let no_default = RuleBased::builder()
            .rule(Rule::new(Tag("x")).name_eq("x"))
            .build();
        assert_eq!(fired(&no_default, "y", s, &[]), "Drop");
    }

    #[test]
    fn conditions_combine_with_and() {
        let sampler = RuleBased::builder()
            .rule(
                Rule::new(Tag("both"))
                    .kinds([SpanKind::Server, SpanKind::Consumer])
                    .attribute_in(HTTP_REQUEST_METHOD, ["GET", "HEAD"]),
            )
            .default_sampler(Tag("default"))
            .build();
        let get = [KeyValue::new(HTTP_REQUEST_METHOD, "GET")];
        let post = [KeyValue::new(HTTP_REQUEST_METHOD, "POST")];
        assert_eq!(fired(&sampler, "n", SpanKind::Server, &get), "both");
        assert_eq!(fired(&sampler, "n", SpanKind::Consumer, &get), "both");
        assert_eq!(fired(&sampler, "n", SpanKind::Client, &get), "default");
        assert_eq!(fired(&sampler, "n", SpanKind::Server, &post), "default");
        assert_eq!(fired(&sampler, "n", SpanKind::Server, &[]), "default");
    }

    #[test]
    fn typed_attribute_values() {
        let sampler = RuleBased::builder()
            .rule(Rule::new(Tag("404")).attribute_eq(HTTP_RESPONSE_STATUS_CODE, "404"))
            .rule(Rule::new(Tag("flag")).attribute_eq("feature.on", "true"))
            .rule(Rule::new(Tag("ratio")).attribute_in("r", ["0.5", "0.25"]))
            .rule(Rule::new(Tag("prefix")).attribute_prefix("p", "ab"))
            .default_sampler(Tag("default"))
            .build();
        let n = SpanKind::Internal;
        let f = |attrs: &[KeyValue]| fired(&sampler, "s", n.clone(), attrs);
        assert_eq!(f(&[KeyValue::new(HTTP_RESPONSE_STATUS_CODE, 404)]), "404");
        assert_eq!(f(&[KeyValue::new(HTTP_RESPONSE_STATUS_CODE, "404")]), "404");
        assert_eq!(
            f(&[KeyValue::new(HTTP_RESPONSE_STATUS_CODE, 500)]),
            "default"
        );
        assert_eq!(f(&[KeyValue::new("feature.on", true)]), "flag");
        assert_eq!(f(&[KeyValue::new("feature.on", false)]), "default");
        assert_eq!(f(&[KeyValue::new("r", 0.25)]), "ratio");
        assert_eq!(f(&[KeyValue::new("p", "abc")]), "prefix");
        assert_eq!(f(&[KeyValue::new("p", 1234)]), "default");
    }

    #[test]
    fn rules_without_conditions_match_everything() {
        let sampler = RuleBased::builder().rule(Rule::new(AlwaysOn)).build();
        let params = SamplingParameters::root(TraceId::from(1u128), "x", &SpanKind::Client);
        assert!(sampler.should_sample(&params).decision.is_sampled());
        assert_eq!(
            sampler.description(),
            "RuleBased{[*: AlwaysOnSampler],default:AlwaysOffSampler}"
        );
    }

    #[test]
    fn kinds_accumulate_into_one_set() {
        let rule = Rule::new(AlwaysOn)
            .kind(SpanKind::Server)
            .kind(SpanKind::Client);
        assert_eq!(
            rule.to_string(),
            "kind in [client, server]: AlwaysOnSampler"
        );
        let c = SpanKind::Client;
        assert!(rule.matches(&SamplingParameters::root(TraceId::from(1u128), "x", &c)));
        assert_eq!(kind_named("SERVER"), Some(SpanKind::Server));
        assert_eq!(kind_named("other"), None);
    }
}
