//! Row encoding: a [`Feature`] as (id, name, GeoJSON geometry, JSON properties).

use geo::Geometry;
use riskmap_core::{Collection, Feature, Record};
use serde_json::{Map, Value};

use crate::StoreError;

/// GeoJSON text of a geometry.
pub fn geometry_to_geojson(g: &Geometry<f64>) -> String {
    geojson::Geometry::new(geojson::GeometryValue::from(g)).to_string()
}

/// A geometry from GeoJSON text.
pub fn geometry_from_geojson(
    collection: Collection,
    id: &str,
    text: &str,
) -> Result<Geometry<f64>, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        collection,
        id: id.to_string(),
        message,
    };
    let g: geojson::Geometry = text
        .parse()
        .map_err(|e| corrupt(format!("geometry: {e}")))?;
    Geometry::<f64>::try_from(g).map_err(|e| corrupt(format!("geometry: {e}")))
}

/// JSON text of a feature's properties.
pub fn properties_json(feature: &Feature) -> Value {
    Value::Object(feature.record.to_properties())
}

/// Now, as the stores keep the last change time (`updated_at`): RFC 3339
/// UTC with milliseconds, e.g. `2026-12-07T06:24:13.123Z`. The same text on
/// both backends, so it compares as text in time order.
pub fn now_stamp() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The last change time to store for `feature`: its own (the server
/// stamps what it writes), else now.
pub fn updated_stamp(feature: &Feature) -> String {
    feature.updated.clone().unwrap_or_else(now_stamp)
}

/// Rebuilds a feature from its stored parts.
pub fn decode(
    collection: Collection,
    id: String,
    geometry: Geometry<f64>,
    properties: Value,
    updated: Option<String>,
) -> Result<Feature, StoreError> {
    let map = match properties {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let record =
        Record::from_trusted_properties(collection, map).map_err(|e| StoreError::Corrupt {
            collection,
            id: id.clone(),
            message: format!("properties: {e}"),
        })?;
    Ok(Feature {
        updated,
        id,
        geometry,
        record,
    })
}
