//! The record store: one SQLite database holding the catalog (tenants, databases,
//! collections) and every collection's records, the system of record from which memory is
//! loaded. Resolved batches are applied in one transaction together with the sequence
//! number of the log entry they came from.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;

use crate::batch::{Change, ResolvedBatch};
use crate::codec::{decode_metadata, encode_metadata};
use crate::config::CollectionConfiguration;
use crate::error::{Error, Result};
use crate::metadata::Metadata;

pub const DEFAULT_TENANT: &str = "default_tenant";
pub const DEFAULT_DATABASE: &str = "default_database";
const DEFAULT_DATABASE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO settings (key, value) VALUES ('applied_seq', 0);
    CREATE TABLE tenants (name TEXT PRIMARY KEY);
    CREATE TABLE databases (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT NOT NULL,
        UNIQUE (tenant, name)
    );
    CREATE TABLE collections (
        key INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        database_id TEXT NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
        metadata BLOB,
        configuration TEXT NOT NULL,
        dimension INTEGER,
        next_row INTEGER NOT NULL DEFAULT 0,
        UNIQUE (database_id, name)
    );
    -- key = (collection key << 32) | row. One integer key keeps each collection's rows
    -- together and in row order in SQLite's rowid B-tree, which stores kilobyte-sized
    -- vector blobs far more compactly than a WITHOUT ROWID table would.
    CREATE TABLE records (
        key INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        embedding BLOB NOT NULL,
        document TEXT,
        metadata BLOB,
        uri TEXT
    );
"];

fn record_key(collection: i64, row: u32) -> i64 {
    (collection << 32) | i64::from(row)
}

/// The first and last record key a collection can have.
fn record_key_range(collection: i64) -> (i64, i64) {
    (record_key(collection, 0), record_key(collection, u32::MAX))
}

#[derive(Debug, Clone)]
pub struct CollectionRecord {
    pub key: i64,
    pub id: Uuid,
    pub name: String,
    pub tenant: String,
    pub database: String,
    pub metadata: Option<Metadata>,
    pub configuration: CollectionConfiguration,
    pub dimension: Option<u32>,
    pub next_row: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseRecord {
    pub id: String,
    pub name: String,
    pub tenant: String,
}

/// One stored record, as loaded into a segment.
pub struct StoredRecord {
    pub row: u32,
    pub id: String,
    pub embedding: Vec<f32>,
    pub document: Option<String>,
    pub metadata: Option<Metadata>,
    pub uri: Option<String>,
}

pub struct Store {
    conn: Connection,
    file: String,
}

fn f32s_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn blob_to_f32s(blob: &[u8]) -> Option<Vec<f32>> {
    blob.len().is_multiple_of(4).then(|| {
        blob.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("chunk of 4")))
            .collect()
    })
}

const COLLECTION_COLUMNS: &str = "c.key, c.id, c.name, d.tenant, d.name, c.metadata, \
    c.configuration, c.dimension, c.next_row FROM collections c JOIN databases d ON d.id = c.database_id";

