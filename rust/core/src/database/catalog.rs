//! The catalog: tenants, databases and collections. Catalog changes go straight to the
//! record store (the log carries records only); a collection's in-memory handle is created
//! and dropped with it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use uuid::Uuid;

use super::directory::snapshot_file;
use super::{CollectionHandle, CollectionInfo, Database, record_collection_id};
use crate::config::CollectionConfiguration;
use crate::error::{Error, Result};
use crate::index::HnswParameters;
use crate::metadata::{Metadata, MetadataUpdate, check_key};
use crate::names::{check_collection_name, check_database_name, check_tenant_name};
use crate::schema::{self, CollectionSchema};
use crate::segment::{Segment, Snapshot};
use crate::store::{CollectionRecord, DatabaseRecord, Store};

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

/// Checks what a new collection is created with, and reconciles its configuration with
/// its schema: create_collection's rules, which imports of a new collection follow too.
pub(super) fn new_collection_settings(
    name: &str,
    configuration: Option<&Value>,
    schema: Option<&Value>,
    metadata: Option<&Metadata>,
) -> Result<(CollectionConfiguration, Value)> {
    // Chroma reads the configuration and the schema before it checks the name, and
    // reconciles them after.
    let configuration = CollectionConfiguration::resolve(configuration, metadata)?;
    if let Some(schema) = schema {
        schema::check_shape(schema)?;
    }
    check_collection_name(name, "name")?;
    check_collection_metadata(metadata, "metadata")?;
    schema::reconcile(schema, configuration)
}

impl Database {
    pub fn reset(&self) -> Result<()> {
        self.check_writable()?;
        let mut storage = self.storage()?;
        let mut collections = self.collections.write();
        storage.store.reset()?;
        for id in collections.keys() {
            self.remove_snapshot(id);
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
            self.remove_snapshot(&id);
        }
        Ok(())
    }

    /// The id of a database, if it exists. Collection calls on a database that does not
    /// exist (say, deleted under a client) behave as Chroma's do: nothing is listed, and
    /// named collections do not exist.
    pub(super) fn database_id(
        store: &Store,
        tenant: &str,
        database: &str,
    ) -> Result<Option<String>> {
        Ok(store.database(database, tenant)?.map(|record| record.id))
    }

    // ---- collections

    pub fn create_collection(
        &self,
        tenant: &str,
        database: &str,
        name: &str,
        configuration: Option<&Value>,
        schema: Option<&Value>,
        metadata: Option<&Metadata>,
        get_or_create: bool,
    ) -> Result<CollectionInfo> {
        let (configuration, schema) =
            new_collection_settings(name, configuration, schema, metadata)?;
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
        let (key, id) = storage.store.insert_collection(
            &database_id,
            name,
            metadata,
            &configuration,
            &schema,
        )?;
        let record = CollectionRecord {
            key,
            id,
            name: name.to_string(),
            tenant: tenant.to_string(),
            database: database.to_string(),
            metadata: metadata.cloned(),
            configuration,
            schema,
            dimension: None,
            next_row: 0,
            last_write: 0,
        };
        let segment = Segment::new(
            key,
            HnswParameters::from(&record.configuration.hnsw),
            None,
            0,
        );
        self.collections.write().insert(
            id,
            Arc::new(CollectionHandle::new(&record, segment, storage.last_seq, 0)),
        );
        Ok(CollectionInfo::from(&record))
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
        id: &str,
    ) -> Result<CollectionInfo> {
        let id = &Uuid::parse_str(id).map_err(|_| {
            Error::invalid(
                "Validation error: collection_id: Invalid collection ID format, expected UUID",
            )
        })?;
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
        self.remove_snapshot(&record.id);
        Ok(())
    }

