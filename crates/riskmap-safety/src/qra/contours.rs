//! Iso-risk contours (个人风险等值线) of a [`RiskField`].

use geo_types::MultiPolygon;
use riskmap_spatial::contour::{GridGeometry, contour_polygons};
use serde::Serialize;

use crate::error::SafetyError;
use crate::qra::risk::RiskField;

/// The GB 36894 individual-risk levels (3×10⁻⁷, 3×10⁻⁶, 1×10⁻⁵,
/// 3×10⁻⁵ /yr) plus 1×10⁻⁶ and 1×10⁻⁴ for context (`standards.md` §7).
pub const CONTOUR_LEVELS: [f64; 6] = [3e-7, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4];

/// The region where the individual risk is at or above `level`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IsoRisk {
    /// IR level, per year.
    pub level: f64,
    /// Region (site-local metres), exterior rings counter-clockwise.
    pub area: MultiPolygon<f64>,
}

/// Floor for log10 of a zero risk.
const LOG_FLOOR: f64 = -300.0;

/// One [`IsoRisk`] per level, in the order given (empty areas included).
///
/// Contours are drawn on log10(IR), linearly interpolated between cell
/// centres (marching squares, [`riskmap_spatial::contour`]): IR spans orders
/// of magnitude within a few cells, and its logarithm is much closer to
/// linear. The contour is therefore resolved to about one cell.
///
/// # Errors
/// [`SafetyError::InvalidInput`] for a level that is not a finite positive
/// number per year or a field [`RiskField::validate`] refuses, and
/// [`SafetyError::Contour`] when the field cannot be contoured: never an
/// empty area in place of a contour.
pub fn risk_contours(field: &RiskField, levels: &[f64]) -> Result<Vec<IsoRisk>, SafetyError> {
    for &l in levels {
        crate::error::positive("level", l)?;
    }
    field.validate()?;
    let g = &field.grid;
    let geometry = GridGeometry {
        x0: g.x0_m,
        y0: g.y0_m,
        cell_w: g.cell_m,
        cell_h: g.cell_m,
        nx: g.nx,
        ny: g.ny,
    };
    let logs: Vec<f64> = field
        .values
        .iter()
        .map(|&v| if v > 0.0 { v.log10() } else { LOG_FLOOR })
        .collect();
    let thresholds: Vec<f64> = levels.iter().map(|&l| l.log10()).collect();
    let areas = contour_polygons(&geometry, &logs, &thresholds)
        .map_err(|e| SafetyError::Contour(e.to_string()))?;
    Ok(levels
        .iter()
        .zip(areas)
        .map(|(&level, area)| IsoRisk { level, area })
        .collect())
}
