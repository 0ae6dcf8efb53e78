//! `--rules DIR`: a deployment's own rules files (e.g. a province's bands)
//! in place of the embedded `data/rules` files of the same name, read,
//! checked and put in force once at start.

use std::path::Path;

use anyhow::Context;
use riskmap_core::rule_set::{self, RuleSet, RulesInForce};

/// Reads the files of `dir` (each named like a file of `data/rules`),
/// checks the whole set as the embedded files are checked, and installs
/// it for the process. Without `dir`, the embedded rules stay in force.
///
/// # Errors
/// A file that cannot be read, a name that is no rules file (all named),
/// or the first file that does not parse or breaks a rule, named with
/// its key: `rules/grid.toml: bands[1].min: invalid type: …`.
pub(crate) fn load(dir: Option<&Path>) -> anyhow::Result<RulesInForce> {
    let Some(dir) = dir else {
        return Ok(RulesInForce::installed());
    };
    let mut overrides = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("--rules {}: cannot read the directory", dir.display()))?;
    for entry in entries {
        let entry = entry
            .with_context(|| format!("--rules {}: cannot read the directory", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = if path.is_dir() {
            // Named as a non-file below, whatever its name.
            String::new()
        } else {
            std::fs::read_to_string(&path)
                .with_context(|| format!("{}: cannot read the rules file", path.display()))?
        };
        let name = if path.is_dir() {
            format!("{name}/")
        } else {
            name
        };
        overrides.push((name, path.display().to_string(), text));
    }
    overrides.sort();
    let set = RuleSet::with_overrides(overrides)?;
    let scoring = set.check_core()?;
    riskmap_safety::rule_set::check(&set)?;
    let overridden: Vec<String> = set.overridden().iter().map(|s| s.to_string()).collect();
    let digest = set.digest().to_string();
    let rules = rule_set::install(set, scoring)
        .map_err(|_| anyhow::anyhow!("--rules: rules were read before they were installed"))?;
    tracing::info!(
        digest,
        overridden = overridden.join(","),
        "rules from {}",
        dir.display()
    );
    Ok(rules)
}
