//! The plan of a mapping's direct writer (`eval`'s `direct`): which rule
//! writes each top-level member of a resource, in output order, worked out
//! once when the mapping is compiled.

/// How a mapping's resources are written directly, worked out once when
/// the mapping is compiled (`compile`'s `direct_plan`): the `id` rule and the
/// top-level members in output order.
#[derive(Debug, Clone)]
pub(crate) struct DirectPlan {
    /// Index of the `id` rule.
    pub(crate) id: usize,
    /// The top-level members, sorted by name.
    pub(crate) top: Vec<Top>,
}

/// One top-level member of the resource.
#[derive(Debug, Clone)]
pub(crate) enum Top {
    /// A plain attribute: its rule.
    Plain(String, usize),
    /// A complex attribute from sub-attribute rules, sorted by name.
    Object(String, Vec<(String, usize)>),
    /// A multi-valued attribute from selector rules, in rule order.
    Array(String, Vec<usize>),
    /// `meta`: mapped members (sorted by name) with `resourceType`,
    /// `location` and the weak `version` added.
    Meta(Vec<(String, usize)>),
    /// `schemas`: the core schema.
    Schemas,
}

impl Top {
    /// The member's name.
    pub(crate) fn key(&self) -> &str {
        match self {
            Self::Plain(k, _) | Self::Object(k, _) | Self::Array(k, _) => k,
            Self::Meta(_) => "meta",
            Self::Schemas => "schemas",
        }
    }
}
