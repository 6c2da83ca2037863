//! Collections that an import is filling ("staging" collections). One is an ordinary
//! collection row (its records are written by the ordinary record calls) plus a row of
//! `imports` that hides it from the catalog calls until it is published: its `name` there
//! is the collection it is to become, its `name` in `collections` a placeholder that no
//! collection name can be (so it never meets the `(database_id, name)` uniqueness of the
//! visible collection it will replace).
//!
//! An import into a collection that exists starts as a fork of it (`catalog::insert_fork`,
//! without counting in its lineage's forks) and remembers that collection's key and last
//! write. Publishing makes every listed import visible in one transaction: an import of
//! an existing collection replaces it, taking its id and name, if it did not change
//! meanwhile; one of a new name needs the name still free.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::Value;
use uuid::Uuid;

use super::catalog::insert_fork;
use super::{CollectionRecord, Store, layers};
use crate::codec::encode_metadata;
use crate::config::CollectionConfiguration;
use crate::error::{Error, Result};
use crate::metadata::Metadata;

/// An import in progress, as the store records it.
#[derive(Debug, Clone)]
pub struct StagedImport {
    /// The staging collection's key.
    pub key: i64,
    /// The name it is to be published as.
    pub name: String,
    pub database_id: String,
    /// The key of the collection it is to replace, if the name had one when it began.
    pub target: Option<i64>,
    /// That collection's id, while it exists.
    pub target_id: Option<Uuid>,
}

/// An import just published: the collection it now is, and the staging id it had.
#[derive(Debug, Clone)]
pub struct PublishedImport {
    pub record: CollectionRecord,
    pub staging_id: Uuid,
    /// The id of the collection it replaced, which it took; `None` for a new name.
    pub replaced: Option<Uuid>,
}

/// The `name` of a staging collection's own row: a space is never part of a collection
/// name, so no visible collection can hold it.
fn placeholder_name(id: &Uuid) -> String {
    format!("import {id}")
}

fn parse_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|e| Error::Internal(format!("collection id {id:?}: {e}")))
}

