//! Record layers: how a fork shares its source's records instead of copying them.
//!
//! A *layer* is a frozen view of a collection's rows at the moment it was forked. It has
//! a key of its own (from the collections' key sequence, never reused), a `below` (the
//! key whose rows it reads through, a collection or another layer) and a row count: the
//! view of layer `K` at row `r < K.rows` is `K`'s own record at `r`, else nothing if `K`
//! masks `r`, else the view of `K.below` at `r`. A forked collection reads through its
//! `below` the same way for the rows it inherited; `record_masks` marks the inherited
//! rows it deleted.
//!
//! The records a layer shows are, at first, its source's own: the layer holds nothing.
//! Before the source changes a row the layer shows (*copy before write*), the source's
//! current view of the row is copied into the layer, in the transaction of the write, so
//! the layer keeps showing the row as it was. Every collection feeds at most one layer:
//! a second fork puts its new layer between the source and the older one, which from
//! then on reads the source through the new layer (both showed the same rows since the
//! second fork, and the older one holds everything the source changed before it).
//!
//! A dropped collection that a layer still reads through becomes a layer itself (its
//! records and masks stay); layers that no collection reaches any more are deleted.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, Transaction, params};

use super::{record_key, record_key_range};
use crate::error::Result;

/// A record as stored: id, vector blob, document, metadata blob, URI.
pub(super) type StoredRow = (
    String,
    Vec<u8>,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
);

