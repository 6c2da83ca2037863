//! Azurite's own HNSW graph over the segment's vector store. It copies no vector (nodes
//! are labels pointing at rows of the store) and keeps its links in flat `u32` arrays, so
//! its memory is the links alone. A batch is inserted in chunks: the neighbour searches
//! of a chunk run in parallel against the graph as it was, then the links are written in
//! order; chunks are small next to the graph, so the searches lose little by not seeing
//! each other.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use rayon::prelude::*;

use super::vectors::VectorStore;
use crate::codec::{DecodeError, Decoder, Encoder};
use crate::distance::{PreparedQuery, Space, dot, squared_l2};
use crate::threads::Workers;

#[derive(Clone, Copy, PartialEq)]
struct Scored {
    distance: f32,
    label: u32,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then(self.label.cmp(&other.label))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

thread_local! {
    /// Per-thread "visited" marks: a stamp per label, so clearing is a counter increment.
    static VISITED: RefCell<(Vec<u32>, u32)> = const { RefCell::new((Vec::new(), 0)) };
}

fn with_visited<T>(labels: usize, search: impl FnOnce(&mut dyn FnMut(u32) -> bool) -> T) -> T {
    VISITED.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (marks, stamp) = &mut *guard;
        if marks.len() < labels {
            marks.resize(labels, 0);
        }
        *stamp = stamp.wrapping_add(1);
        if *stamp == 0 {
            marks.iter_mut().for_each(|m| *m = 0);
            *stamp = 1;
        }
        let current = *stamp;
        let mut first_visit = |label: u32| {
            let mark = &mut marks[label as usize];
            let first = *mark != current;
            *mark = current;
            first
        };
        search(&mut first_visit)
    })
}

/// Where a search starts from and what it measures distance to.
trait Target {
    fn distance(&self, vectors: &VectorStore, row: u32) -> f32;
}

impl Target for PreparedQuery {
    fn distance(&self, vectors: &VectorStore, row: u32) -> f32 {
        PreparedQuery::distance(self, vectors.get(row), vectors.inverse_norm(row))
    }
}

/// A stored row as the target: used while inserting it.
struct StoredRow {
    space: Space,
    row: u32,
}

impl Target for StoredRow {
    fn distance(&self, vectors: &VectorStore, row: u32) -> f32 {
        stored_distance(self.space, vectors, self.row, row)
    }
}

fn stored_distance(space: Space, vectors: &VectorStore, a: u32, b: u32) -> f32 {
    let (va, vb) = (vectors.get(a), vectors.get(b));
    match space {
        Space::L2 => squared_l2(va, vb),
        Space::Ip => 1.0 - dot(va, vb),
        Space::Cosine => 1.0 - dot(va, vb) * vectors.inverse_norm(a) * vectors.inverse_norm(b),
    }
}

#[derive(Clone)]
pub struct Graph {
    space: Space,
    max_neighbors: usize,
    ef_construction: usize,
    level_scale: f64,
    seed: u64,
    /// label → row of the vector store.
    rows: Vec<u32>,
    levels: Vec<u8>,
    /// Layer 0: `2 * max_neighbors` slots per label, `base_len` of them used.
    base: Vec<u32>,
    base_len: Vec<u16>,
    /// Layer-0 links pointing at each label, so that pruning never cuts a label's last one
    /// (which would make it unreachable).
    in_degree: Vec<u32>,
    /// Layers above 0, only for the few labels that reach them: `upper[label][layer - 1]`.
    upper: HashMap<u32, Vec<Vec<u32>>>,
    /// Tombstones whose row no longer holds the vector they were linked by (the row was
    /// given a new vector, or was deleted before a restart and not loaded): measuring them
    /// would mislead every search that passes, so walks step over them and pruning drops
    /// links to them first.
    stale: Vec<bool>,
    entry: Option<u32>,
    /// Labels changed since the last journal frame (`index/hnsw/journal.rs`).
    dirty: roaring::RoaringBitmap,
    /// Bytes the vector store holds per vector (f32, int8), as of the last insert: the
    /// graph holds none of them, but its statistics report them beside its own.
    store_bytes_per_vector: (usize, usize),
}

/// Neighbours chosen for a new label, layer by layer from 0.
type Chosen = Vec<Vec<u32>>;

