//! Choosing a sampler from `OTEL_TRACES_SAMPLER` and
//! `OTEL_TRACES_SAMPLER_ARG`, as the OpenTelemetry SDK environment variable
//! specification defines them, plus tracekit's rate-limiting samplers.

use crate::parent_based::ParentBased;
use crate::rate_limiting::RateLimiting;
use crate::sampler::{AlwaysOff, AlwaysOn, Sampler};
use crate::trace_id_ratio::TraceIdRatioBased;

/// The variable naming the sampler.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The variable holding the sampler's argument.
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// The rate of `ratelimiting` and `parentbased_ratelimiting` when
/// `OTEL_TRACES_SAMPLER_ARG` is unset or invalid, in traces per second.
pub const DEFAULT_TRACES_PER_SECOND: f64 = 100.0;
/// The sampler used when `OTEL_TRACES_SAMPLER` is unset or invalid.
pub const DEFAULT_SAMPLER: &str = "parentbased_always_on";

/// The sampler the process environment asks for; each problem with the
/// variables is printed to standard error as one line, e.g.
/// `tracekit: ignoring OTEL_TRACES_SAMPLER_ARG="abc" (not a number in [0, 1]); using 1.0`.
///
/// See [`from_env_values`] for the accepted values.
pub fn from_env() -> Box<dyn Sampler> {
    let read = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let sampler = read(OTEL_TRACES_SAMPLER);
    let arg = read(OTEL_TRACES_SAMPLER_ARG);
    let (sampler, warnings) = from_env_values(sampler.as_deref(), arg.as_deref());
    for warning in warnings {
        eprintln!("{warning}");
    }
    sampler
}

/// The sampler for these values of `OTEL_TRACES_SAMPLER` and
/// `OTEL_TRACES_SAMPLER_ARG`, with the warnings to report (complete lines,
/// `tracekit: ignoring …; using …`) instead of printing them.
///
/// | `OTEL_TRACES_SAMPLER` | sampler | `OTEL_TRACES_SAMPLER_ARG` |
/// |---|---|---|
/// | `always_on` | [`AlwaysOn`] | ignored |
/// | `always_off` | [`AlwaysOff`] | ignored |
/// | `traceidratio` | [`TraceIdRatioBased`] | ratio in `[0, 1]`, default 1.0 |
/// | `parentbased_always_on` (default) | [`ParentBased::always_on`] | ignored |
/// | `parentbased_always_off` | [`ParentBased::always_off`] | ignored |
/// | `parentbased_traceidratio` | [`ParentBased`] over [`TraceIdRatioBased`] | ratio, default 1.0 |
/// | `ratelimiting` | [`RateLimiting`] | traces per second, default 100 |
/// | `parentbased_ratelimiting` | [`ParentBased`] over [`RateLimiting`] | traces per second, default 100 |
///
/// Names are case-insensitive; surrounding whitespace is ignored and empty
/// values count as unset. An unknown or unsupported sampler falls back to
/// `parentbased_always_on`; an invalid ratio to 1.0 (the specification's
/// fallbacks) and an invalid rate to 100 per second, each with a warning.
///
/// ```
/// use tracekit_samplers::from_env_values;
///
/// let (sampler, warnings) = from_env_values(Some("parentbased_traceidratio"), Some("abc"));
/// assert_eq!(
///     warnings,
///     ["tracekit: ignoring OTEL_TRACES_SAMPLER_ARG=\"abc\" (not a number in [0, 1]); using 1.0"]
/// );
/// assert!(sampler.description().starts_with("ParentBased{root:TraceIdRatioBased{1}"));
/// ```
pub fn from_env_values(
    sampler: Option<&str>,
    arg: Option<&str>,
) -> (Box<dyn Sampler>, Vec<String>) {
    let sampler = sampler.map(str::trim).filter(|s| !s.is_empty());
    let arg = arg.map(str::trim).filter(|s| !s.is_empty());
    let mut warnings = Vec::new();
    let Some(name) = sampler else {
        return (Box::new(ParentBased::always_on()), warnings);
    };
    let chosen: Box<dyn Sampler> = match name.to_ascii_lowercase().as_str() {
        "always_on" => Box::new(AlwaysOn),
        "always_off" => Box::new(AlwaysOff),
        "parentbased_always_on" => Box::new(ParentBased::always_on()),
        "parentbased_always_off" => Box::new(ParentBased::always_off()),
        "traceidratio" => Box::new(ratio_arg(arg, &mut warnings)),
        "parentbased_traceidratio" => Box::new(ParentBased::new(ratio_arg(arg, &mut warnings))),
        "ratelimiting" => Box::new(RateLimiting::new(rate_arg(arg, &mut warnings))),
        "parentbased_ratelimiting" => Box::new(ParentBased::new(RateLimiting::new(rate_arg(
            arg,
            &mut warnings,
        )))),
        known @ ("jaeger_remote" | "parentbased_jaeger_remote" | "xray") => {
            warnings.push(warning(
                OTEL_TRACES_SAMPLER,
                name,
                &format!("{known} is not supported by tracekit"),
                DEFAULT_SAMPLER,
            ));
            Box::new(ParentBased::always_on())
        }
        _ => {
            warnings.push(warning(
                OTEL_TRACES_SAMPLER,
                name,
                "unknown sampler",
                DEFAULT_SAMPLER,
            ));
            Box::new(ParentBased::always_on())
        }
    };
    (chosen, warnings)
}

