//! A strict MVT 2.1 decoder: reads a tile with a small protobuf reader of its
//! own (independent of the encoder, so that tests check one against the
//! other) and refuses anything the specification forbids.
//!
//! Checked: wire format; layer `version` 2, a non-empty name unique in the
//! tile, a positive extent; feature tags in pairs whose key and value indexes
//! are in range; every value holding exactly one field; geometry type
//! `POINT`, `LINESTRING` or `POLYGON` (not `UNKNOWN`) with a command stream
//! valid for it — command ids 1, 2 or 7, counts in range and with all their
//! parameters, `MoveTo` count ≥ 1 (exactly 1 for lines and rings),
//! `LineTo` ≥ 1 (≥ 2 in rings), `ClosePath` count 1 closing each ring, no
//! zero-length `LineTo` step — polygon exterior rings with positive area by
//! the specification's formula (clockwise with y down), interior rings
//! negative, no zero-area ring, a polygon starting with an exterior ring.

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

use crate::feature::PropValue;

/// A decoded tile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DecodedTile {
    /// The layers, in tile order.
    pub layers: Vec<DecodedLayer>,
}

impl DecodedTile {
    /// The layer with this name.
    #[must_use]
    pub fn layer(&self, name: &str) -> Option<&DecodedLayer> {
        self.layers.iter().find(|l| l.name == name)
    }
}

/// A decoded layer.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedLayer {
    /// Layer name.
    pub name: String,
    /// Spec version (always 2 once validated).
    pub version: u32,
    /// Pixels along a tile side.
    pub extent: u32,
    /// Number of entries in the key table.
    pub key_count: usize,
    /// Number of entries in the value table.
    pub value_count: usize,
    /// The features.
    pub features: Vec<DecodedFeature>,
}

/// A decoded feature.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFeature {
    /// The MVT feature id, when present.
    pub id: Option<u64>,
    /// Geometry in tile pixel coordinates (y down). Rings are closed (the
    /// first vertex repeated at the end), as `geo` expects.
    pub geometry: Geometry<i32>,
    /// Properties, in tag order.
    pub properties: Vec<(String, PropValue)>,
}

impl DecodedFeature {
    /// The value of a property.
    #[must_use]
    pub fn property(&self, key: &str) -> Option<&PropValue> {
        self.properties
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// The feature's id as riskmap writes it: the MVT id in decimal, or else
    /// the string property `id`.
    #[must_use]
    pub fn id_string(&self) -> Option<String> {
        match self.id {
            Some(id) => Some(id.to_string()),
            None => self
                .property("id")
                .and_then(PropValue::as_str)
                .map(str::to_owned),
        }
    }
}

/// Why a tile was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MvtDecodeError {
    /// The bytes are not a well-formed protobuf message.
    #[error("malformed protobuf at byte {offset}: {reason}")]
    Protobuf {
        /// Where in the tile.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A layer breaks the specification.
    #[error("layer {layer:?}: {reason}")]
    Layer {
        /// Layer name (possibly empty).
        layer: String,
        /// What is wrong.
        reason: String,
    },
    /// A feature breaks the specification.
    #[error("layer {layer:?}, feature #{index}: {reason}")]
    Feature {
        /// Layer name.
        layer: String,
        /// Position of the feature in the layer.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Decodes and validates an MVT tile (see the module doc for the checks).
///
/// # Errors
/// [`MvtDecodeError`] naming the first violation found.
pub fn decode_tile(bytes: &[u8]) -> Result<DecodedTile, MvtDecodeError> {
    let mut r = Reader::new(bytes, 0);
    let mut tile = DecodedTile::default();
    while !r.done() {
        let (field, wire) = r.key()?;
        if field == 3 && wire == WIRE_LEN {
            let start = r.pos;
            let body = r.bytes()?;
            let layer = decode_layer(body, r.base + start)?;
            if tile.layers.iter().any(|l| l.name == layer.name) {
                return Err(MvtDecodeError::Layer {
                    layer: layer.name,
                    reason: "layer name used twice in the tile".into(),
                });
            }
            tile.layers.push(layer);
        } else {
            r.skip(wire)?;
        }
    }
    Ok(tile)
}

const WIRE_VARINT: u8 = 0;
const WIRE_I64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_I32: u8 = 5;

/// A minimal protobuf reader over a byte slice.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the whole tile, for error messages.
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err(&self, reason: &'static str) -> MvtDecodeError {
        MvtDecodeError::Protobuf {
            offset: self.base + self.pos,
            reason,
        }
    }

    fn varint(&mut self) -> Result<u64, MvtDecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    fn u32(&mut self) -> Result<u32, MvtDecodeError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| self.err("value does not fit 32 bits"))
    }

