//! Exact nearest-neighbour search by scanning the allowed rows in the contiguous vector
//! store. The scan reads the store's int8 codes, which bound each row's distance, and
//! measures in f32 only the rows whose bound can still beat the k-th best, nearest bound
//! first: the answer is the one a scan of every f32 vector gives (`quantized.rs` shows why).
//! Large scans are split across the rayon pool; each part keeps its own bounded heaps and
//! the parts are merged.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::quantized::{QuantizedQuery, Screened, may_place};
use super::vectors::VectorStore;
use crate::distance::PreparedQuery;
use crate::threads::Workers;

/// Below this many multiply-adds a scan is faster on one thread than the cost of waking the
/// pool (about 20 µs of work).
const PARALLEL_SCAN_MIN_WORK: usize = 256 * 1024;
/// The same for screening with int8 codes, whose multiply-adds are about four times cheaper.
const PARALLEL_SCREEN_MIN_WORK: usize = 4 * PARALLEL_SCAN_MIN_WORK;

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

    fn worst(&self) -> Option<f32> {
        (self.heap.len() >= self.k)
            .then(|| self.heap.peek().map(|c| c.0.distance))
            .flatten()
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
    match QuantizedQuery::new(query, vectors.quantized()) {
        Some(quantized) => screened_search(vectors, query, &quantized, k, &rows, workers),
        None => full_search(vectors, query, k, &rows, workers),
    }
}

