//! Every row's vector in one contiguous arena (row-major), so an exact scan streams through
//! memory instead of chasing a pointer per record. The inverse norm of each row sits beside
//! it for cosine, and an int8 copy of every vector beside the store, for screening scans.

use super::quantized::QuantizedStore;
use crate::distance::inverse_norm;

pub struct VectorStore {
    dimension: usize,
    data: Vec<f32>,
    inverse_norms: Vec<f32>,
    quantized: QuantizedStore,
}

impl VectorStore {
    pub fn new(dimension: usize) -> Self {
        VectorStore {
            dimension,
            data: Vec::new(),
            inverse_norms: Vec::new(),
            quantized: QuantizedStore::new(dimension),
        }
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    pub fn set(&mut self, row: u32, vector: &[f32]) {
        debug_assert_eq!(vector.len(), self.dimension);
        let row = row as usize;
        if self.inverse_norms.len() <= row {
            self.inverse_norms.resize(row + 1, 0.0);
            self.data.resize((row + 1) * self.dimension, 0.0);
        }
        self.data[row * self.dimension..(row + 1) * self.dimension].copy_from_slice(vector);
        self.inverse_norms[row] = inverse_norm(vector);
        self.quantized.set(row as u32, vector);
    }

    /// Makes room for rows `0..rows`; new rows are zero vectors. A loaded segment covers
    /// every row number ever assigned, so that a restored graph's tombstones, whose rows
    /// were deleted before the load, still point inside the store.
    pub fn cover_rows(&mut self, rows: u32) {
        let rows = rows as usize;
        if self.inverse_norms.len() < rows {
            self.inverse_norms.resize(rows, 0.0);
            self.data.resize(rows * self.dimension, 0.0);
        }
        self.quantized.cover_rows(rows as u32);
    }

    /// Asks the CPU to start loading a row's vector, so that a graph walk can measure one
    /// neighbour while the next ones arrive from memory.
    #[inline]
    pub fn prefetch(&self, row: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let start = row as usize * self.dimension;
            if let Some(first) = self.data.get(start..start + self.dimension) {
                // The first cache lines; the hardware prefetcher follows the stream after.
                for line in first.chunks(16).take(4) {
                    // SAFETY: prefetching is only a hint and reads nothing; the address
                    // lies inside the arena.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = row;
    }

    pub fn get(&self, row: u32) -> &[f32] {
        let start = row as usize * self.dimension;
        &self.data[start..start + self.dimension]
    }

    pub fn inverse_norm(&self, row: u32) -> f32 {
        self.inverse_norms[row as usize]
    }

    /// The int8 copy, kept in step with every `set` and `cover_rows`.
    pub fn quantized(&self) -> &QuantizedStore {
        &self.quantized
    }

    /// Bytes held per vector in f32: its values and its inverse norm.
    pub fn f32_bytes_per_vector(&self) -> usize {
        (self.dimension + 1) * std::mem::size_of::<f32>()
    }
}
