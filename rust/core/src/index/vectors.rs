//! Every row's vector in one contiguous arena (row-major), so an exact scan streams through
//! memory instead of chasing a pointer per record. The inverse norm of each row sits beside
//! it for cosine, and an int8 copy of every vector beside the store, for screening scans.
//!
//! A store opened from a segment snapshot keeps the snapshot's rows where they are: a
//! private mapping of the file, read from the page cache and copied page by page only
//! when a write changes a row. Rows added after the snapshot go to an owned tail.

use memmap2::MmapMut;

use super::quantized::QuantizedStore;
use crate::distance::inverse_norm;

pub struct VectorStore {
    dimension: usize,
    /// Rows `0..mapped_rows`, privately mapped from a snapshot file.
    mapped: Option<MmapMut>,
    mapped_rows: usize,
    /// Rows from `mapped_rows` on.
    tail: Vec<f32>,
    inverse_norms: Vec<f32>,
    quantized: QuantizedStore,
}

impl VectorStore {
    pub fn new(dimension: usize) -> Self {
        VectorStore {
            dimension,
            mapped: None,
            mapped_rows: 0,
            tail: Vec::new(),
            inverse_norms: Vec::new(),
            quantized: QuantizedStore::new(dimension),
        }
    }

    /// A store whose first rows are the `rows * dimension` little-endian floats of
    /// `mapped`, with their inverse norms and their int8 copy.
    pub fn with_mapped_rows(
        dimension: usize,
        mapped: MmapMut,
        inverse_norms: Vec<f32>,
        quantized: QuantizedStore,
    ) -> Self {
        let rows = inverse_norms.len();
        assert_eq!(mapped.len(), rows * dimension * 4, "one vector per norm");
        assert_eq!(
            mapped.as_ptr().align_offset(std::mem::align_of::<f32>()),
            0,
            "mappings are page aligned"
        );
        VectorStore {
            dimension,
            mapped: Some(mapped),
            mapped_rows: rows,
            tail: Vec::new(),
            inverse_norms,
            quantized,
        }
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Rows `0..rows()` have a place in the store.
    pub fn rows(&self) -> usize {
        self.inverse_norms.len()
    }

    fn mapped_floats(&self) -> &[f32] {
        self.mapped.as_deref().map_or(&[], bytemuck::cast_slice)
    }

    pub fn set(&mut self, row: u32, vector: &[f32]) {
        debug_assert_eq!(vector.len(), self.dimension);
        let row = row as usize;
        self.cover_rows(row as u32 + 1);
        let dimension = self.dimension;
        let slot = if row < self.mapped_rows {
            let floats: &mut [f32] = bytemuck::cast_slice_mut(
                self.mapped
                    .as_deref_mut()
                    .expect("mapped rows have a mapping"),
            );
            &mut floats[row * dimension..(row + 1) * dimension]
        } else {
            let start = (row - self.mapped_rows) * dimension;
            &mut self.tail[start..start + dimension]
        };
        slot.copy_from_slice(vector);
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
            self.tail
                .resize((rows - self.mapped_rows) * self.dimension, 0.0);
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
            if (row as usize) < self.rows() {
                // The first cache lines; the hardware prefetcher follows the stream after.
                for line in self.get(row).chunks(16).take(4) {
                    // SAFETY: prefetching is only a hint and reads nothing; the address
                    // lies inside the store.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = row;
    }

    #[inline]
    pub fn get(&self, row: u32) -> &[f32] {
        let row = row as usize;
        if row < self.mapped_rows {
            &self.mapped_floats()[row * self.dimension..(row + 1) * self.dimension]
        } else {
            let start = (row - self.mapped_rows) * self.dimension;
            &self.tail[start..start + self.dimension]
        }
    }

    pub fn inverse_norm(&self, row: u32) -> f32 {
        self.inverse_norms[row as usize]
    }

    pub fn inverse_norms(&self) -> &[f32] {
        &self.inverse_norms
    }

    /// The int8 copy, kept in step with every `set` and `cover_rows`.
    pub fn quantized(&self) -> &QuantizedStore {
        &self.quantized
    }

    /// A copy that owns every row: the mapped rows are copied out, since the copy's
    /// writes must not reach this store's mapping.
    pub fn to_owned_copy(&self) -> VectorStore {
        let mut tail = Vec::with_capacity(self.mapped_floats().len() + self.tail.len());
        tail.extend_from_slice(self.mapped_floats());
        tail.extend_from_slice(&self.tail);
        VectorStore {
            dimension: self.dimension,
            mapped: None,
            mapped_rows: 0,
            tail,
            inverse_norms: self.inverse_norms.clone(),
            quantized: self.quantized.clone(),
        }
    }

    /// Bytes held per vector in f32: its values and its inverse norm.
    pub fn f32_bytes_per_vector(&self) -> usize {
        (self.dimension + 1) * std::mem::size_of::<f32>()
    }
}
