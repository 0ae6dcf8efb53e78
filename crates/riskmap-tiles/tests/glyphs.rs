//! Glyph PBFs rendered from the Debian CJK font `fonts-wqy-zenhei`, decoded
//! by a protobuf reader written here (independent of the writer) and checked
//! against the font's own tables read through `ttf-parser`: the code points
//! present, each glyph's advance (hmtx) and box (glyf), and the distance
//! field around a known shape. Skipped when the font is missing unless
//! `RISKMAP_REQUIRE_FONT=1` (CI sets it).

#![allow(clippy::unwrap_used)]

use riskmap_tiles::glyphs::{GLYPH_BORDER, GLYPH_SIZE, GlyphFont};

const FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc";

fn font_bytes() -> Option<Vec<u8>> {
    let path = std::env::var("RISKMAP_GLYPH_FONT").unwrap_or_else(|_| FONT.into());
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) if std::env::var("RISKMAP_REQUIRE_FONT").as_deref() == Ok("1") => {
            panic!("RISKMAP_REQUIRE_FONT=1 but {path} is unreadable: {e}")
        }
        Err(e) => {
            eprintln!("skipped: {path}: {e} (install fonts-wqy-zenhei)");
            None
        }
    }
}

/// A field of a protobuf message: number and value.
#[derive(Debug)]
enum Val<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], i: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let byte = b[*i];
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

fn fields(b: &[u8]) -> Vec<(u64, Val<'_>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i);
        match key & 7 {
            0 => out.push((key >> 3, Val::Varint(varint(b, &mut i)))),
            2 => {
                let n = varint(b, &mut i) as usize;
                out.push((key >> 3, Val::Bytes(&b[i..i + n])));
                i += n;
            }
            w => panic!("unexpected wire type {w}"),
        }
    }
    out
}

#[derive(Debug, Default)]
struct G {
    id: u32,
    bitmap: Vec<u8>,
    width: u32,
    height: u32,
    left: i32,
    top: i32,
    advance: u32,
}

fn unzig(v: u64) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn decode(pbf: &[u8]) -> (String, String, Vec<G>) {
    let top = fields(pbf);
    assert_eq!(top.len(), 1, "one fontstack");
    let Val::Bytes(stack) = top[0].1 else {
        panic!()
    };
    assert_eq!(top[0].0, 1);
    let (mut name, mut range, mut glyphs) = (String::new(), String::new(), Vec::new());
    for (n, v) in fields(stack) {
        match (n, v) {
            (1, Val::Bytes(s)) => name = String::from_utf8(s.to_vec()).unwrap(),
            (2, Val::Bytes(s)) => range = String::from_utf8(s.to_vec()).unwrap(),
            (3, Val::Bytes(g)) => {
                let mut out = G::default();
                for (n, v) in fields(g) {
                    match (n, v) {
                        (1, Val::Varint(x)) => out.id = x as u32,
                        (2, Val::Bytes(x)) => out.bitmap = x.to_vec(),
                        (3, Val::Varint(x)) => out.width = x as u32,
                        (4, Val::Varint(x)) => out.height = x as u32,
                        (5, Val::Varint(x)) => out.left = unzig(x),
                        (6, Val::Varint(x)) => out.top = unzig(x),
                        (7, Val::Varint(x)) => out.advance = x as u32,
                        other => panic!("unexpected glyph field {other:?}"),
                    }
                }
                glyphs.push(out);
            }
            other => panic!("unexpected fontstack field {other:?}"),
        }
    }
    (name, range, glyphs)
}

#[test]
fn cjk_range_matches_the_font() {
    let Some(data) = font_bytes() else { return };
    let font = GlyphFont::new(&data, 0).unwrap();
    assert_eq!(font.family().as_deref(), Some("WenQuanYi Zen Hei"));
    let face = ttf_parser::Face::parse(&data, 0).unwrap();
    let scale = GLYPH_SIZE / f64::from(face.units_per_em());
    // 一 is U+4E00: the range 19968-20223 (十, 三, 上, 中… are in it).
    let started = std::time::Instant::now();
    let pbf = font
        .render_range("WenQuanYi Zen Hei", 19968, 20223)
        .unwrap();
    eprintln!(
        "range 19968-20223: {} bytes in {:?}",
        pbf.len(),
        started.elapsed()
    );
    let (name, range, glyphs) = decode(&pbf);
    assert_eq!(name, "WenQuanYi Zen Hei");
    assert_eq!(range, "19968-20223");
    let expected: Vec<u32> = (19968..=20223)
        .filter(|&c| face.glyph_index(char::from_u32(c).unwrap()).is_some())
        .collect();
    assert_eq!(glyphs.iter().map(|g| g.id).collect::<Vec<_>>(), expected);
    assert!(expected.len() > 250, "{}", expected.len());
    for g in &glyphs {
        let gid = face.glyph_index(char::from_u32(g.id).unwrap()).unwrap();
        let hmtx = f64::from(face.glyph_hor_advance(gid).unwrap());
        assert_eq!(
            g.advance,
            (hmtx * scale).round() as u32,
            "advance of {}",
            g.id
        );
        let b = face.glyph_bounding_box(gid).unwrap();
        assert_eq!(g.left, (f64::from(b.x_min) * scale).floor() as i32);
        assert_eq!(g.top, (f64::from(b.y_max) * scale).ceil() as i32);
        assert!(
            (1..=26).contains(&g.width) && (1..=26).contains(&g.height),
            "{g:?}"
        );
        let (w, h) = (g.width + 6, g.height + 6);
        assert_eq!(g.bitmap.len() as u32, w * h, "bitmap of {}", g.id);
        // The border is outside the outline: below the edge value.
        assert!(g.bitmap[0] < 191 && g.bitmap[(w * h - 1) as usize] < 191);
        assert!(
            g.bitmap.iter().any(|&v| v >= 191),
            "nothing inside {}",
            g.id
        );
    }
    // 一 (U+4E00) is one horizontal stroke: the middle of its box is inside
    // (≥ 191), its top and bottom border rows outside (< 191).
    let yi = &glyphs[0];
    assert_eq!(yi.id, 0x4E00);
    let w = (yi.width + 6) as usize;
    let rows: Vec<&[u8]> = yi.bitmap.chunks(w).collect();
    let mid = rows[rows.len() / 2][w / 2];
    assert!(mid >= 191, "middle of 一: {mid}");
    assert!(rows[0].iter().all(|&v| v < 191));
    assert!(rows[rows.len() - 1].iter().all(|&v| v < 191));
    assert_eq!(GLYPH_BORDER, 3);
}

#[test]
fn latin_range_has_space_and_letters() {
    let Some(data) = font_bytes() else { return };
    let font = GlyphFont::new(&data, 0).unwrap();
    let (_, range, glyphs) = decode(&font.render_range("x", 0, 255).unwrap());
    assert_eq!(range, "0-255");
    let space = glyphs.iter().find(|g| g.id == 32).unwrap();
    assert!(space.advance > 0 && space.bitmap.is_empty() && space.width == 0);
    let a = glyphs.iter().find(|g| g.id == u32::from('A')).unwrap();
    assert!(a.advance >= 8 && a.advance <= 24 && a.height >= 14, "{a:?}");
    for (s, e) in [(1, 256), (0, 256), (256, 510), (65536, 65791)] {
        assert!(font.render_range("x", s, e).is_err(), "{s}-{e}");
    }
}
