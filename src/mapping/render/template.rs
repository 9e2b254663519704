//! Templates: strings split once at load time into literal parts and
//! placeholders (`/api/users/{id}`, `{$.first} {$.last}`). The placeholder
//! type is the caller's: request templates hold request placeholders and
//! are rendered by `request`; value templates hold host JSONPaths and
//! render read-only attributes from host JSON here.

use serde_json::Value;

use crate::mapping::path::ReadPath;

/// A template split into parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Template<P> {
    parts: Vec<Part<P>>,
}

/// One part of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part<P> {
    /// Literal text.
    Lit(String),
    /// A placeholder.
    Var(P),
}

impl<P> Template<P> {
    /// Splits `src` at `{…}` placeholders (`{{`/`}}` are literal braces) and
    /// resolves each with `resolve`; returns every unresolved placeholder's
    /// reason.
    pub fn parse(
        src: &str,
        mut resolve: impl FnMut(&str) -> Result<P, String>,
    ) -> Result<Self, Vec<String>> {
        let mut parts = Vec::new();
        let mut errors = Vec::new();
        let mut lit = String::new();
        let mut rest = src;
        while let Some(i) = rest.find(['{', '}']) {
            lit.push_str(&rest[..i]);
            let (c, after) = (rest.as_bytes().get(i), &rest[i + 1..]);
            if after.starts_with(if c == Some(&b'{') { '{' } else { '}' }) {
                lit.push_str(&rest[i..i + 1]);
                rest = &after[1..];
                continue;
            }
            if c == Some(&b'}') {
                errors.push("unmatched `}`".to_owned());
                rest = after;
                continue;
            }
            let Some(end) = after.find('}') else {
                errors.push("unclosed `{`".to_owned());
                rest = "";
                break;
            };
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            match resolve(after[..end].trim()) {
                Ok(p) => parts.push(Part::Var(p)),
                Err(e) => errors.push(e),
            }
            rest = &after[end + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        if errors.is_empty() {
            Ok(Self { parts })
        } else {
            Err(errors)
        }
    }

    /// The parts.
    pub fn parts(&self) -> &[Part<P>] {
        &self.parts
    }

    /// The single placeholder when the template is exactly one (`"{page}"`).
    pub fn only_var(&self) -> Option<&P> {
        match self.parts.as_slice() {
            [Part::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// The placeholders used.
    pub fn vars(&self) -> impl Iterator<Item = &P> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Lit(_) => None,
        })
    }
}

/// Renders a value template from host JSON: placeholders are host
/// JSONPaths; missing values render empty; the result is trimmed and
/// `None` when every placeholder was missing.
pub fn render_value(t: &Template<ReadPath>, host: &Value) -> Option<String> {
    let mut out = String::new();
    let mut any = false;
    for part in t.parts() {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Var(p) => match p.one(host) {
                Some(Value::String(s)) => {
                    any |= !s.is_empty();
                    out.push_str(s);
                }
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    any = true;
                    out.push_str(&v.to_string());
                }
                _ => {}
            },
        }
    }
    any.then(|| out.trim().to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mapping::render::placeholder::Var;
    use serde_json::json;

    pub(crate) fn req(src: &str) -> Template<Var> {
        Template::parse(src, |s| match s {
            "id" => Ok(Var::Id),
            "value" => Ok(Var::Value),
            _ => Err(format!("unknown `{s}`")),
        })
        .unwrap()
    }

    #[test]
    fn parse_reports_unknown_placeholders_and_braces() {
        let e = Template::parse("/x/{nope}/{{lit}}/{id", |s| {
            if s == "id" {
                Ok(Var::Id)
            } else {
                Err(format!("unknown `{s}`"))
            }
        })
        .unwrap_err();
        assert_eq!(
            e,
            vec!["unknown `nope`".to_owned(), "unclosed `{`".to_owned()]
        );
        let t = req("{{a}}{id}");
        assert_eq!(t.parts()[0], Part::Lit("{a}".into()));
    }

    #[test]
    fn value_templates_join_host_fields() {
        let t = Template::parse("{$.first} {$.last}", ReadPath::compile).unwrap();
        assert_eq!(
            render_value(&t, &json!({"first": "Ada", "last": "L"})),
            Some("Ada L".into())
        );
        assert_eq!(
            render_value(&t, &json!({"first": "Ada"})),
            Some("Ada".into())
        );
        assert_eq!(render_value(&t, &json!({})), None);
    }
}
