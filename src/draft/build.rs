//! Putting a draft together: the `[users]` table — which family, which
//! operation for each role and why, the record and its envelopes, lookups,
//! paging, actions, errors — and the top of the file (server, upstream,
//! credentials, connection), over the context in [`super::shapes`].

use super::auth;
use super::error::{DraftError, Hint};
use super::groups;
use super::model::Draft;
use super::ops::{self, Operation};
use super::resources::{self, Family, Noun};
use super::shapes::Ctx;
use super::spec::Spec;
use super::text;
use super::unsupported;
use super::users;

/// What the command line decides.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--app-url`.
    pub app_url: Option<String>,
    /// `--listen`.
    pub listen: String,
    /// `--idp`.
    pub idp: String,
}

/// The whole draft from a document.
pub fn build(spec: &Spec, settings: &Settings, source: &str) -> Result<Draft, DraftError> {
    let all = ops::operations(spec);
    let (base, server) = ops::base(spec);
    let mut ctx = Ctx {
        spec,
        base,
        vars: Vec::new(),
    };
    let user_fams = resources::families(spec, &all, Noun::Users);
    let Some(primary) = user_fams.first().filter(|f| f.score > -40) else {
        return Err(no_users(&all, &user_fams));
    };
    let mut used: Vec<&Operation<'_>> = Vec::new();
    let users = users::users(&mut ctx, &user_fams, primary, &mut used);
    let group_fams = resources::families(spec, &all, Noun::Groups);
    let groups = groups::groups(&mut ctx, &group_fams, &user_fams, &users, &mut used);
    let scim_note = all
        .iter()
        .find(|o| resources::segments(&o.path).iter().any(|s| s.eq_ignore_ascii_case("scim")))
        .map(|o| format!("the app serves SCIM itself ({} {}): an IdP can be pointed there without the sidecar", o.method.upper(), o.path));
    if let Some(problem) = spec.take_problem() {
        return Err(problem);
    }
    let auth = auth::auth(spec, &used);
    let fam_refs: Vec<&Family<'_>> = user_fams
        .iter()
        .filter(|f| resources::bare(&f.word) == resources::bare(&primary.word))
        .collect();
    let mut footer = unsupported::todos(&all, &fam_refs, users.op("get").is_some());
    footer.extend(scim_note);
    let (upstream, upstream_notes) = upstream(settings, server.as_deref(), spec);
    let title = spec
        .root()
        .v
        .pointer("/info/title")
        .and_then(|v| v.as_str())
        .unwrap_or("the app");
    let version = spec
        .root()
        .v
        .pointer("/info/version")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let dialect = match spec.dialect {
        super::spec::Dialect::Swagger2 => "Swagger",
        _ => "OpenAPI",
    };
    let header = vec![
        format!(
            "Drafted by `scim-sidecar draft` from {} {} ({dialect} {}, {source}).",
            text::short(title, 60),
            text::short(version, 20),
            spec.version
        ),
        "Every decision carries its evidence in a comment; review each TODO before".into(),
        "pointing an IdP at it. `scim-sidecar check` validates the file and".into(),
        "docs/mapping.md explains every key.".into(),
    ];
    Ok(Draft {
        header,
        listen: settings.listen.clone(),
        upstream,
        upstream_notes,
        host_headers: auth.headers,
        host_notes: auth.notes,
        idp: settings.idp.clone(),
        vars: ctx.vars,
        users,
        groups,
        footer,
    })
}

fn no_users(all: &[Operation<'_>], fams: &[Family<'_>]) -> DraftError {
    let rpc: Vec<&str> = all
        .iter()
        .map(|o| o.path.as_str())
        .filter(|p| {
            p.starts_with("/users.") || p.starts_with("/admin.users.") || p.contains("/users.")
        })
        .take(3)
        .collect();
    if !rpc.is_empty() {
        return DraftError::NoUsers {
            hint: Hint(Some(format!(
                "the document's user calls are RPC-style method URLs ({}); the drafter does not write them, but a mapping can: each call as its operation (`post = \"/api/users.update\"` with `id_field`, lookups as search rules with `get` and `query`), see docs/mapping.md, API shapes",
                rpc.join(", ")
            ))),
        };
    }
    let hint = match fams.first() {
        Some(f) => Some(format!(
            "the closest is {} ({})",
            f.path,
            f.evidence.join(", ")
        )),
        None if all.is_empty() => Some("the document has no operations".into()),
        None => {
            let mut paths: Vec<&str> = all.iter().map(|o| o.path.as_str()).collect();
            paths.dedup();
            let shown: Vec<&str> = paths.iter().take(5).copied().collect();
            Some(format!("its paths include {}", shown.join(", ")))
        }
    };
    DraftError::NoUsers { hint: Hint(hint) }
}

fn upstream(settings: &Settings, server: Option<&str>, spec: &Spec) -> (String, Vec<String>) {
    if let Some(u) = &settings.app_url {
        return (
            u.trim_end_matches('/').to_owned(),
            vec!["the app: --app-url".into()],
        );
    }
    if let Some(s) = server {
        return (
            s.to_owned(),
            vec!["the app: the document's first server".into()],
        );
    }
    if let super::load::Location::Url(u) = spec.location()
        && let (Some(scheme), Some(auth)) = (u.scheme_str(), u.authority())
    {
        return (
            format!("{scheme}://{auth}"),
            vec!["the app: the origin the document was read from".into()],
        );
    }
    (
        "http://127.0.0.1:3000".into(),
        vec!["TODO: the document names no server; set the app's URL (or pass --app-url)".into()],
    )
}
