//! Accounts over HTTP (账号与权限): who is calling, logins, tokens and the
//! audit log.
//!
//! A request names its caller with `Authorization: Bearer <token>`. The
//! token is either one of the `--admin-token`s (the built-in `admin`
//! account) or a token issued to an account: by `POST /api/login` (name and
//! password; expires after [`LOGIN_HOURS`] hours), by an admin through
//! `POST /api/accounts` and `POST /api/accounts/{name}/tokens`, or by
//! `riskmap accounts`. Tokens are stored only as SHA-256 hashes: they are
//! 256 random bits, so a fast hash is enough (passwords, which are guessable,
//! are stored as argon2 hashes). Revoking a token, or disabling its account,
//! takes effect on the next request on every server sharing the store.
//!
//! - `POST /api/login`, `POST /api/logout`, `GET /api/me`;
//! - admins: `GET|POST /api/accounts`, `PUT /api/accounts/{name}`,
//!   `GET /api/audit`;
//! - admins or the account itself: `GET|POST /api/accounts/{name}/tokens`,
//!   `DELETE /api/accounts/{name}/tokens[/{id}]`.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use riskmap_app::By;
use riskmap_core::access::{Account, Role, rights};
use riskmap_store::access::account_entry;
use riskmap_store::{AuditEntry, AuditQuery, StoredAccount, TokenRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::state::AppState;

/// How long a login token lasts.
pub const LOGIN_HOURS: i64 = 12;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/accounts", get(list_accounts).post(create_account))
        .route("/api/accounts/{name}", put(update_account))
        .route(
            "/api/accounts/{name}/tokens",
            get(list_tokens).post(issue_token).delete(revoke_all),
        )
        .route("/api/accounts/{name}/tokens/{id}", delete(revoke_one))
        .route("/api/audit", get(audit))
}

/// A new random token: `rm_` and 64 hex digits (256 bits).
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers: {e}"))?;
    Ok(format!("rm_{}", hex(&bytes)))
}

/// The stored form of a token: SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The argon2id hash (PHC string) of a password. CPU-heavy: call it off the
/// async workers.
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < 8 {
        return Err("password: at least 8 characters".into());
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no random numbers: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A token record for `account`, valid for `hours` (none: until revoked).
pub fn token_record(token: &str, account: &str, label: &str, hours: Option<i64>) -> TokenRecord {
    let now = jiff::Timestamp::now();
    let hash = hash_token(token);
    TokenRecord {
        id: hash.chars().take(8).collect(),
        hash,
        account: account.to_string(),
        label: label.to_string(),
        created_at: now.to_string(),
        expires_at: hours.and_then(|h| {
            now.checked_add(jiff::SignedDuration::from_hours(h))
                .ok()
                .map(|t| t.to_string())
        }),
        revoked_at: None,
    }
}

fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    // The scheme is case-insensitive (RFC 9110 11.1).
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| Some(token.trim()))
        .ok_or(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ))
}

/// Why a stored token does not work now, if it does not.
fn unusable(account: &StoredAccount, token: &TokenRecord) -> Option<&'static str> {
    if token.revoked_at.is_some() {
        return Some("this token was revoked; log in again or ask for a new one");
    }
    if account.disabled_at.is_some() {
        return Some("this account is disabled");
    }
    let expired = token.expires_at.as_deref().is_some_and(|e| {
        e.parse::<jiff::Timestamp>()
            .map_or(true, |t| t <= jiff::Timestamp::now())
    });
    expired.then_some("this token has expired; log in again")
}

/// The caller's account, or `None` for an anonymous request; a token that
/// is given but does not work is 401.
pub(crate) async fn caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Account>, ApiError> {
    let Some(token) = bearer(headers)? else {
        return Ok(None);
    };
    if state.token_allowed(token) {
        return Ok(Some(Account::admin("admin")));
    }
    match state.app().store().token(&hash_token(token)).await? {
        None => Err(ApiError::Unauthorized("invalid bearer token")),
        Some((account, record)) => match unusable(&account, &record) {
            Some(why) => Err(ApiError::Unauthorized(why)),
            None => Ok(Some(account.account)),
        },
    }
}

/// Removes what anonymous readers do not see from a danger's JSON.
pub(crate) fn redact_danger(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        riskmap_core::access::redact_public(o);
    }
}

