//! Vector tiles built in process from one [`crate::World`]: the point index
//! ([`TileIndex`]), rendering ([`crate::World::render_tile`], [`render`],
//! [`render_safety`]) and the tile cache ([`TileCache`]). Which tilesets
//! there are is [`crate::layers`]'; HTTP (TileJSON, the style, ETags) is the
//! server's.
//!
//! For the point-indexed tilesets (`enterprises`, `protection_targets`),
//! [`TileIndex`] keeps the collection's points in a [`PointPyramid`]
//! (点要素预聚合): low-zoom tiles read their aggregate cells from it,
//! high-zoom tiles read pre-projected points whose risk facts were looked up
//! once, and only the collection's other geometries go through the catalogue
//! per tile. [`crate::World::apply`] updates it ([`TileIndex::apply`]) and
//! returns the boxes whose tiles changed, which the cache purges.

use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::Arc;

use geo::{BoundingRect, Geometry, Intersects, Rect};
use riskmap_core::engine::{Changes, RiskState};
use riskmap_core::scoring::RiskLevel;
use riskmap_core::{Catalog, Collection, Feature, Record};
use riskmap_spatial::BBoxIndex;
use riskmap_tiles::{
    PointPyramid, PropRef, PropValue, TileCoord, TileFeature, TileItem, TileOptions, build_layer,
    build_layer_with_points, encode_tile,
};
use serde_json::Value;

pub use crate::layers::{TilesetSource, TilesetSpec, tileset_spec};

/// Why a tile could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No such tileset.
    #[error("no tileset {0:?}")]
    UnknownTileset(String),
    /// The encoder failed.
    #[error("tile encoding failed: {0}")]
    Encode(String),
}

/// Highest zoom served.
pub const MAX_ZOOM: u8 = 16;

/// Risk rank for the tile pipeline: 0 none, 1 blue … 4 red.
fn rank(level: Option<RiskLevel>) -> u8 {
    level.map_or(0, |l| l.index() as u8 + 1)
}

fn s(v: impl Into<String>) -> PropValue {
    PropValue::String(v.into())
}

/// What a feature's tile properties take from the risk engine and from
/// serialising its enumerations.
#[derive(Debug, Clone, Default, PartialEq)]
struct Facts {
    level: Option<RiskLevel>,
    score: Option<f64>,
    major_hazard_grade: Option<u8>,
    /// `category` (protection target), `kind` (park, rescue team) or
    /// `class` (shelter), as serialised.
    kind: Option<String>,
    /// Whether a hidden danger is overdue (超期) on the scoring date.
    overdue: Option<bool>,
}

impl Facts {
    fn of(risk: &RiskState, c: Collection, f: &Feature) -> Self {
        let mut facts = Self {
            level: risk.level(c, &f.id),
            ..Self::default()
        };
        match &f.record {
            Record::Enterprise(_) => {
                facts.score = risk.assessment(c, &f.id).and_then(|a| a.score);
                facts.major_hazard_grade = risk
                    .enterprises
                    .get(&f.id)
                    .and_then(|r| r.major_hazards.iter().filter_map(|h| h.grade).min());
            }
            Record::ProtectionTarget(t) => facts.kind = enum_name(&t.category),
            Record::Park(p) => facts.kind = enum_name(&p.kind),
            Record::HiddenDanger(h) => {
                facts.overdue = Some(riskmap_core::dangers::is_overdue(
                    riskmap_core::dangers::DangerRules::builtin(),
                    &h.status,
                    h.deadline.as_deref(),
                    &risk.config().today,
                ));
            }
            Record::RescueTeam(t) => facts.kind = enum_name(&t.kind),
            Record::Shelter(s) => facts.kind = enum_name(&s.class),
            Record::District(_) | Record::Pipeline(_) | Record::SupplyDepot(_) => {}
        }
        facts
    }
}

/// The serialised name of a unit enum variant (`"school"`).
fn enum_name(v: &impl serde::Serialize) -> Option<String> {
    serde_json::to_value(v).ok()?.as_str().map(str::to_owned)
}

