//! Series that every SCIM request updates, resolved once per label set:
//! the first request with a label set takes the family's member (a hash
//! of the labels and the family's lock), later ones find it again by a
//! short scan of plain comparisons, without hashing or copying a label.
//! The handles share their values with the family's members, so the
//! registry renders exactly what it would otherwise. The number of label
//! sets kept is bounded; past the bound a request goes to the family.

use std::sync::{PoisonError, RwLock};

/// Label sets kept resolved at most (connections × resources ×
/// operations × statuses in use is far below it).
const MAX_RESOLVED: usize = 512;

/// Label sets of type `K` and their series `V`.
pub(super) struct Resolved<K, V> {
    entries: RwLock<Vec<(K, V)>>,
}

impl<K, V> Default for Resolved<K, V> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(Vec::new()),
        }
    }
}

impl<K, V> Resolved<K, V> {
    /// Runs `update` on the series whose label set `is` selects; the
    /// first time, `resolve` makes the label set and takes its series.
    pub(super) fn with(
        &self,
        is: impl Fn(&K) -> bool,
        resolve: impl FnOnce() -> (K, V),
        update: impl FnOnce(&V),
    ) {
        {
            let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, v)) = entries.iter().find(|(k, _)| is(k)) {
                update(v);
                return;
            }
        }
        let (k, v) = resolve();
        update(&v);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() < MAX_RESOLVED && !entries.iter().any(|(k, _)| is(k)) {
            entries.push((k, v));
        }
    }

    /// How many label sets are resolved.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_label_set_is_resolved_once_and_the_bound_holds() {
        let r: Resolved<u32, Cell<u32>> = Resolved::default();
        let resolved = Cell::new(0);
        let hit = |key: u32| {
            r.with(
                |k| *k == key,
                || {
                    resolved.set(resolved.get() + 1);
                    (key, Cell::new(0))
                },
                |v| v.set(v.get() + 1),
            );
        };
        hit(1);
        hit(1);
        hit(2);
        assert_eq!((resolved.get(), r.len()), (2, 2));
        for key in 0..(MAX_RESOLVED as u32 + 10) {
            hit(key);
        }
        assert_eq!(r.len(), MAX_RESOLVED);
    }
}
