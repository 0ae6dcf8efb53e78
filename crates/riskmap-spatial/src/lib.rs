//! Spatial building blocks of riskmap: coordinate reference systems (CRS), the
//! in-memory bounding-box index and metric helpers.
//!
//! # Layout
//! - [`crs`]: the input CRSs riskmap accepts (WGS84, CGCS2000, GCJ-02) and their
//!   conversion to WGS84, the storage CRS.
//! - [`index`]: an R*-tree over feature bounding boxes ([`BBoxIndex`]).
//! - [`metric`]: geodesic distances in metres.
//!
//! This crate does no IO (no files, network, async runtime or database).
#![warn(missing_docs)]

pub mod crs;
pub mod index;
pub mod metric;

pub use crs::{Crs, CrsError};
pub use index::BBoxIndex;
