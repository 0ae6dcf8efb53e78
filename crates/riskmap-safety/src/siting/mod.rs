//! Siting methods of GB/T 37243-2019 (外部安全防护距离确定方法): which method
//! applies to an installation (§4), the consequence method for explosives
//! (§5) and the code separation distances of the "other cases" branch.
//!
//! - [`method`] — [`choose_methods`] → [`MethodChoice`] (consequence, QRA,
//!   code distances; several may apply).
//! - [`explosive`] — [`explosive_consequence_zone`] → [`ConsequenceZone`]
//!   (TNT equivalence, overpressure threshold from `qra-model.toml`, a
//!   GB 6722 PLACEHOLDER, UNCONFIRMED).
//! - [`code_distance`]: [`CodeDistanceTable`] from
//!   `data/rules/code-distances.toml` (every distance UNCONFIRMED).

pub mod code_distance;
pub mod explosive;
pub mod method;

pub use code_distance::{
    CodeDistance, CodeDistanceRow, CodeDistanceTable, FacilityKind, facility_kinds,
};
pub use explosive::{ConsequenceZone, explosive_consequence_zone};
pub use method::{Method, MethodChoice, choose_methods};

use riskmap_core::model::Substance;

use crate::qra::rules::{QraRules, SubstanceProps};

/// A substance's label: name, else CAS.
pub(crate) fn label(s: &Substance) -> String {
    s.name
        .clone()
        .or_else(|| s.cas.clone())
        .unwrap_or_else(|| "(unnamed)".into())
}

/// The substance's row in `qra-substances.toml`, if any.
pub(crate) fn props<'r>(rules: &'r QraRules, s: &Substance) -> Option<&'r SubstanceProps> {
    rules.substances.find(s.name.as_deref(), s.cas.as_deref())
}

/// Whether a substance is an explosive (爆炸物): its `qra-substances.toml`
/// row says so, its GB 18218 表1 entry is flagged explosive, or it is given
/// a W1.x category.
pub(crate) fn is_explosive(rules: &QraRules, s: &Substance) -> bool {
    let gb = riskmap_core::standards::gb18218::Gb18218::builtin();
    props(rules, s).is_some_and(|p| p.explosive)
        || gb
            .find_substance(s.name.as_deref(), s.cas.as_deref())
            .is_some_and(|e| e.is_explosive)
        || s.hazard_categories
            .iter()
            .any(|c| c.trim().to_ascii_uppercase().starts_with("W1."))
}
