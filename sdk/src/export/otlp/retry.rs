//! [`RetryPolicy`] and the retry loop of OTLP over HTTP.
//!
//! What the OTLP specification asks of a client: retry HTTP 429, 502, 503
//! and 504 and failed connections, with exponential back-off and jitter;
//! honour `Retry-After` (seconds or an HTTP date) on 429 and 503; fail
//! other statuses at once; never start a wait that would end past the
//! export's deadline. A request the collector answered with success is
//! never sent again.

use std::time::{Duration, Instant, SystemTime};

/// The longest a collector's `Retry-After` may hold the export thread.
const MAX_THROTTLE: Duration = Duration::from_secs(30);

/// How failed OTLP exports are retried: how many times, and how long to
/// wait between attempts (exponential back-off with random jitter). A
/// collector's `Retry-After` (or gRPC `RetryInfo`) seeds the back-off.
/// Every wait ends within the export timeout.
///
/// ```
/// use std::time::Duration;
/// use tracekit::export::otlp::{OtlpConfig, RetryPolicy};
///
/// let config = OtlpConfig::default().with_retry_policy(
///     RetryPolicy::recommended()
///         .with_max_retries(5)
///         .with_initial_delay(Duration::from_millis(50)),
/// );
/// assert_eq!(config.retry_policy().unwrap().max_retries(), 5);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: usize,
    initial_delay: Duration,
    max_delay: Duration,
    max_jitter: Duration,
}

impl Default for RetryPolicy {
    /// [`RetryPolicy::recommended`].
    fn default() -> Self {
        Self::recommended()
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn disabled() -> Self {
        RetryPolicy {
            max_retries: 0,
            initial_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_jitter: Duration::ZERO,
        }
    }

    /// Up to 3 retries, waiting 100 ms, then twice as long each time up to
    /// 1.6 s, plus up to 100 ms of jitter.
    pub fn recommended() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1600),
            max_jitter: Duration::from_millis(100),
        }
    }

    /// Retries after the first attempt, at most.
    pub fn with_max_retries(mut self, max_retries: usize) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The wait before the first retry.
    pub fn with_initial_delay(mut self, initial_delay: Duration) -> Self {
        self.initial_delay = initial_delay;
        self
    }

    /// The longest wait between attempts (a collector's `Retry-After` may
    /// raise it, up to 30 s).
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// The most random time added to each wait.
    pub fn with_max_jitter(mut self, max_jitter: Duration) -> Self {
        self.max_jitter = max_jitter;
        self
    }

    /// Retries after the first attempt, at most.
    pub fn max_retries(&self) -> usize {
        self.max_retries
    }

    /// The same policy for opentelemetry-otlp (the gRPC and JSON paths).
    #[cfg(any(feature = "grpc", feature = "http-json"))]
    pub(crate) fn to_otlp(&self) -> opentelemetry_otlp::RetryPolicy {
        opentelemetry_otlp::RetryPolicy::recommended()
            .with_max_retries(self.max_retries)
            .with_initial_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_max_jitter(self.max_jitter)
    }
}

/// What one failed attempt allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Do not retry (a 400, say).
    Never,
    /// Retry after the back-off.
    AfterBackoff,
    /// Retry, waiting at least this long (the collector's `Retry-After`).
    NotBefore(Duration),
}

impl Retry {
    /// What an HTTP status (not a success) allows, with the response's
    /// `Retry-After` header if it had one.
    pub(crate) fn for_status(status: u16, retry_after: Option<&str>) -> Retry {
        match status {
            429 | 503 => match retry_after.and_then(parse_retry_after) {
                Some(delay) => Retry::NotBefore(delay),
                None => Retry::AfterBackoff,
            },
            502 | 504 => Retry::AfterBackoff,
            _ => Retry::Never,
        }
    }
}

/// `Retry-After` as a delay: whole seconds, or an HTTP date (a date in
/// the past is no delay). Capped at 30 s.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or_default(),
    };
    Some(delay.min(MAX_THROTTLE))
}

