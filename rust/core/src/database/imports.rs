//! Imports, all or nothing per collection: an import fills a hidden *staging* collection
//! through the ordinary record calls, then `publish_imports` makes it (with any others)
//! the visible collection of its name in one catalog transaction, or `abandon_import`
//! drops it. A staging collection left by a crash is dropped at the next open.
//!
//! An import into a collection that exists starts as a fork of it (records shared through
//! layers, its snapshot linked) and, published, replaces it under its id and name. The
//! files of a collection are named by its id, so the replaced collection's snapshot and
//! journal are removed before the catalog commits and the staging collection's renamed to
//! the id after: whatever point a crash stops the publish at, the file under an id is the
//! one written for the collection holding that id, or there is none and the collection is
//! loaded from the store.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use uuid::Uuid;

use super::catalog::new_collection_settings;
use super::directory::{journal_file, snapshot_file};
use super::{CollectionHandle, CollectionInfo, Database, INDEX_DIR, record_collection_id};
use crate::error::{Error, Result};
use crate::index::HnswParameters;
use crate::metadata::Metadata;
use crate::segment::Segment;
use crate::store::Store;

fn not_staged(id: &Uuid) -> Error {
    Error::NotFound(format!(
        "There is no import in progress into collection [{id}]"
    ))
}

/// Removes `path` if it exists.
fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Makes the renames and removals in `dir`'s index directory durable.
fn sync_index_dir(dir: &Path) -> Result<()> {
    let index = dir.join(INDEX_DIR);
    std::fs::File::open(&index)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(&index, e))
}

/// Moves the staging collection's snapshot and journal to the id it took.
fn move_files(dir: &Path, from: &Uuid, to: &Uuid) -> std::io::Result<()> {
    for (source, target) in [
        (snapshot_file(dir, from), snapshot_file(dir, to)),
        (journal_file(dir, from), journal_file(dir, to)),
    ] {
        match std::fs::rename(&source, &target) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        #[cfg(test)]
        crate::failpoint::crash_point("snapshot renamed, journal not");
    }
    Ok(())
}

/// The staging collections of an open that a crash left: dropped with a warning each.
pub(super) fn drop_unfinished_imports(store: &mut Store) -> Result<()> {
    for import in store.staged_imports()? {
        log::warn!(
            "an import into '{}' that did not finish was discarded",
            import.name
        );
        store.delete_collection(import.key)?;
    }
    Ok(())
}

impl Database {
    /// Begins an import into collection `name`: a staging collection that only the record
    /// calls reach, published by `publish_imports` or dropped by `abandon_import`. When
    /// `name` exists, the staging collection starts as a copy of it (sharing its records)
    /// and takes its configuration, metadata and schema, so none may be given; otherwise
    /// it is a new, empty collection, checked as `create_collection` checks one.
    pub fn stage_import(
        &self,
        tenant: &str,
        database: &str,
        name: &str,
        configuration: Option<&Value>,
        schema: Option<&Value>,
        metadata: Option<&Metadata>,
    ) -> Result<CollectionInfo> {
        self.check_writable()?;
        let existing = {
            let storage = self.storage()?;
            match Self::database_id(&storage.store, tenant, database)? {
                Some(database_id) => storage.store.collection_by_name(&database_id, name)?,
                None => None,
            }
        };
        let Some(target) = existing else {
            return self.stage_new(tenant, database, name, configuration, schema, metadata);
        };
        if configuration.is_some() || schema.is_some() || metadata.is_some() {
            return Err(Error::invalid(format!(
                "Collection [{name}] exists: an import into it keeps its configuration, \
                 metadata and schema, so none can be given"
            )));
        }
        self.with_writer(&target.id, |source| {
            self.bring_snapshot_up_to_date(&target.id, source);
            let mut storage = self.storage()?;
            let record = storage.store.stage_copy(source.key)?;
            #[cfg(test)]
            crate::failpoint::crash_point("import staged, not published");
            let handle = self.fork_handle(&target.id, source, &record);
            handle.staged.store(true, Ordering::Release);
            self.collections.write().insert(record.id, Arc::new(handle));
            Ok(CollectionInfo::from(&record))
        })
    }

    fn stage_new(
        &self,
        tenant: &str,
        database: &str,
        name: &str,
        configuration: Option<&Value>,
        schema: Option<&Value>,
        metadata: Option<&Metadata>,
    ) -> Result<CollectionInfo> {
        let (configuration, schema) =
            new_collection_settings(name, configuration, schema, metadata)?;
        let mut storage = self.storage()?;
        let database_id = Self::database_id(&storage.store, tenant, database)?
            .ok_or_else(|| Error::invalid(format!("Database [{database}] does not exist")))?;
        let record =
            storage
                .store
                .stage_new(&database_id, name, metadata, &configuration, &schema)?;
        let segment = Segment::new(
            record.key,
            HnswParameters::from(&record.configuration.hnsw),
            None,
            0,
        );
        let handle = CollectionHandle::new(&record, segment, storage.last_seq, 0);
        handle.staged.store(true, Ordering::Release);
        self.collections.write().insert(record.id, Arc::new(handle));
        Ok(CollectionInfo::from(&record))
    }

    /// The staging collection of `id`.
    fn staged_handle(&self, id: &Uuid) -> Result<Arc<CollectionHandle>> {
        let handle = self.handle(id).map_err(|_| not_staged(id))?;
        if !handle.staged.load(Ordering::Acquire) {
            return Err(not_staged(id));
        }
        Ok(handle)
    }

