//! Filled contours (等值线面) of a regular grid: for each threshold, the
//! region where the gridded value is at or above it, as a
//! [`MultiPolygon`].
//!
//! A thin wrapper over the `contour` crate (0.13, marching squares ported
//! from d3-contour) that fixes the conventions riskmap needs:
//!
//! - **Grid**: [`GridGeometry`]. Value `(i, j)` sits at the cell centre
//!   `(x0 + (i + ½)·cell_w, y0 + (j + ½)·cell_h)`, row-major, `j = 0` at the
//!   lowest y (south). This is also the `contour` crate's own pixel
//!   convention (pixel `i` spans `[i, i + 1]`), so its output only needs
//!   scaling and shifting.
//! - **Interpolation**: linear between cell centres ("smooth" in the
//!   `contour` crate), so a contour lies where the linear interpolation of
//!   the values crosses the threshold.
//! - **Edges**: outside the grid counts as below every threshold, so a
//!   region that reaches the grid's border is closed along it.
//! - **Non-finite values** (NaN, ±∞) count as below every threshold.
//! - **Rings**: exterior rings counter-clockwise, holes clockwise (the
//!   `geo` convention), and every hole is attached to the smallest exterior
//!   ring that contains it (the `contour` crate attaches it to the first one,
//!   which is wrong when regions nest: island inside a hole inside a region).

use contour::ContourBuilder;
use geo::orient::{Direction, Orient};
use geo::{Area, Contains, InteriorPoint};
use geo::{LineString, MultiPolygon, Polygon};
use thiserror::Error;

/// A regular grid of values at cell centres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridGeometry {
    /// x of the grid's left edge (not the first centre).
    pub x0: f64,
    /// y of the grid's bottom edge (not the first centre).
    pub y0: f64,
    /// Cell width (> 0).
    pub cell_w: f64,
    /// Cell height (> 0).
    pub cell_h: f64,
    /// Number of columns (≥ 1).
    pub nx: usize,
    /// Number of rows (≥ 1).
    pub ny: usize,
}

/// Why a grid could not be contoured.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ContourError {
    /// `values.len()` is not `nx·ny`, or a dimension is zero.
    #[error("grid is {nx}×{ny} but {len} values were given")]
    Dimensions {
        /// Columns.
        nx: usize,
        /// Rows.
        ny: usize,
        /// Values given.
        len: usize,
    },
    /// A cell size or origin is not finite, or a cell size is not > 0.
    #[error("grid geometry is not finite with positive cell sizes")]
    Geometry,
    /// The `contour` crate refused the input.
    #[error("contour: {0}")]
    Contour(String),
}

/// Value used in place of non-finite values: below any finite threshold a
/// caller can sensibly use.
const BELOW_EVERYTHING: f64 = -1e300;

/// For each threshold (in the order given), the region where the linearly
/// interpolated `values` are ≥ the threshold.
///
/// # Errors
/// [`ContourError`] for inconsistent dimensions or geometry.
pub fn contour_polygons(
    grid: &GridGeometry,
    values: &[f64],
    thresholds: &[f64],
) -> Result<Vec<MultiPolygon<f64>>, ContourError> {
    if grid.nx == 0 || grid.ny == 0 || values.len() != grid.nx * grid.ny {
        return Err(ContourError::Dimensions {
            nx: grid.nx,
            ny: grid.ny,
            len: values.len(),
        });
    }
    let finite = [grid.x0, grid.y0, grid.cell_w, grid.cell_h]
        .iter()
        .all(|v| v.is_finite());
    if !finite || grid.cell_w <= 0.0 || grid.cell_h <= 0.0 {
        return Err(ContourError::Geometry);
    }
    let clean: Vec<f64> = values
        .iter()
        .map(|&v| if v.is_finite() { v } else { BELOW_EVERYTHING })
        .collect();
    let builder = ContourBuilder::new(grid.nx, grid.ny, true)
        .x_origin(grid.x0)
        .y_origin(grid.y0)
        .x_step(grid.cell_w)
        .y_step(grid.cell_h);
    let mut out = Vec::with_capacity(thresholds.len());
    for &t in thresholds {
        if !t.is_finite() {
            out.push(MultiPolygon(Vec::new()));
            continue;
        }
        let contours = builder
            .contours(&clean, &[t])
            .map_err(|e| ContourError::Contour(format!("{e:?}")))?;
        let mut rings = Vec::new();
        for c in contours {
            let (mp, _) = c.into_inner();
            for p in mp {
                let (ext, holes) = p.into_inner();
                rings.push(ext);
                rings.extend(holes);
            }
        }
        out.push(nest(rings));
    }
    Ok(out)
}

