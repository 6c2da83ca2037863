//! The write-ahead log decoder on arbitrary bytes: a whole segment (framing, checksums) and
//! the same bytes as one frame payload (the batch decoder behind a valid checksum), plus the
//! metadata column codec the payload shares.
#![no_main]

use azurite_core::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzzing::log_segment(data);
    fuzzing::log_payload(data);
    fuzzing::metadata(data);
});
