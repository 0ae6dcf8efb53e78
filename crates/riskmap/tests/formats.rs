//! End-to-end: GIS formats in and out, against GDAL (`ogr2ogr`, Debian
//! `gdal-bin`) as the independent reference.
//!
//! - A Shapefile `ogr2ogr` writes in EPSG:4549 (CGCS2000 3° Gauss–Krüger CM
//!   120E) with a GBK DBF and Chinese field names, zipped, imports with
//!   every vertex within 1 m (geodesic) of the source and the names intact;
//!   the same without its `.cpg` (the encoding detected) and in the
//!   zone-prefixed EPSG:4528.
//! - A GeoPackage, a FlatGeobuf and a KML written by `ogr2ogr` import equal
//!   to the source.
//! - GeoPackage and zipped Shapefile exports (CLI and `?f=gpkg|shp`), read
//!   back by `ogr2ogr -f GeoJSON`, equal the items: ids, names, levels,
//!   geometry within 1e-7°.
//! - A `POST` of a zipped Shapefile inserts; one bad record refuses it whole,
//!   naming the record and the field; GeoPackage, FlatGeobuf and KML bodies
//!   insert too.
//! - A BD-09 CSV lands within 1 m of the WGS84 truth.
//!
//! Without `ogr2ogr` the GDAL tests are skipped with a message, unless
//! `RISKMAP_REQUIRE_GDAL=1` (as `scripts/test` sets), when they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, client, repo_root, riskmap};
use geo::{Distance, Geodesic};
use riskmap_core::{Collection, Feature};
use riskmap_spatial::Crs;
use riskmap_store::{SqliteStore, Store};
use serde_json::{Value, json};

const TOKEN: &str = "formats-test-token";

fn gdal() -> bool {
    let ok = Command::new("ogr2ogr")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("RISKMAP_REQUIRE_GDAL").as_deref() != Ok("1"),
            "RISKMAP_REQUIRE_GDAL=1 but ogr2ogr (gdal-bin) is not installed"
        );
        eprintln!("skipped: ogr2ogr (gdal-bin) not installed; set RISKMAP_REQUIRE_GDAL=1 to fail");
    }
    ok
}

