//! The rules files in force (规则文件): the `data/rules/*.toml` texts
//! embedded at compile time, some of them replaced by a deployment's own
//! (`riskmap serve --rules DIR`, e.g. a province's bands), and their digest.
//!
//! A [`RuleSet`] is built once at start. The scoring rules ([`Rules`]) are
//! parsed from it and handed to the application explicitly; the other
//! tables (hidden-danger lifecycle, column aliases, plausible bounds and
//! the safety crate's tables) are read through `builtin()`/`embedded()`
//! functions deep inside pure code, so the set is also [`install`]ed once
//! at start, before any of them is first read: those functions read
//! [`text`], which is the installed set's text, or the embedded one when
//! nothing was installed (tests, libraries). [`install`] fails once any
//! table has been read, so no table can be parsed from the embedded text
//! and then silently disagree with the digest reported.
//!
//! Digests: a file's digest is the SHA-256 of its text (what `sha256sum`
//! prints for it); the set's digest is the SHA-256 of the lines
//! `"{file digest}  {name}\n"` in file-name order, i.e. of what
//! `LC_ALL=C sha256sum *.toml` prints in a directory holding the files in
//! force.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::scoring::rules::{Rules, RulesError};

/// Every embedded rules file: (file name, text), in name order.
pub const EMBEDDED: [(&str, &str); 23] = [
    (
        "code-distances.toml",
        include_str!("../../../data/rules/code-distances.toml"),
    ),
    (
        "column-aliases.toml",
        include_str!("../../../data/rules/column-aliases.toml"),
    ),
    (
        "consequence-thresholds.toml",
        include_str!("../../../data/rules/consequence-thresholds.toml"),
    ),
    (
        "consequence-toxic-probits.toml",
        include_str!("../../../data/rules/consequence-toxic-probits.toml"),
    ),
    (
        "dense-gas.toml",
        include_str!("../../../data/rules/dense-gas.toml"),
    ),
    (
        "enterprise-diagnosis-2018.toml",
        include_str!("../../../data/rules/enterprise-diagnosis-2018.toml"),
    ),
    ("erg.toml", include_str!("../../../data/rules/erg.toml")),
    ("grid.toml", include_str!("../../../data/rules/grid.toml")),
    (
        "hidden-dangers.toml",
        include_str!("../../../data/rules/hidden-dangers.toml"),
    ),
    (
        "incident.toml",
        include_str!("../../../data/rules/incident.toml"),
    ),
    ("lec.toml", include_str!("../../../data/rules/lec.toml")),
    (
        "levels-of-concern.toml",
        include_str!("../../../data/rules/levels-of-concern.toml"),
    ),
    (
        "matrix-5x5.toml",
        include_str!("../../../data/rules/matrix-5x5.toml"),
    ),
    (
        "park-2023.toml",
        include_str!("../../../data/rules/park-2023.toml"),
    ),
    (
        "pipeline-hca-gb32167.toml",
        include_str!("../../../data/rules/pipeline-hca-gb32167.toml"),
    ),
    (
        "plausible-bounds.toml",
        include_str!("../../../data/rules/plausible-bounds.toml"),
    ),
    (
        "protection-target-classes.toml",
        include_str!("../../../data/rules/protection-target-classes.toml"),
    ),
    (
        "qra-ignition.toml",
        include_str!("../../../data/rules/qra-ignition.toml"),
    ),
    (
        "qra-leak-frequencies.toml",
        include_str!("../../../data/rules/qra-leak-frequencies.toml"),
    ),
    (
        "qra-model.toml",
        include_str!("../../../data/rules/qra-model.toml"),
    ),
    (
        "qra-substances.toml",
        include_str!("../../../data/rules/qra-substances.toml"),
    ),
    (
        "qra-weather.toml",
        include_str!("../../../data/rules/qra-weather.toml"),
    ),
    (
        "road-speeds.toml",
        include_str!("../../../data/rules/road-speeds.toml"),
    ),
];

