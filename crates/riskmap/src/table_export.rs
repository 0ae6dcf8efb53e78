//! Files on the command line: `riskmap import` of CSV, .xlsx and the GIS
//! layers (Shapefile .zip, GeoPackage, FlatGeobuf, KML; through
//! `riskmap_core::office`, `riskmap_core::gis` and `riskmap_store::gpkg`,
//! hidden dangers taking their enterprise's site, district and industry
//! from the store), and `riskmap export <collection>
//! <out.geojson|csv|xlsx|gpkg|shp.zip>`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use riskmap_core::import::{self, Format};
use riskmap_core::{Collection, Feature, gis, office};
use riskmap_spatial::Crs;
use riskmap_store::{Store, StoreConfig};

/// Reads and validates an import file: the features, or the exit code after
/// the errors are printed (2: invalid input). `crs` applies when the file
/// declares none (a Shapefile's `.prj`, a GeoPackage's `srs_id`, KML's WGS84).
pub(crate) async fn parse_file(
    collection: Collection,
    format: Format,
    bytes: Vec<u8>,
    crs: Option<Crs>,
    store: &dyn Store,
    file: &Path,
) -> anyhow::Result<Result<Vec<Feature>, ExitCode>> {
    let fail = |errors: import::ImportErrors| {
        eprint!("{}: {errors}", file.display());
        Err(ExitCode::from(2))
    };
    // A GIS layer: its records, fields and declared CRS.
    let layer = if format.is_layer() {
        let read = match format {
            Format::Shapefile => gis::read_shapefile_zip(&bytes),
            Format::FlatGeobuf => gis::read_flatgeobuf(&bytes),
            Format::Kml => gis::kml::read_kml(&bytes),
            _ => riskmap_store::gpkg::read_gpkg(file, Some(collection.as_str())).await,
        };
        match read {
            Ok(l) => Some(l),
            Err(errors) => return Ok(fail(errors)),
        }
    } else {
        None
    };
    let declared = layer.as_ref().and_then(|l| l.crs);
    if let (Some(d), Some(given)) = (declared, crs)
        && d != given
    {
        eprintln!(
            "{}: the file declares {d}; --crs {given} is not used",
            file.display()
        );
    }
    let crs = declared.or(crs).unwrap_or(Crs::Wgs84);
    if let Some(d) = declared {
        eprintln!("{}: coordinates in {d}", file.display());
    }
    // A hidden danger in a table may leave out its location, district and
    // industry: its enterprise's (as over HTTP).
    let enterprises: HashMap<String, Feature> =
        if collection == Collection::HiddenDangers && format != Format::GeoJson {
            store
                .all(Collection::Enterprises)
                .await?
                .into_iter()
                .map(|f| (f.id.clone(), f))
                .collect()
        } else {
            HashMap::new()
        };
    let fill = office::fill_from_enterprise(|id| enterprises.get(id), crs);
    let fill: Option<&import::Fill<'_>> =
        (collection == Collection::HiddenDangers).then_some(&fill as &import::Fill<'_>);
    if let Some(layer) = layer {
        return Ok(import::parse_layer(collection, layer, crs, fill).or_else(fail));
    }
    if format == Format::Xlsx {
        return Ok(
            match office::parse_xlsx_with(collection, &bytes, crs, fill) {
                Ok(f) => Ok(f),
                Err(errors) => fail(errors),
            },
        );
    }
    let (text, encoding) = match import::decode_text(&bytes) {
        Ok(t) => t,
        Err(errors) => return Ok(fail(errors)),
    };
    drop(bytes);
    if encoding != "UTF-8" {
        eprintln!("{}: read as {encoding}", file.display());
    }
    let parsed = match format {
        Format::Csv => import::parse_csv_with(collection, &text, crs, fill),
        _ => import::parse(collection, format, &text, crs),
    };
    Ok(parsed.or_else(fail))
}

/// An export file format, by the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    GeoJson,
    Csv,
    Xlsx,
    Gpkg,
    ShpZip,
}

impl Out {
    fn from_path(path: &Path) -> Option<Out> {
        let name = path.to_string_lossy().to_ascii_lowercase();
        let ends = |e: &str| name.ends_with(e);
        if ends(".shp.zip") || ends(".zip") {
            Some(Out::ShpZip)
        } else if ends(".geojson") || ends(".json") {
            Some(Out::GeoJson)
        } else if ends(".csv") {
            Some(Out::Csv)
        } else if ends(".xlsx") {
            Some(Out::Xlsx)
        } else if ends(".gpkg") {
            Some(Out::Gpkg)
        } else {
            None
        }
    }
}

