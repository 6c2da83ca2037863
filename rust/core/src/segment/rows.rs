//! A segment's rows: id, document, metadata and URI by row number. Rows from a snapshot
//! stay in its mapped file and are read in place; rows written since live in memory.

use std::collections::HashMap;
use std::sync::Arc;

use memmap2::Mmap;
use roaring::RoaringBitmap;

use crate::batch::PutRecord;
use crate::codec::{decode_metadata, encode_metadata};
use crate::metadata::{INTERNAL_KEY_PREFIX, Metadata};

/// A row as readers see it, borrowed from memory or from a snapshot's mapping.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    pub id: &'a str,
    pub document: Option<&'a str>,
    /// Kept encoded: a decoded map costs about ten times the bytes, filters read the
    /// metadata index instead, and results decode only the rows they return.
    metadata: Option<&'a [u8]>,
    pub uri: Option<&'a str>,
}

impl<'a> RowRef<'a> {
    pub fn metadata(&self) -> Option<Metadata> {
        self.metadata
            .map(|bytes| decode_metadata(bytes).expect("rows hold only encoded metadata"))
    }

    /// Metadata as readers see it: internal `chroma:` keys hidden. Like Chroma, which keeps
    /// the URI as an internal metadata key, a row with a URI (or only internal keys) shows
    /// `{}` rather than no metadata.
    pub fn visible_metadata(&self) -> Option<Metadata> {
        if self.metadata.is_none() && self.uri.is_none() {
            return None;
        }
        let mut visible = self.metadata().unwrap_or_default();
        visible.retain(|key, _| !key.starts_with(INTERNAL_KEY_PREFIX));
        Some(visible)
    }

    fn to_owned_row(self) -> Row {
        Row {
            id: self.id.to_string(),
            document: self.document.map(str::to_string),
            metadata: self.metadata.map(Box::from),
            uri: self.uri.map(str::to_string),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Row {
    id: String,
    document: Option<String>,
    metadata: Option<Box<[u8]>>,
    uri: Option<String>,
}

impl Row {
    /// The row a put leaves, its metadata encoded (the caller keeps the decoded map when it
    /// still needs it, for the metadata index).
    pub fn new(put: PutRecord) -> Row {
        Row {
            metadata: put
                .metadata
                .as_ref()
                .map(|m| encode_metadata(m).into_boxed_slice()),
            id: put.id,
            document: put.document,
            uri: put.uri,
        }
    }

    /// The row with `metadata` (taken out of the put to keep it decoded) encoded back in.
    pub fn with_metadata(mut self, metadata: &Metadata) -> Row {
        self.metadata = Some(encode_metadata(metadata).into_boxed_slice());
        self
    }

    pub fn as_ref(&self) -> RowRef<'_> {
        RowRef {
            id: &self.id,
            document: self.document.as_deref(),
            metadata: self.metadata.as_deref(),
            uri: self.uri.as_deref(),
        }
    }
}

const HAS_DOCUMENT: u8 = 1;
const HAS_METADATA: u8 = 2;
const HAS_URI: u8 = 4;

/// One row in a snapshot's row data: `[flags u8][id]([document])([metadata])([uri])`, each
/// part `u32` length-prefixed. A row that was not live has no bytes at all.
pub fn encode_row(row: RowRef<'_>, out: &mut Vec<u8>) {
    let flag = |present: bool, bit: u8| if present { bit } else { 0 };
    let flags = flag(row.document.is_some(), HAS_DOCUMENT)
        | flag(row.metadata.is_some(), HAS_METADATA)
        | flag(row.uri.is_some(), HAS_URI);
    out.push(flags);
    let mut part = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    part(row.id.as_bytes());
    if let Some(document) = row.document {
        part(document.as_bytes());
    }
    if let Some(metadata) = row.metadata {
        part(metadata);
    }
    if let Some(uri) = row.uri {
        part(uri.as_bytes());
    }
}

/// Splits one encoded row; `None` if its bytes do not hold one (checked once, at open).
fn decode_row(bytes: &[u8]) -> Option<RowRef<'_>> {
    fn text(bytes: &[u8]) -> Option<&str> {
        std::str::from_utf8(bytes).ok()
    }
    let (&flags, mut rest) = bytes.split_first()?;
    let mut part = || -> Option<&[u8]> {
        let length = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let value = rest.get(4..4 + length)?;
        rest = &rest[4 + length..];
        Some(value)
    };
    let id = text(part()?)?;
    let document = match flags & HAS_DOCUMENT {
        0 => None,
        _ => Some(text(part()?)?),
    };
    let metadata = match flags & HAS_METADATA {
        0 => None,
        _ => Some(part()?),
    };
    let uri = match flags & HAS_URI {
        0 => None,
        _ => Some(text(part()?)?),
    };
    rest.is_empty().then_some(RowRef {
        id,
        document,
        metadata,
        uri,
    })
}

/// The rows of a snapshot, read in place from its mapping.
#[derive(Clone)]
pub struct MappedRows {
    map: Arc<Mmap>,
    /// `rows + 1` little-endian `u64` offsets into `data`.
    offsets: std::ops::Range<usize>,
    data: std::ops::Range<usize>,
    rows: u32,
}

impl MappedRows {
    /// Checks that every live row decodes, so that later reads cannot fail.
    pub fn new(
        map: Arc<Mmap>,
        offsets: std::ops::Range<usize>,
        data: std::ops::Range<usize>,
        live: &RoaringBitmap,
    ) -> Result<MappedRows, String> {
        let entries = (offsets.end - offsets.start) / 8;
        if entries == 0 || !(offsets.end - offsets.start).is_multiple_of(8) {
            return Err("row offsets of the wrong size".into());
        }
        let rows = MappedRows {
            map,
            offsets,
            data,
            rows: (entries - 1) as u32,
        };
        let mut previous = 0;
        for row in 0..=rows.rows {
            let offset = rows.offset(row);
            if offset < previous || offset > rows.data.len() {
                return Err(format!("row offset {row} out of order"));
            }
            previous = offset;
        }
        if live.max().is_some_and(|max| max >= rows.rows) {
            return Err("a live row beyond the row data".into());
        }
        for row in live {
            if rows.bytes(row).is_empty() || decode_row(rows.bytes(row)).is_none() {
                return Err(format!("row {row} does not decode"));
            }
        }
        Ok(rows)
    }

