//! Distance spaces with Chroma's formulas: `l2` is squared Euclidean, `ip` is `1 - a·b`,
//! `cosine` is `1 - â·b̂`. The kernels sum into independent lanes so that LLVM turns them
//! into SIMD code on stable Rust; a single running sum would force sequential adds.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Space {
    L2,
    Cosine,
    Ip,
}

impl Space {
    pub fn as_str(self) -> &'static str {
        match self {
            Space::L2 => "l2",
            Space::Cosine => "cosine",
            Space::Ip => "ip",
        }
    }

    pub fn parse(name: &str) -> Option<Space> {
        match name {
            "l2" => Some(Space::L2),
            "cosine" => Some(Space::Cosine),
            "ip" => Some(Space::Ip),
            _ => None,
        }
    }
}

/// Independent accumulators: enough for two 256-bit registers' worth of lanes, so that
/// consecutive adds do not wait on each other.
const LANES: usize = 16;

#[inline(always)]
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn squared_l2_lanes(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    acc.iter().sum::<f32>() + tail
}

// Wheels are built for baseline x86-64 (SSE2). These copies of the kernels are compiled
// for AVX2 and chosen at run time when the CPU has it: twice the lanes per instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    dot_lanes(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn squared_l2_avx2(a: &[f32], b: &[f32]) -> f32 {
    squared_l2_lanes(a, b)
}

#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { dot_avx2(a, b) };
    }
    dot_lanes(a, b)
}

#[inline]
pub fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { squared_l2_avx2(a, b) };
    }
    squared_l2_lanes(a, b)
}

pub fn norm(v: &[f32]) -> f32 {
    dot(v, v).sqrt()
}

/// The scale that normalises a vector, with Chroma's epsilon so that a zero vector becomes
/// all zeros (and so sits at cosine distance 1 from everything) instead of NaN.
pub fn inverse_norm(v: &[f32]) -> f32 {
    1.0 / (norm(v) + 1e-30)
}

/// A query prepared once for a space, then compared with many stored vectors.
pub struct PreparedQuery {
    space: Space,
    vector: Vec<f32>,
}

impl PreparedQuery {
    pub fn new(space: Space, query: &[f32]) -> Self {
        let vector = match space {
            Space::Cosine => {
                let scale = inverse_norm(query);
                query.iter().map(|x| x * scale).collect()
            }
            Space::L2 | Space::Ip => query.to_vec(),
        };
        PreparedQuery { space, vector }
    }

    pub fn space(&self) -> Space {
        self.space
    }

    /// The vector distances are measured from: the query itself, normalised for cosine.
    pub fn vector(&self) -> &[f32] {
        &self.vector
    }

    /// Distance to a stored vector whose inverse norm the caller keeps beside it, so that
    /// cosine needs no second copy of every vector.
    #[inline]
    pub fn distance(&self, stored: &[f32], stored_inverse_norm: f32) -> f32 {
        match self.space {
            Space::L2 => squared_l2(&self.vector, stored),
            Space::Ip => 1.0 - dot(&self.vector, stored),
            Space::Cosine => 1.0 - dot(&self.vector, stored) * stored_inverse_norm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(space: Space, a: &[f32], b: &[f32]) -> f64 {
        let d: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
        match space {
            Space::L2 => a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum(),
            Space::Ip => 1.0 - d,
            Space::Cosine => {
                let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
                let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
                1.0 - d / (na * nb + 1e-30)
            }
        }
    }

    #[test]
    fn chroma_documented_values() {
        let (a, b) = ([2.0f32, 0.0], [3.0f32, 4.0]);
        let l2 = PreparedQuery::new(Space::L2, &a).distance(&b, inverse_norm(&b));
        let ip = PreparedQuery::new(Space::Ip, &a).distance(&b, inverse_norm(&b));
        let cos = PreparedQuery::new(Space::Cosine, &a).distance(&b, inverse_norm(&b));
        assert_eq!(l2, 17.0);
        assert_eq!(ip, -5.0);
        assert!((cos - 0.4).abs() < 1e-6);
    }

    #[test]
    fn zero_vector_is_at_cosine_distance_one() {
        let zero = [0.0f32; 4];
        let other = [1.0f32, 2.0, 3.0, 4.0];
        let d = PreparedQuery::new(Space::Cosine, &zero).distance(&other, inverse_norm(&other));
        assert_eq!(d, 1.0);
        let d = PreparedQuery::new(Space::Cosine, &other).distance(&zero, inverse_norm(&zero));
        assert_eq!(d, 1.0);
    }

    /// Says on the terminal why a test checked nothing. Written to stderr directly, not
    /// through `eprintln!`, which the test harness captures and shows only on failure.
    fn report_skip(test: &str, reason: &str) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
    }

    #[test]
    fn the_avx2_and_baseline_kernels_agree() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::arch::is_x86_feature_detected!("avx2") {
                report_skip(
                    "the_avx2_and_baseline_kernels_agree",
                    "this CPU has no AVX2, so only the baseline kernels can run",
                );
                return;
            }
            // Empty, shorter than one block of lanes, and on either side of multiples of
            // 8 (an AVX2 register) and 16 (the lanes), where the tail loop takes over.
            for len in [
                0usize, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 384, 389, 1001,
            ] {
                let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
                let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos() * 3.0).collect();
                // SAFETY: the CPU supports AVX2, checked above.
                let (dot_fast, l2_fast) = unsafe { (dot_avx2(&a, &b), squared_l2_avx2(&a, &b)) };
                let (dot_base, l2_base) = (dot_lanes(&a, &b), squared_l2_lanes(&a, &b));
                // Rounding grows with the magnitude of the terms summed.
                let scale: f32 = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| (x * y).abs() + (x - y).powi(2))
                    .sum();
                let close = |x: f32, y: f32| (x - y).abs() <= 1e-5 * (1.0 + scale);
                assert!(
                    close(dot_fast, dot_base),
                    "dot at {len}: {dot_fast} vs {dot_base}"
                );
                assert!(
                    close(l2_fast, l2_base),
                    "l2 at {len}: {l2_fast} vs {l2_base}"
                );
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        report_skip(
            "the_avx2_and_baseline_kernels_agree",
            "AVX2 kernels exist only on x86-64",
        );
    }

    #[test]
    fn kernels_match_a_float64_reference_at_odd_dimensions() {
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        for dim in [1usize, 7, 8, 9, 384, 1001] {
            let a: Vec<f32> = (0..dim).map(|_| next()).collect();
            let b: Vec<f32> = (0..dim).map(|_| next()).collect();
            for space in [Space::L2, Space::Ip, Space::Cosine] {
                let got = PreparedQuery::new(space, &a).distance(&b, inverse_norm(&b)) as f64;
                let want = reference(space, &a, &b);
                assert!(
                    (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                    "{space:?} {dim}"
                );
            }
        }
    }
}