/// The scoring models' files, parsed into [`Rules`].
pub const SCORING_FILES: [&str; 6] = [
    "enterprise-diagnosis-2018.toml",
    "park-2023.toml",
    "pipeline-hca-gb32167.toml",
    "lec.toml",
    "matrix-5x5.toml",
    "grid.toml",
];

/// The embedded text of a rules file, `None` for a name that is none.
pub fn embedded_text(name: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// One file of a [`RuleSet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    /// Its text.
    pub text: String,
    /// Where it comes from: `data/rules/{name}` (embedded) or the path of
    /// the override. Error messages and assessments name it.
    pub origin: String,
    /// Whether a deployment's file replaced the embedded one.
    pub overridden: bool,
}

/// A rules file that cannot be used: the file (its origin) and what is
/// wrong, naming the key where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RuleSetError {
    /// The file (origin), e.g. `rules/enterprise-diagnosis-2018.toml`.
    pub file: String,
    /// What is wrong, e.g. `bands[1].min: invalid type: string "x", expected f64 (line 12)`.
    pub message: String,
}

/// The rules files in force: every embedded file, some replaced.
#[derive(Debug, Clone)]
pub struct RuleSet {
    files: BTreeMap<String, RuleFile>,
    /// [`RuleSet::digest`], computed once.
    digest: OnceLock<String>,
    /// [`RuleSet::file_digests`], computed once.
    file_digests: OnceLock<BTreeMap<String, String>>,
}

impl PartialEq for RuleSet {
    fn eq(&self, other: &RuleSet) -> bool {
        self.files == other.files
    }
}

impl Eq for RuleSet {}

impl RuleSet {
    /// The embedded files.
    pub fn embedded() -> RuleSet {
        RuleSet {
            files: EMBEDDED
                .iter()
                .map(|(name, text)| {
                    (
                        (*name).to_string(),
                        RuleFile {
                            text: (*text).to_string(),
                            origin: format!("data/rules/{name}"),
                            overridden: false,
                        },
                    )
                })
                .collect(),
            digest: OnceLock::new(),
            file_digests: OnceLock::new(),
        }
    }

    /// The embedded files with `overrides` (file name, origin, text) in
    /// place of the files of the same name. Names that are no embedded
    /// file are refused, all of them named. Only the names are checked
    /// here: [`RuleSet::check_core`] (and the safety crate's check) parse
    /// and validate the texts.
    pub fn with_overrides(
        overrides: impl IntoIterator<Item = (String, String, String)>,
    ) -> Result<RuleSet, RuleSetError> {
        let mut set = RuleSet::embedded();
        let mut unknown = Vec::new();
        for (name, origin, text) in overrides {
            match set.files.get_mut(&name) {
                Some(f) => {
                    *f = RuleFile {
                        text,
                        origin,
                        overridden: true,
                    };
                }
                None => unknown.push(origin),
            }
        }
        if unknown.is_empty() {
            Ok(set)
        } else {
            Err(RuleSetError {
                file: unknown.join(", "),
                message: format!(
                    "not a rules file name; the names are those of data/rules: {}",
                    EMBEDDED.map(|(n, _)| n).join(", ")
                ),
            })
        }
    }

    /// A file, by name (`grid.toml`).
    pub fn file(&self, name: &str) -> Option<&RuleFile> {
        self.files.get(name)
    }