/// The tile properties of a catalogue feature, in the order they are
/// written. The one definition for both the owned [`TileFeature`]s of
/// [`tile_features`] and the borrowed properties of indexed points.
fn for_each_property<'s>(
    f: &'s Feature,
    facts: &'s Facts,
    out: &mut dyn FnMut(&'s str, PropRef<'s>),
) {
    out("id", PropRef::String(&f.id));
    if let Some(n) = f.record.name() {
        out("name", PropRef::String(n));
    }
    if let Some(l) = facts.level {
        out("risk_level", PropRef::String(l.as_str()));
    }
    match &f.record {
        Record::Enterprise(e) => {
            if let Some(v) = facts.score {
                out("score", PropRef::Double(v));
            }
            for (k, v) in [
                ("industry", &e.industry),
                ("park_id", &e.park_id),
                ("district_code", &e.district_code),
            ] {
                if let Some(v) = v {
                    out(k, PropRef::String(v));
                }
            }
            if let Some(g) = facts.major_hazard_grade {
                out("major_hazard_grade", PropRef::Int(i64::from(g)));
            }
        }
        Record::ProtectionTarget(t) => {
            if let Some(k) = &facts.kind {
                out("category", PropRef::String(k));
            }
            if let Some(p) = t.population {
                out("population", PropRef::Int(i64::from(p)));
            }
        }
        Record::Park(_) => {
            if let Some(k) = &facts.kind {
                out("kind", PropRef::String(k));
            }
        }
        Record::District(d) => out("code", PropRef::String(&d.code)),
        Record::Pipeline(_) => {}
        Record::RescueTeam(t) => {
            if let Some(k) = &facts.kind {
                out("kind", PropRef::String(k));
            }
            if let Some(m) = t.members {
                out("members", PropRef::Int(i64::from(m)));
            }
            if let Some(m) = t.mobilisation_min {
                out("mobilisation_min", PropRef::Double(m));
            }
            resource_tail(t.district_code.as_deref(), t.sample, out);
        }
        Record::SupplyDepot(d) => {
            out("item_count", PropRef::Int(d.items.len() as i64));
            resource_tail(d.district_code.as_deref(), d.sample, out);
        }
        Record::Shelter(s) => {
            if let Some(k) = &facts.kind {
                out("class", PropRef::String(k));
            }
            out(
                "capacity_persons",
                PropRef::Int(i64::from(s.capacity_persons)),
            );
            if let Some(a) = s.area_m2 {
                out("area_m2", PropRef::Double(a));
            }
            resource_tail(s.district_code.as_deref(), s.sample, out);
        }
        Record::HiddenDanger(h) => {
            out("level", PropRef::String(h.level.as_str()));
            out("status", PropRef::String(&h.status));
            if let Some(o) = facts.overdue {
                out("overdue", PropRef::Bool(o));
            }
            for (k, v) in [
                ("enterprise_id", &h.enterprise_id),
                ("rule_item", &h.rule_item),
                ("district_code", &h.district_code),
            ] {
                if let Some(v) = v {
                    out(k, PropRef::String(v));
                }
            }
        }
    }
}

/// The district and sample mark of an emergency resource's tile properties.
fn resource_tail<'s>(
    district_code: Option<&'s str>,
    sample: Option<bool>,
    out: &mut dyn FnMut(&'s str, PropRef<'s>),
) {
    if let Some(d) = district_code {
        out("district_code", PropRef::String(d));
    }
    if let Some(b) = sample {
        out("sample", PropRef::Bool(b));
    }
}

/// A catalogue feature as the tile pipeline's input.
fn tile_feature(f: &Feature, facts: &Facts) -> TileFeature {
    let mut properties = Vec::new();
    for_each_property(f, facts, &mut |k, v| {
        properties.push((k.to_owned(), PropValue::from(v)));
    });
    TileFeature {
        id: f.id.clone(),
        geometry: f.geometry.clone(),
        rank: rank(facts.level),
        properties,
    }
}