/// What the export builds on the blocking pool: bytes, or the layer the
/// GeoPackage writer writes.
enum Built {
    Bytes(Vec<u8>),
    Layer(gis::GisTable),
}

/// `riskmap export`: the collection (within `bbox`) as GeoJSON, CSV, .xlsx,
/// GeoPackage or zipped Shapefile, with the levels and explanation
/// summaries of a scored world. The file appears whole or not at all (it
/// is written beside and renamed).
pub(crate) async fn run(
    collection: Collection,
    out: PathBuf,
    bbox: Option<String>,
    filter: Option<String>,
    today: Option<String>,
    config: StoreConfig,
) -> anyhow::Result<ExitCode> {
    let Some(kind) = Out::from_path(&out) else {
        eprintln!(
            "{}: the file name must end in .geojson, .csv, .xlsx, .gpkg or .shp.zip",
            out.display()
        );
        return Ok(ExitCode::from(2));
    };
    let bbox = match bbox.as_deref().map(parse_bbox).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("--bbox: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    // A CQL2 filter, text or JSON (told by its first character), on the
    // queryables, exactly as `?filter=` reads it.
    let filter = match filter.as_deref() {
        None => None,
        Some(f) => {
            let lang = if f.trim_start().starts_with('{') {
                riskmap_server::filter::Lang::Json
            } else {
                riskmap_server::filter::Lang::Text
            };
            match riskmap_server::filter::Filter::parse(collection, f, lang, false) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("--filter: {e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    };
    let selection = riskmap_server::filter::Selection {
        bbox,
        filter,
        ..Default::default()
    };
    // A new embedded store gets the demo city, as for `score` and `tiles export`.
    let store = crate::open_store(&config, true, false).await?;
    let app = crate::progress::open_app(store, today).await?;
    let (built, rows) = app
        .read(riskmap_app::Work::Analysis, move |w| {
            let features = selection.select(w, collection);
            let features: Vec<&Feature> = features.iter().map(|f| &**f).collect();
            let rows = features.len();
            let risk = |f: &Feature| {
                w.risk
                    .assessment(collection, &f.id)
                    .map(gis::RiskSummary::of)
            };
            let built = match kind {
                Out::Csv | Out::Xlsx => {
                    let table = office::export_table(
                        collection,
                        features.iter().copied(),
                        |f| w.risk.assessment(collection, &f.id).map(|a| a.risk_level),
                        w.today(),
                    );
                    if kind == Out::Xlsx {
                        office::write_xlsx(&table, collection.as_str()).map(Built::Bytes)
                    } else {
                        Ok(Built::Bytes(office::write_csv(&table)))
                    }
                }
                Out::GeoJson => Ok(Built::Bytes(
                    gis::geojson_export(features.iter().copied(), risk)
                        .to_string()
                        .into_bytes(),
                )),
                Out::Gpkg => Ok(Built::Layer(gis::gis_table(
                    collection,
                    features.iter().copied(),
                    risk,
                    w.today(),
                ))),
                Out::ShpZip => gis::write_shapefile_zip(&gis::gis_table(
                    collection,
                    features.iter().copied(),
                    risk,
                    w.today(),
                ))
                .map(Built::Bytes),
            };
            built.map(|b| (b, rows))
        })
        .await?
        .map_err(anyhow::Error::msg)?;
    // Written beside the target, then renamed: a failure leaves nothing.
    let tmp = out.with_file_name(format!(
        ".{}.partial",
        out.file_name()
            .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned())
    ));
    let _ = std::fs::remove_file(&tmp);
    let written = match built {
        Built::Bytes(bytes) => {
            std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write {}", tmp.display()))
        }
        Built::Layer(table) => riskmap_store::gpkg::write_gpkg(&tmp, &table)
            .await
            .with_context(|| format!("cannot write {}", tmp.display())),
    };
    if let Err(e) = written.and_then(|()| {
        std::fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))
    }) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!(
        "exported {rows} feature(s) of {collection} to {} ({size} bytes)",
        out.display(),
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_bbox(s: &str) -> Result<geo::Rect<f64>, String> {
    let n: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("expected minlon,minlat,maxlon,maxlat, got {s:?}"))?;
    match n.as_slice() {
        [a, b, c, d] if a <= c && b <= d && n.iter().all(|x| x.is_finite()) => {
            Ok(geo::Rect::new((*a, *b), (*c, *d)))
        }
        _ => Err(format!(
            "expected minlon,minlat,maxlon,maxlat with min ≤ max, got {s:?}"
        )),
    }
}
