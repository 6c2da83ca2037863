//! The database handle: one per directory (or one in memory). Writes go validate → resolve
//! against memory → log → record store → publish to memory; reads are served from memory
//! under a shared lock and never touch SQLite.
//!
//! The handle and its public types live here; its calls are grouped by job in the
//! submodules: `recovery` (open), `catalog` (tenants, databases, collections), `records`
//! (record writes and reads), and `directory` (the files of a database directory).

mod backup;
mod catalog;
mod directory;
mod imports;
mod index_builder;
mod records;
mod recovery;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};
use serde_json::Value;
use uuid::Uuid;

use crate::batch::ResolvedBatch;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::metadata::Metadata;
use crate::schema::CollectionSchema;
use crate::segment::Segment;
use crate::store::{CollectionRecord, Store};
use crate::wal::Log;
pub use backup::BackupReport;
pub use directory::{CHROMA_STORE_FILE, INDEX_DIR, LOCK_FILE, LOG_DIR, STORE_FILE};
use directory::{append_journal_frame, journal_file, snapshot_file};
pub(crate) use directory::{lock_directory, refuse_chroma_directory};

/// How far a write is carried before the call returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// Written to the operating system: survives the process crashing, not power loss.
    #[default]
    Process,
    /// Synced to the disk on every commit: survives power loss, at a cost per write.
    Full,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DatabaseOptions {
    pub durability: Durability,
    /// Open an existing directory for reading, beside a writer in another process: no
    /// lock is taken, the state is the one committed when the database is opened, and
    /// every write is refused.
    pub read_only: bool,
}

/// A collection as the catalog describes it.
#[derive(Debug, Clone)]
pub struct CollectionInfo {
    pub id: Uuid,
    pub name: String,
    pub tenant: String,
    pub database: String,
    pub metadata: Option<Metadata>,
    pub configuration: Value,
    pub schema: Value,
    pub dimension: Option<u32>,
}

impl From<&CollectionRecord> for CollectionInfo {
    fn from(record: &CollectionRecord) -> Self {
        CollectionInfo {
            id: record.id,
            name: record.name.clone(),
            tenant: record.tenant.clone(),
            database: record.database.clone(),
            metadata: record.metadata.clone(),
            configuration: record.configuration.to_public_json(),
            schema: record.schema.clone(),
            dimension: record.dimension,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Include {
    pub embeddings: bool,
    pub documents: bool,
    pub metadatas: bool,
    pub uris: bool,
}

/// Records in the order a read returns them, with the fields that were asked for.
#[derive(Debug)]
pub struct Records {
    pub ids: Vec<String>,
    /// Row-major, `ids.len() * dimension` values.
    pub embeddings: Option<Vec<f32>>,
    pub dimension: usize,
    pub documents: Option<Vec<Option<String>>>,
    pub metadatas: Option<Vec<Option<Metadata>>>,
    pub uris: Option<Vec<Option<String>>>,
}

#[derive(Debug)]
pub struct QueryResult {
    pub records: Records,
    pub distances: Vec<f32>,
}

/// Closed log segments that may pile up behind a snapshot before it is written anew, so
/// that a collection written rarely does not keep the log of busier ones growing.
const SEGMENTS_KEPT_FOR_SNAPSHOTS: usize = 2;

struct CollectionHandle {
    /// The collection's key in the record store.
    key: i64,
    /// Record changes applied since the segment snapshot was last written.
    changes_since_checkpoint: AtomicUsize,
    /// Record changes applied since the graph journal's last frame (or the snapshot).
    changes_since_journal: AtomicUsize,
    /// How many changes the collection's `sync_threshold` lets pass between snapshots.
    sync_threshold: usize,
    /// The last write published to the segment (a sequence number of the log).
    applied_seq: AtomicU64,
    /// The write the snapshot on disk holds, if the next open is to use it: the log keeps
    /// every later write until the snapshot is written anew. 0: no such snapshot.
    snapshot_seq: AtomicU64,
    /// Serialises writers of this collection so that a batch is resolved against the state
    /// it will be applied to; readers only wait for the short publish step.
    writer: Mutex<()>,
    segment: RwLock<Segment>,
    /// Changed only under `writer`, as the store's copy is.
    schema: RwLock<CollectionSchema>,
    /// A collection that an import is filling: only the record calls reach it, until it
    /// is published (`imports`).
    staged: AtomicBool,
}

struct Storage {
    store: Store,
    /// Held while the database is open: the OS lock on it keeps other writers out.
    _lock: Option<std::fs::File>,
    /// `None` for an in-memory database, which needs no recovery.
    log: Option<Log>,
    last_seq: u64,
    /// Every write up to this one is in SQLite's main file (not only in its -wal file).
    main_file_seq: u64,
}

/// A collection id as the record calls (and `modify_collection`) take it, checked with
/// the message of Chroma's server.
fn record_collection_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| Error::invalid("Collection ID is not a valid UUIDv4"))
}

impl CollectionHandle {
    fn new(
        record: &CollectionRecord,
        segment: Segment,
        applied_seq: u64,
        snapshot_seq: u64,
    ) -> Self {
        CollectionHandle {
            key: record.key,
            changes_since_checkpoint: AtomicUsize::new(0),
            changes_since_journal: AtomicUsize::new(0),
            sync_threshold: record.configuration.hnsw.sync_threshold,
            applied_seq: AtomicU64::new(applied_seq),
            snapshot_seq: AtomicU64::new(snapshot_seq),
            writer: Mutex::new(()),
            segment: RwLock::new(segment),
            schema: RwLock::new(CollectionSchema::new(record.schema.clone())),
            staged: AtomicBool::new(false),
        }
    }

