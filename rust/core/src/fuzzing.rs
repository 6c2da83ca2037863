//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): the decoders that read
//! bytes Azurite wrote earlier, fed arbitrary bytes. Damaged input must come back as an error
//! (or a shorter valid prefix), never as a panic, and whatever decodes must encode to bytes
//! that decode to the same thing.

use crate::codec;
use crate::wal;

/// Decodes one log frame payload; if it decodes, checks that re-encoding is stable.
/// Returns whether the payload decoded.
pub fn log_payload(payload: &[u8]) -> bool {
    let Ok((seq, batch)) = wal::decode_batch(payload) else {
        return false;
    };
    let encoded = wal::encode_batch(seq, &batch);
    let (seq2, batch2) = wal::decode_batch(&encoded).expect("re-encoded batch decodes");
    assert_eq!(seq, seq2);
    assert_eq!(wal::encode_batch(seq2, &batch2), encoded);
    true
}

/// Splits a log segment's bytes into frames as recovery does. Returns the number of entries
/// decoded and the length of the valid prefix, which never exceeds the input.
pub fn log_segment(data: &[u8]) -> (usize, usize) {
    let (entries, valid_len, damage) = wal::read_frames(data);
    assert!(valid_len <= data.len());
    assert_eq!(damage.is_none(), valid_len == data.len());
    (entries.len(), valid_len)
}

/// Decodes a metadata column value; if it decodes, checks that re-encoding is stable.
pub fn metadata(data: &[u8]) -> bool {
    let Ok(decoded) = codec::decode_metadata(data) else {
        return false;
    };
    let encoded = codec::encode_metadata(&decoded);
    let again = codec::decode_metadata(&encoded).expect("re-encoded metadata decodes");
    assert_eq!(codec::encode_metadata(&again), encoded);
    true
}

/// The short form of the fuzz targets for `cargo test` (stable Rust, no libFuzzer): the
/// seeds of `fuzz/seeds/`, every input kept in `fuzz/regressions/`, and a few hundred
/// thousand deterministic mutations of the seeds through the same entry points.
#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::filter::{parse_where, parse_where_document};

    const MUTATIONS: usize = 300_000;

    fn fuzz_dir(kind: &str, target: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/{kind}/{target}"))
    }

    /// The files of `fuzz/<kind>/<target>/` (none if the directory does not exist).
    fn inputs(kind: &str, target: &str) -> Vec<Vec<u8>> {
        let Ok(entries) = fs::read_dir(fuzz_dir(kind, target)) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        files.iter().map(|path| fs::read(path).unwrap()).collect()
    }

    /// xorshift64*: deterministic, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    const INTERESTING: [u8; 8] = [0, 1, 2, 0x7f, 0x80, 0xff, b'"', b'['];

    fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
        let mut data = seed.to_vec();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(data.len() + 1);
            match rng.below(6) {
                0 if at < data.len() => data[at] ^= 1 << rng.below(8),
                1 if at < data.len() => data[at] = INTERESTING[rng.below(INTERESTING.len())],
                2 => data.insert(at, rng.next() as u8),
                3 => data.truncate(at),
                4 if at < data.len() => {
                    let end = (at + rng.below(16)).min(data.len());
                    data.drain(at..end);
                }
                _ => {
                    let end = (at + rng.below(16)).min(data.len());
                    let copy = data[at..end].to_vec();
                    let to = rng.below(data.len() + 1);
                    data.splice(to..to, copy);
                }
            }
        }
        data
    }

    /// A segment holding `payload` in one well-formed frame, so that the checksum passes
    /// and the batch decoder sees the mutated bytes.
    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        frame.extend_from_slice(payload);
        frame
    }

    fn parse_filters(data: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
            let _ = parse_where(&value);
            let _ = parse_where_document(&value);
        }
    }

    #[test]
    fn log_decoder_survives_seeds_regressions_and_mutations() {
        let seeds = inputs("seeds", "log_decode");
        assert!(!seeds.is_empty());
        let mut decoded = 0;
        for input in seeds.iter().chain(&inputs("regressions", "log_decode")) {
            log_segment(input);
            decoded += usize::from(log_payload(input));
            metadata(input);
        }
        assert!(decoded > 0, "a seed payload must decode");
        let mut rng = Rng(0x5eed);
        for _ in 0..MUTATIONS {
            let seed = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, seed);
            log_segment(&input);
            log_segment(&framed(&input));
            log_payload(&input);
            metadata(&input);
        }
    }

    #[test]
    fn filter_parser_survives_seeds_regressions_and_mutations() {
        let seeds = inputs("seeds", "filter_parse");
        assert!(!seeds.is_empty());
        for input in seeds.iter().chain(&inputs("regressions", "filter_parse")) {
            parse_filters(input);
        }
        let mut rng = Rng(0xf11e);
        for _ in 0..MUTATIONS {
            let seed = &seeds[rng.below(seeds.len())];
            parse_filters(&mutate(&mut rng, seed));
        }
    }
}
