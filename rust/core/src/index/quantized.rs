//! An int8 copy of every vector, for screening exact scans: a scan reads a quarter of the
//! bytes from memory, bounds each row's f32 distance from its codes, and measures in f32
//! only the rows whose bound can still beat the k-th best. The answer is the f32 scan's:
//! the same rows with the same distances.
//!
//! Each vector `x` is stored as codes `q` in -127..=127 and a scale `s` of its own
//! (`s = max |x_i| / 127`), so `x = s·q + e`, and beside them an upper bound on the norm of
//! the residual `e`, computed exactly in f64 from the stored scale and codes. The query is
//! quantized the same way. With `a = â + e_a` and `b = b̂ + e_b`,
//! `a·b − â·b̂ = â·e_b + e_a·b`, so by Cauchy–Schwarz `|a·b − â·b̂| ≤ |â|·|e_b| + |e_a|·|b|`,
//! and `|(a − b) − (â − b̂)| ≤ |e_a| + |e_b|` bounds the l2 distance. `â·b̂` is an exact
//! integer sum times the two scales, taken in f64. Last, the bound must hold for the
//! distance as the f32 kernels round it, not for the real one: a sum of n terms rounded in
//! f32 is off by at most about `n·2⁻²⁴` times the sum of the terms' magnitudes, plus what
//! underflow loses, and each bound is widened by twice that.
//!
//! Vectors whose f32 distances could overflow (norm above 1e18, or not finite) are never
//! screened out: their bounds are infinite, so they are always measured.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::distance::{PreparedQuery, Space, inverse_norm};

const LARGEST_CODE: f32 = 127.0;
/// Integer products sum into i32 lanes and the codes' squares into a u32: with codes in
/// -127..=127 neither can overflow up to this many dimensions. Larger vectors (no embedding
/// model comes near) get no int8 copy and are scanned in f32.
const MAX_DIMENSION: usize = 1 << 18;
/// Norms up to this keep every f32 distance finite (products and sums stay below 1e37),
/// which the rounding bounds below assume.
const LARGEST_SCREENED_NORM: f64 = 1e18;
/// The f32 unit roundoff, doubled for the margin the bounds keep.
const ROUNDOFF: f64 = 1.0 / (1u64 << 23) as f64;
/// The smallest f32 subnormal: what one product or square loses at most by underflowing,
/// doubled likewise.
const UNDERFLOW: f64 = 2.0 * 1.401_298_464_324_817e-45;
/// Relative slack for the few f64 operations in a bound (each rounds by 2⁻⁵³).
const F64_SLACK: f64 = 1e-12;

/// How a vector's codes map back to it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
struct Scaling {
    scale: f32,
    /// An upper bound on `|x − scale·codes|`; infinite for a vector never screened.
    residual: f32,
    /// `Σ codes²`, exact.
    code_square_sum: u32,
    /// The f32 store's inverse norm of the same vector, which cosine distances are scaled
    /// by: kept here too, so that a screened row is read from one place.
    inverse_norm: f32,
}

// SAFETY: four 4-byte fields in C layout, no padding; every bit pattern is a value (a
// residual that is not finite marks a row never screened).
unsafe impl bytemuck::Zeroable for Scaling {}
// SAFETY: as above.
unsafe impl bytemuck::Pod for Scaling {}

impl Scaling {
    const UNSCREENED: Scaling = Scaling {
        scale: 0.0,
        residual: f32::INFINITY,
        code_square_sum: 0,
        inverse_norm: 0.0,
    };

    fn is_screened(self) -> bool {
        self.residual.is_finite()
    }

    /// `|s·q|`, the norm of the vector the codes stand for.
    fn code_norm(self) -> f64 {
        self.scale as f64 * (self.code_square_sum as f64).sqrt()
    }
}

