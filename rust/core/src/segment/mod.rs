//! One collection's records in memory: the read state. Rows are numbered in insertion order,
//! which is also the order `get` returns; an id keeps its row across updates and gets a new
//! one only when it is deleted and added again. `resolve` holds Chroma's write semantics;
//! this file holds the state, loading and publishing, and the filter source.

mod metadata_index;
mod resolve;
mod text_index;

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::OnceLock;

use regex::Regex;
use roaring::RoaringBitmap;

use crate::batch::{Change, PutRecord, ResolvedBatch};
use crate::codec::{decode_metadata, encode_metadata};
use crate::distance::{PreparedQuery, Space};
use crate::filter::{Filter, FilterSource, Scalar, evaluate};
use crate::index::{Hit, HnswIndex, HnswParameters, IndexStats, VectorStore};
use crate::metadata::{INTERNAL_KEY_PREFIX, Metadata, Number};
use crate::threads::Workers;
use metadata_index::MetadataIndex;
use text_index::TextIndex;

/// Where a loaded segment's vector index came from.
#[derive(Debug, PartialEq, Eq)]
pub enum IndexOrigin {
    /// The collection has no vectors yet.
    Empty,
    /// Restored from its checkpoint; `reinserted` rows changed after it was written.
    Checkpoint { reinserted: usize },
    /// Built from the records, because there was no checkpoint or it could not be used.
    Built { unusable_checkpoint: Option<String> },
}

#[derive(Debug, Clone, Default)]
pub struct Row {
    pub id: String,
    pub document: Option<String>,
    /// Kept encoded: a decoded map costs about ten times the bytes, filters read the
    /// metadata index instead, and results decode only the rows they return.
    metadata: Option<Box<[u8]>>,
    pub uri: Option<String>,
}

impl Row {
    fn new(put: PutRecord) -> Row {
        Row {
            id: put.id,
            document: put.document,
            metadata: put
                .metadata
                .as_ref()
                .map(|m| encode_metadata(m).into_boxed_slice()),
            uri: put.uri,
        }
    }

    pub fn metadata(&self) -> Option<Metadata> {
        self.metadata
            .as_deref()
            .map(|bytes| decode_metadata(bytes).expect("the segment decodes only what it encoded"))
    }

    /// Metadata as readers see it: internal `chroma:` keys hidden. Like Chroma, which keeps
    /// the URI as an internal metadata key, a row with a URI (or only internal keys) shows
    /// `{}` rather than no metadata.
    pub fn visible_metadata(&self) -> Option<Metadata> {
        if self.metadata.is_none() && self.uri.is_none() {
            return None;
        }
        let mut visible = self.metadata().unwrap_or_default();
        visible.retain(|key, _| !key.starts_with(INTERNAL_KEY_PREFIX));
        Some(visible)
    }
}

pub struct Segment {
    collection: i64,
    space: Space,
    rows: Vec<Option<Row>>,
    row_of_id: HashMap<String, u32>,
    live: RoaringBitmap,
    next_row: u32,
    vectors: Option<VectorStore>,
    index: HnswIndex,
    /// Threads for index construction, large scans and many-query searches.
    workers: Workers,
    metadata_index: MetadataIndex,
    /// Built by the first `$contains` filter, then kept up to date: a collection that is
    /// never searched by text never pays for it (in memory, ingest or opening).
    text_index: OnceLock<TextIndex>,
}

impl Segment {
    pub fn new(
        collection: i64,
        index: HnswParameters,
        dimension: Option<usize>,
        next_row: u32,
    ) -> Self {
        Segment {
            collection,
            space: index.space,
            rows: Vec::new(),
            row_of_id: HashMap::new(),
            live: RoaringBitmap::new(),
            next_row,
            vectors: dimension.map(VectorStore::new),
            index: HnswIndex::new(index),
            workers: Workers::new(index.num_threads),
            metadata_index: MetadataIndex::default(),
            text_index: OnceLock::new(),
        }
    }

    pub fn dimension(&self) -> Option<usize> {
        self.vectors.as_ref().map(VectorStore::dimension)
    }

    pub fn count(&self) -> u64 {
        self.live.len()
    }

    pub fn row(&self, row: u32) -> &Row {
        self.rows[row as usize]
            .as_ref()
            .expect("only live rows are read")
    }

    pub fn vector(&self, row: u32) -> &[f32] {
        self.vectors
            .as_ref()
            .expect("a segment with rows has a dimension")
            .get(row)
    }

