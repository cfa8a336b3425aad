//! Bad input is normal input: every propagator extracts from random and
//! mutated header values without panicking, and whatever it accepts
//! re-injects as a well-formed header. Bounded: a fixed number of cases from
//! a fixed seed, so a failure reproduces.

use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use std::collections::HashMap;
use tracekit_propagators::{
    B3Propagator, BaggagePropagator, JaegerPropagator, TraceContextPropagator,
};

const CASES: usize = 20_000;

/// Characters that matter to the grammars, plus some that never should.
const ALPHABET: &[char] = &[
    '0', '1', '2', '9', 'a', 'f', 'F', 'g', 'z', '-', ',', ';', '=', '@', '*', '/', '_', ' ', '\t',
    '%', ':', '.', 'é', '\u{0}', '"', '\\', '\u{7f}',
];

const SEEDS: &[&str] = &[
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03-extra",
    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=v",
    "userId=alice,serverNode=DF%2028,isProduction=false;meta=1",
    "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
    "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1",
];

fn mutate(rng: &mut fastrand::Rng, seed: &str) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..rng.usize(0..4) {
        match rng.u8(0..4) {
            0 if !chars.is_empty() => {
                let i = rng.usize(0..chars.len());
                chars[i] = ALPHABET[rng.usize(0..ALPHABET.len())];
            }
            1 => {
                let i = rng.usize(0..=chars.len());
                chars.insert(i, ALPHABET[rng.usize(0..ALPHABET.len())]);
            }
            2 if !chars.is_empty() => {
                let i = rng.usize(0..chars.len());
                chars.remove(i);
            }
            _ => {
                let extra: String = (0..rng.usize(0..40))
                    .map(|_| ALPHABET[rng.usize(0..ALPHABET.len())])
                    .collect();
                chars.extend(extra.chars());
            }
        }
    }
    chars.into_iter().collect()
}

fn carrier(rng: &mut fastrand::Rng) -> HashMap<String, String> {
    let mut headers = HashMap::new();
    for name in [
        "traceparent",
        "tracestate",
        "baggage",
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-sampled",
        "uber-trace-id",
        "uberctx-user",
    ] {
        if rng.bool() {
            let seed = SEEDS[rng.usize(0..SEEDS.len())];
            headers.insert(name.to_string(), mutate(rng, seed));
        }
    }
    headers
}

#[test]
fn random_headers_never_panic_and_accepted_contexts_round_trip() {
    let mut rng = fastrand::Rng::with_seed(0x7eac_e417);
    let propagators: Vec<Box<dyn TextMapPropagator>> = vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
        Box::new(B3Propagator::new()),
        Box::new(JaegerPropagator::new()),
    ];
    let mut accepted = 0;
    for _ in 0..CASES {
        let headers = carrier(&mut rng);
        for propagator in &propagators {
            let cx = propagator.extract(&headers);
            let mut out: HashMap<String, String> = HashMap::new();
            propagator.inject_context(&cx, &mut out);
            let span = cx.span();
            let sc = span.span_context();
            if sc.is_valid() {
                accepted += 1;
                // Whatever was accepted extracts again to the same ids.
                let again = propagator.extract(&out);
                let again_span = again.span();
                let again_sc = again_span.span_context();
                assert_eq!(again_sc.trace_id(), sc.trace_id(), "{headers:?} -> {out:?}");
                assert_eq!(again_sc.span_id(), sc.span_id(), "{headers:?} -> {out:?}");
            }
            for value in out.values() {
                assert!(
                    value.is_ascii(),
                    "non-ASCII header {value:?} from {headers:?}"
                );
            }
            let _ = cx.baggage().len();
        }
    }
    // The mutations keep enough valid inputs for the round trip to matter.
    assert!(accepted > 1_000, "only {accepted} accepted");
}
