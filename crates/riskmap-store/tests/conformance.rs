//! The storage conformance suite: every [`Store`] backend must pass the same
//! tests. Each test is one `async fn(Arc<dyn Store>)`; the `conformance!`
//! macro at the bottom runs it once on SQLite (a fresh temp dir per test) and
//! once on PostGIS (a fresh database per test).
//!
//! PostGIS tests need `DATABASE_URL`; run them with
//! `scripts/with-postgis cargo test -p riskmap-store`. Without `DATABASE_URL`
//! they are skipped, unless `RISKMAP_REQUIRE_PG=1` (set by that script), in
//! which case they fail.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use geo::{BoundingRect, Geometry, Intersects, LineString, Point, Polygon, Rect, coord};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use riskmap_core::access::{Account, Role};
use riskmap_core::import::parse_geojson;
use riskmap_core::{Collection, Feature};
use riskmap_store::access::{
    AuditEntry, AuditQuery, StoredAccount, TokenRecord, WriteOp, account_entry,
};
use riskmap_store::history::{kind, time_bound};
use riskmap_store::{
    DerivedChange, DerivedQuery, DerivedRow, ImportSummary, PostgresStore, SqliteStore, Store,
    StoreError,
};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

// ---------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------

/// Validated features of `collection` from GeoJSON Feature objects, through
/// the same import validation as real data.
///
/// Each carries its own last change time, distinct from every other one
/// parsed, as the server stamps what it writes: the round trips below
/// hold only if the store keeps it exactly.
fn parse(collection: Collection, features: Vec<Value>) -> Vec<Feature> {
    static STAMPS: AtomicUsize = AtomicUsize::new(0);
    let text = json!({"type": "FeatureCollection", "features": features}).to_string();
    let mut parsed = match parse_geojson(collection, &text, "EPSG:4326".parse().expect("known CRS"))
    {
        Ok(f) => f,
        Err(e) => panic!("test data for {collection} is invalid: {e}"),
    };
    for f in &mut parsed {
        let n = STAMPS.fetch_add(1, Ordering::Relaxed);
        f.updated = Some(format!(
            "2026-11-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            1 + n / 86_400_000 % 28,
            n / 3_600_000 % 24,
            n / 60_000 % 60,
            n / 1000 % 60,
            n % 1000
        ));
    }
    parsed
}

fn point(id: &str, lon: f64, lat: f64, mut properties: Value) -> Value {
    // Protection targets must be named; the tests' own names are kept.
    if properties.get("category").is_some() && properties.get("name").is_none() {
        properties["name"] = json!(format!("目标 {id}"));
    }
    json!({"type": "Feature", "id": id, "geometry": {"type": "Point", "coordinates": [lon, lat]},
           "properties": properties})
}

/// A closed axis-aligned rectangle ring.
fn rect_ring(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
}

