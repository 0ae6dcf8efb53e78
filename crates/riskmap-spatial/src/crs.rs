//! Coordinate reference systems (坐标参考系) accepted on input.
//!
//! riskmap stores every geometry in WGS84 longitude/latitude (OGC CRS84 axis
//! order). Input may be declared as:
//! - `EPSG:4326` (WGS84, the default),
//! - `EPSG:4490` (CGCS2000, 2000国家大地坐标系): its datum realisation differs
//!   from WGS84 by a few centimetres, far below the accuracy of any data we
//!   hold, so the conversion is the identity (the same null shift PROJ uses),
//! - `GCJ02` (国测局坐标, the offset coordinates of Chinese web maps such as
//!   AMap/高德): converted to WGS84 by inverting the published GCJ-02 forward
//!   transform iteratively, to well under a millimetre,
//! - `BD09` (百度坐标, Baidu Maps): GCJ-02 with Baidu's further offset,
//!   inverted the same way,
//! - `EPSG:4513`–`EPSG:4554`: the CGCS2000 3° Gauss–Krüger zones 25–45
//!   (central meridians 75°E…135°E), with the zone number in front of the
//!   easting (4513–4533) or without (4534–4554), through `proj4rs` (see
//!   [`crate::local`]); easting first.
//!
//! [`Crs::from_wkt`] reads the CRS of a Shapefile's `.prj`.

use std::fmt;
use std::str::FromStr;

use crate::local::GaussKruger;

/// A CRS riskmap accepts for input (and, for 4326/4490, output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crs {
    /// WGS84 longitude/latitude (EPSG:4326 / OGC CRS84).
    Wgs84,
    /// CGCS2000 geographic (EPSG:4490), 2000国家大地坐标系.
    Cgcs2000,
    /// GCJ-02, 国测局坐标 ("Mars coordinates") of Chinese web maps.
    Gcj02,
    /// BD-09, 百度坐标: Baidu Maps' further offset of GCJ-02.
    Bd09,
    /// A CGCS2000 3° Gauss–Krüger zone (3度带高斯-克吕格投影), zone 25–45
    /// (central meridian 3·zone, 75°E…135°E), in metres, easting first. With
    /// `prefixed` the easting carries the zone number (EPSG:4513–4533,
    /// "zone 40": 40 500 000 m at the central meridian), else not
    /// (EPSG:4534–4554, "CM 120E": 500 000 m).
    GaussKruger {
        /// The zone number, 25–45.
        zone: u8,
        /// Whether eastings carry the zone number in front.
        prefixed: bool,
    },
}

/// A CRS name that riskmap does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported CRS {0:?}: use EPSG:4326, EPSG:4490, GCJ02, BD09 or a CGCS2000 3° Gauss–Krüger zone EPSG:4513–4554"
)]
pub struct CrsError(pub String);

/// The lowest and highest 3° zones of China (central meridians 75°E…135°E).
pub const GK_ZONES: std::ops::RangeInclusive<u8> = 25..=45;

const GK_NAMES: [&str; 42] = [
    "EPSG:4513",
    "EPSG:4514",
    "EPSG:4515",
    "EPSG:4516",
    "EPSG:4517",
    "EPSG:4518",
    "EPSG:4519",
    "EPSG:4520",
    "EPSG:4521",
    "EPSG:4522",
    "EPSG:4523",
    "EPSG:4524",
    "EPSG:4525",
    "EPSG:4526",
    "EPSG:4527",
    "EPSG:4528",
    "EPSG:4529",
    "EPSG:4530",
    "EPSG:4531",
    "EPSG:4532",
    "EPSG:4533",
    "EPSG:4534",
    "EPSG:4535",
    "EPSG:4536",
    "EPSG:4537",
    "EPSG:4538",
    "EPSG:4539",
    "EPSG:4540",
    "EPSG:4541",
    "EPSG:4542",
    "EPSG:4543",
    "EPSG:4544",
    "EPSG:4545",
    "EPSG:4546",
    "EPSG:4547",
    "EPSG:4548",
    "EPSG:4549",
    "EPSG:4550",
    "EPSG:4551",
    "EPSG:4552",
    "EPSG:4553",
    "EPSG:4554",
];

