//! Interned attribute values: strings that recur on request after request
//! (route templates, span names, host names, user agents) kept once for
//! the process as `&'static str`, so a span carries them without
//! allocating and the export thread frees nothing of them.
//!
//! Each kind of value has a budget of distinct strings; once it is spent,
//! or for a string longer than the kind allows, [`intern`] answers `None`
//! and the caller allocates as usual. The memory kept is therefore bounded
//! whatever the requests carry: at most 1,024 routes and 1,024 span names
//! of 256 bytes, 64 hosts of 128 bytes and 64 user agents of 256 bytes
//! (about 540 KiB of text), plus each thread's set of the same strings. Lookups go to a per-thread set first, so
//! the shared set (behind a lock) is only visited the first time a thread
//! meets a string.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// A kind of interned value, with its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `http.route` templates (set by the application's router).
    Route,
    /// Span names (`{method} {route}`).
    SpanName,
    /// `server.address` values (from the `Host` header: client-chosen, so
    /// a small budget of short names).
    Host,
    /// `user_agent.original` values (client-chosen too: a small budget;
    /// a service's callers usually send a handful).
    UserAgent,
}

/// How many kinds there are (the last one's index, plus one).
const KINDS: usize = Kind::UserAgent as usize + 1;

impl Kind {
    /// Distinct strings of this kind kept at most.
    fn budget(self) -> usize {
        match self {
            Kind::Route | Kind::SpanName => 1024,
            Kind::Host | Kind::UserAgent => 64,
        }
    }

    /// Longest string of this kind kept, in bytes.
    fn max_len(self) -> usize {
        match self {
            Kind::Route | Kind::SpanName => 256,
            Kind::Host => 128,
            Kind::UserAgent => 256,
        }
    }

    /// The kind's slot in per-kind arrays: its declaration order.
    fn index(self) -> usize {
        self as usize
    }
}

/// The process-wide interned strings and how much of each budget is spent.
struct Shared {
    strings: HashSet<&'static str>,
    spent: [usize; KINDS],
}

static SHARED: Mutex<Option<Shared>> = Mutex::new(None);

thread_local! {
    /// The interned strings this thread has already looked up.
    static LOCAL: RefCell<HashSet<&'static str>> = RefCell::new(HashSet::new());
    /// The last string of each kind this thread interned: most requests
    /// repeat it, and comparing is cheaper than hashing.
    static LAST: [Cell<Option<&'static str>>; KINDS] = const { [const { Cell::new(None) }; KINDS] };
}

/// `value` as a process-lifetime string of `kind`, or `None` when the
/// kind's budget is spent or `value` is too long for it.
pub(crate) fn intern(kind: Kind, value: &str) -> Option<&'static str> {
    if value.len() > kind.max_len() {
        return None;
    }
    let last = LAST.try_with(|last| last[kind.index()].get()).ok()?;
    if let Some(last) = last.filter(|last| *last == value) {
        return Some(last);
    }
    let local = LOCAL
        .try_with(|local| local.borrow().get(value).copied())
        .ok()?;
    let interned = match local {
        Some(found) => found,
        None => {
            let kept = intern_shared(kind, value)?;
            let _ = LOCAL.try_with(|local| local.borrow_mut().insert(kept));
            kept
        }
    };
    let _ = LAST.try_with(|last| last[kind.index()].set(Some(interned)));
    Some(interned)
}

/// The shared side of [`intern`]: find `value`, or keep it if the budget
/// allows.
fn intern_shared(kind: Kind, value: &str) -> Option<&'static str> {
    let mut guard = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let shared = guard.get_or_insert_with(|| Shared {
        strings: HashSet::new(),
        spent: [0; KINDS],
    });
    if let Some(found) = shared.strings.get(value) {
        return Some(found);
    }
    let spent = &mut shared.spent[kind.index()];
    if *spent >= kind.budget() {
        return None;
    }
    *spent += 1;
    let kept: &'static str = Box::leak(value.to_owned().into_boxed_str());
    shared.strings.insert(kept);
    Some(kept)
}

/// A matched route's interned `http.route` value and its span names, one
/// per method prefix seen with it.
struct RouteNames {
    route: &'static str,
    names: Vec<(&'static str, &'static str)>,
}

