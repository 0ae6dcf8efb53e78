//! The mutation fuzzer shared by the fuzz tests (`crates/riskmap-core/tests/fuzz.rs`,
//! `crates/riskmap-server/tests/fuzz.rs`, which include this file with
//! `#[path]`). Stable Rust only: a seeded RNG (`rand`), the committed seed
//! corpus under `fuzz/corpus/<target>/`, byte-level mutations (flips,
//! inserts, deletes, duplications, splices between corpus entries, tokens of
//! a dictionary) and structure-aware JSON mutations (extreme numbers, odd
//! strings, dropped, added and duplicated keys, nested arrays, subtrees of
//! other entries).
//!
//! Environment: `RISKMAP_FUZZ_SECS` (wall-clock seconds per target, default
//! 20), `RISKMAP_FUZZ_ITERS` (most inputs per target, default 200,000),
//! `RISKMAP_FUZZ_SEED` (the seed; by default one from the clock, printed).
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One corpus file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The file name (its prefix names a collection where that matters).
    pub name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Every file of `fuzz/corpus/<target>/`, sorted by name.
pub fn load_corpus(target: &str) -> Vec<Entry> {
    let dir = repo_root().join("fuzz/corpus").join(target);
    let mut entries: Vec<Entry> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| Entry {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            bytes: std::fs::read(&p).unwrap(),
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(!entries.is_empty(), "empty corpus {}", dir.display());
    entries
}

/// How long and how much to fuzz, and from which seed.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub seed: u64,
    pub secs: f64,
    pub max_iters: u64,
}

fn env_num<T: std::str::FromStr>(name: &str) -> Option<T> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

impl Budget {
    /// The budget from the environment, printed with the target's name.
    pub fn from_env(target: &str) -> Budget {
        let seed = env_num::<u64>("RISKMAP_FUZZ_SEED").unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            t.as_secs() ^ u64::from(t.subsec_nanos()).rotate_left(32)
        });
        let b = Budget {
            seed,
            secs: env_num("RISKMAP_FUZZ_SECS").unwrap_or(20.0),
            max_iters: env_num("RISKMAP_FUZZ_ITERS").unwrap_or(200_000),
        };
        eprintln!(
            "fuzz {target}: seed {} (RISKMAP_FUZZ_SEED={} reproduces), {} s, at most {} inputs",
            b.seed, b.seed, b.secs, b.max_iters
        );
        b
    }

    /// A clock for this budget.
    pub fn start(self) -> Clock {
        Clock {
            budget: self,
            started: Instant::now(),
            iters: 0,
        }
    }
}

/// Counts inputs against the budget.
pub struct Clock {
    pub budget: Budget,
    pub started: Instant,
    pub iters: u64,
}

impl Clock {
    /// Whether another input may run (and counts it).
    pub fn tick(&mut self) -> bool {
        if self.iters >= self.budget.max_iters
            || self.started.elapsed() >= Duration::from_secs_f64(self.budget.secs)
        {
            return false;
        }
        self.iters += 1;
        true
    }

    /// Starts the clock again (after the corpus pass, which is not timed).
    pub fn restart(&mut self) {
        self.started = Instant::now();
    }

    /// One line for the log.
    pub fn summary(&self) -> String {
        format!(
            "{} mutants in {:.1} s (seed {})",
            self.iters,
            self.started.elapsed().as_secs_f64(),
            self.budget.seed
        )
    }
}

/// Writes a failing input to `target/fuzz-failures/` and returns its path.
pub fn save_failure(target: &str, seed: u64, iter: u64, input: &[u8]) -> PathBuf {
    // Tests run in their crate's directory: a relative target directory
    // is the workspace's.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo_root().join("target"), |d| repo_root().join(d));
    let dir = target_dir.join("fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-seed{seed}-input{iter}"));
    std::fs::write(&path, input).unwrap();
    path
}