    /// Forks a collection as `new_name` in its database: a new collection with the same
    /// records, metadata, configuration and schema, independent from then on. The store
    /// shares the records (nothing is copied there), and the source's segment snapshot,
    /// brought up to date first, becomes the fork's too (a hard link) and its segment is
    /// opened from it: the vectors and rows stay mapped, not copied. Without a snapshot
    /// to share (in memory, or when it cannot be written or linked), memory gets a copy
    /// of the source's segment.
    pub fn fork_collection(&self, id: &str, new_name: &str) -> Result<CollectionInfo> {
        let source_id = record_collection_id(id)?;
        self.check_writable()?;
        check_collection_name(new_name, "new_name")?;
        self.visible_handle(&source_id)?;
        // Held, no write of the source is between its store rows and its segment.
        self.with_writer(&source_id, |source| {
            self.bring_snapshot_up_to_date(&source_id, source);
            let mut storage = self.storage()?;
            let record = storage.store.fork_collection(source.key, new_name)?;
            #[cfg(test)]
            crate::failpoint::crash_point("fork committed, not published");
            let handle = self.fork_handle(&source_id, source, &record);
            self.collections.write().insert(record.id, Arc::new(handle));
            Ok(CollectionInfo::from(&record))
        })
    }

    /// The collection of `id` when the catalog calls may see it: not while an import is
    /// filling it.
    pub(super) fn visible_handle(&self, id: &Uuid) -> Result<Arc<CollectionHandle>> {
        let handle = self.handle(id)?;
        if handle.staged.load(Ordering::Acquire) {
            return Err(Error::NotFound(format!(
                "Collection [{id}] does not exist."
            )));
        }
        Ok(handle)
    }

    /// Writes the source's snapshot now if it lags behind, so that a fork can share it:
    /// the source would write it at close anyway, and the fork need not write a copy of
    /// its own. The caller holds the source's writer lock; other collections' writes go
    /// on meanwhile.
    pub(super) fn bring_snapshot_up_to_date(&self, source_id: &Uuid, source: &CollectionHandle) {
        if self.path.is_some() && source.changes_since_checkpoint.load(Ordering::Acquire) > 0 {
            self.write_snapshot(source_id, source);
        }
    }

    /// The in-memory side of a fork whose catalog row `record` was just committed: its
    /// segment opened from the source's snapshot, linked as its own, or else a copy of
    /// the source's segment. The caller holds the source's writer lock.
    pub(super) fn fork_handle(
        &self,
        source_id: &Uuid,
        source: &CollectionHandle,
        record: &CollectionRecord,
    ) -> CollectionHandle {
        let shared_snapshot = self.share_snapshot(source_id, source, &record.id);
        // Opened from the shared file, the fork maps the vectors and rows the source
        // mapped (the page cache holds them once) instead of copying them.
        let segment = shared_snapshot
            .and_then(|_| self.open_shared_snapshot(record))
            .unwrap_or_else(|| source.segment.read().fork(record.key));
        let handle = CollectionHandle::new(
            record,
            segment,
            source.applied_seq.load(Ordering::Acquire),
            shared_snapshot.unwrap_or(0),
        );
        if shared_snapshot.is_none() && self.path.is_some() {
            // Its own snapshot is written at the usual times, and at close at the latest.
            let live = handle.segment.read().count() as usize;
            handle
                .changes_since_checkpoint
                .store(live, Ordering::Release);
        }
        handle
    }

    /// Links the source's segment snapshot as the fork's when it holds the source's last
    /// write; returns the write it holds. A fork opens from it as the source would
    /// (`recovery` accepts a snapshot of a collection the fork reads through).
    fn share_snapshot(&self, source: &Uuid, handle: &CollectionHandle, fork: &Uuid) -> Option<u64> {
        let dir = self.path.as_ref()?;
        let seq = handle.snapshot_seq.load(Ordering::Acquire);
        if seq == 0 || handle.changes_since_checkpoint.load(Ordering::Acquire) > 0 {
            return None;
        }
        let (from, to) = (snapshot_file(dir, source), snapshot_file(dir, fork));
        match std::fs::hard_link(&from, &to) {
            Ok(()) => Some(seq),
            Err(e) => {
                log::warn!(
                    "could not link {} as {}: {e}; the fork writes a snapshot of its own",
                    from.display(),
                    to.display()
                );
                None
            }
        }
    }

