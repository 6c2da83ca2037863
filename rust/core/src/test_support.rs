//! What the engine's own tests share: opening a directory, a collection that writes its
//! segment snapshot every few writes, and batches of vectors.

use std::ops::Range;
use std::path::Path;

use crate::batch::{Embeddings, RecordBatch};
use crate::database::{Database, DatabaseOptions};
use crate::store::{DEFAULT_DATABASE, DEFAULT_TENANT};

pub fn open(dir: &Path) -> Database {
    Database::open(Some(dir), DatabaseOptions::default()).unwrap()
}

/// A collection of the default database that writes its segment snapshot (and graph
/// journal frames) every `sync_threshold` changes, so that tests meet them often.
pub fn snapshotting_collection(db: &Database, name: &str, sync_threshold: usize) -> String {
    let configuration = serde_json::json!({"hnsw": {"sync_threshold": sync_threshold}});
    db.create_collection(
        DEFAULT_TENANT,
        DEFAULT_DATABASE,
        name,
        Some(&configuration),
        None,
        None,
        false,
    )
    .unwrap()
    .id
    .to_string()
}

/// Records `id<i>` for `ids`, each with `vector(i)`.
pub fn vector_batch(
    ids: Range<usize>,
    dimension: usize,
    vector: impl Fn(usize) -> Vec<f32>,
) -> RecordBatch {
    let data = ids.clone().flat_map(vector).collect();
    RecordBatch {
        ids: ids.map(|i| format!("id{i}")).collect(),
        embeddings: Some(Embeddings::new(data, dimension).unwrap()),
        ..RecordBatch::default()
    }
}
