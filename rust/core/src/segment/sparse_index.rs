//! The inverted index of one metadata key's sparse vectors: for each dimension, the rows
//! whose vector has it (ascending) with their values. A search ranks rows by dot product
//! with the query using MaxScore: query terms are ordered by the most any row can gain
//! from them, and once the k-th best score is known, the terms whose gains together
//! cannot reach it stop producing candidates and are only looked up for rows the other
//! terms bring. The answer is exactly the brute-force one, ties broken by row.
//!
//! A row is a candidate when its vector shares at least one dimension with the query;
//! rows sharing none are not returned (their score would be 0 whatever they hold).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use roaring::RoaringBitmap;

use crate::codec::{DecodeError, Decoder, Encoder};
use crate::metadata::SparseVector;

#[derive(Default, Clone)]
struct PostingList {
    rows: Vec<u32>,
    values: Vec<f32>,
    /// Bounds of the values (kept loose by removals, which never tighten them): the
    /// most a row can gain from the dimension is the query value times one of them.
    max: f32,
    min: f32,
}

impl PostingList {
    fn insert(&mut self, row: u32, value: f32) {
        if self.rows.is_empty() {
            (self.max, self.min) = (value, value);
        } else {
            self.max = self.max.max(value);
            self.min = self.min.min(value);
        }
        // Rows are usually appended (new rows get the next number); a rewritten row goes
        // back to its place.
        if self.rows.last().is_none_or(|last| *last < row) {
            self.rows.push(row);
            self.values.push(value);
            return;
        }
        let at = self.rows.partition_point(|r| *r < row);
        if self.rows[at] == row {
            self.values[at] = value;
        } else {
            self.rows.insert(at, row);
            self.values.insert(at, value);
        }
    }

    fn remove(&mut self, row: u32) {
        if let Ok(at) = self.rows.binary_search(&row) {
            self.rows.remove(at);
            self.values.remove(at);
        }
    }
}

#[derive(Default, Clone)]
pub struct SparseIndex {
    postings: HashMap<u32, PostingList>,
}

/// One result: better is a higher score, then a lower row.
#[derive(Clone, Copy, PartialEq)]
struct Scored {
    score: f32,
    row: u32,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.row.cmp(&self.row))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A query dimension during a search.
struct Term<'a> {
    list: &'a PostingList,
    query_value: f32,
    /// Position in the query: contributions are summed in this (ascending dimension)
    /// order, as `SparseVector::dot` sums, so scores are the brute-force floats.
    position: usize,
    /// The most a row can gain from this term (never below zero).
    gain: f64,
    cursor: usize,
}

impl Term<'_> {
    fn current(&self) -> Option<u32> {
        self.list.rows.get(self.cursor).copied()
    }

    /// Moves to the first row at or after `row` (galloping, then a binary search).
    fn seek(&mut self, row: u32) {
        let rows = &self.list.rows;
        let mut step = 1;
        let mut high = self.cursor;
        while high < rows.len() && rows[high] < row {
            self.cursor = high + 1;
            high = self.cursor + step;
            step *= 2;
        }
        let high = high.min(rows.len());
        self.cursor += rows[self.cursor..high].partition_point(|r| *r < row);
    }
}

/// Chroma's BM25 inverse document frequency: `ln(1 + (n - n_t + 0.5) / (n_t + 0.5))` for
/// a term held by `n_t` of `n` documents (`n_t` clamped to `n`, so it is never negative).
pub fn idf(documents: u64, holding: u64) -> f32 {
    let n = documents as f32;
    let nt = (holding as f32).min(n);
    ((n - nt + 0.5) / (nt + 0.5)).ln_1p()
}

impl SparseIndex {
    pub fn insert(&mut self, row: u32, vector: &SparseVector) {
        for (dimension, value) in vector.indices.iter().zip(&vector.values) {
            self.postings
                .entry(*dimension)
                .or_default()
                .insert(row, *value);
        }
    }

    pub fn remove(&mut self, row: u32, vector: &SparseVector) {
        for dimension in &vector.indices {
            if let Some(list) = self.postings.get_mut(dimension) {
                list.remove(row);
                if list.rows.is_empty() {
                    self.postings.remove(dimension);
                }
            }
        }
    }

