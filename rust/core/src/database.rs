//! The database handle: one per directory (or one in memory). Writes go validate → resolve
//! against memory → log → record store → publish to memory; reads are served from memory
//! under a shared lock and never touch SQLite.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};
use rayon::prelude::*;
use roaring::RoaringBitmap;
use serde_json::Value;
use uuid::Uuid;

use crate::batch::{Change, Embeddings, PutRecord, RecordBatch, ResolvedBatch, WriteKind};
use crate::config::CollectionConfiguration;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::index::{HnswParameters, IndexStats};
use crate::metadata::{Metadata, check_key};
use crate::names::{check_collection_name, check_database_name, check_tenant_name};
use crate::segment::{IndexOrigin, Segment};
use crate::store::{CollectionRecord, DatabaseRecord, Store};
use crate::wal::Log;

pub const STORE_FILE: &str = "azurite.sqlite3";
pub const LOG_DIR: &str = "wal";
pub const LOCK_FILE: &str = "azurite.lock";
/// Checkpoints of the collections' vector indexes: `<collection id>.hnsw`.
pub const INDEX_DIR: &str = "index";
const CHECKPOINT_EXTENSION: &str = "hnsw";

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

struct CollectionHandle {
    /// The collection's key in the record store.
    key: i64,
    /// Record changes applied since the index checkpoint was last written.
    changes_since_checkpoint: AtomicUsize,
    /// How many changes the collection's `sync_threshold` lets pass between checkpoints.
    sync_threshold: usize,
    /// Serialises writers of this collection so that a batch is resolved against the state
    /// it will be applied to; readers only wait for the short publish step.
    writer: Mutex<()>,
    segment: RwLock<Segment>,
}

struct Storage {
    store: Store,
    /// Held while the database is open: the OS lock on it keeps other writers out.
    _lock: Option<File>,
    /// `None` for an in-memory database, which needs no recovery.
    log: Option<Log>,
    last_seq: u64,
}

impl CollectionHandle {
    fn new(configuration: &CollectionConfiguration, key: i64, segment: Segment) -> Self {
        CollectionHandle {
            key,
            changes_since_checkpoint: AtomicUsize::new(0),
            sync_threshold: configuration.hnsw.sync_threshold,
            writer: Mutex::new(()),
            segment: RwLock::new(segment),
        }
    }
}

impl Storage {
    /// Makes a resolved batch durable: logged first, then applied to the record store. If
    /// the store refuses it, the log entry is withdrawn so the failed write never reappears.
    fn commit(&mut self, batch: &ResolvedBatch) -> Result<()> {
        let seq = self.last_seq + 1;
        match &mut self.log {
            Some(log) => {
                let log_len = log.active_len();
                let seq = log.append(batch)?;
                #[cfg(test)]
                crate::failpoint::crash_point("logged, not applied");
                if let Err(e) = self.store.apply(seq, batch) {
                    log.withdraw_last(seq, log_len);
                    return Err(e);
                }
                if log.is_full() {
                    // Segments are dropped only once SQLite's main file holds their
                    // entries, so that even the loss of its -wal file loses no write.
                    let in_main_file = self.store.checkpoint()?;
                    log.rotate(in_main_file)?;
                }
            }
            None => self.store.apply(seq, batch)?,
        }
        self.last_seq = seq;
        Ok(())
    }
}

pub struct Database {
    read_only: bool,
    path: Option<PathBuf>,
    /// `None` once the database is closed.
    storage: Mutex<Option<Storage>>,
    /// Set by `close`; read without the storage lock so that readers never queue behind
    /// a writer's commit.
    closed: AtomicBool,
    collections: RwLock<HashMap<Uuid, Arc<CollectionHandle>>>,
}

pub(crate) fn lock_directory(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    if file.try_lock().is_err() {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        let holder = if holder.is_empty() { "unknown" } else { holder };
        return Err(Error::Locked(format!(
            "The database at {} is already open for writing in another process (pid {holder}). \
             Close it there first, or open it read-only (Settings(azurite_read_only=True)).",
            dir.display()
        )));
    }
    let pid = std::process::id().to_string();
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(pid.as_bytes()))
        .map_err(|e| Error::io(&path, e))?;
    Ok(file)
}

