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
/// of explosives, or `None` when no unit holds explosives (or the search
/// fails). W_TNT = Σ quantity × TNT equivalence factor (row of
/// `qra-substances.toml`, else `[explosives] default_tnt_equivalence`).
pub fn explosive_consequence_zone(units: &[Unit], rules: &QraRules) -> Option<ConsequenceZone> {
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
            let q = if s.quantity_t.is_finite() {
                s.quantity_t.max(0.0)
            } else {
                0.0
            };
            let w = q * 1e3 * factor;
            total += w;
            subs.push((label(s), w));
        }
        if total > 0.0 && best.as_ref().is_none_or(|b| total > b.1) {
            best = Some((ui, total, subs, notes));
        }
    }
    let (ui, w, substances, mut notes) = best?;
    let tnt_unconfirmed = !notes.is_empty();
    let r = VapourCloudExplosion {
        tnt: TntEquivalence::Direct { tnt_mass_kg: w },
        curve: ex.curve,
        ambient_pressure_pa: STANDARD_ATMOSPHERE_PA,
    }
    .evaluate(&[ex.threshold_pa])
    .ok()?;
    let d = r.distances.first()?;
    let radius_m = match d.reach {
        Reach::Within { distance_m } => distance_m,
        Reach::BeyondRange { max_distance_m } => {
            notes.push(format!("threshold still exceeded at {max_distance_m} m"));
            max_distance_m
        }
        Reach::NotReached => 0.0,
    };
    if d.extrapolated {
        notes
            .push("the distance lies outside the blast curve's fitted range (extrapolated)".into());
    }
    notes.push("most severe scenario: simultaneous mass explosion of every explosive in the unit (no sympathetic-detonation or compartment analysis)".into());
    Some(ConsequenceZone {
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
    })
}
