#![allow(clippy::unwrap_used)]

use super::*;
use geo::{Coord, MapCoords};
use proptest::prelude::*;
use riskmap_core::import::parse_geojson;
use riskmap_spatial::Crs;
use riskmap_tiles::TileCoord;

fn demo() -> Vec<(Collection, Vec<Feature>)> {
    let text = riskmap_core::demo::text;
    Collection::ALL
        .into_iter()
        .map(|c| (c, parse_geojson(c, text(c), Crs::Wgs84).unwrap()))
        .collect()
}

fn build(features: Vec<(Collection, Vec<Feature>)>) -> World {
    World::build(
        features,
        Rules::builtin(),
        Arc::new(SafetyConfig::embedded()),
        "2026-12-03",
        &(),
    )
}

/// Everything a reader can see of a world, in a comparable form.
fn observed(w: &World) -> String {
    observed_cells(w, true)
}

/// As [`observed`]; `empty_cells: false` leaves out grid cells no source
/// meets. The dense grid's range of empty (blue) cells is fixed when the
/// world is built and is not shrunk by edits, so a fresh build may have
/// fewer of them at the edges; every cell a source meets is compared.
fn observed_cells(w: &World, empty_cells: bool) -> String {
    let mut out = String::new();
    for c in Collection::ALL {
        for f in w.catalog.iter(c) {
            out.push_str(&format!("{c}/{} {:?}\n", f.id, w.risk.level(c, &f.id)));
            if let Some(a) = w.risk.assessment(c, &f.id) {
                out.push_str(&format!("  {:?} {:?}\n", a.score, a.factors));
            }
        }
    }
    for cell in w.risk.cells() {
        if !empty_cells && cell.sources.is_empty() {
            continue;
        }
        out.push_str(&format!("cell {} {:?}\n", cell.id, cell.risk_level));
    }
    for z in w.safety.zones() {
        out.push_str(&format!("zone {} {:?}\n", z.id, z.geometry.bounding_rect()));
    }
    for v in w.safety.violations() {
        out.push_str(&format!("violation {} {}\n", v.id, v.margin_m));
    }
    for t in [
        TileCoord::new(8, 213, 105).unwrap(),
        TileCoord::new(11, 1708, 843).unwrap(),
        TileCoord::new(14, 13664, 6744).unwrap(),
    ] {
        for spec in layers::tilesets() {
            // The grid tile draws the empty cells too; those cells that a
            // source meets are compared line by line above.
            if !empty_cells && spec.name == "risk_grid" {
                continue;
            }
            let bytes = w.render_tile(spec.name, t, w.tiles.options()).unwrap();
            out.push_str(&format!(
                "tile {} {t:?} {}\n",
                spec.name,
                tiles::etag_of(&bytes)
            ));
        }
    }
    out
}

/// The first line where two observations differ.
fn first_difference(a: &str, b: &str) -> Option<(String, String)> {
    a.lines()
        .map(Some)
        .chain(std::iter::repeat(None))
        .zip(b.lines().map(Some).chain(std::iter::repeat(None)))
        .take_while(|(x, y)| x.is_some() || y.is_some())
        .find(|(x, y)| x != y)
        .map(|(x, y)| (x.unwrap_or("").to_string(), y.unwrap_or("").to_string()))
}