/// Features of a tileset meeting `bbox`, ready for the tile pipeline.
pub fn tile_features(
    cat: &Catalog,
    risk: &RiskState,
    tileset: &str,
    bbox: Rect<f64>,
) -> Option<Vec<TileFeature>> {
    let level_props = |l: Option<RiskLevel>| -> Vec<(String, PropValue)> {
        l.map(|l| vec![("risk_level".to_string(), s(l.as_str()))])
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    match tileset_spec(tileset)?.source {
        TilesetSource::Collection(c) => {
            for f in cat.query_bbox(c, bbox) {
                out.push(tile_feature(&f, &Facts::of(risk, c, &f)));
            }
        }
        TilesetSource::PipelineSegments => {
            for f in cat.query_bbox(Collection::Pipelines, bbox) {
                let Record::Pipeline(p) = &f.record else {
                    continue;
                };
                let Some(r) = risk.pipelines.get(&f.id) else {
                    continue;
                };
                for seg in &r.segments {
                    let g = Geometry::LineString(seg.geometry.clone());
                    if !g.intersects(&bbox) {
                        continue;
                    }
                    let level = Some(seg.assessment.risk_level);
                    let mut props = vec![
                        ("id".to_string(), s(format!("{}#{}", f.id, seg.index))),
                        ("pipeline_id".into(), s(f.id.clone())),
                        ("name".into(), s(p.name.clone())),
                        ("segment".into(), PropValue::Int(seg.index as i64)),
                        ("kind".into(), s(enum_name(&p.kind)?)),
                        ("diameter_mm".into(), PropValue::Double(p.diameter_mm)),
                        ("maop_mpa".into(), PropValue::Double(p.maop_mpa)),
                    ];
                    props.extend(level_props(level));
                    out.push(TileFeature {
                        id: format!("{}#{}", f.id, seg.index),
                        geometry: g,
                        rank: rank(level),
                        properties: props,
                    });
                }
            }
        }
        // Drawn from the safety assessment: see [`render_safety`].
        TilesetSource::SafetyZones | TilesetSource::Violations => return None,
        TilesetSource::RiskGrid => {
            for c in risk.cells() {
                let g = Geometry::Polygon(c.geometry.clone());
                if !g.bounding_rect().is_some_and(|r| r.intersects(&bbox)) || !g.intersects(&bbox) {
                    continue;
                }
                let mut props = vec![("id".to_string(), s(c.id.clone()))];
                props.extend(level_props(Some(c.risk_level)));
                props.push(("count_red".into(), PropValue::Int(i64::from(c.counts[3]))));
                props.push((
                    "count_orange".into(),
                    PropValue::Int(i64::from(c.counts[2])),
                ));
                props.push((
                    "count_yellow".into(),
                    PropValue::Int(i64::from(c.counts[1])),
                ));
                props.push(("count_blue".into(), PropValue::Int(i64::from(c.counts[0]))));
                props.push(("weighted_level".into(), s(c.weighted_level.as_str())));
                out.push(TileFeature {
                    id: c.id.clone(),
                    geometry: g,
                    rank: rank(Some(c.risk_level)),
                    properties: props,
                });
            }
        }
    }
    Some(out)
}

/// Keys [`for_each_property`] writes, so that a [`PointItem`] stores a
/// key as one byte.
const PROPERTY_KEYS: [&str; 12] = [
    "id",
    "name",
    "risk_level",
    "score",
    "industry",
    "park_id",
    "district_code",
    "major_hazard_grade",
    "category",
    "population",
    "kind",
    "code",
];

/// A point of a [`TileIndex`] (紧凑属性): its rank and its tile properties,
/// encoded once — when the point enters the index — into one allocation
/// (per property: key byte, type byte, value; strings inline, the id
/// first). Drawing a tile then reads each point's properties from one place
/// (allocated in cell order when the index is built) instead of following
/// the catalogue's feature and its strings all over memory, and looks
/// nothing up in the risk engine.
#[derive(Debug, Clone)]
struct PointItem {
    rank: u8,
    props: Box<[u8]>,
}

const STRING: u8 = 0;
const INT: u8 = 1;
const DOUBLE: u8 = 2;
const BOOL: u8 = 3;

impl PointItem {
    fn new(f: &Feature, facts: &Facts) -> Self {
        let mut b: Vec<u8> = Vec::with_capacity(96);
        for_each_property(f, facts, &mut |k, v| {
            let Some(key) = PROPERTY_KEYS.iter().position(|x| *x == k) else {
                debug_assert!(
                    PROPERTY_KEYS.contains(&k),
                    "property {k} missing from PROPERTY_KEYS"
                );
                return;
            };
            b.push(key as u8);
            match v {
                PropRef::String(s) => {
                    b.push(STRING);
                    b.extend_from_slice(&u32::try_from(s.len()).unwrap_or(0).to_le_bytes());
                    if s.len() <= u32::MAX as usize {
                        b.extend_from_slice(s.as_bytes());
                    }
                }
                PropRef::Int(v) => {
                    b.push(INT);
                    b.extend_from_slice(&v.to_le_bytes());
                }
                PropRef::Double(v) => {
                    b.push(DOUBLE);
                    b.extend_from_slice(&v.to_le_bytes());
                }
                PropRef::Bool(v) => {
                    b.push(BOOL);
                    b.push(u8::from(v));
                }
            }
        });
        Self {
            rank: rank(facts.level),
            props: b.into_boxed_slice(),
        }
    }

    /// Decodes the properties, in order; stops at anything malformed (never
    /// written by [`PointItem::new`]).
    fn decode<'s>(&'s self, f: &mut dyn FnMut(&'s str, PropRef<'s>)) {
        let b: &'s [u8] = &self.props;
        let mut at = 0;
        let eight = |at: usize| -> Option<[u8; 8]> { b.get(at..at + 8)?.try_into().ok() };
        while let (Some(&key), Some(&kind)) = (b.get(at), b.get(at + 1)) {
            let Some(&k) = PROPERTY_KEYS.get(usize::from(key)) else {
                return;
            };
            at += 2;
            let v = match kind {
                STRING => {
                    let Some(len) = b
                        .get(at..at + 4)
                        .and_then(|l| l.try_into().ok())
                        .map(|l| u32::from_le_bytes(l) as usize)
                    else {
                        return;
                    };
                    let Some(Ok(s)) = b.get(at + 4..at + 4 + len).map(std::str::from_utf8) else {
                        return;
                    };
                    at += 4 + len;
                    PropRef::String(s)
                }
                INT | DOUBLE => {
                    let Some(v) = eight(at) else { return };
                    at += 8;
                    if kind == INT {
                        PropRef::Int(i64::from_le_bytes(v))
                    } else {
                        PropRef::Double(f64::from_le_bytes(v))
                    }
                }
                BOOL => {
                    let Some(&v) = b.get(at) else { return };
                    at += 1;
                    PropRef::Bool(v != 0)
                }
                _ => return,
            };
            f(k, v);
        }
    }
}

