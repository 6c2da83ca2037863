//! The vector index seam. A segment keeps its vectors in a [`VectorStore`] and asks an index
//! for the nearest rows among an allowed set. [`HnswIndex`] answers from an HNSW graph, or
//! by the exact scan of `flat` when the allowed set is small.

mod flat;
mod graph;
mod hnsw;
mod vectors;

pub use hnsw::{HnswIndex, HnswParameters};
pub use vectors::VectorStore;

use roaring::RoaringBitmap;

use crate::distance::PreparedQuery;
use crate::threads::Workers;

/// What an index holds, for users to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    pub kind: &'static str,
    /// Vectors in the index, including tombstones.
    pub points: usize,
    /// Vectors of deleted or since-replaced rows, skipped by searches until a rebuild.
    pub tombstones: usize,
    /// Memory held by the index itself (the vectors belong to the segment's store).
    pub bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub row: u32,
    pub distance: f32,
}

pub trait VectorIndex: Send + Sync {
    /// The vectors of `rows` were added or replaced in `vectors`.
    fn upsert(&mut self, rows: &[u32], vectors: &VectorStore, workers: &Workers);
    /// `rows` were deleted; they must never be returned again.
    fn remove(&mut self, rows: &[u32]);
    /// Gives back space held by deleted and replaced vectors, when there is enough of it.
    fn compact(&mut self, vectors: &VectorStore, live: &RoaringBitmap, workers: &Workers);
    /// The index as bytes to store, restorable by the index type.
    fn checkpoint(&self, vectors: &VectorStore) -> Vec<u8>;
    /// Changes the search beam width; it takes effect with the next search.
    fn set_ef_search(&mut self, ef_search: usize);
    fn stats(&self) -> IndexStats;
    /// Up to `k` rows of `allowed` nearest to `query`, ascending by distance, ties by row.
    /// `allowed` only ever holds live rows.
    fn search(
        &self,
        vectors: &VectorStore,
        query: &PreparedQuery,
        k: usize,
        allowed: &RoaringBitmap,
        workers: &Workers,
    ) -> Vec<Hit>;
}
