//! The write-ahead log: every resolved batch, framed and sequence-numbered, appended before
//! the record store is touched. A frame is `[payload length u32][crc32 of payload u32]
//! [payload]`, the payload `[seq u64][format version u8][collection key i64][dimension:
//! flag u8 + u32][next row u32][change count u32][changes]` (see `encode_batch`). Segment
//! files are named by their first sequence number; a full segment (64 MiB) is closed and a
//! new one started, and closed segments are deleted once SQLite's main file holds their
//! entries and every segment snapshot that needs them has been written anew (the log is
//! how an open brings a snapshot up to date: see `database/recovery.rs`).
//!
//! On open, damage that a crash explains is cut off with a warning: a torn frame at the end
//! of the newest segment, damage followed only by frames the store already holds, and a
//! damaged closed segment whose entries the store provably holds (it has reached the next
//! segment's first sequence number), which is removed. Any other damage, or a gap in the
//! sequence numbers, could hide a write the store lacks: it is corruption naming the file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::batch::{Change, PutRecord, ResolvedBatch};
use crate::codec::{DecodeError, Decoder, Encoder};
use crate::error::{Error, Result};

const FRAME_HEADER: usize = 8;
const FORMAT_VERSION: u8 = 1;
/// A segment this large is closed and a new one started, so that applied entries can be
/// dropped a whole file at a time.
const SEGMENT_BYTES: u64 = 64 << 20;
const EXTENSION: &str = "log";

pub fn encode_batch(seq: u64, batch: &ResolvedBatch) -> Vec<u8> {
    let mut e = Encoder::default();
    e.u64(seq);
    e.u8(FORMAT_VERSION);
    e.i64(batch.collection);
    match batch.dimension {
        Some(d) => {
            e.u8(1);
            e.u32(d);
        }
        None => e.u8(0),
    }
    e.u32(batch.next_row);
    e.len(batch.changes.len());
    for change in &batch.changes {
        match change {
            Change::Put(put) => {
                e.u8(0);
                e.u32(put.row);
                e.str(&put.id);
                match &put.embedding {
                    Some(v) => {
                        e.u8(1);
                        e.f32s(v);
                    }
                    None => e.u8(0),
                }
                e.opt_str(put.document.as_deref());
                e.opt_metadata(put.metadata.as_ref());
                e.opt_str(put.uri.as_deref());
            }
            Change::Delete { row } => {
                e.u8(1);
                e.u32(*row);
            }
        }
    }
    e.buf
}

pub fn decode_batch(payload: &[u8]) -> Result<(u64, ResolvedBatch), DecodeError> {
    let mut d = Decoder::new(payload);
    let seq = d.u64()?;
    let version = d.u8()?;
    if version != FORMAT_VERSION {
        return Err(DecodeError(format!("unknown log format version {version}")));
    }
    let collection = d.i64()?;
    let dimension = if d.bool()? { Some(d.u32()?) } else { None };
    let next_row = d.u32()?;
    let n = d.len(5)?;
    let mut changes = Vec::with_capacity(n);
    for _ in 0..n {
        changes.push(match d.u8()? {
            0 => Change::Put(PutRecord {
                row: d.u32()?,
                id: d.str()?,
                embedding: if d.bool()? { Some(d.f32s()?) } else { None },
                document: d.opt_str()?,
                metadata: d.opt_metadata()?,
                uri: d.opt_str()?,
            }),
            1 => Change::Delete { row: d.u32()? },
            tag => return Err(DecodeError(format!("unknown change tag {tag}"))),
        });
    }
    if !d.is_empty() {
        return Err(DecodeError("trailing bytes after batch".to_string()));
    }
    Ok((
        seq,
        ResolvedBatch {
            collection,
            dimension,
            next_row,
            changes,
        },
    ))
}

/// Splits a segment's bytes into decoded entries. Returns the entries and the length of the
/// valid prefix; `Err` carries that length too when a frame is damaged.
pub(crate) fn read_frames(data: &[u8]) -> (Vec<(u64, ResolvedBatch)>, usize, Option<String>) {
    read_frames_after(data, 0)
}