/// Measures every row in f32: for queries the int8 codes cannot bound.
fn full_search(
    vectors: &VectorStore,
    query: &PreparedQuery,
    k: usize,
    rows: &[u32],
    workers: &Workers,
) -> Vec<Hit> {
    let work = rows.len() * vectors.dimension();
    let top = if work < PARALLEL_SCAN_MIN_WORK || !workers.parallel() {
        scan(vectors, query, k, rows)
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

fn screened_search(
    vectors: &VectorStore,
    query: &PreparedQuery,
    quantized: &QuantizedQuery,
    k: usize,
    rows: &[u32],
    workers: &Workers,
) -> Vec<Hit> {
    let codes = vectors.quantized();
    let work = rows.len() * vectors.dimension();
    let screened = if work < PARALLEL_SCREEN_MIN_WORK || !workers.parallel() {
        quantized.screen(codes, rows, k)
    } else {
        let chunk = rows.len().div_ceil(workers.threads() * 4);
        workers.run(|| {
            rows.par_chunks(chunk)
                .map(|part| quantized.screen(codes, part, k))
                .reduce(|| Screened::new(k), Screened::merge)
        })
    };
    let threshold = screened.threshold();
    let mut candidates = screened.candidates;
    candidates.retain(|&(lower, _)| may_place(lower, threshold));
    candidates.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut top = TopK::new(k);
    for (lower, row) in candidates {
        // Every later row is at least this far: once none can beat the k-th best, stop.
        if top
            .worst()
            .is_some_and(|worst| !may_place(lower, worst as f64))
        {
            break;
        }
        let distance = query.distance(vectors.get(row), vectors.inverse_norm(row));
        top.push(Hit { row, distance });
    }
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

    struct Random(u64);

    impl Random {
        /// Uniform in -1..1.
        fn next(&mut self) -> f32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        }

        fn below(&mut self, n: u32) -> u32 {
            ((self.next() + 1.0) / 2.0 * n as f32) as u32 % n
        }
    }

    /// A store of clustered vectors (so that many rows sit near the k-th distance) with
    /// exact duplicates, zero vectors and rows scaled far up and down.
    fn awkward_store(dim: usize, n: u32, random: &mut Random) -> VectorStore {
        let centres: Vec<Vec<f32>> = (0..8)
            .map(|_| (0..dim).map(|_| random.next()).collect())
            .collect();
        let mut vectors = VectorStore::new(dim);
        for row in 0..n {
            let v: Vec<f32> = match row % 23 {
                0 => vec![0.0; dim],
                // A copy of an earlier row: its distance ties with that row's.
                1 | 2 if row > 30 => vectors.get(random.below(row)).to_vec(),
                3 => (0..dim).map(|_| random.next() * 1e-25).collect(),
                4 => (0..dim).map(|_| random.next() * 1e12).collect(),
                5 => vec![1e30; dim],
                _ => {
                    let centre = &centres[random.below(8) as usize];
                    let spread = [0.001, 0.05, 0.3][row as usize % 3];
                    centre.iter().map(|c| c + spread * random.next()).collect()
                }
            };
            vectors.set(row, &v);
        }
        vectors
    }

    /// The int8 screening gives exactly what measuring every row in f32 gives: the same
    /// rows, in the same order, with bit-identical distances.
    #[test]
    fn screened_scans_return_exactly_the_f32_scan_s_hits() {
        let mut random = Random(41);
        let mut queries_checked = 0;
        for dim in [1usize, 3, 16, 17, 64, 385] {
            let n = 3_000u32;
            let vectors = awkward_store(dim, n, &mut random);
            for space in [Space::L2, Space::Ip, Space::Cosine] {
                for q in 0..40u32 {
                    // Not the rows at 1e30, whose f32 distances overflow: such a query
                    // is never screened (the test below).
                    let stored = (random.below(n / 23) * 23 + 6).min(n - 1);
                    let raw: Vec<f32> = match q % 5 {
                        // A stored row, and a row nudged: neighbours sit very close.
                        0 => vectors.get(stored).to_vec(),
                        1 => vectors
                            .get(stored)
                            .iter()
                            .map(|x| x + 1e-4 * random.next())
                            .collect(),
                        2 => vec![0.0; dim],
                        3 => (0..dim).map(|_| random.next() * 1e-3).collect(),
                        _ => (0..dim).map(|_| random.next() * 3.0).collect(),
                    };
                    let query = PreparedQuery::new(space, &raw);
                    let allowed: RoaringBitmap = match q % 3 {
                        0 => (0..n).collect(),
                        1 => (0..n).filter(|r| r % 7 < 2).collect(),
                        _ => (0..n).filter(|_| random.below(20) == 0).collect(),
                    };
                    let rows: Vec<u32> = allowed.iter().collect();
                    let k = [1usize, 10, 100, 5_000][q as usize % 4];
                    let expected = scan(&vectors, &query, k, &rows).into_sorted();
                    let quantized = QuantizedQuery::new(&query, vectors.quantized())
                        .expect("every query here can be screened");
                    for threads in [1, 3] {
                        let hits = screened_search(
                            &vectors,
                            &query,
                            &quantized,
                            k,
                            &rows,
                            &Workers::new(threads),
                        );
                        let bits = |h: &[Hit]| -> Vec<(u32, u32)> {
                            h.iter().map(|h| (h.row, h.distance.to_bits())).collect()
                        };
                        assert_eq!(
                            bits(&hits),
                            bits(&expected),
                            "{space:?} dim {dim} query {q} k {k} threads {threads}"
                        );
                    }
                    queries_checked += 1;
                }
            }
        }
        assert_eq!(queries_checked, 6 * 3 * 40);
    }

    #[test]
    fn queries_that_cannot_be_screened_are_scanned_in_f32() {
        let mut random = Random(5);
        let vectors = awkward_store(8, 500, &mut random);
        let allowed: RoaringBitmap = (0..500).collect();
        let rows: Vec<u32> = allowed.iter().collect();
        for raw in [vec![1e25f32; 8], vec![f32::NAN; 8]] {
            let query = PreparedQuery::new(Space::L2, &raw);
            assert!(QuantizedQuery::new(&query, vectors.quantized()).is_none());
            let hits = exact_search(&vectors, &query, 10, &allowed, &Workers::new(1));
            let expected = scan(&vectors, &query, 10, &rows).into_sorted();
            let bits = |h: &[Hit]| -> Vec<(u32, u32)> {
                h.iter().map(|h| (h.row, h.distance.to_bits())).collect()
            };
            assert_eq!(bits(&hits), bits(&expected));
        }
    }
}