impl Store {
    /// Opens the SQLite file at `path`, or an in-memory database for `None`.
    pub fn open(path: Option<&Path>, sync_every_commit: bool) -> Result<Store> {
        let (conn, file) = match path {
            Some(path) => (
                Connection::open(path).map_err(|e| Error::Corrupt {
                    path: path.to_path_buf(),
                    message: format!("cannot open the record store: {e}"),
                })?,
                path.display().to_string(),
            ),
            None => (Connection::open_in_memory()?, ":memory:".to_string()),
        };
        // The first read of the file: a damaged or foreign file fails here, and is reported
        // as such rather than as a generic database error.
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map_err(|e| Error::Corrupt {
                path: file.clone().into(),
                message: format!("not a readable Azurite record store: {e}"),
            })?;
        // Incremental auto-vacuum lets deletes give disk back without rewriting the whole
        // file; it can only be chosen before the first table exists.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
        // WAL lets readers in other processes see committed data while we write; NORMAL
        // syncs at checkpoints only, which survives a process crash (our log covers the rest).
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;",
            if sync_every_commit { "FULL" } else { "NORMAL" }
        ))?;
        let mut store = Store { conn, file };
        store.migrate()?;
        store.ensure_defaults()?;
        Ok(store)
    }

    /// Opens the SQLite file at `path` for reading only, beside a writer in another
    /// process: WAL mode lets it read the last committed state without blocking anyone.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let corrupt = |e: rusqlite::Error| Error::Corrupt {
            path: path.to_path_buf(),
            message: format!("cannot read the record store: {e}"),
        };
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(corrupt)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(corrupt)?;
        if version != MIGRATIONS.len() as i64 {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                message: format!(
                    "schema version {version}, this Azurite reads {}: open it for writing once \
                     to migrate it",
                    MIGRATIONS.len()
                ),
            });
        }
        Ok(Store {
            conn,
            file: path.display().to_string(),
        })
    }

    fn corrupt(&self, message: impl Into<String>) -> Error {
        Error::Corrupt {
            path: self.file.clone().into(),
            message: message.into(),
        }
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            return Err(self.corrupt(format!(
                "written by a newer Azurite (schema {version}, this version knows {})",
                MIGRATIONS.len()
            )));
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    fn ensure_defaults(&mut self) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO tenants (name) VALUES (?1)",
            [DEFAULT_TENANT],
        )?;
        self.conn.execute(
            "INSERT OR IGNORE INTO databases (id, name, tenant) VALUES (?1, ?2, ?3)",
            [DEFAULT_DATABASE_ID, DEFAULT_DATABASE, DEFAULT_TENANT],
        )?;
        Ok(())
    }

    pub fn applied_seq(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT value FROM settings WHERE key = 'applied_seq'",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Copies SQLite's own write-ahead file into the main file (without waiting for
    /// readers). Returns whether everything committed is now in the main file, so that the
    /// store no longer depends on its `-wal` file for it.
    pub fn checkpoint(&self) -> Result<bool> {
        let (busy, frames, copied): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        Ok(busy == 0 && frames == copied)
    }

    /// After a change of the catalog, which the log does not hold: the main file gets it
    /// at once, so that losing the `-wal` file cannot lose a collection (the log replays
    /// the records). Best effort: a reader in another process may hold part back.
    fn checkpoint_catalog(&self) -> Result<()> {
        self.checkpoint().map(drop)
    }

    /// SQLite's `synchronous` setting: 1 NORMAL, 2 FULL.
    #[cfg(test)]
    pub fn synchronous(&self) -> i64 {
        self.conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("PRAGMA synchronous")
    }

    pub fn has_collection(&self, key: i64) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM collections WHERE key = ?1",
                [key],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Records the newest applied log entry (repair, after replaying an older log).
    pub fn set_applied_seq(&mut self, seq: u64) -> Result<()> {
        self.conn.execute(
            "UPDATE settings SET value = ?1 WHERE key = 'applied_seq'",
            [seq as i64],
        )?;
        Ok(())
    }

    /// Applies a resolved batch and records `seq` as applied, atomically.
    pub fn apply(&mut self, seq: u64, batch: &ResolvedBatch) -> Result<()> {
        let tx = self.conn.transaction()?;
        apply_in(&tx, batch)?;
        tx.execute(
            "UPDATE settings SET value = ?1 WHERE key = 'applied_seq'",
            [seq as i64],
        )?;
        tx.commit()?;
        if batch
            .changes
            .iter()
            .any(|change| matches!(change, Change::Delete { .. }))
        {
            self.reclaim_free_pages();
        }
        Ok(())
    }

    /// Gives free pages back to the file system once they make up a quarter of the file
    /// (and at least a megabyte), so that deleting records shrinks the file. Runs after a
    /// commit: failing to shrink the file is logged, not a reason to fail the write.
    fn reclaim_free_pages(&mut self) {
        let pragma = |name: &str| {
            self.conn
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0))
        };
        let reclaimed = (|| {
            let (free, total) = (pragma("freelist_count")?, pragma("page_count")?);
            if free >= 256 && free * 4 >= total {
                // The pragma frees one page per step, so it is stepped to the end.
                let mut vacuum = self.conn.prepare("PRAGMA incremental_vacuum")?;
                let mut steps = vacuum.query([])?;
                while steps.next()?.is_some() {}
            }
            Ok::<_, rusqlite::Error>(())
        })();
        if let Err(e) = reclaimed {
            log::warn!("could not give the free pages of {} back: {e}", self.file);
        }
    }

    pub fn reset(&mut self) -> Result<()> {
        self.conn.execute_batch(
            "DELETE FROM records; DELETE FROM collections; DELETE FROM databases; DELETE FROM tenants;",
        )?;
        self.ensure_defaults()?;
        self.checkpoint_catalog()
    }

    // ---- tenants and databases

    pub fn create_tenant(&mut self, name: &str) -> Result<()> {
        let inserted = self
            .conn
            .execute("INSERT OR IGNORE INTO tenants (name) VALUES (?1)", [name])?;
        if inserted == 0 {
            return Err(Error::AlreadyExists(format!(
                "Tenant [{name}] already exists"
            )));
        }
        self.checkpoint_catalog()
    }

    pub fn tenant_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM tenants WHERE name = ?1", [name], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn create_database(&mut self, name: &str, tenant: &str) -> Result<DatabaseRecord> {
        let id = Uuid::new_v4().to_string();
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO databases (id, name, tenant) VALUES (?1, ?2, ?3)",
            [&id, name, tenant],
        )?;
        if inserted == 0 {
            return Err(Error::AlreadyExists(format!(
                "Database [{name}] already exists"
            )));
        }
        self.checkpoint_catalog()?;
        Ok(DatabaseRecord {
            id,
            name: name.to_string(),
            tenant: tenant.to_string(),
        })
    }

    pub fn database(&self, name: &str, tenant: &str) -> Result<Option<DatabaseRecord>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM databases WHERE name = ?1 AND tenant = ?2",
                [name, tenant],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|id| DatabaseRecord {
                id,
                name: name.to_string(),
                tenant: tenant.to_string(),
            }))
    }

    pub fn list_databases(
        &self,
        tenant: &str,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<DatabaseRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name FROM databases WHERE tenant = ?1 ORDER BY name LIMIT ?2 OFFSET ?3",
        )?;
        let limit = limit.map_or(-1, i64::from);
        let rows = stmt.query_map(params![tenant, limit, offset], |r| {
            Ok(DatabaseRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                tenant: tenant.to_string(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes a database with its collections; returns the keys of those collections.
    pub fn delete_database(&mut self, database_id: &str) -> Result<Vec<i64>> {
        let tx = self.conn.transaction()?;
        let keys = {
            let mut stmt = tx.prepare("SELECT key FROM collections WHERE database_id = ?1")?;
            stmt.query_map([database_id], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?
        };
        for key in &keys {
            delete_records_of(&tx, *key)?;
        }
        tx.execute("DELETE FROM databases WHERE id = ?1", [database_id])?;
        tx.commit()?;
        self.reclaim_free_pages();
        self.checkpoint_catalog()?;
        Ok(keys)
    }

    // ---- collections

    fn collection_from_row(&self, r: &rusqlite::Row<'_>) -> Result<CollectionRecord> {
        let id: String = r.get(1)?;
        let metadata: Option<Vec<u8>> = r.get(5)?;
        let configuration: String = r.get(6)?;
        Ok(CollectionRecord {
            key: r.get(0)?,
            id: Uuid::parse_str(&id)
                .map_err(|e| self.corrupt(format!("collection id {id:?}: {e}")))?,
            name: r.get(2)?,
            tenant: r.get(3)?,
            database: r.get(4)?,
            metadata: metadata
                .map(|m| decode_metadata(&m))
                .transpose()
                .map_err(|e| self.corrupt(format!("metadata of collection {id}: {e}")))?,
            configuration: serde_json::from_str(&configuration)
                .map_err(|e| self.corrupt(format!("configuration of collection {id}: {e}")))?,
            dimension: r.get(7)?,
            next_row: r.get(8)?,
        })
    }

    fn query_collections(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<CollectionRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLLECTION_COLUMNS} {condition}"))?;
        let mut rows = stmt.query(params)?;
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            found.push(self.collection_from_row(row)?);
        }
        Ok(found)
    }

    pub fn all_collections(&self) -> Result<Vec<CollectionRecord>> {
        self.query_collections("ORDER BY c.key", [])
    }

    pub fn collection_by_name(
        &self,
        database_id: &str,
        name: &str,
    ) -> Result<Option<CollectionRecord>> {
        Ok(self
            .query_collections(
                "WHERE c.database_id = ?1 AND c.name = ?2",
                [database_id, name],
            )?
            .pop())
    }

    pub fn collection_by_id(
        &self,
        database_id: &str,
        id: &Uuid,
    ) -> Result<Option<CollectionRecord>> {
        Ok(self
            .query_collections(
                "WHERE c.database_id = ?1 AND c.id = ?2",
                [database_id, &id.to_string()],
            )?
            .pop())
    }

    /// Collections of a database ordered by id, as Chroma lists them.
    pub fn list_collections(
        &self,
        database_id: &str,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<CollectionRecord>> {
        let limit = limit.map_or(-1, i64::from);
        self.query_collections(
            "WHERE c.database_id = ?1 ORDER BY c.id LIMIT ?2 OFFSET ?3",
            params![database_id, limit, offset],
        )
    }

    pub fn count_collections(&self, database_id: &str) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM collections WHERE database_id = ?1",
            [database_id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    pub fn insert_collection(
        &mut self,
        database_id: &str,
        name: &str,
        metadata: Option<&Metadata>,
        configuration: &CollectionConfiguration,
    ) -> Result<(i64, Uuid)> {
        let id = Uuid::new_v4();
        let configuration = serde_json::to_string(configuration)
            .map_err(|e| Error::Internal(format!("cannot serialise configuration: {e}")))?;
        self.conn.execute(
            "INSERT INTO collections (id, name, database_id, metadata, configuration) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id.to_string(),
                name,
                database_id,
                metadata.map(encode_metadata),
                configuration
            ],
        )?;
        let key = self.conn.last_insert_rowid();
        self.checkpoint_catalog()?;
        Ok((key, id))
    }

    pub fn update_collection(
        &mut self,
        key: i64,
        name: &str,
        metadata: Option<&Metadata>,
        configuration: &CollectionConfiguration,
    ) -> Result<()> {
        let configuration = serde_json::to_string(configuration)
            .map_err(|e| Error::Internal(format!("cannot serialise configuration: {e}")))?;
        self.conn.execute(
            "UPDATE collections SET name = ?1, metadata = ?2, configuration = ?3 WHERE key = ?4",
            params![name, metadata.map(encode_metadata), configuration, key],
        )?;
        self.checkpoint_catalog()
    }

    pub fn delete_collection(&mut self, key: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        delete_records_of(&tx, key)?;
        tx.execute("DELETE FROM collections WHERE key = ?1", [key])?;
        tx.commit()?;
        self.reclaim_free_pages();
        self.checkpoint_catalog()
    }

    /// Records that cannot be loaded as written (a vector of the wrong length, metadata
    /// that does not decode, a missing id): `(key, id, what is wrong)`. For repair.
    pub fn undecodable_records(&self) -> Result<Vec<(i64, String, String)>> {
        let dimensions: Vec<(i64, Option<i64>)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT key, dimension FROM collections")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut bad = Vec::new();
        for (collection, dimension) in dimensions {
            let (first, last) = record_key_range(collection);
            let mut stmt = self.conn.prepare(
                "SELECT key, typeof(id), CAST(id AS TEXT), length(embedding), metadata \
                 FROM records WHERE key BETWEEN ?1 AND ?2",
            )?;
            let mut rows = stmt.query([first, last])?;
            while let Some(r) = rows.next()? {
                let key: i64 = r.get(0)?;
                let id: String = r.get::<_, Option<String>>(2)?.unwrap_or_default();
                let problem = if r.get::<_, String>(1)? != "text" {
                    Some("its id is not text".to_string())
                } else if dimension
                    .is_some_and(|d| r.get::<_, Option<i64>>(3).ok().flatten() != Some(d * 4))
                {
                    Some("its vector has the wrong length".to_string())
                } else {
                    match r.get::<_, Option<Vec<u8>>>(4) {
                        Ok(Some(m)) => decode_metadata(&m)
                            .err()
                            .map(|e| format!("its metadata: {e}")),
                        Ok(None) => None,
                        Err(e) => Some(format!("its metadata: {e}")),
                    }
                };
                if let Some(problem) = problem {
                    bad.push((key, id, problem));
                }
            }
        }
        Ok(bad)
    }

    /// Deletes records by key (repair of undecodable records).
    pub fn delete_record_keys(&mut self, keys: &[i64]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for key in keys {
            tx.execute("DELETE FROM records WHERE key = ?1", [key])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every record of a collection in row order.
    pub fn load_records(&self, collection: i64, mut each: impl FnMut(StoredRecord)) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT key, id, embedding, document, metadata, uri FROM records \
             WHERE key BETWEEN ?1 AND ?2 ORDER BY key",
        )?;
        let (first, last) = record_key_range(collection);
        let mut rows = stmt.query([first, last])?;
        while let Some(r) = rows.next()? {
            let row = (r.get::<_, i64>(0)? & i64::from(u32::MAX)) as u32;
            let id: String = r.get(1)?;
            let blob: Vec<u8> = r.get(2)?;
            let metadata: Option<Vec<u8>> = r.get(4)?;
            let embedding = blob_to_f32s(&blob).ok_or_else(|| {
                self.corrupt(format!("embedding of record {id:?} has a torn length"))
            })?;
            let metadata = metadata
                .map(|m| decode_metadata(&m))
                .transpose()
                .map_err(|e| self.corrupt(format!("metadata of record {id:?}: {e}")))?;
            each(StoredRecord {
                row,
                id,
                embedding,
                document: r.get(3)?,
                metadata,
                uri: r.get(5)?,
            });
        }
        Ok(())
    }
}

fn delete_records_of(tx: &Transaction<'_>, collection: i64) -> Result<()> {
    let (first, last) = record_key_range(collection);
    tx.execute(
        "DELETE FROM records WHERE key BETWEEN ?1 AND ?2",
        [first, last],
    )?;
    Ok(())
}

fn apply_in(tx: &Transaction<'_>, batch: &ResolvedBatch) -> Result<()> {
    let exists = tx
        .query_row(
            "SELECT 1 FROM collections WHERE key = ?1",
            [batch.collection],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    // A logged batch of a collection deleted since is dropped on replay.
    if !exists {
        return Ok(());
    }
    if let Some(dimension) = batch.dimension {
        tx.execute(
            "UPDATE collections SET dimension = ?1 WHERE key = ?2 AND dimension IS NULL",
            params![dimension, batch.collection],
        )?;
    }
    tx.execute(
        "UPDATE collections SET next_row = MAX(next_row, ?1) WHERE key = ?2",
        params![batch.next_row, batch.collection],
    )?;
    let mut put = tx.prepare_cached(
        "INSERT INTO records (key, id, embedding, document, metadata, uri) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (key) DO UPDATE SET id = excluded.id, \
         embedding = iif(length(excluded.embedding) > 0, excluded.embedding, embedding), \
         document = excluded.document, metadata = excluded.metadata, uri = excluded.uri",
    )?;
    let mut delete = tx.prepare_cached("DELETE FROM records WHERE key = ?1")?;
    for change in &batch.changes {
        match change {
            Change::Put(record) => {
                let metadata = record.metadata.as_ref().map(encode_metadata);
                // An empty blob stands for "no new vector": the stored one is kept.
                let blob = record
                    .embedding
                    .as_deref()
                    .map(f32s_to_blob)
                    .unwrap_or_default();
                put.execute(params![
                    record_key(batch.collection, record.row),
                    record.id,
                    blob,
                    record.document,
                    metadata,
                    record.uri
                ])?;
            }
            Change::Delete { row } => {
                delete.execute([record_key(batch.collection, *row)])?;
            }
        }
    }
    Ok(())
}