    pub fn row_of(&self, id: &str) -> Option<u32> {
        self.row_of_id.get(id).copied()
    }

    /// A segment loaded from stored records. Its vector index is restored from
    /// `checkpoint` when that is usable (and brought up to date with the records), else
    /// built from the records. The metadata index is built beside the vector index, on the
    /// collection's threads: opening a large collection is dominated by the two.
    pub fn load(
        collection: i64,
        index: HnswParameters,
        dimension: Option<usize>,
        records: ResolvedBatch,
        checkpoint: Option<&[u8]>,
    ) -> (Segment, IndexOrigin) {
        let next_row = records.next_row;
        let mut segment = Segment::new(collection, index, dimension, next_row);
        let (written, metadatas) = segment.place_rows(records);
        let workers = segment.workers.clone();
        let build_metadata_index = || {
            let mut metadata_index = MetadataIndex::default();
            for (row, metadata) in &metadatas {
                metadata_index.insert(*row, metadata);
            }
            metadata_index
        };
        let (live, vectors) = (&segment.live, segment.vectors.as_mut());
        let load_vector_index = || {
            let vectors = vectors?;
            vectors.cover_rows(next_row);
            let vectors = &*vectors;
            Some(
                match checkpoint
                    .map(|bytes| HnswIndex::restore(index, bytes, vectors, live, &workers))
                {
                    Some(Ok((mut restored, reinserted))) => {
                        // Tombstones left by the checkpoint may already call for a rebuild.
                        restored.rebuild_if_sparse(vectors, live, &workers);
                        (restored, IndexOrigin::Checkpoint { reinserted })
                    }
                    failed => {
                        let mut built = HnswIndex::new(index);
                        built.upsert(&written, vectors, &workers);
                        let unusable_checkpoint = failed.and_then(|r| r.err()).map(|e| e.0);
                        (
                            built,
                            IndexOrigin::Built {
                                unusable_checkpoint,
                            },
                        )
                    }
                },
            )
        };
        let (metadata_index, vector_index) = if workers.parallel() {
            workers.run(|| rayon::join(build_metadata_index, load_vector_index))
        } else {
            (build_metadata_index(), load_vector_index())
        };
        segment.metadata_index = metadata_index;
        let origin = match vector_index {
            Some((vector_index, origin)) => {
                segment.index = vector_index;
                origin
            }
            None => IndexOrigin::Empty,
        };
        (segment, origin)
    }

    /// Places loaded records in their rows, without the metadata and text indexes; returns
    /// the rows with a vector, and each row's metadata for the metadata index.
    fn place_rows(&mut self, records: ResolvedBatch) -> (Vec<u32>, Vec<(u32, Metadata)>) {
        if let Some(dimension) = records.dimension
            && self.vectors.is_none()
        {
            self.vectors = Some(VectorStore::new(dimension as usize));
        }
        if let Some(vectors) = &mut self.vectors {
            vectors.cover_rows(records.next_row);
        }
        self.rows.resize(records.next_row as usize, None);
        self.row_of_id.reserve(records.changes.len());
        let mut written = Vec::with_capacity(records.changes.len());
        let mut metadatas = Vec::with_capacity(records.changes.len());
        for change in records.changes {
            let Change::Put(mut put) = change else {
                continue;
            };
            if let Some(embedding) = &put.embedding {
                self.vectors
                    .get_or_insert_with(|| VectorStore::new(embedding.len()))
                    .set(put.row, embedding);
                written.push(put.row);
            }
            if self.rows.len() <= put.row as usize {
                self.rows.resize(put.row as usize + 1, None);
            }
            self.row_of_id.insert(put.id.clone(), put.row);
            self.live.insert(put.row);
            self.next_row = self.next_row.max(put.row + 1);
            let row = put.row;
            let metadata = put.metadata.take();
            let mut placed = Row::new(put);
            if let Some(metadata) = metadata {
                placed.metadata = Some(encode_metadata(&metadata).into_boxed_slice());
                metadatas.push((row, metadata));
            }
            self.rows[row as usize] = Some(placed);
        }
        (written, metadatas)
    }