fn ogr2ogr(args: &[&str]) {
    let out = Command::new("ogr2ogr").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ogr2ogr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A file as GDAL reads it, as GeoJSON (WGS84).
fn gdal_geojson(path: &Path) -> Value {
    let out = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "-t_srs", "EPSG:4326", "/vsistdout/"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ogr2ogr {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every layer of a zipped Shapefile (one per geometry kind) as GDAL reads
/// it, as one GeoJSON FeatureCollection.
fn gdal_shapefile_zip(path: &Path) -> Value {
    let zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let shps: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| n.ends_with(".shp"))
        .map(|n| n.into_owned())
        .collect();
    assert!(!shps.is_empty());
    let mut features = Vec::new();
    for shp in shps {
        let layer = gdal_geojson(&PathBuf::from(format!("/vsizip/{}/{shp}", path.display())));
        features.extend(layer["features"].as_array().unwrap().iter().cloned());
    }
    json!({"type": "FeatureCollection", "features": features})
}

fn run(args: &[&str], data: &Path) -> std::process::Output {
    riskmap()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn all(data: &Path, c: Collection) -> Vec<Feature> {
    SqliteStore::open(data).await.unwrap().all(c).await.unwrap()
}

fn demo(c: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(format!("data/demo/{c}.geojson"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Zips every file of `dir` (flat) into `out`, leaving out `skip` extensions.
fn zip_dir(dir: &Path, out: &Path, skip: &[&str]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let ext = p
            .extension()
            .unwrap()
            .to_string_lossy()
            .to_ascii_lowercase();
        if skip.contains(&ext.as_str()) {
            continue;
        }
        zip.start_file(p.file_name().unwrap().to_string_lossy(), options)
            .unwrap();
        zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

/// Every position of a geometry, (lon, lat).
fn positions(g: &geo::Geometry<f64>) -> Vec<(f64, f64)> {
    use geo::CoordsIter;
    g.coords_iter().map(|c| (c.x, c.y)).collect()
}

/// The largest distance in metres from a vertex of `a` to the nearest of
/// `b`'s, and the other way (ring starts and orientation may differ).
fn vertex_gap_m(a: &geo::Geometry<f64>, b: &geo::Geometry<f64>) -> f64 {
    let (pa, pb) = (positions(a), positions(b));
    let near = |p: &(f64, f64), qs: &[(f64, f64)]| {
        qs.iter()
            .map(|q| Geodesic.distance(geo::Point::new(p.0, p.1), geo::Point::new(q.0, q.1)))
            .fold(f64::INFINITY, f64::min)
    };
    pa.iter()
        .map(|p| near(p, &pb))
        .chain(pb.iter().map(|q| near(q, &pa)))
        .fold(0.0, f64::max)
}

/// The largest coordinate difference in degrees from a vertex of `a` to the
/// nearest of `b`'s, and the other way.
fn vertex_gap_deg(a: &geo::Geometry<f64>, b: &geo::Geometry<f64>) -> f64 {
    let (pa, pb) = (positions(a), positions(b));
    let near = |p: &(f64, f64), qs: &[(f64, f64)]| {
        qs.iter()
            .map(|q| (p.0 - q.0).abs().max((p.1 - q.1).abs()))
            .fold(f64::INFINITY, f64::min)
    };
    pa.iter()
        .map(|p| near(p, &pb))
        .chain(pb.iter().map(|q| near(q, &pa)))
        .fold(0.0, f64::max)
}

fn geometry_of(v: &Value) -> geo::Geometry<f64> {
    let g: geojson::Geometry = serde_json::from_value(v.clone()).unwrap();
    geo::Geometry::<f64>::try_from(g.value).unwrap()
}

/// A few demo enterprises with the usual Chinese field names of a
/// register, as a GeoJSON file (no references to other collections).
fn enterprises_in_chinese(n: usize) -> (Value, Vec<(String, String, geo::Geometry<f64>)>) {
    let src = demo("enterprises");
    let mut truth = Vec::new();
    let features: Vec<Value> = src["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["geometry"]["type"] == "Polygon")
        .take(n)
        .map(|f| {
            let p = &f["properties"];
            truth.push((
                f["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
                geometry_of(&f["geometry"]),
            ));
            json!({"type": "Feature", "geometry": f["geometry"], "properties": {
                "企业编号": f["id"], "名称": p["name"], "统一社会信用代码": p["credit_code"],
                "行业": p["industry"], "从业人数": p["employees"]}})
        })
        .collect();
    (
        json!({"type": "FeatureCollection", "features": features}),
        truth,
    )
}

#[tokio::test]
async fn a_gbk_shapefile_in_gauss_kruger_imports_within_a_metre() {
    if !gdal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (source, truth) = enterprises_in_chinese(8);
    let src = dir.path().join("src.geojson");
    std::fs::write(&src, source.to_string()).unwrap();
    for (epsg, skip_cpg) in [
        ("EPSG:4549", false),
        ("EPSG:4549", true),
        ("EPSG:4528", false),
    ] {
        let shp_dir = dir.path().join(format!("shp-{}-{skip_cpg}", &epsg[5..]));
        ogr2ogr(&[
            "-f",
            "ESRI Shapefile",
            "-t_srs",
            epsg,
            "-lco",
            "ENCODING=GBK",
            "-nln",
            "企业",
            shp_dir.to_str().unwrap(),
            src.to_str().unwrap(),
        ]);
        // The DBF really is GBK: its names are not UTF-8.
        let dbf = std::fs::read(shp_dir.join("企业.dbf")).unwrap();
        let (gbk_name, _, _) = encoding_rs::GBK.encode(&truth[0].1);
        assert!(dbf.windows(gbk_name.len()).any(|w| w == &gbk_name[..]));
        assert!(std::str::from_utf8(&dbf[32..]).is_err());
        let zip = dir
            .path()
            .join(format!("企业-{}-{skip_cpg}.zip", &epsg[5..]));
        zip_dir(&shp_dir, &zip, if skip_cpg { &["cpg"] } else { &[] });
        let data = dir.path().join(format!("data-{}-{skip_cpg}", &epsg[5..]));
        let out = run(&["import", "enterprises", zip.to_str().unwrap()], &data);
        assert_ok(&out);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(log.contains(&format!("coordinates in {epsg}")), "{log}");
        let stored = all(&data, Collection::Enterprises).await;
        assert_eq!(stored.len(), truth.len());
        let mut worst: f64 = 0.0;
        for (id, name, geometry) in &truth {
            let f = stored.iter().find(|f| &f.id == id).unwrap();
            let props = f.record.to_properties();
            assert_eq!(props["name"], json!(name), "{epsg} {id}");
            assert!(props["credit_code"].is_string(), "{epsg} {id}: {props:?}");
            assert!(props["employees"].is_number(), "{epsg} {id}: {props:?}");
            worst = worst.max(vertex_gap_m(&f.geometry, geometry));
        }
        eprintln!("{epsg} (cpg {}): worst vertex {worst:.3e} m", !skip_cpg);
        assert!(worst < 1.0, "{epsg}: {worst} m");
    }
}

/// Demo protection targets (points and polygons) with the schema's simple fields.
fn targets_source(n: usize) -> Value {
    let src = demo("protection_targets");
    let all = src["features"].as_array().unwrap();
    let points = all
        .iter()
        .filter(|f| f["geometry"]["type"] == "Point")
        .take(n / 3);
    let polygons = all
        .iter()
        .filter(|f| f["geometry"]["type"] == "Polygon")
        .take(n - n / 3);
    let features: Vec<Value> = points
        .chain(polygons)
        .map(|f| {
            let p = &f["properties"];
            let mut props = serde_json::Map::new();
            props.insert("id".into(), f["id"].clone());
            for k in [
                "name",
                "category",
                "population",
                "households",
                "floor_area_m2",
            ] {
                if !p[k].is_null() {
                    props.insert(k.into(), p[k].clone());
                }
            }
            json!({"type": "Feature", "geometry": f["geometry"], "properties": props})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

#[tokio::test]
async fn geopackage_flatgeobuf_and_kml_from_gdal_import_equal_to_the_source() {
    if !gdal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = targets_source(24);
    let src = dir.path().join("src.geojson");
    std::fs::write(&src, source.to_string()).unwrap();
    let want = riskmap_core::import::parse_geojson(
        Collection::ProtectionTargets,
        &source.to_string(),
        Crs::Wgs84,
    )
    .unwrap();
    for (driver, ext, tolerance) in [
        ("GPKG", "gpkg", 0.0),
        ("FlatGeobuf", "fgb", 0.0),
        ("KML", "kml", 1e-9),
    ] {
        let file = dir.path().join(format!("targets.{ext}"));
        ogr2ogr(&["-f", driver, file.to_str().unwrap(), src.to_str().unwrap()]);
        let data = dir.path().join(format!("data-{ext}"));
        let out = run(
            &["import", "protection_targets", file.to_str().unwrap()],
            &data,
        );
        assert_ok(&out);
        let got = all(&data, Collection::ProtectionTargets).await;
        assert_eq!(got.len(), want.len(), "{driver}");
        for w in &want {
            let g = got
                .iter()
                .find(|g| g.id == w.id)
                .unwrap_or_else(|| panic!("{driver}: {} missing", w.id));
            assert_eq!(g.record, w.record, "{driver} {}", w.id);
            let gap = vertex_gap_deg(&g.geometry, &w.geometry);
            assert!(gap <= tolerance, "{driver} {}: {gap}°", w.id);
            assert_eq!(
                positions(&g.geometry).len(),
                positions(&w.geometry).len(),
                "{driver} {}",
                w.id
            );
        }
    }
}

/// `(id, name, risk_level, geometry)` of a GeoJSON FeatureCollection, by id.
fn items_of(fc: &Value) -> Vec<(String, String, Option<String>, geo::Geometry<f64>)> {
    let mut out: Vec<_> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let id = p["id"].as_str().or(f["id"].as_str()).unwrap().to_string();
            (
                id,
                p["name"].as_str().unwrap_or_default().to_string(),
                p["risk_level"].as_str().map(str::to_string),
                geometry_of(&f["geometry"]),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn assert_same_items(
    what: &str,
    got: &[(String, String, Option<String>, geo::Geometry<f64>)],
    want: &[(String, String, Option<String>, geo::Geometry<f64>)],
) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((&g.0, &g.1, &g.2), (&w.0, &w.1, &w.2), "{what}");
        let gap = vertex_gap_deg(&g.3, &w.3);
        assert!(gap < 1e-7, "{what} {}: {gap}°", g.0);
        assert_eq!(
            positions(&g.3).len(),
            positions(&w.3).len(),
            "{what} {}",
            g.0
        );
    }
}

#[tokio::test]
async fn geopackage_and_shapefile_exports_read_by_gdal_equal_the_items() {
    if !gdal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gpkg = dir.path().join("enterprises.gpkg");
    let shp = dir.path().join("enterprises.shp.zip");
    assert_ok(&run(
        &["export", "enterprises", gpkg.to_str().unwrap()],
        &data,
    ));
    assert_ok(&run(
        &["export", "enterprises", shp.to_str().unwrap()],
        &data,
    ));
    let server = Server::start(&["--data-dir", data.to_str().unwrap()]);
    let items: Value = client()
        .get(server.url("/collections/enterprises/items?limit=10000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let want = items_of(&items);
    assert!(want.len() > 30);
    assert!(
        want.iter().all(|w| w.2.is_some()),
        "every enterprise has a level"
    );
    // ogrinfo sees a GeoPackage layer in EPSG:4326.
    let info = Command::new("ogrinfo")
        .args(["-so", "-al"])
        .arg(&gpkg)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Layer name: enterprises"), "{info}");
    assert!(
        info.contains(&format!("Feature Count: {}", want.len())),
        "{info}"
    );
    assert!(
        info.contains("EPSG\",4326") || info.contains("WGS 84"),
        "{info}"
    );
    let from_gpkg = gdal_geojson(&gpkg);
    assert_same_items("gpkg (CLI)", &items_of(&from_gpkg), &want);
    let p = &from_gpkg["features"][0]["properties"];
    assert!(
        p["risk_summary"].as_str().is_some_and(|s| !s.is_empty()),
        "{p}"
    );
    assert!(p["risk_model"].as_str().is_some(), "{p}");
    let from_shp = gdal_shapefile_zip(&shp);
    assert_same_items("shp.zip (CLI)", &items_of(&from_shp), &want);
    // The same through HTTP.
    for (f, name) in [("gpkg", "http.gpkg"), ("shp", "http.shp.zip")] {
        let resp = client()
            .get(server.url(&format!("/collections/enterprises/items?f={f}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let path = dir.path().join(name);
        std::fs::write(&path, resp.bytes().await.unwrap()).unwrap();
        let read = if f == "shp" {
            gdal_shapefile_zip(&path)
        } else {
            gdal_geojson(&path)
        };
        assert_same_items(&format!("f={f}"), &items_of(&read), &want);
    }
    let resp = client()
        .get(server.url("/collections/enterprises/items?f=geojson"))
        .send()
        .await
        .unwrap();
    let fc: Value = resp.json().await.unwrap();
    assert_same_items("f=geojson", &items_of(&fc), &want);

    // A CQL2 filter selects the same features from the CLI and HTTP as a
    // brute force over the items.
    let red: Vec<_> = want
        .iter()
        .filter(|w| w.2.as_deref() == Some("red"))
        .cloned()
        .collect();
    assert!(!red.is_empty() && red.len() < want.len());
    let red_gpkg = dir.path().join("red.gpkg");
    assert_ok(&run(
        &[
            "export",
            "enterprises",
            red_gpkg.to_str().unwrap(),
            "--filter",
            "risk_level = 'red'",
        ],
        &data,
    ));
    assert_same_items(
        "gpkg --filter (CLI)",
        &items_of(&gdal_geojson(&red_gpkg)),
        &red,
    );
    let resp = client()
        .get(
            server.url("/collections/enterprises/items?f=gpkg&filter=risk_level%20%3D%20%27red%27"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let path = dir.path().join("red-http.gpkg");
    std::fs::write(&path, resp.bytes().await.unwrap()).unwrap();
    assert_same_items("f=gpkg&filter", &items_of(&gdal_geojson(&path)), &red);
    // A bad filter names itself and writes nothing.
    let bad = dir.path().join("bad.gpkg");
    let out = run(
        &[
            "export",
            "enterprises",
            bad.to_str().unwrap(),
            "--filter",
            "colour = 'red'",
        ],
        &data,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));
    assert!(!bad.exists());
}

#[tokio::test]
async fn a_posted_shapefile_lands_whole_or_not_at_all() {
    if !gdal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data-dir", data.to_str().unwrap(), "--admin-token", TOKEN]);
    let mut source = targets_source(6);
    for (i, f) in source["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        f["properties"]["id"] = json!(format!("shp-{i}"));
    }
    let post = |source: &Value, tag: &str| {
        let src = dir.path().join(format!("{tag}.geojson"));
        std::fs::write(&src, source.to_string()).unwrap();
        let shp_dir = dir.path().join(format!("{tag}-shp"));
        // Polygons only: a Shapefile holds one geometry kind.
        ogr2ogr(&[
            "-f",
            "ESRI Shapefile",
            "-lco",
            "ENCODING=UTF-8",
            "-where",
            "OGR_GEOMETRY = 'POLYGON'",
            shp_dir.to_str().unwrap(),
            src.to_str().unwrap(),
        ]);
        let zip = dir.path().join(format!("{tag}.zip"));
        zip_dir(&shp_dir, &zip, &[]);
        let body = std::fs::read(&zip).unwrap();
        let url = server.url("/collections/protection_targets/items");
        async move {
            client()
                .post(url)
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("content-type", "application/zip")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let polygons: Vec<String> = source["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["geometry"]["type"] == "Polygon")
        .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(polygons.len() >= 3);
    // One bad record (a category no one knows): 400 naming it; nothing stored.
    let mut bad = source.clone();
    for f in bad["features"].as_array_mut().unwrap() {
        if f["properties"]["id"] == json!(polygons[1]) {
            f["properties"]["category"] = json!("castle");
        }
    }
    let resp = post(&bad, "bad").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["total"], 1, "{body}");
    let e = &body["errors"][0];
    assert_eq!(e["index"], 1, "{body}");
    assert_eq!(e["id"], json!(polygons[1]), "{body}");
    assert_eq!(e["field"], "category", "{body}");
    assert_eq!(e["column"], "category", "{body}");
    for id in &polygons {
        let r = client()
            .get(server.url(&format!("/collections/protection_targets/items/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{id} stored after a refused import");
    }
    // The good file lands whole.
    let resp = post(&source, "good").await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["inserted"], polygons.len(), "{body}");
    let got: Value = client()
        .get(server.url(&format!(
            "/collections/protection_targets/items/{}",
            polygons[0]
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let want = source["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["id"] == json!(polygons[0]))
        .unwrap();
    assert_eq!(got["properties"]["name"], want["properties"]["name"]);
    assert!(
        vertex_gap_deg(
            &geometry_of(&got["geometry"]),
            &geometry_of(&want["geometry"])
        ) < 1e-9
    );
    // The points as a GeoPackage, a FlatGeobuf and a KML body.
    let points: Vec<Value> = source["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["geometry"]["type"] == "Point")
        .cloned()
        .collect();
    assert!(points.len() >= 2);
    for (i, (driver, ext, media)) in [
        ("GPKG", "gpkg", "application/geopackage+sqlite3"),
        ("FlatGeobuf", "fgb", "application/flatgeobuf"),
        ("KML", "kml", "application/vnd.google-earth.kml+xml"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut fc = json!({"type": "FeatureCollection", "features": points.clone()});
        for f in fc["features"].as_array_mut().unwrap() {
            let id = format!("{}-{ext}", f["properties"]["id"].as_str().unwrap());
            f["properties"]["id"] = json!(id);
        }
        let src = dir.path().join(format!("points-{i}.geojson"));
        std::fs::write(&src, fc.to_string()).unwrap();
        let file = dir.path().join(format!("points.{ext}"));
        ogr2ogr(&["-f", driver, file.to_str().unwrap(), src.to_str().unwrap()]);
        let resp = client()
            .post(server.url("/collections/protection_targets/items"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", media)
            .body(std::fs::read(&file).unwrap())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{driver}: {body}");
        assert_eq!(body["inserted"], points.len(), "{driver}: {body}");
    }
}

#[tokio::test]
async fn a_bd09_csv_lands_within_a_metre_of_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let truth = [
        (120.30512, 30.29871),
        (120.58101, 30.29377),
        (120.16634, 30.27415),
    ];
    let mut csv = String::from("id,name,category,population,lon,lat\n");
    for (i, (lon, lat)) in truth.iter().enumerate() {
        let (b1, b2) = riskmap_spatial::crs::wgs84_to_bd09(*lon, *lat);
        // Baidu's coordinates lie hundreds of metres from the truth.
        let off = Geodesic.distance(geo::Point::new(*lon, *lat), geo::Point::new(b1, b2));
        assert!(off > 300.0, "{off}");
        csv.push_str(&format!("bd-{i},百度点{i},school,100,{b1},{b2}\n"));
    }
    let file = dir.path().join("baidu.csv");
    std::fs::write(&file, csv).unwrap();
    assert_ok(&run(
        &[
            "import",
            "protection_targets",
            file.to_str().unwrap(),
            "--crs",
            "BD09",
        ],
        &data,
    ));
    let got = all(&data, Collection::ProtectionTargets).await;
    for (i, (lon, lat)) in truth.iter().enumerate() {
        let f = got.iter().find(|f| f.id == format!("bd-{i}")).unwrap();
        let d = vertex_gap_m(
            &f.geometry,
            &geo::Geometry::Point(geo::Point::new(*lon, *lat)),
        );
        assert!(d < 1.0, "bd-{i}: {d} m");
    }
}
