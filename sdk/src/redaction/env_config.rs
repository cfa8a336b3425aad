//! Redaction configuration from `TRACEKIT_REDACT_*` variables (see the
//! [module documentation](super) for the table).

use super::config::{invalid, BuiltinRule, KeyAction, RedactionConfig};
use super::key_pattern::KeyPattern;
use crate::env::{parse_bool, warn_invalid, EnvSource};

/// `true`/`false`: the default rules (default `true`).
pub const DEFAULTS_VAR: &str = "TRACEKIT_REDACT_DEFAULTS";
/// `true`/`false`: the personal-data rules (default `false`).
pub const PERSONAL_DATA_VAR: &str = "TRACEKIT_REDACT_PERSONAL_DATA";
/// Comma list of built-in rule names to turn on.
pub const ENABLE_VAR: &str = "TRACEKIT_REDACT_ENABLE";
/// Comma list of built-in rule names to turn off.
pub const DISABLE_VAR: &str = "TRACEKIT_REDACT_DISABLE";
/// Comma list of keys or globs whose attributes are deleted.
pub const DELETE_KEYS_VAR: &str = "TRACEKIT_REDACT_DELETE_KEYS";
/// Comma list of keys or globs whose values are masked.
pub const MASK_KEYS_VAR: &str = "TRACEKIT_REDACT_MASK_KEYS";
/// Comma list of keys or globs whose values are hashed.
pub const HASH_KEYS_VAR: &str = "TRACEKIT_REDACT_HASH_KEYS";
/// Comma list of keys or globs left untouched.
pub const KEEP_KEYS_VAR: &str = "TRACEKIT_REDACT_KEEP_KEYS";
/// Comma list of extra sensitive parameter names.
pub const PARAMS_VAR: &str = "TRACEKIT_REDACT_PARAMS";
/// The HMAC-SHA256 key for hash rules (at least 16 bytes).
pub const HASH_KEY_VAR: &str = "TRACEKIT_REDACT_HASH_KEY";
/// The mask text (default `REDACTED`).
pub const MASK_VAR: &str = "TRACEKIT_REDACT_MASK";
/// `true`/`false`: scan every value with every value rule, turning the
/// value profiles off (default `false`).
pub const SCAN_ALL_VALUES_VAR: &str = "TRACEKIT_REDACT_SCAN_ALL_VALUES";

/// What to fall back to for a refused list entry.
const SKIP: &str = "the other entries";

impl RedactionConfig {
    /// The safe defaults, adjusted by the `TRACEKIT_REDACT_*` variables of
    /// `env` (the process environment is [`ProcessEnv`](crate::env::ProcessEnv)).
    ///
    /// ```
    /// use tracekit::redaction::{BuiltinRule, RedactionConfig};
    ///
    /// let env = [
    ///     ("TRACEKIT_REDACT_DELETE_KEYS", "*.ssn, internal.debug"),
    ///     ("TRACEKIT_REDACT_PERSONAL_DATA", "true"),
    ///     ("TRACEKIT_REDACT_DISABLE", "card_number"),
    /// ];
    /// let config = RedactionConfig::from_env(&env);
    /// assert!(config.is_enabled(BuiltinRule::Email));
    /// assert!(!config.is_enabled(BuiltinRule::CardNumber));
    /// ```
    pub fn from_env(env: &dyn EnvSource) -> RedactionConfig {
        RedactionConfig::new().apply_env(env)
    }

    /// Apply the `TRACEKIT_REDACT_*` variables of `env` on top of this
    /// configuration: switches first (defaults, personal data, scan all
    /// values, enable, disable), then the key lists (appended after the rules already
    /// configured, in the order keep, delete, hash, mask), extra parameter
    /// names, the mask and the hash key. Invalid values are reported once
    /// per variable and skipped; nothing panics.
    pub fn apply_env(mut self, env: &dyn EnvSource) -> RedactionConfig {
        if parse_bool(env, DEFAULTS_VAR, "true") == Some(false) {
            self = self.without_defaults();
        }
        if parse_bool(env, PERSONAL_DATA_VAR, "false") == Some(true) {
            self = self.with_personal_data();
        }
        if parse_bool(env, SCAN_ALL_VALUES_VAR, "false") == Some(true) {
            self = self.scan_all_values();
        }
        for name in list(env, ENABLE_VAR) {
            match BuiltinRule::from_name(&name) {
                Some(rule) => self = self.enable(rule),
                None => self = unknown_rule(self, ENABLE_VAR, &name),
            }
        }
        for name in list(env, DISABLE_VAR) {
            match BuiltinRule::from_name(&name) {
                Some(rule) => self = self.disable(rule),
                None => self = unknown_rule(self, DISABLE_VAR, &name),
            }
        }
        for (var, action) in [
            (KEEP_KEYS_VAR, KeyAction::Keep),
            (DELETE_KEYS_VAR, KeyAction::Delete),
            (HASH_KEYS_VAR, KeyAction::Hash),
            (MASK_KEYS_VAR, KeyAction::Mask),
        ] {
            for entry in list(env, var) {
                if let Err(err) = KeyPattern::parse(&entry) {
                    warn_invalid(var, &entry, &err.to_string(), SKIP);
                    self.invalid.push(invalid(var, &entry, err));
                } else {
                    self = self.key_rule_from(&entry, action, var);
                }
            }
        }
        for name in list(env, PARAMS_VAR) {
            let before = self.invalid.len();
            self = self.sensitive_param_from(&name, PARAMS_VAR);
            if self.invalid.len() > before {
                warn_invalid(PARAMS_VAR, &name, "not a parameter name", SKIP);
            }
        }
        if let Some(mask) = env.get(MASK_VAR) {
            let before = self.invalid.len();
            self = self.with_mask_from(&mask, MASK_VAR);
            if self.invalid.len() > before {
                warn_invalid(MASK_VAR, &mask, "not a usable mask", "the previous mask");
            }
        }
        // The key is read raw: surrounding spaces are part of a secret.
        if let Some(key) = env.get_raw(HASH_KEY_VAR).filter(|k| !k.is_empty()) {
            let before = self.invalid.len();
            self = self.with_hash_key_from(key.as_bytes(), HASH_KEY_VAR);
            if self.invalid.len() > before {
                warn_invalid(
                    HASH_KEY_VAR,
                    "<hidden>",
                    "shorter than 16 bytes",
                    "the mask for hash rules",
                );
            }
        }
        self
    }
}

