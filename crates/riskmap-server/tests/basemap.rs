//! The basemap through the router: the `basemap` TileJSON and tiles (decoded
//! by the project's MVT decoder: every source layer, Chinese names), the
//! style's basemap layers, glyphs and labels with a font and without one,
//! `/fonts` ranges (200 with the font, 404 naming `--glyph-font` without),
//! and the external raster basemap: absent by default, and when configured
//! in the style and allowed by the Content-Security-Policy (only its hosts).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riskmap_app::{App, Limits};
use riskmap_core::Collection;
use riskmap_core::import::parse_geojson;
use riskmap_server::basemap::{Glyphs, RasterBasemap};
use riskmap_server::{AppState, ServerConfig, app};
use riskmap_spatial::Crs;
use riskmap_store::{SqliteStore, Store};
use riskmap_tiles::{TileCoord, decode_tile};
use serde_json::Value;
use tower::ServiceExt;

const FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc";

async fn state(dir: &std::path::Path) -> AppState {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).await.unwrap());
    for c in Collection::ALL {
        let f = parse_geojson(c, riskmap_core::demo::text(c), Crs::Wgs84).unwrap();
        store.import(c, &f, None).await.unwrap();
    }
    let app = App::new(store, Limits::default());
    app.load(Some("2026-12-03".into())).await.unwrap();
    AppState::new(
        app,
        ServerConfig {
            admin_tokens: vec![],
            public_read: riskmap_server::PublicRead::Full,
        },
    )
}

async fn call(s: &AppState, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app(s.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, bytes)
}

fn json(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap()
}

fn layer_ids(style: &Value) -> Vec<String> {
    style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basemap_tiles_and_style_without_a_font() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;

    let (st, _, b) = call(&s, "/tiles/basemap.json").await;
    assert_eq!(st, StatusCode::OK);
    let tj = json(&b);
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "water",
            "landuse",
            "roads",
            "railways",
            "buildings",
            "places"
        ]
    );
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with("/tiles/basemap/{z}/{x}/{y}.mvt")
    );

    // The z12 tile of 西湖区's label (Xixi wetland): water, land use, Chinese names.
    let t = TileCoord::from_lonlat(120.08, 30.204, 12);
    let (st, h, b) = call(&s, &format!("/tiles/basemap/12/{}/{}.mvt", t.x, t.y)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(h.get("etag").is_some());
    let tile = decode_tile(&b).unwrap();
    for l in ["water", "landuse", "places"] {
        assert!(tile.layer(l).is_some(), "{l}");
    }
    let names: Vec<&str> = tile
        .layer("places")
        .unwrap()
        .features
        .iter()
        .filter_map(|f| f.property("name").and_then(|v| v.as_str()))
        .collect();
    assert!(
        names.iter().any(|n| *n == "西湖区" || *n == "上城区"),
        "{names:?}"
    );

    // Shanghai's Bund at z15: roads with names, buildings, railways.
    let t = TileCoord::from_lonlat(121.49, 31.24, 15);
    let (st, _, b) = call(&s, &format!("/tiles/basemap/15/{}/{}.mvt", t.x, t.y)).await;
    assert_eq!(st, StatusCode::OK);
    let tile = decode_tile(&b).unwrap();
    let roads = tile.layer("roads").unwrap();
    assert!(roads.features.iter().any(|f| f.property("name").is_some()));
    assert!(roads.features.iter().all(|f| f.property("kind").is_some()));
    assert!(tile.layer("buildings").is_some());

    // No font: no glyphs, no labels, /fonts says which flag gives one.
    let (_, h, b) = call(&s, "/style.json").await;
    let style = json(&b);
    assert!(style.get("glyphs").is_none());
    assert!(style["sources"]["basemap"].is_object());
    assert!(style["sources"].get("basemap-raster").is_none());
    let ids = layer_ids(&style);
    assert!(!ids.iter().any(|i| i.ends_with("-labels")), "{ids:?}");
    let pos = |id: &str| ids.iter().position(|i| i == id).unwrap();
    assert!(
        pos("background") < pos("basemap-water") && pos("basemap-water") < pos("districts-fill")
    );
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
    assert_eq!(csp, riskmap_server::CONTENT_SECURITY_POLICY);
    let (st, _, b) = call(&s, "/fonts/Any%20Font/0-255.pbf").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&b).contains("--glyph-font"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glyphs_labels_and_a_raster_basemap() {
    let font = match std::fs::read(FONT) {
        Ok(f) => f,
        Err(e) if std::env::var("RISKMAP_REQUIRE_FONT").as_deref() == Ok("1") => {
            panic!("RISKMAP_REQUIRE_FONT=1 but {FONT}: {e}")
        }
        Err(e) => return eprintln!("skipped: {FONT}: {e}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let raster = RasterBasemap::parse(
        "https://t{0-1}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec&TILEMATRIXSET=w&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY",
        Some("天地图"),
    )
    .unwrap();
    let s = state(dir.path())
        .await
        .with_glyphs(Glyphs::from_font(font, 0).unwrap())
        .with_basemap_raster(raster);

    let (st, h, b) = call(&s, "/style.json").await;
    assert_eq!(st, StatusCode::OK);
    let style = json(&b);
    assert!(
        style["glyphs"]
            .as_str()
            .unwrap()
            .ends_with("/fonts/{fontstack}/{range}.pbf")
    );
    let ids = layer_ids(&style);
    assert_eq!(
        ids[1], "basemap-raster",
        "the raster basemap right above the background"
    );
    assert_eq!(
        style["sources"]["basemap-raster"]["tiles"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(style["sources"]["basemap-raster"]["attribution"], "天地图");
    for l in [
        "basemap-district-labels",
        "basemap-place-labels",
        "basemap-road-labels",
        "enterprise-labels",
    ] {
        let layer = &style["layers"][ids.iter().position(|i| i == l).unwrap()];
        assert_eq!(layer["layout"]["text-font"][0], "WenQuanYi Zen Hei", "{l}");
    }
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(
        csp.contains(
            "img-src 'self' data: blob: https://t0.tianditu.gov.cn https://t1.tianditu.gov.cn;"
        ),
        "{csp}"
    );
    assert!(
        csp.contains("connect-src 'self' https://t0.tianditu.gov.cn https://t1.tianditu.gov.cn;"),
        "{csp}"
    );
    assert!(!csp.contains("script-src 'self' https"), "{csp}");

    let (st, h, b) = call(&s, "/fonts/WenQuanYi%20Zen%20Hei/19968-20223.pbf").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h.get("content-type").unwrap(), "application/x-protobuf");
    // The stack's name and range, as MapLibre reads them.
    assert!(b.windows(17).any(|w| w == b"WenQuanYi Zen Hei"));
    assert!(b.windows(11).any(|w| w == b"19968-20223"));
    let (st2, _, b2) = call(&s, "/fonts/WenQuanYi%20Zen%20Hei/19968-20223.pbf").await;
    assert_eq!(
        (st2, b2.len()),
        (StatusCode::OK, b.len()),
        "kept and served again"
    );
    for bad in [
        "/fonts/x/1-256.pbf",
        "/fonts/x/0-255.png",
        "/fonts/x/65536-65791.pbf",
        "/fonts/x/a-b.pbf",
    ] {
        assert_eq!(call(&s, bad).await.0, StatusCode::NOT_FOUND, "{bad}");
    }
}
