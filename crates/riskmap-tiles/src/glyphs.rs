//! Glyph PBFs for map labels (地图注记字形): the signed-distance-field
//! glyph ranges MapLibre fetches from a style's `glyphs` URL
//! (`/fonts/{fontstack}/{start}-{end}.pbf`), rendered from a TrueType/OpenType
//! font (a CJK one, so Chinese names draw).
//!
//! Format (`glyphs.proto` of MapLibre/fontnik): `glyphs { stacks { name,
//! range, glyphs { id, bitmap, width, height, left, top, advance } } }`, at
//! 24 px per em with a 3 px border around each bitmap and distances up to
//! 8 px: a bitmap byte is `255 − 255·(d + 2)/8` clamped, `d` the signed
//! distance in pixels from the pixel centre to the outline (negative
//! inside), so the outline is at 191 — where MapLibre's shader puts the edge.
//! Outlines come from `ttf-parser` (pure Rust), curves flattened to lines;
//! the distance is the exact distance to those lines and inside is the
//! non-zero winding rule TrueType fills with.

/// Font size of the glyphs, in pixels per em.
pub const GLYPH_SIZE: f64 = 24.0;
/// Border around each bitmap, in pixels.
pub const GLYPH_BORDER: i32 = 3;
/// Largest distance the field encodes, in pixels.
pub const SDF_RADIUS: f64 = 8.0;
/// Where the outline falls within the radius (0.25: two pixels of the
/// range inside, six outside).
pub const SDF_CUTOFF: f64 = 0.25;
/// Code points per range.
pub const RANGE_SIZE: u32 = 256;

/// Why a range could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlyphError {
    /// The font data is not a font ttf-parser reads.
    #[error("the font is unreadable: {0}")]
    Font(String),
    /// The range is not `{start}-{start+255}` with `start` a multiple of 256 below 65536.
    #[error(
        "glyph range {0}-{1}: expected start a multiple of 256 and end = start + 255, at most 65535"
    )]
    Range(u32, u32),
}

/// A font: the bytes of a TrueType/OpenType file or collection and the
/// face within it.
#[derive(Debug, Clone, Copy)]
pub struct GlyphFont<'a> {
    data: &'a [u8],
    index: u32,
}

impl<'a> GlyphFont<'a> {
    /// The face `index` of `data` (0 for a single font; a `.ttc` holds several).
    ///
    /// # Errors
    /// [`GlyphError::Font`] when it does not parse.
    pub fn new(data: &'a [u8], index: u32) -> Result<Self, GlyphError> {
        ttf_parser::Face::parse(data, index).map_err(|e| GlyphError::Font(e.to_string()))?;
        Ok(Self { data, index })
    }

    fn face(&self) -> Result<ttf_parser::Face<'a>, GlyphError> {
        ttf_parser::Face::parse(self.data, self.index).map_err(|e| GlyphError::Font(e.to_string()))
    }

    /// The family name (English when the font has one), e.g. `WenQuanYi Zen Hei`.
    #[must_use]
    pub fn family(&self) -> Option<String> {
        let face = self.face().ok()?;
        let names: Vec<_> = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
            .collect();
        names
            .iter()
            .find(|n| n.language() == ttf_parser::Language::English_UnitedStates)
            .or_else(|| names.first())
            .and_then(ttf_parser::name::Name::to_string)
    }

    /// Whether the font draws `c`.
    #[must_use]
    pub fn has_char(&self, c: char) -> bool {
        self.face().is_ok_and(|f| f.glyph_index(c).is_some())
    }

    /// The glyphs of code points `start..=end` as a glyph PBF whose stack is
    /// named `stack`. Code points the font lacks are left out.
    ///
    /// # Errors
    /// [`GlyphError::Range`] for a range MapLibre never asks for;
    /// [`GlyphError::Font`] when the font does not parse.
    pub fn render_range(&self, stack: &str, start: u32, end: u32) -> Result<Vec<u8>, GlyphError> {
        if !start.is_multiple_of(RANGE_SIZE) || end != start + RANGE_SIZE - 1 || end > 0xFFFF {
            return Err(GlyphError::Range(start, end));
        }
        let face = self.face()?;
        let mut stack_msg = Vec::new();
        put_bytes(&mut stack_msg, 1, stack.as_bytes());
        put_bytes(&mut stack_msg, 2, format!("{start}-{end}").as_bytes());
        for cp in start..=end {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            if let Some(g) = render_glyph(&face, c) {
                put_bytes(&mut stack_msg, 3, &g.encode());
            }
        }
        let mut out = Vec::with_capacity(stack_msg.len() + 8);
        put_bytes(&mut out, 1, &stack_msg);
        Ok(out)
    }
}

/// One rendered glyph.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    /// The code point.
    pub id: u32,
    /// `(width + 6) × (height + 6)` distance bytes, rows top to bottom.
    pub bitmap: Vec<u8>,
    /// Width of the glyph's box in pixels.
    pub width: u32,
    /// Height of the glyph's box in pixels.
    pub height: u32,
    /// From the pen position to the box's left side, in pixels.
    pub left: i32,
    /// From the baseline up to the box's top, in pixels.
    pub top: i32,
    /// Horizontal advance, in pixels.
    pub advance: u32,
}

