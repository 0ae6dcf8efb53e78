//! The kept history of derived changes (变化情况): what a write (or the
//! day's rollover) changed in what riskmap derives — risk levels (old →
//! new, with the reason and the cause) and external-safety-distance
//! violations that appeared or cleared.
//!
//! Levels and violations are computed, never stored; this history keeps
//! what they were when they changed. The server that makes a change
//! records it in the write's own transaction
//! ([`crate::Store::write_with_changes`]), so a failed write records
//! nothing; a change taken in from another writer's log is not recorded
//! again.
//!
//! Times are RFC 3339 UTC text (`2026-12-06T08:15:02.5Z`). Queries compare
//! them as bytes against bounds given without the zone letter
//! (`2026-12-05T16:00:00`, see [`time_bound`]), so that fractional
//! seconds order right.

use geo::Rect;
use serde::Serialize;

/// What a derived change is.
pub mod kind {
    /// A risk level changed (`detail`: old, new, reason, cause).
    pub const LEVEL: &str = "level";
    /// A violation appeared.
    pub const VIOLATION_NEW: &str = "violation:new";
    /// A violation cleared.
    pub const VIOLATION_CLEARED: &str = "violation:cleared";
}

/// One derived change as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DerivedChange {
    /// When, RFC 3339 UTC (the time of the write that caused it).
    pub at: String,
    /// [`kind::LEVEL`], [`kind::VIOLATION_NEW`] or [`kind::VIOLATION_CLEARED`].
    pub kind: String,
    /// The collection of the item (`enterprises`, `risk_grid`,
    /// `pipeline_segments`, `violations`, …).
    pub collection: String,
    /// The item's id.
    pub id: String,
    /// The box (WGS84) of the item's old and new geometry, when it has one.
    pub bbox: Option<[f64; 4]>,
    /// The change itself, as JSON text.
    pub detail: String,
}

/// A derived change read back, with its position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DerivedRow {
    /// Position in the history (1, 2, …).
    pub seq: u64,
    /// The change.
    #[serde(flatten)]
    pub change: DerivedChange,
}

/// Which derived changes to read, oldest first.
#[derive(Debug, Clone, Default)]
pub struct DerivedQuery {
    /// Changes at or after this bound ([`time_bound`]).
    pub since: String,
    /// Changes before this bound ([`time_bound`]).
    pub until: String,
    /// Only changes whose box meets this one (touching counts).
    pub bbox: Option<Rect<f64>>,
    /// Rows after this position.
    pub after: u64,
    /// At most this many (capped at 1,000).
    pub limit: usize,
}

/// The bound that compares right, byte-wise, against the stored RFC 3339
/// UTC times: `2026-12-05T16:00:00Z` → `2026-12-05T16:00:00` (a time
/// with fractional seconds is longer, so it sorts after its second).
pub fn time_bound(rfc3339_utc: &str) -> String {
    rfc3339_utc.trim_end_matches('Z').to_string()
}

/// The four bound columns of an optional box.
pub(crate) fn bbox_columns(b: Option<[f64; 4]>) -> [Option<f64>; 4] {
    match b {
        Some([a, b, c, d]) if [a, b, c, d].iter().all(|x| x.is_finite()) => {
            [Some(a), Some(b), Some(c), Some(d)]
        }
        _ => [None; 4],
    }
}

/// The query box as four optional parameters.
pub(crate) fn query_box(b: Option<Rect<f64>>) -> [Option<f64>; 4] {
    b.map_or([None; 4], |r| {
        [
            Some(r.min().x),
            Some(r.min().y),
            Some(r.max().x),
            Some(r.max().y),
        ]
    })
}
