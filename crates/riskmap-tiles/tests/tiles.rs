//! End-to-end tests of the tile pipeline: brute-force oracle at z14, the
//! validator across zooms, the byte budget with a million points, PMTiles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::time::Instant;

use geo::{
    Area, BooleanOps, BoundingRect, Coord, Euclidean, Geometry, Intersects, Length, LineString,
    MapCoords, MultiLineString, MultiPolygon, Point, Polygon, Rect,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use riskmap_tiles::{
    DecodedFeature, DecodedTile, PropValue, TileCoord, TileFeature, TileOptions, build_layer,
    decode_tile, encode_tile, risk_level_name, tiles_covering, write_pmtiles,
};

const CENTRE: (f64, f64) = (120.3, 30.3);
const M_PER_DEG_LAT: f64 = 111_000.0;
const M_PER_DEG_LON: f64 = 96_000.0;

fn offset(c: (f64, f64), dx_m: f64, dy_m: f64) -> Coord<f64> {
    Coord {
        x: c.0 + dx_m / M_PER_DEG_LON,
        y: c.1 + dy_m / M_PER_DEG_LAT,
    }
}

fn props(rng: &mut StdRng, i: usize, rank: u8) -> Vec<(String, PropValue)> {
    let mut p = vec![("name".to_owned(), PropValue::from(format!("企业{i}")))];
    if let Some(level) = risk_level_name(rank) {
        p.push(("risk_level".into(), level.into()));
    }
    p.push(("rank".into(), PropValue::Int(i64::from(rank))));
    p.push((
        "score".into(),
        PropValue::Double(rng.random_range(0.0..100.0)),
    ));
    p.push((
        "delta".into(),
        PropValue::Int(rng.random_range(-1000..1000)),
    ));
    p.push(("major_hazard".into(), PropValue::Bool(rng.random_bool(0.2))));
    p
}

fn id_of(i: usize) -> String {
    if i.is_multiple_of(2) {
        i.to_string()
    } else {
        format!("E-{i:06}")
    }
}

fn star(rng: &mut StdRng, c: (f64, f64), radius: f64, n: usize) -> LineString<f64> {
    let mut angles: Vec<f64> = (0..n)
        .map(|_| rng.random_range(0.0..std::f64::consts::TAU))
        .collect();
    angles.sort_by(f64::total_cmp);
    angles.dedup();
    let mut pts: Vec<Coord<f64>> = angles
        .iter()
        .map(|a| {
            let r = radius * rng.random_range(0.6..1.0);
            offset(c, r * a.cos(), r * a.sin())
        })
        .collect();
    pts.push(pts[0]);
    LineString(pts)
}

/// Seeded random points, lines and polygons around 120.3E 30.3N.
fn hangzhou(seed: u64, n_points: usize, n_lines: usize, n_polys: usize) -> Vec<TileFeature> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut i = 0usize;
    let spread = (4_000.0, 4_000.0);
    let random_centre = |rng: &mut StdRng| {
        let c = offset(
            CENTRE,
            rng.random_range(-spread.0..spread.0),
            rng.random_range(-spread.1..spread.1),
        );
        (c.x, c.y)
    };
    for _ in 0..n_points {
        let c = random_centre(&mut rng);
        let rank = rng.random_range(0..=4u8);
        let geometry = if rng.random_bool(0.05) {
            Geometry::MultiPoint(
                (0..3)
                    .map(|_| {
                        Point(offset(
                            c,
                            rng.random_range(-300.0..300.0),
                            rng.random_range(-300.0..300.0),
                        ))
                    })
                    .collect(),
            )
        } else {
            Geometry::Point(Point::new(c.0, c.1))
        };
        out.push(TileFeature {
            id: id_of(i),
            geometry,
            rank,
            properties: props(&mut rng, i, rank),
        });
        i += 1;
    }
    for k in 0..n_lines {
        let mut c = random_centre(&mut rng);
        let (n, step) = if k % 50 == 0 {
            (300, 60.0)
        } else {
            (rng.random_range(2..25), rng.random_range(20.0..300.0))
        };
        let mut dir: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let mut pts = vec![Coord { x: c.0, y: c.1 }];
        for _ in 1..n {
            dir += rng.random_range(-0.8..0.8);
            let p = offset(c, step * dir.cos(), step * dir.sin());
            c = (p.x, p.y);
            pts.push(p);
        }
        let rank = rng.random_range(0..=4u8);
        let ls = LineString(pts);
        let geometry = if rng.random_bool(0.1) {
            let ls2 = ls.map_coords(|c| Coord {
                x: c.x + 0.002,
                y: c.y,
            });
            Geometry::MultiLineString(MultiLineString(vec![ls, ls2]))
        } else {
            Geometry::LineString(ls)
        };
        out.push(TileFeature {
            id: id_of(i),
            geometry,
            rank,
            properties: props(&mut rng, i, rank),
        });
        i += 1;
    }
    for k in 0..n_polys {
        let c = random_centre(&mut rng);
        let (radius, n) = if k % 100 == 0 {
            (rng.random_range(2_000.0..5_000.0), 400)
        } else {
            (rng.random_range(15.0..400.0), rng.random_range(5..40))
        };
        let ext = star(&mut rng, c, radius, n);
        let holes = if rng.random_bool(0.3) {
            {
                let k = rng.random_range(4..9);
                vec![star(&mut rng, c, radius * 0.3, k)]
            }
        } else {
            vec![]
        };
        let rank = rng.random_range(0..=4u8);
        let poly = Polygon::new(ext, holes);
        let geometry = if rng.random_bool(0.1) {
            let p2 = poly.map_coords(|c| Coord {
                x: c.x + 3.0 * radius / M_PER_DEG_LON,
                y: c.y,
            });
            Geometry::MultiPolygon(MultiPolygon(vec![poly, p2]))
        } else {
            Geometry::Polygon(poly)
        };
        out.push(TileFeature {
            id: id_of(i),
            geometry,
            rank,
            properties: props(&mut rng, i, rank),
        });
        i += 1;
    }
    out
}