impl TileItem for PointItem {
    fn id(&self) -> &str {
        // The id is the first property, a string.
        let mut id = "";
        let b = &self.props;
        if b.get(1) == Some(&STRING)
            && let Some(len) = b.get(2..6).and_then(|l| l.try_into().ok())
        {
            let len = u32::from_le_bytes(len) as usize;
            id = b
                .get(6..6 + len)
                .and_then(|s| std::str::from_utf8(s).ok())
                .unwrap_or("");
        }
        id
    }

    fn rank(&self) -> u8 {
        self.rank
    }

    fn for_each_property<'s>(&'s self, f: &mut dyn FnMut(&'s str, PropRef<'s>)) {
        self.decode(f);
    }

    fn has_id_property(&self) -> bool {
        true
    }
}

/// The index of one point-indexed tileset.
#[derive(Debug, Clone)]
struct PointSet {
    tileset: &'static str,
    collection: Collection,
    /// The collection's `Point` features.
    points: PointPyramid<PointItem>,
    /// Ids of its other features (polygons, lines, multi-points), by box.
    others: BBoxIndex<String>,
}

impl PointSet {
    fn remove(&mut self, f: &Feature) {
        match &f.geometry {
            Geometry::Point(p) => {
                self.points.remove(p.x(), p.y(), &f.id);
            }
            _ => {
                self.others.remove(&f.id, f.bbox());
            }
        }
    }

    fn add(&mut self, f: &Feature, facts: &Facts) {
        match f.geometry {
            Geometry::Point(p) => {
                if let Err(e) = self.points.insert(p.x(), p.y(), PointItem::new(f, facts)) {
                    tracing::error!(tileset = self.tileset, id = f.id, "tile index: {e}");
                }
            }
            _ => self.others.insert(f.id.clone(), f.bbox()),
        }
    }

    /// The collection's non-point features meeting `bbox`, in id order.
    fn other_features(&self, cat: &Catalog, risk: &RiskState, bbox: Rect<f64>) -> Vec<TileFeature> {
        let mut ids: Vec<&String> = self.others.query(bbox).collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| cat.get(self.collection, id))
            .filter(|f| f.geometry.intersects(&bbox))
            .map(|f| tile_feature(f, &Facts::of(risk, self.collection, f)))
            .collect()
    }
}

/// What makes tiles cheap (瓦片预聚合索引): for each point-indexed tileset
/// ([`TilesetSpec::point_index`]), the collection's points in a
/// [`PointPyramid`] (aggregate cells of every zoom below the aggregation
/// zoom, pre-projected points with their risk facts above it) and the ids of
/// its other features.
///
/// **Invariant:** after [`TileIndex::build`] and after each
/// [`TileIndex::apply`], every indexed point is exactly the catalogue's
/// feature with the risk engine's current facts, and the tiles it renders
/// equal the tiles built from the catalogue ([`tile_features`] then
/// [`build_layer`]).
#[derive(Debug, Clone)]
pub struct TileIndex {
    opts: TileOptions,
    sets: Vec<PointSet>,
}

