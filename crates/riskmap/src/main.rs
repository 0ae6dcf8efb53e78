//! The `riskmap` command. It parses the command line and hands over to the
//! library crates: `serve` to `riskmap_server`, `import` to
//! `riskmap_core::import` and `riskmap_store`.

mod accounts;
mod bench;
mod bench_incident;
mod bench_limits;
mod bench_qra;
mod bench_startup;
mod bench_tiles;
mod bench_write;
mod config;
mod demo;
mod export;
mod logging;
mod progress;
mod rules;
mod site_check;
mod table_export;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand};
use riskmap_core::Collection;
use riskmap_core::import::{self, Format};
use riskmap_spatial::Crs;
use riskmap_store::{StoreConfig, sqlite};

/// riskmap: 安全风险四色图与外部安全防护距离服务.
#[derive(Debug, Parser)]
#[command(name = "riskmap", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// A directory of rules files, each named like a file of data/rules
    /// (e.g. a province's enterprise-diagnosis-2018.toml), used in place
    /// of the embedded one; checked at start.
    #[arg(long, global = true, env = "RISKMAP_RULES", value_name = "DIR")]
    rules: Option<PathBuf>,
}

/// Where the data lives: embedded SQLite (default) or PostGIS.
#[derive(Debug, Args, Clone)]
struct StoreArgs {
    /// PostGIS connection URL (postgres://…); overrides --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Directory of the embedded database.
    #[arg(long, default_value = "./riskmap-data", global = true)]
    data_dir: PathBuf,
}