/// Writes `vector`'s codes into `codes` and returns their scaling.
fn quantize(vector: &[f32], codes: &mut [i8]) -> Scaling {
    let norm = vector
        .iter()
        .map(|&x| x as f64 * x as f64)
        .sum::<f64>()
        .sqrt();
    if !norm.is_finite() || norm > LARGEST_SCREENED_NORM {
        codes.fill(0);
        return Scaling::UNSCREENED;
    }
    let largest = vector.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = largest / LARGEST_CODE;
    let (mut residual_square, mut code_square_sum) = (0.0f64, 0u32);
    for (code, &x) in codes.iter_mut().zip(vector) {
        // The division rounds, and a subnormal scale is coarse: clamping keeps every code
        // in range, and the residual below is measured from the codes actually kept.
        let q = if scale > 0.0 {
            (x / scale).round().clamp(-LARGEST_CODE, LARGEST_CODE)
        } else {
            0.0
        };
        *code = q as i8;
        let r = x as f64 - scale as f64 * q as f64;
        residual_square += r * r;
        code_square_sum += (q as i32 * q as i32) as u32;
    }
    Scaling {
        scale,
        residual: ((residual_square.sqrt() * (1.0 + F64_SLACK)) as f32).next_up(),
        code_square_sum,
        inverse_norm: inverse_norm(vector),
    }
}

/// The int8 codes of every row of a [`VectorStore`](super::vectors::VectorStore), row-major
/// like its vectors, and each row's scaling.
#[derive(Clone)]
pub struct QuantizedStore {
    dimension: usize,
    codes: Vec<i8>,
    scalings: Vec<Scaling>,
}

impl QuantizedStore {
    pub fn new(dimension: usize) -> Self {
        QuantizedStore {
            dimension,
            codes: Vec::new(),
            scalings: Vec::new(),
        }
    }

    /// The codes and the scalings as bytes, to store in a segment snapshot.
    pub fn raw_parts(&self) -> (&[u8], &[u8]) {
        (
            bytemuck::cast_slice(&self.codes),
            bytemuck::cast_slice(&self.scalings),
        )
    }

    /// A store of `rows` rows read back from [`QuantizedStore::raw_parts`]; `None` when the
    /// bytes do not hold exactly that many.
    pub fn from_raw_parts(
        dimension: usize,
        rows: usize,
        codes: &[u8],
        scalings: &[u8],
    ) -> Option<Self> {
        let mut store = QuantizedStore::new(dimension);
        if !store.enabled() {
            return (codes.is_empty() && scalings.is_empty()).then_some(store);
        }
        if codes.len() != rows * dimension
            || scalings.len() != rows * std::mem::size_of::<Scaling>()
        {
            return None;
        }
        store.codes = bytemuck::cast_slice(codes).to_vec();
        store.scalings = scalings
            .chunks_exact(std::mem::size_of::<Scaling>())
            .map(bytemuck::pod_read_unaligned)
            .collect();
        Some(store)
    }

    fn enabled(&self) -> bool {
        self.dimension <= MAX_DIMENSION
    }

    /// Bytes held per vector: its codes and its scaling (16 bytes).
    pub fn bytes_per_vector(&self) -> usize {
        if self.enabled() {
            self.dimension + std::mem::size_of::<Scaling>()
        } else {
            0
        }
    }

    pub fn set(&mut self, row: u32, vector: &[f32]) {
        if !self.enabled() {
            return;
        }
        self.cover_rows(row + 1);
        let start = row as usize * self.dimension;
        self.scalings[row as usize] =
            quantize(vector, &mut self.codes[start..start + self.dimension]);
    }

    /// Makes room for rows `0..rows`; new rows are zero vectors, as in the f32 store.
    pub fn cover_rows(&mut self, rows: u32) {
        let rows = rows as usize;
        if self.enabled() && self.scalings.len() < rows {
            // Zeros, the f32 store's inverse norm of such a row included.
            self.scalings.resize(rows, Scaling::default());
            self.codes.resize(rows * self.dimension, 0);
        }
    }

    fn codes(&self, row: u32) -> &[i8] {
        let start = row as usize * self.dimension;
        &self.codes[start..start + self.dimension]
    }

    /// Asks the CPU to start loading a row's codes and scaling: the allowed rows of a scan
    /// are scattered, which the hardware prefetcher cannot follow.
    #[inline]
    fn prefetch(&self, row: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let start = row as usize * self.dimension;
            if let (Some(codes), Some(scaling)) = (
                self.codes.get(start..start + self.dimension),
                self.scalings.get(row as usize),
            ) {
                // SAFETY (both): prefetching is only a hint and reads nothing; the
                // addresses lie inside the store.
                for line in codes.chunks(64) {
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr()) };
                }
                unsafe { _mm_prefetch::<_MM_HINT_T0>((scaling as *const Scaling).cast()) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = row;
    }
}

