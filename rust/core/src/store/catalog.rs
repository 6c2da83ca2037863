//! The catalog tables: tenants, databases and collections. Every change is checkpointed
//! into SQLite's main file at once, as the log does not carry it.

use rusqlite::{OptionalExtension, params};
use serde_json::Value;
use uuid::Uuid;

use super::layers;
use super::{CollectionRecord, DatabaseRecord, Store};
use crate::codec::{decode_metadata, encode_metadata};
use crate::config::CollectionConfiguration;
use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::schema;

const COLUMNS: &str = "c.key, c.id, c.name, d.tenant, d.name, c.metadata, c.configuration, \
    c.dimension, c.next_row, c.schema, c.last_write";
/// The collections the catalog calls see: not those an import is filling.
const VISIBLE_COLLECTIONS: &str =
    "FROM visible_collections c JOIN databases d ON d.id = c.database_id";
const ALL_COLLECTIONS: &str = "FROM collections c JOIN databases d ON d.id = c.database_id";

impl Store {
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
            layers::release_records(&tx, *key)?;
        }
        tx.execute("DELETE FROM databases WHERE id = ?1", [database_id])?;
        layers::collect_garbage(&tx)?;
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
        let configuration: CollectionConfiguration = serde_json::from_str(&configuration)
            .map_err(|e| self.corrupt(format!("configuration of collection {id}: {e}")))?;
        let schema = match r.get::<_, Option<String>>(9)? {
            Some(schema) => serde_json::from_str(&schema)
                .map_err(|e| self.corrupt(format!("schema of collection {id}: {e}")))?,
            None => schema::from_configuration(&configuration),
        };
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
            configuration,
            schema,
            dimension: r.get(7)?,
            next_row: r.get(8)?,
            last_write: r.get::<_, i64>(10)? as u64,
        })
    }

    /// The visible collections that meet `condition`.
    fn query_collections(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<CollectionRecord>> {
        self.query_collections_from(VISIBLE_COLLECTIONS, condition, params)
    }

    pub(super) fn query_collections_from(
        &self,
        from: &str,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<CollectionRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} {from} {condition}"))?;
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

    /// The collection of `key`, visible or filled by an import.
    pub fn collection_by_key(&self, key: i64) -> Result<Option<CollectionRecord>> {
        Ok(self
            .query_collections_from(ALL_COLLECTIONS, "WHERE c.key = ?1", [key])?
            .pop())
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
            "SELECT COUNT(*) FROM visible_collections WHERE database_id = ?1",
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
        schema: &Value,
    ) -> Result<(i64, Uuid)> {
        let id = Uuid::new_v4();
        let configuration = serde_json::to_string(configuration)
            .map_err(|e| Error::Internal(format!("cannot serialise configuration: {e}")))?;
        self.conn.execute(
            "INSERT INTO collections (id, name, database_id, metadata, configuration, schema) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id.to_string(),
                name,
                database_id,
                metadata.map(encode_metadata),
                configuration,
                schema.to_string()
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
        schema: &Value,
    ) -> Result<()> {
        let configuration = serde_json::to_string(configuration)
            .map_err(|e| Error::Internal(format!("cannot serialise configuration: {e}")))?;
        self.conn.execute(
            "UPDATE collections SET name = ?1, metadata = ?2, configuration = ?3, schema = ?4 \
             WHERE key = ?5",
            params![
                name,
                metadata.map(encode_metadata),
                configuration,
                schema.to_string(),
                key
            ],
        )?;
        self.checkpoint_catalog()
    }

    /// Forks collection `source` as `name` in its database, in one transaction: the
    /// catalog row is copied (metadata, configuration, schema, dimension, rows, last
    /// write), and a new layer between the source and the fork shares every record (see
    /// `layers`). Nothing of the records is copied.
    pub fn fork_collection(&mut self, source: i64, name: &str) -> Result<CollectionRecord> {
        let database_id: String = self
            .conn
            .query_row(
                "SELECT database_id FROM collections WHERE key = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("Collection [{source}] does not exist")))?;
        if self.collection_by_name(&database_id, name)?.is_some() {
            return Err(Error::AlreadyExists(format!(
                "Collection [{name}] already exists"
            )));
        }
        let tx = self.conn.transaction()?;
        let key = insert_fork(&tx, source, &Uuid::new_v4(), name)?;
        tx.execute(
            "INSERT INTO lineages (root, forks) \
             SELECT COALESCE(lineage, key), 1 FROM collections WHERE key = ?1 \
             ON CONFLICT (root) DO UPDATE SET forks = forks + 1",
            [source],
        )?;
        #[cfg(test)]
        crate::failpoint::crash_point("fork written, not committed");
        tx.commit()?;
        self.checkpoint_catalog()?;
        self.collection_by_key(key)?
            .ok_or_else(|| Error::Internal("a fork vanished as it was made".to_string()))
    }

    /// The keys whose records a collection reads through, nearest first (empty for a
    /// collection that is not a fork).
    pub fn layers_below(&self, key: i64) -> Result<Vec<i64>> {
        let mut below = Vec::new();
        let mut at = key;
        while let Some((next, _)) = layers::below_of(&self.conn, at)? {
            below.push(next);
            at = next;
        }
        Ok(below)
    }

    /// How many forks the lineage of a collection has made, the deleted ones included.
    pub fn fork_count(&self, key: i64) -> Result<u64> {
        Ok(self
            .conn
            .query_row(
                "SELECT l.forks FROM collections c JOIN lineages l \
                 ON l.root = COALESCE(c.lineage, c.key) WHERE c.key = ?1",
                [key],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0) as u64)
    }

    pub fn delete_collection(&mut self, key: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        layers::release_records(&tx, key)?;
        tx.execute("DELETE FROM collections WHERE key = ?1", [key])?;
        layers::collect_garbage(&tx)?;
        tx.commit()?;
        self.reclaim_free_pages();
        self.checkpoint_catalog()
    }
}

/// Inserts the catalog row of a fork of `source` (a copy of its row: metadata,
/// configuration, schema, dimension, rows, last write, lineage) and the layer between
/// them that shares every record (see `layers`). Returns the fork's key.
pub(super) fn insert_fork(
    tx: &rusqlite::Transaction<'_>,
    source: i64,
    id: &Uuid,
    name: &str,
) -> Result<i64> {
    let layer = layers::next_key(tx)?;
    // The source feeds one layer: an older fork's layer now reads it through the new
    // one, which shows what the older one did not copy yet.
    tx.execute(
        "UPDATE record_layers SET below = ?1 WHERE below = ?2",
        [layer, source],
    )?;
    tx.execute(
        "INSERT INTO record_layers (key, below, rows) \
         SELECT ?1, key, next_row FROM collections WHERE key = ?2",
        [layer, source],
    )?;
    tx.execute(
        "INSERT INTO collections (id, name, database_id, metadata, configuration, \
             dimension, next_row, schema, last_write, below, lineage) \
         SELECT ?1, ?2, database_id, metadata, configuration, dimension, next_row, \
             schema, last_write, ?3, COALESCE(lineage, key) \
         FROM collections WHERE key = ?4",
        params![id.to_string(), name, layer, source],
    )?;
    Ok(tx.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::MIGRATIONS;
    use super::*;
    use crate::schema;

    #[test]
    fn a_store_from_before_forks_migrates_and_forks_its_collections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite3");
        let configuration = CollectionConfiguration::resolve(None, None).unwrap();
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for migration in &MIGRATIONS[..3] {
                conn.execute_batch(migration).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute_batch(
                "INSERT INTO tenants (name) VALUES ('t');
                 INSERT INTO databases (id, name, tenant) VALUES ('d', 'db', 't');",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO collections (id, name, database_id, configuration, next_row) \
                 VALUES (?1, 'old', 'd', ?2, 2)",
                params![
                    Uuid::new_v4().to_string(),
                    serde_json::to_string(&configuration).unwrap()
                ],
            )
            .unwrap();
            for row in 0..2i64 {
                conn.execute(
                    "INSERT INTO records (key, id, embedding) VALUES (?1, ?2, ?3)",
                    params![(1i64 << 32) | row, format!("r{row}"), vec![0u8; 8]],
                )
                .unwrap();
            }
        }
        let mut store = Store::open(Some(&path), false).unwrap();
        let old = store.collection_by_name("d", "old").unwrap().unwrap();
        assert_eq!(store.fork_count(old.key).unwrap(), 0);
        let fork = store.fork_collection(old.key, "new").unwrap();
        assert!(
            fork.key > old.key + 1,
            "the layer took a key of the sequence"
        );
        let mut ids = Vec::new();
        store
            .load_records(fork.key, fork.next_row, |record| ids.push(record.id))
            .unwrap();
        assert_eq!(ids, ["r0", "r1"]);
        assert_eq!(store.fork_count(old.key).unwrap(), 1);
        assert_eq!(store.fork_count(fork.key).unwrap(), 1);
    }

    #[test]
    fn collections_of_a_store_from_before_schemas_get_the_schema_of_their_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite3");
        let configuration =
            CollectionConfiguration::resolve(Some(&json!({"hnsw": {"space": "ip"}})), None)
                .unwrap();
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO tenants (name) VALUES ('t');
                 INSERT INTO databases (id, name, tenant) VALUES ('d', 'db', 't');",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO collections (id, name, database_id, configuration) \
                 VALUES (?1, 'old', 'd', ?2)",
                params![
                    Uuid::new_v4().to_string(),
                    serde_json::to_string(&configuration).unwrap()
                ],
            )
            .unwrap();
        }
        let store = Store::open(Some(&path), false).unwrap();
        let record = store.collection_by_name("d", "old").unwrap().unwrap();
        assert_eq!(record.schema, schema::from_configuration(&configuration));
        assert_eq!(
            record.schema["keys"]["#embedding"]["float_list"]["vector_index"]["config"]["space"],
            "ip"
        );
    }
}