    /// The oldest write the log must keep for this collection's snapshot, if it needs any.
    fn needs_log_after(&self) -> Option<u64> {
        let snapshot = self.snapshot_seq.load(Ordering::Acquire);
        (snapshot > 0 && self.changes_since_checkpoint.load(Ordering::Acquire) > 0)
            .then_some(snapshot)
    }

    /// Refuses a filter that needs an index the collection's schema disables.
    fn check_filter(&self, filter: Option<&Filter>) -> Result<()> {
        filter.map_or(Ok(()), |filter| self.schema.read().check_filter(filter))
    }
}

impl Storage {
    /// Makes a resolved batch durable: logged first, then applied to the record store. If
    /// the store refuses it, the log entry is withdrawn so the failed write never reappears.
    /// Returns the write's sequence number.
    fn commit(&mut self, batch: &ResolvedBatch, schema: Option<&Value>) -> Result<u64> {
        let seq = self.last_seq + 1;
        match &mut self.log {
            Some(log) => {
                let log_len = log.active_len();
                let seq = log.append(batch)?;
                #[cfg(test)]
                crate::failpoint::crash_point("logged, not applied");
                if let Err(e) = self.store.apply(seq, batch, schema) {
                    log.withdraw_last(seq, log_len);
                    return Err(e);
                }
                if log.is_full() {
                    // Segments are dropped only once SQLite's main file holds their
                    // entries, so that even the loss of its -wal file loses no write.
                    if self.store.checkpoint()? {
                        self.main_file_seq = seq;
                    }
                    log.rotate()?;
                }
            }
            None => self.store.apply(seq, batch, schema)?,
        }
        self.last_seq = seq;
        Ok(seq)
    }
}

pub struct Database {
    read_only: bool,
    /// `durability="full"`: journal frames are synced like log appends.
    sync_every_commit: bool,
    path: Option<PathBuf>,
    /// `None` once the database is closed.
    storage: Mutex<Option<Storage>>,
    /// Set by `close`; read without the storage lock so that readers never queue behind
    /// a writer's commit.
    closed: AtomicBool,
    collections: RwLock<HashMap<Uuid, Arc<CollectionHandle>>>,
    /// Wakes the index builder thread (`index_builder`), if one was started.
    builder_wakeup: Arc<index_builder::Wakeup>,
}

impl Database {
    /// Writes the segment snapshots that lag behind, then releases the files and the
    /// directory lock. Later calls fail with a clear error.
    pub fn close(&self) {
        for (id, handle) in self.open_handles() {
            let _writer = handle.writer.lock();
            if handle.changes_since_checkpoint.load(Ordering::Relaxed) > 0 {
                self.write_snapshot(&id, &handle);
            }
        }
        let mut storage = self.storage.lock();
        self.closed.store(true, Ordering::Release);
        self.collections.write().clear();
        *storage = None;
    }

    /// The record store's `synchronous` setting (tests of the durability modes).
    #[cfg(test)]
    pub fn store_synchronous(&self) -> i64 {
        self.storage().expect("open").store.synchronous()
    }

    /// The open collections, taken out of the map so that a snapshot written for each
    /// does not hold the map's lock.
    fn open_handles(&self) -> Vec<(Uuid, Arc<CollectionHandle>)> {
        self.collections
            .read()
            .iter()
            .map(|(id, handle)| (*id, Arc::clone(handle)))
            .collect()
    }

    /// The ids of the open collections.
    pub fn collection_ids(&self) -> Vec<Uuid> {
        self.collections.read().keys().copied().collect()
    }

    /// How many collections and records the database holds.
    pub fn totals(&self) -> (usize, u64) {
        let collections = self.collections.read();
        let records = collections.values().map(|h| h.segment.read().count()).sum();
        (collections.len(), records)
    }

