//! The input of the tile pipeline: features in WGS84 with a risk rank and
//! properties.

/// A property value, as MVT can carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// Text.
    String(String),
    /// A signed integer (written as `uint` when non-negative, else `sint`).
    Int(i64),
    /// A double-precision number.
    Double(f64),
    /// A boolean.
    Bool(bool),
}

impl From<&str> for PropValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}

impl From<String> for PropValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

impl From<i64> for PropValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<f64> for PropValue {
    fn from(v: f64) -> Self {
        Self::Double(v)
    }
}

impl From<bool> for PropValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl PropValue {
    /// The text, when this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, when this is an integer.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The boolean, when this is a boolean.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(v) => Some(*v),
            _ => None,
        }
    }
}

/// Rank of features without a risk level.
pub const RANK_NONE: u8 = 0;
/// Rank of `blue` (低风险).
pub const RANK_BLUE: u8 = 1;
/// Rank of `yellow` (一般风险).
pub const RANK_YELLOW: u8 = 2;
/// Rank of `orange` (较大风险).
pub const RANK_ORANGE: u8 = 3;
/// Rank of `red` (重大风险).
pub const RANK_RED: u8 = 4;

/// The `risk_level` name of a rank (`1 → "blue"` … `4 → "red"`), `None` for
/// rank 0 or out of range.
#[must_use]
pub fn risk_level_name(rank: u8) -> Option<&'static str> {
    match rank {
        RANK_BLUE => Some("blue"),
        RANK_YELLOW => Some("yellow"),
        RANK_ORANGE => Some("orange"),
        RANK_RED => Some("red"),
        _ => None,
    }
}

/// The rank of a `risk_level` name (`"red"` → 4 …), 0 for anything else.
#[must_use]
pub fn rank_of_risk_level(level: &str) -> u8 {
    match level {
        "blue" => RANK_BLUE,
        "yellow" => RANK_YELLOW,
        "orange" => RANK_ORANGE,
        "red" => RANK_RED,
        _ => RANK_NONE,
    }
}

/// One feature to draw, as the caller's query returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct TileFeature {
    /// The feature's id. Written as the MVT feature id when it is the
    /// canonical decimal form of a `u64` (`"42"`, not `"042"`), otherwise as a
    /// string property `id` (unless the properties already hold an `id`).
    pub id: String,
    /// Geometry in WGS84 longitude/latitude.
    pub geometry: geo::Geometry<f64>,
    /// Risk rank, the order of `risk_level`: 0 none, 1 blue, 2 yellow,
    /// 3 orange, 4 red. Higher ranks survive generalisation first.
    pub rank: u8,
    /// Properties written with the feature, in this order.
    pub properties: Vec<(String, PropValue)>,
}

impl TileFeature {
    /// The id as an MVT feature id, when it is the canonical decimal form of a `u64`.
    #[must_use]
    pub fn numeric_id(&self) -> Option<u64> {
        numeric_id(&self.id)
    }
}

/// A property value borrowed from the caller's data, so that a feature's
/// properties can be written without copying them (see [`TileItem`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropRef<'a> {
    /// Text.
    String(&'a str),
    /// A signed integer (written as `uint` when non-negative, else `sint`).
    Int(i64),
    /// A double-precision number.
    Double(f64),
    /// A boolean.
    Bool(bool),
}

impl PropValue {
    /// The value as a [`PropRef`] borrowing from it.
    #[must_use]
    pub fn as_ref(&self) -> PropRef<'_> {
        match self {
            Self::String(s) => PropRef::String(s),
            Self::Int(v) => PropRef::Int(*v),
            Self::Double(v) => PropRef::Double(*v),
            Self::Bool(v) => PropRef::Bool(*v),
        }
    }
}

impl From<PropRef<'_>> for PropValue {
    fn from(v: PropRef<'_>) -> Self {
        match v {
            PropRef::String(s) => Self::String(s.to_owned()),
            PropRef::Int(v) => Self::Int(v),
            PropRef::Double(v) => Self::Double(v),
            PropRef::Bool(v) => Self::Bool(v),
        }
    }
}

/// What the layer builder needs of a point kept in a
/// [`PointPyramid`](crate::PointPyramid): its id, rank and properties, which
/// it writes straight from the caller's data (no [`TileFeature`] is built).
/// [`TileFeature`] implements it too.
pub trait TileItem {
    /// The feature's id (see [`TileFeature::id`] for how it is written).
    fn id(&self) -> &str;
    /// Risk rank, 0 none … 4 red (see [`TileFeature::rank`]).
    fn rank(&self) -> u8;
    /// Calls `f` with every property, in the order they are written.
    fn for_each_property<'s>(&'s self, f: &mut dyn FnMut(&'s str, PropRef<'s>));
    /// Whether the properties hold an `id` (then the id is not added as a
    /// string property when it is not numeric). The default scans them.
    fn has_id_property(&self) -> bool {
        let mut found = false;
        self.for_each_property(&mut |k, _| found |= k == "id");
        found
    }
}

impl TileItem for TileFeature {
    fn id(&self) -> &str {
        &self.id
    }

    fn rank(&self) -> u8 {
        self.rank
    }

    fn for_each_property<'s>(&'s self, f: &mut dyn FnMut(&'s str, PropRef<'s>)) {
        for (k, v) in &self.properties {
            f(k, v.as_ref());
        }
    }

    fn has_id_property(&self) -> bool {
        self.properties.iter().any(|(k, _)| k == "id")
    }
}

/// `Some(n)` when `id` is exactly `n.to_string()`.
pub(crate) fn numeric_id(id: &str) -> Option<u64> {
    let n: u64 = id.parse().ok()?;
    // Rejects "+1", "01" and the like, which would not round-trip.
    (id.len() == decimal_len(n) && !id.starts_with('+')).then_some(n)
}

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_round_trip_are_numeric() {
        assert_eq!(numeric_id("0"), Some(0));
        assert_eq!(numeric_id("42"), Some(42));
        assert_eq!(numeric_id("18446744073709551615"), Some(u64::MAX));
        assert_eq!(numeric_id("042"), None);
        assert_eq!(numeric_id("+42"), None);
        assert_eq!(numeric_id("-1"), None);
        assert_eq!(numeric_id("E-0001"), None);
        assert_eq!(numeric_id(""), None);
        assert_eq!(numeric_id("18446744073709551616"), None);
    }

    #[test]
    fn ranks_and_levels() {
        for r in 1..=4 {
            assert_eq!(rank_of_risk_level(risk_level_name(r).unwrap()), r);
        }
        assert_eq!(risk_level_name(0), None);
        assert_eq!(rank_of_risk_level("green"), 0);
    }
}
