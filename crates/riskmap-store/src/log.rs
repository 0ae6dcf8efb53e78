//! The change log (变更日志): every committed write appends one row, in the
//! same transaction, so that other processes on the same database learn what
//! changed (design §3, §5).
//!
//! A row names the writer ([`Store::origin`](crate::Store::origin)), the
//! collection and the ids written or deleted; a large import logs no ids
//! ("the whole collection may have changed"). Sequence numbers grow in
//! commit order: PostGIS writers take one advisory lock per transaction,
//! and SQLite has one writer at a time anyway.
//!
//! A reader catches up with [`Store::changes_since`](crate::Store::changes_since)
//! after [`Watch::changed`] says there may be news: a PostgreSQL `NOTIFY` on
//! [`CHANNEL`], a reconnection (notifications sent meanwhile are lost, the
//! log is not), or a poll interval as the safety net.

use std::sync::Arc;
use std::time::Duration;

use riskmap_core::Collection;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// One committed write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    /// Position in the log (1, 2, …, in commit order).
    pub seq: u64,
    /// Which store handle wrote it ([`Store::origin`](crate::Store::origin)).
    pub origin: String,
    /// The collection written.
    pub collection: Collection,
    /// The ids written or deleted; `None` when more than [`LOG_IDS_MAX`]
    /// were imported at once (re-read the whole collection).
    pub ids: Option<Vec<String>>,
}

/// Imports of more features than this log no ids.
pub const LOG_IDS_MAX: usize = 10_000;

/// The PostgreSQL notification channel of the change log.
pub const CHANNEL: &str = "riskmap_changes";

/// The ids to log for a write of `ids`.
pub(crate) fn logged_ids<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> Option<Vec<String>> {
    (ids.len() <= LOG_IDS_MAX).then(|| ids.map(str::to_string).collect())
}

/// The collection a log row names.
pub(crate) fn collection_of(seq: u64, name: &str) -> crate::StoreResult<Collection> {
    name.parse().map_err(|_| crate::StoreError::CorruptLog {
        seq,
        message: format!("unknown collection {name:?}"),
    })
}

/// A fresh writer id: process id and start time, unique per open store.
pub(crate) fn new_origin() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static OPENED: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos:x}-{}",
        std::process::id(),
        OPENED.fetch_add(1, Ordering::Relaxed)
    )
}

/// Says when the change log may hold news (see the module docs).
#[derive(Debug)]
pub struct Watch {
    news: Option<Arc<Notify>>,
    listener: Option<AbortHandle>,
    poll: Duration,
}

impl Watch {
    /// A watch that only polls every `poll`.
    pub fn polling(poll: Duration) -> Watch {
        Watch {
            news: None,
            listener: None,
            poll,
        }
    }

    /// A watch woken through `news` (by the task `listener`), polling every `poll`.
    pub(crate) fn notified(news: Arc<Notify>, listener: AbortHandle, poll: Duration) -> Watch {
        Watch {
            news: Some(news),
            listener: Some(listener),
            poll,
        }
    }

    /// Completes when there may be new rows in the change log: a
    /// notification, a reconnection, or the poll interval passing.
    pub async fn changed(&self) {
        match &self.news {
            Some(news) => {
                let _ = tokio::time::timeout(self.poll, news.notified()).await;
            }
            None => tokio::time::sleep(self.poll).await,
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(l) = &self.listener {
            l.abort();
        }
    }
}
