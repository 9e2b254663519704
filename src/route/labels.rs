//! What metrics and the request log call a SCIM request: its resource and
//! its operation, from its endpoint and method alone. Both come from fixed
//! lists, so a label never holds an id, a value or a path the client made
//! up.

use super::table::Endpoint;
use http::Method;

/// The `resource` and `operation` labels of a SCIM request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels {
    /// `Users`, `Groups`, `ServiceProviderConfig`, `ResourceTypes`,
    /// `Schemas`, `Me`, `Bulk`, `root` or `unknown`.
    pub resource: &'static str,
    /// `list`, `search`, `get`, `create`, `replace`, `patch`, `delete`,
    /// `discovery` or `other`.
    pub operation: &'static str,
}

impl Labels {
    /// A request that reached a SCIM base path only through encoding or
    /// dot segments (refused before routing).
    pub const UNROUTED: Self = Self {
        resource: "unknown",
        operation: "other",
    };

    /// The labels of `method` on `endpoint`.
    pub fn of(endpoint: &Endpoint, method: &Method) -> Self {
        let resource = match endpoint {
            Endpoint::Collection(k) | Endpoint::Search(k) | Endpoint::Item(k, _) => k.endpoint(),
            Endpoint::ServiceProviderConfig => "ServiceProviderConfig",
            Endpoint::ResourceTypes(_) => "ResourceTypes",
            Endpoint::Schemas(_) => "Schemas",
            Endpoint::Me => "Me",
            Endpoint::Bulk => "Bulk",
            Endpoint::RootSearch => "root",
            Endpoint::Unknown => "unknown",
        };
        let read = *method == Method::GET || *method == Method::HEAD;
        let operation = match (endpoint, method) {
            (Endpoint::Collection(_), _) if read => "list",
            (Endpoint::Collection(_), &Method::POST) => "create",
            (Endpoint::Search(_) | Endpoint::RootSearch, &Method::POST) => "search",
            (Endpoint::Item(..), _) if read => "get",
            (Endpoint::Item(..), &Method::PUT) => "replace",
            (Endpoint::Item(..), &Method::PATCH) => "patch",
            (Endpoint::Item(..), &Method::DELETE) => "delete",
            (
                Endpoint::ServiceProviderConfig | Endpoint::ResourceTypes(_) | Endpoint::Schemas(_),
                _,
            ) if read => "discovery",
            _ => "other",
        };
        Self {
            resource,
            operation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::table::classify;

    fn op(method: Method, rest: &str) -> (&'static str, &'static str) {
        let l = Labels::of(&classify(rest), &method);
        (l.resource, l.operation)
    }

    #[test]
    fn operations_from_method_and_path() {
        assert_eq!(op(Method::GET, "/Users"), ("Users", "list"));
        assert_eq!(op(Method::POST, "/Users"), ("Users", "create"));
        assert_eq!(op(Method::POST, "/Groups/.search"), ("Groups", "search"));
        assert_eq!(op(Method::PATCH, "/Users/42"), ("Users", "patch"));
        assert_eq!(op(Method::PUT, "/users/42").1, "replace");
        assert_eq!(op(Method::DELETE, "/Users/42").1, "delete");
        assert_eq!(op(Method::GET, "/Schemas"), ("Schemas", "discovery"));
        assert_eq!(op(Method::POST, "/Schemas").1, "other");
        assert_eq!(op(Method::POST, "/.search"), ("root", "search"));
        assert_eq!(op(Method::GET, "/Nope"), ("unknown", "other"));
    }
}