/// The layer `collection` feeds, with the rows it shows.
pub(super) fn fed_layer(tx: &Transaction<'_>, collection: i64) -> Result<Option<(i64, u32)>> {
    Ok(tx
        .prepare_cached("SELECT key, rows FROM record_layers WHERE below = ?1")?
        .query_row([collection], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// What `key` (a collection or a layer) reads through, and how many rows that shows.
pub(super) fn below_of(conn: &rusqlite::Connection, key: i64) -> Result<Option<(i64, u32)>> {
    let below: Option<i64> = conn
        .prepare_cached(
            "SELECT below FROM collections WHERE key = ?1 \
             UNION ALL SELECT below FROM record_layers WHERE key = ?1",
        )?
        .query_row([key], |r| r.get(0))
        .optional()?
        .flatten();
    let Some(below) = below else {
        return Ok(None);
    };
    Ok(Some((below, rows_shown(conn, below)?)))
}

/// The rows `key` shows to what reads through it: a layer's count, or every row of a
/// collection (a layer reading a live collection limits the rows itself).
fn rows_shown(conn: &rusqlite::Connection, key: i64) -> Result<u32> {
    Ok(conn
        .prepare_cached("SELECT rows FROM record_layers WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?
        .unwrap_or(u32::MAX))
}

fn own_row(conn: &rusqlite::Connection, key: i64) -> Result<Option<StoredRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, embedding, document, metadata, uri FROM records WHERE key = ?1",
        )?
        .query_row([key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?)
}

fn is_masked(conn: &rusqlite::Connection, key: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM record_masks WHERE key = ?1")?
        .query_row([key], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The record `key` (a collection or a layer) shows at `row`, its own or one it reads
/// through, or `None` when it shows nothing there.
pub(super) fn view(conn: &rusqlite::Connection, key: i64, row: u32) -> Result<Option<StoredRow>> {
    let mut at = key;
    loop {
        if let Some(found) = own_row(conn, record_key(at, row))? {
            return Ok(Some(found));
        }
        if is_masked(conn, record_key(at, row))? {
            return Ok(None);
        }
        match below_of(conn, at)? {
            Some((below, rows)) if row < rows => at = below,
            _ => return Ok(None),
        }
    }
}

/// Copy before write: before `collection` changes `row`, the layer it feeds (if that
/// layer shows the row and holds nothing of its own there yet) gets the row as the
/// collection shows it now. Holding a row already means an earlier write copied it, so
/// a write replayed from the log copies nothing twice.
pub(super) fn preserve_row(
    tx: &Transaction<'_>,
    collection: i64,
    layer: (i64, u32),
    row: u32,
) -> Result<()> {
    let (layer, rows) = layer;
    let at = record_key(layer, row);
    if row >= rows || own_row(tx, at)?.is_some() || is_masked(tx, at)? {
        return Ok(());
    }
    match view(tx, collection, row)? {
        Some((id, embedding, document, metadata, uri)) => {
            tx.prepare_cached(
                "INSERT INTO records (key, id, embedding, document, metadata, uri) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![at, id, embedding, document, metadata, uri])?;
        }
        None => {
            tx.prepare_cached("INSERT INTO record_masks (key) VALUES (?1)")?
                .execute([at])?;
        }
    }
    Ok(())
}

pub(super) fn mask(tx: &Transaction<'_>, collection: i64, row: u32) -> Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO record_masks (key) VALUES (?1)")?
        .execute([record_key(collection, row)])?;
    Ok(())
}

pub(super) fn unmask(tx: &Transaction<'_>, collection: i64, row: u32) -> Result<()> {
    tx.prepare_cached("DELETE FROM record_masks WHERE key = ?1")?
        .execute([record_key(collection, row)])?;
    Ok(())
}

/// Takes the next key of the sequence collections draw theirs from, so that layers and
/// collections never share one. A layer left by a dropped collection keeps that
/// collection's key, which the sequence has already passed.
pub(super) fn next_key(tx: &Transaction<'_>) -> Result<i64> {
    tx.execute(
        "UPDATE sqlite_sequence SET seq = MAX(seq, \
             (SELECT COALESCE(MAX(key), 0) FROM record_layers), \
             (SELECT COALESCE(MAX(key), 0) FROM collections)) + 1 \
         WHERE name = 'collections'",
        [],
    )?;
    Ok(tx.query_row(
        "SELECT seq FROM sqlite_sequence WHERE name = 'collections'",
        [],
        |r| r.get(0),
    )?)
}

/// Removes a collection's own records, or, when a layer still reads through them, keeps
/// them (and its masks) as a layer of their own. The caller deletes the catalog row and
/// then collects the layers nothing reaches.
pub(super) fn release_records(tx: &Transaction<'_>, collection: i64) -> Result<()> {
    if fed_layer(tx, collection)?.is_some() {
        tx.execute(
            "INSERT INTO record_layers (key, below, rows) \
             SELECT key, below, next_row FROM collections WHERE key = ?1",
            [collection],
        )?;
    } else {
        delete_range(tx, collection)?;
    }
    Ok(())
}

fn delete_range(tx: &Transaction<'_>, key: i64) -> Result<()> {
    let (first, last) = record_key_range(key);
    tx.execute(
        "DELETE FROM records WHERE key BETWEEN ?1 AND ?2",
        [first, last],
    )?;
    tx.execute(
        "DELETE FROM record_masks WHERE key BETWEEN ?1 AND ?2",
        [first, last],
    )?;
    Ok(())
}

/// Deletes the layers (with their records and masks) that no collection reads through
/// any more, and the fork counts of lineages without a collection.
pub(super) fn collect_garbage(tx: &Transaction<'_>) -> Result<()> {
    let mut reached = HashSet::new();
    let collections: Vec<i64> = tx
        .prepare("SELECT key FROM collections WHERE below IS NOT NULL")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for collection in collections {
        let mut at = collection;
        while let Some((below, _)) = below_of(tx, at)? {
            reached.insert(below);
            at = below;
        }
    }
    let layers: Vec<i64> = tx
        .prepare("SELECT key FROM record_layers")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for layer in layers.into_iter().filter(|layer| !reached.contains(layer)) {
        delete_range(tx, layer)?;
        tx.execute("DELETE FROM record_layers WHERE key = ?1", [layer])?;
    }
    tx.execute(
        "DELETE FROM lineages WHERE root NOT IN (SELECT COALESCE(lineage, key) FROM collections)",
        [],
    )?;
    Ok(())
}

/// Every key whose records and masks make up what `collection` shows, from its own
/// down, each with the rows it contributes (`0..limit`).
pub(super) fn chain(
    conn: &rusqlite::Connection,
    collection: i64,
    next_row: u32,
) -> Result<Vec<(i64, u32)>> {
    let mut levels = vec![(collection, next_row)];
    let mut at = collection;
    let mut limit = next_row;
    while let Some((below, rows)) = below_of(conn, at)? {
        limit = limit.min(rows);
        levels.push((below, limit));
        at = below;
    }
    Ok(levels)
}