/// The features whose bounding box meets the tile's buffered bounds: what a
/// caller's bbox query returns.
fn query<'a>(
    features: &'a [TileFeature],
    tile: TileCoord,
    opts: &TileOptions,
) -> Vec<&'a TileFeature> {
    let q = tile.buffered_bounds_lonlat(opts.extent, opts.buffer);
    features
        .iter()
        .filter(|f| f.geometry.bounding_rect().is_some_and(|b| b.intersects(&q)))
        .collect()
}

fn px_geometry(f: &TileFeature, tile: TileCoord, extent: u32) -> Geometry<f64> {
    let p = tile.projector(extent);
    f.geometry.map_coords(|c| {
        let (x, y) = p.project(c.x, c.y);
        Coord { x, y }
    })
}

fn square(m: f64) -> Rect<f64> {
    Rect::new(
        Coord {
            x: -64.0 + m,
            y: -64.0 + m,
        },
        Coord {
            x: 4160.0 - m,
            y: 4160.0 - m,
        },
    )
}

fn polygons_of(g: &Geometry<f64>) -> Option<MultiPolygon<f64>> {
    match g {
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(mp) => Some(mp.clone()),
        _ => None,
    }
}

fn lines_of(g: &Geometry<f64>) -> Option<MultiLineString<f64>> {
    match g {
        Geometry::LineString(l) => Some(MultiLineString(vec![l.clone()])),
        Geometry::MultiLineString(ml) => Some(ml.clone()),
        _ => None,
    }
}

fn to_f64(g: &Geometry<i32>) -> Geometry<f64> {
    g.map_coords(|c| Coord {
        x: f64::from(c.x),
        y: f64::from(c.y),
    })
}

fn points_px(g: &Geometry<i32>) -> Vec<(i32, i32)> {
    match g {
        Geometry::Point(p) => vec![(p.x(), p.y())],
        Geometry::MultiPoint(mp) => mp.0.iter().map(|p| (p.x(), p.y())).collect(),
        _ => vec![],
    }
}

