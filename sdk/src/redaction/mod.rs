//! Redaction: sensitive data never leaves the process.
//!
//! A [`Redactor`] rewrites every finished span before any exporter sees it:
//! span attributes, event names (the tracing layer names an event after its
//! log message) and event attributes (exception messages and stack traces
//! included), link attributes, and the error status description. It runs
//! off the application's thread, in the export path, and *before* attribute
//! values are truncated to the span limits, so a secret is never cut in
//! half before it is checked.
//!
//! Two things are left alone:
//!
//! * **Span names.** They name an operation (a route template, a function),
//!   are meant to be of low cardinality, and backends group by them; the
//!   tracing layer takes them from the span macro's static name.
//! * **Resource attributes** (the builder's `service_*` and
//!   `resource_attribute`, and `OTEL_RESOURCE_ATTRIBUTES`). They are the
//!   operator's configuration of the process, set once at start-up, not
//!   data from requests; they reach the exporter apart from the spans, once
//!   per batch. Keep credentials out of that variable.
//!
//! # Design
//!
//! The rules form an ordered list of two kinds:
//!
//! * **Key rules** decide by attribute key: an exact key or a `*` glob
//!   ([`KeyPattern`], ASCII case ignored). The action ([`KeyAction`]) is to
//!   delete the attribute, replace its value with the mask (`REDACTED`),
//!   replace it with a keyed hash (`hmac-sha256:<16 hex digits>`, HMAC-SHA256
//!   with a configured key, so equal values still group together), or keep
//!   it untouched. Rules added by configuration run before the built-in ones,
//!   and the first rule whose pattern matches decides. Patterns are checked
//!   in rule order; a key is matched against them once, when its decision
//!   is first made (decisions are remembered, see below).
//! * **Value rules** scan the string values (and every string of a string
//!   array) of the attributes no key rule claimed, each rewriting its matches
//!   in place and handing the result to the next. They are hand-written
//!   linear-time scanners, never regular expressions: a single pass
//!   classifies the string's bytes, and only the scanners whose trigger
//!   bytes occur (`@`, `=`, `:`, `J`, `b` or `B` followed by `a` or `e`,
//!   13 or more digits with four in a row) run.
//! * **Value profiles** narrow the value rules for a few semantic-convention
//!   attributes whose values the conventions fix to a form that cannot
//!   carry a secret. The values of `http.request.method`, `http.route` (a
//!   route template, not the request path), `server.address`,
//!   `network.protocol.name`, `network.protocol.version`,
//!   `network.transport`, `network.type`, `url.scheme` and
//!   `user_agent.original` (client software names; credentials travel in
//!   `Authorization` and `Cookie`, which key rules mask) are not scanned,
//!   nor are the conventions' integer attributes (`http.response.status_code`,
//!   `server.port`, ...).
//!   `url.full` and `url.query` get only `url_credentials` and
//!   `query_secrets`, exactly the scrubbing the conventions ask for them,
//!   gated by one pass (SSE2 on x86-64) that looks for `@` and for an `=`
//!   after a name that may be sensitive (sensitive query parameter names
//!   are first checked by their last two bytes, so most `name=value` pairs
//!   are dismissed without a comparison). Keys match as the conventions spell them (case
//!   included); key rules still apply to these keys. The price: a secret
//!   put by mistake into one of them in a shape only a skipped rule knows
//!   (a JWT or card number under an ordinary query parameter name of
//!   `url.full`) stays. [`RedactionConfig::scan_all_values`] (or
//!   `TRACEKIT_REDACT_SCAN_ALL_VALUES=true`) turns the profiles off.
//! * **Decisions are remembered per key.** What the redactor decided for a
//!   key (its key rule, or which value rules scan its value) depends on the
//!   key's text alone, so it is kept in two fixed-size (256 entries),
//!   lock-free tables that never grow. The first is found by the address
//!   and length of the key's text, without reading it: each entry pins a
//!   clone of its key (a `&'static str` or `Arc<str>` key clones as the
//!   same text at the same address), so an address it advertises can never
//!   be freed and reused while it does. Owned keys cannot be pinned; they,
//!   and keys the first table has no room for, are found in the second
//!   table by their text (keys up to 48 bytes), each hit comparing the
//!   whole key. Entries are replaced, never added, when keys collide, and a
//!   key never gets another key's decision.
//!   On top, a third small table remembers whole attribute lists (up to
//!   16 keys, pinned the same way), since spans from one call site repeat
//!   their keys in order: one look-up then decides every attribute of the
//!   span. A list is cached on its second miss in a row at its entry.
//!   The three tables take about 37 KiB per redactor, whatever keys come
//!   (`tests/redaction_memory.rs`: 1,000,000 distinct keys). They pay for
//!   themselves end to end: recording, ending, redacting and converting a
//!   span of 8 attributes costs 15 to 35% more instructions without them,
//!   7.5% more with the text table alone, and more still with a
//!   `Mutex<HashMap>` memo.
//!
//! Applying a redactor allocates only when it rewrites something. Every
//! rule counts the values it redacted ([`Redactor::counters`]).
//!
//! # Built-in rules
//!
//! | name | kind | default | what it does |
//! |---|---|---|---|
//! | `credential_headers` | key | on | masks `http.request.header.{authorization, proxy-authorization, cookie, set-cookie, x-api-key, x-auth-token, x-csrf-token, x-xsrf-token, x-amz-security-token}`, `http.response.header.{set-cookie, authorization}`, and `{rpc, rpc.grpc, rpc.connect_rpc}.request.metadata.{authorization, cookie, x-api-key}` |
//! | `secret_keys` | key | on | masks keys ending in `password`, `passwd`, `passphrase`, `secret`, `token`, `api_key`, `api-key`, `apikey`, `access_key`, `access-key`, `secret_key`, `secret-key`, `private_key`, `private-key`, `credential`, `credentials` |
//! | `url_credentials` | value | on | `https://user:pass@host` → `https://REDACTED:REDACTED@host`; `https://token@host` → `https://REDACTED@host` |
//! | `query_secrets` | value | on | `name=value` with a sensitive name ([`tracekit_propagators::SENSITIVE_QUERY_PARAMETERS`], the list the tower HTTP layers use: `password`, `passwd`, `pwd`, `pass`, `passphrase`, `secret`, `client_secret`, `auth`, `token`, `access_token`, `refresh_token`, `id_token`, `auth_token`, `session_token`, `api_key`, `apikey`, `api-key`, `x-api-key`, `key`, `signature`, `sig`, `credential(s)`, `private_key`, `jwt`, `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`, `X-Goog-Signature`, `X-Goog-Credential`, `AWSAccessKeyId`; case ignored) → `name=REDACTED`, in query strings, forms, cookies and text |
//! | `auth_credentials` | value | on | `Bearer <token>` → `Bearer REDACTED`; `Basic <base64(user:pass)>` → `Basic REDACTED` |
//! | `jwt` | value | on | three (or five) base64url segments, the first starting with `eyJ` → `REDACTED` |
//! | `card_number` | value | on | 13–19 digits, single spaces or dashes allowed between groups (one group of 4+ digits), Luhn-valid, not starting with `0` → `REDACTED` |
//! | `email` | value | off (personal data) | `alice@example.com` → `a***@example.com` |
//! | `personal_data_keys` | key | off (personal data) | hashes (with a hash key) or masks `user.email`, `user.name`, `user.full_name`, `user.id`, `enduser.id`, `client.address` |
//!
//! Key rules run first (configured ones, then `credential_headers`,
//! `secret_keys`, `personal_data_keys`), then the value rules in the order
//! of the table. A JWT sent as `Bearer eyJ…` is therefore counted under
//! `auth_credentials`, and a card number in `?token=4111…` under
//! `query_secrets`.
//!
//! # Environment variables
//!
//! Read by [`RedactionConfig::from_env`] / [`RedactionConfig::apply_env`].
//! Empty values count as unset; an invalid value or list entry gets one
//! warning per variable and is skipped, never a panic.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `TRACEKIT_REDACT_DEFAULTS` | `true` | `false` turns the default rules off |
//! | `TRACEKIT_REDACT_PERSONAL_DATA` | `false` | `true` turns `email` and `personal_data_keys` on |
//! | `TRACEKIT_REDACT_ENABLE` | none | comma list of built-in rule names to turn on |
//! | `TRACEKIT_REDACT_DISABLE` | none | comma list of built-in rule names to turn off |
//! | `TRACEKIT_REDACT_KEEP_KEYS` | none | comma list of keys/globs left untouched |
//! | `TRACEKIT_REDACT_DELETE_KEYS` | none | comma list of keys/globs whose attributes are deleted |
//! | `TRACEKIT_REDACT_HASH_KEYS` | none | comma list of keys/globs whose values are hashed |
//! | `TRACEKIT_REDACT_MASK_KEYS` | none | comma list of keys/globs whose values are masked |
//! | `TRACEKIT_REDACT_PARAMS` | none | comma list of extra sensitive parameter names for `query_secrets` |
//! | `TRACEKIT_REDACT_HASH_KEY` | none | the HMAC-SHA256 key (at least 16 bytes); without it hash rules mask, with one warning |
//! | `TRACEKIT_REDACT_MASK` | `REDACTED` | the mask text |
//! | `TRACEKIT_REDACT_SCAN_ALL_VALUES` | `false` | `true` scans every string value with every value rule (turns the value profiles off) |
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{Event, Link};
//! use opentelemetry::KeyValue;
//! use std::time::SystemTime;
//! use tracekit::redaction::RedactionConfig;
//!
//! let redactor = RedactionConfig::new()
//!     .delete("*.ssn")
//!     .hash("user.id")
//!     .with_hash_key(b"from-your-secret-store-0123456789")
//!     .build();
//!
//! let mut attributes = vec![
//!     KeyValue::new("customer.ssn", "078-05-1120"),
//!     KeyValue::new("user.id", "alice"),
//!     KeyValue::new("http.request.method", "GET"),
//! ];
//! let mut events = vec![Event::new(
//!     "exception",
//!     SystemTime::now(),
//!     vec![KeyValue::new(
//!         "exception.message",
//!         "charge failed for 4111-1111-1111-1111 (Bearer abc.def)",
//!     )],
//!     0,
//! )];
//! let mut links: Vec<Link> = Vec::new();
//! redactor.redact_parts(&mut attributes, &mut events, &mut links);
//!
//! assert_eq!(attributes.len(), 2);
//! assert!(attributes[0].value.as_str().starts_with("hmac-sha256:"));
//! assert_eq!(
//!     events[0].attributes[0].value.as_str(),
//!     "charge failed for REDACTED (Bearer REDACTED)"
//! );
//! let counters = redactor.counters();
//! assert_eq!(counters.get("delete:*.ssn"), Some(1));
//! assert_eq!(counters.get("card_number"), Some(1));
//! ```

mod config;
mod counters;
mod env_config;
mod hashing;
mod key_address_cache;
mod key_cache;
mod key_list_cache;
mod key_pattern;
mod redactor;
mod scan;
mod slot_table;
mod transform;
mod value_profile;

pub use config::{BuiltinRule, InvalidRule, KeyAction, RedactionConfig, DEFAULT_MASK};
pub use counters::{RedactionCounters, RuleCount};
pub use env_config::{
    DEFAULTS_VAR, DELETE_KEYS_VAR, DISABLE_VAR, ENABLE_VAR, HASH_KEYS_VAR, HASH_KEY_VAR,
    KEEP_KEYS_VAR, MASK_KEYS_VAR, MASK_VAR, PARAMS_VAR, PERSONAL_DATA_VAR, SCAN_ALL_VALUES_VAR,
};
pub use hashing::MIN_HASH_KEY_LEN;
pub use key_pattern::{InvalidPattern, KeyPattern};
pub use redactor::Redactor;
pub(crate) use scan::url_for_messages;
