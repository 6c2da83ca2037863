//! A segment snapshot, `index/<collection id>.seg`: everything a collection's queries read,
//! laid out so that opening maps the file instead of reading every record from SQLite.
//!
//! Layout (little-endian), sections aligned to 4 KiB so that each can be mapped alone:
//!
//! ```text
//! header (4 KiB): magic "AZSEG\0\0\x01", format version u32, section count u32,
//!                 collection key i64, seq u64 (the last write the snapshot holds),
//!                 next row u32, dimension u32 (0: none),
//!                 per section: kind u32, crc32 u32, offset u64, length u64,
//!                 crc32 of the header bytes before it
//! vectors         next_row * dimension f32, row-major (rows without a vector are zeros)
//! norms           next_row f32, each row's inverse norm (for cosine)
//! live            the live rows, a serialized roaring bitmap
//! row data        each row as `segment/rows.rs` encodes it; a row not live has no bytes
//! row offsets     next_row + 1 u64 offsets into the row data
//! index           the vector index (`index/hnsw/checkpoint.rs`)
//! codes           the int8 copy of the vectors, next_row * dimension i8 (`index/quantized.rs`)
//! scalings        per row: scale f32, residual bound f32, sum of squared codes u32,
//!                 inverse norm f32
//! ```
//!
//! A snapshot is written whole to a temporary name, synced, renamed over the previous one
//! and the directory synced, so a crash leaves the old file or the new one. Opening checks
//! the header and every section's checksum before anything is used: a damaged snapshot is
//! never trusted, and the segment is loaded from the record store instead.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Mmap, MmapOptions};
use roaring::RoaringBitmap;

use super::Segment;
use super::rows::{MappedRows, RowRef, encode_row};

const MAGIC: &[u8; 8] = b"AZSEG\0\0\x01";
/// Version 2 added the sparse vector indexes' section; version 1 files (without it) are
/// still read.
const FORMAT_VERSION: u32 = 2;
const OLDEST_READ_VERSION: u32 = 1;
const HEADER_BYTES: usize = 4096;
const SECTION_ALIGN: u64 = 4096;
/// Fixed part of the header, before the section table.
const HEADER_FIXED: usize = 8 + 4 + 4 + 8 + 8 + 4 + 4;
const SECTION_ENTRY: usize = 4 + 4 + 8 + 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Vectors = 1,
    Norms = 2,
    Live = 3,
    RowData = 4,
    RowOffsets = 5,
    Index = 6,
    Codes = 7,
    Scalings = 8,
    SparseIndexes = 9,
}

/// The sections every snapshot holds.
const REQUIRED: [Kind; 8] = [
    Kind::Vectors,
    Kind::Norms,
    Kind::Live,
    Kind::RowData,
    Kind::RowOffsets,
    Kind::Index,
    Kind::Codes,
    Kind::Scalings,
];

const KINDS: [Kind; 9] = [
    Kind::Vectors,
    Kind::Norms,
    Kind::Live,
    Kind::RowData,
    Kind::RowOffsets,
    Kind::Index,
    Kind::Codes,
    Kind::Scalings,
    Kind::SparseIndexes,
];

#[derive(Debug, Clone, Copy)]
struct SectionEntry {
    kind: Kind,
    crc: u32,
    offset: u64,
    length: u64,
}

/// Writes sections one after the other, each aligned and checksummed as it streams.
struct SectionWriter {
    out: BufWriter<File>,
    position: u64,
    entries: Vec<SectionEntry>,
    current: Option<(Kind, u64, crc32fast::Hasher)>,
}

impl SectionWriter {
    fn new(file: File) -> std::io::Result<SectionWriter> {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&[0; HEADER_BYTES])?;
        Ok(SectionWriter {
            out,
            position: HEADER_BYTES as u64,
            entries: Vec::new(),
            current: None,
        })
    }

    fn begin(&mut self, kind: Kind) -> std::io::Result<()> {
        let padding = self.position.next_multiple_of(SECTION_ALIGN) - self.position;
        self.out.write_all(&vec![0; padding as usize])?;
        self.position += padding;
        self.current = Some((kind, self.position, crc32fast::Hasher::new()));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let (_, _, crc) = self.current.as_mut().expect("inside a section");
        crc.update(bytes);
        self.position += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    fn end(&mut self) {
        let (kind, offset, crc) = self.current.take().expect("inside a section");
        self.entries.push(SectionEntry {
            kind,
            crc: crc.finalize(),
            offset,
            length: self.position - offset,
        });
    }

    fn section(&mut self, kind: Kind, bytes: &[u8]) -> std::io::Result<()> {
        self.begin(kind)?;
        self.write(bytes)?;
        self.end();
        Ok(())
    }

    /// Writes the header over the reserved first bytes and returns the synced file.
    fn finish(self, header: &Header) -> std::io::Result<File> {
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header.encode(&self.entries))?;
        Ok(file)
    }
}

/// What the header says about the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub collection: i64,
    pub seq: u64,
    pub next_row: u32,
    pub dimension: Option<u32>,
}