    /// Publishes the imports of the staging collections `ids`, all or none, in one
    /// transaction of the catalog: each becomes the visible collection of its name. One
    /// that began as a copy of a collection replaces it, taking its id and name, and is
    /// refused (`InvalidArgument`) if that collection was written, changed or deleted
    /// since; one of a new name is refused (`AlreadyExists`) if a collection took the name
    /// meanwhile. Refused, nothing is published and every staging collection stays as it
    /// was, for a retry or `abandon_import`.
    pub fn publish_imports(&self, ids: &[String]) -> Result<Vec<CollectionInfo>> {
        self.check_writable()?;
        let ids: Vec<Uuid> = ids
            .iter()
            .map(|id| record_collection_id(id))
            .collect::<Result<_>>()?;
        let mut seen = HashSet::new();
        if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
            return Err(Error::invalid(format!(
                "The import into collection [{twice}] is listed twice"
            )));
        }
        let staged: Vec<Arc<CollectionHandle>> = ids
            .iter()
            .map(|id| self.staged_handle(id))
            .collect::<Result<_>>()?;
        // The writers of the staging collections and of the collections they replace are
        // held to the end, taken in the order of their ids (no deadlock between two
        // publishes): no write is between a store row and its segment meanwhile, and a
        // write waiting for a replaced collection goes to its successor once let in.
        let targets: Vec<Option<Uuid>> = {
            let storage = self.storage()?;
            staged
                .iter()
                .zip(&ids)
                .map(|(handle, id)| {
                    let import = storage
                        .store
                        .staged_import(handle.key)?
                        .ok_or_else(|| not_staged(id))?;
                    Ok(import.target_id)
                })
                .collect::<Result<_>>()?
        };
        let mut locked: Vec<(Uuid, Arc<CollectionHandle>)> = ids
            .iter()
            .copied()
            .zip(staged.iter().cloned())
            .chain(
                targets
                    .iter()
                    .flatten()
                    .filter_map(|id| Some((*id, self.handle(id).ok()?))),
            )
            .collect();
        locked.sort_by_key(|(id, _)| *id);
        locked.dedup_by_key(|(id, _)| *id);
        let _writers: Vec<_> = locked.iter().map(|(_, h)| h.writer.lock()).collect();
        let keys: Vec<i64> = staged.iter().map(|handle| handle.key).collect();
        let mut storage = self.storage()?;
        let published = storage.store.publish_imports(&keys, |swaps| {
            let replaced: Vec<Uuid> = swaps.iter().filter_map(|(_, replaced)| *replaced).collect();
            let Some(dir) = self.path.as_ref().filter(|_| !replaced.is_empty()) else {
                return Ok(());
            };
            for replaced in replaced {
                // Its snapshot, if any, is gone from here on, published or not: reopened
                // before the commit, it loads from the store; kept, it writes a new one at
                // close.
                if let Some((_, handle)) = locked.iter().find(|(id, _)| *id == replaced) {
                    handle.snapshot_seq.store(0, Ordering::Release);
                    let live = handle.segment.read().count() as usize;
                    handle
                        .changes_since_checkpoint
                        .store(live, Ordering::Release);
                }
                remove_file(&snapshot_file(dir, &replaced))?;
                remove_file(&journal_file(dir, &replaced))?;
            }
            sync_index_dir(dir)?;
            #[cfg(test)]
            crate::failpoint::crash_point("replaced files removed, publish not committed");
            Ok(())
        })?;
        drop(storage);
        #[cfg(test)]
        crate::failpoint::crash_point("publish committed, files not moved");
        let mut infos = Vec::with_capacity(published.len());
        for import in published {
            let handle = staged
                .iter()
                .find(|handle| handle.key == import.record.key)
                .cloned()
                .ok_or_else(|| Error::Internal("a published import lost its handle".into()))?;
            let id = import.record.id;
            if let (Some(dir), Some(_)) = (&self.path, import.replaced) {
                let moved = move_files(dir, &import.staging_id, &id)
                    .map_err(|e| Error::io(dir.join(INDEX_DIR), e))
                    .and_then(|()| sync_index_dir(dir));
                if let Err(e) = moved {
                    // Nothing is lost: without its snapshot the collection loads from the
                    // store, and it writes a new one at the usual times.
                    log::warn!(
                        "could not move the snapshot of the import into {}: {e}",
                        import.record.name
                    );
                    handle.snapshot_seq.store(0, Ordering::Release);
                    let live = handle.segment.read().count() as usize;
                    handle
                        .changes_since_checkpoint
                        .store(live, Ordering::Release);
                }
            }
            handle.staged.store(false, Ordering::Release);
            let mut collections = self.collections.write();
            collections.remove(&import.staging_id);
            collections.insert(id, handle);
            infos.push(CollectionInfo::from(&import.record));
        }
        self.builder_wakeup.notify();
        Ok(infos)
    }

    /// Drops the staging collection of `id` with its records and files; the collection it
    /// was to replace, if any, is left as it is.
    pub fn abandon_import(&self, id: &str) -> Result<()> {
        let id = record_collection_id(id)?;
        self.check_writable()?;
        let handle = self.staged_handle(&id)?;
        let _writer = handle.writer.lock();
        let mut storage = self.storage()?;
        if storage.store.staged_import(handle.key)?.is_none() {
            return Err(not_staged(&id));
        }
        storage.store.delete_collection(handle.key)?;
        self.collections.write().remove(&id);
        self.remove_snapshot(&id);
        Ok(())
    }

    /// Runs `work` holding the writer lock of collection `id` (tests of what waits for it).
    #[cfg(test)]
    pub(crate) fn while_writer_held<T>(&self, id: &str, work: impl FnOnce() -> T) -> T {
        let handle = self
            .handle(&record_collection_id(id).expect("an id"))
            .expect("an open collection");
        let _writer = handle.writer.lock();
        work()
    }
}
