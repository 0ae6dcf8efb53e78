//! Logs: human-readable lines on stderr filtered by `RUST_LOG` (default
//! `info,sqlx=warn`), and for `serve` the access log, one JSON object per
//! request at target `riskmap::access` (time, request id, method, path and
//! query, route, status, bytes, duration, remote address), to stderr or a
//! file (`--access-log FILE`, appended), whatever `RUST_LOG` says. Both go
//! through a background writer, so a slow stderr reader never blocks a
//! request.

use std::path::PathBuf;

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// The access log's target.
pub(crate) const ACCESS_TARGET: &str = "riskmap::access";

/// Where the access log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccessLog {
    /// Nowhere.
    Off,
    /// Standard error, beside the other logs.
    Stderr,
    /// Appended to a file.
    File(PathBuf),
}

impl AccessLog {
    /// `--access-log`: `off`, `stderr` (default) or a file path.
    pub(crate) fn parse(v: Option<&str>) -> AccessLog {
        match v {
            None | Some("stderr" | "-") => AccessLog::Stderr,
            Some("off" | "none") => AccessLog::Off,
            Some(path) => AccessLog::File(PathBuf::from(path)),
        }
    }
}

/// Installs the logs; keep the guards until the process ends (dropping
/// them flushes what is still queued).
pub(crate) fn init(access: &AccessLog) -> anyhow::Result<Vec<WorkerGuard>> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"))
        .add_directive(
            format!("{ACCESS_TARGET}=off")
                .parse()
                .context("the access-log filter")?,
        );
    let (stderr, stderr_guard) = tracing_appender::non_blocking(std::io::stderr());
    // Colours only on a terminal: logs read by programs stay plain text.
    let human = fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(stderr.clone())
        .with_filter(filter);
    let mut guards = vec![stderr_guard];
    let writer = match access {
        AccessLog::Off => None,
        AccessLog::Stderr => Some(stderr),
        AccessLog::File(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("--access-log {}: cannot open", path.display()))?;
            let (w, g) = tracing_appender::non_blocking(file);
            guards.push(g);
            Some(w)
        }
    };
    let access = writer.map(|w| {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(w)
            .with_filter(Targets::new().with_target(ACCESS_TARGET, tracing::Level::INFO))
    });
    tracing_subscriber::registry()
        .with(human)
        .with(access)
        .try_init()
        .context("installing the logs")?;
    Ok(guards)
}
