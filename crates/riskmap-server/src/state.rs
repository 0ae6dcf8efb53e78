//! Shared application state.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use riskmap_core::{Catalog, Collection, Feature};
use riskmap_store::{ImportSummary, Store, StoreResult};
use tokio::sync::Mutex;

/// Server settings from the command line.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Bearer tokens allowed to write; empty means the server is read-only.
    pub admin_tokens: Vec<String>,
}

/// What every handler shares: the store (source of truth), the catalogue
/// (serves reads) and the settings.
#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    catalog: Arc<RwLock<Catalog>>,
    /// Serialises writes so the store and the catalogue change in the same order.
    write_lock: Arc<Mutex<()>>,
    config: Arc<ServerConfig>,
}

impl AppState {
    /// Loads every collection from the store into a fresh catalogue.
    pub async fn load(store: Arc<dyn Store>, config: ServerConfig) -> StoreResult<Self> {
        let mut catalog = Catalog::new();
        for c in Collection::ALL {
            catalog.load(c, store.all(c).await?);
        }
        Ok(Self {
            store,
            catalog: Arc::new(RwLock::new(catalog)),
            write_lock: Arc::new(Mutex::new(())),
            config: Arc::new(config),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Read access to the catalogue. Hold it briefly: writers wait for it.
    pub fn catalog(&self) -> RwLockReadGuard<'_, Catalog> {
        // A poisoned lock means a panic while updating; the data is still the
        // last consistent state we wrote, so keep serving it.
        self.catalog.read().unwrap_or_else(|e| e.into_inner())
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

    /// Writes features (one transaction) and then updates the catalogue.
    pub async fn write(
        &self,
        collection: Collection,
        features: Vec<Feature>,
    ) -> StoreResult<ImportSummary> {
        let _guard = self.write_lock.lock().await;
        let summary = self.store.import(collection, &features, None).await?;
        let mut cat = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        for f in features {
            cat.insert(f);
        }
        Ok(summary)
    }

    /// Deletes a feature from the store and then from the catalogue.
    pub async fn delete(&self, collection: Collection, id: &str) -> StoreResult<bool> {
        let _guard = self.write_lock.lock().await;
        let old = self.store.delete(collection, id).await?;
        self.catalog
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(collection, id);
        Ok(old.is_some())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
