//! [`RedactionConfig`]: the rules, built in code (and extended from the
//! environment by [`RedactionConfig::apply_env`]).

use super::hashing::{HASHING_AVAILABLE, MIN_HASH_KEY_LEN};
use super::key_pattern::{InvalidPattern, KeyPattern};
use super::Redactor;
use std::fmt;

/// What a key rule does with the value of a matching attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAction {
    /// Remove the attribute.
    Delete,
    /// Replace the value with the mask (`REDACTED` unless configured).
    Mask,
    /// Replace the value with `hmac-sha256:<16 hex digits>`, a keyed hash,
    /// so equal values still group together. Without a hash key this falls
    /// back to [`KeyAction::Mask`] (with one warning).
    Hash,
    /// Leave the attribute exactly as it is: no later key rule and no value
    /// pattern touches it. Use it to carve an exception out of a broader
    /// rule.
    Keep,
}

impl KeyAction {
    /// The action's name as used in rule names (`delete`, `mask`, `hash`,
    /// `keep`).
    pub fn name(self) -> &'static str {
        match self {
            KeyAction::Delete => "delete",
            KeyAction::Mask => "mask",
            KeyAction::Hash => "hash",
            KeyAction::Keep => "keep",
        }
    }
}

/// The built-in rules, in the order they run. See the [module
/// documentation](super) for what each one matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinRule {
    /// Mask credential-carrying HTTP headers and RPC metadata
    /// (`http.request.header.authorization`, `…cookie`, `…set-cookie`,
    /// `…proxy-authorization`, `…x-api-key`, …). Default.
    CredentialHeaders,
    /// Mask attributes whose key ends like a secret (`*password`, `*secret`,
    /// `*token`, `*api_key`, …). Default.
    SecretKeys,
    /// Mask the userinfo of URLs (`https://REDACTED:REDACTED@host`). Default.
    UrlCredentials,
    /// Mask the value of sensitive `name=value` parameters
    /// (`?token=REDACTED`). Default.
    QuerySecrets,
    /// Mask `Bearer` and `Basic` credentials. Default.
    AuthCredentials,
    /// Mask JWT-shaped tokens. Default.
    Jwt,
    /// Mask Luhn-valid card numbers. Default.
    CardNumber,
    /// Mask the local part of email addresses (`u***@example.com`).
    /// Personal data, opt-in.
    Email,
    /// Hash (with a hash key) or mask the user-identifying attributes
    /// (`user.email`, `user.name`, `user.full_name`, `user.id`,
    /// `enduser.id`, `client.address`). Personal data, opt-in.
    PersonalDataKeys,
}

impl BuiltinRule {
    /// Every built-in rule, in running order.
    pub const ALL: [BuiltinRule; 9] = [
        BuiltinRule::CredentialHeaders,
        BuiltinRule::SecretKeys,
        BuiltinRule::UrlCredentials,
        BuiltinRule::QuerySecrets,
        BuiltinRule::AuthCredentials,
        BuiltinRule::Jwt,
        BuiltinRule::CardNumber,
        BuiltinRule::Email,
        BuiltinRule::PersonalDataKeys,
    ];

    /// The safe defaults, on unless turned off.
    pub const DEFAULTS: [BuiltinRule; 7] = [
        BuiltinRule::CredentialHeaders,
        BuiltinRule::SecretKeys,
        BuiltinRule::UrlCredentials,
        BuiltinRule::QuerySecrets,
        BuiltinRule::AuthCredentials,
        BuiltinRule::Jwt,
        BuiltinRule::CardNumber,
    ];

    /// The opt-in personal-data rules.
    pub const PERSONAL_DATA: [BuiltinRule; 2] = [BuiltinRule::Email, BuiltinRule::PersonalDataKeys];