/// `Σ a_i·b_i` over 16 independent i32 lanes, which LLVM vectorises on any target.
#[inline(always)]
fn code_dot_lanes(query: &[i16], codes: &[i8]) -> i64 {
    const LANES: usize = 16;
    let mut acc = [0i32; LANES];
    let (q_chunks, c_chunks) = (query.chunks_exact(LANES), codes.chunks_exact(LANES));
    let tail: i64 = q_chunks
        .remainder()
        .iter()
        .zip(c_chunks.remainder())
        .map(|(&q, &c)| q as i64 * c as i64)
        .sum();
    for (q, c) in q_chunks.zip(c_chunks) {
        for i in 0..LANES {
            acc[i] += q[i] as i32 * c[i] as i32;
        }
    }
    acc.iter().map(|&x| x as i64).sum::<i64>() + tail
}

/// The same sum with AVX2: 16 codes widened to i16 and multiplied in pairs per step.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn code_dot_avx2(query: &[i16], codes: &[i8]) -> i64 {
    use std::arch::x86_64::*;
    debug_assert_eq!(query.len(), codes.len());
    let n = codes.len().min(query.len());
    let (q, c) = (query.as_ptr(), codes.as_ptr());
    let mut acc0 = _mm256_setzero_si256();
    let mut acc1 = _mm256_setzero_si256();
    let mut i = 0;
    // SAFETY (all loads below): `i + 32 <= n` or `i + 16 <= n`, so each unaligned load of 16
    // codes or 16 query values reads inside both slices.
    unsafe {
        while i + 32 <= n {
            let c0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(c.add(i).cast()));
            let c1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(c.add(i + 16).cast()));
            let q0 = _mm256_loadu_si256(q.add(i).cast());
            let q1 = _mm256_loadu_si256(q.add(i + 16).cast());
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c0, q0));
            acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(c1, q1));
            i += 32;
        }
        if i + 16 <= n {
            let c0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(c.add(i).cast()));
            let q0 = _mm256_loadu_si256(q.add(i).cast());
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c0, q0));
            i += 16;
        }
    }
    let mut lanes = [0i32; 8];
    // SAFETY: `lanes` is 32 bytes, one unaligned store.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), _mm256_add_epi32(acc0, acc1)) };
    let tail: i64 = query[i..n]
        .iter()
        .zip(&codes[i..n])
        .map(|(&q, &c)| q as i64 * c as i64)
        .sum();
    lanes.iter().map(|&x| x as i64).sum::<i64>() + tail
}

/// A row whose lower bound is `lower` may still be among the nearest when `threshold` is
/// the k-th distance or a bound on it: ties and NaN must be measured too.
pub fn may_place(lower: f64, threshold: f64) -> bool {
    lower.partial_cmp(&threshold) != Some(Ordering::Greater)
}

/// f64 ordered totally, for the heap of upper bounds.
#[derive(Clone, Copy, PartialEq)]
struct Bound(f64);

impl Eq for Bound {}

impl Ord for Bound {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl PartialOrd for Bound {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What screening a part of the allowed rows leaves: the rows that may still be among the
/// `k` nearest, each with a lower bound on its distance, and the `k` smallest upper bounds.
pub struct Screened {
    k: usize,
    /// `(lower bound, row)`.
    pub candidates: Vec<(f64, u32)>,
    upper: BinaryHeap<Bound>,
}

impl Screened {
    pub fn new(k: usize) -> Self {
        Screened {
            k,
            candidates: Vec::new(),
            upper: BinaryHeap::with_capacity(k + 1),
        }
    }

    /// No row whose lower bound exceeds this can be among the `k` nearest: `k` rows are
    /// at most this far.
    pub fn threshold(&self) -> f64 {
        match self.upper.peek() {
            Some(worst) if self.upper.len() >= self.k => worst.0,
            _ => f64::INFINITY,
        }
    }

    fn add_upper(&mut self, upper: f64) {
        if self.upper.len() < self.k {
            self.upper.push(Bound(upper));
        } else if self.upper.peek().is_some_and(|w| upper < w.0) {
            self.upper.pop();
            self.upper.push(Bound(upper));
        }
    }

