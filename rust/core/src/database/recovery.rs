//! Opening a database: the directory is locked, the record store opened and migrated, the
//! log's unapplied writes replayed into it, and every collection loaded into memory with
//! its vector index restored from its checkpoint or rebuilt.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};

use super::directory::{
    INDEX_DIR, LOG_DIR, STORE_FILE, check_store_present, checkpoint_path, lock_directory,
    refuse_chroma_directory, remove_interrupted_checkpoints,
};
use super::{CollectionHandle, Database, DatabaseOptions, Durability, Storage};
use crate::batch::{Change, PutRecord, ResolvedBatch};
use crate::error::{Error, Result};
use crate::index::HnswParameters;
use crate::segment::{IndexOrigin, Segment};
use crate::store::{CollectionRecord, Store};
use crate::wal::Log;

/// Loads a collection into memory. Also returns how many of its rows the index checkpoint
/// lacked (all of them when it was rebuilt), so that the next checkpoint replaces it.
fn load_segment(
    store: &Store,
    record: &CollectionRecord,
    dir: Option<&Path>,
) -> Result<(Segment, usize)> {
    let mut changes = Vec::new();
    let mut wrong_dimension = None;
    store.load_records(record.key, |stored| {
        if record
            .dimension
            .is_some_and(|d| stored.embedding.len() != d as usize)
        {
            wrong_dimension.get_or_insert_with(|| stored.id.clone());
        }
        changes.push(Change::Put(PutRecord {
            row: stored.row,
            id: stored.id,
            embedding: Some(stored.embedding),
            document: stored.document,
            metadata: stored.metadata,
            uri: stored.uri,
        }));
    })?;
    if let Some(id) = wrong_dimension {
        return Err(Error::Corrupt {
            path: PathBuf::from(STORE_FILE),
            message: format!(
                "record {id:?} of collection {} has a vector of the wrong dimension",
                record.name
            ),
        });
    }
    let checkpoint_file = dir.map(|dir| checkpoint_path(dir, &record.id));
    let checkpoint = checkpoint_file
        .as_ref()
        .and_then(|path| std::fs::read(path).ok());
    let records = ResolvedBatch {
        collection: record.key,
        dimension: None,
        next_row: record.next_row,
        changes,
    };
    let (segment, origin) = Segment::load(
        record.key,
        HnswParameters::from(&record.configuration.hnsw),
        record.dimension.map(|d| d as usize),
        records,
        checkpoint.as_deref(),
    );
    let stale = match origin {
        IndexOrigin::Checkpoint { reinserted } => reinserted,
        IndexOrigin::Built { .. } => segment.count() as usize,
        IndexOrigin::Empty => 0,
    };
    match (origin, &checkpoint_file) {
        (
            IndexOrigin::Built {
                unusable_checkpoint: Some(reason),
            },
            Some(path),
        ) => log::warn!(
            "the index checkpoint {} could not be used ({reason}); rebuilt the index of \
             collection {} from its records",
            path.display(),
            record.name
        ),
        (
            IndexOrigin::Built {
                unusable_checkpoint: None,
            },
            Some(path),
        ) if segment.count() > 0 => {
            log::warn!(
                "no index checkpoint at {}; built the index of collection {} from its records",
                path.display(),
                record.name
            )
        }
        _ => {}
    }
    Ok((segment, stale))
}

/// SQLite finding its file damaged, or a stored value of a type Azurite never writes.
fn is_damage(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..)
    ) || matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

impl Database {
    /// Opens the database in `path` (created if missing), or an in-memory one for `None`.
    /// Damage that the open cannot repair by itself is reported with the file and the
    /// command that repairs it.
    pub fn open(path: Option<&Path>, options: DatabaseOptions) -> Result<Database> {
        Self::open_unchecked(path, options).map_err(|error| match (error, path) {
            (
                Error::Corrupt {
                    path: file,
                    message,
                },
                Some(dir),
            ) => Error::NeedsRepair {
                file,
                message,
                dir: dir.to_path_buf(),
            },
            // SQLite finding its file damaged while the store is read at open.
            (Error::Sqlite(e), Some(dir)) if is_damage(&e) => Error::NeedsRepair {
                file: dir.join(STORE_FILE),
                message: format!("the record store is damaged: {e}"),
                dir: dir.to_path_buf(),
            },
            (error, _) => error,
        })
    }