    /// The rule's name, as reported by the counters and accepted by
    /// `TRACEKIT_REDACT_DISABLE` / `TRACEKIT_REDACT_ENABLE`.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinRule::CredentialHeaders => "credential_headers",
            BuiltinRule::SecretKeys => "secret_keys",
            BuiltinRule::UrlCredentials => "url_credentials",
            BuiltinRule::QuerySecrets => "query_secrets",
            BuiltinRule::AuthCredentials => "auth_credentials",
            BuiltinRule::Jwt => "jwt",
            BuiltinRule::CardNumber => "card_number",
            BuiltinRule::Email => "email",
            BuiltinRule::PersonalDataKeys => "personal_data_keys",
        }
    }

    /// The rule named `name` (ASCII case ignored).
    pub fn from_name(name: &str) -> Option<BuiltinRule> {
        BuiltinRule::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether the rule is one of the [defaults](BuiltinRule::DEFAULTS).
    pub fn is_default(self) -> bool {
        BuiltinRule::DEFAULTS.contains(&self)
    }

    /// Whether the rule decides by attribute key (rather than by scanning
    /// string values).
    pub fn is_key_rule(self) -> bool {
        matches!(
            self,
            BuiltinRule::CredentialHeaders
                | BuiltinRule::SecretKeys
                | BuiltinRule::PersonalDataKeys
        )
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A rule that was refused, and why; reported once as a warning when the
/// [`Redactor`] is built, and skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidRule {
    /// Where the rule came from: a builder method or an environment variable.
    pub source: String,
    /// The rule as written.
    pub rule: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for InvalidRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}: {}", self.source, self.rule, self.reason)
    }
}

/// One user key rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UserKeyRule {
    pub(crate) pattern: KeyPattern,
    pub(crate) action: KeyAction,
}

/// The redaction rules: which built-in rules run, extra key rules, extra
/// sensitive parameter names, the mask and the hash key. Build a
/// [`Redactor`] from it with [`RedactionConfig::build`].
///
/// Key rules run first: user key rules in the order they were added, then
/// the built-in key rules; the first whose pattern matches an attribute's
/// key decides what happens to it. Every other attribute then goes through
/// the value rules, in order, each rewriting the matches it finds inside
/// string values (and inside every string of a string array).
///
/// ```
/// use tracekit::redaction::{BuiltinRule, RedactionConfig};
///
/// let redactor = RedactionConfig::new() // the safe defaults
///     .delete("*.ssn")
///     .hash("user.id")
///     .with_hash_key(b"a key of at least sixteen bytes")
///     .with_personal_data()
///     .disable(BuiltinRule::CardNumber)
///     .build();
/// assert!(!redactor.is_noop());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RedactionConfig {
    /// Enabled built-in rules, one bit per [`BuiltinRule`].
    builtins: u16,
    pub(crate) user_rules: Vec<UserKeyRule>,
    pub(crate) extra_params: Vec<String>,
    pub(crate) mask: String,
    pub(crate) hash_key: Option<Vec<u8>>,
    pub(crate) invalid: Vec<InvalidRule>,
    /// Whether every value gets every value rule (no value profiles).
    pub(crate) scan_all_values: bool,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        RedactionConfig::new()
    }
}

impl fmt::Debug for RedactionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactionConfig")
            .field("builtins", &self.enabled_builtins())
            .field("user_rules", &self.user_rules)
            .field("extra_params", &self.extra_params)
            .field("mask", &self.mask)
            .field("hash_key", &self.hash_key.as_ref().map(|_| "<hidden>"))
            .field("invalid", &self.invalid)
            .field("scan_all_values", &self.scan_all_values)
            .finish()
    }
}

/// The default mask.
pub const DEFAULT_MASK: &str = "REDACTED";

impl RedactionConfig {
    /// The safe defaults ([`BuiltinRule::DEFAULTS`]), no extra rules, mask
    /// `REDACTED`, no hash key.
    pub fn new() -> Self {
        let mut config = RedactionConfig::disabled();
        for rule in BuiltinRule::DEFAULTS {
            config.builtins |= rule.bit();
        }
        config
    }

    /// No rule at all: the [`Redactor`] built from it leaves every span as
    /// it is (until rules are added).
    pub fn disabled() -> Self {
        RedactionConfig {
            builtins: 0,
            user_rules: Vec::new(),
            extra_params: Vec::new(),
            mask: DEFAULT_MASK.to_string(),
            hash_key: None,
            invalid: Vec::new(),
            scan_all_values: false,
        }
    }

    /// Turn the default rules off (rules added explicitly stay).
    pub fn without_defaults(mut self) -> Self {
        for rule in BuiltinRule::DEFAULTS {
            self.builtins &= !rule.bit();
        }
        self
    }

    /// Turn the personal-data rules on: email addresses in values, and the
    /// user-identifying attributes (hashed when a hash key is set, masked
    /// otherwise).
    pub fn with_personal_data(mut self) -> Self {
        for rule in BuiltinRule::PERSONAL_DATA {
            self.builtins |= rule.bit();
        }
        self
    }