    fn offset(&self, row: u32) -> usize {
        let at = self.offsets.start + row as usize * 8;
        u64::from_le_bytes(self.map[at..at + 8].try_into().expect("8 bytes")) as usize
    }

    fn bytes(&self, row: u32) -> &[u8] {
        let data = &self.map[self.data.clone()];
        &data[self.offset(row)..self.offset(row + 1)]
    }

    fn get(&self, row: u32) -> Option<RowRef<'_>> {
        if row >= self.rows {
            return None;
        }
        let bytes = self.bytes(row);
        (!bytes.is_empty()).then(|| decode_row(bytes).expect("checked when the snapshot opened"))
    }
}

/// Rows by number: a snapshot's (`mapped`, until written again) and those in memory.
#[derive(Default, Clone)]
pub struct RowTable {
    mapped: Option<MappedRows>,
    /// Mapped rows taken since the snapshot: deleted, or replaced by a row of `written`.
    taken: RoaringBitmap,
    /// Rows written since the snapshot (all rows, without one).
    written: HashMap<u32, Row>,
}

impl RowTable {
    pub fn with_mapped(mapped: MappedRows) -> RowTable {
        RowTable {
            mapped: Some(mapped),
            ..RowTable::default()
        }
    }

    pub fn reserve(&mut self, additional: usize) {
        self.written.reserve(additional);
    }

    pub fn get(&self, row: u32) -> Option<RowRef<'_>> {
        if let Some(written) = self.written.get(&row) {
            return Some(written.as_ref());
        }
        match &self.mapped {
            Some(mapped) if !self.taken.contains(row) => mapped.get(row),
            _ => None,
        }
    }

    pub fn put(&mut self, row: u32, value: Row) {
        self.written.insert(row, value);
    }

    /// Removes a row and returns it.
    pub fn take(&mut self, row: u32) -> Option<Row> {
        if let Some(written) = self.written.remove(&row) {
            return Some(written);
        }
        if self.taken.contains(row) {
            return None;
        }
        let mapped = self.mapped.as_ref()?.get(row)?.to_owned_row();
        self.taken.insert(row);
        Some(mapped)
    }
}