/// Checks what the validator cannot know: coordinates stay in the buffer.
fn assert_in_buffer(tile: &DecodedTile, buffer: i32, extent: i32) {
    for l in &tile.layers {
        for f in &l.features {
            let b = f.geometry.bounding_rect().expect("non-empty geometry");
            assert!(
                b.min().x >= -buffer && b.min().y >= -buffer,
                "{}: {b:?}",
                l.name
            );
            assert!(b.max().x <= extent + buffer && b.max().y <= extent + buffer);
        }
    }
}

/// Also read the tile with fast-mvt's own reader, as a cross-check.
fn cross_check_with_fast_mvt(bytes: &[u8], decoded: &DecodedTile) {
    let reader = fast_mvt::MvtReaderRef::new(bytes).expect("fast-mvt reads the tile");
    let mut n = 0;
    for (layer, ours) in reader.layers().zip(&decoded.layers) {
        let mut count = 0;
        for (f, of) in layer.features().zip(&ours.features) {
            let g = f.geometry().expect("fast-mvt decodes the geometry");
            assert_eq!(f.id(), of.id);
            let (a, b) = (
                g.bounding_rect().expect("bbox"),
                of.geometry.bounding_rect().expect("bbox"),
            );
            assert_eq!(a, b);
            count += 1;
        }
        assert_eq!(count, ours.features.len());
        n += 1;
    }
    assert_eq!(n, decoded.layers.len());
}

fn build_three_layers(features: &[TileFeature], tile: TileCoord, opts: &TileOptions) -> Vec<u8> {
    let q = query(features, tile, opts);
    let pts: Vec<&TileFeature> = q
        .iter()
        .copied()
        .filter(|f| matches!(f.geometry, Geometry::Point(_) | Geometry::MultiPoint(_)))
        .collect();
    let lines: Vec<&TileFeature> = q
        .iter()
        .copied()
        .filter(|f| {
            matches!(
                f.geometry,
                Geometry::LineString(_) | Geometry::MultiLineString(_)
            )
        })
        .collect();
    let polys: Vec<&TileFeature> = q
        .iter()
        .copied()
        .filter(|f| matches!(f.geometry, Geometry::Polygon(_) | Geometry::MultiPolygon(_)))
        .collect();
    let layers = vec![
        build_layer("polygons", &polys, tile, opts).unwrap(),
        build_layer("lines", &lines, tile, opts).unwrap(),
        build_layer("points", &pts, tile, opts).unwrap(),
    ];
    encode_tile(&layers).unwrap()
}

