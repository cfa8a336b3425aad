//! [`UrlTemplate`]: a caller-given URL template naming a client span.

use std::borrow::Cow;

/// The template of the URL a client request goes to (`/users/{id}`), put
/// in the request's extensions by the caller. Client spans are then named
/// `{method} {template}` and carry `url.template`, instead of just
/// `{method}`.
///
/// ```
/// use tracekit_tower::UrlTemplate;
/// let mut request = http::Request::get("http://127.0.0.1:1/users/42").body(()).unwrap();
/// request.extensions_mut().insert(UrlTemplate::new("/users/{id}"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UrlTemplate(pub Cow<'static, str>);

impl UrlTemplate {
    /// A template.
    pub fn new(template: impl Into<Cow<'static, str>>) -> Self {
        UrlTemplate(template.into())
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
