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