#[test]
fn z14_tile_matches_brute_force() {
    let started = Instant::now();
    let features = hangzhou(14, 3000, 600, 600);
    let tile = TileCoord::from_lonlat(CENTRE.0, CENTRE.1, 14);
    let opts = TileOptions::default();
    let all: Vec<&TileFeature> = features.iter().collect();
    // Give every feature, not just a query's: the pipeline clips the rest away.
    let layer = build_layer("all", &all, tile, &opts).unwrap();
    let bytes = encode_tile(std::slice::from_ref(&layer)).unwrap();
    let decoded = decode_tile(&bytes).unwrap();
    assert_in_buffer(&decoded, 64, 4096);
    cross_check_with_fast_mvt(&bytes, &decoded);
    assert_eq!(layer.stats().dropped, 0);

    let mut by_id: HashMap<String, Vec<&DecodedFeature>> = HashMap::new();
    for f in &decoded.layers[0].features {
        by_id
            .entry(f.id_string().expect("an id"))
            .or_default()
            .push(f);
    }
    let (mut must, mut present, mut marginal) = (0, 0, 0);
    for f in &features {
        let g = px_geometry(f, tile, 4096);
        let got = by_id.get(&f.id);
        let meets_grown = g.intersects(&square(-2.0));
        if got.is_some() {
            present += 1;
            assert!(meets_grown, "{} is outside the buffered tile", f.id);
        }
        let required = match &g {
            Geometry::Point(p) => square(0.5).intersects(p),
            Geometry::MultiPoint(mp) => mp.0.iter().any(|p| square(0.5).intersects(p)),
            Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                let clipped = square(2.0).to_polygon().clip(&lines_of(&g).unwrap(), false);
                Euclidean.length(&clipped) >= 3.0
            }
            _ => {
                let inter = polygons_of(&g)
                    .unwrap()
                    .intersection(&MultiPolygon(vec![square(2.0).to_polygon()]));
                inter.unsigned_area() >= 50.0
            }
        };
        if !required {
            // Meets the buffered tile only within rounding distance of its
            // edge, or by a sliver: may or may not survive snapping.
            marginal += usize::from(meets_grown);
            continue;
        }
        must += 1;
        let got = got.unwrap_or_else(|| panic!("{} meets the tile but is missing", f.id));
        assert_eq!(got.len(), 1, "{} written once", f.id);
        let d = got[0];
        // Properties survive, plus `id` for non-numeric ids.
        let mut expected = f.properties.clone();
        if f.id.parse::<u64>().is_err() {
            expected.insert(0, ("id".into(), PropValue::String(f.id.clone())));
        }
        assert_eq!(d.properties, expected, "{}", f.id);
        let dg = to_f64(&d.geometry);
        match &g {
            Geometry::Point(_) | Geometry::MultiPoint(_) => {
                let want: Vec<(i32, i32)> = match &g {
                    Geometry::Point(p) => vec![*p],
                    Geometry::MultiPoint(mp) => mp.0.clone(),
                    _ => unreachable!(),
                }
                .into_iter()
                .filter(|p| square(0.0).intersects(p))
                .map(|p| (p.x().round() as i32, p.y().round() as i32))
                .collect();
                assert_eq!(points_px(&d.geometry), want, "{}", f.id);
            }
            Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                let oracle = square(0.0).to_polygon().clip(&lines_of(&g).unwrap(), false);
                let want = Euclidean.length(&oracle);
                let ours = Euclidean.length(&lines_of(&dg).expect("decoded as lines"));
                let parts = lines_of(&dg).unwrap().0.len() as f64;
                assert!(
                    (ours - want).abs() <= 0.02 * want + 3.0 * parts,
                    "{}: length {ours} vs {want}",
                    f.id
                );
            }
            _ => {
                let oracle = polygons_of(&g)
                    .unwrap()
                    .intersection(&MultiPolygon(vec![square(0.0).to_polygon()]));
                let want = oracle.unsigned_area();
                let mine = polygons_of(&dg).expect("decoded as polygons");
                let ours = mine.unsigned_area();
                let perimeter: f64 = mine
                    .0
                    .iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                    .map(|r| Euclidean.length(r))
                    .sum();
                assert!(
                    (ours - want).abs() <= 1.0 * perimeter + 10.0,
                    "{}: area {ours} vs {want} (perimeter {perimeter})",
                    f.id
                );
                // The decoded polygons are valid (OGC) polygons.
                use geo::Validation;
                assert!(mine.is_valid(), "{} decoded polygon invalid", f.id);
            }
        }
    }
    assert!(must > 300, "the tile should hold many features, got {must}");
    assert!(present >= must && present <= must + marginal);
    assert!(marginal * 20 < must, "{marginal} marginal features");
    eprintln!(
        "z14 brute force: {must} required, {present} present, {marginal} marginal, {} bytes, {:?}",
        bytes.len(),
        started.elapsed()
    );
}