    pub fn merge(mut self, other: Screened) -> Screened {
        self.candidates.extend(other.candidates);
        other.upper.into_iter().for_each(|u| self.add_upper(u.0));
        self
    }
}

/// A query quantized like the stored vectors, with what its bounds need.
pub struct QuantizedQuery {
    space: Space,
    codes: Vec<i16>,
    scale: f64,
    /// `|â|`.
    code_norm: f64,
    /// An upper bound on `|e_a|`.
    residual: f64,
    /// f32 rounding of a distance over this many dimensions, relative and by underflow.
    rounding: f64,
    underflow: f64,
}

impl QuantizedQuery {
    /// `None` when `store` has no codes to screen with or the query cannot be screened;
    /// the caller then scans in f32.
    pub fn new(query: &PreparedQuery, store: &QuantizedStore) -> Option<Self> {
        let vector = query.vector();
        if !store.enabled() || vector.len() != store.dimension {
            return None;
        }
        let mut codes = vec![0i8; vector.len()];
        let scaling = quantize(vector, &mut codes);
        if !scaling.is_screened() {
            return None;
        }
        let dimension = vector.len() as f64;
        Some(QuantizedQuery {
            space: query.space(),
            codes: codes.into_iter().map(i16::from).collect(),
            scale: scaling.scale as f64,
            code_norm: scaling.code_norm(),
            residual: scaling.residual as f64,
            rounding: (dimension + 8.0) * ROUNDOFF,
            underflow: (dimension + 8.0) * UNDERFLOW,
        })
    }

    /// Bounds on the f32 distance from the query to a stored row, from the integer dot
    /// product of their codes.
    #[inline(always)]
    fn bounds(&self, product: i64, row: Scaling) -> (f64, f64) {
        if !row.is_screened() {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        let row_code_norm = row.code_norm();
        let row_residual = row.residual as f64;
        let approximate = self.scale * row.scale as f64 * product as f64;
        match self.space {
            Space::L2 => {
                let squares = self.code_norm * self.code_norm + row_code_norm * row_code_norm;
                let code_distance = squares - 2.0 * approximate;
                let slack = F64_SLACK * squares;
                let residuals = (self.residual + row_residual) * (1.0 + F64_SLACK);
                let near = ((code_distance - slack).max(0.0).sqrt() * (1.0 - F64_SLACK)
                    - residuals)
                    .max(0.0);
                let far = (code_distance + slack).max(0.0).sqrt() * (1.0 + F64_SLACK) + residuals;
                // Every term of the f32 sum is a square: its rounding is relative.
                (
                    near * near * (1.0 - self.rounding) - self.underflow,
                    far * far * (1.0 + self.rounding) + self.underflow,
                )
            }
            Space::Ip | Space::Cosine => {
                let row_norm = row_code_norm * (1.0 + F64_SLACK) + row_residual;
                let query_norm = self.code_norm * (1.0 + F64_SLACK) + self.residual;
                // Quantization, then what the f32 dot product may round away.
                let spread = (self.code_norm * row_residual + self.residual * row_norm)
                    * (1.0 + F64_SLACK)
                    + F64_SLACK * self.code_norm * row_code_norm
                    + self.rounding * query_norm * row_norm
                    + self.underflow;
                let scale = if self.space == Space::Ip {
                    1.0
                } else {
                    row.inverse_norm as f64
                };
                let (low, high) = (
                    (approximate - spread) * scale,
                    (approximate + spread) * scale,
                );
                // `1 - x` (and for cosine the product before it) rounds once more.
                let last = self.rounding * (1.0 + approximate.abs() * scale + spread * scale);
                (1.0 - high - last, 1.0 - low + last)
            }
        }
    }

    /// Screens `rows` of `store` for the `k` nearest.
    pub fn screen(&self, store: &QuantizedStore, rows: &[u32], k: usize) -> Screened {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.screen_avx2(store, rows, k) };
        }
        self.screen_with(store, rows, k, code_dot_lanes)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn screen_avx2(&self, store: &QuantizedStore, rows: &[u32], k: usize) -> Screened {
        // A closure here inherits AVX2, so the kernel inlines into the loop.
        self.screen_with(store, rows, k, |q, c| code_dot_avx2(q, c))
    }

