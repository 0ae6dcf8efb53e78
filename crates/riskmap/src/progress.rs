//! Progress of long commands (`import`, `score`, `tiles export`, `bench`):
//! a bar on a terminal (indicatif), plain lines on stderr otherwise (a log
//! file or CI), at most one every two seconds plus the last.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Plain progress lines are at least this far apart.
const LINE_EVERY: Duration = Duration::from_secs(2);

/// One long step with a count (`total` > 0) or a fraction (`total` = 0).
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    last_line: Mutex<Option<(Instant, String)>>,
}

impl Progress {
    /// A step of `total` items; 0: a step measured in percent.
    pub(crate) fn new(label: &str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (len, template) = if total > 0 {
                (
                    total,
                    "{prefix} [{bar:40}] {pos}/{len} {msg} ({elapsed}, ETA {eta})",
                )
            } else {
                (100, "{prefix} [{bar:40}] {pos} % {msg} ({elapsed})")
            };
            let bar = ProgressBar::new(len).with_prefix(label.to_string());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            label: label.to_string(),
            total,
            last_line: Mutex::new(None),
        }
    }

    /// `done` items of `total`, or a fraction `done` / 100 when counted in
    /// percent; `msg` names what is being done.
    pub(crate) fn set(&self, done: u64, msg: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            if !msg.is_empty() {
                bar.set_message(msg.to_string());
            }
            return;
        }
        let text = if self.total > 0 {
            format!("{}: {done}/{} {msg}", self.label, self.total)
        } else {
            format!("{}: {done} % {msg}", self.label)
        };
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        let due = match &*last {
            None => true,
            Some((at, prev)) => {
                (at.elapsed() >= LINE_EVERY && *prev != text)
                    || (self.total > 0 && done >= self.total)
            }
        };
        if due {
            eprintln!("{text}");
            *last = Some((Instant::now(), text));
        }
    }

    /// The step is done.
    pub(crate) fn finish(&self, msg: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(msg.to_string());
        } else {
            eprintln!("{}: done {msg}", self.label);
        }
    }
}

/// Opens the application on `store` and builds its world, showing the
/// steps of the build (`riskmap score`, `site-check`, `tiles export`).
pub(crate) async fn open_app(
    store: std::sync::Arc<dyn riskmap_store::Store>,
    today: Option<String>,
) -> anyhow::Result<riskmap_app::App> {
    let app = riskmap_app::App::new(store, riskmap_app::Limits::default());
    let bar = Progress::new("building the world", 0);
    let watch = {
        let app = app.clone();
        tokio::spawn(async move {
            loop {
                if let riskmap_app::Readiness::Loading { step, done } = app.readiness() {
                    bar.set((done * 100.0).round() as u64, &step);
                } else {
                    bar.finish("");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let loaded = app.load(today).await;
    let _ = watch.await;
    loaded?;
    Ok(app)
}
