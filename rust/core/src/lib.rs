//! Azurite's storage engine: a catalog of tenants, databases and collections; a
//! sequence-numbered write-ahead log; per-collection record segments with metadata and
//! full-text indexes; `where` filters; and approximate (HNSW) and exact vector search
//! behind an index trait.
//! Pure Rust and synchronous; the Python bindings live in their own crate.

mod batch;
mod codec;
mod config;
#[cfg(test)]
mod crash_tests;
mod database;
pub mod distance;
mod error;
#[cfg(test)]
mod failpoint;
pub mod filter;
#[cfg(test)]
mod fork_tests;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(test)]
mod import_tests;
mod index;
#[cfg(test)]
mod index_builder_tests;
mod metadata;
mod names;
mod repair;
mod schema;
mod search;
mod segment;
mod store;
#[cfg(test)]
mod test_support;
mod threads;
mod wal;

pub use batch::{Embeddings, RecordBatch, WriteKind};
pub use config::HnswConfiguration;
pub use database::{
    BackupReport, CHROMA_STORE_FILE, CollectionInfo, Database, DatabaseOptions, Durability,
    INDEX_DIR, Include, LOCK_FILE, LOG_DIR, QueryResult, Records, STORE_FILE,
};
pub use error::{Error, Result};
pub use index::IndexStats;
pub use metadata::{Metadata, MetadataUpdate, MetadataValue, SparseVector, shortest_f64};
pub use repair::{RepairReport, repair};
pub use search::{ReadLevel, SearchResult};
pub use store::{DEFAULT_DATABASE, DEFAULT_TENANT, DatabaseRecord};