    fn open_unchecked(path: Option<&Path>, options: DatabaseOptions) -> Result<Database> {
        let sync = options.durability == Durability::Full;
        if let Some(dir) = path {
            refuse_chroma_directory(dir)?;
        }
        let (lock, store, log) = match path {
            Some(dir) if options.read_only => {
                let file = dir.join(STORE_FILE);
                if !file.exists() {
                    return Err(Error::NotFound(format!(
                        "There is no Azurite database at {} to open read-only",
                        dir.display()
                    )));
                }
                (None, Store::open_read_only(&file)?, None)
            }
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                let lock = lock_directory(dir)?;
                check_store_present(dir)?;
                let mut store = Store::open(Some(&dir.join(STORE_FILE)), sync)?;
                let recovered = Log::open(&dir.join(LOG_DIR), store.applied_seq()?, sync)?;
                if !recovered.pending.is_empty() {
                    log::warn!(
                        "replaying {} logged writes that were not yet in {}",
                        recovered.pending.len(),
                        dir.join(STORE_FILE).display()
                    );
                }
                for (seq, batch) in &recovered.pending {
                    // An unapplied write always follows its collection's creation, which
                    // the store commits before: if the store lacks the collection, it
                    // lost committed transactions.
                    if !store.has_collection(batch.collection)? {
                        return Err(Error::Corrupt {
                            path: dir.join(STORE_FILE),
                            message: format!(
                                "the log holds write {seq} of a collection the record store \
                                 does not have: the store lost committed data (was its -wal \
                                 file deleted or damaged?)"
                            ),
                        });
                    }
                    store.replay(*seq, batch)?;
                }
                remove_interrupted_checkpoints(dir);
                (Some(lock), store, Some(recovered.log))
            }
            None => (None, Store::open(None, false)?, None),
        };
        let last_seq = store.applied_seq()?;
        let mut collections = HashMap::new();
        if let Some(dir) = path.filter(|_| !options.read_only) {
            std::fs::create_dir_all(dir.join(INDEX_DIR))
                .map_err(|e| Error::io(dir.join(INDEX_DIR), e))?;
        }
        for record in store.all_collections()? {
            let (segment, stale) = load_segment(&store, &record, path)?;
            let handle = CollectionHandle::new(&record, segment);
            // Written again at the next checkpoint or close, so that the next open
            // restores it instead of rebuilding or catching up again.
            if !options.read_only {
                handle
                    .changes_since_checkpoint
                    .store(stale, Ordering::Relaxed);
            }
            collections.insert(record.id, Arc::new(handle));
        }
        Ok(Database {
            read_only: options.read_only,
            path: path.map(Path::to_path_buf),
            storage: Mutex::new(Some(Storage {
                store,
                _lock: lock,
                log,
                last_seq,
            })),
            closed: AtomicBool::new(false),
            collections: RwLock::new(collections),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Embeddings, RecordBatch, WriteKind};
    use crate::database::Include;
    use crate::metadata::MetadataValue;

    #[test]
    fn a_batch_logged_but_never_applied_is_replayed_at_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(Some(dir.path()), DatabaseOptions::default()).unwrap();
        let collection = db
            .create_collection(
                crate::store::DEFAULT_TENANT,
                crate::store::DEFAULT_DATABASE,
                "crash",
                None,
                None,
                None,
                false,
            )
            .unwrap()
            .id;
        let batch = RecordBatch {
            ids: vec!["a".into(), "b".into()],
            embeddings: Some(Embeddings::new(vec![1.0, 2.0, 3.0, 4.0], 2).unwrap()),
            metadatas: Some(vec![
                Some([("k".to_string(), Some(MetadataValue::Int(7)))].into()),
                None,
            ]),
            ..RecordBatch::default()
        };
        // What `write` does, stopped right after the log append, as a crash would stop it.
        let handle = db.handle(&collection).unwrap();
        let resolved = handle
            .segment
            .read()
            .resolve(WriteKind::Add, &batch)
            .unwrap();
        db.storage()
            .unwrap()
            .log
            .as_mut()
            .unwrap()
            .append(&resolved)
            .unwrap();
        assert_eq!(db.count(&collection.to_string()).unwrap(), 0);
        db.close();

        let reopened = Database::open(Some(dir.path()), DatabaseOptions::default()).unwrap();
        let records = reopened
            .get(
                &collection.to_string(),
                None,
                None,
                None,
                0,
                Include {
                    embeddings: true,
                    metadatas: true,
                    ..Include::default()
                },
            )
            .unwrap();
        assert_eq!(records.ids, ["a", "b"]);
        assert_eq!(records.embeddings.unwrap(), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            records.metadatas.unwrap()[0].as_ref().unwrap()["k"],
            MetadataValue::Int(7)
        );
        // Replaying is idempotent: a second reopen finds the same state.
        reopened.close();
        let again = Database::open(Some(dir.path()), DatabaseOptions::default()).unwrap();
        assert_eq!(again.count(&collection.to_string()).unwrap(), 2);
    }
}