fn checkpoint_path(dir: &Path, collection: &Uuid) -> PathBuf {
    dir.join(INDEX_DIR)
        .join(format!("{collection}.{CHECKPOINT_EXTENSION}"))
}

/// Writes a file so that it is either wholly the old or wholly the new content after a
/// crash: temporary name, sync, rename, sync of the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary)?;
    #[cfg(test)]
    if crate::failpoint::fire("checkpoint half written") {
        file.write_all(&bytes[..bytes.len() / 2])?;
        panic!("failpoint checkpoint half written: simulated crash");
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    #[cfg(test)]
    crate::failpoint::crash_point("checkpoint written, not renamed");
    std::fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

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

/// Removes the temporary files of checkpoint writes that a crash interrupted: the
/// checkpoint they were to replace is still in place.
fn remove_interrupted_checkpoints(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir.join(INDEX_DIR)) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().and_then(|x| x.to_str()) == Some("tmp") {
            log::info!(
                "removing {}, left by an interrupted checkpoint write",
                path.display()
            );
            if let Err(e) = std::fs::remove_file(&path) {
                log::warn!("could not remove {}: {e}", path.display());
            }
        }
    }
}

/// A directory with a log or index checkpoints but no record store lost its store: opening
/// it would start an empty database beside them and silently drop every record.
fn check_store_present(dir: &Path) -> Result<()> {
    let store = dir.join(STORE_FILE);
    if store.exists() {
        return Ok(());
    }
    let has_files = |sub: &str, extension: &str| {
        std::fs::read_dir(dir.join(sub)).is_ok_and(|entries| {
            entries.filter_map(|e| e.ok()).any(|e| {
                e.path().extension().and_then(|x| x.to_str()) == Some(extension)
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            })
        })
    };
    if has_files(LOG_DIR, "log") || has_files(INDEX_DIR, CHECKPOINT_EXTENSION) {
        return Err(Error::Corrupt {
            path: store,
            message: "the record store is missing, but the directory holds the write-ahead \
                      log or index checkpoints of a database"
                .to_string(),
        });
    }
    Ok(())
}

