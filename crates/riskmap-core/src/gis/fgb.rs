//! FlatGeobuf into a [`Layer`] (the `flatgeobuf` crate, read from memory):
//! the header's columns are the fields, each feature's typed properties the
//! cells, its geometry (through `geo-traits`) the record's geometry, and the
//! header's CRS (an EPSG code riskmap knows, or its WKT) the layer's.

use std::io::Cursor;

use flatgeobuf::{FallibleStreamingIterator, FgbReader, GeometryType};
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor};
use riskmap_spatial::Crs;

use crate::import::{Cell, ImportErrors, Layer, LayerRecord};

fn file_error(message: impl Into<String>) -> ImportErrors {
    ImportErrors::file("(fgb)", message)
}

/// The simple feature types riskmap reads (curves and surfaces are refused).
fn simple(t: GeometryType) -> bool {
    matches!(
        t,
        GeometryType::Point
            | GeometryType::LineString
            | GeometryType::Polygon
            | GeometryType::MultiPoint
            | GeometryType::MultiLineString
            | GeometryType::MultiPolygon
    )
}

/// Collects one feature's properties into cells by column index.
struct Cells<'a>(&'a mut Vec<Cell>);

impl PropertyProcessor for Cells<'_> {
    fn property(
        &mut self,
        i: usize,
        _name: &str,
        value: &ColumnValue,
    ) -> geozero::error::Result<bool> {
        let cell = match value {
            ColumnValue::Byte(v) => Cell::Number(f64::from(*v)),
            ColumnValue::UByte(v) => Cell::Number(f64::from(*v)),
            ColumnValue::Bool(v) => Cell::Bool(*v),
            ColumnValue::Short(v) => Cell::Number(f64::from(*v)),
            ColumnValue::UShort(v) => Cell::Number(f64::from(*v)),
            ColumnValue::Int(v) => Cell::Number(f64::from(*v)),
            ColumnValue::UInt(v) => Cell::Number(f64::from(*v)),
            ColumnValue::Long(v) => Cell::Number(*v as f64),
            ColumnValue::ULong(v) => Cell::Number(*v as f64),
            ColumnValue::Float(v) => Cell::Number(f64::from(*v)),
            ColumnValue::Double(v) => Cell::Number(*v),
            ColumnValue::String(s) | ColumnValue::Json(s) => Cell::Text((*s).to_string()),
            ColumnValue::DateTime(s) => Cell::Date((*s).to_string()),
            ColumnValue::Binary(_) => Cell::Empty,
        };
        if let Some(slot) = self.0.get_mut(i) {
            *slot = cell;
        }
        Ok(false)
    }
}

/// Reads a FlatGeobuf file into a layer. The `flatgeobuf` crate verifies
/// the FlatBuffers but slices properties without bounds checks, so a
/// malformed file could panic inside it: that is caught and refused.
pub fn read_flatgeobuf(bytes: &[u8]) -> Result<Layer, ImportErrors> {
    std::panic::catch_unwind(|| read(bytes)).unwrap_or_else(|_| {
        Err(file_error(
            "malformed FlatGeobuf: its properties or geometries do not match its header",
        ))
    })
}

fn read(bytes: &[u8]) -> Result<Layer, ImportErrors> {
    let reader = FgbReader::open(Cursor::new(bytes))
        .map_err(|e| file_error(format!("not a FlatGeobuf file: {e}")))?;
    let header = reader.header();
    let fields: Vec<String> = header
        .columns()
        .map(|cols| cols.iter().map(|c| c.name().to_string()).collect())
        .unwrap_or_default();
    let header_type = header.geometry_type();
    let crs = match header.crs() {
        Some(c) if c.org().is_none_or(|o| o.eq_ignore_ascii_case("EPSG")) && c.code() > 0 => {
            Some(Crs::from_epsg(c.code() as u32).ok_or_else(|| {
                file_error(format!(
                    "the file's CRS EPSG:{} is not one riskmap reads (EPSG:4326, 4490, 4513–4554)",
                    c.code()
                ))
            })?)
        }
        Some(c) => match c.wkt() {
            Some(w) => Some(Crs::from_wkt(w).map_err(|e| file_error(e.to_string()))?),
            None => None,
        },
        None => None,
    };
    let mut features = reader
        .select_all_seq()
        .map_err(|e| file_error(format!("cannot read the features: {e}")))?;
    let mut records = Vec::new();
    while let Some(f) = features
        .next()
        .map_err(|e| file_error(format!("feature {}: {e}", records.len())))?
    {
        let mut cells = vec![Cell::Empty; fields.len()];
        let cells = match f.process_properties(&mut Cells(&mut cells)) {
            Ok(_) => Ok(cells),
            Err(e) => Err(format!("unreadable properties: {e}")),
        };
        let kind = match header_type {
            GeometryType::Unknown => f.geometry().map(|g| g.type_()),
            t => Some(t),
        };
        let geometry = match kind {
            None => Ok(None),
            Some(t) if !simple(t) => Err(format!(
                "geometry type {t:?} is not read (points, lines and polygons only)"
            )),
            Some(_) => match f.geometry_trait() {
                Ok(Some(g)) => {
                    use geo_traits::to_geo::ToGeoGeometry;
                    match g.try_to_geometry() {
                        Some(g) => Ok(Some(geojson::GeometryValue::from(&g))),
                        None => Err("an empty geometry".to_string()),
                    }
                }
                Ok(None) => Ok(None),
                Err(e) => Err(format!("unreadable geometry: {e}")),
            },
        };
        records.push(LayerRecord { cells, geometry });
    }
    Ok(Layer {
        fields,
        records,
        crs,
        truncated_names: false,
    })
}
