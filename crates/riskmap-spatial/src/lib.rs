//! Spatial building blocks of riskmap: coordinate reference systems (CRS), the
//! in-memory bounding-box index and metric helpers.
//!
//! # Layout
//! - [`contour`]: filled contours of a regular grid (marching squares, the `contour` crate).
//! - [`crs`]: the input CRSs riskmap accepts (WGS84, CGCS2000, GCJ-02) and their
//!   conversion to WGS84, the storage CRS.
//! - [`index`]: an R*-tree over feature bounding boxes ([`BBoxIndex`]).
//! - [`local`]: CGCS2000 3° Gauss–Krüger zones, the metric frames for distances and buffers.
//! - [`metric`]: geodesic distances in metres.
//! - [`roads`]: a road graph from OpenStreetMap XML and fastest routes over it (petgraph).
//! - [`proximity`]: distances between geometries in a local metric frame.
//! - [`validity`]: OGC geometry validity in near-linear time (same answers as `geo::Validation`).
//!
//! This crate does no IO (no files, network, async runtime or database).
#![warn(missing_docs)]

pub mod contour;
pub mod crs;
pub mod index;
pub mod local;
pub mod metric;
pub mod proximity;
pub mod roads;
pub mod validity;

pub use crs::{Crs, CrsError};
pub use index::BBoxIndex;
pub use local::GaussKruger;
pub use proximity::{MetricFrame, expand_bbox_m};