fn check_collection_metadata(metadata: Option<&Metadata>, field: &str) -> Result<()> {
    let Some(metadata) = metadata else {
        return Ok(());
    };
    if metadata.is_empty() {
        return Err(Error::invalid(format!(
            "Validation error: {field}: Metadata cannot be empty"
        )));
    }
    for (key, value) in metadata {
        check_key(key)
            .map_err(|problem| Error::invalid(format!("Validation error: {field}: {problem}")))?;
        if value.is_array() {
            return Err(Error::invalid(format!(
                "Validation error: {field}: collection metadata values cannot be arrays: {key}"
            )));
        }
    }
    Ok(())
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
                    store.apply(*seq, batch)?;
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
            let handle = CollectionHandle::new(&record.configuration, record.key, segment);
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

    /// Writes pending index checkpoints, then releases the files and the directory lock.
    /// Later calls fail with a clear error.
    pub fn close(&self) {
        let handles: Vec<(Uuid, Arc<CollectionHandle>)> = self
            .collections
            .read()
            .iter()
            .map(|(id, handle)| (*id, Arc::clone(handle)))
            .collect();
        for (id, handle) in handles {
            let _writer = handle.writer.lock();
            if handle.changes_since_checkpoint.load(Ordering::Relaxed) > 0 {
                self.write_checkpoint(&id, &handle);
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

    /// Writes every collection's index checkpoint now (used by repair).
    pub fn write_all_checkpoints(&self) {
        let handles: Vec<(Uuid, Arc<CollectionHandle>)> = self
            .collections
            .read()
            .iter()
            .map(|(id, handle)| (*id, Arc::clone(handle)))
            .collect();
        for (id, handle) in handles {
            let _writer = handle.writer.lock();
            self.write_checkpoint(&id, &handle);
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

    pub fn reset(&self) -> Result<()> {
        self.check_writable()?;
        let mut storage = self.storage()?;
        let mut collections = self.collections.write();
        storage.store.reset()?;
        for id in collections.keys() {
            self.remove_checkpoint(id);
        }
        collections.clear();
        Ok(())
    }

    // ---- tenants and databases

    pub fn create_tenant(&self, name: &str) -> Result<()> {
        self.check_writable()?;
        check_tenant_name(name)?;
        self.storage()?.store.create_tenant(name)
    }

    pub fn get_tenant(&self, name: &str) -> Result<()> {
        if self.storage()?.store.tenant_exists(name)? {
            Ok(())
        } else {
            Err(Error::NotFound(format!("Tenant [{name}] not found")))
        }
    }

    pub fn create_database(&self, name: &str, tenant: &str) -> Result<DatabaseRecord> {
        self.check_writable()?;
        check_database_name(name)?;
        self.storage()?.store.create_database(name, tenant)
    }

    pub fn get_database(&self, name: &str, tenant: &str) -> Result<DatabaseRecord> {
        // A name too short to create is refused before the lookup, as in Chroma.
        check_database_name(name)?;
        self.storage()?
            .store
            .database(name, tenant)?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "Database [{name}] not found. Are you sure it exists?"
                ))
            })
    }

    pub fn list_databases(
        &self,
        tenant: &str,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<DatabaseRecord>> {
        self.storage()?.store.list_databases(tenant, limit, offset)
    }

    pub fn delete_database(&self, name: &str, tenant: &str) -> Result<()> {
        self.check_writable()?;
        let mut storage = self.storage()?;
        let database = storage
            .store
            .database(name, tenant)?
            .ok_or_else(|| Error::NotFound(format!("Database [{name}] not found")))?;
        let keys = storage.store.delete_database(&database.id)?;
        let mut collections = self.collections.write();
        let removed: Vec<Uuid> = collections
            .iter()
            .filter(|(_, handle)| keys.contains(&handle.key))
            .map(|(id, _)| *id)
            .collect();
        for id in removed {
            collections.remove(&id);
            self.remove_checkpoint(&id);
        }
        Ok(())
    }

    /// The id of a database, if it exists. Collection calls on a database that does not
    /// exist (say, deleted under a client) behave as Chroma's do: nothing is listed, and
    /// named collections do not exist.
    fn database_id(store: &Store, tenant: &str, database: &str) -> Result<Option<String>> {
        Ok(store.database(database, tenant)?.map(|record| record.id))
    }

    fn missing_collection(name: impl std::fmt::Display) -> Error {
        Error::NotFound(format!("Collection [{name}] does not exist"))
    }

    // ---- collections

    pub fn create_collection(
        &self,
        tenant: &str,
        database: &str,
        name: &str,
        configuration: Option<&Value>,
        metadata: Option<&Metadata>,
        get_or_create: bool,
    ) -> Result<CollectionInfo> {
        // Chroma resolves the configuration before it checks the name.
        let configuration = CollectionConfiguration::resolve(configuration, metadata)?;
        check_collection_name(name, "name")?;
        check_collection_metadata(metadata, "metadata")?;
        let mut storage = self.storage()?;
        let database_id = Self::database_id(&storage.store, tenant, database)?
            .ok_or_else(|| Error::invalid(format!("Database [{database}] does not exist")))?;
        if let Some(existing) = storage.store.collection_by_name(&database_id, name)? {
            if get_or_create {
                return Ok(CollectionInfo::from(&existing));
            }
            return Err(Error::AlreadyExists(format!(
                "Collection [{name}] already exists"
            )));
        }
        self.check_writable()?;
        let (key, id) =
            storage
                .store
                .insert_collection(&database_id, name, metadata, &configuration)?;
        let segment = Segment::new(key, HnswParameters::from(&configuration.hnsw), None, 0);
        self.collections.write().insert(
            id,
            Arc::new(CollectionHandle::new(&configuration, key, segment)),
        );
        Ok(CollectionInfo {
            id,
            name: name.to_string(),
            tenant: tenant.to_string(),
            database: database.to_string(),
            metadata: metadata.cloned(),
            configuration: configuration.to_public_json(),
            dimension: None,
        })
    }

    pub fn get_collection(
        &self,
        tenant: &str,
        database: &str,
        name: &str,
    ) -> Result<CollectionInfo> {
        let storage = self.storage()?;
        let database_id = Self::database_id(&storage.store, tenant, database)?
            .ok_or_else(|| Self::missing_collection(name))?;
        storage
            .store
            .collection_by_name(&database_id, name)?
            .map(|record| CollectionInfo::from(&record))
            .ok_or_else(|| Self::missing_collection(name))
    }

    pub fn get_collection_by_id(
        &self,
        tenant: &str,
        database: &str,
        id: &Uuid,
    ) -> Result<CollectionInfo> {
        let storage = self.storage()?;
        let database_id = Self::database_id(&storage.store, tenant, database)?
            .ok_or_else(|| Self::missing_collection(id))?;
        storage
            .store
            .collection_by_id(&database_id, id)?
            .map(|record| CollectionInfo::from(&record))
            .ok_or_else(|| Self::missing_collection(id))
    }

    pub fn list_collections(
        &self,
        tenant: &str,
        database: &str,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<CollectionInfo>> {
        let storage = self.storage()?;
        let Some(database_id) = Self::database_id(&storage.store, tenant, database)? else {
            return Ok(Vec::new());
        };
        Ok(storage
            .store
            .list_collections(&database_id, limit, offset)?
            .iter()
            .map(CollectionInfo::from)
            .collect())
    }

    pub fn count_collections(&self, tenant: &str, database: &str) -> Result<u64> {
        let storage = self.storage()?;
        match Self::database_id(&storage.store, tenant, database)? {
            Some(database_id) => storage.store.count_collections(&database_id),
            None => Ok(0),
        }
    }

    pub fn delete_collection(&self, tenant: &str, database: &str, name: &str) -> Result<()> {
        self.check_writable()?;
        let mut storage = self.storage()?;
        let database_id = Self::database_id(&storage.store, tenant, database)?
            .ok_or_else(|| Self::missing_collection(name))?;
        let record = storage
            .store
            .collection_by_name(&database_id, name)?
            .ok_or_else(|| Self::missing_collection(name))?;
        storage.store.delete_collection(record.key)?;
        self.collections.write().remove(&record.id);
        self.remove_checkpoint(&record.id);
        Ok(())
    }

    /// Renames a collection, replaces its metadata, or updates its mutable configuration.
    pub fn modify_collection(
        &self,
        id: &Uuid,
        new_name: Option<&str>,
        new_metadata: Option<&Metadata>,
        new_configuration: Option<&Value>,
    ) -> Result<CollectionInfo> {
        self.check_writable()?;
        if let Some(name) = new_name {
            check_collection_name(name, "new_name")?;
        }
        check_collection_metadata(new_metadata, "new_metadata")?;
        let mut storage = self.storage()?;
        let mut record = storage
            .store
            .all_collections()?
            .into_iter()
            .find(|record| record.id == *id)
            .ok_or_else(|| Self::missing_collection(id))?;
        if let Some(update) = new_configuration {
            record.configuration.update(update)?;
        }
        if let Some(name) = new_name
            && name != record.name
        {
            let database_id = Self::database_id(&storage.store, &record.tenant, &record.database)?
                .ok_or_else(|| Self::missing_collection(id))?;
            if storage
                .store
                .collection_by_name(&database_id, name)?
                .is_some()
            {
                return Err(Error::AlreadyExists(
                    "Database error: error returned from database: (code: 2067) UNIQUE constraint \
                     failed: collections.name, collections.database_id"
                        .to_string(),
                ));
            }
            record.name = name.to_string();
        }
        if let Some(metadata) = new_metadata {
            record.metadata = Some(metadata.clone());
        }
        storage.store.update_collection(
            record.key,
            &record.name,
            record.metadata.as_ref(),
            &record.configuration,
        )?;
        if let Some(handle) = self.collections.read().get(id) {
            let hnsw = &record.configuration.hnsw;
            handle
                .segment
                .write()
                .tune(hnsw.ef_search, hnsw.num_threads);
        }
        Ok(CollectionInfo::from(&record))
    }

    // ---- records

    fn handle(&self, collection: &Uuid) -> Result<Arc<CollectionHandle>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(self.closed_error());
        }
        self.collections
            .read()
            .get(collection)
            .cloned()
            .ok_or_else(|| Self::missing_collection(collection))
    }

    /// Adds, updates or upserts records: all of them or, on error, none.
    pub fn write(&self, collection: &Uuid, kind: WriteKind, batch: &RecordBatch) -> Result<()> {
        self.check_writable()?;
        let handle = self.handle(collection)?;
        let _writer = handle.writer.lock();
        let resolved = handle.segment.read().resolve(kind, batch)?;
        if resolved.changes.is_empty() && resolved.dimension.is_none() {
            return Ok(());
        }
        self.storage()?.commit(&resolved)?;
        let changes = resolved.changes.len();
        handle.segment.write().apply(resolved);
        self.after_commit(collection, &handle, changes);
        Ok(())
    }

    /// Counts applied changes and writes the index checkpoint when enough have gathered:
    /// at least `sync_threshold`, and a quarter of the collection, so that a large
    /// collection is not written out for every small batch.
    fn after_commit(&self, collection: &Uuid, handle: &CollectionHandle, changes: usize) {
        if self.path.is_none() {
            return;
        }
        let pending = handle
            .changes_since_checkpoint
            .fetch_add(changes, Ordering::Relaxed)
            + changes;
        let live = handle.segment.read().count() as usize;
        if pending >= handle.sync_threshold.max(live / 4) {
            self.write_checkpoint(collection, handle);
        }
    }

    /// Writes a collection's index checkpoint. The caller holds the collection's writer
    /// lock. A failure is logged, not returned: the checkpoint is a cache of what the
    /// records hold, and the write it follows is already durable.
    fn write_checkpoint(&self, collection: &Uuid, handle: &CollectionHandle) {
        let Some(dir) = &self.path else { return };
        let Some(bytes) = handle.segment.read().index_checkpoint() else {
            return;
        };
        let path = checkpoint_path(dir, collection);
        match write_atomically(&path, &bytes) {
            Ok(()) => handle.changes_since_checkpoint.store(0, Ordering::Relaxed),
            Err(e) => log::error!(
                "could not write the index checkpoint {}: {e}",
                path.display()
            ),
        }
    }

    fn remove_checkpoint(&self, collection: &Uuid) {
        if let Some(dir) = &self.path {
            let path = checkpoint_path(dir, collection);
            if let Err(e) = std::fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                log::error!(
                    "could not remove the index checkpoint {}: {e}",
                    path.display()
                );
            }
        }
    }

    /// Deletes by ids and/or filter and returns Chroma's count: the number of ids given when
    /// there is no filter (existing or not), else the number of matching records deleted.
    pub fn delete(
        &self,
        collection: &Uuid,
        ids: Option<&[String]>,
        filter: Option<&Filter>,
        limit: Option<u32>,
    ) -> Result<u64> {
        self.check_writable()?;
        let handle = self.handle(collection)?;
        let _writer = handle.writer.lock();
        let (resolved, reported) = {
            let segment = handle.segment.read();
            let rows = segment.select(ids, filter);
            let rows: Vec<u32> = match limit {
                Some(limit) if filter.is_some() => rows.iter().take(limit as usize).collect(),
                _ => rows.iter().collect(),
            };
            let reported = match (filter, ids) {
                (None, Some(ids)) => ids.len() as u64,
                _ => rows.len() as u64,
            };
            (segment.resolve_delete(rows), reported)
        };
        if !resolved.changes.is_empty() {
            self.storage()?.commit(&resolved)?;
            let changes = resolved.changes.len();
            handle.segment.write().apply(resolved);
            self.after_commit(collection, &handle, changes);
        }
        Ok(reported)
    }

    /// The live records and what the vector index holds for them.
    pub fn index_stats(&self, collection: &Uuid) -> Result<(u64, IndexStats)> {
        let handle = self.handle(collection)?;
        let segment = handle.segment.read();
        Ok((segment.count(), segment.index_stats()))
    }

    pub fn count(&self, collection: &Uuid) -> Result<u64> {
        Ok(self.handle(collection)?.segment.read().count())
    }

    pub fn get(
        &self,
        collection: &Uuid,
        ids: Option<&[String]>,
        filter: Option<&Filter>,
        limit: Option<u32>,
        offset: u32,
        include: Include,
    ) -> Result<Records> {
        let handle = self.handle(collection)?;
        let segment = handle.segment.read();
        let rows = segment.select(ids, filter);
        let rows: Vec<u32> = rows
            .iter()
            .skip(offset as usize)
            .take(limit.map_or(usize::MAX, |l| l as usize))
            .collect();
        Ok(gather(&segment, &rows, include))
    }

    /// Nearest records to each query vector among those passing `ids` and `filter`.
    pub fn query(
        &self,
        collection: &Uuid,
        queries: &Embeddings,
        n_results: u32,
        ids: Option<&[String]>,
        filter: Option<&Filter>,
        include: Include,
    ) -> Result<Vec<QueryResult>> {
        let handle = self.handle(collection)?;
        let segment = handle.segment.read();
        let empty = || {
            (0..queries.len())
                .map(|_| QueryResult {
                    records: gather(&segment, &[], include),
                    distances: Vec::new(),
                })
                .collect()
        };
        let Some(dimension) = segment.dimension() else {
            return Ok(empty());
        };
        if queries.dimension() != dimension {
            return Err(Error::invalid(format!(
                "Collection expecting embedding with dimension of {dimension}, got {}",
                queries.dimension()
            )));
        }
        if let (Some(ids), None) = (ids, filter)
            && ids.iter().any(|id| segment.row_of(id).is_none())
        {
            return Err(Error::Internal(
                "Error executing plan: Internal error: Error finding id".to_string(),
            ));
        }
        let allowed: RoaringBitmap = segment.select(ids, filter);
        if allowed.is_empty() {
            return Ok(empty());
        }
        let search = |i: usize| {
            let hits = segment.nearest(queries.row(i), n_results as usize, &allowed);
            let rows: Vec<u32> = hits.iter().map(|h| h.row).collect();
            QueryResult {
                records: gather(&segment, &rows, include),
                distances: hits.iter().map(|h| h.distance).collect(),
            }
        };
        let workers = segment.workers();
        Ok(if queries.len() > 1 && workers.parallel() {
            workers.run(|| (0..queries.len()).into_par_iter().map(search).collect())
        } else {
            (0..queries.len()).map(search).collect()
        })
    }
}

fn gather(segment: &Segment, rows: &[u32], include: Include) -> Records {
    let dimension = segment.dimension().unwrap_or(0);
    Records {
        ids: rows.iter().map(|&r| segment.row(r).id.clone()).collect(),
        embeddings: include.embeddings.then(|| {
            let mut flat = Vec::with_capacity(rows.len() * dimension);
            rows.iter()
                .for_each(|&r| flat.extend_from_slice(segment.vector(r)));
            flat
        }),
        dimension,
        documents: include.documents.then(|| {
            rows.iter()
                .map(|&r| segment.row(r).document.clone())
                .collect()
        }),
        metadatas: include.metadatas.then(|| {
            rows.iter()
                .map(|&r| segment.row(r).visible_metadata())
                .collect()
        }),
        uris: include
            .uris
            .then(|| rows.iter().map(|&r| segment.row(r).uri.clone()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(db.count(&collection).unwrap(), 0);
        db.close();

        let reopened = Database::open(Some(dir.path()), DatabaseOptions::default()).unwrap();
        let records = reopened
            .get(
                &collection,
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
        assert_eq!(again.count(&collection).unwrap(), 2);
    }
}