impl Graph {
    pub fn new(space: Space, max_neighbors: usize, ef_construction: usize) -> Self {
        Graph {
            space,
            max_neighbors,
            ef_construction,
            level_scale: 1.0 / (max_neighbors.max(2) as f64).ln(),
            seed: 0x005e_eda2_u64,
            rows: Vec::new(),
            levels: Vec::new(),
            base: Vec::new(),
            base_len: Vec::new(),
            in_degree: Vec::new(),
            upper: HashMap::new(),
            stale: Vec::new(),
            entry: None,
            dirty: roaring::RoaringBitmap::new(),
            store_bytes_per_vector: (0, 0),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn row(&self, label: u32) -> u32 {
        self.rows[label as usize]
    }

    pub fn is_stale(&self, label: u32) -> bool {
        self.stale[label as usize]
    }

    /// `label`'s row no longer holds the vector `label` was linked by.
    pub fn mark_stale(&mut self, label: u32) {
        self.stale[label as usize] = true;
        self.dirty.insert(label);
    }

    /// Notes that something the journal records of `label` changed outside the graph.
    pub fn mark_dirty(&mut self, label: u32) {
        self.dirty.insert(label);
    }

    /// The labels changed since the last call, which forgets them.
    pub fn take_dirty(&mut self) -> roaring::RoaringBitmap {
        std::mem::take(&mut self.dirty)
    }

    pub fn level(&self, label: u32) -> u8 {
        self.levels[label as usize]
    }

    pub fn entry(&self) -> Option<u32> {
        self.entry
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Extends the graph to `len` labels, each without links until it is restored.
    pub fn grow_to(&mut self, len: usize) {
        while self.rows.len() < len {
            self.rows.push(0);
            self.levels.push(0);
            self.base.resize(self.base.len() + self.base_capacity(), 0);
            self.base_len.push(0);
            self.in_degree.push(0);
            self.stale.push(false);
        }
    }

    /// Sets a label as a journal frame recorded it: its row, level, staleness and links
    /// per layer. The caller grew the graph to hold every label the links point at.
    pub fn restore_node(
        &mut self,
        label: u32,
        row: u32,
        level: u8,
        stale: bool,
        links: &[Vec<u32>],
    ) {
        let at = label as usize;
        self.rows[at] = row;
        self.stale[at] = stale;
        if self.levels[at] != level {
            self.levels[at] = level;
            if level > 0 {
                self.upper.insert(label, vec![Vec::new(); level as usize]);
            } else {
                self.upper.remove(&label);
            }
        }
        for (layer, links) in links.iter().enumerate() {
            self.set_links(label, layer, links);
        }
    }

    /// Sets what a journal frame records of the graph as a whole.
    pub fn restore_header(&mut self, entry: Option<u32>, seed: u64) {
        self.entry = entry;
        self.seed = seed;
    }

    pub fn link_capacity(&self, layer: usize) -> usize {
        self.capacity(layer)
    }

    fn base_capacity(&self) -> usize {
        2 * self.max_neighbors
    }

    fn capacity(&self, layer: usize) -> usize {
        if layer == 0 {
            self.base_capacity()
        } else {
            self.max_neighbors
        }
    }

    pub fn links(&self, label: u32, layer: usize) -> &[u32] {
        if layer == 0 {
            let start = label as usize * self.base_capacity();
            &self.base[start..start + self.base_len[label as usize] as usize]
        } else {
            &self.upper[&label][layer - 1]
        }
    }

    fn set_links(&mut self, label: u32, layer: usize, links: &[u32]) {
        self.dirty.insert(label);
        if layer == 0 {
            let start = label as usize * self.base_capacity();
            let old_len = self.base_len[label as usize] as usize;
            for &old in &self.base[start..start + old_len] {
                self.in_degree[old as usize] -= 1;
            }
            for &new in links {
                self.in_degree[new as usize] += 1;
            }
            self.base[start..start + links.len()].copy_from_slice(links);
            self.base_len[label as usize] = links.len() as u16;
        } else {
            let layers = self
                .upper
                .get_mut(&label)
                .expect("label reaches this layer");
            layers[layer - 1].clear();
            layers[layer - 1].extend_from_slice(links);
        }
    }

    fn random_level(&mut self) -> u8 {
        // xorshift: deterministic, so builds are reproducible.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let uniform = ((self.seed >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        ((-uniform.ln() * self.level_scale) as u8).min(15)
    }

    /// Greedy descent through the layers above `down_to`, then the entry points there.
    fn descend(
        &self,
        vectors: &VectorStore,
        target: &dyn Target,
        down_to: usize,
    ) -> Option<Scored> {
        let entry = self.entry?;
        let mut best = Scored {
            // A stale entry only starts the walk: any measured node beats it.
            distance: if self.stale[entry as usize] {
                f32::INFINITY
            } else {
                target.distance(vectors, self.row(entry))
            },
            label: entry,
        };
        for layer in (down_to + 1..=self.levels[entry as usize] as usize).rev() {
            loop {
                let mut moved = false;
                for n in self.measurable_links(best.label, layer) {
                    let d = target.distance(vectors, self.row(n));
                    if d < best.distance {
                        best = Scored {
                            distance: d,
                            label: n,
                        };
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        Some(best)
    }

    /// A node's links on `layer` that can be measured: stale labels are replaced by their
    /// own links (one step over), so that they keep joining the parts of the graph.
    fn measurable_links(&self, label: u32, layer: usize) -> impl Iterator<Item = u32> + '_ {
        self.links(label, layer)
            .iter()
            .flat_map(move |n| {
                if self.stale[*n as usize] {
                    self.links(*n, layer)
                } else {
                    std::slice::from_ref(n)
                }
            })
            .copied()
            .filter(|&m| !self.stale[m as usize])
    }

    /// Beam search of one layer. `accept` says which labels may be returned; all labels
    /// are walked through, so a restrictive filter still finds its way.
    fn search_layer(
        &self,
        vectors: &VectorStore,
        target: &dyn Target,
        entries: &[Scored],
        ef: usize,
        layer: usize,
        accept: &dyn Fn(u32) -> bool,
    ) -> Vec<Scored> {
        with_visited(self.len(), |first_visit| {
            let mut candidates: BinaryHeap<std::cmp::Reverse<Scored>> = BinaryHeap::new();
            let mut found: BinaryHeap<Scored> = BinaryHeap::new();
            let mut frontier: Vec<u32> = Vec::new();
            for &e in entries {
                first_visit(e.label);
                candidates.push(std::cmp::Reverse(e));
                if accept(e.label) {
                    found.push(e);
                }
            }
            while let Some(std::cmp::Reverse(current)) = candidates.pop() {
                if found.len() >= ef && found.peek().is_some_and(|w| current.distance > w.distance)
                {
                    break;
                }
                frontier.clear();
                for &n in self.links(current.label, layer) {
                    if !first_visit(n) {
                        continue;
                    }
                    if self.stale[n as usize] {
                        // It cannot be measured, but its links still lead on: step over it.
                        for &m in self.links(n, layer) {
                            if !self.stale[m as usize] && first_visit(m) {
                                frontier.push(m);
                            }
                        }
                    } else {
                        frontier.push(n);
                    }
                }
                for &n in &frontier {
                    vectors.prefetch(self.row(n));
                }
                for &n in &frontier {
                    let d = target.distance(vectors, self.row(n));
                    let scored = Scored {
                        distance: d,
                        label: n,
                    };
                    if found.len() < ef || found.peek().is_some_and(|w| d < w.distance) {
                        candidates.push(std::cmp::Reverse(scored));
                        if accept(n) {
                            found.push(scored);
                            if found.len() > ef {
                                found.pop();
                            }
                        }
                    }
                }
            }
            found.into_sorted_vec()
        })
    }

    /// The HNSW paper's test: `candidate` is closer to the target than to every neighbour
    /// kept so far, so keeping it spreads the links out.
    fn is_diverse(&self, vectors: &VectorStore, candidate: &Scored, kept: &[Scored]) -> bool {
        kept.iter().all(|k| {
            stored_distance(
                self.space,
                vectors,
                self.row(candidate.label),
                self.row(k.label),
            ) > candidate.distance
        })
    }

    /// The neighbour-selection heuristic of the HNSW paper: keep a candidate only if it is
    /// closer to the target than to every neighbour kept so far, which spreads links out.
    fn select(&self, vectors: &VectorStore, sorted: &[Scored], limit: usize) -> Vec<u32> {
        let mut kept: Vec<Scored> = Vec::with_capacity(limit);
        for &candidate in sorted {
            if kept.len() >= limit {
                break;
            }
            if self.is_diverse(vectors, &candidate, &kept) {
                kept.push(candidate);
            }
        }
        kept.into_iter().map(|s| s.label).collect()
    }

    fn choose_neighbours(&self, vectors: &VectorStore, label: u32, level: u8) -> Chosen {
        let target = StoredRow {
            space: self.space,
            row: self.row(label),
        };
        let top = self.entry.map_or(0, |e| self.levels[e as usize]);
        let Some(start) = self.descend(vectors, &target, level.min(top) as usize) else {
            return vec![Vec::new(); level as usize + 1];
        };
        let mut chosen = vec![Vec::new(); level as usize + 1];
        let mut entries = vec![start];
        for layer in (0..=level.min(top) as usize).rev() {
            let found = self.search_layer(
                vectors,
                &target,
                &entries,
                self.ef_construction,
                layer,
                &|l| l != label && !self.stale[l as usize],
            );
            chosen[layer] = self.select(vectors, &found, self.max_neighbors);
            entries = found;
        }
        chosen
    }

    fn link(&mut self, vectors: &VectorStore, label: u32, chosen: &Chosen) {
        for (layer, neighbours) in chosen.iter().enumerate() {
            self.set_links(label, layer, neighbours);
            for &n in neighbours {
                self.add_reverse_link(vectors, n, label, layer);
            }
        }
        let level = self.levels[label as usize];
        if self.entry.is_none_or(|e| level > self.levels[e as usize]) {
            self.entry = Some(label);
        }
    }

    fn add_reverse_link(&mut self, vectors: &VectorStore, node: u32, new: u32, layer: usize) {
        if (self.levels[node as usize] as usize) < layer {
            return;
        }
        let current = self.links(node, layer);
        if current.contains(&new) {
            return;
        }
        if current.len() < self.capacity(layer) {
            let mut links = current.to_vec();
            links.push(new);
            self.set_links(node, layer, &links);
            return;
        }
        // A full list is pruned with the diversity heuristic, then topped up with the
        // closest of the links it dropped, to three quarters of its room: the pairwise
        // comparisons are paid once per several additions, and long links that keep
        // clusters connected survive. Stale labels go first; on layer 0 a link that is its
        // target's only way in is kept.
        let node_row = self.row(node);
        let mut candidates: Vec<Scored> = current
            .iter()
            .chain(std::iter::once(&new))
            .filter(|&&l| !self.stale[l as usize])
            .map(|&l| Scored {
                distance: stored_distance(self.space, vectors, node_row, self.row(l)),
                label: l,
            })
            .collect();
        candidates.sort();
        let capacity = self.capacity(layer);
        let mut kept: Vec<Scored> = Vec::with_capacity(capacity);
        let mut dropped: Vec<Scored> = Vec::new();
        for candidate in candidates {
            let only_way_in = layer == 0
                && self.in_degree[candidate.label as usize] + u32::from(candidate.label == new) < 2;
            let keep = kept.len() < capacity
                && (only_way_in || self.is_diverse(vectors, &candidate, &kept));
            if keep {
                kept.push(candidate);
            } else {
                dropped.push(candidate);
            }
        }
        let target = (capacity * 3 / 4).max(kept.len());
        let room = target - kept.len();
        kept.extend(dropped.into_iter().take(room));
        let links: Vec<u32> = kept.iter().map(|c| c.label).collect();
        self.set_links(node, layer, &links);
    }

    fn allocate(&mut self, row: u32) -> u32 {
        let label = self.rows.len() as u32;
        let level = self.random_level();
        self.rows.push(row);
        self.levels.push(level);
        self.base.resize(self.base.len() + self.base_capacity(), 0);
        self.base_len.push(0);
        self.in_degree.push(0);
        self.stale.push(false);
        if level > 0 {
            self.upper.insert(label, vec![Vec::new(); level as usize]);
        }
        self.dirty.insert(label);
        label
    }

    /// Records what the store holds per vector, for the statistics.
    pub fn note_store(&mut self, vectors: &VectorStore) {
        self.store_bytes_per_vector = (
            vectors.f32_bytes_per_vector(),
            vectors.quantized().bytes_per_vector(),
        );
    }

    /// Adds `rows` (their current vectors) under new labels, returned in order.
    pub fn insert(&mut self, rows: &[u32], vectors: &VectorStore, workers: &Workers) -> Vec<u32> {
        self.note_store(vectors);
        let existing = self.len();
        let labels: Vec<u32> = rows.iter().map(|&row| self.allocate(row)).collect();
        let mut done = 0;
        while done < labels.len() {
            // Small graphs grow one label at a time; then chunks of an eighth of the graph,
            // when there are threads to share them.
            let linked = existing + done;
            let chunk = if linked < 1_024 || !workers.parallel() {
                1
            } else {
                (linked / 8).clamp(1, labels.len() - done)
            };
            let part = &labels[done..done + chunk];
            let chosen: Vec<Chosen> = if chunk == 1 {
                vec![self.choose_neighbours(vectors, part[0], self.levels[part[0] as usize])]
            } else {
                let graph = &*self;
                workers.run(|| {
                    part.par_iter()
                        .map(|&l| graph.choose_neighbours(vectors, l, graph.levels[l as usize]))
                        .collect()
                })
            };
            for (&label, chosen) in part.iter().zip(&chosen) {
                self.link(vectors, label, chosen);
            }
            done += chunk;
        }
        labels
    }

    /// Up to `k` accepted labels nearest to `query`, nearest first, searching with beam `ef`.
    pub fn search(
        &self,
        vectors: &VectorStore,
        query: &PreparedQuery,
        k: usize,
        ef: usize,
        accept: &dyn Fn(u32) -> bool,
    ) -> Vec<u32> {
        let Some(start) = self.descend(vectors, query, 0) else {
            return Vec::new();
        };
        let mut found = self.search_layer(vectors, query, &[start], ef.max(k), 0, accept);
        found.truncate(k);
        found.into_iter().map(|s| s.label).collect()
    }

    /// Bytes per vector in the store's f32 and int8 copies.
    pub fn store_bytes_per_vector(&self) -> (usize, usize) {
        self.store_bytes_per_vector
    }

    /// Bytes held by links (vectors are the store's, not the graph's).
    pub fn memory_bytes(&self) -> usize {
        self.base.len() * 4
            + self.base_len.len() * 2
            + self.in_degree.len() * 4
            + self.rows.len() * 5
            + self
                .upper
                .values()
                .map(|l| l.iter().map(|v| v.capacity() * 4 + 24).sum::<usize>() + 48)
                .sum::<usize>()
    }
}

impl Graph {
    pub fn encode(&self, e: &mut Encoder) {
        e.u32(self.max_neighbors as u32);
        e.u32(self.ef_construction as u32);
        e.u64(self.seed);
        e.u32(self.entry.unwrap_or(u32::MAX));
        e.len(self.rows.len());
        self.rows.iter().for_each(|&r| e.u32(r));
        self.levels.iter().for_each(|&l| e.u8(l));
        for label in 0..self.rows.len() as u32 {
            for layer in 0..=self.levels[label as usize] as usize {
                let links = self.links(label, layer);
                e.len(links.len());
                links.iter().for_each(|&n| e.u32(n));
            }
        }
    }

    /// Reads a graph written by [`Graph::encode`], checking every link and level so that a
    /// damaged file is an error rather than a graph that crashes a later search.
    pub fn decode(space: Space, d: &mut Decoder<'_>) -> Result<Graph, DecodeError> {
        let bad = |what: &str| DecodeError(format!("graph checkpoint: {what}"));
        let max_neighbors = d.u32()? as usize;
        let ef_construction = d.u32()? as usize;
        if !(1..=1_024).contains(&max_neighbors) {
            return Err(bad("neighbour count out of range"));
        }
        let mut graph = Graph::new(space, max_neighbors, ef_construction);
        graph.seed = d.u64()?;
        let entry = d.u32()?;
        let n = d.len(5)?;
        graph.rows = (0..n).map(|_| d.u32()).collect::<Result<_, _>>()?;
        graph.levels = (0..n).map(|_| d.u8()).collect::<Result<_, _>>()?;
        graph.base = vec![0; n * graph.base_capacity()];
        graph.base_len = vec![0; n];
        graph.in_degree = vec![0; n];
        graph.stale = vec![false; n];
        for label in 0..n as u32 {
            let level = graph.levels[label as usize];
            if level > 15 {
                return Err(bad("level out of range"));
            }
            if level > 0 {
                graph.upper.insert(label, vec![Vec::new(); level as usize]);
            }
            for layer in 0..=level as usize {
                let count = d.len(4)?;
                if count > graph.capacity(layer) {
                    return Err(bad("too many links"));
                }
                let links: Vec<u32> = (0..count).map(|_| d.u32()).collect::<Result<_, _>>()?;
                if links
                    .iter()
                    .any(|&l| l as usize >= n || graph.levels[l as usize] < layer as u8)
                {
                    return Err(bad("link to a missing node"));
                }
                graph.set_links(label, layer, &links);
            }
        }
        graph.entry = match entry {
            u32::MAX if n == 0 => None,
            e if (e as usize) < n => Some(e),
            _ => return Err(bad("entry point out of range")),
        };
        Ok(graph)
    }
}