#[test]
fn every_tile_passes_the_validator() {
    let started = Instant::now();
    let features = hangzhou(7, 2000, 300, 300);
    let opts = TileOptions::default();
    let data_box = Rect::new(
        offset(CENTRE, -4_500.0, -4_500.0),
        offset(CENTRE, 4_500.0, 4_500.0),
    );
    let near = Rect::new(
        offset(CENTRE, -1_000.0, -1_000.0),
        offset(CENTRE, 1_000.0, 1_000.0),
    );
    let mut tiles = 0;
    let mut features_seen = 0;
    for z in [0u8, 6, 10, 14, 16] {
        let area = if z >= 16 { near } else { data_box };
        for tile in tiles_covering(area, z).iter() {
            let bytes = build_three_layers(&features, tile, &opts);
            let decoded = decode_tile(&bytes).unwrap_or_else(|e| panic!("{tile}: {e}"));
            assert_in_buffer(&decoded, 64, 4096);
            cross_check_with_fast_mvt(&bytes, &decoded);
            for l in &decoded.layers {
                assert_eq!(l.extent, 4096);
                assert_eq!(l.version, 2);
                features_seen += l.features.len();
            }
            tiles += 1;
        }
    }
    assert!(
        tiles > 20 && features_seen > 1000,
        "{tiles} tiles, {features_seen} features"
    );
    eprintln!(
        "validator: {tiles} tiles, {features_seen} features, {:?}",
        started.elapsed()
    );
}

/// Seeded clustered points around Hangzhou; `red_share` of them red.
fn clustered_points(seed: u64, n: usize) -> Vec<TileFeature> {
    let mut rng = StdRng::seed_from_u64(seed);
    let clusters: Vec<((f64, f64), f64)> = (0..24)
        .map(|_| {
            let c = offset(
                CENTRE,
                rng.random_range(-50_000.0..50_000.0),
                rng.random_range(-50_000.0..50_000.0),
            );
            ((c.x, c.y), rng.random_range(300.0..5_000.0))
        })
        .collect();
    (0..n)
        .map(|i| {
            let (c, sigma) = clusters[i % clusters.len()];
            // Box–Muller.
            let (u1, u2): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random_range(0.0..1.0));
            let r = sigma * (-2.0 * u1.ln()).sqrt();
            let t = std::f64::consts::TAU * u2;
            let p = offset(c, r * t.cos(), r * t.sin());
            let rank = if i % 100 == 0 {
                4
            } else {
                rng.random_range(0..=3u8)
            };
            TileFeature {
                id: i.to_string(),
                geometry: Geometry::Point(Point(p)),
                rank,
                properties: vec![(
                    "risk_level".into(),
                    PropValue::from(risk_level_name(rank).unwrap_or("none")),
                )],
            }
        })
        .collect()
}

/// Points inside a tile's buffered bounds, by a plain scan.
fn points_in<'a>(
    features: &'a [TileFeature],
    tile: TileCoord,
    opts: &TileOptions,
) -> Vec<&'a TileFeature> {
    let q = tile.buffered_bounds_lonlat(opts.extent, opts.buffer);
    features
        .iter()
        .filter(|f| match f.geometry {
            Geometry::Point(p) => q.intersects(&p),
            _ => false,
        })
        .collect()
}

