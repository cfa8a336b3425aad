//! `OTEL_PROPAGATORS`: building the configured [`CompositePropagator`].

use crate::{
    B3Encoding, B3Propagator, BaggagePropagator, CompositePropagator, JaegerPropagator,
    TraceContextPropagator, W3cPropagation,
};
use opentelemetry::propagation::TextMapPropagator;

/// Name of the environment variable read by [`from_env`].
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";

/// The propagators `OTEL_PROPAGATORS` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    TraceContext,
    Baggage,
    B3,
    B3Multi,
    Jaeger,
    None,
}

impl Known {
    fn from_name(name: &str) -> Option<Known> {
        const NAMES: [(&str, Known); 6] = [
            ("tracecontext", Known::TraceContext),
            ("baggage", Known::Baggage),
            ("b3", Known::B3),
            ("b3multi", Known::B3Multi),
            ("jaeger", Known::Jaeger),
            ("none", Known::None),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, known)| known)
    }

    fn build(self) -> Option<Box<dyn TextMapPropagator + Send + Sync>> {
        Some(match self {
            Known::TraceContext => Box::new(TraceContextPropagator::new()),
            Known::Baggage => Box::new(BaggagePropagator::new()),
            Known::B3 => Box::new(B3Propagator::with_encoding(B3Encoding::SingleHeader)),
            Known::B3Multi => Box::new(B3Propagator::with_encoding(B3Encoding::MultipleHeader)),
            Known::Jaeger => Box::new(JaegerPropagator::new()),
            Known::None => return None,
        })
    }
}

/// Builds the propagator described by an `OTEL_PROPAGATORS` value and
/// returns the warnings instead of printing them.
///
/// The value is a comma-separated list of `tracecontext`, `baggage`, `b3`
/// (single header), `b3multi`, `jaeger` and `none`; names are trimmed and
/// matched case-insensitively, empty entries and repeated names are ignored,
/// `none` adds nothing (so `none` alone disables propagation). An unknown
/// name is skipped with one warning line:
/// `tracekit: ignoring OTEL_PROPAGATORS entry "x" (unknown propagator); skipping it`.
/// When the variable is unset or blank the default `tracecontext,baggage`
/// is used.
///
/// ```
/// use tracekit_propagators::from_env_value;
///
/// let (propagator, warnings) = from_env_value(Some(" TraceContext , b3multi,foo,b3multi"));
/// assert_eq!(propagator.len(), 2);
/// assert_eq!(warnings, [r#"tracekit: ignoring OTEL_PROPAGATORS entry "foo" (unknown propagator); skipping it"#]);
/// ```
pub fn from_env_value(value: Option<&str>) -> (CompositePropagator, Vec<String>) {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    let Some(value) = value else {
        return (CompositePropagator::default(), Vec::new());
    };
    let mut chosen: Vec<Known> = Vec::new();
    let mut warnings = Vec::new();
    for entry in value.split(',') {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        match Known::from_name(entry) {
            Some(known) => {
                if !chosen.contains(&known) {
                    chosen.push(known);
                }
            }
            None => warnings.push(format!(
                "tracekit: ignoring {OTEL_PROPAGATORS} entry {entry:?} (unknown propagator); skipping it"
            )),
        }
    }
    chosen.retain(|&known| known != Known::None);
    let w3c = match chosen.as_slice() {
        [Known::TraceContext] => Some(W3cPropagation::TraceContext),
        [Known::TraceContext, Known::Baggage] => Some(W3cPropagation::TraceContextAndBaggage),
        _ => None,
    };
    let propagators = chosen.into_iter().filter_map(Known::build).collect();
    (CompositePropagator::known_w3c(propagators, w3c), warnings)
}

/// Builds the propagator configured by the process's `OTEL_PROPAGATORS`
/// variable (see [`from_env_value`]), writing each warning as one line to
/// standard error.
///
/// ```
/// opentelemetry::global::set_text_map_propagator(tracekit_propagators::from_env());
/// ```
pub fn from_env() -> CompositePropagator {
    // A value that is not valid UTF-8 is read with U+FFFD for the bad
    // bytes, so the entry it spoils is reported, not silently ignored.
    let value = std::env::var_os(OTEL_PROPAGATORS).map(|v| v.to_string_lossy().into_owned());
    let (propagator, warnings) = from_env_value(value.as_deref());
    for warning in warnings {
        eprintln!("{warning}");
    }
    propagator
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(value: Option<&str>) -> (Vec<String>, Vec<String>) {
        let (p, warnings) = from_env_value(value);
        (p.fields().map(str::to_owned).collect(), warnings)
    }

    #[test]
    fn default_is_tracecontext_and_baggage() {
        for value in [None, Some(""), Some("  ")] {
            assert_eq!(fields(value).0, ["traceparent", "tracestate", "baggage"]);
            let w3c = from_env_value(value).0.w3c();
            assert_eq!(w3c, Some(W3cPropagation::TraceContextAndBaggage));
        }
    }

    #[test]
    fn only_the_w3c_lists_are_known_as_w3c() {
        let w3c = |value| from_env_value(Some(value)).0.w3c();
        assert_eq!(w3c("tracecontext"), Some(W3cPropagation::TraceContext));
        assert_eq!(
            w3c(" none, tracecontext"),
            Some(W3cPropagation::TraceContext)
        );
        assert_eq!(
            w3c("TRACECONTEXT,baggage,tracecontext"),
            Some(W3cPropagation::TraceContextAndBaggage)
        );
        for other in [
            "baggage,tracecontext",
            "baggage",
            "tracecontext,b3",
            "none",
            "jaeger",
        ] {
            assert_eq!(w3c(other), None, "{other}");
        }
    }

    #[test]
    fn every_name() {
        assert_eq!(
            fields(Some("tracecontext")).0,
            ["traceparent", "tracestate"]
        );
        assert_eq!(fields(Some("baggage")).0, ["baggage"]);
        assert_eq!(fields(Some("jaeger")).0, ["uber-trace-id"]);
        assert_eq!(fields(Some("b3")).0.len(), 6);
        assert_eq!(fields(Some("none")).0, Vec::<String>::new());
        let (p, w) = from_env_value(Some("none"));
        assert!(p.is_empty() && w.is_empty());
    }

    #[test]
    fn trimmed_case_insensitive_deduplicated() {
        let (p, w) = from_env_value(Some(
            " TraceContext ,BAGGAGE,, tracecontext ,b3, B3 ,b3multi",
        ));
        assert_eq!(p.len(), 4);
        assert!(w.is_empty());
    }

    #[test]
    fn unknown_names_warn_and_are_skipped() {
        let (p, w) = from_env_value(Some("tracecontext,xray, ottrace"));
        assert_eq!(p.len(), 1);
        assert_eq!(
            w,
            [
                r#"tracekit: ignoring OTEL_PROPAGATORS entry "xray" (unknown propagator); skipping it"#,
                r#"tracekit: ignoring OTEL_PROPAGATORS entry "ottrace" (unknown propagator); skipping it"#,
            ]
        );
        let (p, w) = from_env_value(Some("bogus"));
        assert!(p.is_empty());
        assert_eq!(w.len(), 1);
    }
}
