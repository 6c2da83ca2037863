//! Vector search, a leaf of the crate: a segment keeps its vectors in a [`VectorStore`] and
//! asks its [`HnswIndex`] for the nearest rows among an allowed set. The index answers from
//! an HNSW graph (`graph`), or by the exact scan of `flat` when the allowed set is small.
//! The exact scan is the index's own fallback, never a collection's index by itself, so
//! there is one index type and no trait over it.

mod flat;
mod graph;
mod hnsw;
mod vectors;

pub use hnsw::{HnswIndex, HnswParameters};
pub use vectors::VectorStore;

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
