//! One collection's records in memory: the read state. Rows are numbered in insertion order,
//! which is also the order `get` returns; an id keeps its row across updates and gets a new
//! one only when it is deleted and added again. `resolve` holds Chroma's write semantics;
//! this file holds the state, loading and publishing, and the filter source.

mod metadata_index;
mod resolve;
mod rows;
mod snapshot;
mod sparse_index;
mod text_index;

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::OnceLock;

use parking_lot::RwLock;
use regex::Regex;
use roaring::RoaringBitmap;

use crate::batch::{Change, PutRecord, ResolvedBatch};
use crate::codec::{DecodeError, Decoder, Encoder};
use crate::distance::{PreparedQuery, Space};
use crate::error::{Error, Result};
use crate::filter::{Filter, FilterSource, Scalar, evaluate};
use crate::index::{Hit, HnswIndex, HnswParameters, IndexStats, QuantizedStore, VectorStore};
use crate::metadata::{Metadata, Number, SparseVector};
use crate::threads::Workers;
use metadata_index::MetadataIndex;
pub use rows::RowRef;
use rows::{Row, RowTable};
pub use snapshot::{SNAPSHOT_EXTENSION, Snapshot, snapshot_path};
use sparse_index::SparseIndex;
use text_index::TextIndex;

/// A sparse search: the query vector, and whether its values are weighted by their
/// dimensions' inverse document frequency first (a `bm25` sparse index).
#[derive(Debug, Clone, Copy)]
pub struct SparseQuery<'a> {
    pub vector: &'a SparseVector,
    pub idf: bool,
}

