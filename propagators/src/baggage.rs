//! [`BaggagePropagator`]: W3C Baggage (`baggage` header) to and from
//! [`opentelemetry::baggage::Baggage`] in the [`Context`].

use crate::percent;
use crate::text::{split_byte, split_once_byte, trim_ows};
use opentelemetry::baggage::{Baggage, BaggageExt, BaggageMetadata};
use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::Context;
use std::cell::RefCell;
use std::sync::OnceLock;

/// Name of the W3C `baggage` header.
pub const BAGGAGE_HEADER: &str = "baggage";
/// Most list members propagated, in either direction.
pub const MAX_BAGGAGE_MEMBERS: usize = 64;
/// Most bytes of `baggage-string` propagated (members and the commas between
/// them), in either direction.
pub const MAX_BAGGAGE_BYTES: usize = 8192;

fn baggage_fields() -> &'static [String; 1] {
    static FIELDS: OnceLock<[String; 1]> = OnceLock::new();
    FIELDS.get_or_init(|| [BAGGAGE_HEADER.to_owned()])
}

/// RFC 7230 `tchar`: ASCII letters, digits and ``!#$%&'*+-.^_`|~``,
/// as a table (one load per byte).
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// RFC 7230 `token = 1*tchar`, the W3C Baggage key grammar.
#[inline]
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| TCHAR[usize::from(b)])
}

/// W3C `baggage-octet`: printable ASCII except space, `"`, `,`, `;`, `\`.
#[inline]
fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

#[inline]
fn is_baggage_value(s: &str) -> bool {
    s.bytes().all(is_baggage_octet)
}

/// Splits one property (`key OWS "=" OWS value` or `key OWS`) into its
/// trimmed key and value, or `None` when it breaks the grammar.
fn parse_property(property: &str) -> Option<(&str, Option<&str>)> {
    let property = trim_ows(property);
    match split_once_byte(property, b'=') {
        Some((key, value)) => {
            let (key, value) = (trim_ows(key), trim_ows(value));
            (is_token(key) && is_baggage_value(value)).then_some((key, Some(value)))
        }
        None => is_token(property).then_some((property, None)),
    }
}

/// Checks a `;`-separated property list (empty properties are tolerated).
fn are_valid_properties(properties: &str) -> bool {
    split_byte(properties, b';').all(|p| trim_ows(p).is_empty() || parse_property(p).is_some())
}

/// One valid list member, still encoded.
struct RawMember<'a> {
    key: &'a str,
    value: &'a str,
    properties: Option<&'a str>,
}

/// Parses one OWS-trimmed, non-empty list member; `None` when invalid.
fn parse_member(member: &str) -> Option<RawMember<'_>> {
    let (key_value, properties) = match split_once_byte(member, b';') {
        Some((kv, props)) => (kv, Some(props)),
        None => (member, None),
    };
    let (key, value) = split_once_byte(key_value, b'=')?;
    let (key, value) = (trim_ows(key), trim_ows(value));
    if !is_token(key) || !is_baggage_value(value) {
        return None;
    }
    if let Some(props) = properties {
        if !are_valid_properties(props) {
            return None;
        }
    }
    Some(RawMember {
        key,
        value,
        properties,
    })
}

/// Properties with OWS removed, as stored in [`BaggageMetadata`]:
/// `k1=v1;k2`.
fn normalized_metadata(properties: &str) -> BaggageMetadata {
    let mut out = String::with_capacity(properties.len());
    for property in split_byte(properties, b';') {
        if let Some((key, value)) = parse_property(property) {
            if !out.is_empty() {
                out.push(';');
            }
            out.push_str(key);
            if let Some(value) = value {
                out.push('=');
                out.push_str(value);
            }
        }
    }
    if out.is_empty() {
        BaggageMetadata::default()
    } else {
        BaggageMetadata::from(out)
    }
}

