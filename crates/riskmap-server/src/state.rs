//! What every handler shares: the application layer and the settings.

use std::sync::Arc;

use riskmap_app::{App, AppResult, Work, World};

/// Server settings from the command line.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Bearer tokens of the built-in `admin` account; empty: only
    /// accounts may write.
    pub admin_tokens: Vec<String>,
    /// What anonymous readers see.
    pub public_read: PublicRead,
}

/// What anonymous readers (no bearer token) see (`--public-read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublicRead {
    /// Everything readers with an account see.
    #[default]
    Full,
    /// No inventories, registration records or contact details
    /// ([`riskmap_core::access::PRIVATE_PROPERTIES`]); no dossiers or site
    /// reports.
    Limited,
}

/// The application (store, published world, change path) and the settings.
/// Handlers extract, call the application and map its answer.
#[derive(Clone)]
pub struct AppState {
    app: App,
    config: Arc<ServerConfig>,
    incidents: tokio::sync::broadcast::Sender<IncidentEvent>,
    roads: Option<Arc<riskmap_safety::routing::Roads>>,
    glyphs: Arc<crate::basemap::Glyphs>,
    basemap_raster: Option<Arc<crate::basemap::RasterBasemap>>,
    cors: Arc<crate::cors::Cors>,
    metrics: crate::metrics::Metrics,
}

/// A change of a stored incident pushed to open maps (Server-Sent Events):
/// its id and the new answer (zones and who is inside) as JSON text.
#[derive(Debug, Clone)]
pub struct IncidentEvent {
    /// The incident.
    pub id: String,
    /// Its revision after the change.
    pub revision: u64,
    /// `zones` (a new answer) or `closed`.
    pub kind: &'static str,
    /// The JSON.
    pub data: Arc<str>,
}

impl AppState {
    /// A state over `app`.
    pub fn new(app: App, config: ServerConfig) -> Self {
        Self {
            app,
            config: Arc::new(config),
            incidents: tokio::sync::broadcast::channel(64).0,
            roads: None,
            glyphs: Arc::new(crate::basemap::Glyphs::none()),
            basemap_raster: None,
            cors: Arc::new(crate::cors::Cors::default()),
            metrics: crate::metrics::Metrics::new(),
        }
    }

    /// The same state drawing label glyphs from `glyphs` (`--glyph-font`).
    pub fn with_glyphs(mut self, glyphs: crate::basemap::Glyphs) -> Self {
        self.glyphs = Arc::new(glyphs);
        self
    }

    /// The same state with an external raster basemap (`--basemap-raster`).
    pub fn with_basemap_raster(mut self, raster: crate::basemap::RasterBasemap) -> Self {
        self.basemap_raster = Some(Arc::new(raster));
        self
    }

    /// The label glyphs (possibly without a font).
    pub fn glyphs(&self) -> &crate::basemap::Glyphs {
        &self.glyphs
    }

    /// The external raster basemap, when configured.
    pub fn basemap_raster(&self) -> Option<&crate::basemap::RasterBasemap> {
        self.basemap_raster.as_deref()
    }

    /// The same state with these CORS settings (default: same-origin only).
    pub fn with_cors(mut self, cors: crate::cors::Cors) -> Self {
        self.cors = Arc::new(cors);
        self
    }

    /// The CORS settings.
    pub fn cors(&self) -> &crate::cors::Cors {
        &self.cors
    }

    /// The request metrics of `/metrics`.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The same state measuring help by road over `roads` (`--roads`).
    pub fn with_roads(mut self, roads: Arc<riskmap_safety::routing::Roads>) -> Self {
        self.roads = Some(roads);
        self
    }

    /// The road network, when one is loaded.
    pub fn roads(&self) -> Option<Arc<riskmap_safety::routing::Roads>> {
        self.roads.clone()
    }

    /// The channel of incident changes (one per process).
    pub fn incident_events(&self) -> &tokio::sync::broadcast::Sender<IncidentEvent> {
        &self.incidents
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

    /// Whether a reader (`None`: anonymous) gets the limited view.
    pub fn limited(&self, account: Option<&riskmap_core::access::Account>) -> bool {
        account.is_none() && self.config.public_read == PublicRead::Limited
    }

    /// Whether `token` is an `--admin-token`.
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