thread_local! {
    /// This thread's routes, by template.
    static ROUTES: RefCell<HashMap<&'static str, RouteNames>> = RefCell::new(HashMap::new());
    /// The last (prefix, route, name) this thread looked up.
    static LAST_ROUTE: Cell<Option<(&'static str, &'static str, &'static str)>> =
        const { Cell::new(None) };
}

/// The interned `http.route` value for `route` and span name
/// `{prefix} {route}`; `None` as for [`intern`] (the caller then builds
/// both itself).
pub(crate) fn intern_route(
    prefix: &'static str,
    route: &str,
) -> Option<(&'static str, &'static str)> {
    let last = LAST_ROUTE.try_with(Cell::get).ok()?;
    if let Some((_, route, name)) =
        last.filter(|(last_prefix, last_route, _)| *last_prefix == prefix && *last_route == route)
    {
        return Some((route, name));
    }
    let found = lookup_route(prefix, route)?;
    let _ = LAST_ROUTE.try_with(|last| last.set(Some((prefix, found.0, found.1))));
    Some(found)
}

/// [`intern_route`] past the last-hit check.
fn lookup_route(prefix: &'static str, route: &str) -> Option<(&'static str, &'static str)> {
    ROUTES
        .try_with(|routes| {
            let mut routes = routes.try_borrow_mut().ok()?;
            if let Some(known) = routes.get_mut(route) {
                if let Some(&(_, name)) = known.names.iter().find(|(p, _)| *p == prefix) {
                    return Some((known.route, name));
                }
                let name = intern_span_name(prefix, route)?;
                known.names.push((prefix, name));
                return Some((known.route, name));
            }
            let interned = intern(Kind::Route, route)?;
            let name = intern_span_name(prefix, route)?;
            routes.insert(
                interned,
                RouteNames {
                    route: interned,
                    names: vec![(prefix, name)],
                },
            );
            Some((interned, name))
        })
        .ok()
        .flatten()
}

/// The interned span name `{prefix} {route}`.
fn intern_span_name(prefix: &str, route: &str) -> Option<&'static str> {
    let mut name = String::with_capacity(prefix.len() + 1 + route.len());
    name.push_str(prefix);
    name.push(' ');
    name.push_str(route);
    intern(Kind::SpanName, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_string_is_kept_once() {
        let a = intern(Kind::Route, "/interned/{same}").unwrap();
        let b = intern(Kind::Route, &String::from("/interned/{same}")).unwrap();
        assert_eq!(a, "/interned/{same}");
        assert!(std::ptr::eq(a, b));
        // Another thread finds the same string in the shared set.
        let c = std::thread::spawn(|| intern(Kind::Route, "/interned/{same}").unwrap())
            .join()
            .unwrap();
        assert!(std::ptr::eq(a, c));
    }

    #[test]
    fn routes_and_their_span_names_are_interned() {
        let (route, name) = intern_route("GET", "/interned/{name}").unwrap();
        assert_eq!((route, name), ("/interned/{name}", "GET /interned/{name}"));
        let (route_again, name_again) = intern_route("GET", "/interned/{name}").unwrap();
        assert!(std::ptr::eq(route, route_again) && std::ptr::eq(name, name_again));
        let (post_route, post_name) = intern_route("POST", "/interned/{name}").unwrap();
        assert!(std::ptr::eq(route, post_route));
        assert_eq!(post_name, "POST /interned/{name}");
    }

    #[test]
    fn kinds_keep_their_own_last_string() {
        let host = intern(Kind::Host, "kinds.example").unwrap();
        let agent = intern(Kind::UserAgent, "kinds-agent/1.0").unwrap();
        assert!(std::ptr::eq(
            host,
            intern(Kind::Host, "kinds.example").unwrap()
        ));
        assert!(std::ptr::eq(
            agent,
            intern(Kind::UserAgent, "kinds-agent/1.0").unwrap()
        ));
        assert_eq!(
            intern(Kind::UserAgent, &"a".repeat(256)).map(str::len),
            Some(256)
        );
        assert_eq!(intern(Kind::UserAgent, &"a".repeat(257)), None);
    }

    #[test]
    fn long_values_and_spent_budgets_are_refused() {
        assert_eq!(intern(Kind::Host, &"h".repeat(129)), None);
        // Spend the whole host budget; later new hosts are refused, known
        // ones still found.
        let first = intern(Kind::Host, "budget-0.example");
        let mut refused = false;
        for i in 1..=Kind::Host.budget() {
            refused |= intern(Kind::Host, &format!("budget-{i}.example")).is_none();
        }
        assert!(refused);
        assert_eq!(intern(Kind::Host, "budget-0.example"), first);
        assert_eq!(intern(Kind::Host, "never-seen.example"), None);
    }
}