#[test]
fn a_million_points_fit_the_budget_and_keep_every_red_one() {
    let started = Instant::now();
    let n = 1_000_000;
    let features = clustered_points(42, n);
    let made = started.elapsed();
    let opts = TileOptions::default();
    let bbox = Rect::new(
        offset(CENTRE, -70_000.0, -70_000.0),
        offset(CENTRE, 70_000.0, 70_000.0),
    );
    let mut worst = 0usize;
    let mut reds_checked = 0usize;
    for z in 0..=8u8 {
        for tile in tiles_covering(bbox, z).iter() {
            let subset = points_in(&features, tile, &opts);
            if subset.is_empty() {
                continue;
            }
            let layer = build_layer("enterprises", &subset, tile, &opts).unwrap();
            let bytes = encode_tile(std::slice::from_ref(&layer)).unwrap();
            assert!(bytes.len() < 500_000, "{tile}: {} bytes", bytes.len());
            worst = worst.max(bytes.len());
            let stats = layer.stats();
            assert_eq!(stats.features_in, subset.len());
            if subset.len() > 10_000 {
                assert!(stats.aggregated > subset.len() / 2, "{tile} aggregates");
            }
            let decoded = decode_tile(&bytes).unwrap();
            let feats = &decoded.layers[0].features;
            assert_eq!(feats.len(), stats.kept);
            let ids: HashSet<u64> = feats.iter().filter_map(|f| f.id).collect();
            let mut red_cells: HashMap<(i32, i32), i64> = HashMap::new();
            let mut total = 0i64;
            for f in feats {
                if f.property("aggregated").is_some() {
                    let Geometry::Point(p) = f.geometry else {
                        panic!("aggregate is a point")
                    };
                    let cell = (p.x().div_euclid(64), p.y().div_euclid(64));
                    let red = f.property("count_red").and_then(PropValue::as_i64).unwrap();
                    assert!(
                        red_cells.insert(cell, red).is_none(),
                        "one aggregate per cell"
                    );
                    total += f.property("count").and_then(PropValue::as_i64).unwrap();
                    let max_rank = f.property("max_rank").and_then(PropValue::as_i64).unwrap();
                    if red > 0 {
                        assert_eq!(max_rank, 4);
                        assert_eq!(f.property("risk_level"), Some(&PropValue::from("red")));
                    }
                } else {
                    total += 1;
                }
            }
            // Nothing was dropped here, so every point in the clip square is counted.
            assert_eq!(stats.dropped, 0);
            assert_eq!(total as usize, subset.len() - stats.outside);
            let proj = tile.projector(4096);
            for f in subset.iter().filter(|f| f.rank == 4) {
                let Geometry::Point(p) = f.geometry else {
                    unreachable!()
                };
                let (x, y) = proj.project(p.x(), p.y());
                if !(-64.0..=4160.0).contains(&x) || !(-64.0..=4160.0).contains(&y) {
                    continue;
                }
                let cell = (
                    (x.floor() as i32).div_euclid(64),
                    (y.floor() as i32).div_euclid(64),
                );
                let id: u64 = f.id.parse().unwrap();
                assert!(
                    ids.contains(&id) || red_cells.get(&cell).is_some_and(|&r| r >= 1),
                    "{tile}: red point {id} lost"
                );
                reds_checked += 1;
            }
        }
    }
    assert!(
        reds_checked >= 9 * n / 100,
        "checked {reds_checked} red points"
    );
    eprintln!(
        "1M points: generated in {made:?}, z0–z8 in {:?}, largest tile {worst} bytes",
        started.elapsed() - made
    );

    // At z12 the densest cluster, unaggregated, exceeds the budget: lower
    // ranks give way, every red point stays.
    let mut per_tile: HashMap<TileCoord, usize> = HashMap::new();
    for f in &features {
        if let Geometry::Point(p) = f.geometry {
            *per_tile
                .entry(TileCoord::from_lonlat(p.x(), p.y(), 12))
                .or_default() += 1;
        }
    }
    let (&tile, _) = per_tile.iter().max_by_key(|(t, n)| (**n, **t)).unwrap();
    let subset = points_in(&features, tile, &opts);
    let layer = build_layer("enterprises", &subset, tile, &opts).unwrap();
    let stats = layer.stats().clone();
    assert!(layer.encoded().len() <= 500_000);
    assert_budget_invariants(&subset, &layer, &stats);
    eprintln!("z12 dense tile: {stats:?}, total {:?}", started.elapsed());
}

/// Checks that drops went lowest rank first and that the layer is as full as
/// the budget allows.
fn assert_budget_invariants(
    subset: &[&TileFeature],
    layer: &riskmap_tiles::LayerData,
    stats: &riskmap_tiles::LayerStats,
) {
    let decoded = decode_tile(layer.encoded()).unwrap();
    let kept = decoded.layers.first().map_or(&[][..], |l| &l.features[..]);
    let rank_of: HashMap<&str, u8> = subset.iter().map(|f| (f.id.as_str(), f.rank)).collect();
    let min_kept = kept
        .iter()
        .map(|f| rank_of[f.id_string().unwrap().as_str()])
        .min()
        .unwrap_or(5);
    let max_dropped = (0..5).rev().find(|&r| stats.dropped_by_rank[r] > 0);
    if let Some(r) = max_dropped {
        assert!(
            usize::from(min_kept) >= r,
            "rank {r} dropped while rank {min_kept} kept"
        );
    }
    assert!(stats.dropped > 0, "the test tile must exceed the budget");
    assert_eq!(stats.dropped_by_rank[4], 0, "no red point dropped");
    assert_eq!(stats.kept + stats.dropped, subset.len() - stats.outside);
    assert_eq!(stats.bytes, layer.encoded().len());
}

