//! Opening a database: the directory is locked, the record store opened and migrated, the
//! log's unapplied writes replayed into it, and every collection's segment opened from its
//! snapshot (brought up to date from the log) or, without a usable one, loaded from the
//! record store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};

use super::directory::{
    INDEX_DIR, LOG_DIR, STORE_FILE, check_store_present, journal_file, lock_directory,
    read_journal, refuse_chroma_directory, snapshot_file, tidy_index_dir,
};
use super::imports::drop_unfinished_imports;
use super::{CollectionHandle, Database, DatabaseOptions, Durability, Storage};
use crate::batch::{Change, PutRecord, ResolvedBatch};
use crate::error::{Error, Result};
use crate::index::HnswParameters;
use crate::segment::{Segment, Snapshot};
use crate::store::{CollectionRecord, Store};
use crate::wal::Log;

/// Loads a collection from the record store, its vector index built from the records.
fn load_from_store(store: &Store, record: &CollectionRecord) -> Result<Segment> {
    let mut changes = Vec::new();
    let mut wrong_dimension = None;
    store.load_records(record.key, record.next_row, |stored| {
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
    let records = ResolvedBatch {
        collection: record.key,
        dimension: None,
        next_row: record.next_row,
        changes,
    };
    let segment = Segment::load(
        record.key,
        HnswParameters::from(&record.configuration.hnsw),
        record.dimension.map(|d| d as usize),
        records,
    );
    Ok(segment)
}

/// What the log holds beyond a snapshot: for each collection key, its writes after the
/// snapshot's, oldest first.
struct LogTail {
    /// The writes the log holds without a gap, first to last: a snapshot can be brought
    /// up to date from it when the writes after it start inside this range and its
    /// collection's last write ends inside it. `None` when the log was not read
    /// (read-only opens leave it alone).
    unbroken: Option<(u64, u64)>,
    writes: HashMap<i64, Vec<(u64, ResolvedBatch)>>,
}

/// A collection opened: its segment, the write its on-disk snapshot holds if the log is
/// to keep up with it (0 if none), and the changes the snapshot lacks.
struct Opened {
    segment: Segment,
    snapshot_seq: u64,
    changes_behind: usize,
    /// Of those, the changes after the graph journal's last frame.
    unjournaled: usize,
}

/// Opens a collection's segment from its snapshot when the snapshot is sound and the log
/// holds every later write of the collection, else from the record store (with a warning
/// when a snapshot should have been usable).
fn open_collection(
    store: &Store,
    dir: Option<&Path>,
    record: &CollectionRecord,
    snapshot: Option<std::result::Result<Snapshot, String>>,
    tail: &mut LogTail,
    last_seq: u64,
) -> Result<Opened> {
    let parameters = HnswParameters::from(&record.configuration.hnsw);
    let file = dir.map_or_else(PathBuf::new, |dir| snapshot_file(dir, &record.id));
    let from_store = |store: &Store| -> Result<Opened> {
        let segment = load_from_store(store, record)?;
        let changes_behind = segment.count() as usize;
        Ok(Opened {
            segment,
            snapshot_seq: 0,
            changes_behind,
            unjournaled: changes_behind,
        })
    };
    let unusable = |reason: String| {
        log::warn!(
            "the segment snapshot {} could not be used ({reason}); loaded collection {} from \
             the record store",
            file.display(),
            record.name
        );
        from_store(store)
    };
    let snapshot = match snapshot {
        None => {
            // A collection writes its first snapshot once it has taken `sync_threshold`
            // changes (or at close): a smaller one has none after an exit without close.
            let opened = from_store(store)?;
            if opened.segment.count() as usize > record.configuration.hnsw.sync_threshold {
                log::warn!(
                    "no segment snapshot at {}; loaded collection {} from the record store",
                    file.display(),
                    record.name
                );
            }
            return Ok(opened);
        }
        Some(Err(reason)) => return unusable(reason),
        Some(Ok(snapshot)) => snapshot,
    };
    let header = snapshot.header;
    let complete = header.seq >= record.last_write;
    // A fork's snapshot can be its source's (linked when the fork was made): it shows the
    // records the fork reads through.
    let written_for_this = header.collection == record.key
        || store.layers_below(record.key)?.contains(&header.collection);
    let mismatch = if !written_for_this
        || header.dimension != record.dimension
        || header.next_row > record.next_row
        || header.seq > last_seq
    {
        Some("it does not match the record store".to_string())
    } else if !complete && tail.unbroken.is_none() {
        // Only a read-only open, which leaves the log alone, gets here.
        return from_store(store);
    } else if !complete
        && tail
            .unbroken
            .is_some_and(|(first, last)| first > header.seq + 1 || last < record.last_write)
    {
        Some("the log no longer holds every write after it".to_string())
    } else {
        None
    };
    let opened = match mismatch {
        None => Segment::open_snapshot(&snapshot, record.key, parameters),
        Some(reason) => Err(reason),
    };
    let mut segment = match opened {
        Ok(opened) => opened,
        Err(reason) => return unusable(reason),
    };
    // The writes after the snapshot come from the log; the graph's part of those up to
    // the journal's last frame comes from the journal instead of being redone. (The
    // snapshot's graph is restored exactly as written, which the journal extends.)
    let journal = dir
        .filter(|_| tail.unbroken.is_some())
        .map(|dir| read_journal(&journal_file(dir, &record.id), header.seq))
        .unwrap_or_default();
    let journaled = journal
        .iter()
        .map(|(seq, _)| *seq)
        .take_while(|&seq| seq <= last_seq)
        .last()
        .unwrap_or(header.seq);
    let writes = tail.writes.remove(&record.key).unwrap_or_default();
    let (mut changes_behind, mut unjournaled) = (0, 0);
    let mut writes = writes
        .into_iter()
        .filter(|(seq, _)| *seq > header.seq)
        .peekable();
    while let Some((_, batch)) = writes.next_if(|(seq, _)| *seq <= journaled) {
        changes_behind += batch.changes.len();
        segment.apply_without_index(batch);
    }
    for (seq, payload) in journal.iter().filter(|(seq, _)| *seq <= journaled) {
        if let Err(reason) = segment.apply_index_journal(payload) {
            log::warn!(
                "the graph journal of collection {} could not be used at write {seq} \
                 ({reason}); loaded it from the record store",
                record.name
            );
            return from_store(store);
        }
    }
    // Rows a bulk load wrote whose graph the journal does not hold (yet) wait for the
    // index builder.
    segment.defer_unindexed_rows();
    for (_, batch) in writes {
        changes_behind += batch.changes.len();
        unjournaled += batch.changes.len();
        segment.apply(batch);
    }
    Ok(Opened {
        segment,
        snapshot_seq: header.seq,
        changes_behind,
        unjournaled,
    })
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
        let (lock, store, log, mut snapshots, tail) = match path {
            Some(dir) if options.read_only => {
                let file = dir.join(STORE_FILE);
                if !file.exists() {
                    return Err(Error::NotFound(format!(
                        "There is no Azurite database at {} to open read-only",
                        dir.display()
                    )));
                }
                let store = Store::open_read_only(&file)?;
                let snapshots = open_snapshots(dir, &store)?;
                let tail = LogTail {
                    unbroken: None,
                    writes: HashMap::new(),
                };
                (None, store, None, snapshots, tail)
            }
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                let lock = lock_directory(dir)?;
                check_store_present(dir)?;
                let mut store = Store::open(Some(&dir.join(STORE_FILE)), sync)?;
                let snapshots = open_snapshots(dir, &store)?;
                let applied_seq = store.applied_seq()?;
                // The log is read from the oldest snapshot's write on: the writes after a
                // snapshot bring its segment up to date.
                let retained_after = snapshots
                    .values()
                    .filter_map(|s| s.as_ref().ok().map(|s| s.header.seq))
                    .min()
                    .unwrap_or(applied_seq)
                    .min(applied_seq);
                let recovered = Log::open(&dir.join(LOG_DIR), applied_seq, retained_after, sync)?;
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
                // After the replay, which may hold their last writes.
                drop_unfinished_imports(&mut store)?;
                // Damage cut out of the log (with the store's consent) leaves a gap, or an
                // end before the store's last write: only what follows a gap is unbroken.
                let mut unbroken = (recovered.oldest_seq.max(retained_after + 1), retained_after);
                let mut writes: HashMap<i64, Vec<(u64, ResolvedBatch)>> = HashMap::new();
                for (seq, batch) in recovered.applied.into_iter().chain(recovered.pending) {
                    if seq != unbroken.1 + 1 {
                        unbroken.0 = seq;
                    }
                    unbroken.1 = seq;
                    writes
                        .entry(batch.collection)
                        .or_default()
                        .push((seq, batch));
                }
                let tail = LogTail {
                    unbroken: Some(unbroken),
                    writes,
                };
                (Some(lock), store, Some(recovered.log), snapshots, tail)
            }
            None => {
                let store = Store::open(None, false)?;
                let tail = LogTail {
                    unbroken: None,
                    writes: HashMap::new(),
                };
                (None, store, None, HashMap::new(), tail)
            }
        };
        let mut tail = tail;
        let last_seq = store.applied_seq()?;
        let records = store.all_collections()?;
        if let Some(dir) = path.filter(|_| !options.read_only) {
            std::fs::create_dir_all(dir.join(INDEX_DIR))
                .map_err(|e| Error::io(dir.join(INDEX_DIR), e))?;
            let ids: Vec<_> = records.iter().map(|r| r.id).collect();
            tidy_index_dir(dir, &ids);
        }
        let mut collections = HashMap::new();
        for record in records {
            let snapshot = snapshots.remove(&record.id);
            let opened = open_collection(&store, path, &record, snapshot, &mut tail, last_seq)?;
            let handle =
                CollectionHandle::new(&record, opened.segment, last_seq, opened.snapshot_seq);
            // Written again at the next snapshot or close, so that the next open finds
            // everything in the snapshot.
            if !options.read_only {
                handle
                    .changes_since_checkpoint
                    .store(opened.changes_behind, Ordering::Relaxed);
                handle
                    .changes_since_journal
                    .store(opened.unjournaled, Ordering::Relaxed);
            }
            collections.insert(record.id, Arc::new(handle));
        }
        Ok(Database {
            read_only: options.read_only,
            sync_every_commit: sync,
            path: path.map(Path::to_path_buf),
            storage: Mutex::new(Some(Storage {
                store,
                _lock: lock,
                log,
                last_seq,
                main_file_seq: 0,
            })),
            closed: AtomicBool::new(false),
            collections: RwLock::new(collections),
            builder_wakeup: Default::default(),
        })
    }
}

/// Opens and checks the snapshot of every collection the store lists (absent ones are
/// left out).
fn open_snapshots(
    dir: &Path,
    store: &Store,
) -> Result<HashMap<uuid::Uuid, std::result::Result<Snapshot, String>>> {
    let mut snapshots = HashMap::new();
    for record in store.all_collections()? {
        match Snapshot::open(&snapshot_file(dir, &record.id)) {
            Ok(None) => {}
            Ok(Some(snapshot)) => {
                snapshots.insert(record.id, Ok(snapshot));
            }
            Err(reason) => {
                snapshots.insert(record.id, Err(reason));
            }
        }
    }
    Ok(snapshots)
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
