//! Derived, read-only collections: `risk_grid` (the four-colour grid, 四色图
//! 网格) and `pipeline_segments` (pipelines cut into segments with their HCA
//! level), computed by the risk engine; `safety_zones` (外部安全防护区) and
//! `violations` (targets inside a zone that protects their class), computed
//! by [`riskmap_safety::site::SafetyState`]. Never stored.

use axum::response::Response;
use geo::{Geometry, Intersects, Rect};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ogc::{CRS84, EPSG_4326, EPSG_4490, GEOJSON, OutputCrs, geojson_response};
use riskmap_world::World;
pub use riskmap_world::layers::Derived;
pub use riskmap_world::properties::{violation_properties, zone_properties};

/// The collection document.
pub fn doc(world: &World, d: Derived, base: &str) -> Value {
    let (_, all) = collect(world, d, None);
    let extent = all
        .iter()
        .filter_map(|(_, g, _)| geo::BoundingRect::bounding_rect(g))
        .reduce(|a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        });
    let mut doc = json!({
        "id": d.as_str(),
        "title": d.title(),
        "itemType": "feature",
        "crs": [CRS84, EPSG_4326, EPSG_4490],
        "storageCrs": CRS84,
        "derived": true,
        "links": [
            {"href": format!("{base}/collections/{}", d.as_str()), "rel": "self", "type": "application/json"},
            {"href": format!("{base}/collections/{}/items", d.as_str()), "rel": "items", "type": GEOJSON},
        ]
    });
    if let Some(r) = extent {
        doc["extent"] = json!({"spatial": {"bbox": [[r.min().x, r.min().y, r.max().x, r.max().y]], "crs": CRS84}});
    }
    doc
}

/// (id, geometry, properties) of every feature meeting `bbox`, ordered by id.
fn collect(
    world: &World,
    d: Derived,
    bbox: Option<Rect<f64>>,
) -> (usize, Vec<(String, Geometry<f64>, Value)>) {
    let risk = &world.risk;
    let keep = |g: &Geometry<f64>| bbox.is_none_or(|b| g.intersects(&b));
    let mut out = Vec::new();
    match d {
        Derived::RiskGrid => {
            for c in risk.cells() {
                let g = Geometry::Polygon(c.geometry.clone());
                if keep(&g) {
                    out.push((
                        c.id.clone(),
                        g,
                        json!({
                            "risk_level": c.risk_level,
                            "weighted_index": c.weighted_index,
                            "weighted_level": c.weighted_level,
                            "count_blue": c.counts[0], "count_yellow": c.counts[1],
                            "count_orange": c.counts[2], "count_red": c.counts[3],
                            "set_by": c.set_by,
                            "sources": c.sources.len(),
                            "cell_size_m": risk.config().cell_size_m,
                            "risk_model": "grid-max",
                        }),
                    ));
                }
            }
        }
        Derived::PipelineSegments => {
            let cat = &world.catalog;
            for (id, p) in &risk.pipelines {
                let name = cat
                    .get(riskmap_core::Collection::Pipelines, id)
                    .and_then(|f| f.record.name().map(str::to_string));
                for s in &p.segments {
                    let g = Geometry::LineString(s.geometry.clone());
                    if keep(&g) {
                        out.push((
                            format!("{id}#{}", s.index),
                            g,
                            json!({
                                "pipeline_id": id, "name": name, "segment": s.index,
                                "from_m": s.from_m, "to_m": s.to_m,
                                "risk_level": s.assessment.risk_level,
                                "risk_model": s.assessment.model.id,
                            }),
                        ));
                    }
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Derived::SafetyZones => {
            let safety = &world.safety;
            for z in safety.zones() {
                let g = Geometry::MultiPolygon(z.geometry.clone());
                if keep(&g) {
                    out.push((z.id.clone(), g, zone_properties(z)));
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Derived::Violations => {
            let safety = &world.safety;
            for v in safety.violations() {
                let g = Geometry::Point(v.point);
                if keep(&g) {
                    out.push((v.id.clone(), g, violation_properties(v)));
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }
    (out.len(), out)
}

fn feature(
    d: Derived,
    id: &str,
    g: &Geometry<f64>,
    props: Value,
    crs: OutputCrs,
    base: &str,
) -> Value {
    json!({
        "type": "Feature",
        "id": id,
        "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&crs.geometry(g))),
        "properties": props,
        "links": [{"href": format!("{base}/collections/{}/items/{}", d.as_str(), crate::ogc::path_segment(id)), "rel": "self", "type": GEOJSON}],
    })
}

/// One page of items.
pub(crate) fn items(
    world: &World,
    d: Derived,
    bbox: Option<Rect<f64>>,
    offset: usize,
    limit: usize,
    crs: OutputCrs,
    base: &str,
) -> (usize, Vec<Value>) {
    let (matched, all) = collect(world, d, bbox);
    let page = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(id, g, p)| feature(d, &id, &g, p, crs, base))
        .collect();
    (matched, page)
}

/// One item.
pub(crate) fn item(
    world: &World,
    d: Derived,
    id: &str,
    crs: OutputCrs,
    base: &str,
) -> Result<Response, ApiError> {
    let (_, all) = collect(world, d, None);
    let (fid, g, p) = all
        .into_iter()
        .find(|(fid, _, _)| fid == id)
        .ok_or_else(|| ApiError::NotFound(format!("no feature {id:?} in {}", d.as_str())))?;
    Ok(geojson_response(feature(d, &fid, &g, p, crs, base), crs))
}
