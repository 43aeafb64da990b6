//! An index kept as one entry of the store (a MessagePack list of [`IndexEntry`]), for
//! stores that can change one entry in a single locked step (filesystem, cachelib).

use super::IndexEntry;

/// The entries of a stored index; an unreadable one counts as empty.
pub(crate) fn entries(blob: Option<&[u8]>) -> Vec<IndexEntry> {
    blob.and_then(|b| rmp_serde::from_slice(b).ok())
        .unwrap_or_default()
}

fn encode(entries: &[IndexEntry]) -> Option<Vec<u8>> {
    if entries.is_empty() {
        None
    } else {
        rmp_serde::to_vec_named(entries).ok()
    }
}

/// The index with `entry` written (see
/// [`SessionStore::index_put`](crate::SessionStore::index_put)).
pub(crate) fn put(blob: Option<Vec<u8>>, entry: &IndexEntry, replace: bool) -> Option<Vec<u8>> {
    let mut all = entries(blob.as_deref());
    match all.iter_mut().find(|e| e.handle == entry.handle) {
        Some(existing) if replace => *existing = entry.clone(),
        Some(existing) => existing.last_seen = existing.last_seen.max(entry.last_seen),
        None => all.push(entry.clone()),
    }
    encode(&all)
}

/// The index without the entries of `handles`; `None` when none is left.
pub(crate) fn remove(blob: Option<Vec<u8>>, handles: &[String]) -> Option<Vec<u8>> {
    let mut all = entries(blob.as_deref());
    all.retain(|e| !handles.contains(&e.handle));
    encode(&all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_replace_touch_and_remove() {
        let a = IndexEntry::new("s:a", 1_000, None);
        let mut b = IndexEntry::new("s:b", 2_000, None);
        let blob = put(None, &a, true);
        let blob = put(blob, &b, true);
        b.last_seen = 9;
        b.created_us = 5_000;
        let touched = put(blob.clone(), &b, false);
        let listed = entries(touched.as_deref());
        assert_eq!((listed[1].created_us, listed[1].last_seen), (2_000, 9));
        let replaced = entries(put(blob.clone(), &b, true).as_deref());
        assert_eq!(replaced[1].created_us, 5_000);
        let left = remove(blob, std::slice::from_ref(&a.handle));
        assert_eq!(entries(left.as_deref()).len(), 1);
        assert_eq!(remove(left, std::slice::from_ref(&b.handle)), None);
    }
}