impl Crs {
    /// The canonical short name (`EPSG:4326`, `EPSG:4490`, `GCJ02`, `BD09`,
    /// `EPSG:4549`).
    pub fn name(self) -> &'static str {
        match self {
            Crs::Wgs84 => "EPSG:4326",
            Crs::Cgcs2000 => "EPSG:4490",
            Crs::Gcj02 => "GCJ02",
            Crs::Bd09 => "BD09",
            Crs::GaussKruger { .. } => self
                .epsg()
                .and_then(|c| GK_NAMES.get((c - 4513) as usize))
                .copied()
                .unwrap_or("EPSG:4534"),
        }
    }

    /// The EPSG code, when the CRS has one.
    pub fn epsg(self) -> Option<u32> {
        match self {
            Crs::Wgs84 => Some(4326),
            Crs::Cgcs2000 => Some(4490),
            Crs::Gcj02 | Crs::Bd09 => None,
            Crs::GaussKruger { zone, prefixed } => {
                let first = if prefixed { 4513 } else { 4534 };
                Some(first + u32::from(zone) - 25)
            }
        }
    }

    /// The CRS of an EPSG code riskmap knows.
    pub fn from_epsg(code: u32) -> Option<Crs> {
        match code {
            4326 => Some(Crs::Wgs84),
            4490 => Some(Crs::Cgcs2000),
            4513..=4533 => Some(Crs::GaussKruger {
                zone: (code - 4513 + 25) as u8,
                prefixed: true,
            }),
            4534..=4554 => Some(Crs::GaussKruger {
                zone: (code - 4534 + 25) as u8,
                prefixed: false,
            }),
            _ => None,
        }
    }

    /// The 3° Gauss–Krüger zone with central meridian `cm` degrees (75…135,
    /// a multiple of 3), with or without the zone prefix.
    pub fn gauss_kruger_cm(cm: f64, prefixed: bool) -> Option<Crs> {
        let zone = cm / 3.0;
        (zone.fract() == 0.0 && (25.0..=45.0).contains(&zone)).then_some(Crs::GaussKruger {
            zone: zone as u8,
            prefixed,
        })
    }

    /// Whether coordinates are projected metres (easting, northing) rather
    /// than longitude/latitude degrees.
    pub fn is_projected(self) -> bool {
        matches!(self, Crs::GaussKruger { .. })
    }

    /// Converts one position in this CRS (longitude, latitude in degrees, or
    /// easting, northing in metres) to WGS84 longitude/latitude; NaN when a
    /// projected position cannot be brought back ([`Crs::try_to_wgs84`] says why).
    pub fn to_wgs84(self, x: f64, y: f64) -> (f64, f64) {
        self.try_to_wgs84(x, y).unwrap_or((f64::NAN, f64::NAN))
    }

    /// [`Crs::to_wgs84`], or why a projected position cannot be converted (an
    /// easting whose zone prefix is missing or wrong).
    pub fn try_to_wgs84(self, x: f64, y: f64) -> Result<(f64, f64), String> {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => Ok((x, y)),
            Crs::Gcj02 => Ok(gcj02_to_wgs84(x, y)),
            Crs::Bd09 => Ok(bd09_to_wgs84(x, y)),
            Crs::GaussKruger { zone, prefixed } => {
                if !x.is_finite() || !y.is_finite() {
                    return Err("coordinates must be finite numbers".into());
                }
                let shift = f64::from(zone) * 1e6;
                let easting = if prefixed {
                    let p = (x / 1e6).floor();
                    if p != f64::from(zone) {
                        return Err(format!(
                            "easting {x} does not carry the zone number {zone} of {} in front (it should lie between {zone}000000 and {zone}999999)",
                            self.name()
                        ));
                    }
                    x - shift
                } else {
                    if x.abs() >= 1e6 {
                        let p = (x / 1e6).floor();
                        let hint = Crs::GaussKruger {
                            zone: if GK_ZONES.contains(&(p as u8)) && p >= 0.0 {
                                p as u8
                            } else {
                                zone
                            },
                            prefixed: true,
                        };
                        return Err(format!(
                            "easting {x} is not within 1000 km of the false easting 500000 m of {}: it seems to carry a zone number in front; declare {}",
                            self.name(),
                            hint.name()
                        ));
                    }
                    x
                };
                let (lon, lat) = GaussKruger::zone(i32::from(zone))
                    .inverse(easting, y)
                    .map_err(|e| e.to_string())?;
                if !lon.is_finite() || !lat.is_finite() {
                    return Err(format!("({x}, {y}) has no position in {}", self.name()));
                }
                Ok((lon, lat))
            }
        }
    }

    /// Converts one WGS84 position to this CRS (longitude, latitude, or
    /// easting, northing); NaN when it cannot be projected.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => wgs84_to_bd09(lon, lat),
            Crs::GaussKruger { zone, prefixed } => {
                match GaussKruger::zone(i32::from(zone)).forward(lon, lat) {
                    Ok((x, y)) if prefixed => (x + f64::from(zone) * 1e6, y),
                    Ok(p) => p,
                    Err(_) => (f64::NAN, f64::NAN),
                }
            }
        }
    }

    /// The CRS of a well-known text (WKT 1, as in a Shapefile's `.prj`, or
    /// WKT 2): an `AUTHORITY["EPSG", …]`/`ID["EPSG", …]` of the whole CRS, a
    /// CGCS2000 3° Gauss–Krüger name (`CGCS2000 / 3-degree Gauss-Kruger CM
    /// 120E`, `… zone 40`, Esri's `CGCS2000_3_Degree_GK_CM_120E`), a
    /// Transverse Mercator on CGCS2000 whose central meridian and false
    /// easting are those of a 3° zone, or a geographic CRS on WGS 84 or
    /// CGCS2000 (`GCS_China_Geodetic_Coordinate_System_2000`).
    pub fn from_wkt(text: &str) -> Result<Crs, CrsError> {
        let refuse = |why: &str| CrsError(format!("{}: {why}", abbreviate(text)));
        let node = wkt1::parse(text).ok_or_else(|| refuse("not well-known text (WKT)"))?;
        let kw = node.keyword.to_ascii_uppercase();
        if let Some(code) = node.authority_code()
            && let Some(crs) = Crs::from_epsg(code)
        {
            return Ok(crs);
        }
        let name = node.name().unwrap_or_default();
        let norm = normalise_name(name);
        match kw.as_str() {
            "PROJCS" | "PROJCRS" | "PROJECTEDCRS" => {
                let base = node
                    .children()
                    .find(|c| {
                        matches!(
                            c.keyword.to_ascii_uppercase().as_str(),
                            "GEOGCS" | "BASEGEOGCRS" | "BASEGEODCRS" | "GEOGCRS"
                        )
                    })
                    .ok_or_else(|| refuse("a projected CRS without its geographic CRS"))?;
                match geographic(base) {
                    Some(Crs::Cgcs2000) => {}
                    _ => {
                        return Err(refuse(
                            "a projected CRS on a datum other than CGCS2000 (only the CGCS2000 3° Gauss–Krüger zones are known)",
                        ));
                    }
                }
                if norm.contains("3 degree") {
                    if let Some(cm) = number_after(&norm, "cm ")
                        && let Some(crs) = Crs::gauss_kruger_cm(cm, false)
                    {
                        return Ok(crs);
                    }
                    if let Some(z) = number_after(&norm, "zone ")
                        && let Some(crs) = Crs::gauss_kruger_cm(z * 3.0, true)
                    {
                        return Ok(crs);
                    }
                }
                // The parameters: a Transverse Mercator with a 3° zone's
                // central meridian, scale 1 and false easting.
                let method = node
                    .find("PROJECTION")
                    .or_else(|| node.find("METHOD"))
                    .and_then(|p| p.name())
                    .map(normalise_name)
                    .unwrap_or_default();
                if !(method.contains("transverse mercator") || method.contains("gauss kruger")) {
                    return Err(refuse("a projection other than Transverse Mercator / Gauss–Krüger"));
                }
                let param = |names: &[&str]| node.parameter(names);
                let cm = param(&["central meridian", "longitude of natural origin"])
                    .ok_or_else(|| refuse("no central meridian"))?;
                let fe = param(&["false easting"]).unwrap_or(0.0);
                let fnorth = param(&["false northing"]).unwrap_or(0.0);
                let k = param(&["scale factor", "scale factor at natural origin"]).unwrap_or(1.0);
                let lat0 = param(&["latitude of origin", "latitude of natural origin"]).unwrap_or(0.0);
                if (k - 1.0).abs() > 1e-12 || fnorth != 0.0 || lat0 != 0.0 {
                    return Err(refuse(
                        "a Transverse Mercator whose scale, origin latitude or false northing is not a 3° Gauss–Krüger zone's (1, 0°, 0 m)",
                    ));
                }
                let zone = cm / 3.0;
                let prefixed = if fe == 500_000.0 {
                    false
                } else if fe == zone * 1e6 + 500_000.0 {
                    true
                } else {
                    return Err(refuse(&format!(
                        "false easting {fe} m is neither 500000 nor the zone-prefixed {}",
                        zone * 1e6 + 500_000.0
                    )));
                };
                Crs::gauss_kruger_cm(cm, prefixed).ok_or_else(|| {
                    refuse(&format!(
                        "central meridian {cm}° is not one of a 3° zone in China (75°E…135°E, a multiple of 3)"
                    ))
                })
            }
            _ => geographic(&node).ok_or_else(|| {
                refuse("a geographic CRS other than WGS 84 or CGCS2000 (Beijing 1954 and Xian 1980 need a datum shift riskmap does not make)")
            }),
        }
    }
}

