//! [`Redactor`]: the compiled rules, applied to a finished span's
//! attributes, events and links.

use super::config::{BuiltinRule, InvalidRule, KeyAction, RedactionConfig};
use super::counters::{RedactionCounters, RuleCounters};
use super::hashing::KeyedHasher;
use super::key_address_cache::{KeyAddressCache, Pinned};
use super::key_cache::{KeyDecisionCache, REDACTOR_SLOTS};
use super::key_list_cache::{KeyListCache, MAX_LIST_KEYS, REDACTOR_LISTS};
use super::key_pattern::{KeyIndex, KeyPattern};
use super::scan::{self, query::ParamNames, Facts, UrlTriggers};
use super::value_profile::{profile_of, ValueProfile};
use crate::trace::FinishedSpan;
use opentelemetry::trace::{Event, Link, Status};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, ENDUSER_ID, HTTP_REQUEST_HEADER, HTTP_RESPONSE_HEADER, RPC_REQUEST_METADATA,
    USER_EMAIL, USER_FULL_NAME, USER_ID, USER_NAME,
};
// The per-system names were renamed to `rpc.request.metadata`, but
// instrumentations built on older conventions still emit them.
#[allow(deprecated)]
use opentelemetry_semantic_conventions::attribute::{
    RPC_CONNECT_RPC_REQUEST_METADATA, RPC_GRPC_REQUEST_METADATA,
};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Shortest string any value rule can match (`pwd=x`, `sig=x`).
const MIN_MATCH_LEN: usize = 5;

/// Credential-carrying request headers (lowercase, as the semantic
/// conventions normalise header names).
const CREDENTIAL_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-csrf-token",
    "x-xsrf-token",
    "x-amz-security-token",
];

/// Credential-carrying response headers.
const CREDENTIAL_RESPONSE_HEADERS: &[&str] = &["set-cookie", "authorization"];

/// Credential-carrying RPC request metadata keys.
const CREDENTIAL_RPC_METADATA: &[&str] = &["authorization", "cookie", "x-api-key"];

/// Key endings that name a secret (matched as `*<ending>`).
const SECRET_KEY_ENDINGS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "access-key",
    "secret_key",
    "secret-key",
    "private_key",
    "private-key",
    "credential",
    "credentials",
];

/// The full list of built-in key patterns for `rule` (empty for value rules).
pub(crate) fn builtin_key_patterns(rule: BuiltinRule) -> Vec<String> {
    match rule {
        BuiltinRule::CredentialHeaders => {
            let mut keys: Vec<String> = CREDENTIAL_REQUEST_HEADERS
                .iter()
                .map(|h| format!("{HTTP_REQUEST_HEADER}.{h}"))
                .collect();
            keys.extend(
                CREDENTIAL_RESPONSE_HEADERS
                    .iter()
                    .map(|h| format!("{HTTP_RESPONSE_HEADER}.{h}")),
            );
            #[allow(deprecated)]
            let prefixes = [
                RPC_REQUEST_METADATA,
                RPC_GRPC_REQUEST_METADATA,
                RPC_CONNECT_RPC_REQUEST_METADATA,
            ];
            for prefix in prefixes {
                keys.extend(
                    CREDENTIAL_RPC_METADATA
                        .iter()
                        .map(|k| format!("{prefix}.{k}")),
                );
            }
            keys
        }
        BuiltinRule::SecretKeys => SECRET_KEY_ENDINGS.iter().map(|e| format!("*{e}")).collect(),
        BuiltinRule::PersonalDataKeys => [
            USER_EMAIL,
            USER_NAME,
            USER_FULL_NAME,
            USER_ID,
            ENDUSER_ID,
            CLIENT_ADDRESS,
        ]
        .iter()
        .map(|k| k.to_string())
        .collect(),
        _ => Vec::new(),
    }
}

/// A compiled key rule.
#[derive(Debug)]
struct KeyRule {
    /// The action, with `Hash` already turned into `Mask` when there is no
    /// hash key.
    action: KeyAction,
    counter: usize,
}

/// What a value rule looks for.
#[derive(Debug)]
enum ValueScanner {
    UrlCredentials,
    QuerySecrets(ParamNames),
    AuthCredentials,
    Jwt,
    CardNumber,
    Email,
}

/// What the redactor does with an attribute, decided by its key alone: the
/// key rule that claims it, or else which value rules scan its value. One
/// word, as the caches keep it: the value rules in bits 0..8 (bit `i` for
/// `value_rules[i]`), [`KeyDecision::UNPINNABLE`] in bit 8, and the key
/// rule's number plus one from bit 9 (0: no key rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct KeyDecision(u32);

impl KeyDecision {
    /// Set (in the [`KeyDecisionCache`] only) once an owned key with this
    /// text was seen, so the [`KeyAddressCache`] is not tried for it again.
    const UNPINNABLE: u32 = 1 << 8;

    /// Key rules past this many are refused: their numbers would not fit.
    const MAX_KEY_RULES: usize = (1 << 23) - 1;

