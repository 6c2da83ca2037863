//! The records table: applying a resolved batch in one transaction, loading a
//! collection's records in row order, and finding records that do not decode (repair).

use roaring::RoaringBitmap;
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::Value;

use super::layers::{self, StoredRow};
use super::{Store, StoredRecord, record_key, record_key_range};
use crate::batch::{Change, ResolvedBatch};
use crate::codec::{decode_metadata, encode_metadata};
use crate::error::Result;
use crate::schema::CollectionSchema;

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

impl Store {
    /// Applies a resolved batch and records `seq` as applied, atomically.
    /// `schema` is the collection's schema with the metadata keys the batch introduces,
    /// stored in the same transaction so that the keys are listed exactly when their
    /// records exist.
    pub fn apply(&mut self, seq: u64, batch: &ResolvedBatch, schema: Option<&Value>) -> Result<()> {
        let tx = self.conn.transaction()?;
        apply_in(&tx, seq, batch)?;
        if let Some(schema) = schema {
            tx.execute(
                "UPDATE collections SET schema = ?1 WHERE key = ?2",
                params![schema.to_string(), batch.collection],
            )?;
        }
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

    /// Applies a batch read back from the log, discovering the keys it introduces against
    /// the schema stored for its collection, as the write that logged it would have.
    pub fn replay(&mut self, seq: u64, batch: &ResolvedBatch) -> Result<()> {
        let discovered = self
            .collection_by_key(batch.collection)?
            .and_then(|record| CollectionSchema::new(record.schema).discover(batch));
        self.apply(seq, batch, discovered.as_ref().map(CollectionSchema::json))
    }

    /// Records that cannot be loaded as written (a vector of the wrong length, metadata
    /// that does not decode, a missing id): `(key, id, what is wrong)`. For repair.
    pub fn undecodable_records(&self) -> Result<Vec<(i64, String, String)>> {
        let dimensions: Vec<(i64, Option<i64>)> = {
            let mut stmt = self.conn.prepare(
                "SELECT key, dimension FROM collections \
                 UNION ALL SELECT key, NULL FROM record_layers",
            )?;
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

    /// Every record a collection shows, in row order: its own and, for a fork, those it
    /// reads through its layers.
    pub fn load_records(
        &self,
        collection: i64,
        next_row: u32,
        each: impl FnMut(StoredRecord),
    ) -> Result<()> {
        let chain = layers::chain(&self.conn, collection, next_row)?;
        if chain.len() == 1 {
            return self.load_range(collection, u32::MAX, each);
        }
        // Upper levels decide a row first: their records, and their masks, hide the
        // rows below.
        let mut decided = RoaringBitmap::new();
        let mut found = Vec::new();
        for (key, limit) in chain {
            if limit == 0 {
                continue;
            }
            let mut masks = self
                .conn
                .prepare_cached("SELECT key FROM record_masks WHERE key BETWEEN ?1 AND ?2")?;
            let masked: Vec<i64> = masks
                .query_map([record_key(key, 0), record_key(key, limit - 1)], |r| {
                    r.get(0)
                })?
                .collect::<Result<_, _>>()?;
            self.load_range(key, limit, |record| {
                if decided.insert(record.row) {
                    found.push(record);
                }
            })?;
            decided.extend(
                masked
                    .into_iter()
                    .map(|key| (key & i64::from(u32::MAX)) as u32),
            );
        }
        found.sort_unstable_by_key(|record| record.row);
        found.into_iter().for_each(each);
        Ok(())
    }

    /// The own records of `key` at rows `0..limit`, in row order.
    fn load_range(&self, key: i64, limit: u32, mut each: impl FnMut(StoredRecord)) -> Result<()> {
        if limit == 0 {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, id, embedding, document, metadata, uri FROM records \
             WHERE key BETWEEN ?1 AND ?2 ORDER BY key",
        )?;
        let mut rows = stmt.query([record_key(key, 0), record_key(key, limit - 1)])?;
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

fn apply_in(tx: &Transaction<'_>, seq: u64, batch: &ResolvedBatch) -> Result<()> {
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
        "UPDATE collections SET next_row = MAX(next_row, ?1), last_write = ?3 WHERE key = ?2",
        params![batch.next_row, batch.collection, seq as i64],
    )?;
    // A fork reads the rows it inherited through its layers, and the layer it feeds (if
    // it was forked) must keep showing each row as it was: see `layers`.
    let fed = layers::fed_layer(tx, batch.collection)?;
    let inherited = layers::below_of(tx, batch.collection)?.map_or(0, |(_, rows)| rows);
    let mut put = tx.prepare_cached(
        "INSERT INTO records (key, id, embedding, document, metadata, uri) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (key) DO UPDATE SET id = excluded.id, \
         embedding = iif(length(excluded.embedding) > 0, excluded.embedding, embedding), \
         document = excluded.document, metadata = excluded.metadata, uri = excluded.uri",
    )?;
    let mut delete = tx.prepare_cached("DELETE FROM records WHERE key = ?1")?;
    let mut own = tx.prepare_cached("SELECT 1 FROM records WHERE key = ?1")?;
    for change in &batch.changes {
        let row = match change {
            Change::Put(record) => record.row,
            Change::Delete { row } => *row,
        };
        if let Some(layer) = fed {
            layers::preserve_row(tx, batch.collection, layer, row)?;
        }
        let key = record_key(batch.collection, row);
        match change {
            Change::Put(record) => {
                let metadata = record.metadata.as_ref().map(encode_metadata);
                // An empty blob stands for "no new vector": the stored one is kept, and
                // an inherited row's vector is the one it inherited.
                let blob = match record.embedding.as_deref() {
                    Some(vector) => f32s_to_blob(vector),
                    None if row < inherited && own.query([key])?.next()?.is_none() => {
                        layers::view(tx, batch.collection, row)?
                            .map(|(_, embedding, ..): StoredRow| embedding)
                            .unwrap_or_default()
                    }
                    None => Vec::new(),
                };
                if row < inherited {
                    layers::unmask(tx, batch.collection, row)?;
                }
                put.execute(params![
                    key,
                    record.id,
                    blob,
                    record.document,
                    metadata,
                    record.uri
                ])?;
            }
            Change::Delete { row } => {
                delete.execute([key])?;
                if *row < inherited {
                    layers::mask(tx, batch.collection, *row)?;
                }
            }
        }
    }
    Ok(())
}
