//! The text form of [`RuleBased`](crate::RuleBased) rules, and of the
//! samplers they name. The grammar is in the crate documentation
//! ("Rule text form"); errors carry the byte offset where parsing stopped.

use crate::parent_based::ParentBased;
use crate::rate_limiting::RateLimiting;
use crate::reservoir::{ReservoirThenRatio, MAX_RESERVOIR};
use crate::rule_based::{kind_named, Rule, RuleBased};
use crate::sampler::{AlwaysOff, AlwaysOn, Sampler};
use crate::trace_id_ratio::TraceIdRatioBased;
use crate::AlwaysRecord;
use std::fmt;

/// Why a rule text was refused, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleParseError {
    offset: usize,
    message: String,
}

impl RuleParseError {
    /// The byte offset in the text where the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RuleParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid sampling rules at byte {}: {}",
            self.offset, self.message
        )
    }
}

impl std::error::Error for RuleParseError {}

/// How deeply `always_record(…)` may nest in the text form: a sampler
/// inside more than this many `always_record(` is a parse error. Parsing
/// recurses once per level, so without a bound a few dozen kilobytes of
/// nested text would overflow the parsing thread's stack and abort the
/// process. One level is all a rule needs (wrapping `always_record` again
/// changes nothing).
pub const MAX_SAMPLER_NESTING: usize = 32;

/// Characters that end a bare (unquoted) value.
const VALUE_END: &[char] = &[';', '&', ':', '[', ']', '"'];

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.bump();
        }
        &self.text[start..self.pos]
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> RuleParseError {
        RuleParseError {
            offset,
            message: message.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> RuleParseError {
        self.error_at(self.pos, message)
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), RuleParseError> {
        self.skip_ws();
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }

    /// A double-quoted string with `\"` and `\\` escapes (cursor on `"`).
    fn quoted(&mut self) -> Result<String, RuleParseError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error_at(start, "unterminated quoted string")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c @ ('"' | '\\')) => out.push(c),
                    _ => {
                        return Err(
                            self.error_at(self.pos, "only \\\" and \\\\ escapes are allowed")
                        )
                    }
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// A quoted or bare value; bare values end at `VALUE_END` (and `,` in
    /// lists) and are trimmed.
    fn value(&mut self, in_list: bool) -> Result<String, RuleParseError> {
        self.skip_ws();
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let start = self.pos;
        let raw = self.take_while(|c| !(VALUE_END.contains(&c) || (in_list && c == ',')));
        let value = raw.trim();
        if value.is_empty() {
            return Err(self.error_at(start, "expected a value"));
        }
        Ok(value.to_string())
    }
}

/// Whether `key` can be written without quotes (and is not a reserved
/// field name).
pub(crate) fn is_bare_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(is_key_char) && key != "name" && key != "kind" && key != "in"
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '@')
}

/// `s` in double quotes, escaped.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A value as the text form writes it: bare when it reads back unchanged.
pub(crate) fn value_text(s: &str) -> String {
    let bare_ok =
        !s.is_empty() && s.trim() == s && !s.contains(|c: char| VALUE_END.contains(&c) || c == ',');
    if bare_ok {
        s.to_string()
    } else {
        quote(s)
    }
}

enum Field {
    Name,
    Kind,
    Attribute(String),
}

enum Operator {
    Exact,
    Prefix,
    In,
}

/// Parse a whole rule list.
pub(crate) fn parse_rules(text: &str) -> Result<RuleBased, RuleParseError> {
    let mut c = Cursor { text, pos: 0 };
    let mut builder = RuleBased::builder();
    let mut catch_all_at: Option<usize> = None;
    let mut count = 0usize;
    loop {
        c.skip_ws();
        if c.at_end() {
            break;
        }
        if c.eat(';') {
            continue;
        }
        let start = c.pos;
        if catch_all_at.is_some() {
            return Err(c.error("a rule after '*' can never match"));
        }
        let (rule, catch_all) = parse_rule(&mut c)?;
        if catch_all {
            catch_all_at = Some(start);
        }
        builder = builder.rule(rule);
        count += 1;
        c.skip_ws();
        if !c.at_end() && !c.eat(';') {
            return Err(c.error("expected ';' between rules"));
        }
    }
    if count == 0 {
        return Err(c.error_at(0, "no rules"));
    }
    Ok(builder.build())
}