/// [`read_frames`], leaving out the entries up to `skip_through`: their frames are still
/// checked against their checksums, but not decoded (an open needs only the later ones,
/// and decoding a segment's worth of vectors to drop them was most of an open's time).
fn read_frames_after(
    data: &[u8],
    skip_through: u64,
) -> (Vec<(u64, ResolvedBatch)>, usize, Option<String>) {
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let Some(header) = data.get(pos..pos + FRAME_HEADER) else {
            return (entries, pos, Some("truncated frame header".to_string()));
        };
        let length = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        let Some(payload) = data.get(pos + FRAME_HEADER..pos + FRAME_HEADER + length) else {
            return (entries, pos, Some("truncated frame".to_string()));
        };
        if crc32fast::hash(payload) != crc {
            return (entries, pos, Some("checksum mismatch".to_string()));
        }
        let seq = payload
            .get(..8)
            .map(|bytes| u64::from_le_bytes(bytes.try_into().expect("8 bytes")));
        if seq.is_none_or(|seq| seq > skip_through) {
            match decode_batch(payload) {
                Ok(entry) => entries.push(entry),
                Err(e) => return (entries, pos, Some(e.0)),
            }
        }
        pos += FRAME_HEADER + length;
    }
    (entries, pos, None)
}

/// Sequence numbers of the intact frames found anywhere in `data`, which starts with a
/// damaged frame: every offset is tried, so frames after the damage are found.
pub(crate) fn frames_after(data: &[u8]) -> Vec<u64> {
    let mut seqs = Vec::new();
    let mut pos = 1;
    while pos + FRAME_HEADER <= data.len() {
        let (entries, valid_len, _) = read_frames(&data[pos..]);
        if entries.is_empty() {
            pos += 1;
        } else {
            seqs.extend(entries.iter().map(|(seq, _)| *seq));
            pos += valid_len.max(1);
        }
    }
    seqs
}

/// Sequence numbers of every intact frame of a segment, including any after damage.
pub(crate) fn read_frames_lenient(data: &[u8]) -> Vec<u64> {
    let (entries, valid_len, damage) = read_frames(data);
    let mut seqs: Vec<u64> = entries.iter().map(|(seq, _)| *seq).collect();
    if damage.is_some() {
        seqs.extend(frames_after(&data[valid_len..]));
    }
    seqs
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.{EXTENSION}"))
}

pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
            continue;
        }
        let first_seq = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| Error::Corrupt {
                path: path.clone(),
                message: "unexpected file name in the log directory".to_string(),
            })?;
        segments.push((first_seq, path));
    }
    segments.sort();
    Ok(segments)
}

pub struct Log {
    dir: PathBuf,
    /// Older segments with their first sequence numbers, oldest first.
    closed: Vec<(u64, PathBuf)>,
    active: File,
    active_first: u64,
    active_path: PathBuf,
    active_len: u64,
    next_seq: u64,
    sync_every_append: bool,
}

/// What opening a log found.
pub struct Recovered {
    pub log: Log,
    /// The entries newer than what the store has applied.
    pub pending: Vec<(u64, ResolvedBatch)>,
    /// Entries the store has applied, newer than the `retained_after` asked for.
    pub applied: Vec<(u64, ResolvedBatch)>,
    /// The oldest entry the log can still hold: every later one is in it.
    pub oldest_seq: u64,
}