    /// Writes every collection's segment snapshot now (used by repair).
    pub fn write_all_snapshots(&self) {
        for (id, handle) in self.open_handles() {
            let _writer = handle.writer.lock();
            self.write_snapshot(&id, &handle);
        }
    }

    fn closed_error(&self) -> Error {
        Error::Internal(match &self.path {
            Some(path) => format!("The database at {} has been closed", path.display()),
            None => "The in-memory database has been closed".to_string(),
        })
    }

    /// Refuses a write to a database opened read-only.
    fn check_writable(&self) -> Result<()> {
        if self.read_only {
            let place = self
                .path
                .as_deref()
                .map_or("".into(), |p| p.display().to_string());
            return Err(Error::PermissionDenied(format!(
                "The database at {place} is open read-only: write from the process that \
                 opened it for writing"
            )));
        }
        Ok(())
    }

    /// The storage of an open database, locked for the caller.
    fn storage(&self) -> Result<parking_lot::MappedMutexGuard<'_, Storage>> {
        parking_lot::MutexGuard::try_map(self.storage.lock(), Option::as_mut)
            .map_err(|_| self.closed_error())
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn missing_collection(name: impl std::fmt::Display) -> Error {
        Error::NotFound(format!("Collection [{name}] does not exist"))
    }

    fn handle(&self, collection: &Uuid) -> Result<Arc<CollectionHandle>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(self.closed_error());
        }
        self.collections
            .read()
            .get(collection)
            .cloned()
            // The record calls name their collection by id, and Chroma ends the message
            // with a period there (its lookups of a collection itself have none).
            .ok_or_else(|| Error::NotFound(format!("Collection [{collection}] does not exist.")))
    }

    /// Runs `work` under the writer lock of the collection that `id` names once the lock is
    /// granted: a publish that gave the id to another collection, or a drop, while this
    /// call waited sends it on to the collection holding the id now (or reports it
    /// missing), so that no write is acknowledged by a collection nothing reads any more.
    fn with_writer<T>(
        &self,
        id: &Uuid,
        work: impl FnOnce(&Arc<CollectionHandle>) -> Result<T>,
    ) -> Result<T> {
        loop {
            let handle = self.handle(id)?;
            let _writer = handle.writer.lock();
            if self.holds_id(id, &handle) {
                return work(&handle);
            }
        }
    }

    /// Whether `handle` is the collection that `id` names now. One replaced by a publish,
    /// or dropped, writes no snapshot or journal any more: the file of that name belongs
    /// to the collection that took the id, or to none.
    fn holds_id(&self, id: &Uuid, handle: &CollectionHandle) -> bool {
        self.collections
            .read()
            .get(id)
            .is_some_and(|current| std::ptr::eq(Arc::as_ptr(current), handle))
    }

    /// The write sequence every record write ends with: `batch` is made durable (log, then
    /// record store), published to memory, and the collection's segment snapshot written
    /// if enough changes have gathered. The caller holds the collection's writer lock and
    /// resolved `batch` against the segment's current state.
    fn commit_and_publish(
        &self,
        collection: &Uuid,
        handle: &CollectionHandle,
        batch: ResolvedBatch,
    ) -> Result<()> {
        let discovered = handle.schema.read().discover(&batch);
        let (seq, log_segments_closed) = {
            let mut storage = self.storage()?;
            let seq = storage.commit(&batch, discovered.as_ref().map(CollectionSchema::json))?;
            let closed = storage
                .log
                .as_ref()
                .map_or(0, |log| log.closed_segments().count());
            (seq, closed)
        };
        if let Some(schema) = discovered {
            *handle.schema.write() = schema;
        }
        let changes = batch.changes.len();
        {
            let mut segment = handle.segment.write();
            if handle.staged.load(Ordering::Acquire) {
                segment.apply_deferring_index(batch);
            } else {
                segment.apply(batch);
            }
        }
        handle.applied_seq.store(seq, Ordering::Release);
        self.checkpoint_if_due(collection, handle, changes);
        if log_segments_closed > 0 {
            self.release_log(collection, handle, log_segments_closed);
        }
        Ok(())
    }

    /// Deletes the closed log segments that nothing needs any more: SQLite's main file holds
    /// them and every snapshot that is behind was written after them. When segments pile
    /// up behind snapshots, those snapshots are written anew first (the caller's own, whose
    /// writer lock it holds, and any other whose writer is not busy).
    fn release_log(&self, writing: &Uuid, writing_handle: &CollectionHandle, closed: usize) {
        let handles = self.open_handles();
        if closed > SEGMENTS_KEPT_FOR_SNAPSHOTS {
            for (id, handle) in &handles {
                if handle.needs_log_after().is_none() {
                    continue;
                }
                if id == writing {
                    self.write_snapshot(id, writing_handle);
                } else if let Some(_writer) = handle.writer.try_lock() {
                    self.write_snapshot(id, handle);
                }
            }
        }
        let needed_after = handles
            .iter()
            .filter_map(|(_, handle)| handle.needs_log_after())
            .min()
            .unwrap_or(u64::MAX);
        let Ok(mut storage) = self.storage() else {
            return;
        };
        let covered = storage.main_file_seq.min(needed_after);
        if let Some(log) = storage.log.as_mut()
            && let Err(e) = log.release(covered)
        {
            log::error!("could not delete a log segment: {e}");
        }
    }

    /// Counts `changes` just published and persists the index when enough have gathered:
    /// the whole segment snapshot after at least `sync_threshold` changes and a quarter of
    /// the collection (so that a large collection is not written out for every small
    /// batch), and in between a graph journal frame every `sync_threshold` changes, so
    /// that the index on disk never lags further behind.
    fn checkpoint_if_due(&self, collection: &Uuid, handle: &CollectionHandle, changes: usize) {
        if self.path.is_none() {
            return;
        }
        let pending = handle
            .changes_since_checkpoint
            .fetch_add(changes, Ordering::AcqRel)
            + changes;
        let unjournaled = handle
            .changes_since_journal
            .fetch_add(changes, Ordering::AcqRel)
            + changes;
        // A staged import is invisible and dropped if it is never published: its records
        // are durable in the store, and the snapshot waits for the publish.
        if handle.staged.load(Ordering::Acquire) {
            return;
        }
        let live = handle.segment.read().count() as usize;
        if pending >= handle.sync_threshold.max(live / 4) {
            self.write_snapshot(collection, handle);
        } else if unjournaled >= handle.sync_threshold {
            self.write_journal_frame(collection, handle);
        }
    }

    /// Appends the graph's changes since the last frame to the collection's journal; a
    /// graph rebuilt since, or one without a snapshot to extend, gets a snapshot instead.
    /// The caller holds the collection's writer lock.
    fn write_journal_frame(&self, collection: &Uuid, handle: &CollectionHandle) {
        let Some(dir) = &self.path else { return };
        if !self.holds_id(collection, handle) {
            return;
        }
        let snapshot_seq = handle.snapshot_seq.load(Ordering::Acquire);
        if snapshot_seq == 0 {
            return self.write_snapshot(collection, handle);
        }
        let Some(frame) = handle.segment.write().index_journal_frame() else {
            return;
        };
        let Some(payload) = frame else {
            return self.write_snapshot(collection, handle);
        };
        let path = journal_file(dir, collection);
        let seq = handle.applied_seq.load(Ordering::Acquire);
        match append_journal_frame(&path, snapshot_seq, seq, &payload, self.sync_every_commit) {
            Ok(()) => handle.changes_since_journal.store(0, Ordering::Release),
            // The frame's changes are forgotten by the graph: only a snapshot records
            // them now.
            Err(e) => {
                log::error!(
                    "could not append to the graph journal {}: {e}",
                    path.display()
                );
                self.write_snapshot(collection, handle);
            }
        }
    }

    /// Writes a collection's segment snapshot. The caller holds the collection's writer
    /// lock, so the segment holds exactly the writes up to its `applied_seq`. A failure is
    /// logged, not returned: the snapshot is a copy of what the store and the log hold,
    /// and the write it follows is already durable.
    fn write_snapshot(&self, collection: &Uuid, handle: &CollectionHandle) {
        let Some(dir) = &self.path else { return };
        if !self.holds_id(collection, handle) {
            return;
        }
        let path = snapshot_file(dir, collection);
        let seq = handle.applied_seq.load(Ordering::Acquire);
        let written = handle.segment.read().write_snapshot(&path, seq);
        match written {
            Ok(written) => {
                // The journal extends the snapshot it follows: the new one needs none.
                handle.segment.write().index_persisted();
                let journal = journal_file(dir, collection);
                if let Err(e) = std::fs::remove_file(&journal)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    log::error!("could not remove {}: {e}", journal.display());
                }
                handle.changes_since_journal.store(0, Ordering::Release);
                handle.changes_since_checkpoint.store(0, Ordering::Release);
                handle
                    .snapshot_seq
                    .store(if written { seq } else { 0 }, Ordering::Release);
            }
            Err(e) => log::error!(
                "could not write the segment snapshot {}: {e}",
                path.display()
            ),
        }
    }

    fn remove_snapshot(&self, collection: &Uuid) {
        if let Some(dir) = &self.path {
            for path in [
                snapshot_file(dir, collection),
                journal_file(dir, collection),
            ] {
                if let Err(e) = std::fs::remove_file(&path)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    log::error!("could not remove {}: {e}", path.display());
                }
            }
        }
    }
}
