//! The vector index seam. A segment keeps its vectors in a [`VectorStore`] and asks an index
//! for the nearest rows among an allowed set; the exact [`FlatIndex`] scans, and an
//! approximate graph index can take its place without the segment changing.

mod flat;

pub use flat::FlatIndex;

use roaring::RoaringBitmap;

use crate::distance::PreparedQuery;
use crate::segment::VectorStore;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub row: u32,
    pub distance: f32,
}

pub trait VectorIndex: Send + Sync {
    /// The vectors of `rows` were added or replaced in `vectors`.
    fn upsert(&mut self, rows: &[u32], vectors: &VectorStore);
    /// `rows` were deleted; they must never be returned again.
    fn remove(&mut self, rows: &[u32]);
    /// Up to `k` rows of `allowed` nearest to `query`, ascending by distance, ties by row.
    /// `allowed` only ever holds live rows.
    fn search(
        &self,
        vectors: &VectorStore,
        query: &PreparedQuery,
        k: usize,
        allowed: &RoaringBitmap,
    ) -> Vec<Hit>;
}