impl StoreArgs {
    fn config(&self) -> StoreConfig {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => StoreConfig::Postgres { url: url.clone() },
            _ => StoreConfig::Sqlite {
                dir: self.data_dir.clone(),
            },
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web map, OGC API – Features and the risk API.
    Serve {
        /// Address to listen on.
        #[arg(long, visible_alias = "listen", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// A TOML file of these flags (keys are the long flag names, e.g.
        /// `listen`, `admin-token`, `cors-origins`); the command line wins.
        #[arg(long, env = "RISKMAP_CONFIG", value_name = "FILE.toml")]
        config: Option<PathBuf>,
        /// Origins whose pages may read this server's answers (CORS), e.g.
        /// https://map.example.gov.cn; default none (same-origin only).
        #[arg(long, value_delimiter = ',', value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Let those origins write too (POST, PUT, PATCH, DELETE); without
        /// it, a cross-origin write is refused (403).
        #[arg(long)]
        cors_allow_writes: bool,
        /// Access log (one JSON line per request): `stderr` (default),
        /// `off`, or a file to append to.
        #[arg(long, value_name = "stderr|off|FILE")]
        access_log: Option<String>,
        /// Bearer token of the built-in admin account (may do everything);
        /// none: only accounts (`riskmap accounts add`) may write.
        #[arg(long, env = "RISKMAP_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// What anonymous readers see: `full`, or `limited` (no inventories,
        /// registration records or contact details; no dossiers, site
        /// reports or file exports).
        #[arg(long, default_value = "full", value_parser = ["full", "limited"])]
        public_read: String,
        /// Road network for emergency command (OpenStreetMap XML, e.g.
        /// `data/roads/shanghai-jingan.osm`): help is ranked by road; without
        /// it, by straight line.
        #[arg(long, value_name = "FILE.osm")]
        roads: Option<PathBuf>,
        /// CJK font (TrueType/OpenType file or .ttc collection) the map's
        /// label glyphs are drawn from; default: the first of
        /// wqy-zenhei, wqy-microhei or Noto CJK in the usual Debian paths.
        /// None found: the map has no labels (a warning says so).
        #[arg(long, value_name = "PATH")]
        glyph_font: Option<PathBuf>,
        /// External raster basemap under everything (off by default, so no
        /// request leaves the server): an XYZ or WMTS URL template with
        /// {z}, {x}, {y}; `{0-7}` spreads tiles over hosts, e.g.
        /// `https://t{0-7}.tianditu.gov.cn/vec_w/wmts?…&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY`.
        #[arg(long, value_name = "URL")]
        basemap_raster: Option<String>,
        /// Attribution shown for --basemap-raster (e.g. 天地图 GS(2024)0568号).
        #[arg(long, value_name = "TEXT", requires = "basemap_raster")]
        basemap_raster_attribution: Option<String>,
        /// Do not load the demo city into a new embedded database.
        #[arg(long)]
        no_demo: bool,
        /// Load the demo city even into PostGIS or a non-empty store (existing ids are replaced).
        #[arg(long)]
        load_demo: bool,
        /// Most connections open at once; beyond it the oldest idle one is
        /// closed, or the newcomer gets 503 when all are busy.
        #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..))]
        max_connections: u32,
        /// Seconds a client has to send a request head (and to start the
        /// next request on a kept-alive connection), and the longest pause
        /// within a request body.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout: u64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Benchmarks (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
    /// Vector tiles offline (see `riskmap tiles export --help`).
    Tiles {
        #[command(subcommand)]
        which: TilesCommand,
    },
    /// Recompute every risk level and print a summary by level.
    Score {
        /// Assessment date YYYY-MM-DD (accident windows); default today (UTC).
        #[arg(long)]
        today: Option<String>,
        /// Print the per-feature levels as JSON instead of the summary table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// May this use go here? (规划选址) Checks a proposed protection target
    /// against every site's external safety zones, or a proposed hazardous
    /// site against the protection targets around it. Exit status 0 clear,
    /// 3 conflicts, 2 invalid input.
    SiteCheck {
        /// school, kindergarten, hospital, nursing_home, residential, office, mall,
        /// hotel, stadium, transport_hub, cultural_relic, religious, other; or hazardous_site.
        #[arg(long = "use")]
        use_: String,
        /// GeoJSON geometry (point or polygon), inline or a file (a Feature works too).
        #[arg(long)]
        geometry: String,
        /// CRS of the geometry: EPSG:4326 (default), EPSG:4490 or GCJ02.
        #[arg(long, default_value = "EPSG:4326")]
        crs: String,
        /// Name of the proposal.
        #[arg(long)]
        name: Option<String>,
        /// People at a proposed target.
        #[arg(long)]
        population: Option<u32>,
        /// Households of a proposed residential target.
        #[arg(long)]
        households: Option<u32>,
        /// Beds of a proposed hospital, nursing home or hotel.
        #[arg(long)]
        beds: Option<u32>,
        /// Floor area (m²) of a proposed target.
        #[arg(long)]
        floor_area_m2: Option<f64>,
        /// Units with inventories of a proposed site (JSON list, inline or a file).
        #[arg(long)]
        units: Option<String>,
        /// new (default for a proposal) or existing.
        #[arg(long)]
        installation: Option<String>,
        /// Print the answer as JSON (the HTTP endpoint's body).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Accounts with roles and their tokens (账号): add, list, revoke, disable, token.
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// Import a GeoJSON, CSV, Excel (.xlsx), Shapefile (.zip), GeoPackage,
    /// FlatGeobuf or KML file into a collection, all or nothing.
    Import {
        /// enterprises, parks, pipelines, protection_targets, districts or hidden_dangers.
        collection: Collection,
        /// A GeoJSON FeatureCollection, CSV with lon/lat or wkt columns, an
        /// .xlsx workbook (its first sheet, read like CSV), a zipped
        /// Shapefile (.shp, .shx, .dbf, .prj, .cpg; DBF in UTF-8, GBK or
        /// GB18030), a GeoPackage (.gpkg), FlatGeobuf (.fgb) or KML. Chinese
        /// headers and field names of the usual templates are understood
        /// (data/rules/column-aliases.toml).
        file: PathBuf,
        /// CRS of the input when the file does not declare one (a
        /// Shapefile's .prj, a GeoPackage's srs_id win): EPSG:4326
        /// (default), EPSG:4490, GCJ02, BD09, or a CGCS2000 3° Gauss–Krüger
        /// zone EPSG:4513–4554 (eastings with or without the zone prefix).
        #[arg(long)]
        crs: Option<Crs>,
        /// Force the format instead of telling it from the content and the
        /// file name: geojson, csv, xlsx, shp, gpkg, fgb or kml.
        #[arg(long, value_parser = parse_format)]
        format: Option<Format>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Export a collection as GeoJSON, CSV (UTF-8 with BOM), an Excel
    /// workbook (.xlsx), a GeoPackage (.gpkg) or a zipped Shapefile
    /// (.shp.zip), by the file's extension: the columns of the import
    /// schema, so the file imports back unchanged, plus risk_level
    /// (coloured in .xlsx; with risk_score, risk_model and risk_summary in
    /// the GIS formats) or, for hidden dangers, overdue.
    Export {
        /// enterprises, parks, pipelines, protection_targets, districts or hidden_dangers.
        collection: Collection,
        /// The file to write: .geojson, .csv, .xlsx, .gpkg or .shp.zip.
        out: PathBuf,
        /// Only features meeting this box, minlon,minlat,maxlon,maxlat (WGS84).
        #[arg(long)]
        bbox: Option<String>,
        /// Only features meeting this CQL2 filter (text, or JSON starting
        /// with `{`) on the collection's queryables, as `?filter=` on items,
        /// e.g. "risk_level = 'red' AND industry = '化工'".
        #[arg(long)]
        filter: Option<String>,
        /// Scoring and overdue date YYYY-MM-DD; default today (China).
        #[arg(long)]
        today: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum TilesCommand {
    /// Write every tileset as layers of one PMTiles v3 archive (tiles meeting the data).
    Export {
        /// The archive to write (.pmtiles).
        out: PathBuf,
        /// Lowest zoom.
        #[arg(long, default_value_t = 0)]
        min_zoom: u8,
        /// Highest zoom (at most 16).
        #[arg(long, default_value_t = 14)]
        max_zoom: u8,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Emergency command: a stored incident's wind changed by PATCH over
    /// HTTP, timed to the answer and to its Server-Sent Event at a client,
    /// with help by road against straight-line help.
    Incident {
        /// Wind changes.
        #[arg(long, default_value_t = 50)]
        changes: usize,
        /// Rescue teams (and as many shelters, a quarter as many depots)
        /// seeded on the road network.
        #[arg(long, default_value_t = 100)]
        teams: usize,
        /// The road network (OpenStreetMap XML).
        #[arg(long, default_value = "data/roads/shanghai-jingan.osm")]
        roads: PathBuf,
        /// Random seed.
        #[arg(long, default_value_t = 20261206)]
        seed: u64,
    },
    /// A province from file to map with the real binary: `riskmap import` of a
    /// CSV against ogr2ogr, then `riskmap serve` until items, tiles and every
    /// level answer.
    Startup {
        /// Synthetic enterprise points.
        #[arg(long, default_value_t = 1_000_000)]
        features: usize,
        /// Random seed.
        #[arg(long, default_value_t = 20261123)]
        seed: u64,
    },
    /// Full scoring and incremental rescoring on a synthetic province.
    Score {
        /// Enterprises.
        #[arg(long, default_value_t = 100_000)]
        enterprises: usize,
        /// Protection targets.
        #[arg(long, default_value_t = 1_000_000)]
        targets: usize,
        /// Total pipeline length, km.
        #[arg(long, default_value_t = 10_000.0)]
        pipeline_km: f64,
        /// Incremental edits to time.
        #[arg(long, default_value_t = 50)]
        edits: usize,
        /// Random seed.
        #[arg(long, default_value_t = 20261123)]
        seed: u64,
    },
    /// Individual-risk grid of one site and the safety assessment of every demo site.
    Qra {
        /// Grid cells per side.
        #[arg(long, default_value_t = 1000)]
        cells: usize,
        /// Release scenarios.
        #[arg(long, default_value_t = 100)]
        scenarios: usize,
        /// Wind sectors.
        #[arg(long, default_value_t = 16)]
        sectors: usize,
        /// Runs (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
    },
    /// One large POST under read load over HTTP: reader latencies during the
    /// write against at rest, and whether the write appears atomically.
    Write {
        /// Synthetic enterprises in the store before the write.
        #[arg(long, default_value_t = 20_000)]
        features: usize,
        /// Enterprises in the one POST.
        #[arg(long, default_value_t = 10_000)]
        post: usize,
        /// Concurrent readers.
        #[arg(long, default_value_t = 8)]
        readers: usize,
        /// Seconds of reading at rest (the peer).
        #[arg(long, default_value_t = 5)]
        rest_secs: u64,
        /// Random seed.
        #[arg(long, default_value_t = 20261123)]
        seed: u64,
    },
    /// Slow clients: /health latency and server memory while thousands of
    /// connections send half a request head, against /health at rest.
    Connections {
        /// Slow clients opened (each held to the end).
        #[arg(long, default_value_t = 20_000)]
        clients: usize,
        /// Probe /health after every this many clients.
        #[arg(long, default_value_t = 500)]
        probe_every: usize,
    },
    /// A district boundary of many vertices: import against ogr2ogr, the
    /// validity check against geo::Validation, siting polygons at and over
    /// the vertex limit.
    Boundary {
        /// Vertices of the district boundary.
        #[arg(long, default_value_t = 100_000)]
        vertices: usize,
    },
    /// Tile rendering: riskmap in process (cold and cached) against PostGIS ST_AsMVT.
    Tiles {
        /// Synthetic enterprise points.
        #[arg(long, default_value_t = 1_000_000)]
        features: usize,
        /// Tiles in the z6–z14 workload.
        #[arg(long, default_value_t = 3000)]
        tiles: usize,
        /// Concurrent workers (threads for riskmap, connections for PostGIS).
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        /// Random seed.
        #[arg(long, default_value_t = 20261123)]
        seed: u64,
        /// PostGIS URL (postgres://…) to compare with; none: riskmap only.
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match config::argv(Cli::command(), std::env::args_os().collect()) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(args);
    let access_log = match &cli.command {
        Command::Serve { access_log, .. } => logging::AccessLog::parse(access_log.as_deref()),
        _ => logging::AccessLog::Off,
    };
    let _log_guards = match logging::init(&access_log) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let rules = match rules::load(cli.rules.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Serve {
            addr,
            config: _,
            cors_origins,
            cors_allow_writes,
            access_log: _,
            admin_token,
            public_read,
            roads,
            glyph_font,
            basemap_raster,
            basemap_raster_attribution,
            no_demo,
            load_demo,
            max_connections,
            header_timeout,
            store,
        } => {
            let public_read = if public_read == "limited" {
                riskmap_server::PublicRead::Limited
            } else {
                riskmap_server::PublicRead::Full
            };
            let limits = riskmap_server::listen::ConnLimits {
                max_connections: max_connections as usize,
                header_timeout: std::time::Duration::from_secs(header_timeout),
                body_idle_timeout: std::time::Duration::from_secs(header_timeout),
                ..Default::default()
            };
            let basemap = BasemapArgs {
                glyph_font,
                raster: basemap_raster,
                raster_attribution: basemap_raster_attribution,
            };
            let ops = match riskmap_server::cors::Cors::new(cors_origins, cors_allow_writes) {
                Ok(cors) => ServeOps { cors, rules },
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            serve(
                ops,
                addr,
                admin_token,
                public_read,
                roads,
                basemap,
                no_demo,
                load_demo,
                limits,
                store,
            )
            .await
        }
        Command::Import {
            collection,
            file,
            crs,
            format,
            store,
        } => run_import(collection, file, crs, format, store).await,
        Command::Export {
            collection,
            out,
            bbox,
            filter,
            today,
            store,
        } => table_export::run(collection, out, bbox, filter, today, store.config()).await,
        Command::Score { today, json, store } => score(today, json, store).await,
        Command::Accounts(cmd) => accounts::run(cmd).await,
        Command::SiteCheck {
            use_,
            geometry,
            crs,
            name,
            population,
            households,
            beds,
            floor_area_m2,
            units,
            installation,
            json,
            store,
        } => {
            let check = site_check::SiteCheck {
                use_,
                geometry,
                crs,
                name,
                population,
                households,
                beds,
                floor_area_m2,
                units,
                installation,
                json,
            };
            site_check(check, store).await
        }
        Command::Tiles {
            which:
                TilesCommand::Export {
                    out,
                    min_zoom,
                    max_zoom,
                    store,
                },
        } => tiles_export(out, min_zoom, max_zoom, store).await,
        Command::Bench {
            which:
                BenchCommand::Tiles {
                    features,
                    tiles,
                    concurrency,
                    seed,
                    database_url,
                },
        } => bench_tiles::run(bench_tiles::TilesBench {
            features,
            tiles,
            concurrency,
            seed,
            database_url: database_url.filter(|u| !u.trim().is_empty()),
        })
        .await
        .map(|()| ExitCode::SUCCESS),
        Command::Bench {
            which:
                BenchCommand::Connections {
                    clients,
                    probe_every,
                },
        } => {
            let b = bench_limits::ConnectionsBench {
                clients,
                probe_every: probe_every.max(1),
            };
            tokio::task::spawn_blocking(move || bench_limits::run_connections(b))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|r| r)
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Bench {
            which: BenchCommand::Boundary { vertices },
        } => {
            let b = bench_limits::BoundaryBench {
                vertices: vertices.max(4),
            };
            tokio::task::spawn_blocking(move || bench_limits::run_boundary(b))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|r| r)
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Bench {
            which: BenchCommand::Startup { features, seed },
        } => bench_startup::run(bench_startup::StartupBench { features, seed })
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Bench {
            which:
                BenchCommand::Write {
                    features,
                    post,
                    readers,
                    rest_secs,
                    seed,
                },
        } => bench_write::run(bench_write::WriteBench {
            features,
            post,
            readers,
            rest_secs,
            seed,
        })
        .await
        .map(|()| ExitCode::SUCCESS),
        Command::Bench {
            which:
                BenchCommand::Incident {
                    changes,
                    teams,
                    roads,
                    seed,
                },
        } => bench_incident::run(bench_incident::IncidentBench {
            changes,
            teams,
            roads,
            seed,
        })
        .await
        .map(|()| ExitCode::SUCCESS),
        Command::Bench {
            which:
                BenchCommand::Qra {
                    cells,
                    scenarios,
                    sectors,
                    repeats,
                },
        } => {
            let b = bench_qra::QraBench {
                cells,
                scenarios,
                sectors,
                repeats,
            };
            tokio::task::spawn_blocking(move || bench_qra::run(b))
                .await
                .map(|()| ExitCode::SUCCESS)
                .map_err(anyhow::Error::from)
        }
        Command::Bench {
            which:
                BenchCommand::Score {
                    enterprises,
                    targets,
                    pipeline_km,
                    edits,
                    seed,
                },
        } => {
            let b = bench::ScoreBench {
                enterprises,
                targets,
                pipeline_km,
                edits,
                seed,
            };
            tokio::task::spawn_blocking(move || bench::run_score(b))
                .await
                .map(|()| ExitCode::SUCCESS)
                .map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a road network (OpenStreetMap XML) off the async workers; a bad
/// file stops the start, naming it.
async fn load_roads(path: PathBuf) -> anyhow::Result<riskmap_safety::routing::Roads> {
    let bytes = tokio::fs::read(&path)
        .await
        .with_context(|| format!("cannot read the road network {}", path.display()))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let roads = tokio::task::spawn_blocking(move || {
        riskmap_safety::routing::Roads::from_osm_xml(&bytes, name)
    })
    .await?
    .with_context(|| format!("road network {}", path.display()))?;
    let st = roads.network.stats();
    tracing::info!(
        ways = st.ways,
        nodes = st.nodes,
        km = st.length_km,
        "road network {} loaded",
        roads.source
    );
    Ok(roads)
}

/// The basemap options of `serve`.
struct BasemapArgs {
    glyph_font: Option<PathBuf>,
    raster: Option<String>,
    raster_attribution: Option<String>,
}

/// The label glyphs: `--glyph-font` (an unreadable one stops the start), else
/// the first CJK font found in the usual places; none: a warning, and the
/// map has no labels.
async fn load_glyphs(path: Option<PathBuf>) -> anyhow::Result<riskmap_server::basemap::Glyphs> {
    use riskmap_server::basemap::{DEFAULT_GLYPH_FONTS, Glyphs};
    let given = path.is_some();
    let candidates: Vec<(PathBuf, u32)> = match path {
        Some(p) => vec![(p, 0)],
        None => DEFAULT_GLYPH_FONTS
            .iter()
            .map(|(p, i)| (PathBuf::from(p), *i))
            .collect(),
    };
    for (p, index) in candidates {
        let bytes = match tokio::fs::read(&p).await {
            Ok(b) => b,
            Err(e) if given => {
                anyhow::bail!(
                    "cannot read the glyph font {} (--glyph-font): {e}",
                    p.display()
                )
            }
            Err(_) => continue,
        };
        match tokio::task::spawn_blocking(move || Glyphs::from_font(bytes, index)).await? {
            Ok(g) => {
                tracing::info!(family = g.family(), "label glyphs from {}", p.display());
                return Ok(g);
            }
            Err(e) if given => anyhow::bail!("glyph font {} (--glyph-font): {e}", p.display()),
            Err(e) => tracing::warn!("skipping the font {}: {e}", p.display()),
        }
    }
    tracing::warn!(
        "no CJK font found (looked for wqy-zenhei, wqy-microhei and Noto CJK): the map has no \
         labels and /fonts answers 404; give one with --glyph-font PATH (Debian: fonts-wqy-zenhei)"
    );
    Ok(Glyphs::none())
}

/// The operational settings of `serve`: CORS and the rules in force.
struct ServeOps {
    cors: riskmap_server::cors::Cors,
    rules: riskmap_core::rule_set::RulesInForce,
}

// The command line's options, one by one.
#[allow(clippy::too_many_arguments)]
async fn serve(
    ops: ServeOps,
    addr: SocketAddr,
    admin_token: Option<String>,
    public_read: riskmap_server::PublicRead,
    roads: Option<PathBuf>,
    basemap: BasemapArgs,
    no_demo: bool,
    load_demo: bool,
    limits: riskmap_server::listen::ConnLimits,
    store_args: StoreArgs,
) -> anyhow::Result<ExitCode> {
    let roads = match roads {
        Some(path) => Some(std::sync::Arc::new(load_roads(path).await?)),
        None => None,
    };
    let raster = basemap
        .raster
        .as_deref()
        .map(|t| {
            riskmap_server::basemap::RasterBasemap::parse(t, basemap.raster_attribution.as_deref())
        })
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let glyphs = load_glyphs(basemap.glyph_font).await?;
    // The embedded basemap is decoded once, in the background.
    tokio::task::spawn_blocking(|| {
        if let Err(e) = riskmap_server::basemap::Basemap::embedded() {
            tracing::error!("{e}");
        }
    });
    let config = store_args.config();
    let fresh =
        matches!(&config, StoreConfig::Sqlite { dir } if !dir.join(sqlite::DB_FILE).exists());
    let store = riskmap_store::open(&config)
        .await
        .with_context(|| format!("cannot open the store ({})", describe(&config)))?;
    if load_demo || (fresh && !no_demo) {
        let n = demo::load(store.as_ref()).await?;
        tracing::info!(features = n, "loaded the demo city (data/demo)");
    }
    let tokens: Vec<String> = admin_token
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .collect();
    if tokens.is_empty() {
        tracing::info!("no admin token configured: only accounts may write");
    }
    let app = riskmap_app::App::with_rules(store, riskmap_app::Limits::default(), ops.rules);
    let mut state = riskmap_server::AppState::new(
        app.clone(),
        riskmap_server::ServerConfig {
            admin_tokens: tokens,
            public_read,
        },
    );
    if let Some(roads) = roads {
        state = state.with_roads(roads);
    }
    state = state.with_glyphs(glyphs);
    if let Some(raster) = raster {
        tracing::info!(hosts = ?raster.origins, "external raster basemap configured");
        state = state.with_basemap_raster(raster);
    }
    state = state.with_cors(ops.cors);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!("riskmap serving http://{local}/ ({})", describe(&config));
    // Machine-readable line for tests and scripts that start the server on port 0.
    eprintln!("listening on http://{local}");
    // /health answers at once; /ready and the data once the world is built.
    let loader = {
        let app = app.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match app.load(None).await {
                Ok(()) => {
                    tracing::info!(seconds = started.elapsed().as_secs_f64(), "ready");
                    eprintln!("ready in {:.1} s", started.elapsed().as_secs_f64());
                }
                Err(e) => tracing::error!("cannot build the world from the store: {e}"),
            }
            // The accident windows move with the calendar day (China time).
            let roll_days = async {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    match app.roll_day().await {
                        Ok(true) => tracing::info!("new day: rescored"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!("day roll-over failed: {e}"),
                    }
                }
            };
            // What other servers and `riskmap import` write.
            tokio::join!(roll_days, app.follow());
        })
    };
    riskmap_server::run(listener, state, limits, shutdown_signal()).await?;
    loader.abort();
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGTERM or Ctrl-C: the server then stops accepting, lets
/// in-flight requests (writes among them) finish, and exits 0.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot listen for SIGTERM: {e}");
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: finishing requests in flight");
    eprintln!("shutting down");
}

/// `--format`: a name of [`Format::from_name`].
fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format {s:?}: use {}", names.join(", "))
    })
}

async fn run_import(
    collection: Collection,
    file: PathBuf,
    crs: Option<Crs>,
    format: Option<Format>,
    store_args: StoreArgs,
) -> anyhow::Result<ExitCode> {
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: cannot read the file: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let format = format
        .or_else(|| Format::sniff(&bytes))
        .unwrap_or_else(|| Format::from_path(&file.to_string_lossy()));
    let config = store_args.config();
    let store = riskmap_store::open(&config)
        .await
        .with_context(|| format!("cannot open the store ({})", describe(&config)))?;
    eprintln!(
        "reading and validating {} ({:.1} MiB)",
        file.display(),
        bytes.len() as f64 / 1048576.0
    );
    let features =
        match table_export::parse_file(collection, format, bytes, crs, store.as_ref(), &file)
            .await?
        {
            Ok(f) => f,
            Err(code) => return Ok(code),
        };
    // References (an enterprise's park_id, district_code) must exist.
    let mut known: std::collections::HashMap<(Collection, String), bool> =
        std::collections::HashMap::new();
    for f in &features {
        for (_, target, id) in import::references(collection, f) {
            if let std::collections::hash_map::Entry::Vacant(slot) =
                known.entry((target, id.to_string()))
            {
                slot.insert(store.get(target, id).await?.is_some());
            }
        }
    }
    if let Err(errors) = import::check_references(collection, &features, |c, id| {
        known.get(&(c, id.to_string())).copied().unwrap_or(false)
    }) {
        eprint!("{}: {errors}", file.display());
        return Ok(ExitCode::from(2));
    }
    eprintln!(
        "writing {} feature(s) to {collection} in one transaction",
        features.len()
    );
    let bar = progress::Progress::new("writing", features.len() as u64);
    let progress = |done: usize, _total: usize| bar.set(done as u64, "");
    // One audit entry for the whole file, in the import's transaction.
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let entry = riskmap_store::AuditEntry {
        at: riskmap_app::now_rfc3339(),
        actor,
        action: "import".into(),
        collection: collection.as_str().into(),
        id: None,
        before: None,
        after: Some(
            serde_json::json!({"file": file.display().to_string(), "features": features.len()})
                .to_string(),
        ),
    };
    let summary = store
        .import_audited(collection, &features, Some(&progress), &[entry])
        .await?;
    bar.finish("committed");
    println!(
        "imported {} feature(s) into {collection}: {} new, {} replaced ({})",
        features.len(),
        summary.inserted,
        summary.replaced,
        describe(&config)
    );
    // The import is in the store's change log: a server on this store
    // applies it through its own change path (levels, tiles) by itself.
    println!(
        "servers on this store take it in from the change log (position {}) within seconds",
        store.last_change().await.unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

async fn score(
    today: Option<String>,
    json: bool,
    store_args: StoreArgs,
) -> anyhow::Result<ExitCode> {
    use riskmap_core::scoring::RiskLevel;
    let config = store_args.config();
    let store = open_store(&config, true, false).await?;
    let today = today.unwrap_or_else(riskmap_app::today);
    let started = std::time::Instant::now();
    // The same world a server builds: levels, with the external safety
    // distances fed to the enterprise diagnosis (周边环境).
    let app = progress::open_app(store, Some(today.clone())).await?;
    let took = started.elapsed();
    let world = app.world()?;
    let (state, safety) = (&world.risk, &world.safety);
    let count = |levels: &mut dyn Iterator<Item = RiskLevel>| {
        let mut c = [0usize; 4];
        for l in levels {
            c[l.index()] += 1;
        }
        c
    };
    let rows: Vec<(&str, [usize; 4])> = vec![
        (
            "enterprises 企业",
            count(&mut state.enterprises.values().map(|e| e.assessment.risk_level)),
        ),
        (
            "parks 园区",
            count(&mut state.parks.values().map(|a| a.risk_level)),
        ),
        (
            "pipelines 管道",
            count(&mut state.pipelines.values().map(|p| p.assessment.risk_level)),
        ),
        (
            "pipeline segments 管段",
            count(
                &mut state
                    .pipelines
                    .values()
                    .flat_map(|p| p.segments.iter().map(|s| s.assessment.risk_level)),
            ),
        ),
        (
            "districts 行政区划",
            count(&mut state.districts.values().map(|a| a.risk_level)),
        ),
        (
            "grid cells 网格",
            count(&mut state.cells().map(|c| c.risk_level)),
        ),
    ];
    if json {
        let levels: serde_json::Value = serde_json::json!({
            "today": today,
            "enterprises": state.enterprises.iter().map(|(id, e)| (id.clone(), e.assessment.risk_level)).collect::<std::collections::BTreeMap<_, _>>(),
            "parks": state.parks.iter().map(|(id, a)| (id.clone(), a.risk_level)).collect::<std::collections::BTreeMap<_, _>>(),
            "pipelines": state.pipelines.iter().map(|(id, p)| (id.clone(), p.assessment.risk_level)).collect::<std::collections::BTreeMap<_, _>>(),
            "districts": state.districts.iter().map(|(id, a)| (id.clone(), a.risk_level)).collect::<std::collections::BTreeMap<_, _>>(),
            "safety": {"sites": safety.sites.len(), "zones": safety.zones().count(), "violations": safety.violations().count(),
                "sites_with_violations": safety.sites.values().filter(|a| !a.violations.is_empty()).map(|a| a.site_id.clone()).collect::<Vec<_>>()},
            "summary": rows.iter().map(|(n, c)| (n.to_string(), serde_json::json!({"red": c[3], "orange": c[2], "yellow": c[1], "blue": c[0]}))).collect::<serde_json::Map<_, _>>(),
        });
        println!("{}", serde_json::to_string_pretty(&levels)?);
    } else {
        println!(
            "risk levels on {today} ({}; scored in {:.2} s)",
            describe(&config),
            took.as_secs_f64()
        );
        println!(
            "{:<26} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "", "red 红", "orange 橙", "yellow 黄", "blue 蓝", "total"
        );
        for (name, c) in &rows {
            println!(
                "{:<26} {:>8} {:>8} {:>8} {:>8} {:>8}",
                name,
                c[3],
                c[2],
                c[1],
                c[0],
                c.iter().sum::<usize>()
            );
        }
        println!(
            "external safety distances 外部安全防护距离: {} site(s) assessed, {} zone(s), {} violation(s) at {} site(s)",
            safety.sites.len(),
            safety.zones().count(),
            safety.violations().count(),
            safety
                .sites
                .values()
                .filter(|a| !a.violations.is_empty())
                .count()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn site_check(
    check: site_check::SiteCheck,
    store_args: StoreArgs,
) -> anyhow::Result<ExitCode> {
    let config = store_args.config();
    let store = open_store(&config, true, false).await?;
    let app = riskmap_app::App::open(store, None).await?;
    app.read(riskmap_app::Work::Analysis, move |w| {
        site_check::run(&check, w)
    })
    .await?
}

async fn tiles_export(
    out: PathBuf,
    min_zoom: u8,
    max_zoom: u8,
    store_args: StoreArgs,
) -> anyhow::Result<ExitCode> {
    let config = store_args.config();
    let store = open_store(&config, true, false).await?;
    tracing::info!("exporting tiles ({})", describe(&config));
    export::run(store, out, min_zoom, max_zoom).await?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the store; a new embedded database gets the demo city unless
/// `demo_when_new` is false, and `force_demo` loads it into any store.
async fn open_store(
    config: &StoreConfig,
    demo_when_new: bool,
    force_demo: bool,
) -> anyhow::Result<std::sync::Arc<dyn riskmap_store::Store>> {
    let fresh =
        matches!(config, StoreConfig::Sqlite { dir } if !dir.join(sqlite::DB_FILE).exists());
    let store = riskmap_store::open(config)
        .await
        .with_context(|| format!("cannot open the store ({})", describe(config)))?;
    if force_demo || (fresh && demo_when_new) {
        let n = demo::load(store.as_ref()).await?;
        tracing::info!(features = n, "loaded the demo city (data/demo)");
    }
    Ok(store)
}

fn describe(config: &StoreConfig) -> String {
    match config {
        StoreConfig::Sqlite { dir } => format!("embedded SQLite in {}", dir.display()),
        StoreConfig::Postgres { .. } => "PostGIS".to_string(),
    }
}