    /// The text of a file in force, by name.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(|f| f.text.as_str())
    }

    /// Every file, by name.
    pub fn files(&self) -> impl Iterator<Item = (&str, &RuleFile)> {
        self.files.iter().map(|(n, f)| (n.as_str(), f))
    }

    /// The names of the overridden files.
    pub fn overridden(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|(_, f)| f.overridden)
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Each file's digest (SHA-256 of its text, lowercase hex), by name.
    pub fn file_digests(&self) -> &BTreeMap<String, String> {
        self.file_digests.get_or_init(|| {
            self.files
                .iter()
                .map(|(n, f)| (n.clone(), hex_sha256(f.text.as_bytes())))
                .collect()
        })
    }

    /// The set's digest: SHA-256 of `"{file digest}  {name}\n"` per file in
    /// name order (`LC_ALL=C sha256sum *.toml | sha256sum`).
    pub fn digest(&self) -> &str {
        self.digest.get_or_init(|| {
            let mut listing = String::new();
            for (name, digest) in self.file_digests() {
                listing.push_str(digest);
                listing.push_str("  ");
                listing.push_str(name);
                listing.push('\n');
            }
            hex_sha256(listing.as_bytes())
        })
    }

    /// The scoring rules of this set, checked (the six model files and
    /// the checks between them).
    pub fn scoring_rules(&self) -> Result<Rules, RuleSetError> {
        let files: Vec<(&str, &str)> = SCORING_FILES
            .iter()
            .filter_map(|n| self.files.get(*n))
            .map(|f| (f.origin.as_str(), f.text.as_str()))
            .collect();
        Rules::from_toml_strs(files).map_err(scoring_error)
    }

    /// Parses and checks every file this crate reads: the scoring rules,
    /// the hidden-danger lifecycle, the column aliases and the plausible
    /// bounds. Returns the scoring rules.
    pub fn check_core(&self) -> Result<Rules, RuleSetError> {
        let rules = self.scoring_rules()?;
        let check = |name: &str, f: &dyn Fn(&str) -> Result<(), String>| {
            let file = self.files.get(name).ok_or_else(|| RuleSetError {
                file: name.to_string(),
                message: "missing".into(),
            })?;
            f(&file.text).map_err(|message| RuleSetError {
                file: file.origin.clone(),
                message,
            })
        };
        check("hidden-dangers.toml", &|t| {
            crate::dangers::DangerRules::from_toml(t).map(|_| ())
        })?;
        check("column-aliases.toml", &|t| {
            crate::office::Aliases::from_toml(t).map(|_| ())
        })?;
        check("plausible-bounds.toml", &|t| {
            crate::import::parse_bounds(t).map(|_| ())
        })?;
        Ok(rules)
    }
}

/// A scoring-rules error as a [`RuleSetError`] (its file is the origin).
fn scoring_error(e: RulesError) -> RuleSetError {
    match e {
        RulesError::Parse { file, message } => RuleSetError { file, message },
        RulesError::UnknownKind { file, kind } => RuleSetError {
            file,
            message: format!(
                "about.kind: {kind:?} is not one of enterprise, park, pipeline, lec, matrix, grid"
            ),
        },
        RulesError::Invalid { file, key, message } => RuleSetError {
            file,
            message: format!("{key}: {message}"),
        },
        RulesError::Duplicate {
            kind,
            first,
            second,
        } => RuleSetError {
            file: second,
            message: format!("about.kind: a second {kind} rules file (the first is {first})"),
        },
        RulesError::Missing { kind } => RuleSetError {
            file: "data/rules".into(),
            message: format!("no {kind} rules file"),
        },
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses a TOML text into `T`, naming the key of a wrong value:
/// `bands[1].min: invalid type: string "x", expected f64 (line 12)`.
/// Syntax errors keep the parser's message (line and column).
pub fn from_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let de = toml::Deserializer::parse(text).map_err(|e| e.to_string().trim_end().to_string())?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        let line = inner
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let mut message = String::new();
        if path != "." && !path.is_empty() {
            message.push_str(&path);
            message.push_str(": ");
        }
        message.push_str(inner.message().trim_end());
        if let Some(line) = line {
            message.push_str(&format!(" (line {line})"));
        }
        message
    })
}

struct Installed {
    set: RuleSet,
    rules: &'static Rules,
}

static IN_FORCE: OnceLock<Installed> = OnceLock::new();

/// The rules in force of a process: the files (for the digest) and the
/// scoring rules parsed from them. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct RulesInForce {
    /// The files.
    pub set: &'static RuleSet,
    /// The scoring rules parsed from them.
    pub scoring: &'static Rules,
}