impl Log {
    /// Opens (or creates) the log in `dir`. `applied_seq` is the newest entry the record
    /// store already holds; of those, only entries after `retained_after` are returned.
    ///
    /// Damage that a crash explains (a torn frame at the end of the newest segment) is cut
    /// off with a warning, and so is damage in a segment whose entries the store provably
    /// holds already. Anything else could hide a write the store lacks: it is corruption.
    pub fn open(
        dir: &Path,
        applied_seq: u64,
        retained_after: u64,
        sync_every_append: bool,
    ) -> Result<Recovered> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut segments = list_segments(dir)?;
        let mut pending: Vec<(u64, ResolvedBatch)> = Vec::new();
        let mut applied: Vec<(u64, ResolvedBatch)> = Vec::new();
        let mut last_seq = applied_seq;
        let mut i = 0;
        while i < segments.len() {
            let path = segments[i].1.clone();
            let data = fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let (entries, valid_len, damage) =
                read_frames_after(&data, retained_after.min(applied_seq));
            if let Some(damage) = damage {
                let corrupt = |message: String| Error::Corrupt {
                    path: path.clone(),
                    message,
                };
                if let Some(&(next_first_seq, _)) = segments.get(i + 1) {
                    // A segment is closed only once the store holds all its entries, so
                    // this one can go if the store has reached the next segment's start.
                    if next_first_seq.saturating_sub(1) > applied_seq {
                        return Err(corrupt(format!(
                            "write-ahead log damaged at byte {valid_len}: {damage}"
                        )));
                    }
                    log::warn!(
                        "removed the log segment {}, damaged at byte {valid_len} ({damage}); \
                         every entry in it was already in the record store",
                        path.display()
                    );
                    fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                    segments.remove(i);
                    continue;
                }
                // Valid frames after the damage mean it is not a torn append: it may be
                // cut only if the store holds them.
                let later = frames_after(&data[valid_len..]);
                if let Some(seq) = later.iter().find(|&&seq| seq > applied_seq) {
                    return Err(corrupt(format!(
                        "write-ahead log damaged at byte {valid_len} ({damage}), followed by \
                         the write {seq} that the record store does not hold"
                    )));
                }
                if later.is_empty() {
                    log::warn!(
                        "cutting a torn write at byte {valid_len} of {} ({damage}); it was never acknowledged",
                        path.display()
                    );
                } else {
                    log::warn!(
                        "cutting {} at byte {valid_len}, where it is damaged ({damage}); the {} \
                         writes after it were already in the record store",
                        path.display(),
                        later.len()
                    );
                }
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                file.set_len(valid_len as u64)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| Error::io(&path, e))?;
            }
            for (seq, batch) in entries {
                if seq <= last_seq && seq > applied_seq {
                    return Err(Error::Corrupt {
                        path: path.clone(),
                        message: format!("sequence number {seq} out of order"),
                    });
                }
                if seq > applied_seq {
                    if seq != last_seq + 1 {
                        return Err(Error::Corrupt {
                            path: path.clone(),
                            message: format!(
                                "the log jumps from write {last_seq} to write {seq}: the writes \
                                 between are missing"
                            ),
                        });
                    }
                    last_seq = seq;
                    pending.push((seq, batch));
                } else if seq > retained_after {
                    applied.push((seq, batch));
                }
            }
            i += 1;
        }
        let next_seq = last_seq + 1;
        let oldest_seq = segments.first().map_or(next_seq, |(first, _)| *first);
        let (closed, active_first, active_path) = match segments.split_last() {
            Some(((first, active), closed)) => (closed.to_vec(), *first, active.clone()),
            None => (Vec::new(), next_seq, segment_path(dir, next_seq)),
        };
        let active = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&active_path)
            .map_err(|e| Error::io(&active_path, e))?;
        let active_len = active
            .metadata()
            .map_err(|e| Error::io(&active_path, e))?
            .len();
        Ok(Recovered {
            log: Log {
                dir: dir.to_path_buf(),
                closed,
                active,
                active_first,
                active_path,
                active_len,
                next_seq,
                sync_every_append,
            },
            pending,
            applied,
            oldest_seq,
        })
    }

    /// Appends a batch and returns its sequence number. Durable against a process crash on
    /// return; against power loss too when the log syncs every append.
    pub fn append(&mut self, batch: &ResolvedBatch) -> Result<u64> {
        let seq = self.next_seq;
        let payload = encode_batch(seq, batch);
        let mut frame = Vec::with_capacity(FRAME_HEADER + payload.len());
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        #[cfg(test)]
        if crate::failpoint::fire("log append torn") {
            self.active
                .write_all(&frame[..frame.len() / 2])
                .expect("half a frame");
            panic!("failpoint log append torn: simulated crash");
        }
        let written = self.active.write_all(&frame).and_then(|()| {
            if self.sync_every_append {
                #[cfg(test)]
                crate::failpoint::note_log_sync();
                self.active.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            self.cut_back();
            return Err(Error::io(&self.active_path, e));
        }
        self.active_len += frame.len() as u64;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Withdraws the last appended entry after the store refused to apply it, so that a
    /// write reported as failed is not replayed at the next open.
    pub fn withdraw_last(&mut self, seq: u64, previous_len: u64) {
        debug_assert_eq!(seq + 1, self.next_seq);
        self.active_len = previous_len;
        self.next_seq = seq;
        self.cut_back();
    }

    fn cut_back(&mut self) {
        if let Err(e) = self.active.set_len(self.active_len) {
            log::error!(
                "could not cut {} back after a failed write: {e}",
                self.active_path.display()
            );
        }
    }

    pub fn active_len(&self) -> u64 {
        self.active_len
    }

    /// Whether the active segment is full and the next commit should rotate.
    pub fn is_full(&self) -> bool {
        #[cfg(test)]
        if let Some(bytes) = crate::failpoint::segment_bytes() {
            return self.active_len >= bytes;
        }
        self.active_len >= SEGMENT_BYTES
    }

    /// Starts a new segment; the older ones stay until [`Log::release`] drops them.
    pub fn rotate(&mut self) -> Result<()> {
        let path = segment_path(&self.dir, self.next_seq);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let previous = std::mem::replace(&mut self.active_path, path);
        let previous_first = std::mem::replace(&mut self.active_first, self.next_seq);
        self.active = file;
        self.active_len = 0;
        self.closed.push((previous_first, previous));
        Ok(())
    }

    /// The closed segments, oldest first, each with the last sequence number it holds.
    pub fn closed_segments(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.closed.len()).map(|i| {
            let next_first = self
                .closed
                .get(i + 1)
                .map_or(self.active_first, |(f, _)| *f);
            next_first - 1
        })
    }

    /// Deletes the closed segments holding only entries up to `covered`: the caller
    /// guarantees that nothing needs them any more.
    pub fn release(&mut self, covered: u64) -> Result<()> {
        let releasable = self
            .closed_segments()
            .take_while(|&last| last <= covered)
            .count();
        for (_, old) in self.closed.drain(..releasable) {
            fs::remove_file(&old).map_err(|e| Error::io(&old, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::MetadataValue;

    fn batch(row: u32) -> ResolvedBatch {
        ResolvedBatch {
            collection: 7,
            dimension: Some(2),
            next_row: row + 1,
            changes: vec![
                Change::Put(PutRecord {
                    row,
                    id: format!("id{row}"),
                    embedding: Some(vec![1.0, 2.0]),
                    document: Some("doc".into()),
                    metadata: Some([("k".to_string(), MetadataValue::Int(1))].into()),
                    uri: None,
                }),
                Change::Delete { row: 99 },
            ],
        }
    }

    #[test]
    fn batches_round_trip_and_damage_is_detected() {
        let encoded = encode_batch(5, &batch(3));
        assert_eq!(decode_batch(&encoded).unwrap(), (5, batch(3)));
        for cut in 0..encoded.len() {
            assert!(decode_batch(&encoded[..cut]).is_err());
        }
    }

    #[test]
    fn replays_unapplied_entries_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), 0, 0, false).unwrap().log;
        for row in 0..3 {
            assert_eq!(log.append(&batch(row)).unwrap(), u64::from(row) + 1);
        }
        let path = log.active_path.clone();
        drop(log);
        let recovered = Log::open(dir.path(), 1, 1, false).unwrap();
        let seqs: Vec<u64> = recovered.pending.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, [2, 3]);
        assert!(recovered.applied.is_empty());
        drop(recovered);
        // Applied entries are returned from the one after `retained_after` on.
        let recovered = Log::open(dir.path(), 2, 0, false).unwrap();
        let applied: Vec<u64> = recovered.applied.iter().map(|(s, _)| *s).collect();
        assert_eq!(applied, [1, 2]);
        assert_eq!(recovered.pending.len(), 1);
        assert_eq!(recovered.oldest_seq, 1);
        drop(recovered);

        // A crash in the middle of an append leaves part of a frame behind.
        let full = fs::read(&path).unwrap();
        fs::write(&path, &full[..full.len() - 3]).unwrap();
        let mut recovered = Log::open(dir.path(), 0, 0, false).unwrap();
        assert_eq!(recovered.pending.len(), 2);
        assert_eq!(recovered.log.append(&batch(9)).unwrap(), 3);
        drop(recovered);
        assert_eq!(Log::open(dir.path(), 0, 0, false).unwrap().pending.len(), 3);
    }

    #[test]
    fn damage_before_the_newest_segment_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), 0, 0, false).unwrap().log;
        log.append(&batch(0)).unwrap();
        let first = log.active_path.clone();
        drop(log);
        let mut bytes = fs::read(&first).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&first, &bytes).unwrap();
        fs::write(segment_path(dir.path(), 2), b"").unwrap();
        match Log::open(dir.path(), 0, 0, false) {
            Err(Error::Corrupt { path, .. }) => assert_eq!(path, first),
            other => panic!("expected corruption, got {:?}", other.err()),
        }
    }

    #[test]
    fn withdrawn_entries_are_not_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), 0, 0, false).unwrap().log;
        log.append(&batch(0)).unwrap();
        let before = log.active_len();
        let seq = log.append(&batch(1)).unwrap();
        log.withdraw_last(seq, before);
        drop(log);
        let recovered = Log::open(dir.path(), 0, 0, false).unwrap();
        assert_eq!(recovered.pending.len(), 1);
    }
}
