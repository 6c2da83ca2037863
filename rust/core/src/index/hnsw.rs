//! Approximate search on an HNSW graph (`hnsw_rs`), behind the same trait as the exact
//! index. The graph cannot delete or update a point, so every vector it holds has a *label*
//! of its own: writing a row's vector inserts it under a new label and turns the row's old
//! label into a tombstone, and deleting a row tombstones its label. Searches skip
//! tombstones; once they make up too much of the graph it is rebuilt from the live rows.
//!
//! The planner lives here too: a small allowed set is scanned exactly (recall 1, and faster
//! than a graph walk that must skip most nodes); a larger one is searched on the graph with
//! the filter applied during the walk, widening the beam until enough rows pass.

use hnsw_rs::prelude::{Distance, Hnsw};
use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::flat::exact_search;
use super::{Hit, IndexStats, VectorIndex};
use crate::config::HnswConfiguration;
use crate::distance::{PreparedQuery, Space, dot, inverse_norm, squared_l2};
use crate::segment::VectorStore;

/// `hnsw_rs` only stores its layers in dumps when there are exactly 16 of them.
const MAX_LAYERS: usize = 16;
/// Batches at least this large are inserted on every core; smaller ones are not worth
/// waking the thread pool for.
const PARALLEL_INSERT_MIN: usize = 2_000;
/// Allowed sets up to this size are always scanned exactly.
const EXACT_SCAN_MIN: u64 = 2_048;
/// Allowed sets up to this share of the live rows are scanned exactly too: scanning them
/// costs about as much as a filtered graph walk and always finds the true neighbours.
const EXACT_SCAN_SHARE: f64 = 0.2;
/// The graph is rebuilt when tombstones reach this share of its points.
const REBUILD_TOMBSTONE_SHARE: f64 = 0.3;
/// ... but not for small graphs, which the exact path serves anyway.
const REBUILD_MIN_POINTS: usize = 1_000;
const NO_LABEL: u32 = u32::MAX;

/// Squared Euclidean distance, as `l2` reports it.
#[derive(Default, Clone, Copy)]
pub struct GraphSquaredL2;

impl Distance<f32> for GraphSquaredL2 {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        finite_or_max(squared_l2(a, b))
    }
}

/// `1 - a·b` (on normalised vectors for cosine), mapped onto positive numbers by an
/// increasing function: the graph needs non-negative distances and compares them only
/// with each other, so any increasing map leaves its decisions unchanged. Returned
/// distances are recomputed exactly, so the mapping never shows.
#[derive(Default, Clone, Copy)]
pub struct GraphDot;

impl Distance<f32> for GraphDot {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = 1.0 - dot(a, b);
        finite_or_max(if d >= 0.0 { d + 1.0 } else { d.exp() })
    }
}

/// Extreme inputs can overflow to infinity or NaN, which `hnsw_rs` refuses with a panic.
fn finite_or_max(d: f32) -> f32 {
    if d.is_finite() { d } else { f32::MAX }
}

enum Graph {
    SquaredL2(Hnsw<'static, f32, GraphSquaredL2>),
    Dot(Hnsw<'static, f32, GraphDot>),
}

/// What to build and search with; the mutable search parameters change in place.
#[derive(Debug, Clone, Copy)]
pub struct HnswParameters {
    pub space: Space,
    pub max_neighbors: usize,
    pub ef_construction: usize,
    pub ef_search: usize,
}

impl From<&HnswConfiguration> for HnswParameters {
    fn from(config: &HnswConfiguration) -> Self {
        HnswParameters {
            space: config.space,
            max_neighbors: config.max_neighbors,
            ef_construction: config.ef_construction,
            ef_search: config.ef_search,
        }
    }
}

impl Graph {
    fn new(parameters: &HnswParameters, capacity: usize) -> Graph {
        let (m, ef) = (parameters.max_neighbors, parameters.ef_construction);
        match parameters.space {
            Space::L2 => Graph::SquaredL2(Hnsw::new(m, capacity, MAX_LAYERS, ef, GraphSquaredL2)),
            Space::Ip | Space::Cosine => {
                Graph::Dot(Hnsw::new(m, capacity, MAX_LAYERS, ef, GraphDot))
            }
        }
    }

    fn insert(&self, points: &Vec<(&[f32], usize)>) {
        let parallel = points.len() >= PARALLEL_INSERT_MIN;
        match self {
            Graph::SquaredL2(h) if parallel => h.parallel_insert_slice(points),
            Graph::Dot(h) if parallel => h.parallel_insert_slice(points),
            Graph::SquaredL2(h) => points.iter().for_each(|p| h.insert_slice(*p)),
            Graph::Dot(h) => points.iter().for_each(|p| h.insert_slice(*p)),
        }
    }

    fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: &dyn Fn(&usize) -> bool,
    ) -> Vec<usize> {
        let found = match self {
            Graph::SquaredL2(h) => h.search_filter(query, k, ef, Some(&filter)),
            Graph::Dot(h) => h.search_filter(query, k, ef, Some(&filter)),
        };
        found.into_iter().map(|n| n.d_id).collect()
    }
}

pub struct HnswIndex {
    parameters: HnswParameters,
    graph: Graph,
    /// label → row.
    row_of_label: Vec<u32>,
    /// row → its current label, `NO_LABEL` when the row has none.
    label_of_row: Vec<u32>,
    tombstones: usize,
}

impl HnswIndex {
    pub fn new(parameters: HnswParameters) -> Self {
        HnswIndex {
            parameters,
            graph: Graph::new(&parameters, 1_024),
            row_of_label: Vec::new(),
            label_of_row: Vec::new(),
            tombstones: 0,
        }
    }