    /// Publishes a batch that is already durable. Takes it by value: its strings and
    /// vectors move into memory instead of being copied.
    pub fn apply(&mut self, batch: ResolvedBatch) {
        let (written, deleted) = self.apply_rows(batch);
        self.index.remove(&deleted);
        if let Some(vectors) = &self.vectors {
            self.index.upsert(&written, vectors, &self.workers);
            self.index
                .rebuild_if_sparse(vectors, &self.live, &self.workers);
        }
    }

    /// The vector index as bytes to store, or `None` while the segment has no vectors.
    pub fn index_checkpoint(&self) -> Option<Vec<u8>> {
        self.vectors.as_ref().map(|v| self.index.checkpoint(v))
    }

    /// Applies a batch to the rows and their metadata and text indexes; returns the rows
    /// whose vectors were written and the rows deleted, for the vector index.
    fn apply_rows(&mut self, batch: ResolvedBatch) -> (Vec<u32>, Vec<u32>) {
        if let Some(dimension) = batch.dimension
            && self.vectors.is_none()
        {
            self.vectors = Some(VectorStore::new(dimension as usize));
        }
        self.next_row = self.next_row.max(batch.next_row);
        let mut written = Vec::new();
        let mut deleted = Vec::new();
        for change in batch.changes {
            match change {
                Change::Put(put) => {
                    if put.embedding.is_some() {
                        written.push(put.row);
                    }
                    self.put(put);
                }
                Change::Delete { row } => {
                    if self.take_row(row).is_some() {
                        deleted.push(row);
                    }
                }
            }
        }
        (written, deleted)
    }

    /// Applies the search parameters a collection's configuration may change: the beam
    /// width and the number of worker threads.
    pub fn set_search_parameters(&mut self, ef_search: usize, num_threads: usize) {
        self.index.set_ef_search(ef_search);
        if num_threads != self.workers.threads() {
            self.workers = Workers::new(num_threads);
        }
    }

    pub fn workers(&self) -> &Workers {
        &self.workers
    }

    pub fn index_stats(&self) -> IndexStats {
        self.index.stats()
    }

    fn put(&mut self, put: PutRecord) {
        if let Some(embedding) = &put.embedding {
            let vectors = self
                .vectors
                .get_or_insert_with(|| VectorStore::new(embedding.len()));
            vectors.set(put.row, embedding);
        }
        self.take_row(put.row);
        if let Some(metadata) = &put.metadata {
            self.metadata_index.insert(put.row, metadata);
        }
        if let (Some(document), Some(text_index)) = (&put.document, self.text_index.get_mut()) {
            text_index.insert(put.row, document);
        }
        let slot = put.row as usize;
        if self.rows.len() <= slot {
            self.rows.resize(slot + 1, None);
        }
        self.row_of_id.insert(put.id.clone(), put.row);
        self.live.insert(put.row);
        self.next_row = self.next_row.max(put.row + 1);
        self.rows[slot] = Some(Row::new(put));
    }

    /// Removes a row from every index (its vector stays in the arena until the row is
    /// reused or the segment is rebuilt) and returns it.
    fn take_row(&mut self, row: u32) -> Option<Row> {
        let taken = self.rows.get_mut(row as usize)?.take()?;
        if let Some(metadata) = taken.metadata() {
            self.metadata_index.remove(row, &metadata);
        }
        if let (Some(document), Some(text_index)) = (&taken.document, self.text_index.get_mut()) {
            text_index.remove(row, document);
        }
        self.live.remove(row);
        if self.row_of_id.get(&taken.id) == Some(&row) {
            self.row_of_id.remove(&taken.id);
        }
        Some(taken)
    }

    /// The live rows passing `filter` and, when given, holding one of `ids`.
    pub fn select(&self, ids: Option<&[String]>, filter: Option<&Filter>) -> RoaringBitmap {
        let mut rows = match ids {
            Some(ids) => ids.iter().filter_map(|id| self.row_of(id)).collect(),
            None => self.live.clone(),
        };
        if let Some(filter) = filter
            && !rows.is_empty()
        {
            rows &= evaluate(filter, self);
        }
        rows
    }

    pub fn nearest(&self, query: &[f32], k: usize, allowed: &RoaringBitmap) -> Vec<Hit> {
        match &self.vectors {
            Some(vectors) => {
                let prepared = PreparedQuery::new(self.space, query);
                self.index
                    .search(vectors, &prepared, k, allowed, &self.workers)
            }
            None => Vec::new(),
        }
    }
}

impl FilterSource for Segment {
    fn live_rows(&self) -> &RoaringBitmap {
        &self.live
    }

