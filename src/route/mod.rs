//! Where a request goes, decided once from its method and path before
//! anything else reads it: outside the SCIM base paths it passes through
//! to the app; a spelling that reaches a base path only through encoding
//! is refused ([`base_path`]); below one, the path names a SCIM endpoint
//! and the method an action on it ([`table`]). The same classification
//! labels the request's metrics and log span ([`Labels`]), so a request
//! is counted as what it was dispatched as. Pure: no I/O, and the base
//! paths are plain strings, so this module depends on nothing of the
//! sidecar's.

pub mod base_path;
mod labels;
pub mod table;

pub use base_path::{BasePaths, PathMatch};
pub use labels::Labels;
pub use table::{Action, Endpoint, NoRoute, ResourceKind};

use http::Method;

/// One request, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Outside every SCIM base path: passed through to the app.
    PassThrough,
    /// Reaches a SCIM base path only through encoding or dot segments:
    /// refused, never passed through.
    Refused,
    /// Below a SCIM base path.
    Scim(ScimRoute),
}

/// A request below a SCIM base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRoute {
    /// The base path it matched (as configured).
    pub base: String,
    /// The path after it, empty or starting with `/`.
    pub rest: String,
    /// The endpoint `rest` names.
    pub endpoint: Endpoint,
    /// The action for the request's method, or why there is none.
    pub action: Result<Action, NoRoute>,
    /// Its metric and log labels.
    pub labels: Labels,
}

impl Route {
    /// Classifies a request by its method and path (never its query).
    pub fn classify(paths: &BasePaths, method: &Method, path: &str) -> Self {
        match paths.classify(path) {
            PathMatch::NotScim => Self::PassThrough,
            PathMatch::Refused => Self::Refused,
            PathMatch::Scim { base, rest } => Self::Scim(ScimRoute::new(base, rest, method)),
        }
    }

    /// The `route` label: `scim` below a base path (refused spellings
    /// included), `pass` for pass-through.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PassThrough => "pass",
            Self::Refused | Self::Scim(_) => "scim",
        }
    }

    /// The SCIM labels; none for pass-through.
    pub fn labels(&self) -> Option<Labels> {
        match self {
            Self::PassThrough => None,
            Self::Refused => Some(Labels::UNROUTED),
            Self::Scim(r) => Some(r.labels),
        }
    }
}

impl ScimRoute {
    /// `rest`, the path below base path `base`, asked for with `method`.
    pub fn new(base: String, rest: String, method: &Method) -> Self {
        let endpoint = table::classify(&rest);
        let action = table::route(&endpoint, method);
        let labels = Labels::of(&endpoint, method);
        Self {
            base,
            rest,
            endpoint,
            action,
            labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_classification_routes_and_labels() {
        let paths = BasePaths::new(["/scim/v2"]);
        let route = Route::classify(&paths, &Method::PATCH, "/scim/v2/Users/17");
        let Route::Scim(r) = &route else {
            panic!("{route:?}");
        };
        assert_eq!(
            (r.base.as_str(), r.rest.as_str()),
            ("/scim/v2", "/Users/17")
        );
        assert_eq!(r.endpoint, Endpoint::Item(ResourceKind::User, "17".into()));
        assert_eq!(r.action, Ok(Action::Patch));
        assert_eq!((route.name(), route.labels()), ("scim", Some(r.labels)));
        assert_eq!(r.labels.operation, "patch");

        let refused = Route::classify(&paths, &Method::GET, "/%73cim/v2/Users");
        assert_eq!(refused, Route::Refused);
        assert_eq!(refused.labels(), Some(Labels::UNROUTED));
        let pass = Route::classify(&paths, &Method::GET, "/api/users");
        assert_eq!((pass.name(), pass.labels()), ("pass", None));
    }
}