    fn points(&self) -> usize {
        self.row_of_label.len()
    }

    fn live_points(&self) -> usize {
        self.points() - self.tombstones
    }

    fn retire_label_of(&mut self, row: u32) {
        if let Some(label) = self.label_of_row.get_mut(row as usize)
            && *label != NO_LABEL
        {
            *label = NO_LABEL;
            self.tombstones += 1;
        }
    }

    fn is_current(&self, label: usize) -> bool {
        let row = self.row_of_label[label];
        self.label_of_row.get(row as usize) == Some(&(label as u32))
    }

    /// Inserts the current vectors of `rows` under new labels.
    fn insert_rows(&mut self, rows: &[u32], vectors: &VectorStore) {
        let first_label = self.row_of_label.len();
        for (offset, &row) in rows.iter().enumerate() {
            self.retire_label_of(row);
            if self.label_of_row.len() <= row as usize {
                self.label_of_row.resize(row as usize + 1, NO_LABEL);
            }
            self.label_of_row[row as usize] = (first_label + offset) as u32;
            self.row_of_label.push(row);
        }
        // The graph compares normalised vectors for cosine; it keeps its own copy anyway.
        let normalised: Vec<Vec<f32>> = match self.parameters.space {
            Space::Cosine => rows
                .par_iter()
                .map(|&row| {
                    let v = vectors.get(row);
                    let scale = inverse_norm(v);
                    v.iter().map(|x| x * scale).collect()
                })
                .collect(),
            Space::L2 | Space::Ip => Vec::new(),
        };
        let points: Vec<(&[f32], usize)> = rows
            .iter()
            .enumerate()
            .map(|(offset, &row)| {
                let data = normalised
                    .get(offset)
                    .map_or_else(|| vectors.get(row), Vec::as_slice);
                (data, first_label + offset)
            })
            .collect();
        self.graph.insert(&points);
    }

    fn graph_search(
        &self,
        vectors: &VectorStore,
        query: &PreparedQuery,
        k: usize,
        allowed: &RoaringBitmap,
        everything_allowed: bool,
    ) -> Option<Vec<Hit>> {
        let wanted = k.min(allowed.len() as usize);
        let mut ef = self.parameters.ef_search.max(k);
        loop {
            let filter = |label: &usize| {
                self.is_current(*label)
                    && (everything_allowed || allowed.contains(self.row_of_label[*label]))
            };
            let labels = self.graph.search(query.graph_vector(), k, ef, &filter);
            if labels.len() >= wanted {
                let mut hits: Vec<Hit> = labels
                    .into_iter()
                    .map(|label| {
                        let row = self.row_of_label[label];
                        Hit {
                            row,
                            distance: query.distance(vectors.get(row), vectors.inverse_norm(row)),
                        }
                    })
                    .collect();
                hits.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.row.cmp(&b.row)));
                return Some(hits);
            }
            // Too few rows passed the filter within the beam: widen it, and once it spans
            // the whole graph let the exact scan answer instead.
            if ef >= self.points() {
                return None;
            }
            ef = (ef * 4).min(self.points());
        }
    }
}

impl VectorIndex for HnswIndex {
    fn upsert(&mut self, rows: &[u32], vectors: &VectorStore) {
        self.insert_rows(rows, vectors);
    }

    fn remove(&mut self, rows: &[u32]) {
        rows.iter().for_each(|&row| self.retire_label_of(row));
    }

    fn compact(&mut self, vectors: &VectorStore, live: &RoaringBitmap) {
        let sparse = self.tombstones as f64 >= REBUILD_TOMBSTONE_SHARE * self.points() as f64;
        if self.points() < REBUILD_MIN_POINTS || !sparse {
            return;
        }
        log::info!(
            "rebuilding an HNSW graph of {} points, {} of them deleted or replaced",
            self.points(),
            self.tombstones
        );
        let rows: Vec<u32> = live.iter().collect();
        *self = HnswIndex {
            graph: Graph::new(&self.parameters, rows.len()),
            ..HnswIndex::new(self.parameters)
        };
        self.insert_rows(&rows, vectors);
    }