    /// Scan every string value with every value rule, turning the value
    /// profiles off: by default a few semantic-convention attributes whose
    /// values cannot hold a secret (`http.route`, `http.request.method`,
    /// `user_agent.original`, …) skip the value rules, and `url.full` /
    /// `url.query` get only `url_credentials` and `query_secrets` (see the
    /// [module documentation](super) for the list and the reasons). Key
    /// rules apply to every key either way.
    ///
    /// ```
    /// use opentelemetry::KeyValue;
    /// use tracekit::redaction::RedactionConfig;
    ///
    /// // A card number where the conventions put a template.
    /// let mut attrs = vec![KeyValue::new("http.route", "/pay/4111111111111111")];
    /// RedactionConfig::new().build().redact_attributes(&mut attrs);
    /// assert_eq!(attrs[0].value.as_str(), "/pay/4111111111111111");
    /// RedactionConfig::new().scan_all_values().build().redact_attributes(&mut attrs);
    /// assert_eq!(attrs[0].value.as_str(), "/pay/REDACTED");
    /// ```
    pub fn scan_all_values(mut self) -> Self {
        self.scan_all_values = true;
        self
    }

    /// Whether [`RedactionConfig::scan_all_values`] is set.
    pub fn scans_all_values(&self) -> bool {
        self.scan_all_values
    }

    /// Turn one built-in rule on.
    pub fn enable(mut self, rule: BuiltinRule) -> Self {
        self.builtins |= rule.bit();
        self
    }

    /// Turn one built-in rule off.
    pub fn disable(mut self, rule: BuiltinRule) -> Self {
        self.builtins &= !rule.bit();
        self
    }

    /// Whether `rule` is on.
    pub fn is_enabled(&self, rule: BuiltinRule) -> bool {
        self.builtins & rule.bit() != 0
    }

    /// The built-in rules that are on, in running order.
    pub fn enabled_builtins(&self) -> Vec<BuiltinRule> {
        BuiltinRule::ALL
            .into_iter()
            .filter(|r| self.is_enabled(*r))
            .collect()
    }

    /// Add a key rule: attributes whose key matches `pattern` (an exact key
    /// or a `*` glob, see [`KeyPattern`]) get `action`. An invalid pattern
    /// is recorded, reported when the redactor is built, and skipped.
    pub fn key_rule(self, pattern: &str, action: KeyAction) -> Self {
        let source = format!("RedactionConfig::{}", action.name());
        self.key_rule_from(pattern, action, &source)
    }

    pub(crate) fn key_rule_from(mut self, pattern: &str, action: KeyAction, source: &str) -> Self {
        match KeyPattern::parse(pattern) {
            Ok(pattern) => self.user_rules.push(UserKeyRule { pattern, action }),
            Err(err) => self.invalid.push(invalid(source, pattern, err)),
        }
        self
    }

    /// Delete attributes whose key matches `pattern`.
    pub fn delete(self, pattern: &str) -> Self {
        self.key_rule(pattern, KeyAction::Delete)
    }

    /// Mask the value of attributes whose key matches `pattern`.
    pub fn mask(self, pattern: &str) -> Self {
        self.key_rule(pattern, KeyAction::Mask)
    }

    /// Replace the value of attributes whose key matches `pattern` with its
    /// keyed hash (see [`RedactionConfig::with_hash_key`]).
    pub fn hash(self, pattern: &str) -> Self {
        self.key_rule(pattern, KeyAction::Hash)
    }

    /// Leave attributes whose key matches `pattern` untouched, whatever the
    /// later rules say.
    pub fn keep(self, pattern: &str) -> Self {
        self.key_rule(pattern, KeyAction::Keep)
    }

    /// Add a sensitive parameter name for [`BuiltinRule::QuerySecrets`]
    /// (matched ignoring ASCII case). Names are letters, digits, `_` and
    /// `-`, at most 32 bytes; anything else is recorded as invalid.
    pub fn sensitive_param(self, name: &str) -> Self {
        self.sensitive_param_from(name, "RedactionConfig::sensitive_param")
    }

