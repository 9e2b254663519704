//! The SCIM route table: a request path (below the base path) is
//! classified into an [`Endpoint`], and [`route`] picks the [`Action`] for
//! its method from one table that also yields the `Allow` header of a 405
//! (RFC 9110 §15.5.6). Resource names match case-insensitively (Entra's
//! reference tests send `/users`); ids are percent-decoded here and
//! re-encoded as a single path segment whenever they are sent to the app.

use http::Method;
use percent_encoding::percent_decode_str;

/// The SCIM resource types served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

impl ResourceKind {
    /// The endpoint name.
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::User => "Users",
            Self::Group => "Groups",
        }
    }
}

/// A SCIM endpoint addressed by a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `/ServiceProviderConfig` (RFC 7644 §4).
    ServiceProviderConfig,
    /// `/ResourceTypes` or `/ResourceTypes/{name}`.
    ResourceTypes(Option<String>),
    /// `/Schemas` or `/Schemas/{urn}`.
    Schemas(Option<String>),
    /// `/Users`, `/Groups`.
    Collection(ResourceKind),
    /// `/Users/.search`, `/Groups/.search` (RFC 7644 §3.4.3).
    Search(ResourceKind),
    /// `/Users/{id}`, `/Groups/{id}`.
    Item(ResourceKind, String),
    /// `/Me` (RFC 7644 §3.11).
    Me,
    /// `/Bulk` (RFC 7644 §3.7).
    Bulk,
    /// `/.search` at the root.
    RootSearch,
    /// Anything else.
    Unknown,
}

impl Endpoint {
    /// The resource type of `/Users` and `/Groups` endpoints.
    pub fn resource_kind(&self) -> Option<ResourceKind> {
        match self {
            Self::Collection(k) | Self::Search(k) | Self::Item(k, _) => Some(*k),
            _ => None,
        }
    }

    /// The resource id of an item endpoint.
    pub fn item_id(&self) -> Option<&str> {
        match self {
            Self::Item(_, id) => Some(id),
            _ => None,
        }
    }
}

/// What answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `GET /ServiceProviderConfig`.
    ServiceProviderConfig,
    /// `GET /ResourceTypes[/{name}]`.
    ResourceTypes,
    /// `GET /Schemas[/{urn}]`.
    Schemas,
    /// `GET /Users`: list and filter (RFC 7644 §3.4.2).
    List,
    /// `POST /Users`: create (RFC 7644 §3.3).
    Create,
    /// `POST /Users/.search` (RFC 7644 §3.4.3).
    Search,
    /// `GET /Users/{id}` (RFC 7644 §3.4.1).
    Get,
    /// `PUT /Users/{id}` (RFC 7644 §3.5.1).
    Replace,
    /// `PATCH /Users/{id}` (RFC 7644 §3.5.2).
    Patch,
    /// `DELETE /Users/{id}` (RFC 7644 §3.6).
    Delete,
}

/// The route table: the methods each endpoint answers.
fn methods(endpoint: &Endpoint) -> &'static [(&'static str, Action)] {
    use Action as A;
    match endpoint {
        Endpoint::ServiceProviderConfig => &[("GET", A::ServiceProviderConfig)],
        Endpoint::ResourceTypes(_) => &[("GET", A::ResourceTypes)],
        Endpoint::Schemas(_) => &[("GET", A::Schemas)],
        Endpoint::Collection(_) => &[("GET", A::List), ("POST", A::Create)],
        Endpoint::Search(_) => &[("POST", A::Search)],
        Endpoint::Item(..) => &[
            ("GET", A::Get),
            ("PUT", A::Replace),
            ("PATCH", A::Patch),
            ("DELETE", A::Delete),
        ],
        Endpoint::Me | Endpoint::Bulk | Endpoint::RootSearch | Endpoint::Unknown => &[],
    }
}

/// Why a request has no action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRoute {
    /// The endpoint exists but not for this method; the `Allow` value.
    MethodNotAllowed(String),
    /// The endpoint is not served.
    NotServed,
}

/// The action for `method` on `endpoint`. `HEAD` is answered wherever
/// `GET` is (RFC 9110 §9.3.2).
pub fn route(endpoint: &Endpoint, method: &Method) -> Result<Action, NoRoute> {
    let table = methods(endpoint);
    if table.is_empty() {
        return Err(NoRoute::NotServed);
    }
    let wanted = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    table
        .iter()
        .find(|(m, _)| *m == wanted)
        .map(|(_, a)| *a)
        .ok_or_else(|| NoRoute::MethodNotAllowed(allow(endpoint)))
}

/// The `Allow` value of an endpoint: its methods, with `HEAD` after `GET`.
pub fn allow(endpoint: &Endpoint) -> String {
    let mut out: Vec<&str> = Vec::new();
    for (m, _) in methods(endpoint) {
        out.push(m);
        if *m == "GET" {
            out.push("HEAD");
        }
    }
    out.join(", ")
}