    /// `rule` is below [`KeyDecision::MAX_KEY_RULES`].
    fn new(rule: Option<usize>, value_rules: u8) -> KeyDecision {
        let rule = rule.map_or(0, |r| (r.min(Self::MAX_KEY_RULES - 1) + 1) as u32);
        KeyDecision((rule << 9) | u32::from(value_rules))
    }

    #[inline]
    fn rule(self) -> Option<usize> {
        (self.0 >> 9).checked_sub(1).map(|r| r as usize)
    }

    #[inline]
    fn value_rules(self) -> u8 {
        self.0 as u8
    }

    fn pinnable(self) -> bool {
        self.0 & Self::UNPINNABLE == 0
    }
}

/// A compiled value rule.
#[derive(Debug)]
struct ValueRule {
    scanner: ValueScanner,
    /// Trigger bits that must all be present for a match to be possible.
    needs: u8,
    /// Digits that must be present for a match to be possible.
    min_digits: usize,
    counter: usize,
}

impl ValueRule {
    fn new(scanner: ValueScanner, counter: usize) -> ValueRule {
        let (needs, min_digits) = match scanner {
            ValueScanner::UrlCredentials => (scan::COLON | scan::AT, 0),
            ValueScanner::QuerySecrets(_) => (scan::EQUALS, 0),
            ValueScanner::AuthCredentials => (scan::B_THEN_A_OR_E, 0),
            ValueScanner::Jwt => (scan::UPPER_J, 0),
            ValueScanner::CardNumber => (scan::DIGIT_RUN4, scan::card::MIN_DIGITS),
            ValueScanner::Email => (scan::AT, 0),
        };
        ValueRule {
            scanner,
            needs,
            min_digits,
            counter,
        }
    }

    #[inline]
    fn may_match(&self, facts: &Facts) -> bool {
        facts.has(self.needs) && facts.digits >= self.min_digits
    }

    /// Whether the rule can match a value with these URL triggers (rules
    /// other than the two URL rules are not gated by them).
    #[inline]
    fn may_match_url(&self, triggers: &UrlTriggers) -> bool {
        match self.scanner {
            ValueScanner::UrlCredentials => triggers.at,
            ValueScanner::QuerySecrets(_) => triggers.sensitive_equals,
            _ => true,
        }
    }

    fn apply(&self, text: &str, mask: &str) -> Option<String> {
        match &self.scanner {
            ValueScanner::UrlCredentials => scan::url_credentials::redact(text, mask),
            ValueScanner::QuerySecrets(names) => scan::query::redact(text, names, mask),
            ValueScanner::AuthCredentials => scan::auth::redact(text, mask),
            ValueScanner::Jwt => scan::jwt::redact(text, mask),
            ValueScanner::CardNumber => scan::card::redact(text, mask),
            ValueScanner::Email => scan::email::redact(text, mask),
        }
    }
}

/// The redaction engine: rules compiled once from a [`RedactionConfig`],
/// applied to finished spans off the application's thread.
///
/// `Send + Sync`; share it behind an `Arc`. Applying it allocates only when
/// something is redacted. Span names, ids, kinds and timestamps are never
/// touched.
///
/// ```
/// use opentelemetry::KeyValue;
/// use tracekit::redaction::Redactor;
///
/// let redactor = Redactor::default(); // the safe defaults
/// let mut attrs = vec![
///     KeyValue::new("http.request.header.authorization", "Bearer abc"),
///     KeyValue::new("url.full", "https://u:p@api.example.com/x?token=t0k&page=2"),
///     KeyValue::new("payment.note", "card 4111 1111 1111 1111"),
///     KeyValue::new("http.route", "/users/{id}"),
/// ];
/// redactor.redact_attributes(&mut attrs);
/// assert_eq!(attrs[0].value.as_str(), "REDACTED");
/// assert_eq!(
///     attrs[1].value.as_str(),
///     "https://REDACTED:REDACTED@api.example.com/x?token=REDACTED&page=2"
/// );
/// assert_eq!(attrs[2].value.as_str(), "card REDACTED");
/// assert_eq!(attrs[3].value.as_str(), "/users/{id}");
/// assert_eq!(redactor.counters().get("card_number"), Some(1));
/// ```
#[derive(Debug)]
pub struct Redactor {
    key_rules: Vec<KeyRule>,
    key_index: KeyIndex,
    value_rules: Vec<ValueRule>,
    /// Every trigger bit some value rule needs: a string with none of them
    /// skips the rule loop.
    value_triggers: u8,
    /// The value-rule sets of the three [`ValueProfile`]s (bit `i` for
    /// `value_rules[i]`); all three are `all_values` when every value is
    /// to be scanned.
    all_values: u8,
    url_values: u8,
    skip_values: u8,
    /// The `query_secrets` names (none when that rule is off), for the URL
    /// profile's pass.
    url_param_names: ParamNames,
    /// What was decided for keys seen before, by the address of their
    /// (static or shared) text, then by their text.
    by_address: KeyAddressCache<REDACTOR_SLOTS>,
    by_text: KeyDecisionCache<REDACTOR_SLOTS>,
    /// What was decided for whole attribute lists seen before.
    by_list: KeyListCache<REDACTOR_LISTS>,
    mask: Arc<str>,
    hasher: Option<KeyedHasher>,
    counters: RuleCounters,
}