    #[inline(always)]
    fn screen_with(
        &self,
        store: &QuantizedStore,
        rows: &[u32],
        k: usize,
        code_dot: impl Fn(&[i16], &[i8]) -> i64,
    ) -> Screened {
        /// Rows are scattered through the store: ask for a row's codes this many rows
        /// before they are needed.
        const PREFETCH_AHEAD: usize = 4;
        let mut screened = Screened::new(k);
        for (i, &row) in rows.iter().enumerate() {
            if let Some(&ahead) = rows.get(i + PREFETCH_AHEAD) {
                store.prefetch(ahead);
            }
            let product = code_dot(&self.codes, store.codes(row));
            let (lower, upper) = self.bounds(product, store.scalings[row as usize]);
            if may_place(lower, screened.threshold()) {
                screened.candidates.push((lower, row));
                screened.add_upper(upper);
            }
        }
        screened
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(state: &mut u64) -> f32 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    #[test]
    fn the_avx2_and_portable_code_kernels_agree_exactly() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::arch::is_x86_feature_detected!("avx2") {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED the_avx2_and_portable_code_kernels_agree_exactly: no AVX2 here"
                );
                return;
            }
            let mut state = 3u64;
            for len in [0usize, 1, 3, 15, 16, 17, 31, 32, 33, 48, 385, 1001] {
                // Extreme codes too, where a lane sum is largest.
                for extreme in [false, true] {
                    let query: Vec<i16> = (0..len)
                        .map(|_| {
                            if extreme {
                                -127
                            } else {
                                (random(&mut state) * 127.0) as i16
                            }
                        })
                        .collect();
                    let codes: Vec<i8> = (0..len)
                        .map(|_| {
                            if extreme {
                                -127
                            } else {
                                (random(&mut state) * 127.0) as i8
                            }
                        })
                        .collect();
                    let want: i64 = query
                        .iter()
                        .zip(&codes)
                        .map(|(&q, &c)| q as i64 * c as i64)
                        .sum();
                    assert_eq!(code_dot_lanes(&query, &codes), want, "portable at {len}");
                    // SAFETY: the CPU supports AVX2, checked above.
                    assert_eq!(
                        unsafe { code_dot_avx2(&query, &codes) },
                        want,
                        "avx2 at {len}"
                    );
                }
            }
        }
    }

    /// Every bound contains the f32 distance, across spaces, magnitudes and dimensions.
    #[test]
    fn bounds_contain_the_f32_distance() {
        let mut state = 17u64;
        for dimension in [1usize, 3, 17, 64, 385] {
            let mut store = QuantizedStore::new(dimension);
            let mut vectors = Vec::new();
            for row in 0..200u32 {
                let magnitude = [1e-30f32, 1e-6, 1.0, 1e3, 1e15][row as usize % 5];
                let v: Vec<f32> = (0..dimension)
                    .map(|i| match row % 7 {
                        0 => 0.0,
                        1 if i % 2 == 0 => 0.0,
                        _ => random(&mut state) * magnitude,
                    })
                    .collect();
                store.set(row, &v);
                vectors.push(v);
            }
            for space in [Space::L2, Space::Ip, Space::Cosine] {
                for q in 0..20usize {
                    let magnitude = [1e-20f32, 1.0, 1e10, 1e-3][q % 4];
                    let query: Vec<f32> = (0..dimension)
                        .map(|_| random(&mut state) * magnitude)
                        .collect();
                    let prepared = PreparedQuery::new(space, &query);
                    let quantized = QuantizedQuery::new(&prepared, &store).unwrap();
                    for (row, v) in vectors.iter().enumerate() {
                        let exact = prepared.distance(v, inverse_norm(v)) as f64;
                        let product = code_dot_lanes(&quantized.codes, store.codes(row as u32));
                        let (low, high) = quantized.bounds(product, store.scalings[row]);
                        assert!(
                            low <= exact && exact <= high,
                            "{space:?} dim {dimension} row {row}: {low} <= {exact} <= {high}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn vectors_that_could_overflow_are_never_screened_out() {
        let mut store = QuantizedStore::new(4);
        store.set(0, &[1e30, 0.0, 0.0, 0.0]);
        store.set(1, &[f32::NAN, 1.0, 0.0, 0.0]);
        store.set(2, &[f32::INFINITY, 1.0, 0.0, 0.0]);
        store.set(3, &[1.0, 1.0, 0.0, 0.0]);
        assert!(!store.scalings[0].is_screened());
        assert!(!store.scalings[1].is_screened());
        assert!(!store.scalings[2].is_screened());
        assert!(store.scalings[3].is_screened());
        let huge = PreparedQuery::new(Space::L2, &[1e20, 0.0, 0.0, 0.0]);
        assert!(QuantizedQuery::new(&huge, &store).is_none());
        assert!(QuantizedQuery::new(&PreparedQuery::new(Space::L2, &[1.0; 5]), &store).is_none());
    }
}