/// Classifies `rest`, the path after the base path (empty or starting with `/`).
pub fn classify(rest: &str) -> Endpoint {
    let trimmed = rest.trim_start_matches('/');
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let mut parts = trimmed.splitn(2, '/');
    let first = parts.next().unwrap_or("");
    let second = parts.next();
    let eq = |name: &str| first.eq_ignore_ascii_case(name);
    let kind = if eq("Users") {
        Some(ResourceKind::User)
    } else if eq("Groups") {
        Some(ResourceKind::Group)
    } else {
        None
    };
    match (kind, second) {
        (Some(k), None) => return Endpoint::Collection(k),
        (Some(k), Some(".search")) => return Endpoint::Search(k),
        (Some(k), Some(id)) => {
            return match decode_segment(id) {
                Some(id) => Endpoint::Item(k, id),
                None => Endpoint::Unknown,
            };
        }
        (None, _) => {}
    }
    match second {
        None if eq("ServiceProviderConfig") => Endpoint::ServiceProviderConfig,
        None if eq("ResourceTypes") => Endpoint::ResourceTypes(None),
        None if eq("Schemas") => Endpoint::Schemas(None),
        None if eq("Me") => Endpoint::Me,
        None if eq("Bulk") => Endpoint::Bulk,
        None if first == ".search" => Endpoint::RootSearch,
        Some(name) if eq("ResourceTypes") => {
            decode_segment(name).map_or(Endpoint::Unknown, |n| Endpoint::ResourceTypes(Some(n)))
        }
        Some(urn) if eq("Schemas") => {
            decode_segment(urn).map_or(Endpoint::Unknown, |u| Endpoint::Schemas(Some(u)))
        }
        _ => Endpoint::Unknown,
    }
}

/// Decodes one path segment. Ids never contain an undecoded `/` (that would
/// be a deeper path), must be valid UTF-8 and non-empty, and are never only
/// dots: even encoded as `%2E%2E`, a `..` segment may be normalised away by
/// a proxy in front of the app (RFC 3986 §6.2.2.2) and address its parent.
fn decode_segment(segment: &str) -> Option<String> {
    if segment.is_empty() || segment.contains('/') {
        return None;
    }
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
        .filter(|s| !s.is_empty() && !s.bytes().all(|b| b == b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_endpoints() {
        assert_eq!(classify("/Users"), Endpoint::Collection(ResourceKind::User));
        assert_eq!(
            classify("/users/"),
            Endpoint::Collection(ResourceKind::User)
        );
        assert_eq!(
            classify("/Groups/.search"),
            Endpoint::Search(ResourceKind::Group)
        );
        assert_eq!(
            classify("/Users/1001"),
            Endpoint::Item(ResourceKind::User, "1001".into())
        );
        assert_eq!(
            classify("/ServiceProviderConfig"),
            Endpoint::ServiceProviderConfig
        );
        assert_eq!(
            classify("/ResourceTypes/User"),
            Endpoint::ResourceTypes(Some("User".into()))
        );
        assert_eq!(classify("/Me"), Endpoint::Me);
        assert_eq!(classify("/Bulk"), Endpoint::Bulk);
        assert_eq!(classify("/.search"), Endpoint::RootSearch);
        assert_eq!(classify(""), Endpoint::Unknown);
        assert_eq!(classify("/Nope"), Endpoint::Unknown);
    }

    #[test]
    fn one_table_routes_and_names_allowed_methods() {
        let item = Endpoint::Item(ResourceKind::User, "1".into());
        assert_eq!(route(&item, &Method::PATCH), Ok(Action::Patch));
        assert_eq!(route(&item, &Method::HEAD), Ok(Action::Get));
        assert_eq!(
            route(&item, &Method::POST),
            Err(NoRoute::MethodNotAllowed(
                "GET, HEAD, PUT, PATCH, DELETE".into()
            ))
        );
        assert_eq!(
            route(&Endpoint::Schemas(None), &Method::POST),
            Err(NoRoute::MethodNotAllowed("GET, HEAD".into()))
        );
        assert_eq!(
            route(&Endpoint::Bulk, &Method::POST),
            Err(NoRoute::NotServed)
        );
    }

    #[test]
    fn ids_are_decoded_and_deeper_paths_rejected() {
        assert_eq!(
            classify("/Users/a%2Fb"),
            Endpoint::Item(ResourceKind::User, "a/b".into())
        );
        assert_eq!(
            classify("/Users/..%0d%0a"),
            Endpoint::Item(ResourceKind::User, "..\r\n".into())
        );
        assert_eq!(classify("/Users/a/b"), Endpoint::Unknown);
        assert_eq!(classify("/Users/%ff"), Endpoint::Unknown);
        assert_eq!(classify("/Users/%2E%2E"), Endpoint::Unknown);
        assert_eq!(classify("/Users/."), Endpoint::Unknown);
        assert_eq!(
            classify("/Users/a.b"),
            Endpoint::Item(ResourceKind::User, "a.b".into())
        );
    }
}