    /// The postings, dimension by dimension in ascending order (so that equal indexes
    /// encode to equal bytes): `[dimensions]` then per dimension `[dimension][rows][values]`.
    pub fn encode(&self, encoder: &mut Encoder) {
        let mut dimensions: Vec<&u32> = self.postings.keys().collect();
        dimensions.sort_unstable();
        encoder.len(dimensions.len());
        for dimension in dimensions {
            let list = &self.postings[dimension];
            encoder.u32(*dimension);
            encoder.u32s(&list.rows);
            encoder.f32s(&list.values);
        }
    }

    /// Reads what `encode` wrote, refusing postings that could not have been written:
    /// rows out of order or not live, a value per row missing, values not finite.
    pub fn decode(decoder: &mut Decoder<'_>, live: &RoaringBitmap) -> Result<Self, DecodeError> {
        let invalid = |what: &str| DecodeError(format!("sparse index: {what}"));
        let count = decoder.len(12)?;
        let mut postings = HashMap::with_capacity(count);
        for _ in 0..count {
            let dimension = decoder.u32()?;
            let rows = decoder.u32s()?;
            let values = decoder.f32s()?;
            if rows.is_empty() || rows.len() != values.len() {
                return Err(invalid("a posting list without one value per row"));
            }
            if rows.windows(2).any(|pair| pair[1] <= pair[0])
                || !rows.iter().all(|row| live.contains(*row))
            {
                return Err(invalid("rows out of order or not live"));
            }
            if !values.iter().all(|value| value.is_finite()) {
                return Err(invalid("a value that is not finite"));
            }
            let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let min = values.iter().copied().fold(f32::INFINITY, f32::min);
            let list = PostingList {
                rows,
                values,
                max,
                min,
            };
            if postings.insert(dimension, list).is_some() {
                return Err(invalid("a dimension listed twice"));
            }
        }
        Ok(SparseIndex { postings })
    }

    /// How many rows hold the dimension.
    pub fn document_frequency(&self, dimension: u32) -> u64 {
        self.postings
            .get(&dimension)
            .map_or(0, |list| list.rows.len() as u64)
    }

    /// The query with each value scaled by its dimension's IDF over `documents` rows.
    pub fn idf_scaled(&self, query: &SparseVector, documents: u64) -> SparseVector {
        let values = query
            .indices
            .iter()
            .zip(&query.values)
            .map(|(dimension, value)| idf(documents, self.document_frequency(*dimension)) * value)
            .collect();
        SparseVector {
            indices: query.indices.clone(),
            values,
            tokens: query.tokens.clone(),
        }
    }

