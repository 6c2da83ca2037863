//! Exact nearest-neighbour search by scanning the allowed rows in the contiguous vector
//! store. Large scans are split across the rayon pool; each part keeps its own bounded heap
//! and the heaps are merged.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::vectors::VectorStore;
use crate::distance::PreparedQuery;
use crate::threads::Workers;

/// Below this many multiply-adds a scan is faster on one thread than the cost of waking the
/// pool (about 20 µs of work).
const PARALLEL_SCAN_MIN_WORK: usize = 256 * 1024;

/// A row found by a search, with its distance to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub row: u32,
    pub distance: f32,
}

#[derive(PartialEq)]
struct Candidate(Hit);

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .distance
            .total_cmp(&other.0.distance)
            .then(self.0.row.cmp(&other.0.row))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the `k` smallest candidates seen: a max-heap whose top is the worst kept.
struct TopK {
    k: usize,
    heap: BinaryHeap<Candidate>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    fn push(&mut self, hit: Hit) {
        let candidate = Candidate(hit);
        if self.heap.len() < self.k {
            self.heap.push(candidate);
        } else if self.heap.peek().is_some_and(|worst| candidate < *worst) {
            self.heap.pop();
            self.heap.push(candidate);
        }
    }

    fn merge(mut self, other: TopK) -> TopK {
        other.heap.into_iter().for_each(|c| self.push(c.0));
        self
    }

    fn into_sorted(self) -> Vec<Hit> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| c.0)
            .collect()
    }
}

fn scan(vectors: &VectorStore, query: &PreparedQuery, k: usize, rows: &[u32]) -> TopK {
    let mut top = TopK::new(k);
    for &row in rows {
        let distance = query.distance(vectors.get(row), vectors.inverse_norm(row));
        top.push(Hit { row, distance });
    }
    top
}

pub fn exact_search(
    vectors: &VectorStore,
    query: &PreparedQuery,
    k: usize,
    allowed: &RoaringBitmap,
    workers: &Workers,
) -> Vec<Hit> {
    if k == 0 || allowed.is_empty() {
        return Vec::new();
    }
    let rows: Vec<u32> = allowed.iter().collect();
    let work = rows.len() * vectors.dimension();
    let top = if work < PARALLEL_SCAN_MIN_WORK || !workers.parallel() {
        scan(vectors, query, k, &rows)
    } else {
        let chunk = rows.len().div_ceil(workers.threads() * 4);
        workers.run(|| {
            rows.par_chunks(chunk)
                .map(|part| scan(vectors, query, k, part))
                .reduce(|| TopK::new(k), TopK::merge)
        })
    };
    top.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::Space;

    #[test]
    fn parallel_and_sequential_scans_agree_and_break_ties_by_row() {
        let dim = 16;
        let n = 40_000u32;
        let mut vectors = VectorStore::new(dim);
        for row in 0..n {
            // Many duplicate vectors, so ties must be broken by row order.
            let v: Vec<f32> = (0..dim)
                .map(|i| ((row % 97) as f32 + i as f32) * 0.01)
                .collect();
            vectors.set(row, &v);
        }
        let allowed: RoaringBitmap = (0..n).filter(|r| r % 3 != 0).collect();
        let query = PreparedQuery::new(Space::L2, &vec![0.3; dim]);
        let hits = exact_search(&vectors, &query, 25, &allowed, &Workers::new(3));
        let rows: Vec<u32> = allowed.iter().collect();
        let expected = scan(&vectors, &query, 25, &rows).into_sorted();
        assert_eq!(hits, expected);
        assert!(hits.windows(2).all(|w| {
            w[0].distance < w[1].distance || (w[0].distance == w[1].distance && w[0].row < w[1].row)
        }));
        assert!(hits.iter().all(|h| allowed.contains(h.row)));
    }
}