fn staged_in(conn: &rusqlite::Connection, key: i64) -> Result<Option<StagedImport>> {
    let row = conn
        .prepare_cached(
            "SELECT i.name, c.database_id, i.target, t.id FROM imports i \
             JOIN collections c ON c.key = i.key \
             LEFT JOIN collections t ON t.key = i.target WHERE i.key = ?1",
        )?
        .query_row([key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .optional()?;
    let Some((name, database_id, target, target_id)) = row else {
        return Ok(None);
    };
    Ok(Some(StagedImport {
        key,
        name,
        database_id,
        target,
        target_id: target_id.as_deref().map(parse_id).transpose()?,
    }))
}

impl Store {
    /// The staging collection's record, named as the collection it is to become.
    fn staged_record(&self, key: i64, name: &str) -> Result<CollectionRecord> {
        let mut record = self
            .collection_by_key(key)?
            .ok_or_else(|| Error::Internal("an import vanished as it began".to_string()))?;
        record.name = name.to_string();
        Ok(record)
    }

    /// Begins an import of a new collection `name`: an empty, hidden collection.
    pub fn stage_new(
        &mut self,
        database_id: &str,
        name: &str,
        metadata: Option<&Metadata>,
        configuration: &CollectionConfiguration,
        schema: &Value,
    ) -> Result<CollectionRecord> {
        let id = Uuid::new_v4();
        let configuration = serde_json::to_string(configuration)
            .map_err(|e| Error::Internal(format!("cannot serialise configuration: {e}")))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO collections (id, name, database_id, metadata, configuration, schema) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id.to_string(),
                placeholder_name(&id),
                database_id,
                metadata.map(encode_metadata),
                configuration,
                schema.to_string()
            ],
        )?;
        let key = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO imports (key, name) VALUES (?1, ?2)",
            params![key, name],
        )?;
        tx.commit()?;
        self.checkpoint_catalog()?;
        self.staged_record(key, name)
    }

    /// Begins an import into the visible collection `target`: a hidden fork of it, which
    /// does not count as one of its lineage's forks.
    pub fn stage_copy(&mut self, target: i64) -> Result<CollectionRecord> {
        let name: String = self
            .conn
            .query_row(
                "SELECT name FROM visible_collections WHERE key = ?1",
                [target],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("Collection [{target}] does not exist")))?;
        let id = Uuid::new_v4();
        let tx = self.conn.transaction()?;
        let key = insert_fork(&tx, target, &id, &placeholder_name(&id))?;
        tx.execute(
            "INSERT INTO imports (key, name, target, target_write) \
             SELECT ?1, ?2, key, last_write FROM collections WHERE key = ?3",
            params![key, name, target],
        )?;
        #[cfg(test)]
        crate::failpoint::crash_point("import staged, not committed");
        tx.commit()?;
        self.checkpoint_catalog()?;
        self.staged_record(key, &name)
    }

    /// The import that staging collection `key` belongs to, if it is one.
    pub fn staged_import(&self, key: i64) -> Result<Option<StagedImport>> {
        staged_in(&self.conn, key)
    }

    /// Every import in progress.
    pub fn staged_imports(&self) -> Result<Vec<StagedImport>> {
        let keys: Vec<i64> = self
            .conn
            .prepare("SELECT key FROM imports ORDER BY key")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        keys.into_iter()
            .filter_map(|key| staged_in(&self.conn, key).transpose())
            .collect()
    }

    /// Publishes the imports of staging collections `keys`, all or none, in one
    /// transaction. `before_commit` runs when every change is made and checked but not
    /// committed, with `(staging id, id of the collection it replaces)` of each import (the
    /// caller removes the files of the replaced collections there); its error, like any
    /// refusal, leaves the store as it was.
    pub fn publish_imports(
        &mut self,
        keys: &[i64],
        before_commit: impl FnOnce(&[(Uuid, Option<Uuid>)]) -> Result<()>,
    ) -> Result<Vec<PublishedImport>> {
        let tx = self.conn.transaction()?;
        // (key, staging id, replaced id) of each import.
        let mut published = Vec::with_capacity(keys.len());
        for &key in keys {
            let import = staged_in(&tx, key)?
                .ok_or_else(|| Error::NotFound(format!("No import into [{key}] is in progress")))?;
            let staging_id: String =
                tx.query_row("SELECT id FROM collections WHERE key = ?1", [key], |r| {
                    r.get(0)
                })?;
            let replaced = match import.target {
                Some(target) => Some(replace(&tx, key, target, &import.name)?),
                None => {
                    let taken = tx
                        .query_row(
                            "SELECT 1 FROM visible_collections WHERE database_id = ?1 AND name = ?2",
                            [&import.database_id, &import.name],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_some();
                    if taken {
                        return Err(Error::AlreadyExists(format!(
                            "Collection [{}] already exists",
                            import.name
                        )));
                    }
                    tx.execute(
                        "UPDATE collections SET name = ?1 WHERE key = ?2",
                        params![import.name, key],
                    )?;
                    None
                }
            };
            tx.execute("DELETE FROM imports WHERE key = ?1", [key])?;
            published.push((key, parse_id(&staging_id)?, replaced));
        }
        layers::collect_garbage(&tx)?;
        let swaps: Vec<(Uuid, Option<Uuid>)> = published
            .iter()
            .map(|(_, staging, replaced)| (*staging, *replaced))
            .collect();
        before_commit(&swaps)?;
        #[cfg(test)]
        crate::failpoint::crash_point("publish made, not committed");
        tx.commit()?;
        self.reclaim_free_pages();
        self.checkpoint_catalog()?;
        published
            .into_iter()
            .map(|(key, staging_id, replaced)| {
                let record = self
                    .collection_by_key(key)?
                    .ok_or_else(|| Error::Internal("a published import vanished".to_string()))?;
                Ok(PublishedImport {
                    record,
                    staging_id,
                    replaced,
                })
            })
            .collect()
    }
}

/// Replaces collection `target` with staging collection `key`, which takes its id and
/// name; `target` is dropped as `delete_collection` drops it (its records stay as a layer
/// while the staging collection, or another fork, reads through them). Refused when the
/// target is gone or changed since the import began: written (its last write moved),
/// renamed, or given other metadata or configuration.
fn replace(tx: &Transaction<'_>, key: i64, target: i64, name: &str) -> Result<Uuid> {
    let unchanged = tx
        .query_row(
            "SELECT t.id, t.name = i.name AND t.last_write = i.target_write \
                 AND t.metadata IS s.metadata AND t.configuration = s.configuration \
             FROM visible_collections t, collections s, imports i \
             WHERE t.key = ?1 AND s.key = ?2 AND i.key = ?2",
            [target, key],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)),
        )
        .optional()?;
    let Some((target_id, true)) = unchanged else {
        return Err(Error::invalid(format!(
            "Collection [{name}] was written, changed or deleted while it was being imported \
             into: nothing was imported. Retry the import to import into its current state"
        )));
    };
    layers::release_records(tx, target)?;
    tx.execute("DELETE FROM collections WHERE key = ?1", [target])?;
    tx.execute(
        "UPDATE collections SET id = ?1, name = ?2 WHERE key = ?3",
        params![target_id, name, key],
    )?;
    parse_id(&target_id)
}
