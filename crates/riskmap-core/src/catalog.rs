//! The in-memory catalogue (内存索引): every feature by collection, with an
//! R*-tree of bounding boxes. It serves all reads; the store stays the source
//! of truth and the catalogue is rebuilt from it at start and kept current on
//! every write.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use geo::{Intersects, Rect};
use riskmap_spatial::BBoxIndex;

use crate::model::{Collection, Feature};

/// An index entry: the feature itself, compared by id (so a query needs no
/// second lookup by id).
#[derive(Debug, Clone)]
struct FeatureKey(Arc<Feature>);

impl PartialEq for FeatureKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

/// One collection's features, ordered by id, with their bbox index and extent.
#[derive(Debug, Default, Clone)]
struct Layer {
    features: BTreeMap<String, Arc<Feature>>,
    index: BBoxIndex<FeatureKey>,
    /// Union of every feature's bbox (`None` when empty); kept current on
    /// every insert and remove.
    extent: Option<Rect<f64>>,
}

impl Layer {
    fn recompute_extent(&mut self) {
        self.extent = self.features.values().map(|f| f.bbox()).reduce(union);
    }

    /// Whether `b` reaches the extent's boundary (so removing it may shrink it).
    fn on_boundary(&self, b: Rect<f64>) -> bool {
        self.extent.is_none_or(|e| {
            b.min().x <= e.min().x
                || b.min().y <= e.min().y
                || b.max().x >= e.max().x
                || b.max().y >= e.max().y
        })
    }
}

fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
    )
}

/// Every stored feature in memory, by collection.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    layers: HashMap<Collection, Layer>,
}

impl Catalog {
    /// An empty catalogue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces a whole collection (bulk-loading its index).
    pub fn load(&mut self, collection: Collection, features: Vec<Feature>) {
        let features: BTreeMap<String, Arc<Feature>> = features
            .into_iter()
            .map(|f| (f.id.clone(), Arc::new(f)))
            .collect();
        let index =
            BBoxIndex::bulk_load(features.values().map(|f| (FeatureKey(f.clone()), f.bbox())));
        let mut layer = Layer {
            features,
            index,
            extent: None,
        };
        layer.recompute_extent();
        self.layers.insert(collection, layer);
    }

    /// Inserts or replaces a feature; returns the one it replaced.
    pub fn insert(&mut self, feature: Feature) -> Option<Arc<Feature>> {
        self.insert_arc(Arc::new(feature))
    }

    /// Inserts or replaces a shared feature; returns the one it replaced.
    /// Catalogues given the same `Arc` share its allocation.
    pub fn insert_arc(&mut self, feature: Arc<Feature>) -> Option<Arc<Feature>> {
        let layer = self.layers.entry(feature.collection()).or_default();
        let old = layer.features.remove(&feature.id);
        if let Some(old) = &old {
            layer.index.remove(&FeatureKey(old.clone()), old.bbox());
        }
        let bbox = feature.bbox();
        layer.index.insert(FeatureKey(feature.clone()), bbox);
        layer.features.insert(feature.id.clone(), feature);
        if old.as_ref().is_some_and(|o| layer.on_boundary(o.bbox())) {
            layer.recompute_extent();
        } else {
            layer.extent = Some(layer.extent.map_or(bbox, |e| union(e, bbox)));
        }
        old
    }

    /// Removes a feature; returns it if it was there.
    pub fn remove(&mut self, collection: Collection, id: &str) -> Option<Arc<Feature>> {
        let layer = self.layers.get_mut(&collection)?;
        let old = layer.features.remove(id)?;
        layer.index.remove(&FeatureKey(old.clone()), old.bbox());
        if layer.on_boundary(old.bbox()) {
            layer.recompute_extent();
        }
        Some(old)
    }

    /// One feature.
    pub fn get(&self, collection: Collection, id: &str) -> Option<&Arc<Feature>> {
        self.layers.get(&collection)?.features.get(id)
    }

    /// Number of features in a collection.
    pub fn len(&self, collection: Collection) -> usize {
        self.layers.get(&collection).map_or(0, |l| l.features.len())
    }

    /// Whether the catalogue holds no feature at all.
    pub fn is_empty(&self) -> bool {
        self.layers.values().all(|l| l.features.is_empty())
    }

