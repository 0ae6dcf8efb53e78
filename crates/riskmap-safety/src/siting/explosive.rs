//! GB/T 37243-2019 §5 consequence method (事故后果法) for installations with
//! explosives: the most severe scenario is the mass explosion of the unit
//! holding the largest TNT-equivalent mass; the external safety distance
//! is where its blast overpressure falls to the 空气冲击波超压安全阈值.
//!
//! **The threshold is a PLACEHOLDER**: the GB/T 37243 Annex G values per
//! target class were not retrieved (`standards.md` §3.3, §10 item 4);
//! `qra-model.toml` `[explosives]` holds GB 6722 §13.3.3's 2 kPa for
//! unprotected people, and every zone says UNCONFIRMED.

use serde::Serialize;

use riskmap_core::model::Unit;

use crate::consequence::units::STANDARD_ATMOSPHERE_PA;
use crate::consequence::vce::{BlastCurve, TntEquivalence, VapourCloudExplosion};
use crate::effect::Reach;
use crate::error::SafetyError;
use crate::qra::rules::QraRules;
use crate::siting::{is_explosive, label, props};

type Candidate = (usize, f64, Vec<(String, f64)>, Vec<String>);

/// The consequence-method distance of the most severe explosive unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsequenceZone {
    /// The unit whose mass explosion is the most severe scenario.
    pub unit_id: String,
    /// Distance from the unit to the threshold overpressure, m.
    pub radius_m: f64,
    /// Overpressure threshold, Pa.
    pub threshold_pa: f64,
    /// Where the threshold comes from.
    pub threshold_source: String,
    /// TNT-equivalent mass, kg.
    pub tnt_kg: f64,
    /// Blast curve.
    pub curve: BlastCurve,
    /// Clause of the method.
    pub clause: String,
    /// True: the threshold (and possibly TNT factors) are UNCONFIRMED.
    pub unconfirmed: bool,
    /// Explosives in the unit with their TNT-equivalent mass (kg).
    pub substances: Vec<(String, f64)>,
    /// Caveats.
    pub notes: Vec<String>,
}

/// The consequence zone of the unit with the largest TNT-equivalent mass
/// of explosives, or `None` when no unit holds explosives (or only zero
/// quantities of them). W_TNT = Σ quantity × TNT equivalence factor (row of
/// `qra-substances.toml`, else `[explosives] default_tnt_equivalence`).
///
/// # Errors
/// [`SafetyError::InvalidItem`] naming the unit and substance for a
/// quantity that is not a finite number ≥ 0 t (never read as none);
/// [`SafetyError::BeyondRange`] when the threshold is still exceeded at
/// the far end of the distance search (100 km): the radius is unknown, and
/// not reported as the search limit; the errors of the blast model.
pub fn explosive_consequence_zone(
    units: &[Unit],
    rules: &QraRules,
) -> Result<Option<ConsequenceZone>, SafetyError> {
    let ex = &rules.model.explosives;
    // (unit index, W_TNT, substances, notes) of the most severe unit.
    let mut best: Option<Candidate> = None;
    for (ui, u) in units.iter().enumerate() {
        let mut total = 0.0;
        let mut subs = Vec::new();
        let mut notes = Vec::new();
        for s in u.substances.iter().filter(|s| is_explosive(rules, s)) {
            let row = props(rules, s);
            let factor = match row.and_then(|p| p.tnt_equivalence) {
                Some(f) => {
                    if row
                        .and_then(|p| p.tnt_equivalence_confidence)
                        .is_none_or(|c| c.is_unconfirmed())
                    {
                        notes.push(format!("{}: TNT equivalence {f} UNCONFIRMED [M]", label(s)));
                    }
                    f
                }
                None => {
                    notes.push(format!(
                        "{}: no TNT equivalence in qra-substances.toml; {} assumed (UNCONFIRMED)",
                        label(s),
                        ex.default_tnt_equivalence
                    ));
                    ex.default_tnt_equivalence
                }
            };
            let q = crate::error::non_negative("quantity_t", s.quantity_t)
                .map_err(|e| e.in_item(format!("unit `{}` substance {}", u.id, label(s))))?;
            let w = q * 1e3 * factor;
            total += w;
            subs.push((label(s), w));
        }
        if total > 0.0 && best.as_ref().is_none_or(|b| total > b.1) {
            best = Some((ui, total, subs, notes));
        }
    }
    let Some((ui, w, substances, mut notes)) = best else {
        return Ok(None);
    };
    let tnt_unconfirmed = !notes.is_empty();
    let r = VapourCloudExplosion {
        tnt: TntEquivalence::Direct { tnt_mass_kg: w },
        curve: ex.curve,
        ambient_pressure_pa: STANDARD_ATMOSPHERE_PA,
    }
    .evaluate(&[ex.threshold_pa])?;
    let Some(d) = r.distances.first() else {
        return Err(SafetyError::BeyondRange {
            field: "radius_m",
            detail: "no distance was computed for the threshold".into(),
        });
    };
    let radius_m = match d.reach {
        Reach::Within { distance_m } => distance_m,
        Reach::BeyondRange { max_distance_m } => {
            return Err(SafetyError::BeyondRange {
                field: "radius_m",
                detail: format!(
                    "unit `{}`: {} Pa still exceeded at {max_distance_m} m, the end of the search",
                    units[ui].id, ex.threshold_pa
                ),
            });
        }
        // Below the threshold even at 1 mm from the charge: no zone.
        Reach::NotReached => 0.0,
    };
    if d.extrapolated {
        notes
            .push("the distance lies outside the blast curve's fitted range (extrapolated)".into());
    }
    notes.push("most severe scenario: simultaneous mass explosion of every explosive in the unit (no sympathetic-detonation or compartment analysis)".into());
    Ok(Some(ConsequenceZone {
        unit_id: units[ui].id.clone(),
        radius_m,
        threshold_pa: ex.threshold_pa,
        threshold_source: ex.threshold_source.clone(),
        tnt_kg: w,
        curve: ex.curve,
        clause: ex.clause.clone(),
        unconfirmed: ex.unconfirmed || tnt_unconfirmed,
        substances,
        notes,
    }))
}