/// A closed regular hexagon ring.
fn hexagon_ring(cx: f64, cy: f64, r: f64) -> Value {
    let mut ring: Vec<[f64; 2]> = (0..6)
        .map(|k| {
            let a = std::f64::consts::FRAC_PI_3 * f64::from(k);
            [cx + r * a.cos(), cy + r * a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    json!(ring)
}

/// One realistic feature per collection, as GeoJSON (version `v` changes the properties).
fn realistic(collection: Collection, v: u32) -> Vec<Value> {
    let note = format!("v{v}");
    match collection {
        Collection::Enterprises => vec![json!({
            "type": "Feature", "id": "ent-330102-0001",
            "geometry": {"type": "Point", "coordinates": [120.171_234_567_89, 30.251_234_567_89]},
            "properties": {
                "name": "杭州某某氯碱化工有限公司", "credit_code": "91350100M000100Y43",
                "industry": "化工", "district_code": "330102", "park_id": "park-01",
                "employees": 320 + v, "standardization_level": 2, "installation": "existing",
                "accidents": [{"date": "2019-07-12", "severity": "general", "deaths": 0}],
                "units": [
                    {"id": "T-101", "name": "液氯储罐区", "kind": "storage",
                     "geometry": {"type": "Polygon", "coordinates": [rect_ring(120.1710, 30.2510, 120.1714, 30.2513)]},
                     "substances": [{"name": "液氯", "quantity_t": 30}, {"name": "甲醇", "quantity_t": 100.0 + f64::from(v)}]},
                    {"id": "P-201", "name": "氯化车间", "kind": "production",
                     "substances": [{"cas": "67-56-1", "quantity_t": 5.5}], "processes": ["氯化工艺"]}
                ],
                "source": "2024 普查", "note": note
            }
        })],
        Collection::Parks => vec![json!({
            "type": "Feature", "id": "park-01",
            "geometry": {"type": "Polygon", "coordinates": [
                [[120.15, 30.24], [120.19, 30.24], [120.20, 30.27], [120.16, 30.28], [120.15, 30.24]]]},
            "properties": {"name": "杭州湾精细化工园区", "kind": "chemical", "assessment_score": 82.5 + f64::from(v),
                           "note": note}
        })],
        Collection::Pipelines => vec![json!({
            "type": "Feature", "id": "pl-xqd2-hz",
            "geometry": {"type": "LineString", "coordinates": [
                [120.05, 30.10], [120.112_345_678_901_23, 30.153_456_789_012_34], [120.21, 30.19], [120.33, 30.21]]},
            "properties": {"name": "西气东输二线杭州支线", "kind": "gas_transmission",
                           "diameter_mm": 1016, "maop_mpa": 10.0 + f64::from(v), "medium": "天然气",
                           "material": "L485", "year_built": 2012, "operator": "国家管网集团", "note": note}
        })],
        Collection::ProtectionTargets => vec![
            point(
                "pt-b",
                120.161,
                30.262,
                json!({"name": "第一小学", "category": "school", "population": 1200 + v, "note": note}),
            ),
            json!({"type": "Feature", "id": "PT-a",
                   "geometry": {"type": "Polygon", "coordinates": [rect_ring(120.180, 30.230, 120.183, 30.232)]},
                   "properties": {"name": "市人民医院", "category": "hospital", "beds": 800, "population": 2500,
                                  "floor_area_m2": 56_000.5, "note": note}}),
            json!({"type": "Feature", "id": "pt_c",
                   "geometry": {"type": "MultiPolygon", "coordinates": [
                       [rect_ring(120.190, 30.240, 120.192, 30.242)], [rect_ring(120.193, 30.240, 120.195, 30.242)]]},
                   "properties": {"name": "阳光花园小区", "category": "residential", "households": 1500, "note": note}}),
            point(
                "pt-10",
                120.2,
                30.3,
                json!({"category": "nursing_home", "beds": 120, "note": note}),
            ),
            point(
                "pt-9",
                120.201,
                30.301,
                json!({"name": "Kindergarten No. 9", "category": "kindergarten", "note": note}),
            ),
        ],
        Collection::Districts => vec![json!({
            "type": "Feature", "id": "330102",
            "geometry": {"type": "Polygon", "coordinates": [
                [[120.14, 30.22], [120.22, 30.22], [120.22, 30.30], [120.14, 30.30], [120.14, 30.22]],
                [[120.17, 30.25], [120.175, 30.25], [120.175, 30.255], [120.17, 30.25]]]},
            "properties": {"code": "330102", "name": "上城区", "level": "district", "note": note}
        })],
        Collection::HiddenDangers => vec![json!({
            "type": "Feature", "id": "hd-0001",
            "geometry": {"type": "Point", "coordinates": [120.171_3, 30.251_1]},
            "properties": {
                "enterprise_id": "ent-330102-0001", "district_code": "330102", "industry": "化工",
                "source": "inspection", "level": "major", "rule_item": "HC121-05",
                "description": "液氯罐区紧急切断阀未投用", "found_date": "2026-11-02",
                "deadline": "2026-12-31", "responsible_person": "张伟", "funds_cny": 350000.0 + f64::from(v),
                "status": "supervised", "listing_level": "city",
                "history": [
                    {"action": "report", "to": "reported", "actor": "区应急管理局执法人员", "at": "2026-11-02T09:00:00Z"},
                    {"action": "verify", "from": "reported", "to": "verified", "actor": "区应急管理局", "at": "2026-11-03T10:00:00Z", "note": "现场核实属实"},
                    {"action": "supervise", "from": "verified", "to": "supervised", "actor": "市安委办", "at": "2026-11-05T10:00:00Z", "listing_level": "city"}
                ],
                "note": note
            }
        })],
        Collection::RescueTeams => vec![point(
            "team-01",
            120.172,
            30.252,
            json!({"name": "上城区消防救援站（示例）", "kind": "fire", "members": 40 + v,
                   "equipment": "水罐消防车 3 辆", "contact": "0571-86900000",
                   "mobilisation_min": 5.5, "district_code": "330102", "sample": true, "note": note}),
        )],
        Collection::SupplyDepots => vec![point(
            "depot-01",
            120.173,
            30.253,
            json!({"name": "应急物资储备库（示例）", "contact": "0571-82880000",
                   "items": [{"name": "帐篷", "quantity": 300 + v, "unit": "顶"},
                             {"name": "吸附棉", "quantity": 2.5}],
                   "district_code": "330102", "sample": true, "note": note}),
        )],
        Collection::Shelters => vec![
            json!({"type": "Feature", "id": "shelter-a",
                   "geometry": {"type": "Polygon", "coordinates": [rect_ring(120.160, 30.240, 120.163, 30.242)]},
                   "properties": {"name": "公园（示例避难场所）", "class": "fixed", "capacity_persons": 9000 + v,
                                  "area_m2": 60_000.5, "district_code": "330102", "sample": true, "note": note}}),
            point(
                "shelter-b",
                120.2,
                30.29,
                json!({"name": "广场（示例避难场所）", "class": "emergency", "capacity_persons": 500, "note": note}),
            ),
        ],
    }
}

fn ids(features: &[Feature]) -> Vec<&str> {
    features.iter().map(|f| f.id.as_str()).collect()
}

/// Ids of `features` sorted the way the store must order them (by id, bytewise).
fn sorted_ids(features: &[Feature]) -> Vec<&str> {
    let mut v = ids(features);
    v.sort_unstable();
    v
}

// ---------------------------------------------------------------------------
// Tests: each runs on every backend
// ---------------------------------------------------------------------------

/// put/get/all/delete/count on realistic features of every collection.
async fn crud(store: Arc<dyn Store>) {
    let s = store.as_ref();
    for collection in Collection::ALL {
        let v1 = parse(collection, realistic(collection, 1));
        let v2 = parse(collection, realistic(collection, 2));
        assert_ne!(v1, v2, "{collection}: versions must differ");
        assert_eq!(
            s.count(collection).await.expect("count"),
            0,
            "{collection}: starts empty"
        );
        assert!(s.all(collection).await.expect("all").is_empty());

        for (n, f) in v1.iter().enumerate() {
            assert_eq!(
                s.get(collection, &f.id).await.expect("get"),
                None,
                "{collection}/{}",
                f.id
            );
            assert_eq!(
                s.put(f).await.expect("put new"),
                None,
                "{collection}/{}: put of a new id",
                f.id
            );
            assert_eq!(
                s.get(collection, &f.id).await.expect("get").as_ref(),
                Some(f),
                "{collection}/{}",
                f.id
            );
            assert_eq!(
                s.count(collection).await.expect("count"),
                n as u64 + 1,
                "{collection}"
            );
        }
        let all = s.all(collection).await.expect("all");
        assert_eq!(
            ids(&all),
            sorted_ids(&v1),
            "{collection}: all() ordered by id"
        );
        let world = Rect::new(coord! {x: -180.0, y: -90.0}, coord! {x: 180.0, y: 90.0});
        let hits = s.query_bbox(collection, world).await.expect("query_bbox");
        assert_eq!(hits, all, "{collection}: query_bbox(world) equals all()");
        for f in &all {
            let original = v1.iter().find(|o| o.id == f.id).expect("stored id was put");
            assert_eq!(f, original, "{collection}/{}: all() round trip", f.id);
        }

        // Replace: returns the old version, stores the new one, count unchanged.
        for (old, new) in v1.iter().zip(&v2) {
            assert_eq!(old.id, new.id);
            assert_eq!(
                s.put(new).await.expect("put replace").as_ref(),
                Some(old),
                "{collection}/{}",
                new.id
            );
            assert_eq!(
                s.get(collection, &new.id).await.expect("get").as_ref(),
                Some(new),
                "{collection}/{}",
                new.id
            );
        }
        assert_eq!(
            s.count(collection).await.expect("count"),
            v1.len() as u64,
            "{collection}"
        );
        let all = s.all(collection).await.expect("all");
        assert_eq!(
            ids(&all),
            sorted_ids(&v2),
            "{collection}: all() ordered by id"
        );
        assert!(
            all.iter().all(|f| v2.contains(f)),
            "{collection}: all() returns the new versions"
        );

        // Other collections are untouched by writes to this one.
        for other in Collection::ALL.into_iter().filter(|&c| c != collection) {
            for f in &v2 {
                assert_eq!(
                    s.get(other, &f.id).await.expect("get other"),
                    None,
                    "{other}/{}",
                    f.id
                );
            }
        }

        // Delete.
        assert_eq!(
            s.delete(collection, "no-such-id")
                .await
                .expect("delete missing"),
            None
        );
        for (n, f) in v2.iter().enumerate() {
            assert_eq!(
                s.delete(collection, &f.id).await.expect("delete").as_ref(),
                Some(f),
                "{collection}/{}",
                f.id
            );
            assert_eq!(
                s.get(collection, &f.id).await.expect("get"),
                None,
                "{collection}/{}",
                f.id
            );
            assert_eq!(
                s.delete(collection, &f.id).await.expect("delete again"),
                None,
                "{collection}/{}",
                f.id
            );
            assert_eq!(
                s.count(collection).await.expect("count"),
                (v2.len() - n - 1) as u64,
                "{collection}"
            );
        }
        assert!(
            s.all(collection).await.expect("all").is_empty(),
            "{collection}: empty after deletes"
        );

        // Leave one feature behind so later collections run with a non-empty store.
        s.put(&v1[0]).await.expect("put");
    }
    for collection in Collection::ALL {
        assert_eq!(s.count(collection).await.expect("count"), 1, "{collection}");
    }
}

/// Random protection targets (points, rectangles, hexagons, two-rectangle
/// multipolygons) and pipelines in lon 120.0–120.5, lat 30.0–30.4.
fn random_layers(rng: &mut StdRng) -> (Vec<Feature>, Vec<Feature>) {
    let mut targets = Vec::new();
    for i in 0..500 {
        let (x, y) = (rng.random_range(120.0..120.5), rng.random_range(30.0..30.4));
        let props =
            json!({"name": format!("防护目标{i}"), "category": "residential", "population": i * 7});
        let id = format!("pt-{i:04}");
        let geometry = match rng.random_range(0..10) {
            0..5 => json!({"type": "Point", "coordinates": [x, y]}),
            5..7 => {
                let (w, h) = (
                    rng.random_range(0.0005..0.01),
                    rng.random_range(0.0005..0.01),
                );
                json!({"type": "Polygon", "coordinates": [rect_ring(x, y, x + w, y + h)]})
            }
            7..9 => {
                json!({"type": "Polygon", "coordinates": [hexagon_ring(x, y, rng.random_range(0.0005..0.008))]})
            }
            _ => {
                let w = rng.random_range(0.001..0.004);
                json!({"type": "MultiPolygon", "coordinates": [
                    [rect_ring(x, y, x + w, y + w)], [rect_ring(x + 2.0 * w, y, x + 3.0 * w, y + w)]]})
            }
        };
        targets
            .push(json!({"type": "Feature", "id": id, "geometry": geometry, "properties": props}));
    }
    let mut pipelines = Vec::new();
    for i in 0..100 {
        let mut p = [rng.random_range(120.0..120.5), rng.random_range(30.0..30.4)];
        let mut coords = vec![p];
        for _ in 1..rng.random_range(2..=6) {
            p = [
                p[0] + rng.random_range(-0.03..0.03),
                p[1] + rng.random_range(-0.03..0.03),
            ];
            coords.push(p);
        }
        pipelines.push(json!({"type": "Feature", "id": format!("pl-{i:03}"),
            "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {"name": format!("燃气管线{i}"), "kind": "urban_gas",
                           "diameter_mm": 219, "maop_mpa": 0.4}}));
    }
    (
        parse(Collection::ProtectionTargets, targets),
        parse(Collection::Pipelines, pipelines),
    )
}

fn bounds(g: &Geometry<f64>) -> Rect<f64> {
    g.bounding_rect()
        .expect("validated geometries are not empty")
}

/// Query boxes: random ones of varied sizes, ones touching features exactly
/// (edges through vertices, corners on bounding-box corners), empty ones far
/// away and degenerate (zero-width) ones.
fn query_boxes(rng: &mut StdRng, features: &[Feature]) -> Vec<Rect<f64>> {
    let mut boxes = vec![
        Rect::new(coord! {x: 119.0, y: 29.0}, coord! {x: 121.0, y: 31.0}),
        Rect::new(coord! {x: 119.0, y: 29.0}, coord! {x: 119.5, y: 29.5}),
        Rect::new(coord! {x: 121.0, y: 30.0}, coord! {x: 121.0001, y: 30.0001}),
    ];
    for _ in 0..22 {
        let size = 10f64.powf(rng.random_range(-4.0..-0.5));
        let (x, y) = (
            rng.random_range(119.95..120.5),
            rng.random_range(29.95..30.4),
        );
        let aspect = rng.random_range(0.3..3.0);
        boxes.push(Rect::new(
            coord! {x: x, y: y},
            coord! {x: x + size * aspect, y: y + size},
        ));
    }
    for k in 0..22 {
        let f = &features[rng.random_range(0..features.len())];
        let b = bounds(&f.geometry);
        let d = 10f64.powf(rng.random_range(-4.0..-2.0));
        let (min, max) = (b.min(), b.max());
        boxes.push(match k % 5 {
            // Left of the feature, right edge on its westmost vertex.
            0 => Rect::new(coord! {x: min.x - d, y: min.y}, coord! {x: min.x, y: max.y}),
            // Above, bottom edge on its northmost vertex.
            1 => Rect::new(
                coord! {x: min.x - d, y: max.y},
                coord! {x: max.x + d, y: max.y + d},
            ),
            // Corner on the bounding box's south-west corner: touches rectangles and
            // points, misses hexagons (whose bbox corner is outside them).
            2 => Rect::new(
                coord! {x: min.x - d, y: min.y - d},
                coord! {x: min.x, y: min.y},
            ),
            // Corner on the north-east corner.
            3 => Rect::new(
                coord! {x: max.x, y: max.y},
                coord! {x: max.x + d, y: max.y + d},
            ),
            // Right of the feature, just not touching it.
            _ => Rect::new(
                coord! {x: max.x + d * 1e-3, y: min.y},
                coord! {x: max.x + d, y: max.y},
            ),
        });
    }
    // Degenerate boxes (zero width or height; a client may send a point):
    // segments through the middle of features and points at their centres.
    for f in features.iter().take(8) {
        let b = bounds(&f.geometry);
        let c = b.center();
        boxes.push(Rect::new(
            coord! {x: c.x, y: b.min().y - 0.01},
            coord! {x: c.x, y: b.max().y + 0.01},
        ));
        boxes.push(Rect::new(
            coord! {x: b.min().x - 0.01, y: c.y},
            coord! {x: b.max().x + 0.01, y: c.y},
        ));
        boxes.push(Rect::new(c, c));
    }
    boxes
}

async fn check_bbox(
    s: &dyn Store,
    collection: Collection,
    features: &[Feature],
    boxes: &[Rect<f64>],
) -> (usize, usize) {
    let (mut empty, mut nonempty) = (0, 0);
    for (k, bbox) in boxes.iter().enumerate() {
        let expected: BTreeSet<&str> = features
            .iter()
            .filter(|f| f.geometry.intersects(bbox))
            .map(|f| f.id.as_str())
            .collect();
        let got = s.query_bbox(collection, *bbox).await.expect("query_bbox");
        let got_ids = ids(&got);
        assert!(
            got_ids.windows(2).all(|w| w[0] < w[1]),
            "{collection} box {k}: not ordered by id: {got_ids:?}"
        );
        let got_set: BTreeSet<&str> = got_ids.iter().copied().collect();
        if got_set != expected {
            let missing: Vec<_> = expected.difference(&got_set).collect();
            let extra: Vec<_> = got_set.difference(&expected).collect();
            panic!(
                "{collection} box {k} {bbox:?}: store disagrees with geo::Intersects; missing {missing:?}, extra {extra:?}"
            );
        }
        for f in &got {
            let original = features.iter().find(|o| o.id == f.id).expect("known id");
            assert_eq!(f, original, "{collection}/{}: query_bbox round trip", f.id);
        }
        if expected.is_empty() {
            empty += 1;
        } else {
            nonempty += 1;
        }
    }
    (empty, nonempty)
}

/// query_bbox equals a brute-force geo::Intersects oracle on seeded random data.
async fn bbox_matches_oracle(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let mut rng = StdRng::seed_from_u64(0x5eed_2026);
    let (targets, pipelines) = random_layers(&mut rng);
    let summary = s
        .import(Collection::ProtectionTargets, &targets, None)
        .await
        .expect("import targets");
    assert_eq!(
        summary,
        ImportSummary {
            inserted: targets.len(),
            replaced: 0
        }
    );
    let summary = s
        .import(Collection::Pipelines, &pipelines, None)
        .await
        .expect("import pipelines");
    assert_eq!(
        summary,
        ImportSummary {
            inserted: pipelines.len(),
            replaced: 0
        }
    );

    let mut totals = (0, 0);
    for (collection, features) in [
        (Collection::ProtectionTargets, &targets),
        (Collection::Pipelines, &pipelines),
    ] {
        let boxes = query_boxes(&mut rng, features);
        let (empty, nonempty) = check_bbox(s, collection, features, &boxes).await;
        totals = (totals.0 + empty, totals.1 + nonempty);
    }
    // The data must exercise both outcomes, or the comparison proves little.
    assert!(
        totals.0 >= 10 && totals.1 >= 30,
        "empty/non-empty results: {totals:?}"
    );
    // Other collections stay empty.
    let all = Rect::new(coord! {x: -180.0, y: -90.0}, coord! {x: 180.0, y: 90.0});
    assert!(
        s.query_bbox(Collection::Enterprises, all)
            .await
            .expect("query")
            .is_empty()
    );
}

/// Protection targets `tx-{i}` at distinct points, `version` in their properties.
fn numbered_targets(range: std::ops::Range<usize>, version: u32) -> Vec<Feature> {
    let features = range
        .map(|i| {
            let (x, y) = (
                120.0 + (i % 500) as f64 * 0.001,
                30.0 + (i / 500) as f64 * 0.001,
            );
            point(
                &format!("tx-{i:05}"),
                x,
                y,
                json!({"category": "office", "population": i, "version": version}),
            )
        })
        .collect();
    parse(Collection::ProtectionTargets, features)
}

/// Every committed write is logged once, in commit order, with its writer
/// and ids; failed writes and deletes of nothing log nothing; a watch wakes
/// after a write.
async fn writes_are_logged(store: Arc<dyn Store>) {
    const C: Collection = Collection::ProtectionTargets;
    let s = store.as_ref();
    assert_eq!(s.last_change().await.expect("last"), 0);
    let watch = s.watch().await.expect("watch");
    let base = numbered_targets(0..3, 1);
    s.import(C, &base, None).await.expect("import");
    tokio::time::timeout(std::time::Duration::from_secs(3), watch.changed())
        .await
        .expect("the watch wakes within 3 s of a write");
    s.put(&numbered_targets(7..8, 2)[0]).await.expect("put");
    assert_eq!(s.delete(C, "no-such-id").await.expect("delete"), None);
    s.delete(C, "tx-00001").await.expect("delete");
    // A failed write (a non-finite coordinate) logs nothing.
    let mut bad = numbered_targets(9..10, 1);
    bad[0].geometry = Geometry::Point(Point::new(f64::NAN, 30.0));
    assert!(s.put(&bad[0]).await.is_err());
    assert!(s.import(C, &bad, None).await.is_err());

    let log = s.changes_since(0, 100).await.expect("changes");
    let got: Vec<(u64, Option<Vec<String>>)> = log.iter().map(|c| (c.seq, c.ids.clone())).collect();
    let strings = |v: &[&str]| Some(v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    assert_eq!(
        got,
        vec![
            (1, strings(&["tx-00000", "tx-00001", "tx-00002"])),
            (2, strings(&["tx-00007"])),
            (3, strings(&["tx-00001"])),
        ]
    );
    assert!(
        log.iter()
            .all(|c| c.origin == s.origin() && c.collection == C)
    );
    assert_eq!(s.last_change().await.expect("last"), 3);
    let tail = s.changes_since(1, 1).await.expect("changes");
    assert_eq!(tail.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![2]);
    assert!(s.changes_since(3, 10).await.expect("changes").is_empty());
}

/// An insert of new features is refused whole, naming the ids, when any of
/// them exists; it logs nothing then. Two inserts of one new id racing from
/// two handles: exactly one lands.
async fn insert_refuses_existing_ids(store: Arc<dyn Store>) {
    const C: Collection = Collection::ProtectionTargets;
    let s = store.as_ref();
    s.insert(C, &numbered_targets(0..3, 1))
        .await
        .expect("insert");
    let logged = s.last_change().await.expect("last");
    let err = s
        .insert(C, &numbered_targets(2..6, 2))
        .await
        .expect_err("tx-00002 exists");
    match err {
        StoreError::Exists { collection, ids } => {
            assert_eq!(collection, C);
            assert_eq!(ids, vec!["tx-00002".to_string()]);
        }
        other => panic!("expected Exists, got {other}"),
    }
    assert_eq!(s.count(C).await.expect("count"), 3, "nothing was written");
    let kept = s.get(C, "tx-00002").await.expect("get").expect("kept");
    let riskmap_core::Record::ProtectionTarget(t) = &kept.record else {
        panic!("not a protection target")
    };
    assert_eq!(t.extra.get("version"), Some(&json!(1)), "kept as it was");
    assert_eq!(
        s.last_change().await.expect("last"),
        logged,
        "nothing logged"
    );
    // Racing inserts of one new id: one wins, the other is told it exists.
    let one = numbered_targets(10..11, 3);
    let (a, b) = tokio::join!(s.insert(C, &one), s.insert(C, &one));
    assert!(
        a.is_ok() != b.is_ok(),
        "exactly one insert lands: {a:?} / {b:?}"
    );
    assert_eq!(s.count(C).await.expect("count"), 4);
}

/// Imports are all or nothing: a database error at the 80th feature and a
/// panic in the middle of a 10,000+ feature import both leave the store as it was.
async fn import_is_transactional(store: Arc<dyn Store>) {
    const C: Collection = Collection::ProtectionTargets;
    let s = store.as_ref();
    let base = numbered_targets(0..100, 1);
    let summary = s.import(C, &base, None).await.expect("import base");
    assert_eq!(
        summary,
        ImportSummary {
            inserted: 100,
            replaced: 0
        }
    );
    assert_eq!(s.all(C).await.expect("all"), base);

    // 1. The store rejects the 80th feature (a NaN coordinate, which no
    //    validated feature has, and GeoJSON cannot carry): an error, and
    //    nothing of the batch is stored. Likewise for a single put.
    let mut batch = numbered_targets(50..130, 2);
    let ring = vec![
        (120.0, 30.0),
        (120.001, 30.0),
        (f64::NAN, 30.001),
        (120.0, 30.001),
        (120.0, 30.0),
    ];
    batch[79].geometry = Geometry::Polygon(Polygon::new(LineString::from(ring), vec![]));
    s.import(C, &batch, None)
        .await
        .expect_err("an import with a NaN coordinate must fail");
    assert_eq!(
        s.count(C).await.expect("count"),
        100,
        "failed import left rows behind"
    );
    assert_eq!(
        s.all(C).await.expect("all"),
        base,
        "failed import changed rows"
    );
    let mut bad = numbered_targets(500..501, 2).remove(0);
    bad.geometry = Geometry::Point(Point::new(f64::INFINITY, 30.0));
    s.put(&bad)
        .await
        .expect_err("a put with an infinite coordinate must fail");
    assert_eq!(s.get(C, &bad.id).await.expect("get"), None);
    bad.id = "tx-00001".into();
    s.put(&bad)
        .await
        .expect_err("a put with an infinite coordinate must fail");
    assert_eq!(
        s.all(C).await.expect("all"),
        base,
        "failed put changed rows"
    );

    // 2. A panic in the middle of a large import (from the progress callback,
    //    at 10,000 of 10,050 features) drops the import future mid-transaction.
    let mut batch = numbered_targets(0..100, 3);
    batch.extend(numbered_targets(100..10_050, 3));
    let task_store = Arc::clone(&store);
    let calls = Arc::new(AtomicUsize::new(0));
    let task_calls = Arc::clone(&calls);
    let joined = tokio::spawn(async move {
        let progress = move |done: usize, total: usize| {
            task_calls.fetch_add(1, Ordering::SeqCst);
            assert_eq!(total, 10_050);
            if done >= 10_000 {
                panic!("injected panic (expected by the test) after {done} of {total} features");
            }
        };
        task_store.import(C, &batch, Some(&progress)).await
    })
    .await;
    let err = joined.expect_err("the import task must panic");
    assert!(err.is_panic(), "{err}");
    assert!(
        calls.load(Ordering::SeqCst) >= 1,
        "progress was never called"
    );
    assert_eq!(
        s.count(C).await.expect("count"),
        100,
        "aborted import left rows behind"
    );
    assert_eq!(
        s.all(C).await.expect("all"),
        base,
        "aborted import changed rows"
    );

    // 3. Re-importing ids replaces instead of duplicating.
    let mut again = numbered_targets(0..100, 4);
    again.extend(numbered_targets(100..150, 4));
    let summary = s.import(C, &again, None).await.expect("re-import");
    assert_eq!(
        summary,
        ImportSummary {
            inserted: 50,
            replaced: 100
        }
    );
    assert_eq!(s.count(C).await.expect("count"), 150);
    assert_eq!(s.all(C).await.expect("all"), again);
    let summary = s.import(C, &again[..10], None).await.expect("re-import");
    assert_eq!(
        summary,
        ImportSummary {
            inserted: 0,
            replaced: 10
        }
    );
    assert_eq!(s.count(C).await.expect("count"), 150);
}

/// Readers running during a large import see it whole or not at all.
async fn readers_see_whole_imports(store: Arc<dyn Store>) {
    const C: Collection = Collection::ProtectionTargets;
    // Large enough to take a few seconds on every backend (one transaction),
    // small enough to keep the test under ~10 s in debug builds.
    const NEW: usize = 10_000;
    let mut rng = StdRng::seed_from_u64(7);
    let old: Vec<Value> = (0..500)
        .map(|i| {
            let (x, y) = (rng.random_range(120.0..120.5), rng.random_range(30.0..30.4));
            point(&format!("old-{i:04}"), x, y, json!({"category": "school"}))
        })
        .collect();
    let old = parse(C, old);
    store.import(C, &old, None).await.expect("import old");
    // The new features: a 200 × 50 grid of points, 0.002° apart.
    let new: Vec<Value> = (0..NEW)
        .map(|i| {
            let (x, y) = (
                120.0 + (i % 200) as f64 * 0.002,
                30.0 + (i / 200) as f64 * 0.002,
            );
            point(
                &format!("new-{i:05}"),
                x,
                y,
                json!({"category": "residential", "households": i % 300}),
            )
        })
        .collect();
    let new = parse(C, new);
    let bbox = Rect::new(coord! {x: 120.0, y: 30.0}, coord! {x: 120.0195, y: 30.0395});
    let in_box = |fs: &[Feature]| fs.iter().filter(|f| f.geometry.intersects(&bbox)).count();
    let (old_n, new_n) = (old.len() as u64, (old.len() + NEW) as u64);
    let (old_box, new_box) = (in_box(&old), in_box(&old) + in_box(&new));
    assert_eq!(new_box - old_box, 200, "10 × 20 grid points in the box");

    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for r in 0..4 {
        let (store, done) = (Arc::clone(&store), Arc::clone(&done));
        readers.push(tokio::spawn(async move {
            let (mut reads, mut saw_old, mut saw_new) = (0usize, false, false);
            loop {
                let finished = done.load(Ordering::SeqCst);
                let n = store
                    .count(C)
                    .await
                    .unwrap_or_else(|e| panic!("reader {r}: count failed: {e}"));
                assert!(
                    n == old_n || n == new_n,
                    "reader {r} saw count {n}, expected {old_n} or {new_n}"
                );
                let hits = store
                    .query_bbox(C, bbox)
                    .await
                    .unwrap_or_else(|e| panic!("reader {r}: query_bbox failed: {e}"));
                assert!(
                    hits.len() == old_box || hits.len() == new_box,
                    "reader {r} saw {} features in the box, expected {old_box} or {new_box}",
                    hits.len()
                );
                saw_old |= n == old_n;
                saw_new |= n == new_n;
                reads += 1;
                if finished {
                    return (reads, saw_old, saw_new);
                }
                // Leave the writer some CPU: the point is consistency, not load.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }));
    }
    let started = Instant::now();
    let writer_store = Arc::clone(&store);
    let writer = tokio::spawn(async move { writer_store.import(C, &new, None).await });
    let summary = writer.await.expect("writer task").expect("import");
    let import_time = started.elapsed();
    done.store(true, Ordering::SeqCst);
    assert_eq!(
        summary,
        ImportSummary {
            inserted: NEW,
            replaced: 0
        }
    );
    let mut stats = Vec::new();
    for r in readers {
        stats.push(r.await.expect("reader task"));
    }
    eprintln!(
        "{}: import of {NEW} took {import_time:?}; readers (reads, saw old, saw new): {stats:?}",
        store.backend()
    );
    assert!(
        stats.iter().all(|&(_, _, saw_new)| saw_new),
        "every reader's last read follows the commit"
    );
    assert_eq!(store.count(C).await.expect("count"), new_n);
    assert_eq!(
        store.query_bbox(C, bbox).await.expect("query").len(),
        new_box
    );
}

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Runs `body` in its own task so that a panic in it still lets us clean up.
async fn run_body<F, Fut>(store: Arc<dyn Store>, body: F) -> Result<(), tokio::task::JoinError>
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(body(store)).await
}

fn rethrow(result: Result<(), tokio::task::JoinError>) {
    match result {
        Ok(()) => {}
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("test task failed: {e}"),
    }
}

async fn run_sqlite<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let store = SqliteStore::open(dir.path())
        .await
        .expect("open SQLite store");
    let result = run_body(Arc::new(store), body).await;
    eprintln!("sqlite::{name} took {:?}", started.elapsed());
    rethrow(result);
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// `DATABASE_URL`, or `None` after printing why the PostGIS test is skipped.
fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("RISKMAP_REQUIRE_PG").as_deref() == Ok("1") => {
            panic!(
                "RISKMAP_REQUIRE_PG=1 but DATABASE_URL is unset: PostGIS tests cannot run (use scripts/with-postgis)"
            )
        }
        _ => {
            eprintln!("skipping PostGIS test: DATABASE_URL unset (run under scripts/with-postgis)");
            None
        }
    }
}

async fn exec(conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::query(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(drop)
}

async fn run_postgis<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = database_url() else { return };
    let started = Instant::now();
    let db = format!("riskmap_t_{:016x}", rand::random::<u64>());
    let mut admin = PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to DATABASE_URL {url}: {e}"));
    // A linguistic (ICU) collation, as production databases usually have, so
    // that "ordered by id" cannot silently depend on the C locale of the test
    // cluster. Falls back to the server default where ICU is unavailable.
    if let Err(e) = exec(
        &mut admin,
        format!("CREATE DATABASE {db} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"),
    )
    .await
    {
        eprintln!("note: no ICU database ({e}); using the server's default collation");
        exec(&mut admin, format!("CREATE DATABASE {db}"))
            .await
            .expect("CREATE DATABASE");
    }
    let opened = PostgresStore::connect(&with_database(&url, &db)).await;
    let result = match opened {
        Ok(store) => {
            let pool = store.pool().clone();
            let result = run_body(Arc::new(store), body).await;
            pool.close().await;
            Ok(result)
        }
        Err(e) => Err(e),
    };
    if let Err(e) = exec(
        &mut admin,
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    )
    .await
    {
        eprintln!("warning: could not drop test database {db}: {e}");
    }
    admin.close().await.ok();
    eprintln!("postgis::{name} took {:?}", started.elapsed());
    match result {
        Ok(result) => rethrow(result),
        Err(e) => panic!("cannot open PostgresStore on test database {db}: {e}"),
    }
}

fn entry(n: u32, actor: &str, action: &str, collection: &str, id: Option<&str>) -> AuditEntry {
    AuditEntry {
        at: format!("2026-12-06T08:00:{n:02}Z"),
        actor: actor.into(),
        action: action.into(),
        collection: collection.into(),
        id: id.map(str::to_string),
        before: None,
        after: Some(format!("{{\"n\":{n}}}")),
    }
}

fn stored(name: &str, role: Role, districts: &[&str]) -> StoredAccount {
    StoredAccount {
        account: Account {
            name: name.into(),
            role,
            districts: districts.iter().map(|d| d.to_string()).collect(),
            credit_code: None,
        },
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        created_at: "2026-12-06T08:00:00Z".into(),
        disabled_at: None,
    }
}

fn token(hash: &str, account: &str, created_at: &str) -> TokenRecord {
    TokenRecord {
        hash: hash.into(),
        id: hash[..8].into(),
        account: account.into(),
        label: "api".into(),
        created_at: created_at.into(),
        expires_at: None,
        revoked_at: None,
    }
}

/// Accounts, tokens and the audit log: a write and its audit entries land
/// together or not at all; the log reads back in order and filters; tokens
/// are found by hash and revoked one by one or all at once.
async fn accounts_tokens_and_audit(store: Arc<dyn Store>) {
    const C: Collection = Collection::ProtectionTargets;
    let s = store.as_ref();
    let targets = numbered_targets(0..3, 1);
    let e1 = entry(1, "reg-a", "create", "protection_targets", Some("tx-00000"));
    let e2 = entry(2, "reg-a", "create", "protection_targets", Some("tx-00001"));
    s.write(C, WriteOp::Upsert(&targets[..2]), &[e1.clone(), e2.clone()])
        .await
        .expect("upsert");
    // A refused insert stores neither the feature nor its entry.
    let e3 = entry(3, "ent-b", "create", "protection_targets", Some("tx-00001"));
    let err = s
        .write(C, WriteOp::Insert(&targets[1..3]), &[e3])
        .await
        .expect_err("tx-00001 exists");
    assert!(matches!(err, StoreError::Exists { .. }), "{err}");
    assert_eq!(s.count(C).await.expect("count"), 2, "nothing inserted");
    let e4 = entry(4, "reg-b", "delete", "protection_targets", Some("tx-00000"));
    s.write(
        C,
        WriteOp::Delete(&["tx-00000".to_string()]),
        std::slice::from_ref(&e4),
    )
    .await
    .expect("delete");
    assert!(s.get(C, "tx-00000").await.expect("get").is_none());
    let e5 = entry(5, "cli:ops", "import", "protection_targets", None);
    s.import_audited(C, &targets[2..3], None, std::slice::from_ref(&e5))
        .await
        .expect("import");

    let all = s
        .audit_log(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    let entries: Vec<&AuditEntry> = all.iter().map(|r| &r.entry).collect();
    assert_eq!(
        entries,
        vec![&e1, &e2, &e4, &e5],
        "in order, the refused one absent"
    );
    assert!(
        all.windows(2).all(|w| w[0].seq < w[1].seq),
        "positions rise"
    );
    let by_actor = s
        .audit_log(&AuditQuery {
            limit: 100,
            actor: Some("reg-a".into()),
            ..AuditQuery::default()
        })
        .await
        .expect("by actor");
    assert_eq!(by_actor.len(), 2);
    let by_id = s
        .audit_log(&AuditQuery {
            limit: 100,
            id: Some("tx-00000".into()),
            collection: Some("protection_targets".into()),
            ..AuditQuery::default()
        })
        .await
        .expect("by id");
    assert_eq!(
        by_id
            .iter()
            .map(|r| r.entry.action.as_str())
            .collect::<Vec<_>>(),
        ["create", "delete"]
    );
    let page = s
        .audit_log(&AuditQuery {
            after: all[0].seq,
            limit: 2,
            ..AuditQuery::default()
        })
        .await
        .expect("page");
    assert_eq!(page, all[1..3].to_vec(), "after and limit page");

    // Accounts.
    let reg = stored("reg-a", Role::Regulator, &["330114"]);
    let viewer = stored("view", Role::Viewer, &[]);
    s.put_account(
        &reg,
        &account_entry("2026-12-06T09:00:00Z", "admin", "account:create", &reg),
    )
    .await
    .expect("account");
    s.put_account(
        &viewer,
        &account_entry("2026-12-06T09:00:01Z", "admin", "account:create", &viewer),
    )
    .await
    .expect("account");
    assert_eq!(
        s.account("reg-a").await.expect("account"),
        Some(reg.clone())
    );
    assert_eq!(s.account("nobody").await.expect("account"), None);
    let mut disabled = viewer.clone();
    disabled.disabled_at = Some("2026-12-06T10:00:00Z".into());
    s.put_account(
        &disabled,
        &account_entry(
            "2026-12-06T10:00:00Z",
            "admin",
            "account:disable",
            &disabled,
        ),
    )
    .await
    .expect("disable");
    assert_eq!(
        s.accounts().await.expect("accounts"),
        vec![reg.clone(), disabled]
    );

    // Tokens.
    let h1 = "a1".repeat(32);
    let h2 = "b2".repeat(32);
    let h3 = "c3".repeat(32);
    s.add_token(&token(&h1, "reg-a", "2026-12-06T09:01:00Z"), None)
        .await
        .expect("token");
    s.add_token(&token(&h2, "reg-a", "2026-12-06T09:02:00Z"), None)
        .await
        .expect("token");
    s.add_token(&token(&h3, "reg-a", "2026-12-06T09:03:00Z"), None)
        .await
        .expect("token");
    let (acc, tok) = s.token(&h2).await.expect("token").expect("found");
    assert_eq!(acc, reg);
    assert_eq!(tok, token(&h2, "reg-a", "2026-12-06T09:02:00Z"));
    assert!(s.token(&"d4".repeat(32)).await.expect("token").is_none());
    let listed = s.tokens("reg-a").await.expect("tokens");
    assert_eq!(
        listed.iter().map(|t| t.hash.as_str()).collect::<Vec<_>>(),
        [h3.as_str(), h2.as_str(), h1.as_str()],
        "newest first"
    );
    let revoke = entry(9, "admin", "token:revoke", "accounts", Some("reg-a"));
    assert_eq!(
        s.revoke_tokens("reg-a", Some(&h2[..8]), &revoke)
            .await
            .expect("revoke"),
        1
    );
    let (_, tok) = s.token(&h2).await.expect("token").expect("found");
    assert!(tok.revoked_at.is_some(), "revoked");
    assert!(
        s.token(&h1)
            .await
            .expect("token")
            .expect("found")
            .1
            .revoked_at
            .is_none()
    );
    assert_eq!(
        s.revoke_tokens("reg-a", None, &revoke)
            .await
            .expect("revoke"),
        2,
        "the other two"
    );
    assert_eq!(
        s.revoke_tokens("reg-a", None, &revoke)
            .await
            .expect("revoke"),
        0,
        "none left"
    );
    let log = s
        .audit_log(&AuditQuery {
            limit: 100,
            collection: Some("accounts".into()),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert_eq!(
        log.iter()
            .map(|r| r.entry.action.as_str())
            .collect::<Vec<_>>(),
        [
            "account:create",
            "account:create",
            "account:disable",
            "token:revoke",
            "token:revoke"
        ],
        "a revocation that revokes nothing records nothing"
    );
}

async fn incidents_round_trip_with_their_audit(store: Arc<dyn Store>) {
    use riskmap_store::access::{StoredIncident, incident_entry};
    let mut a = StoredIncident {
        id: "inc-1".into(),
        status: "open".into(),
        request: json!({"substance": "氯气", "wind_from_deg": 45.0, "wind_speed_m_s": 2.5}),
        created_at: "2026-12-06T10:00:00Z".into(),
        created_by: "指挥员".into(),
        updated_at: "2026-12-06T10:00:00Z".into(),
        closed_at: None,
        revision: 1,
    };
    store
        .put_incident(
            &a,
            &incident_entry(&a.created_at, "指挥员", "incident:create", None, &a),
        )
        .await
        .expect("incident store");
    let mut b = a.clone();
    b.id = "inc-2".into();
    b.created_at = "2026-12-06T11:00:00Z".into();
    store
        .put_incident(
            &b,
            &incident_entry(&b.created_at, "值班员", "incident:create", None, &b),
        )
        .await
        .expect("incident store");
    let before = a.clone();
    a.request["wind_from_deg"] = json!(90.0);
    a.revision = 2;
    a.updated_at = "2026-12-06T10:05:00Z".into();
    store
        .put_incident(
            &a,
            &incident_entry(
                &a.updated_at,
                "指挥员",
                "incident:update",
                Some(&before),
                &a,
            ),
        )
        .await
        .expect("incident store");
    assert_eq!(
        store.incident("inc-1").await.expect("incident store"),
        Some(a.clone())
    );
    assert_eq!(store.incident("nope").await.expect("incident store"), None);
    let all = store.incidents().await.expect("incident store");
    assert_eq!(
        all.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["inc-2", "inc-1"]
    );
    let log = store
        .audit_log(&AuditQuery {
            collection: Some("incidents".into()),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .expect("incident store");
    assert_eq!(log.len(), 3);
    let last = &log[2].entry;
    assert_eq!(last.action, "incident:update");
    let before_v: Value = serde_json::from_str(last.before.as_deref().expect("incident store"))
        .expect("incident store");
    assert_eq!(before_v["request"]["wind_from_deg"], json!(45.0));
}

fn derived(at: &str, kind: &str, id: &str, bbox: Option<[f64; 4]>) -> DerivedChange {
    DerivedChange {
        at: at.into(),
        kind: kind.into(),
        collection: "enterprises".into(),
        id: id.into(),
        bbox,
        detail: json!({"id": id, "old": "blue", "new": "red", "reason": "score 80 → 40"})
            .to_string(),
    }
}

fn derived_query(since: &str, until: &str, bbox: Option<Rect<f64>>) -> DerivedQuery {
    DerivedQuery {
        since: time_bound(since),
        until: time_bound(until),
        bbox,
        after: 0,
        limit: 1000,
    }
}

/// Derived changes (levels, violations) land with the write that caused
/// them or not at all; they are read back by time window (fractional
/// seconds included), by box and in pages. The audit log reads by time too.
async fn derived_changes_land_with_their_writes(store: Arc<dyn Store>) {
    const C: Collection = Collection::ProtectionTargets;
    let s = store.as_ref();
    let window = derived_query("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", None);
    assert!(s.derived_changes(&window).await.expect("read").is_empty());

    // A write records its derived changes in its transaction.
    let t1 = numbered_targets(0..2, 1);
    let d1 = vec![
        derived(
            "2026-12-06T08:00:01Z",
            kind::LEVEL,
            "e1",
            Some([120.0, 30.0, 120.1, 30.1]),
        ),
        derived("2026-12-06T08:00:01Z", kind::VIOLATION_NEW, "e1|t|z", None),
    ];
    s.write_with_changes(
        C,
        WriteOp::Upsert(&t1),
        &[entry(
            1,
            "a",
            "create",
            "protection_targets",
            Some("tx-00000"),
        )],
        &d1,
    )
    .await
    .expect("write");
    let rows = s.derived_changes(&window).await.expect("read");
    assert_eq!(
        rows.iter().map(|r| &r.change).collect::<Vec<_>>(),
        d1.iter().collect::<Vec<_>>()
    );
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);

    // A refused insert and a delete of nothing record nothing.
    let refused = s
        .write_with_changes(
            C,
            WriteOp::Insert(&t1[..1]),
            &[],
            &[derived("2026-12-06T08:00:02Z", kind::LEVEL, "x", None)],
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Exists { .. })),
        "{refused:?}"
    );
    let nothing = vec!["no-such-id".to_string()];
    s.write_with_changes(
        C,
        WriteOp::Delete(&nothing),
        &[],
        &[derived("2026-12-06T08:00:03Z", kind::LEVEL, "y", None)],
    )
    .await
    .expect("delete of nothing");
    // A failed write (non-finite coordinate) records nothing.
    let mut bad = numbered_targets(9..10, 1);
    bad[0].geometry = Geometry::Point(Point::new(f64::NAN, 30.0));
    assert!(
        s.write_with_changes(
            C,
            WriteOp::Upsert(&bad),
            &[],
            &[derived("2026-12-06T08:00:04Z", kind::LEVEL, "z", None)]
        )
        .await
        .is_err()
    );
    assert_eq!(s.derived_changes(&window).await.expect("read").len(), 2);
    assert_eq!(s.count(C).await.expect("count"), 2);

    // A delete records its own; so does the day's rollover, alone.
    let gone = vec!["tx-00001".to_string()];
    let d2 = derived(
        "2026-12-06T09:00:00Z",
        kind::VIOLATION_CLEARED,
        "e1|t|z",
        Some([120.05, 30.05, 120.05, 30.05]),
    );
    s.write_with_changes(C, WriteOp::Delete(&gone), &[], std::slice::from_ref(&d2))
        .await
        .expect("delete");
    s.record_changes(&[]).await.expect("nothing to record");
    // Around the China-time midnight of 2026-12-06 (16:00 UTC the day before).
    let edge = [
        "2026-12-05T15:59:59.999Z",
        "2026-12-05T16:00:00Z",
        "2026-12-05T16:00:00.5Z",
        "2026-12-06T15:59:59.25Z",
        "2026-12-06T16:00:00Z",
    ];
    let day: Vec<DerivedChange> = edge
        .iter()
        .enumerate()
        .map(|(i, at)| {
            derived(
                at,
                kind::LEVEL,
                &format!("d{i}"),
                Some([121.0, 31.0, 121.0, 31.0]),
            )
        })
        .collect();
    s.record_changes(&day).await.expect("record");
    let rows = s.derived_changes(&window).await.expect("read");
    assert_eq!(rows.len(), 8);
    let ids = |rows: &[DerivedRow]| rows.iter().map(|r| r.change.id.clone()).collect::<Vec<_>>();
    let in_day = s
        .derived_changes(&derived_query(
            "2026-12-05T16:00:00Z",
            "2026-12-06T16:00:00Z",
            None,
        ))
        .await
        .expect("read");
    assert_eq!(
        ids(&in_day),
        vec!["e1", "e1|t|z", "e1|t|z", "d1", "d2", "d3"]
    );

    // By box: touching counts; rows without a box are left out.
    let near = Rect::new(coord! {x: 120.05, y: 30.05}, coord! {x: 120.2, y: 30.2});
    let got = s
        .derived_changes(&derived_query(
            "2000-01-01T00:00:00Z",
            "2100-01-01T00:00:00Z",
            Some(near),
        ))
        .await
        .expect("read");
    assert_eq!(ids(&got), vec!["e1", "e1|t|z"]);
    assert_eq!(got[1].change.kind, kind::VIOLATION_CLEARED);
    let touch = Rect::new(coord! {x: 120.1, y: 30.1}, coord! {x: 120.3, y: 30.3});
    let got = s
        .derived_changes(&derived_query(
            "2000-01-01T00:00:00Z",
            "2100-01-01T00:00:00Z",
            Some(touch),
        ))
        .await
        .expect("read");
    assert_eq!(ids(&got), vec!["e1"]);
    let away = Rect::new(coord! {x: 100.0, y: 20.0}, coord! {x: 101.0, y: 21.0});
    assert!(
        s.derived_changes(&derived_query(
            "2000-01-01T00:00:00Z",
            "2100-01-01T00:00:00Z",
            Some(away)
        ))
        .await
        .expect("read")
        .is_empty()
    );

    // In pages.
    let mut q = window.clone();
    q.limit = 3;
    let first = s.derived_changes(&q).await.expect("read");
    q.after = first.last().expect("a page").seq;
    let second = s.derived_changes(&q).await.expect("read");
    assert_eq!(first.len() + second.len(), 6);
    assert!(first.last().expect("first").seq < second[0].seq);

    // The audit log by time, on the same convention.
    let audit: Vec<AuditEntry> = edge
        .iter()
        .enumerate()
        .map(|(i, at)| AuditEntry {
            at: at.to_string(),
            ..entry(
                i as u32,
                "a",
                "replace",
                "protection_targets",
                Some("tx-00000"),
            )
        })
        .collect();
    let t0 = numbered_targets(0..1, 2);
    s.write(C, WriteOp::Upsert(&t0), &audit)
        .await
        .expect("write");
    let rows = s
        .audit_log(&AuditQuery {
            limit: 100,
            since: Some(time_bound("2026-12-05T16:00:00Z")),
            until: Some(time_bound("2026-12-06T16:00:00Z")),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert_eq!(
        rows.iter().map(|r| r.entry.at.as_str()).collect::<Vec<_>>(),
        vec![
            "2026-12-06T08:00:01Z",
            "2026-12-05T16:00:00Z",
            "2026-12-05T16:00:00.5Z",
            "2026-12-06T15:59:59.25Z"
        ]
    );
}

/// The last change time (最后更新时间): a time the writer gives is kept to
/// the millisecond; without one, the store stamps the write with its
/// commit time. A rewrite moves it, and a delete returns it.
async fn last_change_times_are_kept(store: Arc<dyn Store>) {
    const C: Collection = Collection::ProtectionTargets;
    let s = store.as_ref();
    let mut unstamped = numbered_targets(0..5, 1);
    for f in &mut unstamped {
        f.updated = None;
    }
    let before = riskmap_store::codec::now_stamp();
    s.import(C, &unstamped[..3], None).await.expect("import");
    s.put(&unstamped[3]).await.expect("put");
    s.write(C, WriteOp::Upsert(&unstamped[4..]), &[])
        .await
        .expect("write");
    let after = riskmap_store::codec::now_stamp();
    let all = s.all(C).await.expect("all");
    assert_eq!(all.len(), 5);
    for f in &all {
        let t = f
            .updated
            .as_deref()
            .expect("a stored feature has a change time");
        assert!(
            before.as_str() <= t && t <= after.as_str(),
            "{}: stamped {t}, written between {before} and {after}",
            f.id
        );
        assert!(t.parse::<jiff::Timestamp>().is_ok(), "{t} is RFC 3339");
    }
    // Given times are kept, by every write path.
    let mut given = numbered_targets(0..5, 2);
    for (i, f) in given.iter_mut().enumerate() {
        f.updated = Some(format!("2025-0{}-02T03:04:05.{i}78Z", i + 1));
    }
    s.put(&given[0]).await.expect("put");
    s.write(C, WriteOp::Upsert(&given[1..3]), &[])
        .await
        .expect("write");
    s.import(C, &given[3..], None).await.expect("import");
    assert_eq!(s.all(C).await.expect("all"), given);
    assert_eq!(
        s.get(C, &given[2].id).await.expect("get"),
        Some(given[2].clone())
    );
    // A rewrite without a time moves it to now.
    s.put(&unstamped[0]).await.expect("put");
    let t = s
        .get(C, &unstamped[0].id)
        .await
        .expect("get")
        .expect("stored");
    assert!(
        t.updated.as_deref() >= Some(after.as_str()),
        "{:?}",
        t.updated
    );
    // A delete returns the feature with its time.
    let gone = s.delete(C, &given[1].id).await.expect("delete");
    assert_eq!(gone, Some(given[1].clone()));
}

macro_rules! conformance {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::run_sqlite(stringify!($test), super::$test).await;
                }
            )+
        }
        mod postgis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::run_postgis(stringify!($test), super::$test).await;
                }
            )+
        }
    };
}

conformance!(
    crud,
    bbox_matches_oracle,
    import_is_transactional,
    readers_see_whole_imports,
    writes_are_logged,
    insert_refuses_existing_ids,
    accounts_tokens_and_audit,
    incidents_round_trip_with_their_audit,
    derived_changes_land_with_their_writes,
    last_change_times_are_kept
);

#[test]
fn with_database_replaces_the_path() {
    assert_eq!(
        with_database("postgres://u@h:5/riskmap", "x"),
        "postgres://u@h:5/x"
    );
    assert_eq!(
        with_database("postgres://u@h:5/riskmap?sslmode=disable", "x"),
        "postgres://u@h:5/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
}
