//! Runs a compiled mapping on documents: host JSON → SCIM resource
//! ([`read`]), SCIM resource → host bodies for create, replace and
//! changed fields ([`write`]), one rule's share of a host body ([`body`]),
//! per-value conversion in both directions ([`convert`]), an import page's
//! resources written as JSON text without a `Value` tree ([`direct`]),
//! rule-shaped access to SCIM documents ([`scim`]), unmapped-attribute
//! detection ([`unmapped`]) and list answers and paging ([`list`]), with
//! what an app answers in list headers ([`headers`]). Nothing here parses
//! a config string.

pub(crate) mod body;
pub(crate) mod convert;
pub(crate) mod direct;
pub(crate) mod headers;
pub(crate) mod list;
pub(crate) mod read;
pub(crate) mod scim;
pub(crate) mod unmapped;
pub(crate) mod write;
