//! Vector search, a leaf of the crate: a segment keeps its vectors in a [`VectorStore`] and
//! asks its [`HnswIndex`] for the nearest rows among an allowed set. The index answers from
//! an HNSW graph (`graph`), or by the exact scan of `flat` when the allowed set is small.
//! The exact scan is the index's own fallback, never a collection's index by itself, so
//! there is one index type and no trait over it. This file only names the parts: each
//! imports what it needs from its siblings, so no file here imports another in a cycle.

mod flat;
mod graph;
mod hnsw;
mod quantized;
mod vectors;

pub use flat::Hit;
pub use hnsw::{HnswIndex, HnswParameters, IndexStats};
pub use quantized::QuantizedStore;
pub use vectors::VectorStore;