    /// The fork's segment from the snapshot it shares with its source, if that opens as
    /// it is (it always should: it was the source's whole state a moment ago).
    fn open_shared_snapshot(&self, record: &CollectionRecord) -> Option<Segment> {
        let path = snapshot_file(self.path.as_ref()?, &record.id);
        let opened = Snapshot::open(&path).and_then(|snapshot| {
            let snapshot = snapshot.ok_or("it is missing")?;
            let parameters = HnswParameters::from(&record.configuration.hnsw);
            Segment::open_snapshot(&snapshot, record.key, parameters)
        });
        match opened {
            Ok(segment) => Some(segment),
            Err(reason) => {
                log::warn!(
                    "the shared snapshot {} did not open ({reason}); the fork copies its \
                     source's segment",
                    path.display()
                );
                None
            }
        }
    }

    /// How many forks the collection's lineage has made (Chroma counts every fork of the
    /// collection it started from and of their forks, the deleted ones too).
    pub fn fork_count(&self, id: &str) -> Result<u64> {
        let handle = self.visible_handle(&record_collection_id(id)?)?;
        self.storage()?.store.fork_count(handle.key)
    }

    /// Renames a collection, replaces its metadata, or updates its mutable configuration.
    /// The new metadata replaces the old without its null values, as in Chroma: when every
    /// value given is null, the collection is left without metadata.
    pub fn modify_collection(
        &self,
        id: &str,
        new_name: Option<&str>,
        new_metadata: Option<&MetadataUpdate>,
        new_configuration: Option<&Value>,
    ) -> Result<CollectionInfo> {
        let id = &record_collection_id(id)?;
        self.check_writable()?;
        if let Some(name) = new_name {
            check_collection_name(name, "new_name")?;
        }
        if new_metadata.is_some_and(MetadataUpdate::is_empty) {
            return Err(Error::invalid(
                "Validation error: new_metadata: Metadata cannot be empty",
            ));
        }
        let new_metadata: Option<Metadata> = new_metadata.map(|update| {
            update
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), value.clone()?)))
                .collect()
        });
        if let Some(metadata) = new_metadata.as_ref().filter(|m| !m.is_empty()) {
            check_collection_metadata(Some(metadata), "new_metadata")?;
        }
        let handle = self.collections.read().get(id).cloned();
        // Writers discover keys into the schema under this lock: held, the schema written
        // back below is the current one.
        let _writer = handle.as_ref().map(|handle| handle.writer.lock());
        let mut storage = self.storage()?;
        let mut record = storage
            .store
            .all_collections()?
            .into_iter()
            .find(|record| record.id == *id)
            .ok_or_else(|| Self::missing_collection(id))?;
        let mut schema = handle.as_ref().map_or_else(
            || CollectionSchema::new(record.schema.clone()),
            |handle| handle.schema.read().clone(),
        );
        if let Some(update) = new_configuration {
            record.configuration.update(update)?;
            schema.follow_configuration(&record.configuration);
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
                // Chroma's database refuses the rename, and reports it as a database error
                // (500 from its server), not as its "already exists" case.
                return Err(Error::Internal(
                    "Database error: error returned from database: (code: 2067) UNIQUE constraint \
                     failed: collections.name, collections.database_id"
                        .to_string(),
                ));
            }
            record.name = name.to_string();
        }
        if let Some(metadata) = new_metadata {
            record.metadata = (!metadata.is_empty()).then_some(metadata);
        }
        storage.store.update_collection(
            record.key,
            &record.name,
            record.metadata.as_ref(),
            &record.configuration,
            schema.json(),
        )?;
        record.schema = schema.json().clone();
        if let Some(handle) = &handle {
            let hnsw = &record.configuration.hnsw;
            handle
                .segment
                .write()
                .set_search_parameters(hnsw.ef_search, hnsw.num_threads);
            *handle.schema.write() = schema;
        }
        Ok(CollectionInfo::from(&record))
    }
}
