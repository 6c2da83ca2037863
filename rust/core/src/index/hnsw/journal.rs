//! Journal frames of the graph: what changed in it since the last frame, so that the index
//! on disk is never more than `sync_threshold` changes behind the records without the whole
//! graph being written out each time. A frame holds the graph's size, entry point and
//! level generator, then each changed label in full: its row, level, whether it is its
//! row's current label and whether it is stale, and its links per layer. Applying frames
//! in order to the graph of the snapshot they follow gives the graph as it was at the last
//! one. A graph rebuilt since the last frame renumbers its labels, which a frame cannot
//! say: a snapshot is written instead.

use super::{HnswIndex, NO_LABEL};
use crate::codec::{DecodeError, Decoder, Encoder};

const CURRENT: u8 = 1;
const STALE: u8 = 2;

struct Node {
    label: u32,
    row: u32,
    level: u8,
    flags: u8,
    links: Vec<Vec<u32>>,
}

impl HnswIndex {
    /// The changes since the last frame (or snapshot) as a frame, which they are then
    /// forgotten by; `None` when the graph was rebuilt since.
    pub fn journal_frame(&mut self) -> Option<Vec<u8>> {
        if std::mem::take(&mut self.rebuilt) {
            self.graph.take_dirty();
            return None;
        }
        let dirty = self.graph.take_dirty();
        let mut e = Encoder::default();
        e.u32(self.graph.len() as u32);
        e.u32(self.graph.entry().unwrap_or(NO_LABEL));
        e.u64(self.graph.seed());
        e.u32(dirty.len() as u32);
        for label in &dirty {
            let level = self.graph.level(label);
            e.u32(label);
            e.u32(self.graph.row(label));
            e.u8(level);
            let current = if self.is_current(label) { CURRENT } else { 0 };
            let stale = if self.graph.is_stale(label) { STALE } else { 0 };
            e.u8(current | stale);
            for layer in 0..=level as usize {
                let links = self.graph.links(label, layer);
                e.u32(links.len() as u32);
                links.iter().for_each(|&l| e.u32(l));
            }
        }
        Some(e.buf)
    }

    /// Forgets the changes a snapshot just recorded.
    pub fn persisted(&mut self) {
        self.rebuilt = false;
        self.graph.take_dirty();
    }

    /// Applies one frame. It is checked whole before anything changes, so a frame that
    /// does not decode leaves the index as the frames before it left it.
    pub fn apply_journal_frame(&mut self, payload: &[u8], rows: usize) -> Result<(), DecodeError> {
        let bad = |what: &str| DecodeError(format!("graph journal: {what}"));
        let mut d = Decoder::new(payload);
        let len = d.u32()?;
        let entry = d.u32()?;
        let seed = d.u64()?;
        let count = d.len(10)?;
        let old_len = self.graph.len() as u32;
        if len < old_len || (entry != NO_LABEL && entry >= len) || (entry == NO_LABEL && len > 0) {
            return Err(bad("graph size or entry point out of range"));
        }
        let mut nodes = Vec::with_capacity(count);
        let mut level_of = std::collections::HashMap::new();
        for _ in 0..count {
            let label = d.u32()?;
            let row = d.u32()?;
            let level = d.u8()?;
            let flags = d.u8()?;
            if label >= len || row as usize >= rows || level > 15 {
                return Err(bad("a label out of range"));
            }
            if label < old_len && self.graph.level(label) != level {
                return Err(bad("a label changed its level"));
            }
            let mut links = Vec::with_capacity(level as usize + 1);
            for layer in 0..=level as usize {
                let n = d.len(4)?;
                if n > self.graph.link_capacity(layer) {
                    return Err(bad("too many links"));
                }
                let layer_links: Vec<u32> = (0..n).map(|_| d.u32()).collect::<Result<_, _>>()?;
                if layer_links.iter().any(|&l| l >= len) {
                    return Err(bad("a link to a missing label"));
                }
                links.push(layer_links);
            }
            level_of.insert(label, level);
            nodes.push(Node {
                label,
                row,
                level,
                flags,
                links,
            });
        }
        if !d.is_empty() {
            return Err(bad("trailing bytes"));
        }
        if (old_len..len).any(|label| !level_of.contains_key(&label)) {
            return Err(bad("a new label it does not describe"));
        }
        let level = |label: u32| {
            level_of
                .get(&label)
                .copied()
                .unwrap_or_else(|| self.graph.level(label))
        };
        for node in &nodes {
            for (layer, links) in node.links.iter().enumerate() {
                if links.iter().any(|&l| (level(l) as usize) < layer) {
                    return Err(bad("a link to a label below its layer"));
                }
            }
        }
        self.graph.grow_to(len as usize);
        for node in &nodes {
            self.graph.restore_node(
                node.label,
                node.row,
                node.level,
                node.flags & STALE != 0,
                &node.links,
            );
        }
        self.graph
            .restore_header((entry != NO_LABEL).then_some(entry), seed);
        self.graph.take_dirty();
        if self.label_of_row.len() < rows {
            self.label_of_row.resize(rows, NO_LABEL);
        }
        for node in &nodes {
            let slot = &mut self.label_of_row[node.row as usize];
            if node.flags & CURRENT != 0 {
                *slot = node.label;
            } else if *slot == node.label {
                *slot = NO_LABEL;
            }
        }
        let current = self.label_of_row.iter().filter(|&&l| l != NO_LABEL).count();
        self.tombstones = self.graph.len() - current;
        Ok(())
    }
}