impl Header {
    fn encode(&self, entries: &[SectionEntry]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_BYTES);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&self.collection.to_le_bytes());
        bytes.extend_from_slice(&self.seq.to_le_bytes());
        bytes.extend_from_slice(&self.next_row.to_le_bytes());
        bytes.extend_from_slice(&self.dimension.unwrap_or(0).to_le_bytes());
        for entry in entries {
            bytes.extend_from_slice(&(entry.kind as u32).to_le_bytes());
            bytes.extend_from_slice(&entry.crc.to_le_bytes());
            bytes.extend_from_slice(&entry.offset.to_le_bytes());
            bytes.extend_from_slice(&entry.length.to_le_bytes());
        }
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes.resize(HEADER_BYTES, 0);
        bytes
    }

    fn decode(bytes: &[u8], file_len: u64) -> Result<(Header, Vec<SectionEntry>), String> {
        if bytes.len() < HEADER_BYTES {
            return Err("shorter than its header".into());
        }
        if &bytes[..8] != MAGIC {
            return Err("not a segment snapshot".into());
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        if !(OLDEST_READ_VERSION..=FORMAT_VERSION).contains(&u32_at(8)) {
            return Err(format!(
                "format version {} is not one of {OLDEST_READ_VERSION} to {FORMAT_VERSION}",
                u32_at(8)
            ));
        }
        let count = u32_at(12) as usize;
        let end = HEADER_FIXED + count * SECTION_ENTRY;
        if count > KINDS.len() || end + 4 > HEADER_BYTES {
            return Err("section table out of range".into());
        }
        if crc32fast::hash(&bytes[..end]) != u32_at(end) {
            return Err("header checksum mismatch".into());
        }
        let header = Header {
            collection: u64_at(16) as i64,
            seq: u64_at(24),
            next_row: u32_at(32),
            dimension: Some(u32_at(36)).filter(|&d| d > 0),
        };
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let at = HEADER_FIXED + i * SECTION_ENTRY;
            let kind = KINDS
                .iter()
                .copied()
                .find(|k| *k as u32 == u32_at(at))
                .ok_or("unknown section kind")?;
            let entry = SectionEntry {
                kind,
                crc: u32_at(at + 4),
                offset: u64_at(at + 8),
                length: u64_at(at + 16),
            };
            let fits = entry
                .offset
                .checked_add(entry.length)
                .is_some_and(|end| end <= file_len);
            if !fits || !entry.offset.is_multiple_of(SECTION_ALIGN) {
                return Err(format!("{kind:?} section out of the file's bounds"));
            }
            entries.push(entry);
        }
        Ok((header, entries))
    }
}

pub fn snapshot_path(dir: &Path, collection: &uuid::Uuid) -> PathBuf {
    dir.join(format!("{collection}.{SNAPSHOT_EXTENSION}"))
}

pub const SNAPSHOT_EXTENSION: &str = "seg";

impl Segment {
    /// Writes the segment as the snapshot at `path`, holding every write up to `seq`.
    /// Nothing is written for a segment without vectors (it has no records).
    pub fn write_snapshot(&self, path: &Path, seq: u64) -> std::io::Result<bool> {
        let Some(vectors) = &self.vectors else {
            return Ok(false);
        };
        let temporary = path.with_extension("tmp");
        let mut writer = SectionWriter::new(File::create(&temporary)?)?;
        let next_row = self.next_row;
        let dimension = vectors.dimension();
        let stored = (next_row as usize).min(vectors.rows()) as u32;

        writer.begin(Kind::Vectors)?;
        for row in 0..stored {
            writer.write(bytemuck::cast_slice(vectors.get(row)))?;
        }
        let zeros = vec![0f32; dimension];
        for _ in stored..next_row {
            writer.write(bytemuck::cast_slice(&zeros))?;
        }
        writer.end();
        #[cfg(test)]
        if crate::failpoint::fire("snapshot half written") {
            drop(writer);
            panic!("failpoint snapshot half written: simulated crash");
        }

        let mut norms = vectors.inverse_norms()[..stored as usize].to_vec();
        norms.resize(next_row as usize, 0.0);
        writer.section(Kind::Norms, bytemuck::cast_slice(&norms))?;

        let mut live = Vec::with_capacity(self.live.serialized_size());
        self.live.serialize_into(&mut live)?;
        writer.section(Kind::Live, &live)?;

        writer.begin(Kind::RowData)?;
        let mut offsets: Vec<u64> = Vec::with_capacity(next_row as usize + 1);
        let mut written = 0u64;
        let mut encoded = Vec::new();
        for row in 0..next_row {
            offsets.push(written);
            if let Some(value) = self.live_row(row) {
                encoded.clear();
                encode_row(value, &mut encoded);
                writer.write(&encoded)?;
                written += encoded.len() as u64;
            }
        }
        offsets.push(written);
        writer.end();
        writer.section(Kind::RowOffsets, bytemuck::cast_slice(&offsets))?;
        writer.section(Kind::Index, &self.index.encode_section())?;
        writer.section(Kind::SparseIndexes, &self.encode_sparse_indexes())?;
        let (codes, scalings) = vectors.quantized().raw_parts();
        let (code_bytes, scaling_bytes) = (
            codes.len() / vectors.rows().max(1),
            scalings.len() / vectors.rows().max(1),
        );
        for (kind, bytes, per_row) in [
            (Kind::Codes, codes, code_bytes),
            (Kind::Scalings, scalings, scaling_bytes),
        ] {
            writer.begin(kind)?;
            writer.write(&bytes[..stored as usize * per_row])?;
            writer.write(&vec![0; (next_row - stored) as usize * per_row])?;
            writer.end();
        }

        let header = Header {
            collection: self.collection,
            seq,
            next_row,
            dimension: Some(dimension as u32),
        };
        let file = writer.finish(&header)?;
        file.sync_all()?;
        #[cfg(test)]
        crate::failpoint::crash_point("snapshot written, not renamed");
        std::fs::rename(&temporary, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(true)
    }

    fn live_row(&self, row: u32) -> Option<RowRef<'_>> {
        self.live
            .contains(row)
            .then(|| self.rows.get(row))
            .flatten()
    }
}