/// Signed area of a closed ring (shoelace), positive when counter-clockwise.
fn signed_area(ring: &LineString<f64>) -> f64 {
    ring.0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

/// Rebuild polygons from rings: a ring is an exterior when it is nested in an
/// even number of other rings, a hole otherwise; each hole goes to the
/// smallest exterior containing it. Orientation is normalised afterwards.
fn nest(rings: Vec<LineString<f64>>) -> MultiPolygon<f64> {
    let rings: Vec<LineString<f64>> = rings
        .into_iter()
        .filter(|r| r.0.len() >= 4 && signed_area(r).abs() > 0.0)
        .collect();
    let polys: Vec<Polygon<f64>> = rings
        .iter()
        .map(|r| Polygon::new(r.clone(), vec![]))
        .collect();
    let areas: Vec<f64> = polys.iter().map(|p| p.unsigned_area()).collect();
    // A point strictly inside each ring, to test containment by other rings
    // (rings from marching squares never cross; they may touch at a vertex).
    let probes: Vec<Option<geo::Point<f64>>> = polys.iter().map(|p| p.interior_point()).collect();
    let n = rings.len();
    // containers[i]: indices of rings that contain ring i.
    let containers: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&k| {
                    k != i
                        && areas[k] > areas[i]
                        && probes[i].is_some_and(|p| polys[k].contains(&p))
                })
                .collect()
        })
        .collect();
    let mut exteriors: Vec<(usize, Vec<LineString<f64>>)> = Vec::new();
    let mut holes = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        if c.len() % 2 == 0 {
            exteriors.push((i, Vec::new()));
        } else {
            holes.push(i);
        }
    }
    for h in holes {
        // Smallest exterior that contains the hole.
        let parent = containers[h]
            .iter()
            .copied()
            .filter(|k| exteriors.iter().any(|(e, _)| e == k))
            .min_by(|a, b| areas[*a].total_cmp(&areas[*b]));
        if let Some(p) = parent
            && let Some(slot) = exteriors.iter_mut().find(|(e, _)| *e == p)
        {
            slot.1.push(rings[h].clone());
        }
    }
    let polygons: Vec<Polygon<f64>> = exteriors
        .into_iter()
        .map(|(e, hs)| Polygon::new(rings[e].clone(), hs).orient(Direction::Default))
        .collect();
    MultiPolygon(polygons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, Point};

    fn grid(nx: usize, ny: usize) -> GridGeometry {
        GridGeometry {
            x0: 100.0,
            y0: -50.0,
            cell_w: 10.0,
            cell_h: 10.0,
            nx,
            ny,
        }
    }

    #[test]
    fn square_block_is_placed_at_cell_centres() {
        // 1s in columns 3..=5, rows 3..=7 of a 10×10 grid, threshold 0.5:
        // centres of the 1-cells span x = 100 + 35..=55, the 0.5 crossing is
        // half-way to the neighbouring centres: x ∈ [130, 160], y ∈ [-20, 30].
        let (nx, ny) = (10, 10);
        let mut v = vec![0.0; nx * ny];
        for j in 3..=7 {
            for i in 3..=5 {
                v[j * nx + i] = 1.0;
            }
        }
        let g = grid(nx, ny);
        let mp = &contour_polygons(&g, &v, &[0.5]).unwrap()[0];
        assert_eq!(mp.0.len(), 1);
        let p = &mp.0[0];
        assert!(p.interiors().is_empty());
        let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for c in p.exterior().coords() {
            xmin = xmin.min(c.x);
            xmax = xmax.max(c.x);
            ymin = ymin.min(c.y);
            ymax = ymax.max(c.y);
        }
        assert!((xmin - 130.0).abs() < 1e-9 && (xmax - 160.0).abs() < 1e-9);
        assert!((ymin + 20.0).abs() < 1e-9 && (ymax - 30.0).abs() < 1e-9);
        assert!(signed_area(p.exterior()) > 0.0, "exterior is CCW");
        assert!(p.contains(&Point::new(145.0, 5.0)));
    }

    #[test]
    fn linear_interpolation_between_centres() {
        // A ramp v = i (columns 0..9): threshold 4.25 crosses at centre
        // coordinate i = 4.25, x = 100 + (4.25 + 0.5)·10 = 147.5.
        let (nx, ny) = (10, 4);
        let v: Vec<f64> = (0..nx * ny).map(|k| (k % nx) as f64).collect();
        let mp = &contour_polygons(&grid(nx, ny), &v, &[4.25]).unwrap()[0];
        let xmin = mp.0[0]
            .exterior()
            .coords()
            .map(|c| c.x)
            .fold(f64::MAX, f64::min);
        assert!((xmin - 147.5).abs() < 1e-9, "{xmin}");
    }

    #[test]
    fn nested_island_in_hole() {
        // Ring of 1s (a square annulus) around a hole of 0s that holds an
        // island of 1s: two polygons, the outer one with one hole, the
        // island without; holes are clockwise.
        let n = 15;
        let mut v = vec![0.0; n * n];
        for j in 1..14 {
            for i in 1..14 {
                let d = (i as i64 - 7).abs().max((j as i64 - 7).abs());
                v[j * n + i] = if d >= 4 || d <= 1 { 1.0 } else { 0.0 };
            }
        }
        let mp = &contour_polygons(&grid(n, n), &v, &[0.5]).unwrap()[0];
        assert_eq!(mp.0.len(), 2, "{mp:?}");
        let outer = mp.0.iter().find(|p| !p.interiors().is_empty()).unwrap();
        assert_eq!(outer.interiors().len(), 1);
        assert!(signed_area(&outer.interiors()[0]) < 0.0, "hole is CW");
        let island = mp.0.iter().find(|p| p.interiors().is_empty()).unwrap();
        let centre = Point::new(100.0 + 75.0, -50.0 + 75.0);
        assert!(island.contains(&centre));
        assert!(!outer.contains(&centre));
    }

    #[test]
    fn non_finite_and_errors() {
        let v = vec![f64::NAN, 1.0, f64::INFINITY, 1.0];
        let mp = &contour_polygons(&grid(2, 2), &v, &[0.5, f64::NAN]).unwrap();
        assert_eq!(mp.len(), 2);
        assert!(mp[1].0.is_empty());
        assert!(matches!(
            contour_polygons(&grid(3, 2), &v, &[0.5]),
            Err(ContourError::Dimensions { .. })
        ));
        let bad = GridGeometry {
            cell_w: 0.0,
            ..grid(2, 2)
        };
        assert_eq!(
            contour_polygons(&bad, &v, &[0.5]),
            Err(ContourError::Geometry)
        );
    }
}
