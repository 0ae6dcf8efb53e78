//! `riskmap accounts …`: accounts with roles and their tokens, straight in
//! the store (the same tables `POST /api/accounts` writes), for setting up a
//! server before anyone can log in. Every change is in the audit log as
//! `cli:<user>`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use riskmap_core::access::{Account, Role};
use riskmap_server::auth::{hash_password, new_token, token_record};
use riskmap_store::access::account_entry;
use riskmap_store::{AuditEntry, StoredAccount};

use crate::StoreArgs;

/// The account commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AccountsCommand {
    /// Create an account and print its first API token (shown once).
    Add {
        /// Login name (letters, digits, -_.@).
        name: String,
        /// admin, regulator, enterprise, inspector or viewer.
        #[arg(long)]
        role: Role,
        /// District-code prefixes of a regulator or inspector, comma-separated (e.g. 330106,3302).
        #[arg(long, value_delimiter = ',')]
        districts: Vec<String>,
        /// The 统一社会信用代码 of an enterprise account.
        #[arg(long)]
        credit_code: Option<String>,
        /// Read a password for the web map's login from this environment variable.
        #[arg(long)]
        password_env: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke an account's tokens (all, or the one with this token id).
    Revoke {
        /// The account.
        name: String,
        /// The token id (8 hex digits) to revoke; all when absent.
        #[arg(long)]
        token: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an account: none of its tokens works any more.
    Disable {
        /// The account.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Issue a new token for an account (printed once).
    Token {
        /// The account.
        name: String,
        /// Hours it lasts; until revoked when absent.
        #[arg(long)]
        hours: Option<i64>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Runs one account command.
pub(crate) async fn run(cmd: AccountsCommand) -> anyhow::Result<ExitCode> {
    let now = riskmap_app::now_rfc3339();
    match cmd {
        AccountsCommand::Add {
            name,
            role,
            districts,
            credit_code,
            password_env,
            store,
        } => {
            let store = open(&store).await?;
            let account = Account {
                name,
                role,
                districts,
                credit_code,
            };
            if let Err(e) = account.validate() {
                eprintln!("error: account {:?}: {e}", account.name);
                return Ok(ExitCode::from(2));
            }
            if store.account(&account.name).await?.is_some() {
                eprintln!("error: account {:?} exists", account.name);
                return Ok(ExitCode::from(2));
            }
            let password_hash = match password_env {
                Some(var) => {
                    let p = std::env::var(&var)
                        .with_context(|| format!("environment variable {var} is not set"))?;
                    match hash_password(&p) {
                        Ok(h) => Some(h),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return Ok(ExitCode::from(2));
                        }
                    }
                }
                None => None,
            };
            let stored = StoredAccount {
                account,
                password_hash,
                created_at: now.clone(),
                disabled_at: None,
            };
            store
                .put_account(
                    &stored,
                    &account_entry(&now, &actor(), "account:create", &stored),
                )
                .await?;
            let token = new_token().map_err(anyhow::Error::msg)?;
            let record = token_record(&token, &stored.account.name, "api", None);
            store.add_token(&record, None).await?;
            eprintln!(
                "account {:?} ({}) created; its API token (id {}), shown only now:",
                stored.account.name,
                stored.account.role.as_str(),
                record.id
            );
            println!("{token}");
        }
        AccountsCommand::List { store } => {
            let store = open(&store).await?;
            for a in store.accounts().await? {
                let tokens = store.tokens(&a.account.name).await?;
                let live = tokens.iter().filter(|t| t.revoked_at.is_none()).count();
                println!(
                    "{}\t{}\t{}\t{}\t{} live token(s){}{}",
                    a.account.name,
                    a.account.role.as_str(),
                    a.account.districts.join(","),
                    a.account.credit_code.as_deref().unwrap_or(""),
                    live,
                    if a.password_hash.is_some() {
                        ", can log in"
                    } else {
                        ""
                    },
                    if a.disabled_at.is_some() {
                        ", DISABLED"
                    } else {
                        ""
                    }
                );
            }
        }
        AccountsCommand::Revoke { name, token, store } => {
            let store = open(&store).await?;
            let entry = AuditEntry {
                at: now,
                actor: actor(),
                action: "token:revoke".into(),
                collection: "accounts".into(),
                id: Some(name.clone()),
                before: None,
                after: Some(
                    serde_json::json!({"revoked": token.as_deref().unwrap_or("all")}).to_string(),
                ),
            };
            let n = store
                .revoke_tokens(
                    &name,
                    token.map(|t| t.to_ascii_lowercase()).as_deref(),
                    &entry,
                )
                .await?;
            eprintln!("revoked {n} token(s) of {name:?}");
        }
        AccountsCommand::Disable { name, store } => {
            let store = open(&store).await?;
            let Some(mut a) = store.account(&name).await? else {
                eprintln!("error: no account {name:?}");
                return Ok(ExitCode::from(2));
            };
            let before = serde_json::to_string(&a).ok();
            a.disabled_at = Some(now.clone());
            let mut entry = account_entry(&now, &actor(), "account:disable", &a);
            entry.before = before;
            store.put_account(&a, &entry).await?;
            eprintln!("account {name:?} disabled");
        }
        AccountsCommand::Token { name, hours, store } => {
            let store = open(&store).await?;
            if store.account(&name).await?.is_none() {
                eprintln!("error: no account {name:?}");
                return Ok(ExitCode::from(2));
            }
            let token = new_token().map_err(anyhow::Error::msg)?;
            let record = token_record(&token, &name, "api", hours);
            let entry = AuditEntry {
                at: now,
                actor: actor(),
                action: "token:issue".into(),
                collection: "accounts".into(),
                id: Some(name.clone()),
                before: None,
                after: Some(serde_json::json!({"token": record.id}).to_string()),
            };
            store.add_token(&record, Some(&entry)).await?;
            eprintln!("token {} for {name:?}, shown only now:", record.id);
            println!("{token}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn open(args: &StoreArgs) -> anyhow::Result<std::sync::Arc<dyn riskmap_store::Store>> {
    let config = args.config();
    riskmap_store::open(&config)
        .await
        .with_context(|| format!("cannot open the store ({})", crate::describe(&config)))
}