impl RulesInForce {
    /// Those [`install`]ed at start, else the embedded ones.
    pub fn installed() -> RulesInForce {
        let i = installed();
        RulesInForce {
            set: &i.set,
            scoring: i.rules,
        }
    }
}

/// Makes `set` (checked, with its scoring rules) the rules every
/// `builtin()`/`embedded()` table reads, for the rest of the process.
/// Call it once at start, after checking the set and before anything is
/// scored. The scoring rules are kept for the life of the process.
///
/// # Errors
/// The set when rules are already in force (installed before, or some
/// table already read the embedded ones).
pub fn install(set: RuleSet, rules: Rules) -> Result<RulesInForce, RuleSet> {
    let rules: &'static Rules = Box::leak(Box::new(rules));
    IN_FORCE
        .set(Installed { set, rules })
        .map_err(|installed| installed.set)?;
    Ok(RulesInForce::installed())
}

fn installed() -> &'static Installed {
    IN_FORCE.get_or_init(|| Installed {
        set: RuleSet::embedded(),
        rules: Rules::builtin(),
    })
}

/// The rules files in force: those [`install`]ed at start, else the
/// embedded ones.
pub fn in_force() -> &'static RuleSet {
    &installed().set
}

/// The scoring rules in force (see [`in_force`]).
pub fn scoring_in_force() -> &'static Rules {
    installed().rules
}

/// The text in force of the rules file `name` (a name of [`EMBEDDED`]).
///
/// # Panics
/// When `name` is no rules file: a programming error.
pub fn text(name: &str) -> &'static str {
    match in_force().text(name) {
        Some(t) => t,
        None => panic!("{name} is not a data/rules file"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn embedded_names_are_the_files_and_in_order() {
        let names: Vec<&str> = EMBEDDED.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        let set = RuleSet::embedded();
        assert!(set.overridden().is_empty());
        set.check_core().unwrap();
    }

    #[test]
    fn an_override_changes_the_digest_and_unknown_names_are_refused() {
        let base = RuleSet::embedded();
        let text = embedded_text("grid.toml").unwrap().replace("\n", "\n\n");
        let set = RuleSet::with_overrides([(
            "grid.toml".to_string(),
            "p/grid.toml".to_string(),
            text.clone(),
        )])
        .unwrap();
        assert_eq!(set.overridden(), ["grid.toml"]);
        assert_ne!(set.digest(), base.digest());
        assert_eq!(set.file_digests()["grid.toml"], hex_sha256(text.as_bytes()));
        assert_eq!(
            set.file_digests()["lec.toml"],
            base.file_digests()["lec.toml"]
        );
        let e = RuleSet::with_overrides([
            (
                "grids.toml".to_string(),
                "p/grids.toml".into(),
                String::new(),
            ),
            ("x.md".to_string(), "p/x.md".into(), String::new()),
        ])
        .unwrap_err();
        assert!(e.to_string().starts_with("p/grids.toml, p/x.md: "), "{e}");
    }

    #[test]
    fn a_wrong_value_names_the_file_and_key() {
        let text = embedded_text("enterprise-diagnosis-2018.toml").unwrap();
        // The first band's lower bound as text.
        let at = text.find("\nmin = ").unwrap();
        let end = at + text[at + 1..].find('\n').unwrap() + 1;
        let bad = format!("{}\nmin = \"ninety\"{}", &text[..at], &text[end..]);
        let set = RuleSet::with_overrides([(
            "enterprise-diagnosis-2018.toml".to_string(),
            "rules/enterprise-diagnosis-2018.toml".to_string(),
            bad,
        )])
        .unwrap();
        let e = set.check_core().unwrap_err();
        assert_eq!(e.file, "rules/enterprise-diagnosis-2018.toml");
        assert!(
            e.message.contains(".min: invalid type: string \"ninety\""),
            "{e}"
        );
    }
}