/// An input for a failure message: escaped, at most 2,000 characters.
pub fn show(input: &[u8]) -> String {
    let s = format!("{:?}", String::from_utf8_lossy(input));
    if s.chars().count() > 2000 {
        let head: String = s.chars().take(2000).collect();
        format!("{head}… ({} bytes)", input.len())
    } else {
        s
    }
}

/// The message of a caught panic.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic)".into())
}

/// Mutated inputs are cut to this many bytes.
pub const MAX_INPUT: usize = 256 * 1024;

/// Numbers that break naive code: range edges, overflows, signed zero,
/// subnormals, integers past f64 and u64, and tokens that are not JSON.
pub const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "1",
    "-1",
    "0.5",
    "2.5",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e309",
    "-1e309",
    "1e-320",
    "5e-324",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1000000",
    "1000000.0000001",
    "180",
    "-180",
    "180.0000001",
    "90",
    "-90",
    "90.0000001",
    "-90.0000001",
    "120.3",
    "30.3",
    "89.9999999",
    "179.9999999",
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "nan",
    "1e",
    "0x1F",
    "+1",
    ".5",
    "01",
    "1_000",
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999",
];

/// Strings that break naive code: empty and blank, control characters,
/// paths, byte-order marks, bidi overrides, astral and combining
/// characters, numbers in words, and the schema's own vocabulary.
pub const STRINGS: &[&str] = &[
    "",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\0",
    "a\0b",
    "e\n1",
    "../../etc/passwd",
    "..",
    ".",
    "/",
    "\\",
    "%00",
    "%2F..%2F",
    "\u{202e}lacimehc",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "🏭☠️",
    "e\u{301}\u{301}\u{301}",
    "企业-001",
    "示例化工",
    "液氯",
    "氯",
    "甲醇",
    "不存在的化学品",
    "7782-50-5",
    "67-56-1",
    "7782-50-6",
    "0-00-0",
    "NaN",
    "Infinity",
    "-0",
    "1e308",
    "１２３",
    "统一社会信用代码码",
    "91330114MA2KQJQN6G",
    "91330114MA2KQJQN6I",
    "330114",
    "33011",
    "3301140",
    "２０２４-01-01",
    "2024-02-30",
    "2024-13-01",
    "W5.3",
    "J1",
    "Z9",
    "EPSG:4326",
    "EPSG:4490",
    "EPSG:3857",
    "GCJ02",
    "CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4490",
    "Feature",
    "FeatureCollection",
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
    "storage",
    "production",
    "new",
    "existing",
    "school",
    "kindergarten",
    "hospital",
    "residential",
    "hazardous_site",
    "chemical",
    "gas_transmission",
    "urban_gas",
    "major",
    "especially_major",
    "park-linjiang",
    "ent-01",
];

/// Keys of the import schema and the siting body.
pub const KEYS: &[&str] = &[
    "type",
    "id",
    "geometry",
    "coordinates",
    "geometries",
    "properties",
    "features",
    "crs",
    "bbox",
    "name",
    "kind",
    "category",
    "population",
    "households",
    "beds",
    "floor_area_m2",
    "credit_code",
    "industry",
    "district_code",
    "park_id",
    "employees",
    "standardization_level",
    "installation",
    "accidents",
    "date",
    "severity",
    "deaths",
    "units",
    "substances",
    "quantity_t",
    "cas",
    "hazard_categories",
    "processes",
    "diameter_mm",
    "maop_mpa",
    "year_built",
    "assessment_score",
    "code",
    "level",
    "use",
];

/// Byte strings inserted by the byte mutator.
pub const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\\udfff",
    b",",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b"[[[[[[[[",
    b"]]]]",
    b"null",
    b"true",
    b"{}",
    b"[]",
    b"\n",
    b"\r\n",
    b"\r",
    b"\0",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xd2\xbb\xd6\xd0",
    b"\x81\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"%",
    b"%00",
    b"%0A",
    b"%FF",
    b"%E4%BC%81",
    b"&",
    b"=",
    b"?",
    b"/",
    b"../",
    b"#",
    b";",
    b"\"\"",
    b"\"\"\"",
    b",,,,",
    b"1e308",
    b"-0",
    b"NaN",
    b"18446744073709551616",
    b"POINT(120 30)",
    b"POLYGON((0 0,1 1,1 0,0 1,0 0))",
    b"LINESTRING(120 30)",
    b"POINT EMPTY",
    b"GEOMETRYCOLLECTION(POINT(1 2))",
];