    fn metadata_equal(&self, key: &str, value: &Scalar) -> RoaringBitmap {
        self.metadata_index.equal(key, value)
    }

    fn metadata_range(
        &self,
        key: &str,
        lower: Bound<Number>,
        upper: Bound<Number>,
    ) -> RoaringBitmap {
        self.metadata_index.range(key, lower, upper)
    }

    fn metadata_array_contains(&self, key: &str, value: &Scalar) -> RoaringBitmap {
        self.metadata_index.array_contains(key, value)
    }

    fn document_contains(&self, text: &str) -> RoaringBitmap {
        let text_index = self.text_index.get_or_init(|| {
            let mut text_index = TextIndex::default();
            for row in &self.live {
                if let Some(document) = &self.row(row).document {
                    text_index.insert(row, document);
                }
            }
            text_index
        });
        text_index.contains(text, &self.live, |row| {
            self.rows
                .get(row as usize)
                .and_then(|r| r.as_ref())
                .and_then(|r| r.document.as_deref())
        })
    }

    fn document_matches(&self, regex: &Regex) -> RoaringBitmap {
        self.live
            .iter()
            .filter(|&row| {
                self.row(row)
                    .document
                    .as_deref()
                    .is_some_and(|doc| regex.is_match(doc))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(row: u32, vector: [f32; 2]) -> Change {
        Change::Put(PutRecord {
            row,
            id: format!("id{row}"),
            embedding: Some(vector.to_vec()),
            document: None,
            metadata: None,
            uri: None,
        })
    }

    #[test]
    fn the_text_index_is_built_by_the_first_text_filter_and_then_kept_up_to_date() {
        let parameters = HnswParameters {
            space: Space::L2,
            max_neighbors: 4,
            ef_construction: 20,
            ef_search: 20,
            num_threads: 2,
        };
        let document = |row: u32, text: &str| {
            Change::Put(PutRecord {
                row,
                id: format!("id{row}"),
                embedding: Some(vec![row as f32, 0.0]),
                document: Some(text.to_string()),
                metadata: None,
                uri: None,
            })
        };
        let batch = |changes: Vec<Change>| ResolvedBatch {
            collection: 1,
            dimension: Some(2),
            next_row: 3,
            changes,
        };
        let records = batch(vec![
            document(0, "blue whale"),
            document(1, "blue jay"),
            document(2, "red fox"),
        ]);
        let (mut segment, _) = Segment::load(1, parameters, Some(2), records, None);
        // Written before the index exists: seen once it is built.
        segment.apply(batch(vec![document(2, "blue fox")]));
        let rows = |s: &Segment, text: &str| s.document_contains(text).iter().collect::<Vec<_>>();
        assert_eq!(rows(&segment, "blue"), [0, 1, 2]);
        // Written after: kept up to date.
        segment.apply(batch(vec![
            document(1, "grey jay"),
            Change::Delete { row: 0 },
        ]));
        assert_eq!(rows(&segment, "blue"), [2]);
        assert_eq!(rows(&segment, "grey j"), [1]);
    }

    #[test]
    fn a_restored_graph_keeps_tombstones_of_rows_deleted_before_the_load() {
        let parameters = HnswParameters {
            space: Space::L2,
            max_neighbors: 4,
            ef_construction: 20,
            ef_search: 20,
            num_threads: 1,
        };
        let batch = |changes: Vec<Change>| ResolvedBatch {
            collection: 1,
            dimension: Some(2),
            next_row: 6,
            changes,
        };
        let mut segment = Segment::new(1, parameters, None, 0);
        segment.apply(batch((0..6).map(|r| put(r, [r as f32, 1.0])).collect()));
        segment.apply(batch(vec![Change::Delete { row: 5 }]));
        let checkpoint = segment.index_checkpoint().unwrap();

        // A restart loads rows 0..5 only; the checkpoint still holds row 5's tombstone.
        let records = batch((0..5).map(|r| put(r, [r as f32, 1.0])).collect());
        let (mut loaded, origin) =
            Segment::load(1, parameters, Some(2), records, Some(&checkpoint));
        assert_eq!(origin, IndexOrigin::Checkpoint { reinserted: 0 });
        loaded.apply(batch(vec![put(0, [9.0, 9.0])]));
        let everything = loaded.live.clone();
        let hits = loaded.nearest(&[9.0, 9.0], 2, &everything);
        assert_eq!(hits[0].row, 0);
    }
}