/// Parses the `baggage` header fields of one carrier (joined with `,`).
///
/// Invalid members are skipped; valid ones are kept in order up to
/// [`MAX_BAGGAGE_MEMBERS`] members and [`MAX_BAGGAGE_BYTES`] bytes, beyond
/// which whole members are dropped. Values are percent-decoded (invalid
/// UTF-8 becomes U+FFFD); keys and properties are kept as sent, without OWS.
pub(crate) fn parse_baggage(fields: &[&str]) -> Baggage {
    let mut baggage = Baggage::new();
    let (mut members, mut bytes) = (0usize, 0usize);
    for field in fields {
        for member in split_byte(field, b',') {
            let member = trim_ows(member);
            if member.is_empty() {
                continue;
            }
            let Some(raw) = parse_member(member) else {
                continue;
            };
            if members == MAX_BAGGAGE_MEMBERS {
                return baggage;
            }
            let cost = member.len() + usize::from(members > 0);
            if bytes + cost > MAX_BAGGAGE_BYTES {
                continue;
            }
            members += 1;
            bytes += cost;
            let metadata = raw.properties.map(normalized_metadata).unwrap_or_default();
            baggage.insert_with_metadata(
                raw.key.to_owned(),
                percent::decode(raw.value).into_owned(),
                metadata,
            );
        }
    }
    baggage
}

/// Formats `baggage` as a `baggage` header value, or `None` when nothing is
/// to be sent.
///
/// Keys that are not tokens are skipped, values are percent-encoded,
/// metadata is appended after `;` when it is a valid property list (and left
/// out otherwise). Members that would go beyond [`MAX_BAGGAGE_MEMBERS`] or
/// [`MAX_BAGGAGE_BYTES`] are dropped whole.
pub(crate) fn format_baggage(baggage: &Baggage) -> Option<String> {
    thread_local! {
        /// Where headers are written before being copied out at their
        /// exact size (a header value with spare capacity would cost the
        /// carrier an extra allocation). At most one header long.
        static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
    }
    SCRATCH
        .try_with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                scratch.clear();
                write_baggage(baggage, &mut scratch);
                let header = (!scratch.is_empty()).then(|| String::from(scratch.as_str()));
                // Members past the limit are written before being taken
                // back: a rare huge one is not kept for the thread's life.
                if scratch.capacity() > 2 * MAX_BAGGAGE_BYTES {
                    *scratch = String::new();
                }
                header
            }
            Err(_) => owned_baggage(baggage),
        })
        .unwrap_or_else(|_| owned_baggage(baggage))
}

/// [`format_baggage`] without the scratch buffer.
fn owned_baggage(baggage: &Baggage) -> Option<String> {
    let mut out = String::new();
    write_baggage(baggage, &mut out);
    (!out.is_empty()).then_some(out)
}

/// Appends the header value for `baggage` to the empty `out`, in one pass:
/// each member is written, then taken back if it pushed the header past the
/// byte limit (a later, shorter one may still fit). `Baggage` holds at most
/// 64 members.
fn write_baggage(baggage: &Baggage, out: &mut String) {
    for (key, (value, metadata)) in baggage.iter().take(MAX_BAGGAGE_MEMBERS) {
        let key = key.as_str();
        if !is_token(key) {
            continue;
        }
        let mark = out.len();
        if mark > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        percent::encode_into(value.as_str(), out);
        let metadata = metadata.as_str();
        if !metadata.is_empty() && are_valid_properties(metadata) {
            out.push(';');
            out.push_str(metadata);
        }
        if out.len() > MAX_BAGGAGE_BYTES {
            out.truncate(mark);
        }
    }
}

/// Propagates [`Baggage`] in the W3C `baggage` header.
///
/// Extraction reads every `baggage` field ([`Extractor::get_all`]), skips
/// invalid members, percent-decodes values, keeps properties as
/// [`BaggageMetadata`] and keeps up to 64 members / 8192 bytes (whole
/// members beyond that are dropped, never cut). When at least one member is
/// valid the extracted baggage replaces the context's baggage; otherwise the
/// context is returned unchanged.
///
/// Injection writes one `baggage` field with the context's baggage,
/// percent-encoding values, within the same limits.
///
/// ```
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::propagation::TextMapPropagator;
/// use std::collections::HashMap;
/// use tracekit_propagators::BaggagePropagator;
///
/// let propagator = BaggagePropagator::new();
/// let mut inbound = HashMap::new();
/// inbound.insert("baggage".to_string(), "userId=alice, serverNode = DF%2028;region=eu".to_string());
/// let cx = propagator.extract(&inbound);
/// assert_eq!(cx.baggage().get("serverNode").map(|v| v.as_str()), Some("DF 28"));
/// let (_, metadata) = cx.baggage().get_with_metadata("serverNode").unwrap();
/// assert_eq!(metadata.as_str(), "region=eu");
///
/// let mut outbound = HashMap::new();
/// propagator.inject_context(&cx, &mut outbound);
/// assert!(outbound["baggage"].contains("serverNode=DF%2028;region=eu"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct BaggagePropagator {
    _private: (),
}