#[test]
fn small_budget_drops_lowest_rank_first() {
    let features = hangzhou(99, 4000, 0, 0);
    let tile = TileCoord::from_lonlat(CENTRE.0, CENTRE.1, 12);
    let opts = TileOptions {
        byte_budget: 30_000,
        aggregate_below_zoom: 0,
        ..TileOptions::default()
    };
    let subset = query(&features, tile, &opts);
    let layer = build_layer("p", &subset, tile, &opts).unwrap();
    let stats = layer.stats().clone();
    assert!(layer.encoded().len() <= 30_000);
    // As full as it can be: within a few features of the budget.
    assert!(layer.encoded().len() > 29_000, "{}", layer.encoded().len());
    assert_budget_invariants(&subset, &layer, &stats);
    // Deterministic: the same input in another order gives the same bytes.
    let mut reversed = subset.clone();
    reversed.reverse();
    let again = build_layer("p", &reversed, tile, &opts).unwrap();
    assert_eq!(again.encoded(), layer.encoded());
}

/// An in-memory backend for the pmtiles crate's reader.
struct MemBackend(bytes::Bytes);

impl pmtiles::AsyncBackend for MemBackend {
    async fn read(
        &self,
        offset: u64,
        length: usize,
    ) -> pmtiles::PmtResult<pmtiles::BackendResponse> {
        let start = usize::try_from(offset).unwrap().min(self.0.len());
        let end = (start + length).min(self.0.len());
        Ok(pmtiles::BackendResponse::new(self.0.slice(start..end)))
    }
}

#[test]
fn pmtiles_round_trip() {
    let features = hangzhou(5, 800, 100, 100);
    let opts = TileOptions::default();
    let bounds = Rect::new(
        offset(CENTRE, -4_500.0, -4_500.0),
        offset(CENTRE, 4_500.0, 4_500.0),
    );
    let mut tiles: Vec<(TileCoord, Vec<u8>)> = Vec::new();
    for z in 0..=14u8 {
        for t in tiles_covering(bounds, z).iter() {
            tiles.push((t, build_three_layers(&features, t, &opts)));
        }
    }
    // An empty tile is left out; Hilbert order gives a clustered archive.
    let empty = TileCoord::new(3, 0, 0).unwrap();
    tiles.push((empty, Vec::new()));
    tiles.sort_by_key(|(t, _)| t.hilbert_id());
    let metadata = serde_json::json!({
        "name": "riskmap",
        "vector_layers": [
            {"id": "polygons", "fields": {}},
            {"id": "lines", "fields": {}},
            {"id": "points", "fields": {}}
        ]
    });
    let mut buf = Cursor::new(Vec::new());
    let summary = write_pmtiles(&mut buf, tiles.clone(), metadata.clone(), bounds, 0, 14).unwrap();
    let n_empty = tiles.iter().filter(|(_, d)| d.is_empty()).count();
    assert!(n_empty >= 1);
    assert_eq!(summary.empty as usize, n_empty);
    assert_eq!(summary.tiles as usize, tiles.len() - n_empty);
    let archive = bytes::Bytes::from(buf.into_inner());

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let reader = pmtiles::AsyncPmTilesReader::try_from_source(MemBackend(archive))
            .await
            .unwrap();
        let h = reader.get_header();
        assert_eq!(h.spec_version(), 3);
        assert_eq!(h.tile_type, pmtiles::TileType::Mvt);
        assert_eq!(h.tile_compression, pmtiles::Compression::Gzip);
        assert_eq!((h.min_zoom, h.max_zoom), (0, 14));
        assert!(h.clustered());
        assert!((h.min_longitude - bounds.min().x).abs() < 1e-6);
        assert!((h.max_latitude - bounds.max().y).abs() < 1e-6);
        assert_eq!(
            h.n_addressed_tiles().map(|n| n.get() as usize),
            Some(tiles.len() - n_empty)
        );
        let meta: serde_json::Value =
            serde_json::from_str(&reader.get_metadata().await.unwrap()).unwrap();
        assert_eq!(meta, metadata);
        for (t, data) in &tiles {
            let c = pmtiles::TileCoord::new(t.z, t.x, t.y).unwrap();
            let got = reader.get_tile_decompressed(c).await.unwrap();
            if data.is_empty() {
                assert!(got.is_none(), "{t}");
            } else {
                assert_eq!(got.as_deref(), Some(&data[..]), "{t}");
                decode_tile(data).unwrap();
            }
        }
        let missing = pmtiles::TileCoord::new(14, 0, 0).unwrap();
        assert!(reader.get_tile(missing).await.unwrap().is_none());
    });

    // Refusals.
    let bad = write_pmtiles(
        Cursor::new(Vec::new()),
        Vec::new(),
        serde_json::json!({}),
        bounds,
        0,
        1,
    );
    assert!(bad.is_err());
    let twice = vec![(empty, vec![1u8]), (empty, vec![1u8])];
    assert!(
        write_pmtiles(
            Cursor::new(Vec::new()),
            twice,
            metadata.clone(),
            bounds,
            0,
            5
        )
        .is_err()
    );
    let deep = vec![(TileCoord::new(6, 0, 0).unwrap(), vec![1u8])];
    assert!(write_pmtiles(Cursor::new(Vec::new()), deep, metadata, bounds, 0, 5).is_err());
}