/// A random edit of the demo city: move, replace or delete a feature.
fn edit(base: &[(Collection, Vec<Feature>)], pick: (usize, usize, u8, f64, f64)) -> Change {
    let (ci, fi, kind, dx, dy) = pick;
    let (c, features) = &base[ci % base.len()];
    let f = &features[fi % features.len()];
    match kind % 3 {
        0 => Change::Delete {
            collection: *c,
            ids: vec![f.id.clone()],
        },
        _ => {
            let mut moved = f.clone();
            moved.geometry = moved.geometry.map_coords(|p| Coord {
                x: p.x + dx,
                y: p.y + dy,
            });
            Change::Upsert {
                collection: *c,
                features: vec![Arc::new(moved)],
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// A world changed step by step equals one built from the resulting
    /// features; two copies given the same changes are equal (the snapshot
    /// scheme of `riskmap-app` relies on it).
    #[test]
    fn applied_changes_equal_a_fresh_build(
        picks in prop::collection::vec((0usize..5, 0usize..1000, 0u8..3, -0.01..0.01f64, -0.01..0.01f64), 1..5)
    ) {
        let base = demo();
        let mut a = build(base.clone());
        let mut b = a.clone();
        for p in &picks {
            let change = edit(&base, *p);
            a.apply(&change);
            b.apply(&change);
        }
        let features: Vec<(Collection, Vec<Feature>)> = Collection::ALL
            .into_iter()
            .map(|c| (c, a.catalog.iter(c).map(|f| (**f).clone()).collect()))
            .collect();
        let fresh = build(features);
        let seen = observed(&a);
        prop_assert_eq!(first_difference(&seen, &observed(&b)), None);
        prop_assert_eq!(
            first_difference(&observed_cells(&a, false), &observed_cells(&fresh, false)),
            None
        );
        prop_assert_eq!(a.version(), picks.len() as u64);
    }
}

#[test]
fn a_large_change_rescores_everything_and_says_so() {
    let base = demo();
    let mut w = build(base.clone());
    let targets = &base
        .iter()
        .find(|(c, _)| *c == Collection::ProtectionTargets)
        .unwrap()
        .1;
    assert!(
        targets.len() > FULL_RESCORE_ABOVE,
        "the demo has enough targets"
    );
    let effects = w.apply(&Change::Delete {
        collection: Collection::ProtectionTargets,
        ids: targets.iter().map(|f| f.id.clone()).collect(),
    });
    assert!(effects.everything);
    assert_eq!(effects.deleted, targets.len());
    assert_eq!(w.catalog.len(Collection::ProtectionTargets), 0);
    assert_eq!(w.safety.violations().count(), 0);
    let fresh = build(
        Collection::ALL
            .into_iter()
            .map(|c| (c, w.catalog.iter(c).map(|f| (**f).clone()).collect()))
            .collect(),
    );
    assert_eq!(observed_cells(&w, false), observed_cells(&fresh, false));
}

#[test]
fn a_large_enterprise_change_reassesses_the_sites_it_names() {
    let base = demo();
    let mut w = build(base.clone());
    let enterprises = &base
        .iter()
        .find(|(c, _)| *c == Collection::Enterprises)
        .unwrap()
        .1;
    // Six shifted copies of every demo enterprise, and the originals moved.
    let mut features = Vec::new();
    for k in 0..6 {
        for f in enterprises {
            let mut g = f.clone();
            if k > 0 {
                g.id = format!("{}-copy{k}", f.id);
            }
            let d = 0.002 * f64::from(k + 1);
            g.geometry = g.geometry.map_coords(|p| Coord {
                x: p.x + d,
                y: p.y - d,
            });
            features.push(Arc::new(g));
        }
    }
    assert!(features.len() > FULL_RESCORE_ABOVE);
    let effects = w.apply(&Change::Upsert {
        collection: Collection::Enterprises,
        features: features.clone(),
    });
    assert!(effects.everything);
    assert_eq!(effects.replaced, enterprises.len());
    assert_eq!(effects.inserted, features.len() - enterprises.len());
    let fresh = build(
        Collection::ALL
            .into_iter()
            .map(|c| (c, w.catalog.iter(c).map(|f| (**f).clone()).collect()))
            .collect(),
    );
    assert!(w.safety.violations().count() > 0, "the copies meet targets");
    assert_eq!(
        first_difference(&observed_cells(&w, false), &observed_cells(&fresh, false)),
        None
    );
}

#[test]
fn an_unscored_world_has_features_and_no_level_and_scores_to_a_built_one() {
    let base = demo();
    let mut catalog = Catalog::new();
    for (c, f) in base.clone() {
        catalog.load(c, f);
    }
    let unscored = World::unscored(
        catalog,
        Rules::builtin(),
        Arc::new(SafetyConfig::embedded()),
        "2026-12-03",
    );
    assert!(!unscored.is_scored());
    assert_eq!(unscored.catalog.len(Collection::Enterprises), 41);
    assert!(unscored.catalog.iter(Collection::Enterprises).all(|f| {
        unscored
            .risk
            .level(Collection::Enterprises, &f.id)
            .is_none()
    }));
    assert_eq!(unscored.safety.zones().count(), 0);
    let scored = unscored.scored(&());
    assert!(scored.is_scored());
    assert_eq!(scored.version(), 0);
    assert_eq!(observed(&scored), observed(&build(base)));
}

#[test]
fn the_day_rolling_over_rescores_with_the_new_date() {
    let mut w = build(demo());
    let e = w.apply(&Change::Today("2026-12-03".into()));
    assert!(!e.everything, "the same day changes nothing");
    let e = w.apply(&Change::Today("2031-01-01".into()));
    assert!(e.everything);
    assert_eq!(w.today(), "2031-01-01");
}

#[test]
fn china_date_is_utc_plus_eight() {
    // 2026-12-03 15:59:59 UTC is 23:59:59 in Beijing; one second later is the 4th.
    let t = 1_796_313_599;
    assert_eq!(china_date(t), "2026-12-03");
    assert_eq!(china_date(t + 1), "2026-12-04");
    assert_eq!(china_date(0), "1970-01-01");
}

#[test]
fn the_cache_refuses_a_tile_rendered_before_a_purge_that_met_it() {
    let opts = TileOptions::default();
    let t = TileCoord::new(10, 856, 430).unwrap();
    let far = TileCoord::new(10, 10, 10).unwrap();
    let mut cache = TileCache::new(10);
    let tile = |t| tiles::CachedTile::new(vec![1, 2, 3], t, &opts);
    assert!(cache.put("enterprises", t, tile(t), 0));
    // World 1 purged the tile's place; a tile rendered from world 0 is stale.
    let bounds = tile(t).bounds;
    assert_eq!(cache.purge(Some(&[bounds]), 1), 1);
    assert!(!cache.put("enterprises", t, tile(t), 0));
    assert!(
        cache.put("enterprises", far, tile(far), 0),
        "elsewhere it is fresh"
    );
    assert!(cache.put("enterprises", t, tile(t), 1));
    // A purge of everything refuses every older tile.
    cache.purge(None, 2);
    assert!(cache.is_empty());
    assert!(!cache.put("enterprises", far, tile(far), 1));
    // Older than the log reaches: refused.
    for v in 3..(3 + 300) {
        cache.purge(Some(&[]), v);
    }
    assert!(!cache.put("enterprises", far, tile(far), 2));
    assert!(cache.put("enterprises", far, tile(far), 302));
}
