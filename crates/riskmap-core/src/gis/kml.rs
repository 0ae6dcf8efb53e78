//! KML (Google Earth, 奥维/两步路 exports) into a [`Layer`]: each
//! `Placemark` is a record; its `<name>`, `<description>`, its
//! `ExtendedData` (`<Data name><value>` and `<SchemaData><SimpleData name>`)
//! are the fields; `Point`, `LineString`, `Polygon` and `MultiGeometry` of
//! one kind are the geometry. KML is WGS84 longitude/latitude by definition.

use std::collections::BTreeMap;

use geojson::{GeometryValue, Position};
use quick_xml::events::Event;

use crate::import::{Cell, ImportErrors, Layer, LayerRecord};

/// A geometry being read: its kind and positions.
#[derive(Debug, Default)]
struct Placemark {
    fields: Vec<(String, String)>,
    id: Option<String>,
    /// The simple geometries, in order.
    parts: Vec<GeometryValue>,
    error: Option<String>,
}

/// Reads a KML document (UTF-8) into a layer.
pub fn read_kml(bytes: &[u8]) -> Result<Layer, ImportErrors> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
        .map_err(|e| ImportErrors::file("(kml)", format!("a KML file must be UTF-8: {e}")))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let xml_err = |pos: u64, m: String| {
        ImportErrors::file("(kml)", format!("not well-formed XML at byte {pos}: {m}"))
    };
    let mut path: Vec<String> = Vec::new();
    let mut placemarks: Vec<Placemark> = Vec::new();
    let mut current: Option<Placemark> = None;
    let mut text_buf = String::new();
    // The attribute `name` of the open <Data>/<SimpleData>.
    let mut data_name: Option<String> = None;
    // Rings of the polygon being read: outer first.
    let mut rings: Vec<Vec<Position>> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| xml_err(reader.buffer_position(), e.to_string()))?;
        match event {
            Event::Start(e) => {
                let name = e.name().local_name().as_ref().to_string();
                text_buf.clear();
                let attr = |key: &str| -> Option<String> {
                    e.attributes().flatten().find_map(|a| {
                        (a.key.local_name().as_ref() == key).then(|| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map(|v| v.into_owned())
                                .unwrap_or_default()
                        })
                    })
                };
                match name.as_str() {
                    "Placemark" => {
                        current = Some(Placemark {
                            id: attr("id"),
                            ..Placemark::default()
                        })
                    }
                    "Data" | "SimpleData" => data_name = attr("name"),
                    "Polygon" => rings.clear(),
                    _ => {}
                }
                path.push(name);
            }
            // <Data name="x"/> or an empty <name/>: no value.
            Event::Empty(_) => {}
            Event::Text(t) => text_buf.push_str(&t.xml10_content()),
            Event::CData(t) => text_buf.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let c = match name.as_ref() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                match c {
                    Some(c) => text_buf.push(c),
                    None => {
                        return Err(xml_err(
                            reader.buffer_position(),
                            format!("unknown entity &{name};"),
                        ));
                    }
                }
            }
            Event::End(_) => {
                let Some(name) = path.pop() else { continue };
                let parent = path.last().map(String::as_str).unwrap_or("");
                let value = std::mem::take(&mut text_buf);
                let Some(pm) = current.as_mut() else { continue };
                match name.as_str() {
                    "name" | "description" if parent == "Placemark" && !value.trim().is_empty() => {
                        pm.fields.push((name.clone(), value.trim().to_string()));
                    }
                    "value" if parent == "Data" => {
                        if let Some(n) = &data_name {
                            pm.fields.push((n.clone(), value.trim().to_string()));
                        }
                    }
                    "SimpleData" => {
                        if let Some(n) = data_name.take() {
                            pm.fields.push((n, value.trim().to_string()));
                        }
                    }
                    "coordinates" => match coordinates(&value) {
                        Ok(ps) => match parent {
                            "Point" => match ps.as_slice() {
                                [p] => pm.parts.push(GeometryValue::Point {
                                    coordinates: p.clone(),
                                }),
                                _ => {
                                    pm.error.get_or_insert(format!(
                                        "a Point has {} positions",
                                        ps.len()
                                    ));
                                }
                            },
                            "LineString" => {
                                pm.parts.push(GeometryValue::LineString { coordinates: ps })
                            }
                            "LinearRing" => rings.push(ps),
                            _ => {}
                        },
                        Err(m) => {
                            pm.error.get_or_insert(m);
                        }
                    },
                    "Polygon" => pm.parts.push(GeometryValue::Polygon {
                        coordinates: std::mem::take(&mut rings),
                    }),
                    "Placemark" => {
                        if let Some(pm) = current.take() {
                            placemarks.push(pm);
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if placemarks.is_empty() {
        return Err(ImportErrors::file("(kml)", "the KML holds no Placemark"));
    }
    // Fields: the union, in order of first appearance.
    let mut fields: Vec<String> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for pm in &placemarks {
        for (k, _) in &pm.fields {
            if !index.contains_key(k) {
                index.insert(k.clone(), fields.len());
                fields.push(k.clone());
            }
        }
    }
    if !index.contains_key("id") && placemarks.iter().any(|p| p.id.is_some()) {
        index.insert("id".into(), fields.len());
        fields.push("id".into());
    }
    let records = placemarks
        .into_iter()
        .map(|pm| {
            let mut cells = vec![Cell::Empty; fields.len()];
            for (k, v) in pm.fields {
                if let Some(&i) = index.get(&k)
                    && !v.is_empty()
                {
                    cells[i] = Cell::Text(v);
                }
            }
            // The Placemark's own id when no field gives one.
            if let (Some(id), Some(&i)) = (pm.id, index.get("id"))
                && cells[i] == Cell::Empty
            {
                cells[i] = Cell::Text(id);
            }
            let geometry = match pm.error {
                Some(m) => Err(m),
                None => combine(pm.parts),
            };
            LayerRecord {
                cells: Ok(cells),
                geometry,
            }
        })
        .collect();
    Ok(Layer {
        fields,
        records,
        crs: Some(riskmap_spatial::Crs::Wgs84),
        truncated_names: false,
    })
}

/// `lon,lat[,alt]` tuples separated by whitespace.
fn coordinates(text: &str) -> Result<Vec<Position>, String> {
    text.split_whitespace()
        .map(|t| {
            let n: Vec<f64> = t
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| format!("coordinates: {t:?} is not lon,lat[,alt]"))?;
            match n.as_slice() {
                [x, y] | [x, y, _] => Ok(Position::from([*x, *y])),
                _ => Err(format!("coordinates: {t:?} is not lon,lat[,alt]")),
            }
        })
        .collect()
}

/// One geometry of a placemark's parts: the part itself, or a multi-part
/// geometry of parts of one kind (a `MultiGeometry`).
fn combine(parts: Vec<GeometryValue>) -> Result<Option<GeometryValue>, String> {
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Ok(None);
    };
    let rest: Vec<GeometryValue> = parts.collect();
    if rest.is_empty() {
        return Ok(Some(first));
    }
    let all = std::iter::once(first).chain(rest);
    let mut points = Vec::new();
    let mut lines = Vec::new();
    let mut polys = Vec::new();
    for g in all {
        match g {
            GeometryValue::Point { coordinates } => points.push(coordinates),
            GeometryValue::LineString { coordinates } => lines.push(coordinates),
            GeometryValue::Polygon { coordinates } => polys.push(coordinates),
            _ => {}
        }
    }
    match (points.is_empty(), lines.is_empty(), polys.is_empty()) {
        (false, true, true) => Ok(Some(GeometryValue::MultiPoint {
            coordinates: points,
        })),
        (true, false, true) => Ok(Some(GeometryValue::MultiLineString { coordinates: lines })),
        (true, true, false) => Ok(Some(GeometryValue::MultiPolygon { coordinates: polys })),
        _ => Err("a MultiGeometry mixing points, lines and polygons".into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn placemarks_with_extended_data() {
        let kml = r##"<?xml version="1.0" encoding="utf-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>t</name>
<Placemark id="p1"><name>学校 &amp; 幼儿园</name>
<ExtendedData><SchemaData schemaUrl="#t"><SimpleData name="category">school</SimpleData><SimpleData name="population">120</SimpleData></SchemaData></ExtendedData>
<Point><coordinates>120.1,30.2</coordinates></Point></Placemark>
<Placemark><ExtendedData><Data name="id"><value>p2</value></Data></ExtendedData>
<MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>120,30 120.1,30 120.1,30.1 120,30</coordinates></LinearRing></outerBoundaryIs></Polygon>
<Polygon><outerBoundaryIs><LinearRing><coordinates>121,30,0 121.1,30,0 121.1,30.1,0 121,30,0</coordinates></LinearRing></outerBoundaryIs></Polygon></MultiGeometry>
</Placemark></Folder></Document></kml>"##;
        let layer = read_kml(kml.as_bytes()).unwrap();
        assert_eq!(layer.fields, ["name", "category", "population", "id"]);
        let r0 = &layer.records[0];
        let cells = r0.cells.as_ref().unwrap();
        assert_eq!(cells[0], Cell::Text("学校 & 幼儿园".into()));
        assert_eq!(cells[3], Cell::Text("p1".into()));
        assert_eq!(
            r0.geometry,
            Ok(Some(GeometryValue::new_point([120.1, 30.2])))
        );
        match &layer.records[1].geometry {
            Ok(Some(GeometryValue::MultiPolygon { coordinates })) => {
                assert_eq!(coordinates.len(), 2);
                assert_eq!(coordinates[1][0].len(), 4);
            }
            other => panic!("{other:?}"),
        }
        assert!(read_kml(b"<kml><Document/></kml>").is_err());
        // A Placemark with an unreadable position names it.
        let bad = kml.replace("120.1,30.2", "120.1;30.2");
        let layer = read_kml(bad.as_bytes()).unwrap();
        assert!(
            layer.records[0]
                .geometry
                .as_ref()
                .unwrap_err()
                .contains("120.1;30.2")
        );
    }
}
