//! Filters may name only attributes this deployment maps (plus `id`,
//! `meta` and `schemas`). A filter on an attribute the app does not hold
//! could never match, and answering it with an empty list would make an
//! IdP create a duplicate; it is a 400 `invalidFilter` naming the attribute
//! instead (RFC 7644 §3.4.2.2: "the filter … SHALL be rejected" when it
//! cannot be evaluated).

use crate::error::{ScimError, ScimType};
use crate::mapping::ResourceMapping;
use crate::protocol::filter::{AttrPath, Filter};

/// Checks every attribute path of `f` against the mapping.
pub fn check(m: &ResourceMapping, f: &Filter) -> Result<(), ScimError> {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check(m, a)?;
            check(m, b)
        }
        Filter::Not(inner) => check(m, inner),
        Filter::Compare { path, .. } | Filter::Present(path) => known(m, path, None),
        Filter::ValuePath { path, filter } => {
            known(m, path, None)?;
            check_inner(m, path, filter)
        }
    }
}

/// Paths inside `attr[…]` are sub-attributes of `attr`.
fn check_inner(m: &ResourceMapping, parent: &AttrPath, f: &Filter) -> Result<(), ScimError> {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_inner(m, parent, a)?;
            check_inner(m, parent, b)
        }
        Filter::Not(inner) => check_inner(m, parent, inner),
        Filter::Compare { path, .. } | Filter::Present(path) => known(m, parent, Some(&path.name)),
        Filter::ValuePath { path, .. } => Err(unknown(path)),
    }
}

fn known(m: &ResourceMapping, path: &AttrPath, inner_sub: Option<&str>) -> Result<(), ScimError> {
    if path.is_core()
        && ["id", "meta", "schemas"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&path.name))
    {
        return Ok(());
    }
    let attr = m
        .schema()
        .attribute(path.extension(), &path.name)
        .ok_or_else(|| unknown(path))?;
    match path.sub.as_deref().or(inner_sub) {
        None => Ok(()),
        Some(sub) if attr.sub(sub).is_some() => Ok(()),
        Some(_) => Err(unknown(path)),
    }
}

fn unknown(path: &AttrPath) -> ScimError {
    ScimError::bad_request(
        ScimType::InvalidFilter,
        format!("the filter names `{path}`, which this deployment does not map"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::protocol::filter::parse;

    fn mapping() -> std::sync::Arc<ResourceMapping> {
        let text = include_str!("../../../config/example.toml");
        let config = Config::from_toml(text, &|_| Some("k".into())).expect("example config");
        config.users.expect("users")
    }

    #[test]
    fn mapped_attributes_pass() {
        let m = mapping();
        for f in [
            r#"userName eq "a""#,
            r#"USERNAME eq "a" and active eq true"#,
            r#"emails[type eq "work" and value co "@x"]"#,
            r#"emails.value eq "a@x""#,
            r#"emails[primary eq true]"#,
            r#"name.givenName sw "A" or not (title pr)"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#,
            r#"id eq "1" and meta.lastModified gt "2024-01-01T00:00:00Z""#,
        ] {
            assert!(check(&m, &parse(f).unwrap()).is_ok(), "{f}");
        }
    }

    #[test]
    fn unmapped_attributes_are_invalid_filters() {
        let m = mapping();
        for (f, named) in [
            (r#"usrName eq "a""#, "usrName"),
            (r#"userName eq "a" or ims.value eq "b""#, "ims"),
            (r#"photos.value eq "x""#, "photos"),
            (r#"emails[display eq "x"]"#, "emails"),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:managerId eq "1""#,
                "managerId",
            ),
        ] {
            let e = check(&m, &parse(f).unwrap()).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{f}");
            assert!(e.detail.contains(named), "{f}: {}", e.detail);
        }
    }
}
