//! What every handler shares: the application layer and the settings.

use std::sync::Arc;

use riskmap_app::{App, AppResult, Work, World};

/// Server settings from the command line.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Bearer tokens allowed to write; empty means the server is read-only.
    pub admin_tokens: Vec<String>,
}

/// The application (store, published world, change path) and the settings.
/// Handlers extract, call the application and map its answer.
#[derive(Clone)]
pub struct AppState {
    app: App,
    config: Arc<ServerConfig>,
}

impl AppState {
    /// A state over `app`.
    pub fn new(app: App, config: ServerConfig) -> Self {
        Self {
            app,
            config: Arc::new(config),
        }
    }

    /// The application layer.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The published world (one snapshot for the whole request).
    pub fn world(&self) -> AppResult<Arc<World>> {
        self.app.world()
    }

    /// Runs `f` on one snapshot off the async workers, within the bound for `work`.
    pub async fn read<R: Send + 'static>(
        &self,
        work: Work,
        f: impl FnOnce(&World) -> R + Send + 'static,
    ) -> AppResult<R> {
        self.app.read(work, f).await
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Whether `token` may write.
    pub fn token_allowed(&self, token: &str) -> bool {
        self.config
            .admin_tokens
            .iter()
            .any(|t| constant_time_eq(t.as_bytes(), token.as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