    fn key(&mut self) -> Result<(u64, u8), MvtDecodeError> {
        let k = self.varint()?;
        let field = k >> 3;
        if field == 0 {
            return Err(self.err("field number 0"));
        }
        Ok((field, (k & 7) as u8))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], MvtDecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("field runs past the end of its message"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn bytes(&mut self) -> Result<&'a [u8], MvtDecodeError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| self.err("length too large"))?;
        self.take(n)
    }

    fn skip(&mut self, wire: u8) -> Result<(), MvtDecodeError> {
        match wire {
            WIRE_VARINT => self.varint().map(drop),
            WIRE_I64 => self.take(8).map(drop),
            WIRE_LEN => self.bytes().map(drop),
            WIRE_I32 => self.take(4).map(drop),
            _ => Err(self.err("unsupported wire type")),
        }
    }

    /// Reads a packed (or a single unpacked) repeated uint32 field.
    fn packed_u32(&mut self, wire: u8, out: &mut Vec<u32>) -> Result<(), MvtDecodeError> {
        match wire {
            WIRE_LEN => {
                let start = self.base + self.pos;
                let body = self.bytes()?;
                let mut inner = Reader::new(body, start);
                while !inner.done() {
                    out.push(inner.u32()?);
                }
                Ok(())
            }
            WIRE_VARINT => {
                out.push(self.u32()?);
                Ok(())
            }
            _ => Err(self.err("wrong wire type for a repeated uint32")),
        }
    }

    fn expect(&self, wire: u8, want: u8) -> Result<(), MvtDecodeError> {
        if wire == want {
            Ok(())
        } else {
            Err(self.err("wrong wire type for the field"))
        }
    }
}

struct RawFeature {
    id: Option<u64>,
    tags: Vec<u32>,
    geom_type: u64,
    geometry: Vec<u32>,
}