impl Glyph {
    fn encode(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(self.bitmap.len() + 24);
        put_varint_field(&mut m, 1, u64::from(self.id));
        if !self.bitmap.is_empty() {
            put_bytes(&mut m, 2, &self.bitmap);
        }
        put_varint_field(&mut m, 3, u64::from(self.width));
        put_varint_field(&mut m, 4, u64::from(self.height));
        put_varint_field(&mut m, 5, zigzag(self.left));
        put_varint_field(&mut m, 6, zigzag(self.top));
        put_varint_field(&mut m, 7, u64::from(self.advance));
        m
    }
}

fn zigzag(v: i32) -> u64 {
    u64::from(((v << 1) ^ (v >> 31)) as u32)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    put_varint(out, u64::from(field) << 3);
    put_varint(out, v);
}

fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, (u64::from(field) << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The outline as closed polylines in pixels (y up), curves flattened.
#[derive(Default)]
struct Outline {
    scale: f64,
    contours: Vec<Vec<(f64, f64)>>,
    current: Vec<(f64, f64)>,
}

impl Outline {
    fn p(&self, x: f32, y: f32) -> (f64, f64) {
        (f64::from(x) * self.scale, f64::from(y) * self.scale)
    }
    fn last(&self) -> (f64, f64) {
        self.current.last().copied().unwrap_or((0.0, 0.0))
    }
    fn finish(&mut self) {
        let c = std::mem::take(&mut self.current);
        if c.len() >= 2 {
            self.contours.push(c);
        }
    }
}

/// Pieces per curve: enough that a 24 px glyph's curves stay within a
/// hundredth of a pixel of their chords.
const CURVE_STEPS: u32 = 8;

impl ttf_parser::OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.finish();
        let p = self.p(x, y);
        self.current.push(p);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.p(x, y);
        self.current.push(p);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (p0, p1, p2) = (self.last(), self.p(x1, y1), self.p(x, y));
        for i in 1..=CURVE_STEPS {
            let t = f64::from(i) / f64::from(CURVE_STEPS);
            let u = 1.0 - t;
            self.current.push((
                u * u * p0.0 + 2.0 * u * t * p1.0 + t * t * p2.0,
                u * u * p0.1 + 2.0 * u * t * p1.1 + t * t * p2.1,
            ));
        }
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (p0, p1, p2, p3) = (self.last(), self.p(x1, y1), self.p(x2, y2), self.p(x, y));
        for i in 1..=CURVE_STEPS {
            let t = f64::from(i) / f64::from(CURVE_STEPS);
            let u = 1.0 - t;
            let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            self.current.push((
                a * p0.0 + b * p1.0 + c * p2.0 + d * p3.0,
                a * p0.1 + b * p1.1 + c * p2.1 + d * p3.1,
            ));
        }
    }
    fn close(&mut self) {
        self.finish();
    }
}

/// Renders one character: `None` when the font has no glyph for it.
#[must_use]
pub fn render_glyph(face: &ttf_parser::Face<'_>, c: char) -> Option<Glyph> {
    let gid = face.glyph_index(c)?;
    let scale = GLYPH_SIZE / f64::from(face.units_per_em());
    let advance = (f64::from(face.glyph_hor_advance(gid).unwrap_or(0)) * scale).round() as u32;
    let mut outline = Outline {
        scale,
        ..Outline::default()
    };
    let Some(bbox) = face.outline_glyph(gid, &mut outline) else {
        // No outline (a space): metrics only.
        return Some(Glyph {
            id: u32::from(c),
            bitmap: Vec::new(),
            width: 0,
            height: 0,
            left: 0,
            top: 0,
            advance,
        });
    };
    outline.finish();
    let left = (f64::from(bbox.x_min) * scale).floor() as i32;
    let right = (f64::from(bbox.x_max) * scale).ceil() as i32;
    let bottom = (f64::from(bbox.y_min) * scale).floor() as i32;
    let top = (f64::from(bbox.y_max) * scale).ceil() as i32;
    let (width, height) = ((right - left).max(0), (top - bottom).max(0));
    let (w, h) = (width + 2 * GLYPH_BORDER, height + 2 * GLYPH_BORDER);
    let segments: Vec<[(f64, f64); 2]> = outline
        .contours
        .iter()
        .flat_map(|c| {
            let first = c[0];
            let last = c[c.len() - 1];
            c.windows(2)
                .map(|p| [p[0], p[1]])
                .chain((first != last).then_some([last, first]))
        })
        .collect();
    let mut bitmap = Vec::with_capacity((w * h) as usize);
    for j in 0..h {
        let y = f64::from(top + GLYPH_BORDER - j) - 0.5;
        for i in 0..w {
            let x = f64::from(left - GLYPH_BORDER + i) + 0.5;
            let mut d2 = f64::INFINITY;
            let mut winding = 0i32;
            for &[a, b] in &segments {
                d2 = d2.min(segment_distance2((x, y), a, b));
                // Non-zero winding: crossings of the ray to +x.
                if (a.1 <= y) != (b.1 <= y) {
                    let t = (y - a.1) / (b.1 - a.1);
                    if a.0 + t * (b.0 - a.0) > x {
                        winding += if b.1 > a.1 { 1 } else { -1 };
                    }
                }
            }
            let d = if winding != 0 { -d2.sqrt() } else { d2.sqrt() };
            let v = 255.0 - 255.0 * (d / SDF_RADIUS + SDF_CUTOFF);
            bitmap.push(v.round().clamp(0.0, 255.0) as u8);
        }
    }
    Some(Glyph {
        id: u32::from(c),
        bitmap,
        width: width as u32,
        height: height as u32,
        left,
        top,
        advance,
    })
}

fn segment_distance2(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
    qx * qx + qy * qy
}