/// Mutates inputs: byte-level and, for JSON, structure-aware.
pub struct Mutator {
    pub rng: StdRng,
    corpus: Vec<Vec<u8>>,
    json: Vec<Value>,
}

impl Mutator {
    pub fn new(seed: u64, corpus: &[Entry]) -> Mutator {
        let json = corpus.iter().filter_map(|e| parse_json(&e.bytes)).collect();
        Mutator {
            rng: StdRng::seed_from_u64(seed),
            corpus: corpus.iter().map(|e| e.bytes.clone()).collect(),
            json,
        }
    }

    /// A random index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items.choose(&mut self.rng).unwrap()
    }

    /// A mutant of `input`: mostly JSON-aware when it is JSON (one to three
    /// changes), byte-level otherwise (one to four stacked mutations).
    pub fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = if self.chance(0.7) {
            match self.json_mutant(input) {
                Some(v) => v,
                None => self.bytes(input),
            }
        } else {
            self.bytes(input)
        };
        out.truncate(MAX_INPUT);
        out
    }

    /// One to four stacked byte-level mutations.
    pub fn bytes(&mut self, input: &[u8]) -> Vec<u8> {
        let mut b = input.to_vec();
        let n = 1 + self.below(4);
        for _ in 0..n {
            self.byte_op(&mut b);
        }
        b
    }

    fn byte_op(&mut self, b: &mut Vec<u8>) {
        let len = b.len();
        match self.below(11) {
            0 if len > 0 => {
                let i = self.below(len);
                b[i] ^= 1 << self.below(8);
            }
            1 if len > 0 => {
                let i = self.below(len);
                b[i] = if self.chance(0.5) {
                    self.rng.random()
                } else {
                    *self.pick(&[0u8, 0x7f, 0x80, 0xff, b'"', b',', b'\n', b'\\', b'{', b'['])
                };
            }
            2 => {
                let i = self.below(len + 1);
                let k = 1 + self.below(8);
                let ins: Vec<u8> = (0..k).map(|_| self.rng.random()).collect();
                b.splice(i..i, ins);
            }
            3 if len > 0 => {
                let i = self.below(len);
                let max = if self.chance(0.1) { len - i } else { 32 };
                let k = 1 + self.below(max.min(len - i));
                b.drain(i..i + k);
            }
            4 if len > 0 => {
                let i = self.below(len);
                let k = 1 + self.below((len - i).min(256));
                let chunk = b[i..i + k].to_vec();
                let at = self.below(len + 1);
                b.splice(at..at, chunk);
            }
            5 => {
                // Splice: a prefix of this input, a suffix of another entry.
                let j = self.below(self.corpus.len());
                let other = self.corpus[j].clone();
                let a = self.below(len + 1);
                let s = self.below(other.len() + 1);
                b.truncate(a);
                b.extend_from_slice(&other[s..]);
            }
            6 | 7 => {
                let tok: &[u8] = if self.chance(0.6) {
                    self.pick::<&[u8]>(TOKENS)
                } else if self.chance(0.5) {
                    self.pick(NUMBERS).as_bytes()
                } else {
                    self.pick(STRINGS).as_bytes()
                };
                let i = self.below(len + 1);
                b.splice(i..i, tok.iter().copied());
            }
            8 => self.replace_number(b),
            9 if len > 0 => {
                let i = self.below(len);
                b.truncate(i);
            }
            _ => {
                // Repeat a byte many times (long runs, deep brackets).
                let i = self.below(len + 1);
                let byte = if len > 0 && self.chance(0.5) {
                    b[self.below(len)]
                } else {
                    *self.pick(b"[{\"0 ,\n")
                };
                let k = *self.pick(&[16usize, 127, 128, 129, 1000, 5000]);
                b.splice(i..i, std::iter::repeat_n(byte, k));
            }
        }
    }

    /// Replaces one run of digits (with its sign, point and exponent) by an
    /// extreme number.
    fn replace_number(&mut self, b: &mut Vec<u8>) {
        let starts: Vec<usize> = (0..b.len())
            .filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()))
            .collect();
        if starts.is_empty() {
            return;
        }
        let mut s = *self.pick(&starts);
        if s > 0 && b[s - 1] == b'-' {
            s -= 1;
        }
        let mut e = s + 1;
        while e < b.len() && (b[e].is_ascii_digit() || b"+-.eE".contains(&b[e])) {
            e += 1;
        }
        let tok = self.pick(NUMBERS).as_bytes().to_vec();
        b.splice(s..e, tok);
    }

    /// A structure-aware mutant of a JSON input (None when it is not JSON).
    pub fn json_mutant(&mut self, input: &[u8]) -> Option<Vec<u8>> {
        let mut v = parse_json(input)?;
        let n = *self.pick(&[1, 1, 1, 1, 1, 1, 2, 2, 2, 3]);
        for _ in 0..n {
            let count = count_nodes(&v);
            let mut k = self.below(count);
            let node = nth_mut(&mut v, &mut k)?;
            let mut taken = std::mem::take(node);
            self.json_op(&mut taken);
            *node = taken;
        }
        let dup = if self.chance(0.2) { 0.2 } else { 0.0 };
        let mut out = Vec::new();
        if self.chance(0.05) {
            out.extend_from_slice(b"\xef\xbb\xbf");
        }
        self.write_json(&v, dup, &mut out);
        Some(out)
    }

    fn json_op(&mut self, v: &mut Value) {
        match v {
            Value::Number(_) if self.chance(0.8) => *v = self.number(),
            Value::String(_) if self.chance(0.8) => *v = self.string(),
            Value::Object(m) if self.chance(0.7) => self.object_op(m),
            Value::Array(a) if self.chance(0.7) => self.array_op(a),
            _ => match self.below(6) {
                0 => {
                    *v = self
                        .pick(&[Value::Null, Value::Bool(true), Value::Bool(false)])
                        .clone()
                }
                1 => {
                    *v = self
                        .pick(&[Value::Object(Map::new()), Value::Array(Vec::new())])
                        .clone()
                }
                2 => {
                    let depth = *self.pick(&[2usize, 16, 64, 126, 127, 128, 129, 300]);
                    let mut inner = std::mem::take(v);
                    for _ in 0..depth {
                        inner = Value::Array(vec![inner]);
                    }
                    *v = inner;
                }
                3 => *v = self.number(),
                4 => *v = self.string(),
                _ => *v = self.subtree(),
            },
        }
    }

    fn object_op(&mut self, m: &mut Map<String, Value>) {
        let keys: Vec<String> = m.keys().cloned().collect();
        match self.below(5) {
            0 | 1 if !keys.is_empty() => {
                let k = self.pick(&keys).clone();
                m.remove(&k);
            }
            2 if !keys.is_empty() => {
                // The same value under another schema key (a misplaced field).
                let k = self.pick(&keys).clone();
                let to = (*self.pick(KEYS)).to_string();
                if let Some(x) = m.get(&k).cloned() {
                    m.insert(to, x);
                }
            }
            3 => {
                let k = if self.chance(0.8) {
                    (*self.pick(KEYS)).to_string()
                } else {
                    (*self.pick(STRINGS)).to_string()
                };
                let x = match self.below(4) {
                    0 => self.number(),
                    1 => self.string(),
                    2 => self.subtree(),
                    _ => Value::Null,
                };
                m.insert(k, x);
            }
            _ => {
                // Replace a value with a subtree of another entry.
                let k = if keys.is_empty() {
                    (*self.pick(KEYS)).to_string()
                } else {
                    self.pick(&keys).clone()
                };
                let x = self.subtree();
                m.insert(k, x);
            }
        }
    }

    fn array_op(&mut self, a: &mut Vec<Value>) {
        let len = a.len();
        match self.below(7) {
            0 if len > 0 => {
                a.remove(self.below(len));
            }
            1 if len > 0 => {
                let x = a[self.below(len)].clone();
                let k = *self.pick(&[1usize, 2, 10, 200]);
                let at = self.below(len + 1);
                a.splice(at..at, std::iter::repeat_n(x, k));
            }
            2 => {
                let x = match self.below(3) {
                    0 => self.number(),
                    1 => self.string(),
                    _ => self.subtree(),
                };
                a.insert(self.below(len + 1), x);
            }
            3 => a.truncate(self.below(len + 1)),
            4 => a.reverse(),
            5 if len > 0 => {
                let i = self.below(len);
                let x = std::mem::take(&mut a[i]);
                a[i] = Value::Array(vec![x]);
            }
            _ => a.clear(),
        }
    }

    /// An extreme number: a JSON number, a number in a string, or a raw
    /// token that is no JSON number at all (written as is).
    fn number(&mut self) -> Value {
        let tok = *self.pick(NUMBERS);
        match self.below(3) {
            0 => Value::String(tok.to_string()),
            1 => raw(tok),
            _ => serde_json::from_str::<Value>(tok).unwrap_or_else(|_| raw(tok)),
        }
    }

    fn string(&mut self) -> Value {
        match self.below(10) {
            0 => Value::String("x".repeat(*self.pick(&[201usize, 4096, 100_000]))),
            1 => Value::String("企".repeat(*self.pick(&[200usize, 201, 5000]))),
            _ => Value::String((*self.pick(STRINGS)).to_string()),
        }
    }

    /// A random subtree of a random corpus entry.
    fn subtree(&mut self) -> Value {
        if self.json.is_empty() {
            return Value::Null;
        }
        let i = self.below(self.json.len());
        let count = count_nodes(&self.json[i]);
        let mut k = self.below(count);
        let mut v = self.json[i].clone();
        nth_mut(&mut v, &mut k)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// JSON text of `v`; with probability `dup` per object member the member
    /// is written twice (duplicate keys), and raw tokens are written as is.
    pub fn write_json(&mut self, v: &Value, dup: f64, out: &mut Vec<u8>) {
        match v {
            Value::String(s) => match s.strip_prefix(RAW) {
                Some(tok) => out.extend_from_slice(tok.as_bytes()),
                None => out.extend_from_slice(serde_json::to_string(s).unwrap().as_bytes()),
            },
            Value::Array(a) => {
                out.push(b'[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_json(x, dup, out);
                }
                out.push(b']');
            }
            Value::Object(m) => {
                out.push(b'{');
                let mut first = true;
                for (k, x) in m {
                    let times = if dup > 0.0 && self.chance(dup) { 2 } else { 1 };
                    for _ in 0..times {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        out.extend_from_slice(serde_json::to_string(k).unwrap().as_bytes());
                        out.push(b':');
                        self.write_json(x, dup, out);
                    }
                }
                out.push(b'}');
            }
            other => out.extend_from_slice(other.to_string().as_bytes()),
        }
    }
}

/// Strings starting with this are written raw by [`Mutator::write_json`].
const RAW: &str = "\u{e000}raw:";

fn raw(tok: &str) -> Value {
    Value::String(format!("{RAW}{tok}"))
}

/// JSON of an input (a UTF-8 byte-order mark ignored).
pub fn parse_json(input: &[u8]) -> Option<Value> {
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    serde_json::from_slice(input).ok()
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(m) => m.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `n`-th node of `v` in pre-order.
fn nth_mut<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
    if *n == 0 {
        return Some(v);
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().find_map(|c| nth_mut(c, n)),
        Value::Object(m) => m.values_mut().find_map(|c| nth_mut(c, n)),
        _ => None,
    }
}
