//! `riskmap tiles export`: every tileset of the store in one PMTiles v3
//! archive, one MVT layer per tileset in each tile.
//!
//! Tiles are built exactly as `riskmap serve` builds them
//! (`riskmap_server::tiles::tile_features` then `build_layer` per tileset),
//! and joined with `encode_tile`. Only tiles that some feature's box meets
//! are visited: the walk descends from each zoom's tiles to their children
//! only where a tileset has features in the (buffered) tile, which holds
//! because a child's buffered bounds lie inside its parent's. Tiles where
//! every layer is empty are left out.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use geo::Rect;
use riskmap_core::engine::RiskState;
use riskmap_core::{Catalog, Collection};
use riskmap_server::tiles::{MAX_ZOOM, tile_features, tilejson_doc, tilesets};
use riskmap_tiles::{
    TileCoord, TileFeature, TileOptions, build_layer, encode_tile, tiles_covering, write_pmtiles,
};
use riskmap_world::World;
use riskmap_world::tiles::safety_tile_features;
use serde_json::{Value, json};

/// What an export wrote.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExportSummary {
    pub(crate) tiles: u64,
    pub(crate) bytes: u64,
    pub(crate) visited: u64,
}

/// The union of every collection's extent: the data extent.
pub(crate) fn data_extent(cat: &Catalog) -> Option<Rect<f64>> {
    Collection::ALL
        .into_iter()
        .filter_map(|c| cat.extent(c))
        .reduce(|a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        })
}

/// One tile with a layer per tileset, the safety tilesets (zones,
/// violations) and hidden dangers too: `(has features, MVT bytes)`. The first
/// is whether any tileset has a feature meeting the buffered tile (children
/// can have features only then); the bytes are empty when every layer is.
pub(crate) fn render_all_layers(
    cat: &Catalog,
    risk: &RiskState,
    safety: &riskmap_safety::site::SafetyState,
    t: TileCoord,
    opts: &TileOptions,
) -> anyhow::Result<(bool, Vec<u8>)> {
    let bbox = t.buffered_bounds_lonlat(opts.extent, opts.buffer);
    let mut layers = Vec::new();
    let mut any = false;
    for spec in tilesets() {
        let ts = spec.name;
        let features = if spec.source.is_safety() {
            safety_tile_features(safety, ts, bbox)
        } else {
            tile_features(cat, risk, ts, bbox)
        }
        .with_context(|| format!("no tileset {ts}"))?;
        if features.is_empty() {
            continue;
        }
        any = true;
        let refs: Vec<&TileFeature> = features.iter().collect();
        layers.push(build_layer(ts, &refs, t, opts).with_context(|| format!("tile {t} {ts}"))?);
    }
    Ok((any, encode_tile(&layers)?))
}

/// The archive's metadata: TileJSON fields with a `vector_layers` entry per
/// tileset, taken from the server's TileJSON documents.
fn metadata(world: &World, bounds: Rect<f64>, min_zoom: u8, max_zoom: u8) -> Value {
    let mut layers = Vec::new();
    let mut attributions: Vec<String> = Vec::new();
    for spec in tilesets() {
        let doc = tilejson_doc(world, spec, "");
        if let Some(a) = doc["attribution"].as_str()
            && !attributions.iter().any(|x| x == a)
        {
            attributions.push(a.to_string());
        }
        if let Some(Value::Array(ls)) = doc.get("vector_layers") {
            for l in ls {
                let mut l = l.clone();
                l["minzoom"] = json!(min_zoom);
                l["maxzoom"] = json!(max_zoom);
                layers.push(l);
            }
        }
    }
    json!({
        "name": "riskmap",
        "description": "riskmap 四色安全风险图: every tileset as a layer",
        "attribution": attributions.join(" · "),
        "version": env!("CARGO_PKG_VERSION"),
        "type": "overlay",
        "format": "pbf",
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "bounds": [bounds.min().x, bounds.min().y, bounds.max().x, bounds.max().y],
        "vector_layers": layers,
    })
}

/// Renders every tile of `min_zoom..=max_zoom` meeting the data and writes
/// the archive to `out`.
pub(crate) fn export(
    world: &World,
    out: &Path,
    min_zoom: u8,
    max_zoom: u8,
) -> anyhow::Result<ExportSummary> {
    anyhow::ensure!(
        min_zoom <= max_zoom && max_zoom <= MAX_ZOOM,
        "invalid zoom range {min_zoom}..={max_zoom} (at most {MAX_ZOOM})"
    );
    let opts = TileOptions::default();
    let cat = &world.catalog;
    let risk = &world.risk;
    let extent = data_extent(cat).context("the store is empty: nothing to export")?;
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8);
    // Hilbert id → tile; the archive is written in that order.
    let mut tiles: BTreeMap<u64, (TileCoord, Vec<u8>)> = BTreeMap::new();
    let mut visited = 0u64;
    let mut frontier: Vec<TileCoord> = tiles_covering(extent, 0).iter().collect();
    let bar = crate::progress::Progress::new("rendering tiles (zooms)", u64::from(max_zoom) + 1);
    for z in 0..=max_zoom {
        bar.set(
            u64::from(z),
            &format!(
                "z{z}: {} tiles to visit, {} written",
                frontier.len(),
                tiles.len()
            ),
        );
        let results: Vec<anyhow::Result<(TileCoord, bool, Vec<u8>)>> = std::thread::scope(|s| {
            let chunk = frontier.len().div_ceil(threads).max(1);
            let handles: Vec<_> = frontier
                .chunks(chunk)
                .map(|part| {
                    let (cat, risk, safety, opts) = (&*cat, &*risk, &world.safety, &opts);
                    s.spawn(move || {
                        part.iter()
                            .map(|&t| {
                                render_all_layers(cat, risk, safety, t, opts)
                                    .map(|(any, bytes)| (t, any, bytes))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        visited += frontier.len() as u64;
        let mut next = Vec::new();
        for r in results {
            let (t, any, bytes) = r?;
            if !any {
                continue;
            }
            if z >= min_zoom && !bytes.is_empty() {
                tiles.insert(t.hilbert_id(), (t, bytes));
            }
            if z < max_zoom
                && let Some(children) = t.children()
            {
                next.extend(children);
            }
        }
        frontier = next;
    }
    bar.finish(&format!("{} tiles", tiles.len()));
    let meta = metadata(world, extent, min_zoom, max_zoom);
    let file = File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let summary = write_pmtiles(
        BufWriter::new(file),
        tiles.into_values(),
        meta,
        extent,
        min_zoom,
        max_zoom,
    )
    .with_context(|| format!("cannot write {}", out.display()))?;
    let bytes = std::fs::metadata(out)?.len();
    Ok(ExportSummary {
        tiles: summary.tiles,
        bytes,
        visited,
    })
}

/// `riskmap tiles export`: load, score, render, write; prints a summary.
pub(crate) async fn run(
    store: std::sync::Arc<dyn riskmap_store::Store>,
    out: std::path::PathBuf,
    min_zoom: u8,
    max_zoom: u8,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let app = crate::progress::open_app(store, None)
        .await
        .context("cannot load the world from the store")?;
    let path = out.clone();
    let summary = app
        .read(riskmap_app::Work::Derived, move |w| {
            export(w, &path, min_zoom, max_zoom)
        })
        .await??;
    println!(
        "wrote {}: {} tiles (z{min_zoom}–z{max_zoom}, {} visited), {} bytes, {} layers per tile at most, in {:.2} s",
        out.display(),
        summary.tiles,
        summary.visited,
        summary.bytes,
        tilesets().count(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