/// The start of a long text, for messages.
fn abbreviate(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// A CRS name lower-cased with `_` and `-` as spaces.
fn normalise_name(s: &str) -> String {
    s.to_ascii_lowercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The number right after `prefix` in `s` (`cm 120e` → 120).
fn number_after(s: &str, prefix: &str) -> Option<f64> {
    let at = s.find(prefix)? + prefix.len();
    let digits: String = s[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok()
}

/// WGS 84 or CGCS2000 from a geographic CRS node: by name, else by its
/// ellipsoid (WGS 84's or GRS 1980's, whose flattening CGCS2000 shares).
fn geographic(node: &wkt1::Node) -> Option<Crs> {
    let mut names = vec![node.name().unwrap_or_default().to_string()];
    if let Some(d) = node.find("DATUM") {
        names.push(d.name().unwrap_or_default().to_string());
    }
    for n in &names {
        let n = normalise_name(n);
        if n.contains("2000") && (n.contains("china") || n.contains("cgcs")) {
            return Some(Crs::Cgcs2000);
        }
        if n.contains("wgs 84") || n.contains("wgs 1984") || n.contains("wgs84") {
            return Some(Crs::Wgs84);
        }
        if n.contains("beijing")
            || n.contains("xian")
            || n.contains("xi'an")
            || n.contains("1954")
            || n.contains("1980")
        {
            return None;
        }
    }
    let sph = node.find("SPHEROID").or_else(|| node.find("ELLIPSOID"))?;
    let nums: Vec<f64> = sph.numbers().collect();
    match nums.as_slice() {
        [a, f, ..] if *a == 6_378_137.0 && (f - 298.257_223_563).abs() < 1e-9 => Some(Crs::Wgs84),
        [a, f, ..] if *a == 6_378_137.0 && (f - 298.257_222_101).abs() < 1e-6 => {
            Some(Crs::Cgcs2000)
        }
        _ => None,
    }
}

/// A small reader of WKT's bracket structure: keywords with strings, numbers
/// and nested nodes as arguments.
mod wkt1 {
    #[derive(Debug, Clone, PartialEq)]
    pub(super) enum Arg {
        Text(String),
        Number(f64),
        Word(String),
        Node(Node),
    }

    #[derive(Debug, Clone, PartialEq)]
    pub(super) struct Node {
        pub(super) keyword: String,
        pub(super) args: Vec<Arg>,
    }

    impl Node {
        /// The first quoted argument (the name of most nodes).
        pub(super) fn name(&self) -> Option<&str> {
            self.args.iter().find_map(|a| match a {
                Arg::Text(s) => Some(s.as_str()),
                _ => None,
            })
        }

        pub(super) fn children(&self) -> impl Iterator<Item = &Node> {
            self.args.iter().filter_map(|a| match a {
                Arg::Node(n) => Some(n),
                _ => None,
            })
        }

        pub(super) fn numbers(&self) -> impl Iterator<Item = f64> + '_ {
            self.args.iter().filter_map(|a| match a {
                Arg::Number(x) => Some(*x),
                Arg::Text(s) => s.trim().parse().ok(),
                _ => None,
            })
        }

        /// The first node with this keyword, depth first (this one included).
        pub(super) fn find(&self, keyword: &str) -> Option<&Node> {
            if self.keyword.eq_ignore_ascii_case(keyword) {
                return Some(self);
            }
            self.children().find_map(|c| c.find(keyword))
        }

        /// The EPSG code of this node's own `AUTHORITY`/`ID`.
        pub(super) fn authority_code(&self) -> Option<u32> {
            self.children()
                .filter(|c| {
                    c.keyword.eq_ignore_ascii_case("AUTHORITY")
                        || c.keyword.eq_ignore_ascii_case("ID")
                })
                .find(|c| c.name().is_some_and(|n| n.eq_ignore_ascii_case("EPSG")))
                .and_then(|c| c.numbers().next())
                .filter(|x| x.fract() == 0.0 && *x > 0.0)
                .map(|x| x as u32)
        }

        /// A `PARAMETER` of this node (names compared like CRS names).
        pub(super) fn parameter(&self, names: &[&str]) -> Option<f64> {
            self.children()
                .filter(|c| c.keyword.eq_ignore_ascii_case("PARAMETER"))
                .find(|c| {
                    let n = super::normalise_name(c.name().unwrap_or_default());
                    names.contains(&n.as_str())
                })
                .and_then(|c| c.numbers().next())
        }
    }

    pub(super) fn parse(text: &str) -> Option<Node> {
        let mut p = Parser {
            s: text.trim().as_bytes(),
            i: 0,
            depth: 0,
        };
        let node = p.node()?;
        p.ws();
        (p.i == p.s.len()).then_some(node)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
        depth: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
                self.i += 1;
            }
        }

        fn word(&mut self) -> Option<String> {
            let start = self.i;
            while self
                .s
                .get(self.i)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                self.i += 1;
            }
            (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
        }

        fn node(&mut self) -> Option<Node> {
            self.depth += 1;
            if self.depth > 64 {
                return None;
            }
            self.ws();
            let keyword = self.word()?;
            self.ws();
            let close = match self.s.get(self.i)? {
                b'[' => b']',
                b'(' => b')',
                _ => return None,
            };
            self.i += 1;
            let mut args = Vec::new();
            loop {
                self.ws();
                match *self.s.get(self.i)? {
                    b if b == close => {
                        self.i += 1;
                        break;
                    }
                    b',' => self.i += 1,
                    b'"' => {
                        self.i += 1;
                        let start = self.i;
                        let mut out = Vec::new();
                        loop {
                            match *self.s.get(self.i)? {
                                b'"' if self.s.get(self.i + 1) == Some(&b'"') => {
                                    out.push(b'"');
                                    self.i += 2;
                                }
                                b'"' => break,
                                b => {
                                    out.push(b);
                                    self.i += 1;
                                }
                            }
                        }
                        let _ = start;
                        self.i += 1;
                        args.push(Arg::Text(String::from_utf8_lossy(&out).into_owned()));
                    }
                    b if b == b'-' || b == b'+' || b == b'.' || b.is_ascii_digit() => {
                        let start = self.i;
                        while self.s.get(self.i).is_some_and(|b| {
                            b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                        }) {
                            self.i += 1;
                        }
                        let t = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                        args.push(Arg::Number(t.parse().ok()?));
                    }
                    _ => {
                        let save = self.i;
                        let w = self.word()?;
                        self.ws();
                        if matches!(self.s.get(self.i), Some(b'[' | b'(')) {
                            self.i = save;
                            args.push(Arg::Node(self.node()?));
                        } else {
                            args.push(Arg::Word(w));
                        }
                    }
                }
            }
            self.depth -= 1;
            Some(Node { keyword, args })
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Crs {
    type Err = CrsError;

    /// Accepts short names (`EPSG:4326`, `4490`, `WGS84`, `CGCS2000`, `GCJ02`,
    /// `GCJ-02`, `BD09`, `BD-09`, `CRS84`, `EPSG:4513`…`EPSG:4554`), OGC URIs
    /// (`http://www.opengis.net/def/crs/EPSG/0/4549`, `.../OGC/1.3/CRS84`)
    /// and well-known text (a `.prj`, see [`Crs::from_wkt`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.contains('[')
            && trimmed.len() > 12
            && trimmed.ends_with(']')
            && !trimmed.starts_with('[')
        {
            return Crs::from_wkt(trimmed);
        }
        let t = trimmed.to_ascii_uppercase();
        let t = t.trim_start_matches('[').trim_end_matches(']');
        let tail = t.rsplit(['/', ':']).next().unwrap_or(t);
        match (t, tail) {
            (_, "4326" | "CRS84" | "WGS84") => Ok(Crs::Wgs84),
            (_, "4490" | "CGCS2000") => Ok(Crs::Cgcs2000),
            (_, "GCJ02" | "GCJ-02" | "GCJ_02") => Ok(Crs::Gcj02),
            (_, "BD09" | "BD-09" | "BD_09" | "BD09LL" | "BAIDU") => Ok(Crs::Bd09),
            (_, code) => code
                .parse::<u32>()
                .ok()
                .and_then(Crs::from_epsg)
                .ok_or_else(|| CrsError(s.to_string())),
        }
    }
}

const GCJ_A: f64 = 6_378_245.0;
const GCJ_EE: f64 = 0.006_693_421_622_965_943;

/// Whether GCJ-02 applies at this position (mainland China's rough bounding
/// box, as the published algorithm defines it).
pub fn in_gcj02_area(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 forward transform: WGS84 → GCJ-02.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    if !in_gcj02_area(lon, lat) {
        return (lon, lat);
    }
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - GCJ_EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (GCJ_A / sqrt_magic * rad_lat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS84 by fixed-point iteration on the forward transform.
///
/// The usual one-step inverse (`2·p − f(p)`) leaves 1–5 m of error; iterating
/// until the forward transform reproduces the input brings it below 1e-9°
/// (about 0.1 mm) in a handful of steps.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_gcj02_area(lon, lat) {
        return (lon, lat);
    }
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (fx, fy) = wgs84_to_gcj02(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-12 && dy.abs() < 1e-12 {
            break;
        }
    }
    (x, y)
}

const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// GCJ-02 → BD-09 (Baidu's published forward offset).
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// WGS84 → BD-09: GCJ-02, then Baidu's offset.
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (g1, g2) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(g1, g2)
}

/// BD-09 → WGS84 by fixed-point iteration on the forward transform
/// [`wgs84_to_bd09`] (the usual closed-form BD-09 → GCJ-02 step is itself an
/// approximation of a few centimetres; iterating brings the round trip
/// below 1e-9°).
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (mut x, mut y) = (lon - 0.0065, lat - 0.006);
    for _ in 0..50 {
        let (fx, fy) = wgs84_to_bd09(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-12 && dy.abs() < 1e-12 {
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_uris() {
        for (s, c) in [
            ("EPSG:4326", Crs::Wgs84),
            ("epsg:4490", Crs::Cgcs2000),
            ("GCJ02", Crs::Gcj02),
            ("gcj-02", Crs::Gcj02),
            ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", Crs::Wgs84),
            ("http://www.opengis.net/def/crs/EPSG/0/4490", Crs::Cgcs2000),
            ("[EPSG:4326]", Crs::Wgs84),
        ] {
            assert_eq!(s.parse::<Crs>().unwrap(), c, "{s}");
        }
        assert!("EPSG:3857".parse::<Crs>().is_err());
        assert!("EPSG:4512".parse::<Crs>().is_err());
        assert!("EPSG:4555".parse::<Crs>().is_err());
        for (s, code) in [
            ("EPSG:4549", 4549),
            ("http://www.opengis.net/def/crs/EPSG/0/4549", 4549),
            ("epsg:4513", 4513),
            ("4528", 4528),
            ("EPSG:4554", 4554),
        ] {
            let c = s.parse::<Crs>().unwrap();
            assert_eq!(c.epsg(), Some(code), "{s}");
            assert_eq!(c.name(), format!("EPSG:{code}"));
            assert_eq!(c.to_string().parse::<Crs>().unwrap(), c);
        }
        assert_eq!(
            "EPSG:4549".parse::<Crs>().unwrap(),
            Crs::GaussKruger {
                zone: 40,
                prefixed: false
            }
        );
        assert_eq!(
            "EPSG:4528".parse::<Crs>().unwrap(),
            Crs::GaussKruger {
                zone: 40,
                prefixed: true
            }
        );
        assert_eq!(
            "EPSG:4513".parse::<Crs>().unwrap(),
            Crs::GaussKruger {
                zone: 25,
                prefixed: true
            }
        );
        assert_eq!(
            "EPSG:4554".parse::<Crs>().unwrap(),
            Crs::GaussKruger {
                zone: 45,
                prefixed: false
            }
        );
        assert_eq!("bd-09".parse::<Crs>().unwrap(), Crs::Bd09);
    }

    /// Figures from PROJ (`cs2cs EPSG:4490 EPSG:4547`, the same as PostGIS
    /// `ST_Transform`): 114.3°E 30.5°N → E 528799.742479, N 3375580.000222.
    #[test]
    fn gauss_kruger_zones_match_proj() {
        let gk = "EPSG:4547".parse::<Crs>().unwrap();
        let (x, y) = gk.from_wgs84(114.3, 30.5);
        assert!((x - 528_799.742_479).abs() < 1e-3, "{x}");
        assert!((y - 3_375_580.000_222).abs() < 1e-3, "{y}");
        let (lon, lat) = gk.try_to_wgs84(528_799.742_479, 3_375_580.000_222).unwrap();
        assert!(
            (lon - 114.3).abs() < 1e-9 && (lat - 30.5).abs() < 1e-9,
            "{lon},{lat}"
        );
        // The same zone with the zone number in front (EPSG:4526, zone 38).
        let prefixed = "EPSG:4526".parse::<Crs>().unwrap();
        let (px, py) = prefixed.from_wgs84(114.3, 30.5);
        assert!((px - 38_528_799.742_479).abs() < 1e-3 && (py - y).abs() < 1e-6);
        let (lon, lat) = prefixed.try_to_wgs84(px, py).unwrap();
        assert!((lon - 114.3).abs() < 1e-9 && (lat - 30.5).abs() < 1e-9);
        // A prefix where none belongs, and a wrong one, are named.
        let e = gk.try_to_wgs84(38_528_799.0, 3_375_580.0).unwrap_err();
        assert!(e.contains("EPSG:4526"), "{e}");
        let e = prefixed
            .try_to_wgs84(39_528_799.0, 3_375_580.0)
            .unwrap_err();
        assert!(e.contains("zone number 38"), "{e}");
        assert!(gk.to_wgs84(38_528_799.0, 3_375_580.0).0.is_nan());
    }

    #[test]
    fn bd09_round_trips_below_1e7_degrees() {
        for (lon, lat) in [
            (120.3, 30.25),
            (118.6, 24.9),
            (116.404, 39.915),
            (87.6, 43.8),
        ] {
            let (b1, b2) = wgs84_to_bd09(lon, lat);
            // Baidu's offset is several hundred metres on top of GCJ-02's.
            assert!((b1 - lon).abs() > 0.005, "{lon},{lat}");
            let (w1, w2) = bd09_to_wgs84(b1, b2);
            assert!(
                (w1 - lon).abs() < 1e-7 && (w2 - lat).abs() < 1e-7,
                "{lon},{lat}"
            );
            assert_eq!(Crs::Bd09.from_wgs84(lon, lat), (b1, b2));
            assert_eq!(Crs::Bd09.to_wgs84(b1, b2), (w1, w2));
        }
        // A published pair: Tiananmen, BD-09 (116.404, 39.915) ≈ GCJ-02 (116.39762, 39.90865).
        let (g1, g2) = {
            let (w1, w2) = bd09_to_wgs84(116.404, 39.915);
            wgs84_to_gcj02(w1, w2)
        };
        assert!(
            (g1 - 116.397_62).abs() < 2e-5 && (g2 - 39.908_65).abs() < 2e-5,
            "{g1},{g2}"
        );
    }

    #[test]
    fn prj_files_name_their_crs() {
        // As ogr2ogr writes them (Esri flavour) and as EPSG names them.
        let esri_cm = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        assert_eq!(Crs::from_wkt(esri_cm).unwrap().epsg(), Some(4549));
        let epsg_zone = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 40",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",120],PARAMETER["scale_factor",1],PARAMETER["false_easting",40500000],PARAMETER["false_northing",0],UNIT["metre",1],AXIS["Northing",NORTH],AXIS["Easting",EAST]]"#;
        assert_eq!(Crs::from_wkt(epsg_zone).unwrap().epsg(), Some(4528));
        // No telling name: the parameters decide.
        let unnamed = esri_cm
            .replace("CGCS2000_3_Degree_GK_CM_120E", "custom")
            .replace("\"Central_Meridian\",120.0", "\"Central_Meridian\",114.0");
        assert_eq!(Crs::from_wkt(&unnamed).unwrap().epsg(), Some(4547));
        let prefixed = unnamed.replace("500000.0", "38500000.0");
        assert_eq!(Crs::from_wkt(&prefixed).unwrap().epsg(), Some(4526));
        let odd = unnamed.replace("500000.0", "300000.0");
        assert!(Crs::from_wkt(&odd).unwrap_err().0.contains("false easting"));
        let geo = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert_eq!(Crs::from_wkt(geo).unwrap(), Crs::Cgcs2000);
        let wgs = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert_eq!(Crs::from_wkt(wgs).unwrap(), Crs::Wgs84);
        let with_id = r#"PROJCS["whatever",GEOGCS["x",DATUM["y",SPHEROID["z",1,2]]],AUTHORITY["EPSG","4549"]]"#;
        assert_eq!(Crs::from_wkt(with_id).unwrap().epsg(), Some(4549));
        let xian = r#"PROJCS["Xian_1980_3_Degree_GK_CM_120E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],UNIT["Meter",1.0]]"#;
        assert!(Crs::from_wkt(xian).is_err());
        assert!(Crs::from_wkt("not wkt").is_err());
        assert_eq!(esri_cm.parse::<Crs>().unwrap().epsg(), Some(4549));
    }

    #[test]
    fn gcj02_offset_in_quanzhou_is_hundreds_of_metres() {
        // shared/data/README: around Quanzhou the offset is ~450 m east, ~300 m south… of WGS84.
        let (lon, lat) = (118.675, 24.874);
        let (glon, glat) = wgs84_to_gcj02(lon, lat);
        let dx = (glon - lon) * 111_320.0 * lat.to_radians().cos();
        let dy = (glat - lat) * 110_574.0;
        assert!(dx > 300.0 && dx < 700.0, "east offset {dx}");
        assert!(dy.abs() < 500.0, "north offset {dy}");
    }

    #[test]
    fn gcj02_inverse_round_trips_below_a_millimetre() {
        for (lon, lat) in [(120.3, 30.25), (118.6, 24.9), (75.99, 39.47), (116.4, 39.9)] {
            let (g1, g2) = wgs84_to_gcj02(lon, lat);
            let (w1, w2) = gcj02_to_wgs84(g1, g2);
            assert!(
                (w1 - lon).abs() < 1e-8 && (w2 - lat).abs() < 1e-8,
                "{lon},{lat}"
            );
        }
    }

    #[test]
    fn outside_china_is_identity() {
        assert_eq!(gcj02_to_wgs84(24.94, 60.17), (24.94, 60.17));
    }
}