impl TileIndex {
    /// Indexes every point-indexed tileset for tiles built with `opts`.
    /// When a [`PointPyramid`] cannot serve `opts`, the index is empty and
    /// every tile is built from the catalogue.
    pub fn build(cat: &Catalog, risk: &RiskState, opts: &TileOptions) -> Self {
        let mut index = Self {
            opts: opts.clone(),
            sets: Vec::new(),
        };
        for spec in crate::layers::tilesets().filter(|s| s.point_index) {
            let TilesetSource::Collection(collection) = spec.source else {
                continue;
            };
            let Ok(points) = PointPyramid::new(opts) else {
                return index;
            };
            let mut set = PointSet {
                tileset: spec.name,
                collection,
                points,
                others: BBoxIndex::default(),
            };
            let mut points = Vec::new();
            let mut others = Vec::new();
            for f in cat.iter(collection) {
                match f.geometry {
                    Geometry::Point(p) => points.push((p.x(), p.y(), f)),
                    _ => others.push((f.id.clone(), f.bbox())),
                }
            }
            // Items made in cell order, so that neighbours' properties are
            // neighbours in memory.
            let made = set.points.extend_with(points, |f| {
                PointItem::new(f, &Facts::of(risk, collection, f))
            });
            if let Err(e) = made {
                tracing::error!(tileset = spec.name, "tile index: {e}");
            }
            set.others = BBoxIndex::bulk_load(others);
            index.sets.push(set);
        }
        index
    }

    /// The tile options the index was built for.
    pub fn options(&self) -> &TileOptions {
        &self.opts
    }

    /// Points indexed, over all tilesets.
    pub fn points(&self) -> usize {
        self.sets.iter().map(|s| s.points.len()).sum()
    }

    /// Aggregate cells kept, over all tilesets and zooms.
    pub fn cells(&self) -> usize {
        self.sets.iter().map(|s| s.points.cells()).sum()
    }

    fn set(&self, tileset: &str) -> Option<&PointSet> {
        self.sets.iter().find(|s| s.tileset == tileset)
    }

    /// Brings one feature up to date: drops its entry as it was (`old`, the
    /// feature an edit replaced or deleted, or else the catalogue's current
    /// one) and adds the catalogue's current feature with its current facts.
    pub fn update(
        &mut self,
        cat: &Catalog,
        risk: &RiskState,
        collection: Collection,
        id: &str,
        old: Option<&Feature>,
    ) {
        let current = cat.get(collection, id);
        for set in self.sets.iter_mut().filter(|s| s.collection == collection) {
            if let Some(old) = old {
                set.remove(old);
            }
            if let Some(f) = current {
                set.remove(f);
                set.add(f, &Facts::of(risk, collection, f));
            }
        }
    }

    /// After a write: updates the edited features of `collection` (with the
    /// features they replaced) and every feature the rescoring changed.
    pub fn apply(
        &mut self,
        cat: &Catalog,
        risk: &RiskState,
        collection: Collection,
        edited: &[(String, Option<Arc<Feature>>)],
        changes: &Changes,
    ) {
        for (id, old) in edited {
            self.update(cat, risk, collection, id, old.as_deref());
        }
        for (c, id) in &changes.features {
            self.update(cat, risk, *c, id, None);
        }
    }
}

