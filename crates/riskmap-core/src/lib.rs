//! The domain of riskmap: what a hazardous-chemical enterprise (企业), a chemical
//! park (化工园区), a pipeline (管道), a protection target (防护目标) and an
//! administrative district (行政区划) are, how they are validated on import, and
//! the standards that score them.
//!
//! # Layout
//! - [`model`]: the domain types and the [`Feature`] that carries one of them
//!   with its geometry.
//! - [`access`]: account roles and scopes: who may write what (权限).
//! - [`catalog`]: the in-memory catalogue with its R*-tree, which serves reads.
//! - [`demo`]: the demo city's files, embedded.
//! - [`dangers`]: the hidden-danger register's lifecycle, 判定标准 items and level rules (隐患排查治理).
//! - [`engine`]: the risk engine: spatial facts, all scores, the four-colour grid, incremental rescoring.
//! - [`gis`]: GIS formats: Shapefile (.zip), FlatGeobuf and KML in; GeoJSON
//!   and Shapefile out, with levels and explanation summaries.
//! - [`import`]: GeoJSON and CSV parsing with full validation, reporting every
//!   error by record and field.
//! - [`office`]: .xlsx import, CSV/.xlsx export and the Chinese column
//!   aliases of 台账 templates.
//! - [`resources`]: emergency resources (应急资源): rescue teams, supply depots, shelters.
//! - [`rule_set`]: the `data/rules` files in force (embedded or overridden) and their digest.
//! - [`standards`]: standards as data (GB 18218-2018 tables).
//! - [`scoring`]: the scoring models (GB 18218 units, enterprises, parks,
//!   pipeline HCAs, LEC, risk matrix, four-colour grid), rules as data.
//!
//! This crate does no IO: it takes text and data and returns data.
#![warn(missing_docs)]

pub mod access;
pub mod catalog;
pub mod dangers;
pub mod demo;
pub mod engine;
pub mod gis;
pub mod import;
pub mod model;
pub mod office;
pub mod resources;
pub mod rule_set;
pub mod scoring;
pub mod standards;

pub use catalog::Catalog;
pub use model::{Collection, Feature, Record};