fn decode_layer(body: &[u8], base: usize) -> Result<DecodedLayer, MvtDecodeError> {
    let mut r = Reader::new(body, base);
    let mut name: Option<String> = None;
    let mut version: Option<u32> = None;
    let mut extent: u32 = 4096;
    let mut keys: Vec<String> = Vec::new();
    let mut values: Vec<PropValue> = Vec::new();
    let mut raw: Vec<RawFeature> = Vec::new();
    while !r.done() {
        let (field, wire) = r.key()?;
        match field {
            1 => {
                r.expect(wire, WIRE_LEN)?;
                let s = r.bytes()?;
                name = Some(utf8(s, &r)?);
            }
            2 => {
                r.expect(wire, WIRE_LEN)?;
                let start = r.base + r.pos;
                let f = r.bytes()?;
                raw.push(decode_raw_feature(f, start)?);
            }
            3 => {
                r.expect(wire, WIRE_LEN)?;
                let s = r.bytes()?;
                keys.push(utf8(s, &r)?);
            }
            4 => {
                r.expect(wire, WIRE_LEN)?;
                let start = r.base + r.pos;
                let v = r.bytes()?;
                values.push(decode_value(v, start)?);
            }
            5 => {
                r.expect(wire, WIRE_VARINT)?;
                extent = r.u32()?;
            }
            15 => {
                r.expect(wire, WIRE_VARINT)?;
                version = Some(r.u32()?);
            }
            _ => r.skip(wire)?,
        }
    }
    let name = name.unwrap_or_default();
    let layer_err = |reason: &str| MvtDecodeError::Layer {
        layer: name.clone(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(layer_err("missing or empty layer name"));
    }
    match version {
        Some(2) => {}
        Some(v) => return Err(layer_err(&format!("version {v}, expected 2"))),
        None => return Err(layer_err("missing version")),
    }
    if extent == 0 {
        return Err(layer_err("extent 0"));
    }
    let mut features = Vec::with_capacity(raw.len());
    for (index, f) in raw.into_iter().enumerate() {
        let feature_err = |reason: String| MvtDecodeError::Feature {
            layer: name.clone(),
            index,
            reason,
        };
        if f.tags.len() % 2 != 0 {
            return Err(feature_err(format!(
                "odd number of tags ({})",
                f.tags.len()
            )));
        }
        let mut properties = Vec::with_capacity(f.tags.len() / 2);
        for pair in f.tags.chunks_exact(2) {
            let k = keys.get(pair[0] as usize).ok_or_else(|| {
                feature_err(format!("key index {} ≥ {} keys", pair[0], keys.len()))
            })?;
            let v = values.get(pair[1] as usize).ok_or_else(|| {
                feature_err(format!("value index {} ≥ {} values", pair[1], values.len()))
            })?;
            properties.push((k.clone(), v.clone()));
        }
        let geometry = decode_geometry(f.geom_type, &f.geometry).map_err(feature_err)?;
        features.push(DecodedFeature {
            id: f.id,
            geometry,
            properties,
        });
    }
    Ok(DecodedLayer {
        name,
        version: 2,
        extent,
        key_count: keys.len(),
        value_count: values.len(),
        features,
    })
}

fn utf8(s: &[u8], r: &Reader<'_>) -> Result<String, MvtDecodeError> {
    String::from_utf8(s.to_vec()).map_err(|_| r.err("string is not UTF-8"))
}

fn decode_raw_feature(body: &[u8], base: usize) -> Result<RawFeature, MvtDecodeError> {
    let mut r = Reader::new(body, base);
    let mut f = RawFeature {
        id: None,
        tags: Vec::new(),
        geom_type: 0,
        geometry: Vec::new(),
    };
    while !r.done() {
        let (field, wire) = r.key()?;
        match field {
            1 => {
                r.expect(wire, WIRE_VARINT)?;
                f.id = Some(r.varint()?);
            }
            2 => r.packed_u32(wire, &mut f.tags)?,
            3 => {
                r.expect(wire, WIRE_VARINT)?;
                f.geom_type = r.varint()?;
            }
            4 => r.packed_u32(wire, &mut f.geometry)?,
            _ => r.skip(wire)?,
        }
    }
    Ok(f)
}

fn decode_value(body: &[u8], base: usize) -> Result<PropValue, MvtDecodeError> {
    let mut r = Reader::new(body, base);
    let mut value = None;
    let mut fields = 0;
    while !r.done() {
        let (field, wire) = r.key()?;
        let v = match field {
            1 => {
                r.expect(wire, WIRE_LEN)?;
                let s = r.bytes()?;
                PropValue::String(utf8(s, &r)?)
            }
            2 => {
                r.expect(wire, WIRE_I32)?;
                let b = r.take(4)?;
                PropValue::Double(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            3 => {
                r.expect(wire, WIRE_I64)?;
                let b = r.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                PropValue::Double(f64::from_le_bytes(a))
            }
            4 => {
                r.expect(wire, WIRE_VARINT)?;
                PropValue::Int(r.varint()? as i64)
            }
            5 => {
                r.expect(wire, WIRE_VARINT)?;
                let u = r.varint()?;
                i64::try_from(u).map_or(PropValue::Double(u as f64), PropValue::Int)
            }
            6 => {
                r.expect(wire, WIRE_VARINT)?;
                let u = r.varint()?;
                PropValue::Int(((u >> 1) as i64) ^ -((u & 1) as i64))
            }
            7 => {
                r.expect(wire, WIRE_VARINT)?;
                PropValue::Bool(r.varint()? != 0)
            }
            _ => {
                r.skip(wire)?;
                continue;
            }
        };
        fields += 1;
        value = Some(v);
    }
    match (fields, value) {
        (1, Some(v)) => Ok(v),
        _ => Err(MvtDecodeError::Protobuf {
            offset: base,
            reason: "a value must hold exactly one field",
        }),
    }
}

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

/// An absolute position in tile pixels, wide enough for any command stream.
type Pos = (i64, i64);

/// A command with the positions it visits (none for ClosePath).
type Command = (u32, Vec<Pos>);

/// Walks a command stream, yielding commands with their absolute positions.
struct Commands<'a> {
    data: &'a [u32],
    pos: usize,
    cursor: (i64, i64),
}

impl Commands<'_> {
    /// The next command: id, and for MoveTo/LineTo the positions it visits.
    fn next_command(&mut self) -> Result<Option<Command>, String> {
        let Some(&word) = self.data.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        let (id, count) = (word & 7, (word >> 3) as usize);
        match id {
            MOVE_TO | LINE_TO => {
                if count == 0 {
                    return Err(format!("command {id} with count 0"));
                }
                let need = count.checked_mul(2).ok_or("command count overflow")?;
                if self.data.len() - self.pos < need {
                    return Err(format!(
                        "command {id} × {count} needs {need} parameters, {} left",
                        self.data.len() - self.pos
                    ));
                }
                let mut pts = Vec::with_capacity(count);
                for _ in 0..count {
                    let dx = unzigzag(self.data[self.pos]);
                    let dy = unzigzag(self.data[self.pos + 1]);
                    self.pos += 2;
                    if id == LINE_TO && dx == 0 && dy == 0 {
                        return Err("zero-length LineTo step".into());
                    }
                    self.cursor = (self.cursor.0 + dx, self.cursor.1 + dy);
                    pts.push(self.cursor);
                }
                Ok(Some((id, pts)))
            }
            CLOSE_PATH => {
                if count != 1 {
                    return Err(format!("ClosePath with count {count}, must be 1"));
                }
                Ok(Some((id, Vec::new())))
            }
            other => Err(format!("unknown command id {other}")),
        }
    }
}

fn unzigzag(v: u32) -> i64 {
    i64::from((v >> 1) as i32 ^ -((v & 1) as i32))
}

fn coord(p: (i64, i64)) -> Result<Coord<i32>, String> {
    Ok(Coord {
        x: i32::try_from(p.0).map_err(|_| "coordinate beyond 32 bits")?,
        y: i32::try_from(p.1).map_err(|_| "coordinate beyond 32 bits")?,
    })
}

/// Twice the signed ring area by the spec's formula (positive = exterior).
fn area2(ring: &[(i64, i64)]) -> i128 {
    let mut sum = 0i128;
    for (i, a) in ring.iter().enumerate() {
        let b = ring[(i + 1) % ring.len()];
        sum += i128::from(a.0) * i128::from(b.1) - i128::from(b.0) * i128::from(a.1);
    }
    sum
}

fn decode_geometry(geom_type: u64, data: &[u32]) -> Result<Geometry<i32>, String> {
    let mut cmds = Commands {
        data,
        pos: 0,
        cursor: (0, 0),
    };
    match geom_type {
        1 => {
            let Some((MOVE_TO, pts)) = cmds.next_command()? else {
                return Err("a point geometry must be one MoveTo".into());
            };
            if cmds.next_command()?.is_some() {
                return Err("a point geometry must be a single MoveTo".into());
            }
            let pts: Vec<Point<i32>> = pts
                .into_iter()
                .map(|p| coord(p).map(Point))
                .collect::<Result<_, _>>()?;
            Ok(if pts.len() == 1 {
                Geometry::Point(pts[0])
            } else {
                Geometry::MultiPoint(MultiPoint(pts))
            })
        }
        2 => {
            let mut lines = Vec::new();
            while let Some((id, start)) = cmds.next_command()? {
                if id != MOVE_TO || start.len() != 1 {
                    return Err("each line must start with MoveTo count 1".into());
                }
                let Some((LINE_TO, rest)) = cmds.next_command()? else {
                    return Err("MoveTo of a line must be followed by LineTo".into());
                };
                let line: Vec<Coord<i32>> = start
                    .into_iter()
                    .chain(rest)
                    .map(coord)
                    .collect::<Result<_, _>>()?;
                lines.push(LineString(line));
            }
            match lines.len() {
                0 => Err("empty line geometry".into()),
                1 => Ok(Geometry::LineString(lines.swap_remove(0))),
                _ => Ok(Geometry::MultiLineString(MultiLineString(lines))),
            }
        }
        3 => {
            // Exterior ring and holes of each polygon.
            let mut polygons: Vec<(Vec<Pos>, Vec<Vec<Pos>>)> = Vec::new();
            while let Some((id, start)) = cmds.next_command()? {
                if id != MOVE_TO || start.len() != 1 {
                    return Err("each ring must start with MoveTo count 1".into());
                }
                let Some((LINE_TO, rest)) = cmds.next_command()? else {
                    return Err("MoveTo of a ring must be followed by LineTo".into());
                };
                if rest.len() < 2 {
                    return Err(format!("a ring needs LineTo count ≥ 2, got {}", rest.len()));
                }
                let Some((CLOSE_PATH, _)) = cmds.next_command()? else {
                    return Err("a ring must end with ClosePath".into());
                };
                let ring: Vec<(i64, i64)> = start.into_iter().chain(rest).collect();
                if ring.last() == ring.first() {
                    return Err("ring repeats its first vertex before ClosePath".into());
                }
                let a = area2(&ring);
                if a > 0 {
                    polygons.push((ring, Vec::new()));
                } else if a < 0 {
                    let Some(last) = polygons.last_mut() else {
                        return Err("polygon starts with an interior (negative-area) ring".into());
                    };
                    last.1.push(ring);
                } else {
                    return Err("ring with zero area".into());
                }
            }
            let close = |ring: Vec<(i64, i64)>| -> Result<LineString<i32>, String> {
                let mut cs: Vec<Coord<i32>> =
                    ring.into_iter().map(coord).collect::<Result<_, _>>()?;
                cs.push(cs[0]);
                Ok(LineString(cs))
            };
            let mut polys = Vec::with_capacity(polygons.len());
            for (ext, holes) in polygons {
                let holes = holes.into_iter().map(close).collect::<Result<_, _>>()?;
                polys.push(Polygon::new(close(ext)?, holes));
            }
            match polys.len() {
                0 => Err("empty polygon geometry".into()),
                1 => Ok(Geometry::Polygon(polys.swap_remove(0))),
                _ => Ok(Geometry::MultiPolygon(MultiPolygon(polys))),
            }
        }
        0 => Err("geometry type UNKNOWN".into()),
        t => Err(format!("geometry type {t} is not defined")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wraps raw feature fields into a one-layer tile.
    fn tile_with(geom_type: u8, geometry: &[u32]) -> Vec<u8> {
        let mut feature = vec![0x18, geom_type, 0x22];
        let mut packed = Vec::new();
        for &v in geometry {
            let mut v = v;
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    packed.push(b);
                    break;
                }
                packed.push(b | 0x80);
            }
        }
        feature.push(packed.len() as u8);
        feature.extend(packed);
        let mut layer = vec![0x0a, 1, b'l', 0x12, feature.len() as u8];
        layer.extend(feature);
        layer.extend([0x28, 0x80, 0x20, 0x78, 2]);
        let mut tile = vec![0x1a, layer.len() as u8];
        tile.extend(layer);
        tile
    }

    #[test]
    fn spec_examples_decode() {
        // Spec 4.3.5.1: point (25, 17).
        let t = decode_tile(&tile_with(1, &[9, 50, 34])).unwrap();
        assert_eq!(
            t.layers[0].features[0].geometry,
            Geometry::Point(Point::new(25, 17))
        );
        // Spec 4.3.5.3: linestring.
        let t = decode_tile(&tile_with(2, &[9, 4, 4, 18, 0, 16, 16, 0])).unwrap();
        assert!(matches!(
            t.layers[0].features[0].geometry,
            Geometry::LineString(_)
        ));
        // Spec 4.3.5.6: polygon (3,6) (8,12) (20,34).
        let t = decode_tile(&tile_with(3, &[9, 6, 12, 18, 10, 12, 24, 44, 15])).unwrap();
        assert!(matches!(
            t.layers[0].features[0].geometry,
            Geometry::Polygon(_)
        ));
        // Spec 4.3.5.7: multipolygon with a hole.
        let t = decode_tile(&tile_with(
            3,
            &[
                9, 0, 0, 26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0, 0, 18, 17, 0, 15, 9, 4,
                13, 26, 0, 8, 8, 0, 0, 7, 15,
            ],
        ))
        .unwrap();
        let Geometry::MultiPolygon(mp) = &t.layers[0].features[0].geometry else {
            panic!("expected a multipolygon");
        };
        assert_eq!(mp.0.len(), 2);
        assert_eq!(mp.0[1].interiors().len(), 1);
    }

    #[test]
    fn spec_violations_are_refused() {
        // Reversed exterior ring.
        assert!(decode_tile(&tile_with(3, &[9, 40, 68, 18, 23, 43, 9, 11, 15])).is_err());
        // Zero-length LineTo.
        assert!(decode_tile(&tile_with(2, &[9, 4, 4, 18, 0, 0, 16, 0])).is_err());
        // Missing ClosePath.
        assert!(decode_tile(&tile_with(3, &[9, 6, 12, 18, 10, 12, 24, 44])).is_err());
        // Point with two MoveTo commands.
        assert!(decode_tile(&tile_with(1, &[9, 50, 34, 9, 2, 2])).is_err());
        // Truncated parameters.
        assert!(decode_tile(&tile_with(2, &[9, 4, 4, 18, 0])).is_err());
        // Unknown command id 3.
        assert!(decode_tile(&tile_with(1, &[11, 4, 4])).is_err());
        // UNKNOWN geometry type.
        assert!(decode_tile(&tile_with(0, &[9, 50, 34])).is_err());
        // Truncated tile.
        let t = tile_with(1, &[9, 50, 34]);
        assert!(decode_tile(&t[..t.len() - 1]).is_err());
        // Empty tile is valid.
        assert_eq!(decode_tile(&[]).unwrap().layers.len(), 0);
    }
}