    /// The `k` allowed rows with the highest dot product with `query` (sorted strictly
    /// ascending, as `SparseVector::problem` requires), best first.
    pub fn top_k(
        &self,
        query: &SparseVector,
        k: usize,
        allowed: &RoaringBitmap,
    ) -> Vec<(u32, f32)> {
        if k == 0 {
            return Vec::new();
        }
        let mut terms: Vec<Term<'_>> = query
            .indices
            .iter()
            .zip(&query.values)
            .enumerate()
            .filter_map(|(position, (dimension, value))| {
                let list = self.postings.get(dimension)?;
                let q = f64::from(*value);
                let gain = (q * f64::from(list.max))
                    .max(q * f64::from(list.min))
                    .max(0.0);
                Some(Term {
                    list,
                    query_value: *value,
                    position,
                    gain,
                    cursor: 0,
                })
            })
            .collect();
        terms.sort_by(|a, b| a.gain.total_cmp(&b.gain));
        // Scores are f32 sums: a bound must also cover what their rounding can add, at
        // most (terms + 2) units of the last place of the largest possible magnitudes.
        let magnitude: f64 = terms
            .iter()
            .map(|t| {
                f64::from(t.query_value.abs()) * f64::from(t.list.max.abs().max(t.list.min.abs()))
            })
            .sum();
        let slack = (terms.len() + 2) as f64 * f64::from(f32::EPSILON) * magnitude;
        // gains_below[i]: what a row can gain from terms[..i] alone.
        let mut gains_below = Vec::with_capacity(terms.len() + 1);
        gains_below.push(0.0_f64);
        for term in &terms {
            gains_below.push(gains_below.last().copied().unwrap_or(0.0) + term.gain);
        }

        let mut best: BinaryHeap<Reverse<Scored>> = BinaryHeap::with_capacity(k + 1);
        let mut threshold = f64::NEG_INFINITY;
        // terms[..essential_from] cannot lift a row to the threshold on their own, so
        // only the other terms propose rows.
        let mut essential_from = 0;
        let mut contributions: Vec<(usize, f32)> = Vec::with_capacity(terms.len());
        while let Some(row) = terms[essential_from..]
            .iter()
            .filter_map(Term::current)
            .min()
        {
            contributions.clear();
            let mut partial = 0.0_f64;
            for term in &mut terms[essential_from..] {
                if term.current() == Some(row) {
                    let value = term.list.values[term.cursor];
                    term.cursor += 1;
                    contributions.push((term.position, term.query_value * value));
                    partial += f64::from(term.query_value) * f64::from(value);
                }
            }
            if !allowed.contains(row) {
                continue;
            }
            // Rows come in ascending order, so a row that only ties the k-th best loses
            // to it: a bound equal to the threshold is enough to skip.
            let mut skipped = false;
            for i in (0..essential_from).rev() {
                if partial + gains_below[i + 1] + slack <= threshold {
                    skipped = true;
                    break;
                }
                let term = &mut terms[i];
                term.seek(row);
                if term.current() == Some(row) {
                    let value = term.list.values[term.cursor];
                    contributions.push((term.position, term.query_value * value));
                    partial += f64::from(term.query_value) * f64::from(value);
                }
            }
            if skipped {
                continue;
            }
            contributions.sort_unstable_by_key(|(position, _)| *position);
            let score = contributions.iter().fold(0.0_f32, |sum, (_, c)| sum + c);
            let scored = Scored { score, row };
            if best.len() < k {
                best.push(Reverse(scored));
            } else if best.peek().is_some_and(|Reverse(worst)| scored > *worst) {
                best.pop();
                best.push(Reverse(scored));
            } else {
                continue;
            }
            if best.len() == k {
                threshold = f64::from(best.peek().expect("k > 0 results").0.score);
                while essential_from < terms.len()
                    && gains_below[essential_from + 1] + slack <= threshold
                {
                    essential_from += 1;
                }
            }
        }
        let mut found: Vec<Scored> = best.into_iter().map(|Reverse(s)| s).collect();
        found.sort_unstable_by(|a, b| b.cmp(a));
        found.into_iter().map(|s| (s.row, s.score)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn value(&mut self, signed: bool) -> f32 {
            let unit = (self.below(1 << 20) as f32) / (1 << 20) as f32;
            if signed { unit * 2.0 - 1.0 } else { unit }
        }
        fn vector(&mut self, dimensions: u64, nonzeros: u64, signed: bool) -> SparseVector {
            let mut indices: Vec<u32> = (0..1 + self.below(nonzeros))
                .map(|_| self.below(dimensions) as u32)
                .collect();
            indices.sort_unstable();
            indices.dedup();
            let values = indices.iter().map(|_| self.value(signed)).collect();
            SparseVector {
                indices,
                values,
                tokens: None,
            }
        }
    }

    fn brute_force(
        rows: &HashMap<u32, SparseVector>,
        query: &SparseVector,
        k: usize,
        allowed: &RoaringBitmap,
    ) -> Vec<(u32, f32)> {
        let mut scored: Vec<Scored> = rows
            .iter()
            .filter(|(row, vector)| {
                allowed.contains(**row)
                    && vector
                        .indices
                        .iter()
                        .any(|d| query.indices.binary_search(d).is_ok())
            })
            .map(|(row, vector)| Scored {
                score: query.dot(vector),
                row: *row,
            })
            .collect();
        scored.sort_unstable_by(|a, b| b.cmp(a));
        scored.truncate(k);
        scored.into_iter().map(|s| (s.row, s.score)).collect()
    }

    fn check_against_brute_force(seed: u64, signed: bool) {
        let mut random = Random(seed);
        let mut index = SparseIndex::default();
        let mut rows: HashMap<u32, SparseVector> = HashMap::new();
        let (dimensions, nonzeros) = (60 + random.below(200), 2 + random.below(12));
        for row in 0..400 {
            let vector = random.vector(dimensions, nonzeros, signed);
            index.insert(row, &vector);
            rows.insert(row, vector);
        }
        // Rewrites in place and deletions, as updates, upserts and deletes do.
        for _ in 0..150 {
            let row = random.below(400) as u32;
            if let Some(old) = rows.remove(&row) {
                index.remove(row, &old);
            }
            if random.below(3) > 0 {
                let vector = random.vector(dimensions, nonzeros, signed);
                index.insert(row, &vector);
                rows.insert(row, vector);
            }
        }
        for round in 0..40 {
            let query_nonzeros = 2 + random.below(10);
            let query = random.vector(dimensions, query_nonzeros, signed);
            let allowed: RoaringBitmap = match round % 3 {
                0 => (0..400).collect(),
                1 => (0..400).filter(|_| random.below(4) == 0).collect(),
                _ => (0..400).filter(|r| r % 7 < 3).collect(),
            };
            for k in [1, 3, 10, 50, 1000] {
                assert_eq!(
                    index.top_k(&query, k, &allowed),
                    brute_force(&rows, &query, k, &allowed),
                    "seed {seed}, round {round}, k {k}"
                );
            }
        }
    }

    #[test]
    fn top_k_equals_brute_force_with_positive_values() {
        for seed in 1..30 {
            check_against_brute_force(seed * 7919, false);
        }
    }

    #[test]
    fn top_k_equals_brute_force_with_negative_values() {
        for seed in 1..30 {
            check_against_brute_force(seed * 104_729, true);
        }
    }

    #[test]
    fn ties_are_broken_by_row_and_rows_sharing_nothing_are_not_returned() {
        let mut index = SparseIndex::default();
        let one = |d: u32| SparseVector {
            indices: vec![d],
            values: vec![1.0],
            tokens: None,
        };
        for row in [5, 1, 3] {
            index.insert(row, &one(2));
        }
        index.insert(4, &one(9));
        let all: RoaringBitmap = (0..10).collect();
        assert_eq!(
            index.top_k(&one(2), 10, &all),
            [(1, 1.0), (3, 1.0), (5, 1.0)]
        );
        assert_eq!(index.top_k(&one(2), 2, &all), [(1, 1.0), (3, 1.0)]);
        assert_eq!(index.top_k(&one(7), 10, &all), []);
        assert_eq!(index.top_k(&one(2), 0, &all), []);
    }

    #[test]
    fn rare_heavy_dimensions_win_over_a_common_light_one() {
        // Once the heavy rows fill the top 2, the light list stops proposing rows and is
        // only looked up: the answer must still be the exact one.
        let mut index = SparseIndex::default();
        for row in 0..10_000 {
            let mut vector = SparseVector {
                indices: vec![1],
                values: vec![0.001],
                tokens: None,
            };
            if row % 1000 == 0 {
                vector.indices.push(2);
                vector.values.push(5.0);
            }
            index.insert(row, &vector);
        }
        let query = SparseVector {
            indices: vec![1, 2],
            values: vec![1.0, 1.0],
            tokens: None,
        };
        let all: RoaringBitmap = (0..10_000).collect();
        assert_eq!(index.top_k(&query, 2, &all), [(0, 5.001), (1000, 5.001)]);
    }

    #[test]
    fn idf_is_chromas_formula() {
        let expected = |n: f32, nt: f32| ((n - nt + 0.5) / (nt + 0.5) + 1.0).ln();
        assert!((idf(10, 1) - expected(10.0, 1.0)).abs() < 1e-6);
        assert!((idf(10, 5) - expected(10.0, 5.0)).abs() < 1e-6);
        // A term every document holds still weighs a little; one overcounted is clamped.
        assert!(idf(10, 10) > 0.0);
        assert_eq!(idf(10, 12), idf(10, 10));
        let mut index = SparseIndex::default();
        let vector = |indices: Vec<u32>| SparseVector {
            values: vec![1.0; indices.len()],
            indices,
            tokens: None,
        };
        index.insert(0, &vector(vec![1, 2]));
        index.insert(1, &vector(vec![1]));
        index.insert(2, &vector(vec![1, 3]));
        let scaled = index.idf_scaled(
            &SparseVector {
                indices: vec![1, 2, 4],
                values: vec![2.0, 2.0, 2.0],
                tokens: None,
            },
            3,
        );
        assert_eq!(scaled.indices, [1, 2, 4]);
        // black_box: a constant-folded logarithm may round differently from the run-time one.
        let n = std::hint::black_box(3);
        assert_eq!(
            scaled.values,
            [2.0 * idf(n, 3), 2.0 * idf(n, 1), 2.0 * idf(n, 0)]
        );
    }
}