/// Run `attempt` until it succeeds, says not to retry, the policy's
/// retries are used up, or the next wait would end past `deadline`. Waits
/// on the calling thread (the batch processor's own). Returns the last
/// attempt's outcome.
pub(crate) fn with_retries<T, E>(
    policy: &RetryPolicy,
    deadline: Instant,
    mut attempt: impl FnMut() -> Result<T, (E, Retry)>,
) -> Result<T, E> {
    let mut delay = policy.initial_delay;
    let mut cap = policy.max_delay;
    let mut retries = 0;
    loop {
        let (error, retry) = match attempt() {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        if retries >= policy.max_retries {
            return Err(error);
        }
        match retry {
            Retry::Never => return Err(error),
            Retry::AfterBackoff => {}
            Retry::NotBefore(server_delay) => {
                // The collector's delay seeds the back-off (later waits
                // double from it) and may lift the cap.
                if server_delay > cap {
                    cap = MAX_THROTTLE;
                }
                delay = delay.max(server_delay);
            }
        }
        let wait = (delay + jitter(policy.max_jitter)).min(cap);
        let left = deadline.saturating_duration_since(Instant::now());
        if wait >= left {
            return Err(error);
        }
        std::thread::sleep(wait);
        delay = delay.saturating_mul(2).min(cap);
        retries += 1;
    }
}

/// A random time up to `max`, in whole milliseconds.
fn jitter(max: Duration) -> Duration {
    let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=max_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_specification_says() {
        for status in [429, 503] {
            assert_eq!(Retry::for_status(status, None), Retry::AfterBackoff);
            assert_eq!(
                Retry::for_status(status, Some(" 2 ")),
                Retry::NotBefore(Duration::from_secs(2))
            );
            assert_eq!(
                Retry::for_status(status, Some("999999")),
                Retry::NotBefore(MAX_THROTTLE)
            );
            // Nonsense is ignored: plain back-off.
            assert_eq!(Retry::for_status(status, Some("soon")), Retry::AfterBackoff);
            // A date in the past: retry without extra wait.
            assert_eq!(
                Retry::for_status(status, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
                Retry::NotBefore(Duration::ZERO)
            );
        }
        for status in [502, 504] {
            assert_eq!(Retry::for_status(status, Some("1")), Retry::AfterBackoff);
        }
        for status in [400, 401, 403, 404, 413, 500] {
            assert_eq!(Retry::for_status(status, None), Retry::Never);
        }
    }

    #[test]
    fn an_http_date_in_the_future_is_a_delay() {
        let later = SystemTime::now() + Duration::from_secs(20);
        let delay = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(delay > Duration::from_secs(15) && delay <= Duration::from_secs(20));
    }

    fn quick() -> RetryPolicy {
        RetryPolicy::recommended()
            .with_initial_delay(Duration::from_millis(1))
            .with_max_delay(Duration::from_millis(2))
            .with_max_jitter(Duration::ZERO)
    }

    #[test]
    fn retries_until_success_or_the_policy_is_used_up() {
        let far = Instant::now() + Duration::from_secs(60);
        let mut calls = 0;
        let result: Result<u32, &str> = with_retries(&quick(), far, || {
            calls += 1;
            if calls < 3 {
                Err(("busy", Retry::AfterBackoff))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(result, Ok(3));

        let mut calls = 0;
        let result: Result<(), &str> = with_retries(&quick(), far, || {
            calls += 1;
            Err(("busy", Retry::AfterBackoff))
        });
        assert_eq!(
            (result, calls),
            (Err("busy"), 4),
            "one attempt and 3 retries"
        );

        let mut calls = 0;
        let result: Result<(), &str> = with_retries(&quick(), far, || {
            calls += 1;
            Err(("bad request", Retry::Never))
        });
        assert_eq!((result, calls), (Err("bad request"), 1));

        let mut calls = 0;
        let _: Result<(), &str> = with_retries(&RetryPolicy::disabled(), far, || {
            calls += 1;
            Err(("busy", Retry::AfterBackoff))
        });
        assert_eq!(calls, 1);
    }

    #[test]
    fn no_wait_ends_past_the_deadline() {
        let mut calls = 0;
        let soon = Instant::now() + Duration::from_millis(50);
        let result: Result<(), &str> = with_retries(&quick(), soon, || {
            calls += 1;
            Err(("throttled", Retry::NotBefore(Duration::from_secs(5))))
        });
        assert_eq!((result, calls), (Err("throttled"), 1));
    }
}