pub struct Segment {
    collection: i64,
    space: Space,
    rows: RowTable,
    /// Built on first use for a segment opened from a snapshot (by a write, or a read by
    /// id), then kept up to date.
    row_of_id: OnceLock<HashMap<String, u32>>,
    live: RoaringBitmap,
    next_row: u32,
    vectors: Option<VectorStore>,
    index: HnswIndex,
    /// Threads for index construction, large scans and many-query searches.
    workers: Workers,
    /// Built on first use for a segment opened from a snapshot (by the first metadata
    /// filter), then kept up to date.
    metadata_index: OnceLock<MetadataIndex>,
    /// Built by the first `$contains` filter, then kept up to date: a collection that is
    /// never searched by text never pays for it (in memory, ingest or opening).
    text_index: OnceLock<TextIndex>,
    /// One inverted index per metadata key searched by a sparse query, built by the
    /// first such search and kept up to date from then on (as the text index is).
    sparse_indexes: RwLock<HashMap<String, SparseIndex>>,
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
            rows: RowTable::default(),
            row_of_id: OnceLock::from(HashMap::new()),
            live: RoaringBitmap::new(),
            next_row,
            vectors: dimension.map(VectorStore::new),
            index: HnswIndex::new(index),
            workers: Workers::new(index.num_threads),
            metadata_index: OnceLock::from(MetadataIndex::default()),
            text_index: OnceLock::new(),
            sparse_indexes: RwLock::new(HashMap::new()),
        }
    }

    pub fn dimension(&self) -> Option<usize> {
        self.vectors.as_ref().map(VectorStore::dimension)
    }

    pub fn count(&self) -> u64 {
        self.live.len()
    }

    pub fn row(&self, row: u32) -> RowRef<'_> {
        self.rows.get(row).expect("only live rows are read")
    }

    pub fn vector(&self, row: u32) -> &[f32] {
        self.vectors
            .as_ref()
            .expect("a segment with rows has a dimension")
            .get(row)
    }

    pub fn row_of(&self, id: &str) -> Option<u32> {
        self.ids().get(id).copied()
    }

    fn ids(&self) -> &HashMap<String, u32> {
        self.row_of_id.get_or_init(|| {
            let mut ids = HashMap::with_capacity(self.live.len() as usize);
            for row in &self.live {
                ids.insert(self.row(row).id.to_string(), row);
            }
            ids
        })
    }

    fn ids_mut(&mut self) -> &mut HashMap<String, u32> {
        self.ids();
        self.row_of_id.get_mut().expect("initialised just above")
    }

    fn metadata_index(&self) -> &MetadataIndex {
        self.metadata_index.get_or_init(|| {
            let mut index = MetadataIndex::default();
            for row in &self.live {
                if let Some(metadata) = self.row(row).metadata() {
                    index.insert(row, &metadata);
                }
            }
            index
        })
    }

    /// A segment loaded from stored records, its vector index built from them. The
    /// metadata index is built beside the vector index, on the collection's threads.
    pub fn load(
        collection: i64,
        index: HnswParameters,
        dimension: Option<usize>,
        records: ResolvedBatch,
    ) -> Segment {
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
        let vectors = segment.vectors.as_mut();
        let build_vector_index = || {
            let vectors = vectors?;
            vectors.cover_rows(next_row);
            let mut built = HnswIndex::new(index);
            built.upsert(&written, vectors, &workers);
            Some(built)
        };
        let (metadata_index, vector_index) = if workers.parallel() {
            workers.run(|| rayon::join(build_metadata_index, build_vector_index))
        } else {
            (build_metadata_index(), build_vector_index())
        };
        segment.metadata_index = OnceLock::from(metadata_index);
        if let Some(vector_index) = vector_index {
            segment.index = vector_index;
        }
        segment
    }

    /// A segment opened from its snapshot, as collection `collection` (a fork opens its
    /// source's snapshot until it writes one): vectors and rows stay in the mapped file, the
    /// graph is decoded, and the id map and metadata index wait for their first use. Live
    /// rows the snapshot's graph lacks are pending (`build_pending_index`).
    pub fn open_snapshot(
        snapshot: &Snapshot,
        collection: i64,
        index: HnswParameters,
    ) -> Result<Segment, String> {
        let header = snapshot.header;
        let dimension = header.dimension.ok_or("a snapshot without vectors")? as usize;
        let mut segment = Segment::new(collection, index, Some(dimension), header.next_row);
        segment.live = RoaringBitmap::deserialize_from(snapshot.bytes(snapshot::Kind::Live))
            .map_err(|e| format!("live rows: {e}"))?;
        if segment.live.max().is_some_and(|max| max >= header.next_row) {
            return Err("a live row beyond the next row".into());
        }
        let norms: Vec<f32> = bytemuck::try_cast_slice(snapshot.bytes(snapshot::Kind::Norms))
            .map_err(|e| format!("norms: {e}"))?
            .to_vec();
        if norms.len() != header.next_row as usize {
            return Err("one norm per row expected".into());
        }
        let expected_vector_bytes = norms.len() * dimension * 4;
        let quantized = QuantizedStore::from_raw_parts(
            dimension,
            norms.len(),
            snapshot.bytes(snapshot::Kind::Codes),
            snapshot.bytes(snapshot::Kind::Scalings),
        )
        .ok_or("int8 codes of the wrong size")?;
        segment.vectors = Some(
            match snapshot.vectors().map_err(|e| format!("vectors: {e}"))? {
                Some(mapped) if mapped.len() == expected_vector_bytes => {
                    VectorStore::with_mapped_rows(dimension, mapped, norms, quantized)
                }
                None if expected_vector_bytes == 0 => VectorStore::new(dimension),
                _ => return Err("one vector per row expected".into()),
            },
        );
        segment.rows = RowTable::with_mapped(snapshot.rows(&segment.live)?);
        if let Some(bytes) = snapshot.optional_bytes(snapshot::Kind::SparseIndexes) {
            segment.sparse_indexes = RwLock::new(
                Segment::decode_sparse_indexes(bytes, &segment.live)
                    .map_err(|e| format!("sparse indexes: {e}"))?,
            );
        }
        segment.row_of_id = OnceLock::new();
        segment.metadata_index = OnceLock::new();
        let vectors = segment.vectors.as_ref().expect("set above");
        segment.index = HnswIndex::decode_section(
            index,
            snapshot.bytes(snapshot::Kind::Index),
            vectors,
            &segment.live,
        )
        .map_err(|e| e.0)?;
        Ok(segment)
    }

    /// A copy of this segment for a fork with key `collection`: the same rows, indexes
    /// and graph, independent from now on. A snapshot's mapped rows are shared (they are
    /// never written); the vectors are copied, as writes change them in place.
    pub fn fork(&self, collection: i64) -> Segment {
        Segment {
            collection,
            space: self.space,
            rows: self.rows.clone(),
            row_of_id: self.row_of_id.clone(),
            live: self.live.clone(),
            next_row: self.next_row,
            vectors: self.vectors.as_ref().map(VectorStore::to_owned_copy),
            index: self.index.clone(),
            workers: self.workers.clone(),
            metadata_index: self.metadata_index.clone(),
            text_index: self.text_index.clone(),
            sparse_indexes: RwLock::new(self.sparse_indexes.read().clone()),
        }
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
        self.rows.reserve(records.changes.len());
        self.ids_mut().reserve(records.changes.len());
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
            self.ids_mut().insert(put.id.clone(), put.row);
            self.live.insert(put.row);
            self.next_row = self.next_row.max(put.row + 1);
            let row = put.row;
            let metadata = put.metadata.take();
            let mut placed = Row::new(put);
            if let Some(metadata) = metadata {
                placed = placed.with_metadata(&metadata);
                metadatas.push((row, metadata));
            }
            self.rows.put(row, placed);
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

    /// Publishes a batch of a bulk load: its vectors are searchable at once (scanned
    /// exactly) and enter the graph later, by `build_pending_index`.
    pub fn apply_deferring_index(&mut self, batch: ResolvedBatch) {
        let (written, deleted) = self.apply_rows(batch);
        self.index.remove(&deleted);
        self.index.defer(&written);
    }

    /// Live rows not in the graph yet.
    pub fn pending_rows(&self) -> usize {
        self.index.pending_rows()
    }

    /// Inserts up to `limit` pending rows into the graph; returns how many.
    pub fn build_pending_index(&mut self, limit: usize) -> usize {
        match &self.vectors {
            Some(vectors) => self.index.build_pending(limit, vectors, &self.workers),
            None => 0,
        }
    }

    /// Publishes a batch whose effect on the vector index a graph journal frame already
    /// holds (replaying the log after a snapshot, up to the journal's last frame).
    pub fn apply_without_index(&mut self, batch: ResolvedBatch) {
        self.apply_rows(batch);
    }

    /// Once the journal is applied: the live rows its graph has no label for are pending.
    pub fn defer_unindexed_rows(&mut self) {
        if self.vectors.is_some() {
            self.index.defer_unlabelled(&self.live);
        }
    }

    /// The vector index's changes since the last frame or snapshot, as a journal frame:
    /// `None` without vectors, `Some(None)` when only a snapshot can record them.
    pub fn index_journal_frame(&mut self) -> Option<Option<Vec<u8>>> {
        self.vectors.as_ref()?;
        Some(self.index.journal_frame())
    }

    /// A snapshot now holds the vector index as it is.
    pub fn index_persisted(&mut self) {
        self.index.persisted();
    }

    /// Applies a graph journal frame to the vector index.
    pub fn apply_index_journal(&mut self, payload: &[u8]) -> Result<(), String> {
        let rows = self.vectors.as_ref().map_or(0, VectorStore::rows);
        self.index
            .apply_journal_frame(payload, rows)
            .map_err(|e| e.0)
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
        if let (Some(metadata), Some(metadata_index)) =
            (&put.metadata, self.metadata_index.get_mut())
        {
            metadata_index.insert(put.row, metadata);
        }
        if let (Some(document), Some(text_index)) = (&put.document, self.text_index.get_mut()) {
            text_index.insert(put.row, document);
        }
        if let Some(metadata) = &put.metadata {
            for (key, index) in self.sparse_indexes.get_mut().iter_mut() {
                if let Some(vector) = metadata.get(key).and_then(|v| v.as_sparse_vector()) {
                    index.insert(put.row, vector);
                }
            }
        }
        let row = put.row;
        self.ids_mut().insert(put.id.clone(), row);
        self.live.insert(row);
        self.next_row = self.next_row.max(row + 1);
        self.rows.put(row, Row::new(put));
    }

    /// Removes a row from every index (its vector stays in the arena until the row is
    /// reused or the segment is rebuilt) and returns it.
    fn take_row(&mut self, row: u32) -> Option<Row> {
        self.ids();
        let taken = self.rows.take(row)?;
        let taken_ref = taken.as_ref();
        let sparse_indexes = self.sparse_indexes.get_mut();
        let metadata_needed = self.metadata_index.get().is_some() || !sparse_indexes.is_empty();
        if let Some(metadata) = metadata_needed.then(|| taken_ref.metadata()).flatten() {
            if let Some(metadata_index) = self.metadata_index.get_mut() {
                metadata_index.remove(row, &metadata);
            }
            for (key, index) in sparse_indexes.iter_mut() {
                if let Some(vector) = metadata.get(key).and_then(|v| v.as_sparse_vector()) {
                    index.remove(row, vector);
                }
            }
        }
        if let (Some(document), Some(text_index)) = (taken_ref.document, self.text_index.get_mut())
        {
            text_index.remove(row, document);
        }
        self.live.remove(row);
        let ids = self.row_of_id.get_mut().expect("initialised above");
        if ids.get(taken_ref.id) == Some(&row) {
            ids.remove(taken_ref.id);
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

    /// The `k` rows of `allowed` whose sparse vector under `key` has the highest dot
    /// product with the query (IDF-weighted first when asked), best first, ties by row.
    /// Only rows sharing a dimension with the query are candidates. The IDF counts the
    /// live rows of the collection and, per dimension, the rows holding it under `key`,
    /// whatever `allowed` is, as Chroma does.
    pub fn sparse_top_k(
        &self,
        key: &str,
        query: &SparseQuery<'_>,
        k: usize,
        allowed: &RoaringBitmap,
    ) -> Result<Vec<(u32, f32)>> {
        if let Some(problem) = query.vector.problem() {
            return Err(Error::invalid(format!(
                "Invalid sparse vector in KNN query: {problem}"
            )));
        }
        if !self.sparse_indexes.read().contains_key(key) {
            let built = self.build_sparse_index(key);
            self.sparse_indexes
                .write()
                .entry(key.to_string())
                .or_insert(built);
        }
        let indexes = self.sparse_indexes.read();
        let index = indexes.get(key).expect("built just above");
        let scaled;
        let vector = if query.idf {
            scaled = index.idf_scaled(query.vector, self.live.len());
            &scaled
        } else {
            query.vector
        };
        Ok(index.top_k(vector, k, allowed))
    }

    /// The sparse indexes built so far, for the snapshot: `[keys]` then per key
    /// `[key][index]`, keys in order.
    fn encode_sparse_indexes(&self) -> Vec<u8> {
        let indexes = self.sparse_indexes.read();
        let mut keys: Vec<&String> = indexes.keys().collect();
        keys.sort_unstable();
        let mut encoder = Encoder::default();
        encoder.len(keys.len());
        for key in keys {
            encoder.str(key);
            indexes[key].encode(&mut encoder);
        }
        encoder.buf
    }

    fn decode_sparse_indexes(
        bytes: &[u8],
        live: &RoaringBitmap,
    ) -> std::result::Result<HashMap<String, SparseIndex>, DecodeError> {
        let mut decoder = Decoder::new(bytes);
        let count = decoder.len(8)?;
        let mut indexes = HashMap::with_capacity(count);
        for _ in 0..count {
            let key = decoder.str()?;
            indexes.insert(key, SparseIndex::decode(&mut decoder, live)?);
        }
        if !decoder.is_empty() {
            return Err(DecodeError(
                "trailing bytes after the sparse indexes".into(),
            ));
        }
        Ok(indexes)
    }

    fn build_sparse_index(&self, key: &str) -> SparseIndex {
        let mut index = SparseIndex::default();
        for row in &self.live {
            if let Some(metadata) = self.row(row).metadata()
                && let Some(vector) = metadata.get(key).and_then(|v| v.as_sparse_vector())
            {
                index.insert(row, vector);
            }
        }
        index
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
        self.metadata_index().equal(key, value)
    }

    fn metadata_range(
        &self,
        key: &str,
        lower: Bound<Number>,
        upper: Bound<Number>,
    ) -> RoaringBitmap {
        self.metadata_index().range(key, lower, upper)
    }

    fn metadata_array_contains(&self, key: &str, value: &Scalar) -> RoaringBitmap {
        self.metadata_index().array_contains(key, value)
    }

    fn document_contains(&self, text: &str) -> RoaringBitmap {
        let text_index = self.text_index.get_or_init(|| {
            let mut text_index = TextIndex::default();
            for row in &self.live {
                if let Some(document) = self.row(row).document {
                    text_index.insert(row, document);
                }
            }
            text_index
        });
        text_index.contains(text, &self.live, |row| {
            self.rows.get(row).and_then(|r| r.document)
        })
    }

    fn document_matches(&self, regex: &Regex) -> RoaringBitmap {
        self.live
            .iter()
            .filter(|&row| {
                self.row(row)
                    .document
                    .is_some_and(|doc| regex.is_match(doc))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::hint::black_box;

    use super::sparse_index::idf;
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

    fn sparse_put(row: u32, indices: &[u32], values: &[f32]) -> Change {
        let vector = SparseVector {
            indices: indices.to_vec(),
            values: values.to_vec(),
            tokens: None,
        };
        Change::Put(PutRecord {
            row,
            id: format!("id{row}"),
            embedding: Some(vec![row as f32, 0.0]),
            document: None,
            metadata: Some(
                [(
                    "sparse".to_string(),
                    crate::metadata::MetadataValue::SparseVector(Box::new(vector)),
                )]
                .into(),
            ),
            uri: None,
        })
    }

    #[test]
    fn sparse_searches_see_writes_from_before_and_after_the_index_is_built() {
        let parameters = HnswParameters {
            space: Space::L2,
            max_neighbors: 4,
            ef_construction: 20,
            ef_search: 20,
            num_threads: 1,
        };
        let batch = |next_row: u32, changes: Vec<Change>| ResolvedBatch {
            collection: 1,
            dimension: Some(2),
            next_row,
            changes,
        };
        let mut segment = Segment::new(1, parameters, None, 0);
        segment.apply(batch(
            3,
            vec![
                sparse_put(0, &[1, 5], &[1.0, 1.0]),
                sparse_put(1, &[1], &[3.0]),
                sparse_put(2, &[5], &[2.0]),
            ],
        ));
        let query = SparseVector {
            indices: vec![1, 5],
            values: vec![1.0, 1.0],
            tokens: None,
        };
        let plain = SparseQuery {
            vector: &query,
            idf: false,
        };
        let all = |s: &Segment| s.live.clone();
        assert_eq!(
            segment
                .sparse_top_k("sparse", &plain, 10, &all(&segment))
                .unwrap(),
            [(1, 3.0), (0, 2.0), (2, 2.0)]
        );
        // Built now: an update, a delete and an add reach it.
        segment.apply(batch(
            4,
            vec![
                sparse_put(1, &[9], &[3.0]),
                Change::Delete { row: 2 },
                sparse_put(3, &[5], &[7.0]),
            ],
        ));
        assert_eq!(
            segment
                .sparse_top_k("sparse", &plain, 10, &all(&segment))
                .unwrap(),
            [(3, 7.0), (0, 2.0)]
        );
        let only_zero: RoaringBitmap = [0, 1].into_iter().collect();
        assert_eq!(
            segment
                .sparse_top_k("sparse", &plain, 10, &only_zero)
                .unwrap(),
            [(0, 2.0)]
        );
        // IDF over the three live rows: dimension 1 is held by one, dimension 5 by two.
        let weighted = segment
            .sparse_top_k(
                "sparse",
                &SparseQuery {
                    vector: &query,
                    idf: true,
                },
                10,
                &all(&segment),
            )
            .unwrap();
        // black_box: a constant-folded logarithm may round differently from the run-time one.
        let (rare, common) = (idf(black_box(3), 1), idf(black_box(3), 2));
        assert_eq!(weighted, [(3, common * 7.0), (0, rare + common)]);
        assert!(
            segment
                .sparse_top_k("other", &plain, 10, &all(&segment))
                .unwrap()
                .is_empty()
        );
        let unsorted = SparseVector {
            indices: vec![5, 1],
            values: vec![1.0, 1.0],
            tokens: None,
        };
        let refused = segment.sparse_top_k(
            "sparse",
            &SparseQuery {
                vector: &unsorted,
                idf: false,
            },
            1,
            &all(&segment),
        );
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("strictly ascending")
        );

        // The snapshot holds the built index: the reopened segment searches it as it was
        // and keeps it up to date.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.seg");
        assert!(segment.write_snapshot(&path, 4).unwrap());
        let snapshot = Snapshot::open(&path).unwrap().unwrap();
        let mut reopened =
            Segment::open_snapshot(&snapshot, snapshot.header.collection, parameters).unwrap();
        assert!(reopened.sparse_indexes.read().contains_key("sparse"));
        assert_eq!(
            reopened
                .sparse_top_k("sparse", &plain, 10, &all(&reopened))
                .unwrap(),
            [(3, 7.0), (0, 2.0)]
        );
        reopened.apply(batch(
            5,
            vec![sparse_put(4, &[1], &[9.0]), Change::Delete { row: 0 }],
        ));
        assert_eq!(
            reopened
                .sparse_top_k("sparse", &plain, 10, &all(&reopened))
                .unwrap(),
            [(4, 9.0), (3, 7.0)]
        );
    }

    #[test]
    fn a_version_1_snapshot_opens_and_builds_its_sparse_index_on_first_use() {
        let parameters = HnswParameters {
            space: Space::Ip,
            max_neighbors: 4,
            ef_construction: 20,
            ef_search: 20,
            num_threads: 1,
        };
        let mut segment = Segment::new(1, parameters, None, 0);
        segment.apply(ResolvedBatch {
            collection: 1,
            dimension: Some(2),
            next_row: 2,
            changes: vec![
                sparse_put(0, &[3], &[1.0]),
                sparse_put(1, &[3, 8], &[2.0, 1.0]),
            ],
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.seg");
        segment.write_snapshot(&path, 1).unwrap();
        let old = dir.path().join("v1.seg");
        std::fs::write(&old, snapshot::as_version_1(&std::fs::read(&path).unwrap())).unwrap();
        let snapshot = Snapshot::open(&old).unwrap().unwrap();
        assert!(
            snapshot
                .optional_bytes(snapshot::Kind::SparseIndexes)
                .is_none()
        );
        let opened =
            Segment::open_snapshot(&snapshot, snapshot.header.collection, parameters).unwrap();
        assert!(opened.sparse_indexes.read().is_empty());
        let query = SparseVector {
            indices: vec![3],
            values: vec![1.0],
            tokens: None,
        };
        let found = opened
            .sparse_top_k(
                "sparse",
                &SparseQuery {
                    vector: &query,
                    idf: false,
                },
                5,
                &opened.live.clone(),
            )
            .unwrap();
        assert_eq!(found, [(1, 2.0), (0, 1.0)]);
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
        let mut segment = Segment::load(1, parameters, Some(2), records);
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
    fn a_snapshot_reopens_the_segment_as_it_was_and_takes_later_writes() {
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
        segment.apply(batch(vec![Change::Put(PutRecord {
            row: 2,
            id: "id2".into(),
            embedding: Some(vec![2.0, 1.0]),
            document: Some("two".into()),
            metadata: Some([("n".to_string(), crate::metadata::MetadataValue::Int(2))].into()),
            uri: Some("u2".into()),
        })]));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.seg");
        assert!(segment.write_snapshot(&path, 9).unwrap());

        let snapshot = Snapshot::open(&path).unwrap().unwrap();
        assert_eq!(snapshot.header.seq, 9);
        let mut opened =
            Segment::open_snapshot(&snapshot, snapshot.header.collection, parameters).unwrap();
        assert_eq!(opened.index_stats().pending, 0);
        assert_eq!(opened.count(), 5);
        assert_eq!(opened.row_of("id5"), None);
        let two = opened.row(opened.row_of("id2").unwrap());
        assert_eq!((two.document, two.uri), (Some("two"), Some("u2")));
        assert_eq!(
            two.metadata().unwrap()["n"],
            crate::metadata::MetadataValue::Int(2)
        );
        assert_eq!(opened.index_stats(), segment.index_stats());
        let codes = |s: &Segment| {
            let (codes, scalings) = s.vectors.as_ref().unwrap().quantized().raw_parts();
            (codes.to_vec(), scalings.to_vec())
        };
        assert_eq!(codes(&opened), codes(&segment));
        // A write over a mapped row and a new row; the deleted row 5's tombstone is kept.
        opened.apply(ResolvedBatch {
            next_row: 7,
            ..batch(vec![put(0, [9.0, 9.0]), put(6, [6.0, 6.0])])
        });
        let everything = opened.live.clone();
        assert_eq!(opened.nearest(&[9.0, 9.0], 1, &everything)[0].row, 0);
        assert_eq!(opened.vector(0), [9.0, 9.0]);
        assert_eq!(opened.vector(6), [6.0, 6.0]);
        assert_eq!(opened.row(0).id, "id0");
        // The mapped file itself is unchanged: a second open sees the snapshot's state.
        let again = Snapshot::open(&path).unwrap().unwrap();
        let reopened = Segment::open_snapshot(&again, again.header.collection, parameters).unwrap();
        assert_eq!(reopened.vector(0), [0.0, 1.0]);
        assert_eq!(reopened.count(), 5);
    }

    #[test]
    fn a_damaged_snapshot_is_refused() {
        let parameters = HnswParameters {
            space: Space::Cosine,
            max_neighbors: 4,
            ef_construction: 20,
            ef_search: 20,
            num_threads: 1,
        };
        let mut segment = Segment::new(1, parameters, None, 0);
        segment.apply(ResolvedBatch {
            collection: 1,
            dimension: Some(2),
            next_row: 50,
            changes: (0..50).map(|r| put(r, [r as f32, 1.0])).collect(),
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.seg");
        segment.write_snapshot(&path, 3).unwrap();
        let good = std::fs::read(&path).unwrap();
        let damaged = dir.path().join("d.seg");
        for cut in [0, 100, 4096, good.len() / 2, good.len() - 1] {
            std::fs::write(&damaged, &good[..cut]).unwrap();
            assert!(Snapshot::open(&damaged).is_err(), "cut at {cut}");
        }
        // The header, the vectors (first section), the live rows (third) and the index
        // (last); the padding between sections is not read.
        for at in [20, 4096 + 8, 3 * 4096 + 2, good.len() - 2] {
            let mut flipped = good.clone();
            flipped[at] ^= 0x10;
            std::fs::write(&damaged, &flipped).unwrap();
            assert!(Snapshot::open(&damaged).is_err(), "flip at {at}");
        }
        assert!(
            Snapshot::open(&dir.path().join("missing.seg"))
                .unwrap()
                .is_none()
        );
    }
}
