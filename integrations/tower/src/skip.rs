//! [`SkipPaths`]: request paths that get no span.

/// Paths served without a span (health checks, metrics): exact paths and
/// path prefixes. The context is still extracted and made current, so
/// calls made while serving them keep the caller's trace.
#[derive(Clone, Debug, Default)]
pub struct SkipPaths {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl SkipPaths {
    /// Skip exactly `path`.
    pub fn add_path(&mut self, path: impl Into<String>) {
        self.exact.push(path.into());
    }

    /// Skip every path starting with `prefix`.
    pub fn add_prefix(&mut self, prefix: impl Into<String>) {
        self.prefixes.push(prefix.into());
    }

    /// Whether nothing is skipped.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    /// Whether `path` is skipped.
    pub fn matches(&self, path: &str) -> bool {
        self.exact.iter().any(|p| p == path)
            || self.prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_prefix() {
        let mut skip = SkipPaths::default();
        assert!(!skip.matches("/health"));
        skip.add_path("/health");
        skip.add_prefix("/static/");
        assert!(skip.matches("/health"));
        assert!(!skip.matches("/healthz"));
        assert!(skip.matches("/static/app.js"));
        assert!(!skip.matches("/static"));
    }
}