fn prop_of(v: &Value) -> Option<PropValue> {
    match v {
        Value::String(s) => Some(PropValue::String(s.clone())),
        Value::Bool(b) => Some(PropValue::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(PropValue::Int)
            .or_else(|| n.as_f64().map(PropValue::Double)),
        Value::Array(a) => Some(PropValue::String(
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(","),
        )),
        _ => None,
    }
}

fn safety_feature(id: &str, geometry: Geometry<f64>, props: &Value, rank: u8) -> TileFeature {
    let mut properties = vec![("id".to_string(), s(id))];
    if let Some(m) = props.as_object() {
        properties.extend(
            m.iter()
                .filter_map(|(k, v)| prop_of(v).map(|p| (k.clone(), p))),
        );
    }
    TileFeature {
        id: id.to_string(),
        geometry,
        rank,
        properties,
    }
}

/// Features of a safety tileset meeting `bbox`. Governing zones and
/// violations rank above the rest, so the byte budget drops context first.
pub fn safety_tile_features(
    safety: &riskmap_safety::site::SafetyState,
    tileset: &str,
    bbox: Rect<f64>,
) -> Option<Vec<TileFeature>> {
    let mut out = Vec::new();
    match tileset {
        "safety_zones" => {
            for z in safety.zones() {
                if !z
                    .geometry
                    .bounding_rect()
                    .is_some_and(|r| r.intersects(&bbox))
                {
                    continue;
                }
                let rank = if z.governing {
                    4
                } else if z.classes.is_empty() {
                    1
                } else {
                    2
                };
                out.push(safety_feature(
                    &z.id,
                    Geometry::MultiPolygon(z.geometry.clone()),
                    &crate::properties::zone_properties(z),
                    rank,
                ));
            }
        }
        "violations" => {
            for v in safety.violations() {
                if !v.point.intersects(&bbox) {
                    continue;
                }
                out.push(safety_feature(
                    &v.id,
                    Geometry::Point(v.point),
                    &crate::properties::violation_properties(v),
                    4,
                ));
            }
        }
        _ => return None,
    }
    Some(out)
}

/// Builds one tile of a safety tileset.
pub fn render_safety(
    safety: &riskmap_safety::site::SafetyState,
    tileset: &str,
    t: TileCoord,
    opts: &TileOptions,
) -> Result<Vec<u8>, RenderError> {
    let bbox = t.buffered_bounds_lonlat(opts.extent, opts.buffer);
    let internal = |e: riskmap_tiles::TileError| RenderError::Encode(e.to_string());
    let features = safety_tile_features(safety, tileset, bbox)
        .ok_or_else(|| RenderError::UnknownTileset(tileset.to_string()))?;
    let refs: Vec<&TileFeature> = features.iter().collect();
    let layer = build_layer(tileset, &refs, t, opts).map_err(internal)?;
    encode_tile(&[layer]).map_err(internal)
}

/// One tile of a stored collection's tileset with only the features
/// `keep` admits (a CQL2 filter on tiles): drawn from the catalogue, not
/// the point pyramid, and never cached. `None` when the tileset is not
/// a stored collection's.
pub fn render_where(
    cat: &Catalog,
    risk: &RiskState,
    tileset: &str,
    t: TileCoord,
    opts: &TileOptions,
    keep: &dyn Fn(&Feature) -> bool,
) -> Option<Result<Vec<u8>, RenderError>> {
    let TilesetSource::Collection(c) = tileset_spec(tileset)?.source else {
        return None;
    };
    let bbox = t.buffered_bounds_lonlat(opts.extent, opts.buffer);
    let internal = |e: riskmap_tiles::TileError| RenderError::Encode(e.to_string());
    let features: Vec<TileFeature> = cat
        .query_bbox(c, bbox)
        .into_iter()
        .filter(|f| keep(f))
        .map(|f| tile_feature(&f, &Facts::of(risk, c, &f)))
        .collect();
    let refs: Vec<&TileFeature> = features.iter().collect();
    Some(
        build_layer(tileset, &refs, t, opts)
            .map_err(internal)
            .and_then(|layer| encode_tile(&[layer]).map_err(internal)),
    )
}

/// TileJSON of a safety tileset.
/// tileset for `opts`, else from the catalogue (the same bytes either way).
pub fn render(
    cat: &Catalog,
    risk: &RiskState,
    index: &TileIndex,
    tileset: &str,
    t: TileCoord,
    opts: &TileOptions,
) -> Result<Vec<u8>, RenderError> {
    let bbox = t.buffered_bounds_lonlat(opts.extent, opts.buffer);
    let internal = |e: riskmap_tiles::TileError| RenderError::Encode(e.to_string());
    let layer = match index.set(tileset).filter(|s| s.points.supports(opts)) {
        Some(set) => {
            let others = set.other_features(cat, risk, bbox);
            let refs: Vec<&TileFeature> = others.iter().collect();
            build_layer_with_points(tileset, &refs, &set.points, t, opts).map_err(internal)?
        }
        None => {
            let features = tile_features(cat, risk, tileset, bbox)
                .ok_or_else(|| RenderError::UnknownTileset(tileset.to_string()))?;
            let refs: Vec<&TileFeature> = features.iter().collect();
            build_layer(tileset, &refs, t, opts).map_err(internal)?
        }
    };
    encode_tile(&[layer]).map_err(internal)
}

/// A cached tile.
#[derive(Debug, Clone)]
pub struct CachedTile {
    /// MVT bytes (uncompressed; compression is negotiated per response).
    pub bytes: Arc<Vec<u8>>,
    /// Strong validator.
    pub etag: String,
    /// Buffered bounds, for invalidation.
    pub bounds: Rect<f64>,
}

impl CachedTile {
    /// A rendered tile with its validator and bounds.
    pub fn new(bytes: Vec<u8>, t: TileCoord, opts: &TileOptions) -> Self {
        Self {
            etag: etag_of(&bytes),
            bytes: Arc::new(bytes),
            bounds: t.buffered_bounds_lonlat(opts.extent, opts.buffer),
        }
    }
}

/// Purges remembered, so that a tile rendered from an older world is not
/// cached after a newer world purged its place.
const PURGE_LOG: usize = 256;

/// The tile cache: an LRU keyed by tileset and z/x/y.
///
/// Readers render from a snapshot of the world ([`crate::World::version`])
/// without holding any lock, so a tile may be finished after a newer world
/// was published and its boxes purged. [`TileCache::put`] therefore takes
/// the version the tile was rendered from and refuses it when a later purge
/// met its bounds (or when the log no longer reaches back that far): no tile
/// is cached stale.
pub struct TileCache {
    lru: lru::LruCache<(String, TileCoord), CachedTile>,
    /// The latest version purged.
    version: u64,
    /// Recent purges: (version, boxes), `None` for "everything".
    log: std::collections::VecDeque<(u64, Option<Vec<Rect<f64>>>)>,
}

impl TileCache {
    /// A cache of `capacity` tiles.
    pub fn new(capacity: usize) -> Self {
        Self {
            lru: lru::LruCache::new(
                NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN),
            ),
            version: 0,
            log: std::collections::VecDeque::new(),
        }
    }

    /// A cached tile.
    pub fn get(&mut self, tileset: &str, t: TileCoord) -> Option<CachedTile> {
        self.lru.get(&(tileset.to_string(), t)).cloned()
    }

    /// Stores a tile rendered from the world of `version`; returns whether
    /// it was kept (a later purge meeting its bounds refuses it).
    pub fn put(&mut self, tileset: &str, t: TileCoord, tile: CachedTile, version: u64) -> bool {
        if version < self.version {
            let covered = self.log.front().is_some_and(|(v, _)| *v <= version + 1);
            let met = self.log.iter().filter(|(v, _)| *v > version).any(|(_, b)| {
                b.as_ref()
                    .is_none_or(|b| b.iter().any(|b| b.intersects(&tile.bounds)))
            });
            if !covered || met {
                return false;
            }
        }
        self.lru.put((tileset.to_string(), t), tile);
        true
    }

    /// Drops every cached tile whose buffered bounds meet one of `boxes`
    /// (every tile when `boxes` is `None`), as of the world of `version`;
    /// returns how many.
    pub fn purge(&mut self, boxes: Option<&[Rect<f64>]>, version: u64) -> usize {
        self.version = self.version.max(version);
        self.log
            .push_back((version, boxes.map(<[Rect<f64>]>::to_vec)));
        while self.log.len() > PURGE_LOG {
            self.log.pop_front();
        }
        let Some(boxes) = boxes else {
            let n = self.lru.len();
            self.lru.clear();
            return n;
        };
        let stale: Vec<(String, TileCoord)> = self
            .lru
            .iter()
            .filter(|(_, v)| boxes.iter().any(|b| b.intersects(&v.bounds)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &stale {
            self.lru.pop(k);
        }
        stale.len()
    }

    /// Number of cached tiles.
    pub fn len(&self) -> usize {
        self.lru.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.lru.is_empty()
    }
}

/// A strong validator of tile bytes.
pub fn etag_of(bytes: &[u8]) -> String {
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("\"{:016x}-{}\"", h.finish(), bytes.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use riskmap_core::engine::{Edit, EngineConfig};
    use riskmap_core::import::parse_geojson;
    use riskmap_core::scoring::Rules;
    use riskmap_spatial::Crs;
    use serde_json::json;

    fn demo(c: Collection) -> Vec<Feature> {
        let text = match c {
            Collection::Enterprises => include_str!("../../../data/demo/enterprises.geojson"),
            Collection::ProtectionTargets => {
                include_str!("../../../data/demo/protection_targets.geojson")
            }
            _ => unreachable!(),
        };
        parse_geojson(c, text, Crs::Wgs84).unwrap()
    }

    /// A storage enterprise holding `t` tonnes of liquid chlorine; above
    /// 1000 t it also had a major accident (then it is red).
    fn enterprise(id: &str, lon: f64, lat: f64, t: f64) -> Feature {
        let accidents = if t > 1000.0 {
            json!([{"date": "2025-02-01", "severity": "major", "deaths": 12}])
        } else {
            json!([])
        };
        let doc = json!({"type": "Feature", "id": id,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": format!("测试企业 {id}"), "industry": "化工",
                "employees": 100, "standardization_level": 2, "accidents": accidents,
                "installation": "existing",
                "units": [{"id": format!("{id}-T1"), "kind": "storage",
                    "substances": [{"name": "液氯", "cas": "7782-50-5", "quantity_t": t}]}]}});
        parse_geojson(Collection::Enterprises, &doc.to_string(), Crs::Wgs84)
            .unwrap()
            .remove(0)
    }

    /// The demo enterprises and targets plus 1,500 dense synthetic points
    /// (some on top of each other) with varied inventories.
    fn catalog() -> Catalog {
        let mut ents = demo(Collection::Enterprises);
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for i in 0..1500 {
            let (lon, lat) = if i % 50 == 0 {
                (120.31, 30.29)
            } else {
                (120.2 + 0.4 * next() * next(), 30.2 + 0.2 * next())
            };
            ents.push(enterprise(&format!("S{i:04}"), lon, lat, 80.0 * next()));
        }
        let mut cat = Catalog::new();
        cat.load(Collection::Enterprises, ents);
        cat.load(
            Collection::ProtectionTargets,
            demo(Collection::ProtectionTargets),
        );
        cat
    }

    fn tiles(cat: &Catalog) -> Vec<TileCoord> {
        let mut out = Vec::new();
        let sample: Vec<(f64, f64)> = cat
            .iter(Collection::Enterprises)
            .step_by(97)
            .map(|f| {
                let c = f.bbox().center();
                (c.x, c.y)
            })
            .collect();
        for z in 0..=MAX_ZOOM {
            for &(lon, lat) in &sample {
                let t = TileCoord::from_lonlat(lon, lat, z);
                out.push(t);
                if let Ok(n) = TileCoord::new(z, t.x + 1, t.y) {
                    out.push(n);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Tiles from the index equal tiles from the catalogue, at every zoom
    /// and with a budget that drops features, for every point-indexed tileset.
    fn assert_same(cat: &Catalog, risk: &RiskState, index: &TileIndex, tiles: &[TileCoord]) {
        let none = TileIndex::build(
            cat,
            risk,
            &TileOptions {
                extent: 4000,
                ..TileOptions::default()
            },
        );
        assert_eq!(none.points(), 0, "no pyramid for a 4000 extent");
        for opts in [
            TileOptions::default(),
            TileOptions {
                byte_budget: 6_000,
                ..TileOptions::default()
            },
        ] {
            for ts in crate::layers::tilesets().filter(|s| s.point_index) {
                for &t in tiles {
                    let got = render(cat, risk, index, ts.name, t, &opts).unwrap();
                    let want = render(cat, risk, &none, ts.name, t, &opts).unwrap();
                    assert_eq!(got, want, "{} {t} budget {}", ts.name, opts.byte_budget);
                }
            }
        }
    }

    #[test]
    fn the_index_draws_what_the_catalogue_draws_before_and_after_edits() {
        let rules = Rules::builtin();
        let mut cat = catalog();
        let mut risk = RiskState::compute(&cat, rules, EngineConfig::new("2026-11-23", rules));
        let mut index = TileIndex::build(&cat, &risk, &TileOptions::default());
        assert!(index.points() > 1500 && index.cells() > 0);
        let tiles = tiles(&cat);
        assert_same(&cat, &risk, &index, &tiles);

        // Edits as World::apply makes them: a point
        // made red, one moved, one turned into a polygon, one new, one
        // deleted, and a protection target (which rescores enterprises).
        let mut edits: Vec<Feature> = vec![
            enterprise("S0003", 120.33, 30.25, 5000.0),
            enterprise("S0004", 120.5, 30.35, 1.0),
            enterprise("S9999", 120.31, 30.29, 300.0),
        ];
        let mut poly = enterprise("S0005", 0.0, 0.0, 10.0);
        poly.geometry = geo::Polygon::new(
            geo::LineString::from(vec![
                (120.30, 30.30),
                (120.301, 30.30),
                (120.301, 30.301),
                (120.30, 30.30),
            ]),
            vec![],
        )
        .into();
        edits.push(poly);
        for f in edits {
            let (c, id, new_bbox) = (f.collection(), f.id.clone(), f.bbox());
            let old = cat.insert(f);
            let edit = Edit {
                collection: c,
                id: id.clone(),
                old_bbox: old.as_ref().map(|o| o.bbox()),
                new_bbox: Some(new_bbox),
            };
            let changes = risk.update(&cat, rules, &edit);
            index.apply(&cat, &risk, c, &[(id, old)], &changes);
        }
        let target = cat
            .iter(Collection::ProtectionTargets)
            .next()
            .unwrap()
            .clone();
        for (c, id) in [
            (Collection::Enterprises, "S0006".to_string()),
            (Collection::ProtectionTargets, target.id.clone()),
        ] {
            let old = cat.remove(c, &id).unwrap();
            let edit = Edit {
                collection: c,
                id: id.clone(),
                old_bbox: Some(old.bbox()),
                new_bbox: None,
            };
            let changes = risk.update(&cat, rules, &edit);
            index.apply(&cat, &risk, c, &[(id, Some(old))], &changes);
        }
        assert_eq!(
            risk.level(Collection::Enterprises, "S0003"),
            Some(RiskLevel::Red),
            "the edit made S0003 red"
        );
        assert_same(&cat, &risk, &index, &tiles);
        // And the index equals one built from scratch.
        let fresh = TileIndex::build(&cat, &risk, &TileOptions::default());
        assert_eq!(
            (index.points(), index.cells()),
            (fresh.points(), fresh.cells())
        );
    }
}