impl Default for Redactor {
    /// The safe defaults ([`RedactionConfig::new`]).
    fn default() -> Self {
        RedactionConfig::new().build()
    }
}

/// Set once the "hash rule without a key" warning was printed.
static HASH_FALLBACK_WARNED: AtomicBool = AtomicBool::new(false);

impl Redactor {
    /// Compile `config`. Invalid rules are reported (once each) and skipped;
    /// hash rules without a usable key mask instead, with one warning.
    pub fn new(config: RedactionConfig) -> Redactor {
        report_invalid(config.invalid_rules());
        let hasher = config.hash_key.as_deref().and_then(KeyedHasher::new);
        let mut names = Vec::new();
        let mut key_rules = Vec::new();
        let mut patterns: Vec<(KeyPattern, usize)> = Vec::new();
        let mut hash_without_key = false;

        let mut too_many = 0usize;
        for rule in &config.user_rules {
            // Room is kept for the built-in key rules.
            if key_rules.len() + BuiltinRule::ALL.len() >= KeyDecision::MAX_KEY_RULES {
                too_many += 1;
                continue;
            }
            let action = match rule.action {
                KeyAction::Hash if hasher.is_none() => {
                    hash_without_key = true;
                    KeyAction::Mask
                }
                other => other,
            };
            patterns.push((rule.pattern.clone(), key_rules.len()));
            key_rules.push(KeyRule {
                action,
                counter: names.len(),
            });
            names.push(format!("{}:{}", rule.action.name(), rule.pattern));
        }
        if too_many > 0 {
            report_invalid(&[InvalidRule {
                source: "RedactionConfig".to_string(),
                rule: format!("the last {too_many} key rules"),
                reason: format!("at most {} key rules", KeyDecision::MAX_KEY_RULES),
            }]);
        }
        for builtin in config.enabled_builtins() {
            if !builtin.is_key_rule() {
                continue;
            }
            let action = match builtin {
                BuiltinRule::PersonalDataKeys if hasher.is_some() => KeyAction::Hash,
                _ => KeyAction::Mask,
            };
            for pattern in builtin_key_patterns(builtin) {
                if let Ok(p) = KeyPattern::parse(&pattern) {
                    patterns.push((p, key_rules.len()));
                }
            }
            key_rules.push(KeyRule {
                action,
                counter: names.len(),
            });
            names.push(builtin.name().to_string());
        }

        let mut value_rules = Vec::new();
        for builtin in config.enabled_builtins() {
            let scanner = match builtin {
                BuiltinRule::UrlCredentials => ValueScanner::UrlCredentials,
                BuiltinRule::QuerySecrets => ValueScanner::QuerySecrets(ParamNames::new(
                    true,
                    config
                        .extra_params
                        .iter()
                        .map(|n| n.as_bytes().to_vec().into_boxed_slice())
                        .collect(),
                )),
                BuiltinRule::AuthCredentials => ValueScanner::AuthCredentials,
                BuiltinRule::Jwt => ValueScanner::Jwt,
                BuiltinRule::CardNumber => ValueScanner::CardNumber,
                BuiltinRule::Email => ValueScanner::Email,
                _ => continue,
            };
            value_rules.push(ValueRule::new(scanner, names.len()));
            names.push(builtin.name().to_string());
        }

        if hash_without_key && !HASH_FALLBACK_WARNED.swap(true, Ordering::Relaxed) {
            eprintln!(
                "tracekit: redaction hash rules have no usable key (set {} or \
                 RedactionConfig::with_hash_key, at least 16 bytes); masking their values instead",
                super::env_config::HASH_KEY_VAR
            );
            tracing::warn!(
                target: "tracekit::redaction",
                "hash rules have no usable key; masking their values instead"
            );
        }

        // A rule without trigger bits could match anything: no shortcut then.
        let value_triggers = value_rules.iter().fold(0, |bits, rule| {
            if rule.needs == 0 {
                u8::MAX
            } else {
                bits | rule.needs
            }
        });
        // Six value rules at most: one bit each.
        let all_values = value_rules
            .iter()
            .enumerate()
            .fold(0u8, |bits, (i, _)| bits | 1 << i);
        let url_values =
            value_rules
                .iter()
                .enumerate()
                .fold(0u8, |bits, (i, rule)| match rule.scanner {
                    ValueScanner::UrlCredentials | ValueScanner::QuerySecrets(_) => bits | 1 << i,
                    _ => bits,
                });
        let url_param_names = value_rules
            .iter()
            .find_map(|rule| match &rule.scanner {
                ValueScanner::QuerySecrets(names) => Some(names.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let (url_values, skip_values) = if config.scan_all_values {
            (all_values, all_values)
        } else {
            (url_values, 0)
        };
        Redactor {
            key_rules,
            key_index: KeyIndex::new(patterns),
            value_triggers,
            all_values,
            url_values,
            skip_values,
            url_param_names,
            by_address: KeyAddressCache::new(),
            by_text: KeyDecisionCache::new(),
            by_list: KeyListCache::new(),
            value_rules,
            mask: Arc::from(config.mask.as_str()),
            hasher,
            counters: RuleCounters::new(names),
        }
    }

    /// A redactor with no rule: it changes nothing.
    pub fn disabled() -> Redactor {
        RedactionConfig::disabled().build()
    }

    /// Whether this redactor has no rule at all (applying it is a no-op, so
    /// callers may skip it).
    pub fn is_noop(&self) -> bool {
        self.key_rules.is_empty() && self.value_rules.is_empty()
    }

    /// The mask that replaces redacted values.
    pub fn mask(&self) -> &str {
        &self.mask
    }

    /// The per-rule counters, in running order. Cheap enough to read at any
    /// time; never blocks the redaction.
    pub fn counters(&self) -> RedactionCounters {
        self.counters.snapshot()
    }

    /// Redact a span's parts: its attributes, each event's name and
    /// attributes (exception messages and stack traces included), and the
    /// attributes of each link. Attributes may be removed (delete rules) or
    /// rewritten, and event names rewritten by the value rules (the tracing
    /// layer names an event after its log message, which may quote a
    /// secret); nothing else changes.
    pub fn redact_parts(
        &self,
        attributes: &mut Vec<KeyValue>,
        events: &mut [Event],
        links: &mut [Link],
    ) {
        if self.is_noop() {
            return;
        }
        self.redact_attributes(attributes);
        for event in events {
            if let Some(redacted) = self.redact_str(&event.name) {
                event.name = Cow::Owned(redacted);
            }
            self.redact_attributes(&mut event.attributes);
        }
        for link in links {
            self.redact_attributes(&mut link.attributes);
        }
    }

    /// Redact an exporter-ready span: its parts (see
    /// [`Redactor::redact_parts`]) and its error status description, which
    /// often repeats an exception message. The name is left alone.
    pub fn redact_span_data(&self, span: &mut SpanData) {
        if self.is_noop() {
            return;
        }
        self.redact_parts(
            &mut span.attributes,
            &mut span.events.events,
            &mut span.links.links,
        );
        self.redact_status(&mut span.status);
    }

    /// Redact one of tracekit's own finished spans, as a processor sees it
    /// before export: its parts (see [`Redactor::redact_parts`]) and its
    /// error status description.
    pub fn redact_finished_span(&self, span: &mut FinishedSpan) {
        if self.is_noop() {
            return;
        }
        self.redact_status(&mut span.record.status);
        // Most spans have neither events nor links.
        if span.events().is_empty() && span.links().is_empty() {
            self.redact_attributes(span.attributes_mut());
            return;
        }
        // Three disjoint parts behind three `&mut self` accessors: move the
        // events and links out (no allocation) while the attributes are
        // borrowed.
        let mut events = std::mem::take(span.events_mut());
        let mut links = std::mem::take(span.links_mut());
        self.redact_parts(span.attributes_mut(), &mut events, &mut links);
        *span.events_mut() = events;
        *span.links_mut() = links;
    }

    /// Apply the value rules to an error status description.
    pub fn redact_status(&self, status: &mut Status) {
        if let Status::Error { description } = status {
            if let Some(redacted) = self.redact_str(description) {
                *description = Cow::Owned(redacted);
            }
        }
    }

    /// Redact one list of attributes (span, event or link attributes).
    pub fn redact_attributes(&self, attributes: &mut Vec<KeyValue>) {
        if self.is_noop() || attributes.is_empty() {
            return;
        }
        if attributes.len() > MAX_LIST_KEYS {
            return self.apply_decisions(attributes, |_, kv| self.decide(&kv.key));
        }
        // The whole list's decisions at once, or key by key (and offered
        // to the list cache), before anything changes.
        let mut decisions = [0u32; MAX_LIST_KEYS];
        match self.by_list.get(attributes, &mut decisions) {
            // No key rule, so nothing to delete: only the values some value
            // rule scans are visited.
            Some(summary) if KeyDecision(summary.union).rule().is_none() => {
                let mut active = summary.nonzero;
                while active != 0 {
                    let i = active.trailing_zeros() as usize;
                    active &= active - 1;
                    if let (Some(kv), Some(&decision)) = (attributes.get_mut(i), decisions.get(i)) {
                        self.scan_value(&mut kv.value, KeyDecision(decision).value_rules());
                    }
                }
                return;
            }
            Some(_) => {}
            None => {
                for (decision, kv) in decisions.iter_mut().zip(attributes.iter()) {
                    *decision = self.decide(&kv.key).0 & !KeyDecision::UNPINNABLE;
                }
                self.by_list
                    .offer(attributes, &decisions[..attributes.len()]);
            }
        }
        self.apply_decisions(attributes, |i, _| {
            KeyDecision(decisions.get(i).copied().unwrap_or_default())
        });
    }

    /// Apply to each attribute the decision `decision_of(index, attribute)`
    /// (`index` counting the list as it was).
    #[inline]
    fn apply_decisions(
        &self,
        attributes: &mut Vec<KeyValue>,
        decision_of: impl Fn(usize, &KeyValue) -> KeyDecision,
    ) {
        // Deleting is rare: walk the list in place, and only on the first
        // deletion finish the walk with `retain_mut`.
        let Some(first_deleted) = attributes
            .iter_mut()
            .enumerate()
            .position(|(i, kv)| !self.redact_key_value(kv, decision_of(i, kv)))
        else {
            return;
        };
        let mut index = 0;
        attributes.retain_mut(|kv| {
            let keep = match index.cmp(&first_deleted) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => false,
                std::cmp::Ordering::Greater => self.redact_key_value(kv, decision_of(index, kv)),
            };
            index += 1;
            keep
        });
    }

    /// Apply the value rules to `text`: the rewritten text, or `None` when
    /// nothing matched. Counts like attribute values do.
    pub fn redact_str(&self, text: &str) -> Option<String> {
        self.redact_str_with(text, self.all_values)
    }

    /// Apply the value rules of `selected` (bit `i` for `value_rules[i]`)
    /// to `text`. With every rule selected, one classification pass first
    /// tells which can match; a narrower profile (the URL rules) is gated
    /// by one pass for `@` and `=`.
    #[inline]
    fn redact_str_with(&self, text: &str, selected: u8) -> Option<String> {
        if selected == 0 || text.len() < MIN_MATCH_LEN {
            None
        } else if selected == self.all_values {
            self.redact_str_all(text)
        } else {
            self.redact_str_narrow(text, selected)
        }
    }

    /// [`Redactor::redact_str_with`] for every rule.
    fn redact_str_all(&self, text: &str) -> Option<String> {
        let facts = Facts::of(text.as_bytes());
        if self.value_triggers != u8::MAX && facts.flags & self.value_triggers == 0 {
            return None;
        }
        self.run_rules(text, self.all_values, |rule| rule.may_match(&facts))
    }

    /// [`Redactor::redact_str_with`] for a narrower profile.
    fn redact_str_narrow(&self, text: &str, selected: u8) -> Option<String> {
        let triggers = UrlTriggers::of(text.as_bytes(), &self.url_param_names);
        if selected & !self.url_values == 0 && !triggers.at && !triggers.sensitive_equals {
            return None;
        }
        self.run_rules(text, selected, |rule| rule.may_match_url(&triggers))
    }

    /// Run the `selected` rules that `may_match` lets through, each on the
    /// previous one's output.
    #[inline(never)]
    fn run_rules(
        &self,
        text: &str,
        selected: u8,
        may_match: impl Fn(&ValueRule) -> bool,
    ) -> Option<String> {
        let mut current: Option<String> = None;
        let mut remaining = selected;
        while remaining != 0 {
            let i = remaining.trailing_zeros() as usize;
            remaining &= remaining - 1;
            let Some(rule) = self.value_rules.get(i) else {
                break;
            };
            if !may_match(rule) {
                continue;
            }
            let input = current.as_deref().unwrap_or(text);
            if let Some(out) = rule.apply(input, &self.mask) {
                self.counters.bump(rule.counter);
                current = Some(out);
            }
        }
        current
    }

    /// The decision for `key`: found by the address of its text, else by
    /// its text, else worked out; then cached.
    #[inline]
    fn decide(&self, key: &Key) -> KeyDecision {
        match self.by_address.get(key.as_str()) {
            Some(packed) => KeyDecision(packed),
            None => self.decide_by_text(key),
        }
    }

    /// [`Redactor::decide`] past the address cache.
    fn decide_by_text(&self, key: &Key) -> KeyDecision {
        let text = key.as_str();
        let decision = match self.by_text.get(text.as_bytes()) {
            Some(packed) => KeyDecision(packed),
            None => {
                let decision = self.decide_uncached(text);
                self.by_text.insert(text.as_bytes(), decision.0);
                decision
            }
        };
        if decision.pinnable() && self.by_address.insert(key, decision.0) == Pinned::Never {
            self.by_text
                .insert(text.as_bytes(), decision.0 | KeyDecision::UNPINNABLE);
        }
        decision
    }

    /// The first key rule matching `key`, or else the value rules of the
    /// key's profile.
    fn decide_uncached(&self, key: &str) -> KeyDecision {
        let rule = if self.key_index.is_empty() {
            None
        } else {
            self.key_index
                .lookup(key)
                .filter(|&r| r < self.key_rules.len())
        };
        let value_rules = match (rule, profile_of(key)) {
            (Some(_), _) => 0,
            (None, ValueProfile::All) => self.all_values,
            (None, ValueProfile::Url) => self.url_values,
            (None, ValueProfile::Skip) => self.skip_values,
        };
        KeyDecision::new(rule, value_rules)
    }

    /// One attribute; `false` means delete it.
    #[inline(always)]
    fn redact_key_value(&self, kv: &mut KeyValue, decision: KeyDecision) -> bool {
        if let Some(rule) = decision.rule() {
            return self.apply_key_rule(kv, rule);
        }
        if decision.value_rules() != 0 {
            self.scan_value(&mut kv.value, decision.value_rules());
        }
        true
    }

    /// The action of key rule number `rule` on `kv`; `false` means delete
    /// it.
    #[inline(never)]
    fn apply_key_rule(&self, kv: &mut KeyValue, rule: usize) -> bool {
        let Some(rule) = self.key_rules.get(rule) else {
            return true;
        };
        match rule.action {
            KeyAction::Keep => return true,
            KeyAction::Delete => {
                self.counters.bump(rule.counter);
                return false;
            }
            KeyAction::Mask => self.mask_value(&mut kv.value),
            KeyAction::Hash => self.hash_value(&mut kv.value),
        }
        self.counters.bump(rule.counter);
        true
    }

    /// Run the `selected` value rules over a value's strings.
    #[inline(always)]
    fn scan_value(&self, value: &mut Value, selected: u8) {
        match value {
            Value::String(s) => {
                if let Some(redacted) = self.redact_str_with(s.as_str(), selected) {
                    *s = StringValue::from(redacted);
                }
            }
            Value::Array(Array::String(items)) => {
                for s in items {
                    if let Some(redacted) = self.redact_str_with(s.as_str(), selected) {
                        *s = StringValue::from(redacted);
                    }
                }
            }
            _ => {}
        }
    }

    /// Replace a value with the mask; string arrays keep their length.
    fn mask_value(&self, value: &mut Value) {
        let mask = || StringValue::from(Arc::clone(&self.mask));
        match value {
            Value::Array(Array::String(items)) => {
                for s in items {
                    *s = mask();
                }
            }
            other => *other = Value::String(mask()),
        }
    }

    /// Replace a value with its keyed hash; string arrays are hashed item by
    /// item, other values through their text form.
    fn hash_value(&self, value: &mut Value) {
        let Some(hasher) = &self.hasher else {
            self.mask_value(value);
            return;
        };
        match value {
            Value::Array(Array::String(items)) => {
                for s in items {
                    *s = StringValue::from(hasher.hash(s.as_str().as_bytes()));
                }
            }
            other => {
                let hashed = hasher.hash(other.as_str().as_bytes());
                *other = Value::String(StringValue::from(hashed));
            }
        }
    }
}

/// Warn about rules refused in code (the environment reader warns about its
/// own as it reads them).
fn report_invalid(invalid: &[InvalidRule]) {
    for rule in invalid {
        if rule.source.starts_with("TRACEKIT_") {
            continue;
        }
        eprintln!("tracekit: ignoring redaction rule {rule}");
        tracing::warn!(
            target: "tracekit::redaction",
            source = %rule.source,
            rule = %rule.rule,
            reason = %rule.reason,
            "ignoring invalid redaction rule"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_patterns_are_valid_and_use_the_conventions() {
        for rule in BuiltinRule::ALL {
            for p in builtin_key_patterns(rule) {
                assert!(KeyPattern::parse(&p).is_ok(), "{p}");
            }
        }
        let headers = builtin_key_patterns(BuiltinRule::CredentialHeaders);
        assert!(headers.contains(&"http.request.header.authorization".to_string()));
        assert!(headers.contains(&"http.response.header.set-cookie".to_string()));
        assert!(headers.contains(&"rpc.grpc.request.metadata.authorization".to_string()));
    }

    #[test]
    fn noop_redactor_touches_nothing() {
        let r = Redactor::disabled();
        assert!(r.is_noop());
        let mut attrs = vec![KeyValue::new("password", "hunter2")];
        r.redact_attributes(&mut attrs);
        assert_eq!(attrs[0].value.as_str(), "hunter2");
        assert!(r.counters().rules.is_empty());
    }

    #[test]
    fn rule_names_follow_running_order() {
        let r = RedactionConfig::new()
            .delete("*.ssn")
            .with_personal_data()
            .build();
        let names: Vec<String> = r.counters().rules.into_iter().map(|c| c.rule).collect();
        assert_eq!(
            names,
            [
                "delete:*.ssn",
                "credential_headers",
                "secret_keys",
                "personal_data_keys",
                "url_credentials",
                "query_secrets",
                "auth_credentials",
                "jwt",
                "card_number",
                "email"
            ]
        );
    }

    #[test]
    fn short_strings_skip_the_scanners() {
        let r = Redactor::default();
        assert_eq!(r.redact_str("a=b"), None);
        assert_eq!(r.redact_str(""), None);
    }

    #[test]
    fn deletions_anywhere_keep_order_and_count_once() {
        let r = RedactionConfig::new().delete("*.ssn").build();
        let mut attrs = vec![
            KeyValue::new("a", "1"),
            KeyValue::new("x.ssn", "078-05-1120"),
            KeyValue::new("b", "Bearer abc"),
            KeyValue::new("y.ssn", "078-05-1121"),
            KeyValue::new("z.ssn", "078-05-1122"),
            KeyValue::new("c", "3"),
        ];
        r.redact_attributes(&mut attrs);
        let keys: Vec<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(attrs[1].value.as_str(), "Bearer REDACTED");
        assert_eq!(r.counters().get("delete:*.ssn"), Some(3));
        assert_eq!(r.counters().get("auth_credentials"), Some(1));

        let mut only = vec![KeyValue::new("x.ssn", "1")];
        r.redact_attributes(&mut only);
        assert!(only.is_empty());
    }

    #[test]
    fn strings_without_triggers_skip_every_rule() {
        let r = Redactor::default();
        assert_eq!(r.redact_str("/api/v1/users/{id}/orders"), None);
        assert_eq!(
            r.redact_str("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko)"),
            None
        );
        assert_eq!(
            r.redact_str("x Basic dTpw").as_deref(),
            Some("x Basic REDACTED")
        );
    }

    /// Attribute, value, the value redacted with the value profiles, and
    /// redacted scanning every value.
    const PROFILE_CASES: &[(&str, &str, &str, &str)] = &[
        // A route template and a user agent get no value rule.
        (
            "http.route",
            "/pay/4111111111111111",
            "/pay/4111111111111111",
            "/pay/REDACTED",
        ),
        (
            "user_agent.original",
            "x Bearer abc",
            "x Bearer abc",
            "x Bearer REDACTED",
        ),
        // URLs get the URL rules, and only them.
        (
            "url.full",
            "https://u:p@h/x?token=t&page=2",
            "https://REDACTED:REDACTED@h/x?token=REDACTED&page=2",
            "https://REDACTED:REDACTED@h/x?token=REDACTED&page=2",
        ),
        (
            "url.query",
            "sig=abc&q=1",
            "sig=REDACTED&q=1",
            "sig=REDACTED&q=1",
        ),
        (
            "url.full",
            "https://h/cb?state=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "https://h/cb?state=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "https://h/cb?state=REDACTED",
        ),
        // Other keys, and other spellings, get every value rule.
        (
            "app.route",
            "/pay/4111111111111111",
            "/pay/REDACTED",
            "/pay/REDACTED",
        ),
        (
            "HTTP.ROUTE",
            "/pay/4111111111111111",
            "/pay/REDACTED",
            "/pay/REDACTED",
        ),
        (
            "app.url",
            "https://h/cb?state=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "https://h/cb?state=REDACTED",
            "https://h/cb?state=REDACTED",
        ),
    ];

    #[test]
    fn value_profiles_by_default_every_value_with_the_switch() {
        use super::super::SCAN_ALL_VALUES_VAR;
        let profiled = Redactor::default();
        let everything = RedactionConfig::new().scan_all_values().build();
        let from_env = RedactionConfig::from_env(&[(SCAN_ALL_VALUES_VAR, "true")]).build();
        for &(key, value, with_profiles, scanning_all) in PROFILE_CASES {
            for (redactor, expected) in [
                (&profiled, with_profiles),
                (&everything, scanning_all),
                (&from_env, scanning_all),
            ] {
                let mut attrs = vec![KeyValue::new(key, value)];
                redactor.redact_attributes(&mut attrs);
                assert_eq!(attrs[0].value.as_str(), expected, "{key}={value}");
            }
        }
        assert_eq!(profiled.counters().get("card_number"), Some(2));
        assert_eq!(profiled.counters().get("auth_credentials"), Some(0));
        assert_eq!(everything.counters().get("auth_credentials"), Some(1));
    }

    #[test]
    fn key_rules_still_apply_to_profiled_keys() {
        use opentelemetry_semantic_conventions::attribute::{
            HTTP_ROUTE, URL_FULL, USER_AGENT_ORIGINAL,
        };
        let r = RedactionConfig::new()
            .mask(URL_FULL)
            .delete(USER_AGENT_ORIGINAL)
            .keep("url.*")
            .build();
        let mut attrs = vec![
            KeyValue::new(URL_FULL, "https://h/?page=1"),
            KeyValue::new(USER_AGENT_ORIGINAL, "curl/8.0"),
            KeyValue::new(HTTP_ROUTE, "/a"),
            KeyValue::new("url.query", "token=x"),
        ];
        r.redact_attributes(&mut attrs);
        let got: Vec<(String, String)> = attrs
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.as_str().into_owned()))
            .collect();
        assert_eq!(
            got,
            [
                ("url.full".to_string(), "REDACTED".to_string()),
                ("http.route".to_string(), "/a".to_string()),
                // `keep` claims the key: no value rule runs.
                ("url.query".to_string(), "token=x".to_string()),
            ]
        );
    }

    #[test]
    fn cached_decisions_agree_with_fresh_ones() {
        // Far more keys than cache slots, so slots are shared and
        // overwritten; owned and static keys alike; some too long to cache.
        let r = RedactionConfig::new()
            .delete("*.ssn")
            .keep("safe.*")
            .with_personal_data()
            .build();
        let mut keys: Vec<String> = (0..2_000)
            .map(|i| match i % 5 {
                0 => format!("app.{i}.password"),
                1 => format!("svc.{i}.ssn"),
                2 => format!("safe.{i}.token"),
                3 => format!("attr.{i}"),
                _ => format!("{}.{i}", "long".repeat(i % 20)),
            })
            .collect();
        keys.extend(
            [
                "url.full",
                "http.route",
                "user.email",
                "http.request.header.cookie",
            ]
            .map(String::from),
        );
        // Owned keys, then shared ones (pinned by address), then owned
        // ones with the same texts again.
        let owned: Vec<Key> = keys.iter().map(|k| Key::from(k.clone())).collect();
        let shared: Vec<Key> = keys
            .iter()
            .map(|k| Key::from(std::sync::Arc::<str>::from(k.as_str())))
            .collect();
        for round in [&owned, &owned, &shared, &shared, &owned] {
            for key in round {
                let fresh = r.decide_uncached(key.as_str());
                let cached = r.decide(key);
                assert_eq!(
                    (cached.rule(), cached.value_rules()),
                    (fresh.rule(), fresh.value_rules()),
                    "{key}"
                );
            }
        }
        let packed = KeyDecision::new(Some(5), 0b101);
        assert_eq!((packed.rule(), packed.value_rules()), (Some(5), 0b101));
        let none = KeyDecision::new(None, 0x3f);
        assert_eq!((none.rule(), none.value_rules()), (None, 0x3f));
        assert!(none.pinnable());
        assert!(!KeyDecision(none.0 | KeyDecision::UNPINNABLE).pinnable());
    }

    #[test]
    fn repeated_lists_are_redacted_alike_from_the_caches() {
        // The same static keys span after span: decided key by key, then
        // found by address, then as a whole list.
        let r = RedactionConfig::new().delete("*.ssn").build();
        let span = || {
            vec![
                KeyValue::new("http.route", "/pay/4111111111111111"),
                KeyValue::new("customer.ssn", "078-05-1120"),
                KeyValue::new("url.full", "https://h/?token=abc&page=2"),
                KeyValue::new("http.request.header.cookie", "s=1"),
                KeyValue::new("note", "Bearer abc"),
                KeyValue::new("http.response.status_code", 200_i64),
            ]
        };
        let rendered = |attrs: &[KeyValue]| -> Vec<String> {
            attrs
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect()
        };
        let expected = [
            "http.route=/pay/4111111111111111",
            "url.full=https://h/?token=REDACTED&page=2",
            "http.request.header.cookie=REDACTED",
            "note=Bearer REDACTED",
            "http.response.status_code=200",
        ];
        for round in 1..=5 {
            let mut attrs = span();
            r.redact_attributes(&mut attrs);
            assert_eq!(rendered(&attrs), expected, "round {round}");
        }
        assert_eq!(r.counters().get("delete:*.ssn"), Some(5));
        assert_eq!(r.counters().get("credential_headers"), Some(5));
        assert_eq!(r.counters().get("query_secrets"), Some(5));
        // A list no key rule claims: only its scanned values are visited.
        let plain = || {
            vec![
                KeyValue::new("http.route", "/pay/4111111111111111"),
                KeyValue::new("http.response.status_code", 200_i64),
                KeyValue::new("url.full", "https://u:p@h/?page=2"),
                KeyValue::new("note", "card 4111 1111 1111 1111"),
            ]
        };
        for round in 1..=4 {
            let mut attrs = plain();
            r.redact_attributes(&mut attrs);
            assert_eq!(
                rendered(&attrs),
                [
                    "http.route=/pay/4111111111111111",
                    "http.response.status_code=200",
                    "url.full=https://REDACTED:REDACTED@h/?page=2",
                    "note=card REDACTED",
                ],
                "round {round}"
            );
        }
        assert_eq!(r.counters().get("url_credentials"), Some(4));
        assert_eq!(r.counters().get("card_number"), Some(4));
        // Longer lists than the list cache holds take the key-by-key path.
        let mut long: Vec<KeyValue> = (0..MAX_LIST_KEYS).flat_map(|_| span()).collect();
        r.redact_attributes(&mut long);
        assert_eq!(long.len(), MAX_LIST_KEYS * expected.len());
    }

    #[test]
    fn redactor_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Redactor>();
    }
}