fn warning(var: &str, value: &str, reason: &str, fallback: &str) -> String {
    format!("tracekit: ignoring {var}={value:?} ({reason}); using {fallback}")
}

fn ratio_arg(arg: Option<&str>, warnings: &mut Vec<String>) -> TraceIdRatioBased {
    let Some(raw) = arg else {
        return TraceIdRatioBased::new(1.0);
    };
    match raw.parse::<f64>().ok().map(TraceIdRatioBased::try_new) {
        Some(Ok(sampler)) => sampler,
        _ => {
            warnings.push(warning(
                OTEL_TRACES_SAMPLER_ARG,
                raw,
                "not a number in [0, 1]",
                "1.0",
            ));
            TraceIdRatioBased::new(1.0)
        }
    }
}

fn rate_arg(arg: Option<&str>, warnings: &mut Vec<String>) -> f64 {
    let Some(raw) = arg else {
        return DEFAULT_TRACES_PER_SECOND;
    };
    match raw.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => rate,
        _ => {
            warnings.push(warning(
                OTEL_TRACES_SAMPLER_ARG,
                raw,
                "not a positive number of traces per second",
                &DEFAULT_TRACES_PER_SECOND.to_string(),
            ));
            DEFAULT_TRACES_PER_SECOND
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(sampler: Option<&str>, arg: Option<&str>) -> (String, Vec<String>) {
        let (s, w) = from_env_values(sampler, arg);
        (s.description(), w)
    }

    fn parent_based(root: &str) -> String {
        format!(
            "ParentBased{{root:{root},remoteParentSampled:AlwaysOnSampler,\
             remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,\
             localParentNotSampled:AlwaysOffSampler}}"
        )
    }

    #[test]
    fn every_sampler_name() {
        let cases: &[(&str, Option<&str>, String)] = &[
            ("always_on", None, "AlwaysOnSampler".into()),
            ("always_off", Some("0.5"), "AlwaysOffSampler".into()),
            (
                "traceidratio",
                Some("0.25"),
                "TraceIdRatioBased{0.25}".into(),
            ),
            ("traceidratio", None, "TraceIdRatioBased{1}".into()),
            (
                "parentbased_always_on",
                None,
                parent_based("AlwaysOnSampler"),
            ),
            (
                "parentbased_always_off",
                None,
                parent_based("AlwaysOffSampler"),
            ),
            (
                "parentbased_traceidratio",
                Some(" 0.1 "),
                parent_based("TraceIdRatioBased{0.1}"),
            ),
            (
                "ratelimiting",
                Some("50"),
                "RateLimitingSampler{50/s,burst=50}".into(),
            ),
            (
                "ratelimiting",
                None,
                "RateLimitingSampler{100/s,burst=100}".into(),
            ),
            (
                "parentbased_ratelimiting",
                Some("2.5"),
                parent_based("RateLimitingSampler{2.5/s,burst=3}"),
            ),
            ("  TraceIdRatio ", Some("0"), "TraceIdRatioBased{0}".into()),
            ("ALWAYS_ON", None, "AlwaysOnSampler".into()),
        ];
        for (name, arg, expected) in cases {
            let (description, warnings) = describe(Some(name), *arg);
            assert_eq!(&description, expected, "{name} {arg:?}");
            assert!(warnings.is_empty(), "{name}: {warnings:?}");
        }
    }

    #[test]
    fn unset_and_empty_mean_the_default() {
        for sampler in [None, Some(""), Some("   ")] {
            let (description, warnings) = describe(sampler, Some("0.5"));
            assert_eq!(description, parent_based("AlwaysOnSampler"));
            assert!(warnings.is_empty());
        }
        let (description, warnings) = describe(Some("traceidratio"), Some(" "));
        assert_eq!(description, "TraceIdRatioBased{1}");
        assert!(warnings.is_empty());
    }

    #[test]
    fn invalid_values_warn_and_fall_back() {
        let (d, w) = describe(Some("traceidratio"), Some("abc"));
        assert_eq!(d, "TraceIdRatioBased{1}");
        assert_eq!(
            w,
            ["tracekit: ignoring OTEL_TRACES_SAMPLER_ARG=\"abc\" (not a number in [0, 1]); using 1.0"]
        );
        for bad in ["1.5", "-0.1", "NaN", "inf"] {
            let (d, w) = describe(Some("parentbased_traceidratio"), Some(bad));
            assert_eq!(d, parent_based("TraceIdRatioBased{1}"), "{bad}");
            assert_eq!(w.len(), 1, "{bad}");
        }
        let (d, w) = describe(Some("sometimes"), Some("0.5"));
        assert_eq!(d, parent_based("AlwaysOnSampler"));
        assert_eq!(
            w,
            ["tracekit: ignoring OTEL_TRACES_SAMPLER=\"sometimes\" (unknown sampler); using parentbased_always_on"]
        );
        let (d, w) = describe(Some("jaeger_remote"), None);
        assert_eq!(d, parent_based("AlwaysOnSampler"));
        assert!(w[0].contains("not supported"), "{w:?}");
        for bad in ["0", "-5", "many", "inf"] {
            let (d, w) = describe(Some("ratelimiting"), Some(bad));
            assert_eq!(d, "RateLimitingSampler{100/s,burst=100}");
            assert_eq!(
                w,
                [format!(
                    "tracekit: ignoring OTEL_TRACES_SAMPLER_ARG=\"{bad}\" \
                     (not a positive number of traces per second); using 100"
                )]
            );
        }
    }
}
