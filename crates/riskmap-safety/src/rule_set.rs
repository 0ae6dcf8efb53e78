//! The check of this crate's rules files in a [`RuleSet`] (`--rules DIR`):
//! every table parsed from the set's texts with the same checks the
//! embedded ones get, without reading (and so fixing) the tables in force.

use riskmap_core::rule_set::{RuleSet, RuleSetError};

use crate::error::SafetyError;

/// Parses and checks every rules file this crate reads from `set`.
///
/// # Errors
/// The first file that does not parse or breaks a rule, named by its
/// origin, with the key or row where the table says which.
pub fn check(set: &RuleSet) -> Result<(), RuleSetError> {
    let text = |name: &str| set.text(name).unwrap_or_default();
    let fail = |e: SafetyError| match e {
        SafetyError::Rules { table, message } => RuleSetError {
            file: set
                .file(table)
                .map_or_else(|| table.to_string(), |f| f.origin.clone()),
            message,
        },
        other => RuleSetError {
            file: "data/rules".into(),
            message: other.to_string(),
        },
    };
    crate::consequence::thresholds::EffectThresholds::from_toml_str(text(
        "consequence-thresholds.toml",
    ))
    .map_err(fail)?;
    let probits = crate::consequence::toxic_probits::ToxicProbitTable::from_toml_str(text(
        "consequence-toxic-probits.toml",
    ))
    .map_err(fail)?;
    crate::qra::rules::QraRules::from_toml_strs_with(
        text("qra-leak-frequencies.toml"),
        text("qra-ignition.toml"),
        text("qra-weather.toml"),
        text("qra-substances.toml"),
        text("qra-model.toml"),
        probits,
    )
    .map_err(fail)?;
    crate::siting::code_distance::CodeDistanceTable::from_toml_str(text("code-distances.toml"))
        .map_err(fail)?;
    crate::targets::rules::TargetClassRules::from_toml_str(text("protection-target-classes.toml"))
        .map_err(fail)?;
    crate::dense_gas::DenseGasRules::from_toml_str(text("dense-gas.toml")).map_err(fail)?;
    crate::erg::ErgTable::from_toml_str(text("erg.toml")).map_err(fail)?;
    crate::loc::LevelsOfConcern::from_toml_str(text("levels-of-concern.toml")).map_err(fail)?;
    crate::routing::RoadRules::from_toml_str(text("road-speeds.toml")).map_err(fail)?;
    crate::incident::IncidentRules::from_toml_str(text("incident.toml")).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_embedded_set_passes_and_a_bad_speed_is_named() {
        check(&RuleSet::embedded()).unwrap();
        let bad = riskmap_core::rule_set::embedded_text("road-speeds.toml")
            .unwrap()
            .replace("primary = 45.0", "primary = \"fast\"");
        let set = RuleSet::with_overrides([(
            "road-speeds.toml".to_string(),
            "p/road-speeds.toml".to_string(),
            bad,
        )])
        .unwrap();
        let e = check(&set).unwrap_err();
        assert_eq!(e.file, "p/road-speeds.toml");
        assert!(e.message.contains("speeds_kmh.primary"), "{e}");
    }
}
