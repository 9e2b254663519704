//! The undo log that makes [`apply`](super::apply) atomic without cloning
//! the whole resource.
//!
//! An operation with a `path` only changes the top-level members whose names
//! match, case-insensitively, its attribute name, or (for extension
//! attributes) its URN and `schemas`. Before each such operation the log
//! saves the original members of every name group it has not seen yet; on
//! error it deletes the members of those groups and puts the originals back,
//! which leaves the resource exactly as it was. Path-less operations, paths naming a whole schema and
//! non-object resources fall back to a full snapshot.

use serde_json::Value;

use super::Op;

/// Originals of the top-level members touched so far.
#[derive(Default)]
pub(super) struct Undo<'o> {
    /// Name groups saved so far (compared ignoring ASCII case).
    names: Vec<&'o str>,
    /// The original members of those groups.
    saved: Vec<(String, Value)>,
    /// A full copy, taken before the first operation the log cannot scope.
    full: Option<Value>,
}

impl<'o> Undo<'o> {
    /// Saves what `op` may change in `resource` before it is applied.
    /// `whole` says the path names a whole schema (its attributes, not one
    /// member, change), which needs the full snapshot.
    pub(super) fn record(&mut self, resource: &Value, op: &'o Op, whole: bool) {
        if self.full.is_some() {
            return;
        }
        let path = op.path.as_ref().filter(|_| !whole);
        let (Some(root), Some(path)) = (resource.as_object(), path) else {
            self.full = Some(resource.clone());
            return;
        };
        let groups = match path.attr.extension() {
            Some(urn) => [Some(urn), Some("schemas")],
            None => [Some(path.attr.name.as_str()), None],
        };
        for name in groups.into_iter().flatten() {
            if self.names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            self.names.push(name);
            self.saved.extend(
                root.iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
    }

    /// Puts `resource` back in the state it had before the first recorded operation.
    pub(super) fn restore(self, resource: &mut Value) {
        if let Some(full) = self.full {
            *resource = full;
        }
        let Some(root) = resource.as_object_mut() else {
            return;
        };
        root.retain(|k, _| !self.names.iter().any(|n| n.eq_ignore_ascii_case(k)));
        root.extend(self.saved);
    }
}
