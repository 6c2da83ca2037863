//! What a write carries at each stage: the caller's [`RecordBatch`], validated; then the
//! [`ResolvedBatch`] of physical changes computed against the current state. The log stores
//! resolved batches, so replaying one is idempotent and needs no state to interpret.

use crate::error::{Error, Result};
use crate::metadata::{Metadata, MetadataUpdate, check_key};

/// Row-major vectors of one dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    data: Vec<f32>,
    dimension: usize,
}

impl Embeddings {
    pub fn new(data: Vec<f32>, dimension: usize) -> Result<Self> {
        if dimension == 0 {
            return Err(Error::invalid(
                "Validation error: embeddings: Each embedding must have at least 1 dimension",
            ));
        }
        if !data.len().is_multiple_of(dimension) {
            return Err(Error::invalid(
                "Inconsistent dimensions in provided embeddings",
            ));
        }
        if data.iter().any(|x| !x.is_finite()) {
            return Err(Error::invalid(
                "Validation error: embeddings: Embeddings must not contain NaN or Infinity values",
            ));
        }
        Ok(Embeddings { data, dimension })
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    pub fn len(&self) -> usize {
        self.data.len() / self.dimension
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dimension..(i + 1) * self.dimension]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Add,
    Update,
    Upsert,
}

/// Records as a caller sends them: every present field has one entry per id.
#[derive(Debug, Clone, Default)]
pub struct RecordBatch {
    pub ids: Vec<String>,
    pub embeddings: Option<Embeddings>,
    pub metadatas: Option<Vec<Option<MetadataUpdate>>>,
    pub documents: Option<Vec<Option<String>>>,
    pub uris: Option<Vec<Option<String>>>,
}

impl RecordBatch {
    /// The checks of Chroma's storage layer, run before anything is resolved or written.
    pub fn validate(&self, kind: WriteKind) -> Result<()> {
        let n = self.ids.len();
        let lengths_agree = self.embeddings.as_ref().is_none_or(|e| e.len() == n)
            && self.metadatas.as_ref().is_none_or(|m| m.len() == n)
            && self.documents.as_ref().is_none_or(|d| d.len() == n)
            && self.uris.as_ref().is_none_or(|u| u.len() == n);
        if !lengths_agree {
            return Err(Error::invalid(
                "Inconsistent number of IDs, embeddings, documents, URIs and metadatas",
            ));
        }
        if self.ids.iter().any(String::is_empty) {
            return Err(Error::invalid(
                "Empty ID, ID must have at least one character",
            ));
        }
        if let Some(metadatas) = &self.metadatas {
            for (i, metadata) in metadatas.iter().enumerate() {
                let Some(metadata) = metadata else { continue };
                let entries_valid = metadata.keys().all(|key| check_key(key).is_ok())
                    && metadata.values().flatten().all(|value| {
                        value
                            .as_sparse_vector()
                            .is_none_or(|vector| vector.problem().is_none())
                    });
                // A None value means "delete this key", which only an update can ask for.
                let values_valid = kind != WriteKind::Add || metadata.values().all(Option::is_some);
                if !entries_valid || !values_valid {
                    return Err(Error::invalid(format!(
                        "Validation error: metadatas: Invalid metadata at index {i}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The full new state of one row. `embedding: None` keeps the row's current vector.
#[derive(Debug, Clone, PartialEq)]
pub struct PutRecord {
    pub row: u32,
    pub id: String,
    pub embedding: Option<Vec<f32>>,
    pub document: Option<String>,
    pub metadata: Option<Metadata>,
    pub uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Put(PutRecord),
    Delete { row: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedBatch {
    /// The collection's internal key in the record store.
    pub collection: i64,
    /// Set when this batch fixes the collection's dimension.
    pub dimension: Option<u32>,
    /// The next unused row after this batch.
    pub next_row: u32,
    pub changes: Vec<Change>,
}