/// The non-empty, trimmed entries of a comma list.
fn list(env: &dyn EnvSource, var: &str) -> Vec<String> {
    env.get(var)
        .map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn unknown_rule(mut config: RedactionConfig, var: &str, name: &str) -> RedactionConfig {
    warn_invalid(var, name, "unknown redaction rule name", SKIP);
    config.invalid.push(super::config::InvalidRule {
        source: var.to_string(),
        rule: name.to_string(),
        reason: "unknown redaction rule name".to_string(),
    });
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_environment_gives_the_defaults() {
        let env: [(&str, &str); 0] = [];
        assert_eq!(RedactionConfig::from_env(&env), RedactionConfig::new());
    }

    #[test]
    fn switches_lists_mask_and_key() {
        let env = [
            (DEFAULTS_VAR, "FALSE"),
            (ENABLE_VAR, "jwt, email"),
            (DELETE_KEYS_VAR, "a.b,,*.ssn ,"),
            (HASH_KEYS_VAR, "user.id"),
            (KEEP_KEYS_VAR, "safe.token"),
            (MASK_KEYS_VAR, "x"),
            (PARAMS_VAR, "session"),
            (MASK_VAR, "[hidden]"),
            (HASH_KEY_VAR, " sixteen-bytes-key "),
        ];
        let c = RedactionConfig::from_env(&env);
        assert_eq!(
            c.enabled_builtins(),
            vec![BuiltinRule::Jwt, BuiltinRule::Email]
        );
        let rules: Vec<(String, KeyAction)> = c
            .user_rules
            .iter()
            .map(|r| (r.pattern.to_string(), r.action))
            .collect();
        assert_eq!(
            rules,
            vec![
                ("safe.token".to_string(), KeyAction::Keep),
                ("a.b".to_string(), KeyAction::Delete),
                ("*.ssn".to_string(), KeyAction::Delete),
                ("user.id".to_string(), KeyAction::Hash),
                ("x".to_string(), KeyAction::Mask),
            ]
        );
        assert_eq!(c.extra_params, vec!["session".to_string()]);
        assert_eq!(c.mask_text(), "[hidden]");
        assert_eq!(c.hash_key.as_deref(), Some(&b" sixteen-bytes-key "[..]));
        assert!(c.invalid_rules().is_empty());
    }

    #[test]
    fn invalid_values_warn_and_are_skipped() {
        let env = [
            (DEFAULTS_VAR, "nope"),
            (DISABLE_VAR, "jwt,not_a_rule"),
            (DELETE_KEYS_VAR, "good,bad key,*"),
            (PARAMS_VAR, "bad name"),
            (HASH_KEY_VAR, "short"),
        ];
        let c = RedactionConfig::from_env(&env);
        // An invalid switch keeps the default.
        assert!(c.is_enabled(BuiltinRule::CardNumber));
        assert!(!c.is_enabled(BuiltinRule::Jwt));
        assert_eq!(c.user_rules.len(), 1);
        assert!(!c.has_hash_key());
        let sources: Vec<&str> = c
            .invalid_rules()
            .iter()
            .map(|r| r.source.as_str())
            .collect();
        assert_eq!(
            sources,
            vec![
                DISABLE_VAR,
                DELETE_KEYS_VAR,
                DELETE_KEYS_VAR,
                PARAMS_VAR,
                HASH_KEY_VAR
            ]
        );
        // The hash key never appears in what is recorded.
        assert!(c.invalid_rules().iter().all(|r| r.rule != "short"));
    }

    #[test]
    fn scan_all_values_switch() {
        let on = RedactionConfig::from_env(&[(SCAN_ALL_VALUES_VAR, "TRUE")]);
        assert!(on.scans_all_values());
        let off = RedactionConfig::from_env(&[(SCAN_ALL_VALUES_VAR, "false")]);
        assert!(!off.scans_all_values());
        let invalid = RedactionConfig::from_env(&[(SCAN_ALL_VALUES_VAR, "yes")]);
        assert!(!invalid.scans_all_values());
        let unset: [(&str, &str); 0] = [];
        assert!(!RedactionConfig::from_env(&unset).scans_all_values());
    }

    #[test]
    fn env_extends_code_configuration() {
        let env = [(DELETE_KEYS_VAR, "env.key")];
        let c = RedactionConfig::new().mask("code.key").apply_env(&env);
        let order: Vec<String> = c.user_rules.iter().map(|r| r.pattern.to_string()).collect();
        assert_eq!(order, vec!["code.key".to_string(), "env.key".to_string()]);
    }
}