impl BaggagePropagator {
    /// Creates the propagator.
    pub const fn new() -> Self {
        BaggagePropagator { _private: () }
    }
}

impl TextMapPropagator for BaggagePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        if let Some(header) = format_baggage(baggage) {
            injector.set(BAGGAGE_HEADER, header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(fields) = extractor.get_all(BAGGAGE_HEADER) else {
            return cx.clone();
        };
        let baggage = parse_baggage(&fields);
        if baggage.is_empty() {
            cx.clone()
        } else {
            cx.with_baggage(baggage)
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(baggage_fields())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldCarrier;
    use opentelemetry::KeyValue;

    fn entries(fields: &[&str]) -> Vec<(String, String, String)> {
        let baggage = parse_baggage(fields);
        let mut out: Vec<_> = baggage
            .iter()
            .map(|(k, (v, m))| (k.to_string(), v.to_string(), m.as_str().to_string()))
            .collect();
        out.sort();
        out
    }

    fn e(k: &str, v: &str, m: &str) -> (String, String, String) {
        (k.to_string(), v.to_string(), m.to_string())
    }

    #[test]
    fn w3c_examples() {
        assert_eq!(
            entries(&["key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue"]),
            vec![
                e("key1", "value1", "property1;property2"),
                e("key2", "value2", ""),
                e("key3", "value3", "propertyKey=propertyValue"),
            ]
        );
        let expected = vec![
            e("isProduction", "false", ""),
            e("serverNode", "DF 28", ""),
            e("userId", "alice", ""),
        ];
        assert_eq!(
            entries(&["userId=alice,serverNode=DF%2028,isProduction=false"]),
            expected
        );
        assert_eq!(
            entries(&["userId=alice", "serverNode=DF%2028,isProduction=false"]),
            expected
        );
        assert_eq!(
            entries(&[
                "userId =   alice",
                "serverNode = DF%2028, isProduction = false"
            ]),
            expected
        );
    }

    #[test]
    fn values_may_contain_equal_signs_and_are_decoded() {
        assert_eq!(entries(&["k=a=b%3Dc"]), vec![e("k", "a=b=c", "")]);
        assert_eq!(entries(&["k=%F0%9F%98%8A"]), vec![e("k", "😊", "")]);
        assert_eq!(entries(&["k=%FF"]), vec![e("k", "\u{fffd}", "")]);
        assert_eq!(entries(&["k="]), vec![e("k", "", "")]);
    }

    #[test]
    fn invalid_members_are_skipped() {
        for bad in [
            "no-equals",
            "=novalue",
            "bad key=v",
            "k(ey)=v",
            "k=has space",
            "k=quo\"te",
            "k=back\\slash",
            "k=v;bad prop",
            "k=v;p=bad value",
            "k=v;=x",
            "ké=v",
            "k=vé",
        ] {
            assert_eq!(
                entries(&[&format!("{bad},ok=1")]),
                vec![e("ok", "1", "")],
                "{bad:?}"
            );
        }
        assert!(entries(&["", " , ,"]).is_empty());
    }

    #[test]
    fn property_ows_trimmed_and_empty_properties_tolerated() {
        assert_eq!(entries(&["k=v ; a = 1 ;; b "]), vec![e("k", "v", "a=1;b")]);
    }

    #[test]
    fn member_limit_drops_whole_members() {
        let header: Vec<String> = (0..70).map(|i| format!("k{i:02}={i}")).collect();
        let got = entries(&[&header.join(",")]);
        assert_eq!(got.len(), MAX_BAGGAGE_MEMBERS);
        assert!(got.iter().all(|(k, _, _)| k.as_str() < "k64"));
    }

    #[test]
    fn byte_limit_drops_whole_members() {
        // Each member is 1 + 1 + 4000 = 4002 bytes; two fit (8005 with the comma), the third does not.
        let big = |k: &str| format!("{k}={}", "v".repeat(4000));
        let got = entries(&[&big("a"), &big("b"), &big("c"), "d=small"]);
        let keys: Vec<_> = got.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["a", "b", "d"]);
        assert!(got.iter().all(|(_, v, _)| v.len() == 4000 || v == "small"));
    }

    #[test]
    fn inject_encodes_and_keeps_metadata() {
        let baggage = Baggage::from_iter([KeyValue::new("serverNode", "DF 28;x,y\"%=")]);
        assert_eq!(
            format_baggage(&baggage).as_deref(),
            Some("serverNode=DF%2028%3Bx%2Cy%22%25%3D")
        );
        let mut baggage = Baggage::new();
        baggage.insert_with_metadata("k", "v", BaggageMetadata::from("p1=a;p2"));
        assert_eq!(format_baggage(&baggage).as_deref(), Some("k=v;p1=a;p2"));
        let mut baggage = Baggage::new();
        baggage.insert_with_metadata("k", "v", BaggageMetadata::from("not a property"));
        assert_eq!(format_baggage(&baggage).as_deref(), Some("k=v"));
        assert_eq!(format_baggage(&Baggage::new()), None);
    }

    #[test]
    fn inject_respects_byte_limit_with_whole_members() {
        // a=4002 bytes, b=4502 bytes once encoded, c=2002 bytes: a and b never fit together.
        let baggage = Baggage::from_iter([
            KeyValue::new("a", "x".repeat(4000)),
            KeyValue::new("b", " ".repeat(1500)),
            KeyValue::new("c", "z".repeat(2000)),
        ]);
        let header = format_baggage(&baggage).expect("some members fit");
        assert!(header.len() <= MAX_BAGGAGE_BYTES);
        let members: Vec<&str> = header.split(',').collect();
        assert_eq!(members.len(), 2, "{}", &header[..40]);
        for member in members {
            let (k, v) = member.split_once('=').expect("member");
            let expected = match k {
                "a" => 4000,
                "b" => 4500,
                "c" => 2000,
                other => panic!("unexpected key {other}"),
            };
            assert_eq!(v.len(), expected, "member {k} must be whole");
        }
    }

    #[test]
    fn successive_injections_start_from_an_empty_buffer() {
        let long = Baggage::from_iter([KeyValue::new("first", "x".repeat(300))]);
        let short = Baggage::from_iter([KeyValue::new("second", "y")]);
        assert_eq!(format_baggage(&long).map(|h| h.len()), Some(306));
        let header = format_baggage(&short).expect("a member");
        assert_eq!(header, "second=y");
        // Copied out at its size: the carrier can keep the buffer as is.
        assert_eq!(header.capacity(), header.len());
        assert_eq!(format_baggage(&Baggage::new()), None);
        assert_eq!(format_baggage(&short).as_deref(), Some("second=y"));
    }

    #[test]
    fn inject_respects_member_limit() {
        let baggage = Baggage::from_iter((0..64).map(|i| KeyValue::new(format!("k{i}"), "v")));
        let header = format_baggage(&baggage).expect("members");
        assert_eq!(header.split(',').count(), 64);
    }

    #[test]
    fn round_trip_through_propagator() {
        let p = BaggagePropagator::new();
        let mut baggage = Baggage::new();
        baggage.insert("user", "ålice smith");
        baggage.insert_with_metadata("tenant", "a,b", BaggageMetadata::from("ttl=30;secret"));
        let cx = Context::new().with_baggage(baggage);
        let mut carrier = FieldCarrier::new();
        p.inject_context(&cx, &mut carrier);
        let back = p.extract_with_context(&Context::new(), &carrier);
        assert_eq!(
            back.baggage().get("user").map(|v| v.as_str()),
            Some("ålice smith")
        );
        let (v, m) = back.baggage().get_with_metadata("tenant").expect("tenant");
        assert_eq!((v.as_str(), m.as_str()), ("a,b", "ttl=30;secret"));
    }

    #[test]
    fn absent_or_fully_invalid_header_leaves_context_unchanged() {
        let p = BaggagePropagator::new();
        let cx = Context::new().with_baggage([KeyValue::new("local", "1")]);
        let same = p.extract_with_context(&cx, &FieldCarrier::new());
        assert_eq!(same.baggage().len(), 1);
        let same = p.extract_with_context(&cx, &FieldCarrier::from_pairs([("baggage", "garbage")]));
        assert_eq!(same.baggage().get("local").map(|v| v.as_str()), Some("1"));
        let replaced = p.extract_with_context(&cx, &FieldCarrier::from_pairs([("Baggage", "k=v")]));
        assert_eq!(replaced.baggage().len(), 1);
        assert!(replaced.baggage().get("k").is_some());
        assert_eq!(p.fields().collect::<Vec<_>>(), vec!["baggage"]);
    }
}