    fn search(
        &self,
        vectors: &VectorStore,
        query: &PreparedQuery,
        k: usize,
        allowed: &RoaringBitmap,
    ) -> Vec<Hit> {
        let live = self.live_points() as u64;
        let small = allowed.len() <= EXACT_SCAN_MIN
            || (allowed.len() as f64) <= EXACT_SCAN_SHARE * live as f64;
        if k == 0 || allowed.is_empty() || small {
            return exact_search(vectors, query, k, allowed);
        }
        let everything_allowed = allowed.len() >= live;
        self.graph_search(vectors, query, k, allowed, everything_allowed)
            .unwrap_or_else(|| exact_search(vectors, query, k, allowed))
    }

    fn set_ef_search(&mut self, ef_search: usize) {
        self.parameters.ef_search = ef_search;
    }

    fn stats(&self) -> IndexStats {
        IndexStats {
            kind: "hnsw",
            points: self.points(),
            tombstones: self.tombstones,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_vectors(n: u32, dim: usize, seed: u64) -> VectorStore {
        let mut state = seed;
        let mut vectors = VectorStore::new(dim);
        for row in 0..n {
            let v: Vec<f32> = (0..dim)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
                })
                .collect();
            vectors.set(row, &v);
        }
        vectors
    }

    fn index(space: Space, vectors: &VectorStore, rows: &[u32]) -> HnswIndex {
        let mut index = HnswIndex::new(HnswParameters {
            space,
            max_neighbors: 16,
            ef_construction: 100,
            ef_search: 100,
        });
        index.upsert(rows, vectors);
        index
    }

    fn recall(
        index: &HnswIndex,
        vectors: &VectorStore,
        space: Space,
        allowed: &RoaringBitmap,
    ) -> f64 {
        let mut found = 0;
        let queries = random_vectors(40, vectors.dimension(), 99);
        for q in 0..40 {
            let query = PreparedQuery::new(space, queries.get(q));
            let truth: Vec<u32> = exact_search(vectors, &query, 10, allowed)
                .iter()
                .map(|h| h.row)
                .collect();
            let hits = index.search(vectors, &query, 10, allowed);
            assert_eq!(hits.len(), 10);
            assert!(hits.iter().all(|h| allowed.contains(h.row)));
            assert!(hits.windows(2).all(|w| w[0].distance <= w[1].distance));
            found += hits.iter().filter(|h| truth.contains(&h.row)).count();
        }
        found as f64 / 400.0
    }

    #[test]
    fn finds_true_neighbours_in_every_space() {
        let vectors = random_vectors(6_000, 24, 1);
        let rows: Vec<u32> = (0..6_000).collect();
        let all: RoaringBitmap = rows.iter().copied().collect();
        for space in [Space::L2, Space::Cosine, Space::Ip] {
            let index = index(space, &vectors, &rows);
            let r = recall(&index, &vectors, space, &all);
            assert!(r >= 0.9, "{space:?} recall {r}");
        }
    }

    #[test]
    fn filtered_searches_return_enough_allowed_rows() {
        let vectors = random_vectors(6_000, 16, 2);
        let rows: Vec<u32> = (0..6_000).collect();
        let index = index(Space::L2, &vectors, &rows);
        // 40% allowed: the graph path with the filter applied during the walk.
        let allowed: RoaringBitmap = rows.iter().copied().filter(|r| r % 5 < 2).collect();
        assert!(recall(&index, &vectors, Space::L2, &allowed) >= 0.9);
        // 1% allowed: the exact path, so the answer is the true one.
        let few: RoaringBitmap = rows.iter().copied().filter(|r| r % 100 == 7).collect();
        assert_eq!(recall(&index, &vectors, Space::L2, &few), 1.0);
    }

    #[test]
    fn deleted_and_replaced_vectors_are_never_returned_and_get_rebuilt_away() {
        let mut vectors = random_vectors(4_000, 8, 3);
        let rows: Vec<u32> = (0..4_000).collect();
        let mut index = index(Space::L2, &vectors, &rows);
        let deleted: Vec<u32> = (0..1_000).collect();
        index.remove(&deleted);
        // Rows 1000..1400 get new vectors: their old labels become tombstones.
        let replaced: Vec<u32> = (1_000..1_400).collect();
        let fresh = random_vectors(400, 8, 4);
        for (i, &row) in replaced.iter().enumerate() {
            vectors.set(row, fresh.get(i as u32));
        }
        index.upsert(&replaced, &vectors);
        let live: RoaringBitmap = (1_000..4_000).collect();
        assert_eq!(index.stats().tombstones, 1_400);
        for q in 0..20u32 {
            let query = PreparedQuery::new(Space::L2, vectors.get(1_000 + q));
            let hits = index.search(&vectors, &query, 5, &live);
            assert_eq!(
                hits[0].row,
                1_000 + q,
                "a replaced row is found by its new vector"
            );
            assert!(hits.iter().all(|h| h.row >= 1_000));
        }
        index.compact(&vectors, &live);
        assert_eq!(
            index.stats(),
            IndexStats {
                kind: "hnsw",
                points: 3_000,
                tombstones: 0
            }
        );
        assert!(recall(&index, &vectors, Space::L2, &live) >= 0.9);
    }
}