/// 401 for readers the limited public view does not serve `what`.
pub(crate) fn require_reader(
    state: &AppState,
    account: Option<&Account>,
    what: &'static str,
) -> Result<(), ApiError> {
    if state.limited(account) {
        Err(ApiError::Unauthorized(what))
    } else {
        Ok(())
    }
}

/// The author of a write: the caller, who must be logged in (401
/// otherwise). Rights are checked by the application layer.
pub(crate) async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<By, ApiError> {
    match caller(state, headers).await? {
        Some(account) => Ok(By::account(account)),
        None if state.config().admin_tokens.is_empty() => Err(ApiError::Unauthorized(
            "missing `Authorization: Bearer <token>` header; this server has no --admin-token \
             (RISKMAP_ADMIN_TOKEN), so it is read-only but for accounts (`riskmap accounts \
             add`, then POST /api/login)",
        )),
        None => Err(ApiError::Unauthorized(
            "missing `Authorization: Bearer <token>` header (log in with POST /api/login)",
        )),
    }
}

/// The caller, who must be an admin (403 naming the right otherwise).
async fn admin(state: &AppState, headers: &HeaderMap, right: &str) -> Result<Account, ApiError> {
    let by = authorize(state, headers).await?;
    if by.account.role == Role::Admin {
        Ok(by.account)
    } else {
        Err(ApiError::Forbidden(format!(
            "{} {:?} lacks the right to {right}: admins only",
            by.account.role.as_str(),
            by.account.name
        )))
    }
}

/// The caller, who must be an admin or the account `name` itself.
async fn admin_or_self(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    right: &str,
) -> Result<Account, ApiError> {
    let by = authorize(state, headers).await?;
    if by.account.role == Role::Admin || by.account.name == name {
        Ok(by.account)
    } else {
        Err(ApiError::Forbidden(format!(
            "{} {:?} lacks the right to {right} of account {name:?}: admins or the account itself only",
            by.account.role.as_str(),
            by.account.name
        )))
    }
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// Password checks are CPU-heavy: at most two at a time, others wait
/// briefly or get 503.
fn password_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(2))
}

async fn off_thread<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    let _slot = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        password_slots().acquire(),
    )
    .await
    .map_err(|_| ApiError::Unavailable("too many logins at once".into(), 1))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("password check failed: {e}")))
}

fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("{shape}: {e}")))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    name: String,
    password: String,
}

fn account_json(a: &StoredAccount) -> Value {
    json!({
        "name": a.account.name,
        "role": a.account.role,
        "role_zh": a.account.role.zh(),
        "districts": a.account.districts,
        "credit_code": a.account.credit_code,
        "created_at": a.created_at,
        "disabled_at": a.disabled_at,
        "can_log_in": a.password_hash.is_some(),
        "rights": rights(a.account.role),
    })
}

/// `POST /api/login` `{"name", "password"}`: a token for 12 hours.
#[utoipa::path(post, path = "/api/login", tag = "accounts", request_body(description = "name and password", content_type = "application/json", content = LoginBody), responses((status = 200, description = "a bearer token valid for 12 hours and the account", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "wrong name or password", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    let bytes = crate::ogc::body_bytes(body).await?;
    let body: LoginBody = parse_body(&bytes, "a login is {\"name\": …, \"password\": …}")?;
    let wrong = ApiError::Unauthorized("wrong name or password");
    let account = state.app().store().account(&body.name).await?;
    let phc = account.as_ref().and_then(|a| a.password_hash.clone());
    let password = body.password;
    let ok = off_thread(move || match phc {
        Some(phc) => verify_password(&password, &phc),
        None => {
            // An unknown name costs a hash too, so that timing does not tell names.
            static DUMMY: OnceLock<Option<String>> = OnceLock::new();
            if let Some(d) = DUMMY.get_or_init(|| hash_password("not a password").ok()) {
                verify_password(&password, d);
            }
            false
        }
    })
    .await?;
    let Some(account) = account.filter(|a| ok && a.disabled_at.is_none()) else {
        return Err(wrong);
    };
    let token = new_token().map_err(ApiError::Internal)?;
    let record = token_record(&token, &account.account.name, "login", Some(LOGIN_HOURS));
    let entry = AuditEntry {
        at: record.created_at.clone(),
        actor: account.account.name.clone(),
        action: "login".into(),
        collection: "accounts".into(),
        id: Some(account.account.name.clone()),
        before: None,
        after: Some(json!({"token": record.id, "expires_at": record.expires_at}).to_string()),
    };
    state.app().store().add_token(&record, Some(&entry)).await?;
    Ok(Json(json!({
        "token": token,
        "token_id": record.id,
        "expires_at": record.expires_at,
        "account": account_json(&account),
    })))
}

