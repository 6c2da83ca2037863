//! The index section of a segment snapshot (`segment/snapshot.rs`): the graph (parameters,
//! label → row, levels, links per layer), then one byte per label saying whether it is
//! its row's current label and whether it is stale. The snapshot's own checksums cover
//! these bytes; decoding still checks every value, so that a damaged section is an
//! error and never a graph that misleads or crashes a later search.

use roaring::RoaringBitmap;

use super::{HnswIndex, HnswParameters, NO_LABEL};
use crate::codec::{DecodeError, Decoder, Encoder};
use crate::index::graph::Graph;
use crate::index::vectors::VectorStore;

const CURRENT: u8 = 1;
const STALE: u8 = 2;

impl HnswIndex {
    /// The index as the bytes of a snapshot's index section.
    pub fn encode_section(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        self.graph.encode(&mut e);
        for label in 0..self.graph.len() as u32 {
            let current = if self.is_current(label) { CURRENT } else { 0 };
            let stale = if self.graph.is_stale(label) { STALE } else { 0 };
            e.u8(current | stale);
        }
        e.buf
    }

    /// Restores an index from its snapshot section. `live` are the snapshot's live rows,
    /// whose vectors `vectors` holds: a current label must point at one of them, and a live
    /// row the section has no label for is pending (written by a bulk load whose graph was
    /// not built yet): the graph stays exactly the one the snapshot holds, which the graph
    /// journal extends.
    pub fn decode_section(
        parameters: HnswParameters,
        bytes: &[u8],
        vectors: &VectorStore,
        live: &RoaringBitmap,
    ) -> Result<HnswIndex, DecodeError> {
        let bad = |what: &str| DecodeError(format!("index section: {what}"));
        let mut d = Decoder::new(bytes);
        let mut graph = Graph::decode(parameters.space, &mut d)?;
        let mut label_of_row: Vec<u32> = vec![NO_LABEL; vectors.rows()];
        let mut tombstones = 0;
        for label in 0..graph.len() as u32 {
            let flags = d.u8()?;
            let row = graph.row(label) as usize;
            if row >= vectors.rows() {
                return Err(bad("a label of a row beyond the vectors"));
            }
            if flags & CURRENT != 0 {
                if !live.contains(row as u32) || label_of_row[row] != NO_LABEL {
                    return Err(bad("a current label of a row that is not live, or taken"));
                }
                label_of_row[row] = label;
            } else {
                tombstones += 1;
            }
            if flags & STALE != 0 {
                graph.mark_stale(label);
            }
        }
        if !d.is_empty() {
            return Err(bad("trailing bytes"));
        }
        graph.take_dirty();
        graph.note_store(vectors);
        let mut index = HnswIndex {
            parameters,
            graph,
            label_of_row,
            tombstones,
            pending: RoaringBitmap::new(),
            rebuilt: false,
        };
        index.defer_unlabelled(live);
        Ok(index)
    }
}
