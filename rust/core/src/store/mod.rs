//! The record store: one SQLite database holding the catalog (tenants, databases,
//! collections) and every collection's records, the system of record from which memory is
//! loaded. Resolved batches are applied in one transaction together with the sequence
//! number of the log entry they came from.
//!
//! This file holds the connection, the schema and its migrations, and the settings;
//! `catalog` the tenants, databases and collections; `records` the records and the
//! transaction that applies a resolved batch.

mod catalog;
mod imports;
mod layers;
mod records;

use std::path::Path;

use rusqlite::Connection;
use serde_json::Value;
use uuid::Uuid;

use crate::config::CollectionConfiguration;
use crate::error::{Error, Result};
use crate::metadata::Metadata;

/// A record's key: its collection's key in the high half, its row in the low one, so that
/// a collection's rows are one range of the rowid B-tree (the records table and the
/// layers forks read through both address rows by it).
fn record_key(collection: i64, row: u32) -> i64 {
    (collection << 32) | i64::from(row)
}

/// The first and last record key a collection can have.
fn record_key_range(collection: i64) -> (i64, i64) {
    (record_key(collection, 0), record_key(collection, u32::MAX))
}

pub const DEFAULT_TENANT: &str = "default_tenant";
pub const DEFAULT_DATABASE: &str = "default_database";
const DEFAULT_DATABASE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Refuses a store file shorter than its own header says. Opening reads the records from
/// the segment snapshots, not from the store, so a truncated store would otherwise go
/// unnoticed until a write reached the missing pages.
fn check_not_truncated(path: &Path) -> Result<()> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let mut header = [0u8; 100];
    if std::io::Read::read_exact(&mut file, &mut header).is_err() {
        // Empty or shorter than a header: SQLite itself says what it makes of it.
        return Ok(());
    }
    let be32 = |at: usize| u32::from_be_bytes(header[at..at + 4].try_into().expect("4"));
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        size => u64::from(size),
    };
    // The in-header page count is valid when written by the version that last changed
    // the file (SQLite's file format, "in-header database size").
    if &header[..16] != b"SQLite format 3\0" || be32(92) != be32(24) {
        return Ok(());
    }
    let expected = u64::from(be32(28)) * page_size;
    let actual = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if actual < expected {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            message: format!(
                "the record store is truncated: {actual} bytes of the {expected} its header \
                 records"
            ),
        });
    }
    Ok(())
}

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    "
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
",
    "
    -- A collection's schema in chromadb's JSON form; NULL for collections created before
    -- schemas were stored, whose schema is the one their configuration describes.
    ALTER TABLE collections ADD COLUMN schema TEXT;
",
    "
    -- The last write (log sequence number) of each collection: a segment snapshot that
    -- holds it is complete, and opens without reading the log.
    ALTER TABLE collections ADD COLUMN last_write INTEGER NOT NULL DEFAULT 0;
",
    "
    -- Forks share their source's records through layers (store/layers.rs): a layer
    -- shows `rows` rows, its own records and masks over those of `below`.
    CREATE TABLE record_layers (
        key INTEGER PRIMARY KEY,
        below INTEGER,
        rows INTEGER NOT NULL
    );
    CREATE INDEX record_layers_below ON record_layers (below);
    -- Rows (keyed as records are) that a collection or layer deleted while the layer it
    -- reads through still holds them.
    CREATE TABLE record_masks (key INTEGER PRIMARY KEY);
    -- The layer a fork reads its inherited rows through; NULL for a collection that
    -- was never forked from another.
    ALTER TABLE collections ADD COLUMN below INTEGER;
    -- The key of the collection a fork's lineage started from; NULL for that one itself.
    ALTER TABLE collections ADD COLUMN lineage INTEGER;
    -- How many forks each lineage has made (deleted ones included), as Chroma counts.
    CREATE TABLE lineages (root INTEGER PRIMARY KEY, forks INTEGER NOT NULL);
",
    "
    -- Collections that an import is filling (store/imports.rs): hidden from the catalog
    -- until published as `name`, replacing the collection of key `target` (if there was
    -- one), which must still have its last write `target_write` then. Their own `name`
    -- is a placeholder that no collection name can be.
    CREATE TABLE imports (
        key INTEGER PRIMARY KEY REFERENCES collections (key) ON DELETE CASCADE,
        name TEXT NOT NULL,
        target INTEGER,
        target_write INTEGER
    );
    -- What the catalog calls see.
    CREATE VIEW visible_collections AS
        SELECT * FROM collections WHERE key NOT IN (SELECT key FROM imports);
",
];

#[derive(Debug, Clone)]
pub struct CollectionRecord {
    pub key: i64,
    pub id: Uuid,
    pub name: String,
    pub tenant: String,
    pub database: String,
    pub metadata: Option<Metadata>,
    pub configuration: CollectionConfiguration,
    pub schema: Value,
    pub dimension: Option<u32>,
    pub next_row: u32,
    /// The sequence number of the collection's last write (0: none since it was created,
    /// or since this column was added).
    pub last_write: u64,
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

impl Store {
    /// Opens the SQLite file at `path`, or an in-memory database for `None`.
    pub fn open(path: Option<&Path>, sync_every_commit: bool) -> Result<Store> {
        if let Some(path) = path {
            check_not_truncated(path)?;
        }
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

    /// Records the newest applied log entry (repair, after replaying an older log).
    pub fn set_applied_seq(&mut self, seq: u64) -> Result<()> {
        self.conn.execute(
            "UPDATE settings SET value = ?1 WHERE key = 'applied_seq'",
            [seq as i64],
        )?;
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
            "DELETE FROM records; DELETE FROM record_masks; DELETE FROM record_layers; \
             DELETE FROM lineages; DELETE FROM imports; DELETE FROM collections; DELETE FROM databases; \
             DELETE FROM tenants;",
        )?;
        self.ensure_defaults()?;
        self.checkpoint_catalog()
    }
}