    /// Every feature of a collection, ordered by id.
    pub fn iter(&self, collection: Collection) -> impl Iterator<Item = &Arc<Feature>> {
        self.layers
            .get(&collection)
            .into_iter()
            .flat_map(|l| l.features.values())
    }

    /// Features whose geometry intersects `bbox` (touching counts), ordered by id.
    pub fn query_bbox(&self, collection: Collection, bbox: Rect<f64>) -> Vec<Arc<Feature>> {
        let mut hits: Vec<&Arc<Feature>> = self.query_bbox_unordered(collection, bbox).collect();
        hits.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        hits.into_iter().cloned().collect()
    }

    /// Features whose geometry intersects `bbox` (touching counts), in no
    /// particular order: for callers that count, or sort themselves.
    pub fn query_bbox_unordered(
        &self,
        collection: Collection,
        bbox: Rect<f64>,
    ) -> impl Iterator<Item = &Arc<Feature>> {
        self.query_bbox_candidates(collection, bbox)
            .filter(move |f| f.geometry.intersects(&bbox))
    }

    /// Features whose bounding box meets `bbox` (touching counts), in no
    /// particular order, without the exact geometry test: a pre-filter for
    /// callers that run their own exact test.
    pub fn query_bbox_candidates(
        &self,
        collection: Collection,
        bbox: Rect<f64>,
    ) -> impl Iterator<Item = &Arc<Feature>> {
        self.layers
            .get(&collection)
            .into_iter()
            .flat_map(move |l| l.index.query(bbox))
            .map(|k| &k.0)
    }

    /// The bounding box of a whole collection (kept current by every insert
    /// and remove, so this is O(1)).
    pub fn extent(&self, collection: Collection) -> Option<Rect<f64>> {
        self.layers.get(&collection)?.extent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Record, TargetCategory};
    use geo::{Geometry, Point};
    use proptest::prelude::*;

    fn target(id: usize, x: f64, y: f64) -> Feature {
        Feature {
            updated: None,
            id: format!("t{id}"),
            geometry: Geometry::Point(Point::new(x, y)),
            record: Record::ProtectionTarget(crate::model::ProtectionTarget {
                name: None,
                category: TargetCategory::Other,
                population: None,
                households: None,
                beds: None,
                floor_area_m2: None,
                extra: Default::default(),
            }),
        }
    }

    proptest! {
        /// The incrementally kept extent equals the extent recomputed from
        /// scratch, and bbox queries match a brute-force scan, after random
        /// inserts, moves and removals.
        #[test]
        fn extent_and_queries_stay_exact_after_edits(
            initial in prop::collection::vec((0.0..10.0f64, 0.0..10.0f64), 0..40),
            edits in prop::collection::vec((0usize..60, prop::option::of((0.0..12.0f64, -1.0..10.0f64))), 0..40),
            q in (0.0..10.0f64, 0.0..10.0f64, 0.0..5.0f64, 0.0..5.0f64),
        ) {
            let mut cat = Catalog::new();
            cat.load(
                Collection::ProtectionTargets,
                initial.iter().enumerate().map(|(i, (x, y))| target(i, *x, *y)).collect(),
            );
            for (id, to) in edits {
                match to {
                    Some((x, y)) => {
                        cat.insert(target(id, x, y));
                    }
                    None => {
                        cat.remove(Collection::ProtectionTargets, &format!("t{id}"));
                    }
                }
            }
            let want = cat
                .iter(Collection::ProtectionTargets)
                .map(|f| f.bbox())
                .reduce(union);
            prop_assert_eq!(cat.extent(Collection::ProtectionTargets), want);
            let r = Rect::new((q.0, q.1), (q.0 + q.2, q.1 + q.3));
            let got: Vec<String> = cat
                .query_bbox(Collection::ProtectionTargets, r)
                .iter()
                .map(|f| f.id.clone())
                .collect();
            let brute: Vec<String> = cat
                .iter(Collection::ProtectionTargets)
                .filter(|f| f.geometry.intersects(&r))
                .map(|f| f.id.clone())
                .collect();
            prop_assert_eq!(got, brute);
        }
    }
}