fn parse_rule(c: &mut Cursor<'_>) -> Result<(Rule, bool), RuleParseError> {
    let mut conditions: Vec<(Field, Operator, Vec<String>, usize)> = Vec::new();
    let catch_all = c.eat('*');
    if !catch_all {
        loop {
            conditions.push(parse_condition(c)?);
            c.skip_ws();
            if !c.eat('&') {
                break;
            }
        }
    }
    c.expect(':', "':' and a sampler after the rule's conditions")?;
    c.skip_ws();
    let sampler = parse_sampler(c)?;
    let mut rule = Rule::from_boxed(sampler);
    for (field, op, values, offset) in conditions {
        rule = match (field, op) {
            (Field::Name, Operator::Exact) => rule.name_eq(values.concat()),
            (Field::Name, Operator::Prefix) => rule.name_prefix(values.concat()),
            (Field::Name, Operator::In) => rule.name_in(values),
            (Field::Kind, Operator::Prefix) => {
                return Err(c.error_at(offset, "'^=' does not apply to kind"))
            }
            (Field::Kind, _) => {
                let mut kinds = Vec::with_capacity(values.len());
                for v in &values {
                    kinds.push(kind_named(v).ok_or_else(|| {
                        c.error_at(
                            offset,
                            format!(
                                "unknown span kind {v:?} (server, client, producer, consumer, internal)"
                            ),
                        )
                    })?);
                }
                rule.kinds(kinds)
            }
            (Field::Attribute(key), Operator::Exact) => rule.attribute_eq(key, values.concat()),
            (Field::Attribute(key), Operator::Prefix) => {
                rule.attribute_prefix(key, values.concat())
            }
            (Field::Attribute(key), Operator::In) => rule.attribute_in(key, values),
        };
    }
    Ok((rule, catch_all))
}

fn parse_condition(
    c: &mut Cursor<'_>,
) -> Result<(Field, Operator, Vec<String>, usize), RuleParseError> {
    c.skip_ws();
    let start = c.pos;
    let field = if c.peek() == Some('"') {
        Field::Attribute(c.quoted()?)
    } else {
        match c.take_while(is_key_char) {
            "" => {
                return Err(c.error("expected a condition (name, kind or an attribute key) or '*'"))
            }
            "name" => Field::Name,
            "kind" => Field::Kind,
            key => Field::Attribute(key.to_string()),
        }
    };
    c.skip_ws();
    let op = if c.rest().starts_with("^=") {
        c.pos += 2;
        Operator::Prefix
    } else if c.eat('=') {
        Operator::Exact
    } else if c.rest().starts_with("in")
        && c.rest()[2..].starts_with(|ch: char| ch.is_whitespace() || ch == '[')
    {
        c.pos += 2;
        Operator::In
    } else {
        return Err(c.error("expected '=', '^=' or 'in'"));
    };
    let values = match op {
        Operator::In => {
            c.expect('[', "'[' to start the list")?;
            let mut values = vec![c.value(true)?];
            loop {
                c.skip_ws();
                if c.eat(']') {
                    break;
                }
                if !c.eat(',') {
                    return Err(c.error("expected ',' or ']' in the list"));
                }
                values.push(c.value(true)?);
            }
            values
        }
        _ => vec![c.value(false)?],
    };
    Ok((field, op, values, start))
}

