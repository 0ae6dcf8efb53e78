//! The MVT layer writer: one pass over the output features, highest
//! priority first, that stops at the first feature that would take the
//! layer over its byte budget.
//!
//! It writes exactly the bytes `fast-mvt` 0.7 writes for the same features
//! (field order name, features, keys, values, extent, version; keys and
//! values numbered in order of first use; rings rewound to the MVT winding
//! of their role; the tests compare the two byte for byte), but it knows the
//! encoded size of the layer after every feature, so fitting the budget
//! takes no size model, no second encoding and no bisection; it borrows
//! keys and string values from the features instead of copying them into
//! its tables, and hashes them with `foldhash`.

use std::collections::HashMap;

use i_overlay::i_float::int::point::IntPoint;

use crate::geom::PxGeom;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A property value as a `Layer.values` entry (a `Value` message with one
/// field set). Doubles are compared by their bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Value<'a> {
    /// Field 1.
    String(&'a str),
    /// Field 3, by its bits.
    Double(u64),
    /// Field 5.
    UInt(u64),
    /// Field 6 (zigzag).
    SInt(i64),
    /// Field 7.
    Bool(bool),
}

impl Value<'_> {
    /// Length of the `Value` message.
    fn len(&self) -> usize {
        1 + match *self {
            Self::String(s) => varint_len(s.len() as u64) + s.len(),
            Self::Double(_) => 8,
            Self::UInt(v) => varint_len(v),
            Self::SInt(v) => varint_len(zigzag64(v)),
            Self::Bool(_) => 1,
        }
    }

    fn write(&self, buf: &mut Vec<u8>) {
        match *self {
            Self::String(s) => {
                buf.push(0x0A);
                put_varint(s.len() as u64, buf);
                buf.extend_from_slice(s.as_bytes());
            }
            Self::Double(bits) => {
                buf.push(0x19);
                buf.extend_from_slice(&bits.to_le_bytes());
            }
            Self::UInt(v) => {
                buf.push(0x28);
                put_varint(v, buf);
            }
            Self::SInt(v) => {
                buf.push(0x30);
                put_varint(zigzag64(v), buf);
            }
            Self::Bool(v) => {
                buf.push(0x38);
                buf.push(u8::from(v));
            }
        }
    }
}

pub(crate) fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(mut v: u64, buf: &mut Vec<u8>) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// Size of a length-delimited field holding `len` bytes.
fn len_field(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// Size of a packed field of `len` bytes, which is not written when empty.
fn packed_field(len: usize) -> usize {
    if len == 0 { 0 } else { len_field(len) }
}

fn packed_len(values: &[u32]) -> usize {
    values.iter().map(|&v| varint_len(u64::from(v))).sum()
}

fn put_packed(field: u8, values: &[u32], len: usize, buf: &mut Vec<u8>) {
    if !values.is_empty() {
        buf.push((field << 3) | 2);
        put_varint(len as u64, buf);
        for &v in values {
            put_varint(u64::from(v), buf);
        }
    }
}

fn command(id: u32, count: usize) -> u32 {
    // Counts are far below 2^29 for anything a tile holds.
    id | (u32::try_from(count).unwrap_or(u32::MAX >> 3) << 3)
}

/// Geometry command integers of one feature, cursor from (0, 0).
struct Commands<'b> {
    data: &'b mut Vec<u32>,
    cursor: IntPoint,
}

impl Commands<'_> {
    fn delta(&mut self, p: IntPoint) {
        self.data.push(zigzag32(p.x.saturating_sub(self.cursor.x)));
        self.data.push(zigzag32(p.y.saturating_sub(self.cursor.y)));
        self.cursor = p;
    }

    fn run(&mut self, id: u32, pts: &[IntPoint]) {
        if !pts.is_empty() {
            self.data.push(command(id, pts.len()));
            for &p in pts {
                self.delta(p);
            }
        }
    }

    fn line(&mut self, line: &[IntPoint]) {
        if let Some((&first, rest)) = line.split_first() {
            self.run(1, &[first]);
            self.run(2, rest);
        }
    }

    /// A ring without its closing repeat, rewound when its winding does not
    /// match its role (exterior: positive area by the MVT formula).
    fn ring(&mut self, ring: &[IntPoint], exterior: bool) {
        let ring = match ring {
            [first, .., last] if first == last => &ring[..ring.len() - 1],
            _ => ring,
        };
        if ring.is_empty() {
            return;
        }
        let area = crate::geom::ring_area2(ring);
        let reverse = area != 0 && (area > 0) != exterior;
        let at = |i: usize| {
            if reverse {
                ring[ring.len() - 1 - i]
            } else {
                ring[i]
            }
        };
        self.data.push(command(1, 1));
        self.delta(at(0));
        if ring.len() > 1 {
            self.data.push(command(2, ring.len() - 1));
            for i in 1..ring.len() {
                self.delta(at(i));
            }
        }
        self.data.push(command(7, 1));
    }
}

