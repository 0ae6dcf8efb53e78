//! The in-memory catalogue (内存索引): every feature by collection, with an
//! R*-tree of bounding boxes. It serves all reads; the store stays the source
//! of truth and the catalogue is rebuilt from it at start and kept current on
//! every write.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use geo::{Intersects, Rect};
use riskmap_spatial::BBoxIndex;

use crate::model::{Collection, Feature};

/// One collection's features, ordered by id, with their bbox index.
#[derive(Debug, Default, Clone)]
struct Layer {
    features: BTreeMap<String, Arc<Feature>>,
    index: BBoxIndex<String>,
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
        let index = BBoxIndex::bulk_load(features.values().map(|f| (f.id.clone(), f.bbox())));
        self.layers.insert(collection, Layer { features, index });
    }

    /// Inserts or replaces a feature; returns the one it replaced.
    pub fn insert(&mut self, feature: Feature) -> Option<Arc<Feature>> {
        let layer = self.layers.entry(feature.collection()).or_default();
        let old = layer.features.remove(&feature.id);
        if let Some(old) = &old {
            layer.index.remove(&old.id, old.bbox());
        }
        layer.index.insert(feature.id.clone(), feature.bbox());
        layer.features.insert(feature.id.clone(), Arc::new(feature));
        old
    }

    /// Removes a feature; returns it if it was there.
    pub fn remove(&mut self, collection: Collection, id: &str) -> Option<Arc<Feature>> {
        let layer = self.layers.get_mut(&collection)?;
        let old = layer.features.remove(id)?;
        layer.index.remove(&old.id, old.bbox());
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
        let Some(layer) = self.layers.get(&collection) else {
            return Vec::new();
        };
        let mut ids: Vec<&String> = layer.index.query(bbox).collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| layer.features.get(id))
            .filter(|f| f.geometry.intersects(&bbox))
            .cloned()
            .collect()
    }

    /// The bounding box of a whole collection.
    pub fn extent(&self, collection: Collection) -> Option<Rect<f64>> {
        let mut it = self.iter(collection).map(|f| f.bbox());
        let first = it.next()?;
        Some(it.fold(first, |a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        }))
    }
}