    pub(crate) fn sensitive_param_from(mut self, name: &str, source: &str) -> Self {
        let name = name.trim();
        let valid = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            self.extra_params.push(name.to_ascii_lowercase());
        } else {
            self.invalid.push(InvalidRule {
                source: source.to_string(),
                rule: name.to_string(),
                reason: "parameter names are 1 to 32 letters, digits, '_' or '-'".to_string(),
            });
        }
        self
    }

    /// The text that replaces redacted values (default `REDACTED`). An empty
    /// or multi-line mask is refused (the previous one stays).
    pub fn with_mask(self, mask: &str) -> Self {
        self.with_mask_from(mask, "RedactionConfig::with_mask")
    }

    pub(crate) fn with_mask_from(mut self, mask: &str, source: &str) -> Self {
        if mask.is_empty() || mask.chars().any(char::is_control) {
            self.invalid.push(InvalidRule {
                source: source.to_string(),
                rule: mask.to_string(),
                reason: "the mask must be non-empty text without control characters".to_string(),
            });
        } else {
            self.mask = mask.to_string();
        }
        self
    }

    /// The HMAC-SHA256 key for [`KeyAction::Hash`] rules: at least 16 bytes
    /// (a shorter key is refused with a warning, and hash rules then mask).
    /// Needs tracekit's cargo feature `redaction-hash`; without it the key
    /// is refused the same way.
    /// Take it from a secret store, never from source code.
    pub fn with_hash_key(self, key: impl AsRef<[u8]>) -> Self {
        self.with_hash_key_from(key.as_ref(), "RedactionConfig::with_hash_key")
    }

    pub(crate) fn with_hash_key_from(mut self, key: &[u8], source: &str) -> Self {
        if !HASHING_AVAILABLE {
            self.invalid.push(InvalidRule {
                source: source.to_string(),
                rule: "<hidden>".to_string(),
                reason: "keyed hashing needs tracekit's cargo feature `redaction-hash` \
                         (hash rules mask instead)"
                    .to_string(),
            });
        } else if key.len() < MIN_HASH_KEY_LEN {
            self.invalid.push(InvalidRule {
                source: source.to_string(),
                rule: "<hidden>".to_string(),
                reason: format!("hash keys need at least {MIN_HASH_KEY_LEN} bytes"),
            });
        } else {
            self.hash_key = Some(key.to_vec());
        }
        self
    }

    /// Whether a usable hash key is set.
    pub fn has_hash_key(&self) -> bool {
        self.hash_key.is_some()
    }

    /// The mask.
    pub fn mask_text(&self) -> &str {
        &self.mask
    }

    /// The rules refused so far.
    pub fn invalid_rules(&self) -> &[InvalidRule] {
        &self.invalid
    }

    /// Build the [`Redactor`]; each refused rule is reported once as a
    /// warning (standard error and `tracing`).
    pub fn build(self) -> Redactor {
        Redactor::new(self)
    }
}

pub(crate) fn invalid(source: &str, rule: &str, err: InvalidPattern) -> InvalidRule {
    InvalidRule {
        source: source.to_string(),
        rule: rule.to_string(),
        reason: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_personal_data_sets() {
        let c = RedactionConfig::new();
        assert_eq!(c.enabled_builtins(), BuiltinRule::DEFAULTS.to_vec());
        let c = c.with_personal_data();
        assert_eq!(c.enabled_builtins(), BuiltinRule::ALL.to_vec());
        let c = c.without_defaults();
        assert_eq!(c.enabled_builtins(), BuiltinRule::PERSONAL_DATA.to_vec());
        assert!(RedactionConfig::disabled().enabled_builtins().is_empty());
        let c = RedactionConfig::new()
            .disable(BuiltinRule::Jwt)
            .enable(BuiltinRule::Email);
        assert!(!c.is_enabled(BuiltinRule::Jwt));
        assert!(c.is_enabled(BuiltinRule::Email));
    }

    #[test]
    fn rule_names_round_trip() {
        for rule in BuiltinRule::ALL {
            assert_eq!(BuiltinRule::from_name(rule.name()), Some(rule));
        }
        assert_eq!(BuiltinRule::from_name(" JWT "), Some(BuiltinRule::Jwt));
        assert_eq!(BuiltinRule::from_name("nope"), None);
    }

    #[test]
    fn invalid_rules_are_recorded_not_fatal() {
        let c = RedactionConfig::new()
            .delete("")
            .hash("a b")
            .mask("*")
            .sensitive_param("bad name")
            .with_mask("")
            .with_hash_key(b"short")
            .delete("ok.key");
        assert_eq!(c.invalid_rules().len(), 6);
        assert_eq!(c.user_rules.len(), 1);
        assert_eq!(c.mask_text(), "REDACTED");
        assert!(!c.has_hash_key());
    }

    #[test]
    fn debug_never_shows_the_hash_key() {
        let c = RedactionConfig::new().with_hash_key(b"very-secret-hash-key");
        assert!(c.has_hash_key());
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
