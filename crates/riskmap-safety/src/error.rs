//! The error type of this crate.

use thiserror::Error;

/// Why a model or a rule table refused its input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SafetyError {
    /// A numeric input is out of its physical or documented domain.
    #[error("invalid input `{field}` = {value}: {expected}")]
    InvalidInput {
        /// The input's name, as the field of the input struct.
        field: &'static str,
        /// The value given.
        value: f64,
        /// What was expected, e.g. "a finite number > 0".
        expected: &'static str,
    },
    /// A rule table (TOML) could not be parsed or is inconsistent.
    #[error("rule table {table}: {message}")]
    Rules {
        /// Which table, e.g. `consequence-toxic-probits.toml`.
        table: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A substance is not in the toxic-probit table.
    #[error("no toxic probit for substance `{0}`")]
    UnknownSubstance(String),
    /// A numeric input of one item of a list (a scenario or one of its
    /// outcomes, a weather class, a wind-rose sector, a population point, a
    /// unit's substance) is out of its domain. `item` names the item.
    #[error("invalid input `{field}` = {value} of {item}: {expected}")]
    InvalidItem {
        /// Which item, e.g. "scenario `T1/0-chlorine/instantaneous` outcome 0 (toxic)".
        item: String,
        /// The input's name within the item.
        field: &'static str,
        /// The value given.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// The answer lies beyond what the model (or grid) covers, e.g. an effect
    /// still above its level at the far end of the distance search, or a
    /// point outside a risk grid. No number is given rather than one that
    /// understates the hazard.
    #[error("`{field}` is beyond the model's range: {detail}")]
    BeyondRange {
        /// The quantity that could not be given.
        field: &'static str,
        /// Where the range ends and why.
        detail: String,
    },
    /// A risk field could not be contoured (no contour is drawn rather than
    /// an empty one).
    #[error("the risk field could not be contoured: {0}")]
    Contour(String),
    /// A named set of effect thresholds is not in the threshold table.
    #[error("no {kind} threshold set `{set}` in consequence-thresholds.toml")]
    UnknownThresholdSet {
        /// `thermal` or `overpressure`.
        kind: &'static str,
        /// The set asked for.
        set: String,
    },
}

impl SafetyError {
    /// The same error attributed to `item`: an [`SafetyError::InvalidInput`]
    /// becomes an [`SafetyError::InvalidItem`] of that item; an
    /// `InvalidItem` keeps its field and gets `item` in front of its own;
    /// other errors are unchanged.
    pub fn in_item(self, item: impl Into<String>) -> SafetyError {
        match self {
            SafetyError::InvalidInput {
                field,
                value,
                expected,
            } => SafetyError::InvalidItem {
                item: item.into(),
                field,
                value,
                expected,
            },
            SafetyError::InvalidItem {
                item: inner,
                field,
                value,
                expected,
            } => SafetyError::InvalidItem {
                item: format!("{}, {inner}", item.into()),
                field,
                value,
                expected,
            },
            other => other,
        }
    }
}

/// `value` if it is finite.
pub(crate) fn finite(field: &'static str, value: f64) -> Result<f64, SafetyError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value,
            expected: "a finite number",
        })
    }
}

/// `value` if it is a distance: finite and ≥ 0 m.
pub(crate) fn distance(field: &'static str, value: f64) -> Result<f64, SafetyError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value,
            expected: "a finite distance ≥ 0 m",
        })
    }
}

/// `value` if it is finite and > 0.
pub(crate) fn positive(field: &'static str, value: f64) -> Result<f64, SafetyError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value,
            expected: "a finite number > 0",
        })
    }
}

/// `value` if it is finite and ≥ 0.
pub(crate) fn non_negative(field: &'static str, value: f64) -> Result<f64, SafetyError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value,
            expected: "a finite number ≥ 0",
        })
    }
}

/// `value` if it is finite and in (0, 1].
pub(crate) fn fraction(field: &'static str, value: f64) -> Result<f64, SafetyError> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value,
            expected: "a number in (0, 1]",
        })
    }
}

/// `value` if it is finite and in [0, 1].
pub(crate) fn unit_interval(field: &'static str, value: f64) -> Result<f64, SafetyError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value,
            expected: "a number in [0, 1]",
        })
    }
}

/// `value` if it is a probability strictly between 0 and 1.
pub(crate) fn open_probability(field: &'static str, value: f64) -> Result<f64, SafetyError> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value,
            expected: "a probability strictly between 0 and 1",
        })
    }
}
