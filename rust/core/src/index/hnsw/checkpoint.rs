//! The index checkpoint, `index/<collection id>.hnsw`: the magic `AZGRAPH1`, the graph,
//! then for each label whether it was current and a CRC-32 of its vector, then a CRC-32 of
//! all of it. Restoring checks it and brings the graph up to date with the records.

use roaring::RoaringBitmap;

use super::{HnswIndex, HnswParameters, NO_LABEL};
use crate::codec::{DecodeError, Decoder, Encoder};
use crate::index::graph::Graph;
use crate::index::vectors::VectorStore;
use crate::threads::Workers;

/// First bytes of a checkpoint file; the digit is the format version.
const CHECKPOINT_MAGIC: &[u8; 8] = b"AZGRAPH1";

/// A vector's checksum, recorded per label so that a restored graph can tell which rows
/// still hold the vector it was built from.
fn vector_checksum(vector: &[f32]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for chunk in vector.chunks(256) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
        hasher.update(&bytes);
    }
    hasher.finalize()
}

impl HnswIndex {
    /// The index as checkpoint bytes: the graph, then for each label whether it is current
    /// and the checksum of its vector, then a checksum of everything before.
    pub(super) fn encode_checkpoint(&self, vectors: &VectorStore) -> Vec<u8> {
        let mut e = Encoder::default();
        e.buf.extend_from_slice(CHECKPOINT_MAGIC);
        self.graph.encode(&mut e);
        for label in 0..self.graph.len() as u32 {
            if self.is_current(label) {
                e.u8(1);
                e.u32(vector_checksum(vectors.get(self.graph.row(label))));
            } else {
                e.u8(0);
            }
        }
        let checksum = crc32fast::hash(&e.buf);
        e.u32(checksum);
        e.buf
    }

    /// Restores an index from checkpoint bytes and brings it up to date with the rows the
    /// segment holds: labels whose row is gone or holds another vector now become
    /// tombstones, and live rows without a label are inserted. Returns the index and how
    /// many rows had to be inserted.
    pub fn restore(
        parameters: HnswParameters,
        bytes: &[u8],
        vectors: &VectorStore,
        live: &RoaringBitmap,
        workers: &Workers,
    ) -> Result<(HnswIndex, usize), DecodeError> {
        let body_len = bytes
            .len()
            .checked_sub(4)
            .filter(|&n| n >= CHECKPOINT_MAGIC.len())
            .ok_or_else(|| DecodeError("checkpoint too short".to_string()))?;
        let (body, trailer) = bytes.split_at(body_len);
        if crc32fast::hash(body) != u32::from_le_bytes(trailer.try_into().expect("4 bytes")) {
            return Err(DecodeError("checkpoint checksum mismatch".to_string()));
        }
        if &body[..CHECKPOINT_MAGIC.len()] != CHECKPOINT_MAGIC {
            return Err(DecodeError("not a graph checkpoint".to_string()));
        }
        let mut d = Decoder::new(&body[CHECKPOINT_MAGIC.len()..]);
        let mut graph = Graph::decode(parameters.space, &mut d)?;
        let mut label_of_row: Vec<u32> = Vec::new();
        let mut tombstones = 0;
        for label in 0..graph.len() as u32 {
            let checksum = if d.bool()? { Some(d.u32()?) } else { None };
            let row = graph.row(label);
            let still_current = checksum.is_some_and(|c| {
                live.contains(row)
                    && label_of_row
                        .get(row as usize)
                        .is_none_or(|&l| l == NO_LABEL)
                    && vector_checksum(vectors.get(row)) == c
            });
            if still_current {
                if label_of_row.len() <= row as usize {
                    label_of_row.resize(row as usize + 1, NO_LABEL);
                }
                label_of_row[row as usize] = label;
            } else {
                // Only live rows' vectors are loaded, and those of rows updated since the
                // checkpoint are new: a tombstone cannot be measured any more.
                tombstones += 1;
                graph.mark_stale(label);
            }
        }
        if !d.is_empty() {
            return Err(DecodeError("trailing bytes in checkpoint".to_string()));
        }
        let missing: Vec<u32> = live
            .iter()
            .filter(|&row| {
                label_of_row
                    .get(row as usize)
                    .is_none_or(|&l| l == NO_LABEL)
            })
            .collect();
        let mut index = HnswIndex {
            parameters,
            graph,
            label_of_row,
            tombstones,
        };
        index.insert_rows(&missing, vectors, workers);
        Ok((index, missing.len()))
    }
}