/// Parse one sampler: `always_on`, `traceidratio(0.1)`, …, possibly inside
/// `always_record(…)`. The wrappers are counted in a loop rather than
/// parsed by recursion, so the stack used does not grow with the text.
fn parse_sampler(c: &mut Cursor<'_>) -> Result<Box<dyn Sampler>, RuleParseError> {
    let mut wrappers = 0usize;
    loop {
        let start = c.pos;
        let name = c
            .take_while(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            .to_ascii_lowercase();
        if name.is_empty() {
            return Err(c.error("expected a sampler"));
        }
        c.skip_ws();
        if name != "always_record" {
            let mut sampler = parse_leaf_sampler(c, start, &name)?;
            for _ in 0..wrappers {
                c.expect(')', "')'")?;
                sampler = Box::new(AlwaysRecord::new(sampler));
            }
            return Ok(sampler);
        }
        if wrappers == MAX_SAMPLER_NESTING {
            return Err(c.error_at(
                start,
                format!("always_record nested more than {MAX_SAMPLER_NESTING} deep"),
            ));
        }
        c.expect('(', "'(' after always_record")?;
        c.skip_ws();
        wrappers += 1;
    }
}

/// Parse the arguments of the sampler `name` (not `always_record`), which
/// started at `start`.
fn parse_leaf_sampler(
    c: &mut Cursor<'_>,
    start: usize,
    name: &str,
) -> Result<Box<dyn Sampler>, RuleParseError> {
    let args_at = c.pos;
    let args = if c.eat('(') {
        let mut args = Vec::new();
        loop {
            c.skip_ws();
            let arg_at = c.pos;
            let raw = c
                .take_while(|ch| ch != ',' && ch != ')' && ch != ';')
                .trim();
            let number: f64 = raw
                .parse()
                .map_err(|_| c.error_at(arg_at, format!("{raw:?} is not a number")))?;
            args.push(number);
            if c.eat(')') {
                break;
            }
            if !c.eat(',') {
                return Err(c.error("expected ',' or ')'"));
            }
        }
        args
    } else {
        Vec::new()
    };
    let arity = |n: usize| -> Result<(), RuleParseError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(c.error_at(
                args_at,
                format!("{name} takes {n} argument(s), got {}", args.len()),
            ))
        }
    };
    let ratio =
        |p: f64| TraceIdRatioBased::try_new(p).map_err(|e| c.error_at(args_at, format!("{e}")));
    let rate = |r: f64| {
        if r.is_finite() && r > 0.0 {
            Ok(r)
        } else {
            Err(c.error_at(args_at, format!("rate {r} is not a positive number")))
        }
    };
    let sampler: Box<dyn Sampler> = match name {
        "always_on" => {
            arity(0)?;
            Box::new(AlwaysOn)
        }
        "always_off" => {
            arity(0)?;
            Box::new(AlwaysOff)
        }
        "traceidratio" => {
            arity(1)?;
            Box::new(ratio(args[0])?)
        }
        "ratelimiting" => match args.as_slice() {
            [r] => Box::new(RateLimiting::new(rate(*r)?)),
            [r, burst]
                if burst.fract() == 0.0 && *burst >= 1.0 && *burst <= f64::from(u32::MAX) =>
            {
                Box::new(RateLimiting::with_burst(rate(*r)?, *burst as u32))
            }
            [_, _] => {
                return Err(c.error_at(
                    args_at,
                    format!("burst must be a whole number in [1, {}]", u32::MAX),
                ))
            }
            _ => return Err(c.error_at(args_at, "ratelimiting takes 1 or 2 arguments")),
        },
        "reservoir" => {
            arity(2)?;
            let n = args[0];
            if !(n.fract() == 0.0 && (0.0..=f64::from(MAX_RESERVOIR)).contains(&n)) {
                return Err(c.error_at(
                    args_at,
                    format!("reservoir size must be a whole number in [0, {MAX_RESERVOIR}]"),
                ));
            }
            Box::new(ReservoirThenRatio::new(n as u32, ratio(args[1])?.ratio()))
        }
        "parentbased_always_on" => {
            arity(0)?;
            Box::new(ParentBased::always_on())
        }
        "parentbased_always_off" => {
            arity(0)?;
            Box::new(ParentBased::always_off())
        }
        "parentbased_traceidratio" => {
            arity(1)?;
            Box::new(ParentBased::new(ratio(args[0])?))
        }
        "parentbased_ratelimiting" => {
            arity(1)?;
            Box::new(ParentBased::new(RateLimiting::new(rate(args[0])?)))
        }
        other => return Err(c.error_at(start, format!("unknown sampler {other:?}"))),
    };
    Ok(sampler)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::{SamplingDecision, SamplingParameters};
    use opentelemetry::trace::{SpanKind, TraceId};
    use opentelemetry::KeyValue;
    use opentelemetry_semantic_conventions::attribute::{HTTP_REQUEST_METHOD, HTTP_ROUTE};

    fn decide(
        rules: &RuleBased,
        name: &str,
        kind: SpanKind,
        attrs: &[KeyValue],
    ) -> SamplingDecision {
        let params = SamplingParameters {
            attributes: attrs,
            ..SamplingParameters::root(TraceId::from(u128::MAX), name, &kind)
        };
        rules.should_sample(&params).decision
    }

    fn err(text: &str) -> RuleParseError {
        match parse_rules(text) {
            Ok(r) => panic!("{text:?} parsed as {}", r.description()),
            Err(e) => e,
        }
    }

    #[test]
    fn the_documented_example() {
        let text = format!(
            "{HTTP_ROUTE}=/health:always_off; name^=GET /checkout:always_on; *:traceidratio(0.05)"
        );
        let rules = parse_rules(&text).expect("parses");
        let health = [KeyValue::new(HTTP_ROUTE, "/health")];
        let s = SpanKind::Server;
        assert_eq!(
            decide(&rules, "GET /checkout", s.clone(), &health),
            SamplingDecision::Drop
        );
        assert_eq!(
            decide(&rules, "GET /checkout/pay", s.clone(), &[]),
            SamplingDecision::RecordAndSample
        );
        assert_eq!(
            rules.description(),
            "RuleBased{[http.route=/health: AlwaysOffSampler; \
             name^=GET /checkout: AlwaysOnSampler; \
             *: TraceIdRatioBased{0.05}],default:AlwaysOffSampler}"
        );
    }

    #[test]
    fn full_grammar() {
        let text = r#"
            kind in [server, CONSUMER] & http.request.method in [GET, "HE;AD"] : always_record(always_off);
            "name" = "quoted \"attr\"" & name = exact : reservoir(5, 0.5) ;
            kind=client: ratelimiting(10, 20);;
            url.full ^= "https://x" : parentbased_traceidratio(0.5);
            *: parentbased_always_on;
        "#;
        let rules = parse_rules(text).expect("parses");
        assert_eq!(rules.rules().len(), 5);
        let d = rules.description();
        assert!(d.contains("kind in [server, consumer] & http.request.method in [GET, \"HE;AD\"]: AlwaysRecord{AlwaysOffSampler}"), "{d}");
        assert!(
            d.contains("\"name\"=\"quoted \\\"attr\\\"\" & name=exact: ReservoirThenRatio{5/s"),
            "{d}"
        );
        assert!(
            d.contains("kind=client: RateLimitingSampler{10/s,burst=20}"),
            "{d}"
        );
        assert!(
            d.contains("url.full^=\"https://x\": ParentBased{root:TraceIdRatioBased{0.5}"),
            "{d}"
        );
        let get = [KeyValue::new(HTTP_REQUEST_METHOD, "HE;AD")];
        assert_eq!(
            decide(&rules, "x", SpanKind::Consumer, &get),
            SamplingDecision::RecordOnly
        );
        let quoted = [KeyValue::new("name", "quoted \"attr\"")];
        assert_eq!(
            decide(&rules, "exact", SpanKind::Internal, &quoted),
            SamplingDecision::RecordAndSample
        );
    }

    #[test]
    fn descriptions_parse_back() {
        let text = "kind in [client, server] & a.b^=\"x:y\" & c in [1, \"2,3\"]: always_on";
        let rules = parse_rules(text).expect("parses");
        let rule_text = rules.rules()[0]
            .to_string()
            .replace("AlwaysOnSampler", "always_on");
        let again = parse_rules(&rule_text).expect("round trip");
        assert_eq!(again.rules()[0].to_string(), rules.rules()[0].to_string());
    }

    #[test]
    fn errors_are_reported_with_offsets() {
        let e = err("");
        assert_eq!((e.offset(), e.message()), (0, "no rules"));
        assert_eq!(err("  ;; ").message(), "no rules");
        let e = err("http.route=/health");
        assert_eq!(e.offset(), 18);
        assert!(e.message().contains("expected ':'"), "{e}");
        assert!(err("a=b: sometimes").message().contains("unknown sampler"));
        assert_eq!(err("a=b: sometimes").offset(), 5);
        assert!(err("a=b: traceidratio(1.5)")
            .message()
            .contains("not a number in [0, 1]"));
        assert!(err("a=b: traceidratio(x)")
            .message()
            .contains("\"x\" is not a number"));
        assert!(err("a=b: traceidratio")
            .message()
            .contains("takes 1 argument"));
        assert!(err("a=b: always_on(1)")
            .message()
            .contains("takes 0 argument"));
        assert!(err("a=b: ratelimiting(0)")
            .message()
            .contains("not a positive number"));
        assert!(err("a=b: ratelimiting(1, 0.5)").message().contains("burst"));
        // Too large a burst names the bound it broke, not only the lower one.
        assert_eq!(
            err("a=b: ratelimiting(1, 1e10)").message(),
            "burst must be a whole number in [1, 4294967295]"
        );
        assert!(err("a=b: reservoir(-1, 0.5)")
            .message()
            .contains("reservoir size"));
        assert!(err("kind^=ser: always_on")
            .message()
            .contains("does not apply"));
        assert!(err("kind=serverish: always_on")
            .message()
            .contains("unknown span kind"));
        assert!(err("a: always_on")
            .message()
            .contains("expected '=', '^=' or 'in'"));
        assert!(err("a=: always_on").message().contains("expected a value"));
        assert!(err("a in [x: always_on")
            .message()
            .contains("expected ',' or ']'"));
        assert!(err("a in x: always_on").message().contains("'['"));
        assert!(err("a=\"open: always_on")
            .message()
            .contains("unterminated"));
        assert!(err("a=\"\\n\": always_on").message().contains("escapes"));
        assert!(err("=x: always_on")
            .message()
            .contains("expected a condition"));
        assert!(err("*: always_on; a=b: always_off")
            .message()
            .contains("never match"));
        assert!(err("a=b: always_on a=c: always_off")
            .message()
            .contains("expected ';'"));
        assert!(err("a=b: always_record(nope)")
            .message()
            .contains("unknown sampler"));
        assert!(err("a=b: always_record(always_on")
            .message()
            .contains("')'"));
        assert!(err("a=b & : always_on")
            .message()
            .contains("expected a condition"));
    }

    /// `n` nested `always_record(` around `always_on`, as one rule.
    fn nested(n: usize) -> String {
        format!(
            "*: {}always_on{}",
            "always_record(".repeat(n),
            ")".repeat(n)
        )
    }

    #[test]
    fn nesting_up_to_the_limit_parses() {
        let rules = parse_rules(&nested(MAX_SAMPLER_NESTING)).expect("parses");
        assert_eq!(rules.rules().len(), 1);
        let e = parse_rules(&nested(MAX_SAMPLER_NESTING + 1)).unwrap_err();
        assert_eq!(
            e.message(),
            format!("always_record nested more than {MAX_SAMPLER_NESTING} deep")
        );
        assert_eq!(e.offset(), 3 + "always_record(".len() * MAX_SAMPLER_NESTING);
    }

    #[test]
    fn deep_nesting_is_an_error_even_on_a_small_stack() {
        // 100,000 levels (1.4 MB of text) on a 64 KiB stack: unbounded
        // recursion would overflow it and abort the whole test process.
        let text = nested(100_000);
        let result = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || parse_rules(&text).map(|_| ()))
            .expect("spawn")
            .join()
            .expect("no panic");
        let e = result.unwrap_err();
        assert!(e.message().contains("nested more than 32 deep"), "{e}");
    }

    #[test]
    fn never_panics_on_arbitrary_input() {
        use rand::rngs::SmallRng;
        use rand::{Rng, SeedableRng};
        let alphabet: Vec<char> = "ab=^;&:*[]\",\\() inkdmé0.5_ \n".chars().collect();
        let mut rng = SmallRng::seed_from_u64(3);
        for _ in 0..20_000 {
            let len = rng.random_range(0..30);
            let text: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let _ = parse_rules(&text);
        }
        // Truncations of a valid text at every char boundary.
        let valid =
            "kind in [server] & \"é\"^=\"x\\\"\" : always_record(traceidratio(0.5)); *: always_on";
        for (i, _) in valid.char_indices() {
            let _ = parse_rules(&valid[..i]);
        }
    }
}