/// Pipeline timings. Run:
/// `cargo test --release -p riskmap-tiles --test tiles -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark"]
fn bench_pipeline() {
    let opts = TileOptions::default();
    let features = hangzhou(14, 3000, 600, 600);
    let tile = TileCoord::from_lonlat(CENTRE.0, CENTRE.1, 14);
    let reps = 20;
    let t = Instant::now();
    let mut size = 0;
    for _ in 0..reps {
        size = build_three_layers(&features, tile, &opts).len();
    }
    eprintln!(
        "z14 Hangzhou tile (3 layers, {} input features): {:?} per tile, {size} bytes",
        query(&features, tile, &opts).len(),
        t.elapsed() / reps
    );
    for z in [10u8, 12] {
        let tile = TileCoord::from_lonlat(CENTRE.0, CENTRE.1, z);
        let n = query(&features, tile, &opts).len();
        let t = Instant::now();
        let size = build_three_layers(&features, tile, &opts).len();
        eprintln!("z{z} tile ({n} features): {:?}, {size} bytes", t.elapsed());
    }
    let points = clustered_points(42, 1_000_000);
    let all: Vec<&TileFeature> = points.iter().collect();
    let z0 = TileCoord::new(0, 0, 0).unwrap();
    let t = Instant::now();
    let layer = build_layer("enterprises", &all, z0, &opts).unwrap();
    eprintln!(
        "z0 tile of 1,000,000 points (aggregated): {:?}, {} bytes, {} aggregates",
        t.elapsed(),
        layer.encoded().len(),
        layer.stats().aggregates
    );
    let mut per_tile: HashMap<TileCoord, usize> = HashMap::new();
    for f in &points {
        if let Geometry::Point(p) = f.geometry {
            *per_tile
                .entry(TileCoord::from_lonlat(p.x(), p.y(), 12))
                .or_default() += 1;
        }
    }
    let (&tile, _) = per_tile.iter().max_by_key(|(t, n)| (**n, **t)).unwrap();
    let subset = points_in(&points, tile, &opts);
    let t = Instant::now();
    let layer = build_layer("enterprises", &subset, tile, &opts).unwrap();
    eprintln!(
        "z12 densest tile, {} points, byte budget: {:?}, {} bytes, {} dropped",
        subset.len(),
        t.elapsed(),
        layer.encoded().len(),
        layer.stats().dropped
    );
}
