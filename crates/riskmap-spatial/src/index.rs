//! An R*-tree of bounding boxes keyed by feature id (空间索引).

use geo::Rect;
use rstar::{AABB, RTree, RTreeObject};

/// One indexed entry: a key and its bounding box.
#[derive(Debug, Clone, PartialEq)]
struct Entry<K> {
    key: K,
    envelope: AABB<[f64; 2]>,
}

impl<K> RTreeObject for Entry<K> {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

fn aabb(rect: Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y])
}

/// Bounding-box index over keys `K` (usually feature ids).
///
/// Insert and remove are `O(log n)`; a bbox query returns every key whose box
/// meets the query box (boundaries included), in unspecified order.
#[derive(Debug, Clone)]
pub struct BBoxIndex<K> {
    tree: RTree<Entry<K>>,
}

impl<K: Clone + PartialEq> Default for BBoxIndex<K> {
    fn default() -> Self {
        Self { tree: RTree::new() }
    }
}

impl<K: Clone + PartialEq> BBoxIndex<K> {
    /// Bulk-loads an index (much faster than repeated inserts).
    pub fn bulk_load(items: impl IntoIterator<Item = (K, Rect<f64>)>) -> Self {
        let entries = items
            .into_iter()
            .map(|(key, r)| Entry {
                key,
                envelope: aabb(r),
            })
            .collect();
        Self {
            tree: RTree::bulk_load(entries),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Adds `key` with its bounding box.
    pub fn insert(&mut self, key: K, rect: Rect<f64>) {
        self.tree.insert(Entry {
            key,
            envelope: aabb(rect),
        });
    }

    /// Removes `key` (which was inserted with `rect`); returns whether it was there.
    pub fn remove(&mut self, key: &K, rect: Rect<f64>) -> bool {
        let probe = Entry {
            key: key.clone(),
            envelope: aabb(rect),
        };
        self.tree.remove(&probe).is_some()
    }

    /// Keys whose bounding boxes intersect `rect` (touching counts).
    pub fn query(&self, rect: Rect<f64>) -> impl Iterator<Item = &K> {
        self.tree
            .locate_in_envelope_intersecting(aabb(rect))
            .map(|e| &e.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;
    use proptest::prelude::*;

    fn rect(x: f64, y: f64, w: f64, h: f64) -> Rect<f64> {
        Rect::new(coord! {x: x, y: y}, coord! {x: x + w, y: y + h})
    }

    fn meets(a: Rect<f64>, b: Rect<f64>) -> bool {
        a.min().x <= b.max().x
            && b.min().x <= a.max().x
            && a.min().y <= b.max().y
            && b.min().y <= a.max().y
    }

    proptest! {
        #[test]
        fn query_matches_brute_force(
            boxes in prop::collection::vec((0.0..100.0f64, 0.0..100.0f64, 0.0..5.0f64, 0.0..5.0f64), 0..200),
            q in (0.0..100.0f64, 0.0..100.0f64, 0.0..30.0f64, 0.0..30.0f64),
            removed in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
        ) {
            let mut idx = BBoxIndex::bulk_load(boxes.iter().enumerate().map(|(i, b)| (i, rect(b.0, b.1, b.2, b.3))));
            let mut live: Vec<bool> = vec![true; boxes.len()];
            if !boxes.is_empty() {
                for r in removed {
                    let i = r.index(boxes.len());
                    let b = boxes[i];
                    prop_assert_eq!(idx.remove(&i, rect(b.0, b.1, b.2, b.3)), live[i]);
                    live[i] = false;
                }
            }
            let qr = rect(q.0, q.1, q.2, q.3);
            let mut got: Vec<usize> = idx.query(qr).copied().collect();
            got.sort_unstable();
            let want: Vec<usize> = boxes.iter().enumerate()
                .filter(|(i, b)| live[*i] && meets(rect(b.0, b.1, b.2, b.3), qr))
                .map(|(i, _)| i).collect();
            prop_assert_eq!(got, want);
        }
    }
}