/// `POST /api/logout`: revokes the token of the request.
#[utoipa::path(post, path = "/api/logout", tag = "accounts", responses((status = 204, description = "the token of the request is revoked"), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let by = authorize(&state, &headers).await?;
    if let Some(token) = bearer(&headers)?
        && !state.token_allowed(token)
    {
        let hash = hash_token(token);
        let entry = AuditEntry {
            at: now(),
            actor: by.account.name.clone(),
            action: "logout".into(),
            collection: "accounts".into(),
            id: Some(by.account.name.clone()),
            before: None,
            after: Some(json!({"revoked": &hash[..8]}).to_string()),
        };
        state
            .app()
            .store()
            .revoke_tokens(&by.account.name, Some(&hash), &entry)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/me`: the caller's account and rights.
#[utoipa::path(get, path = "/api/me", tag = "accounts", responses((status = 200, description = "the caller's account and rights", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let Some(account) = caller(&state, &headers).await? else {
        return Err(ApiError::Unauthorized(
            "missing `Authorization: Bearer <token>` header (log in with POST /api/login)",
        ));
    };
    Ok(Json(json!({
        "name": account.name,
        "role": account.role,
        "role_zh": account.role.zh(),
        "districts": account.districts,
        "credit_code": account.credit_code,
        "rights": rights(account.role),
    })))
}

/// `GET /api/accounts` (admins).
#[utoipa::path(get, path = "/api/accounts", tag = "accounts", responses((status = 200, description = "every account", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn list_accounts(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    admin(&state, &headers, "list accounts").await?;
    let accounts = state.app().store().accounts().await?;
    Ok(Json(json!({
        "accounts": accounts.iter().map(account_json).collect::<Vec<_>>()
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountBody {
    name: Option<String>,
    /// admin, regulator, enterprise, inspector or viewer.
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
    #[serde(default)]
    districts: Option<Vec<String>>,
    #[serde(default)]
    credit_code: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    disabled: Option<bool>,
}

const ACCOUNT_SHAPE: &str = "an account is {\"name\", \"role\": admin|regulator|enterprise|inspector|viewer, \"districts\": [\"3301\"], \"credit_code\", \"password\", \"disabled\"}";

/// `POST /api/accounts` (admins): creates an account and answers 201 with
/// it and a first API token (shown once).
#[utoipa::path(post, path = "/api/accounts", tag = "accounts", request_body(description = "the account: name, role (admin|regulator|enterprise|inspector|viewer), districts (行政区划代码), credit_code (统一社会信用代码), password", content_type = "application/json", content = AccountBody), responses((status = 201, description = "created, with a first token (shown once)", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 409, description = "the account exists already", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn create_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let actor = admin(&state, &headers, "create accounts").await?;
    let bytes = crate::ogc::body_bytes(body).await?;
    let body: AccountBody = parse_body(&bytes, ACCOUNT_SHAPE)?;
    let (Some(name), Some(role)) = (body.name, body.role) else {
        return Err(ApiError::BadRequest(format!(
            "name and role are required: {ACCOUNT_SHAPE}"
        )));
    };
    let account = Account {
        name,
        role,
        districts: body.districts.unwrap_or_default(),
        credit_code: body.credit_code,
    };
    account
        .validate()
        .map_err(|e| ApiError::BadRequest(format!("account {:?}: {e}", account.name)))?;
    if state.app().store().account(&account.name).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "account {:?} exists; PUT /api/accounts/{} changes it",
            account.name, account.name
        )));
    }
    let password_hash = match body.password {
        Some(p) => Some(
            off_thread(move || hash_password(&p))
                .await?
                .map_err(|e| ApiError::BadRequest(format!("account {:?}: {e}", account.name)))?,
        ),
        None => None,
    };
    let stored = StoredAccount {
        account,
        password_hash,
        created_at: now(),
        disabled_at: None,
    };
    let store = state.app().store();
    store
        .put_account(
            &stored,
            &account_entry(&stored.created_at, &actor.name, "account:create", &stored),
        )
        .await?;
    let token = new_token().map_err(ApiError::Internal)?;
    let record = token_record(&token, &stored.account.name, "api", None);
    store.add_token(&record, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"account": account_json(&stored), "token": token, "token_id": record.id})),
    ))
}

/// `PUT /api/accounts/{name}` (admins): changes role, scope, password or
/// disables (`"disabled": true`, which stops all its tokens).
#[utoipa::path(put, path = "/api/accounts/{name}", tag = "accounts", params(("name" = String, Path, description = "an account name")), request_body(description = "the fields to change: role, districts, credit_code, password, disabled", content_type = "application/json", content = AccountBody), responses((status = 200, description = "the changed account", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such account", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn update_account(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    let actor = admin(&state, &headers, "change accounts").await?;
    let bytes = crate::ogc::body_bytes(body).await?;
    let body: AccountBody = parse_body(&bytes, ACCOUNT_SHAPE)?;
    let store = state.app().store();
    let Some(mut stored) = store.account(&name).await? else {
        return Err(ApiError::NotFound(format!("no account {name:?}")));
    };
    let before = serde_json::to_string(&stored).ok();
    if body.name.as_ref().is_some_and(|n| *n != name) {
        return Err(ApiError::BadRequest(format!(
            "account {name:?}: name cannot change (create a new account)"
        )));
    }
    if let Some(r) = body.role {
        stored.account.role = r;
    }
    if let Some(d) = body.districts {
        stored.account.districts = d;
    }
    if body.credit_code.is_some() {
        stored.account.credit_code = body.credit_code;
    }
    stored
        .account
        .validate()
        .map_err(|e| ApiError::BadRequest(format!("account {name:?}: {e}")))?;
    if let Some(p) = body.password {
        stored.password_hash = Some(
            off_thread(move || hash_password(&p))
                .await?
                .map_err(|e| ApiError::BadRequest(format!("account {name:?}: {e}")))?,
        );
    }
    match body.disabled {
        Some(true) if stored.disabled_at.is_none() => stored.disabled_at = Some(now()),
        Some(false) => stored.disabled_at = None,
        _ => {}
    }
    let mut entry = account_entry(&now(), &actor.name, "account:update", &stored);
    entry.before = before;
    store.put_account(&stored, &entry).await?;
    Ok(Json(account_json(&stored)))
}

/// `GET /api/accounts/{name}/tokens` (admins or the account itself).
#[utoipa::path(get, path = "/api/accounts/{name}/tokens", tag = "accounts", params(("name" = String, Path, description = "an account name")), responses((status = 200, description = "the account's tokens (without their secrets)", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such account", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    admin_or_self(&state, &headers, &name, "list the tokens").await?;
    let tokens = state.app().store().tokens(&name).await?;
    Ok(Json(json!({"account": name, "tokens": tokens})))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenBody {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    hours: Option<i64>,
}

/// `POST /api/accounts/{name}/tokens` `{"label", "hours"}` (admins or the
/// account itself): a new token, shown once.
#[utoipa::path(post, path = "/api/accounts/{name}/tokens", tag = "accounts", params(("name" = String, Path, description = "an account name")), request_body(description = "an optional label and lifetime in hours (1–8784); an empty body is a token until revoked", content_type = "application/json", content = TokenBody), responses((status = 201, description = "a new token (shown once)", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such account", body = crate::openapi::Exception), (status = 409, description = "the account is disabled", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn issue_token(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let actor = admin_or_self(&state, &headers, &name, "issue tokens").await?;
    let bytes = crate::ogc::body_bytes(body).await?;
    let body: TokenBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        TokenBody::default()
    } else {
        parse_body(&bytes, "a token request is {\"label\": …, \"hours\": …}")?
    };
    if body.hours.is_some_and(|h| !(1..=24 * 366).contains(&h)) {
        return Err(ApiError::BadRequest(
            "hours: 1 to 8784 (a year), or none for a token that lasts until revoked".into(),
        ));
    }
    let store = state.app().store();
    let Some(account) = store.account(&name).await? else {
        return Err(ApiError::NotFound(format!("no account {name:?}")));
    };
    if account.disabled_at.is_some() {
        return Err(ApiError::Conflict(format!("account {name:?} is disabled")));
    }
    let label = body.label.unwrap_or_else(|| "api".into());
    let token = new_token().map_err(ApiError::Internal)?;
    let record = token_record(&token, &name, &label, body.hours);
    let entry = AuditEntry {
        at: record.created_at.clone(),
        actor: actor.name.clone(),
        action: "token:issue".into(),
        collection: "accounts".into(),
        id: Some(name.clone()),
        before: None,
        after: Some(
            json!({"token": record.id, "label": label, "expires_at": record.expires_at})
                .to_string(),
        ),
    };
    store.add_token(&record, Some(&entry)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "token_id": record.id, "expires_at": record.expires_at})),
    ))
}

async fn revoke(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    id: Option<&str>,
) -> Result<Json<Value>, ApiError> {
    let actor = admin_or_self(state, headers, name, "revoke the tokens").await?;
    if let Some(id) = id
        && (id.len() < 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(ApiError::BadRequest(format!(
            "token id {id:?}: the 8 hex digits shown as token_id"
        )));
    }
    let entry = AuditEntry {
        at: now(),
        actor: actor.name.clone(),
        action: "token:revoke".into(),
        collection: "accounts".into(),
        id: Some(name.to_string()),
        before: None,
        after: Some(json!({"revoked": id.unwrap_or("all")}).to_string()),
    };
    let n = state
        .app()
        .store()
        .revoke_tokens(name, id.map(str::to_ascii_lowercase).as_deref(), &entry)
        .await?;
    Ok(Json(json!({"account": name, "revoked": n})))
}

/// `DELETE /api/accounts/{name}/tokens`: revokes every token of the account.
#[utoipa::path(delete, path = "/api/accounts/{name}/tokens", tag = "accounts", params(("name" = String, Path, description = "an account name")), responses((status = 200, description = "how many tokens were revoked", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such account", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn revoke_all(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    revoke(&state, &headers, &name, None).await
}

/// `DELETE /api/accounts/{name}/tokens/{id}`: revokes one token.
#[utoipa::path(delete, path = "/api/accounts/{name}/tokens/{id}", tag = "accounts", params(("name" = String, Path, description = "an account name"), ("id" = String, Path, description = "a token id")), responses((status = 200, description = "how many tokens were revoked", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such account or token", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn revoke_one(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    revoke(&state, &headers, &name, Some(&id)).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Entries after this sequence number (default 0: from the start).
    #[serde(default)]
    after: u64,
    /// At most this many entries, 1–1000 (default 100).
    #[serde(default)]
    limit: Option<usize>,
    /// Only writes by this account.
    actor: Option<String>,
    /// Only writes to this collection.
    collection: Option<String>,
    /// Only writes to this feature id.
    id: Option<String>,
}

/// `GET /api/audit?after=&limit=&actor=&collection=&id=` (admins): the
/// audit log, oldest first, with a `next` link while there is more.
#[utoipa::path(get, path = "/api/audit", tag = "accounts", params(AuditParams), responses((status = 200, description = "audit entries oldest first, with a next link while there is more", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    admin(&state, &headers, "read the audit log").await?;
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state
        .app()
        .store()
        .audit_log(&AuditQuery {
            after: p.after,
            limit,
            actor: p.actor,
            collection: p.collection,
            id: p.id,
            ..AuditQuery::default()
        })
        .await?;
    let entries: Vec<Value> = rows
        .iter()
        .map(|r| {
            let parse = |t: &Option<String>| {
                t.as_deref()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
            };
            json!({
                "seq": r.seq,
                "at": r.entry.at,
                "actor": r.entry.actor,
                "action": r.entry.action,
                "collection": r.entry.collection,
                "id": r.entry.id,
                "before": parse(&r.entry.before),
                "after": parse(&r.entry.after),
            })
        })
        .collect();
    let last = rows.last().map(|r| r.seq);
    Ok(Json(json!({
        "entries": entries,
        "next_after": last.filter(|_| rows.len() == limit),
    })))
}