/// Appends the command integers of `geom`; returns its MVT geometry type.
fn geometry(geom: &PxGeom, data: &mut Vec<u32>) -> u8 {
    let mut c = Commands {
        data,
        cursor: IntPoint::new(0, 0),
    };
    match geom {
        PxGeom::Point(p) => {
            c.run(1, std::slice::from_ref(p));
            1
        }
        PxGeom::Points(pts) => {
            c.run(1, pts);
            1
        }
        PxGeom::Lines(lines) => {
            for l in lines {
                c.line(l);
            }
            2
        }
        PxGeom::Polygons(polys) => {
            for poly in polys {
                for (i, ring) in poly.iter().enumerate() {
                    c.ring(ring, i == 0);
                }
            }
            3
        }
    }
}

/// One layer being written (see the module doc).
pub(crate) struct LayerWriter<'a> {
    name: &'a str,
    extent: u32,
    keys: FastMap<&'a str, u32>,
    key_list: Vec<&'a str>,
    values: FastMap<Value<'a>, u32>,
    value_list: Vec<Value<'a>>,
    /// The encoded `Layer.features` fields so far.
    features: Vec<u8>,
    count: usize,
    /// Length of the layer message so far.
    body: usize,
    tags: Vec<u32>,
    geom: Vec<u32>,
}

impl<'a> LayerWriter<'a> {
    /// A writer for about `features` features and at most `budget` bytes
    /// (both only size its buffers).
    pub(crate) fn new(name: &'a str, extent: u32, features: usize, budget: usize) -> Self {
        let features = features.min(1 << 14);
        Self {
            name,
            extent,
            keys: FastMap::default(),
            key_list: Vec::new(),
            values: FastMap::with_capacity_and_hasher(features, Default::default()),
            value_list: Vec::with_capacity(features),
            features: Vec::with_capacity(budget.min(features * 64)),
            count: 0,
            body: len_field(name.len()) + 1 + varint_len(u64::from(extent)) + 2,
            tags: Vec::new(),
            geom: Vec::new(),
        }
    }

    /// Features written so far.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Adds a feature when the framed layer stays within `budget` bytes with
    /// it; otherwise leaves the layer as it was and returns false.
    pub(crate) fn try_add(
        &mut self,
        id: Option<u64>,
        geom: &PxGeom,
        tags: impl FnOnce(&mut dyn FnMut(&'a str, Value<'a>)),
        budget: usize,
    ) -> bool {
        let (keys_before, values_before) = (self.key_list.len(), self.value_list.len());
        let mut tables = 0usize;
        self.tags.clear();
        {
            let Self {
                keys,
                key_list,
                values,
                value_list,
                tags: out,
                ..
            } = self;
            tags(&mut |key, value| {
                // Keys are few and usually the same static strings: find them
                // by address before hashing.
                let known = key_list
                    .iter()
                    .position(|k| k.as_ptr() == key.as_ptr() && k.len() == key.len());
                let ki = match known {
                    Some(i) => i as u32,
                    None => *keys.entry(key).or_insert_with(|| {
                        tables += len_field(key.len());
                        key_list.push(key);
                        (key_list.len() - 1) as u32
                    }),
                };
                let vi = *values.entry(value).or_insert_with(|| {
                    tables += len_field(value.len());
                    value_list.push(value);
                    (value_list.len() - 1) as u32
                });
                out.push(ki);
                out.push(vi);
            });
        }
        self.geom.clear();
        let geom_type = geometry(geom, &mut self.geom);
        let (tags_len, geom_len) = (packed_len(&self.tags), packed_len(&self.geom));
        let feature = id.map_or(0, |id| 1 + varint_len(id))
            + packed_field(tags_len)
            + 2
            + packed_field(geom_len);
        let body = self.body + len_field(feature) + tables;
        if len_field(body) > budget {
            for k in self.key_list.drain(keys_before..) {
                self.keys.remove(k);
            }
            for v in self.value_list.drain(values_before..) {
                self.values.remove(&v);
            }
            return false;
        }
        let buf = &mut self.features;
        buf.push(0x12);
        put_varint(feature as u64, buf);
        if let Some(id) = id {
            buf.push(0x08);
            put_varint(id, buf);
        }
        put_packed(2, &self.tags, tags_len, buf);
        buf.push(0x18);
        buf.push(geom_type);
        put_packed(4, &self.geom, geom_len, buf);
        self.body = body;
        self.count += 1;
        true
    }

    /// The framed layer (a `Tile.layers` field); empty without features.
    pub(crate) fn finish(self) -> Vec<u8> {
        if self.count == 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(len_field(self.body));
        out.push(0x1A);
        put_varint(self.body as u64, &mut out);
        out.push(0x0A);
        put_varint(self.name.len() as u64, &mut out);
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&self.features);
        for k in &self.key_list {
            out.push(0x1A);
            put_varint(k.len() as u64, &mut out);
            out.extend_from_slice(k.as_bytes());
        }
        for v in &self.value_list {
            out.push(0x22);
            put_varint(v.len() as u64, &mut out);
            v.write(&mut out);
        }
        out.push(0x28);
        put_varint(u64::from(self.extent), &mut out);
        out.push(0x78);
        out.push(2);
        out
    }
}
