//! The rules in force as the server reports them: `/health` names them
//! and every explanation carries their digest (see
//! [`riskmap_core::rule_set`]).

use serde_json::{Value, json};

use crate::state::AppState;

/// `"rules"` of `/health`: the set's digest, the overridden files and
/// each file's digest.
pub(crate) fn health(state: &AppState) -> Value {
    let set = state.app().rules().set;
    json!({
        "digest": set.digest(),
        "overridden": set.overridden(),
        "files": set.file_digests(),
    })
}

/// The digest every explanation carries as `rules_digest`.
pub(crate) fn digest(state: &AppState) -> String {
    state.app().rules().set.digest().to_string()
}
