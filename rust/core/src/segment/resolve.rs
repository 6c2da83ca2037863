//! Chroma's write semantics, in one place: a caller's batch checked against the collection
//! and turned into the physical changes that the log, the record store and memory apply.
//! Add of an existing id is skipped, update of a missing id is skipped, metadata is merged
//! key by key with `None` deleting, and new rows get the next row number.

use std::collections::HashMap;

use super::Segment;
use crate::batch::{Change, PutRecord, RecordBatch, ResolvedBatch, WriteKind};
use crate::error::{Error, Result};
use crate::metadata::merge;

impl Segment {
    /// Checks a batch against the collection and turns it into physical changes. Nothing is
    /// modified: the caller logs and stores the result, then [`Segment::apply`]s it.
    pub fn resolve(&self, kind: WriteKind, batch: &RecordBatch) -> Result<ResolvedBatch> {
        batch.validate(kind)?;
        let mut dimension = None;
        if let Some(embeddings) = &batch.embeddings {
            match self.dimension() {
                Some(expected) if expected != embeddings.dimension() => {
                    return Err(Error::invalid(format!(
                        "Collection expecting embedding with dimension of {expected}, got {}",
                        embeddings.dimension()
                    )));
                }
                Some(_) => {}
                None => dimension = Some(embeddings.dimension() as u32),
            }
        }
        let mut changes: Vec<PutRecord> = Vec::new();
        let mut pending: HashMap<&str, usize> = HashMap::new();
        let mut next_row = self.next_row;
        for (i, id) in batch.ids.iter().enumerate() {
            let embedding = batch.embeddings.as_ref().map(|e| e.row(i).to_vec());
            let metadata = batch.metadatas.as_ref().and_then(|m| m[i].as_ref());
            let document = batch.documents.as_ref().and_then(|d| d[i].clone());
            let uri = batch.uris.as_ref().and_then(|u| u[i].clone());
            let existing = match pending.get(id.as_str()) {
                Some(&change) => Some(changes[change].clone()),
                None => self.row_of(id).map(|row| {
                    let current = self.row(row);
                    PutRecord {
                        row,
                        id: id.clone(),
                        embedding: None,
                        document: current.document.map(str::to_string),
                        metadata: current.metadata(),
                        uri: current.uri.map(str::to_string),
                    }
                }),
            };
            let put = match (kind, existing) {
                // Adding an id that exists leaves the stored record as it is, like Chroma.
                (WriteKind::Add, Some(_)) | (WriteKind::Update, None) => continue,
                (WriteKind::Add | WriteKind::Upsert, None) => {
                    let embedding = embedding.ok_or_else(|| {
                        Error::invalid(format!("Embedding is required to insert the record {id}"))
                    })?;
                    let row = next_row;
                    next_row = next_row.checked_add(1).ok_or_else(|| {
                        Error::Internal("collection has exhausted its row numbers".to_string())
                    })?;
                    PutRecord {
                        row,
                        id: id.clone(),
                        embedding: Some(embedding),
                        document,
                        metadata: metadata.and_then(|m| merge(None, m)),
                        uri,
                    }
                }
                (WriteKind::Update | WriteKind::Upsert, Some(base)) => PutRecord {
                    embedding: embedding.or(base.embedding),
                    document: document.or(base.document),
                    metadata: match metadata {
                        Some(update) => merge(base.metadata.as_ref(), update),
                        None => base.metadata,
                    },
                    uri: uri.or(base.uri),
                    ..base
                },
            };
            match pending.get(id.as_str()) {
                Some(&change) => changes[change] = put,
                None => {
                    pending.insert(id, changes.len());
                    changes.push(put);
                }
            }
        }
        Ok(ResolvedBatch {
            collection: self.collection,
            dimension,
            next_row,
            changes: changes.into_iter().map(Change::Put).collect(),
        })
    }

    /// Physical deletes of the rows holding `ids` (missing ids are skipped).
    pub fn resolve_delete(&self, rows: impl IntoIterator<Item = u32>) -> ResolvedBatch {
        ResolvedBatch {
            collection: self.collection,
            dimension: None,
            next_row: self.next_row,
            changes: rows.into_iter().map(|row| Change::Delete { row }).collect(),
        }
    }
}