/// An opened, checked snapshot file.
pub struct Snapshot {
    file: File,
    map: Arc<Mmap>,
    pub header: Header,
    sections: Vec<SectionEntry>,
}

impl Snapshot {
    /// Opens and checks the snapshot at `path`; `Ok(None)` when there is none.
    pub fn open(path: &Path) -> Result<Option<Snapshot>, String> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let file_len = file.metadata().map_err(|e| e.to_string())?.len();
        if file_len < HEADER_BYTES as u64 {
            return Err("shorter than its header".into());
        }
        // SAFETY: snapshots are never changed in place (a new one is renamed over the
        // old), so the mapped bytes cannot change under the reader.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| e.to_string())?;
        let (header, sections) = Header::decode(&map[..HEADER_BYTES], file_len)?;
        for kind in REQUIRED {
            if !sections.iter().any(|s| s.kind == kind) {
                return Err(format!("no {kind:?} section"));
            }
        }
        for entry in &sections {
            if crc32fast::hash(&map[range(entry)]) != entry.crc {
                return Err(format!("{:?} section checksum mismatch", entry.kind));
            }
        }
        Ok(Some(Snapshot {
            file,
            map: Arc::new(map),
            header,
            sections,
        }))
    }

    fn entry(&self, kind: Kind) -> SectionEntry {
        *self
            .sections
            .iter()
            .find(|s| s.kind == kind)
            .expect("every section was found at open")
    }

    pub(super) fn bytes(&self, kind: Kind) -> &[u8] {
        &self.map[range(&self.entry(kind))]
    }

    /// A section that older snapshots lack.
    pub(super) fn optional_bytes(&self, kind: Kind) -> Option<&[u8]> {
        self.sections
            .iter()
            .find(|s| s.kind == kind)
            .map(|entry| &self.map[range(entry)])
    }

    /// The vectors, as their own private mapping: read in place, and copied page by page
    /// only where a later write changes a row.
    pub(super) fn vectors(&self) -> std::io::Result<Option<memmap2::MmapMut>> {
        let entry = self.entry(Kind::Vectors);
        if entry.length == 0 {
            return Ok(None);
        }
        // SAFETY: as for the read-only mapping; a private mapping never writes the file.
        unsafe {
            MmapOptions::new()
                .offset(entry.offset)
                .len(entry.length as usize)
                .map_copy(&self.file)
        }
        .map(Some)
    }

    pub(super) fn rows(&self, live: &RoaringBitmap) -> Result<MappedRows, String> {
        MappedRows::new(
            Arc::clone(&self.map),
            range(&self.entry(Kind::RowOffsets)),
            range(&self.entry(Kind::RowData)),
            live,
        )
    }
}

fn range(entry: &SectionEntry) -> Range<usize> {
    entry.offset as usize..(entry.offset + entry.length) as usize
}

/// A snapshot as format version 1 wrote it: the same file without the sparse indexes'
/// section, for the test that such files still open.
#[cfg(test)]
pub(super) fn as_version_1(bytes: &[u8]) -> Vec<u8> {
    let (header, entries) =
        Header::decode(&bytes[..HEADER_BYTES], bytes.len() as u64).expect("a good snapshot");
    let kept: Vec<SectionEntry> = entries
        .into_iter()
        .filter(|e| e.kind != Kind::SparseIndexes)
        .collect();
    let mut old_header = header.encode(&kept);
    old_header[8..12].copy_from_slice(&1u32.to_le_bytes());
    let end = HEADER_FIXED + kept.len() * SECTION_ENTRY;
    let crc = crc32fast::hash(&old_header[..end]);
    old_header[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    let mut old = bytes.to_vec();
    old[..HEADER_BYTES].copy_from_slice(&old_header);
    old
}
