//! The files of a database directory: their names, the lock that keeps a second writer
//! out, where the segment snapshots go, and the checks an open makes of what it finds
//! there.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::segment::{SNAPSHOT_EXTENSION, snapshot_path};

pub const STORE_FILE: &str = "azurite.sqlite3";
pub const LOG_DIR: &str = "wal";
pub const LOCK_FILE: &str = "azurite.lock";
/// The collections' segment snapshots: `<collection id>.seg` (`segment/snapshot.rs`).
pub const INDEX_DIR: &str = "index";
/// Index checkpoints of Azurite before segment snapshots; the snapshots replace them.
const LEGACY_CHECKPOINT_EXTENSION: &str = "hnsw";
/// The record store of a chromadb persistent directory (beside it: one folder of HNSW
/// files per collection).
pub const CHROMA_STORE_FILE: &str = "chroma.sqlite3";

/// A directory that chromadb wrote is refused before anything is created in it: opening
/// it would put an empty Azurite database beside `chroma.sqlite3`, and a user who switched
/// backends would see no collections instead of theirs.
pub(crate) fn refuse_chroma_directory(dir: &Path) -> Result<()> {
    if !dir.join(CHROMA_STORE_FILE).exists() {
        return Ok(());
    }
    // Azurite before this check opened such directories in place: its database there
    // is reachable once moved out.
    let earlier_azurite = if dir.join(STORE_FILE).exists() {
        format!(
            " The Azurite files beside it ({STORE_FILE}, {LOG_DIR}/, {INDEX_DIR}/, {LOCK_FILE}) \
             were written by an earlier Azurite that opened this directory in place: move \
             them to a directory of their own to open that database."
        )
    } else {
        String::new()
    };
    Err(Error::InvalidArgument(format!(
        "{} is a Chroma database directory (it holds {CHROMA_STORE_FILE}): Azurite does not \
         open a Chroma directory in place, and has not changed anything in it. To bring its \
         collections over, run `azurite import-chroma --from {} --path <new dir>`, which \
         copies them into an Azurite database in a directory of its own.{earlier_azurite}",
        dir.display(),
        shell_word(&dir.display().to_string())
    )))
}

/// `word` as a shell reads it back: quoted when it holds anything but the characters
/// paths are usually made of, so that the command a message suggests can be pasted.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r#"'"'"'"#))
    }
}

pub(crate) fn lock_directory(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    if file.try_lock().is_err() {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        let holder = if holder.is_empty() { "unknown" } else { holder };
        return Err(Error::Locked(format!(
            "The database at {} is already open for writing in another process (pid {holder}). \
             Close it there first, or open it read-only (Settings(azurite_read_only=True)).",
            dir.display()
        )));
    }
    let pid = std::process::id().to_string();
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(pid.as_bytes()))
        .map_err(|e| Error::io(&path, e))?;
    Ok(file)
}

pub(crate) fn snapshot_file(dir: &Path, collection: &Uuid) -> PathBuf {
    snapshot_path(&dir.join(INDEX_DIR), collection)
}

/// The graph journal of a collection: frames of its graph's changes since its snapshot.
pub(crate) fn journal_file(dir: &Path, collection: &Uuid) -> PathBuf {
    dir.join(INDEX_DIR)
        .join(format!("{collection}.{JOURNAL_EXTENSION}"))
}

const JOURNAL_EXTENSION: &str = "graph";
pub(crate) const JOURNAL_FRAME_HEADER: usize = 4 + 4 + 8 + 8;

/// Appends a journal frame: `[payload length u32][crc32 u32][snapshot seq u64][seq u64]
/// [payload]`, the checksum covering both sequence numbers and the payload. A frame cut
/// short by a crash fails its checksum and is ignored with the frames after it.
pub(crate) fn append_journal_frame(
    path: &Path,
    snapshot_seq: u64,
    seq: u64,
    payload: &[u8],
    sync: bool,
) -> std::io::Result<()> {
    let mut body = Vec::with_capacity(16 + payload.len());
    body.extend_from_slice(&snapshot_seq.to_le_bytes());
    body.extend_from_slice(&seq.to_le_bytes());
    body.extend_from_slice(payload);
    let mut frame = Vec::with_capacity(8 + body.len());
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    frame.extend_from_slice(&body);
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(&frame)?;
    if sync {
        file.sync_data()?;
    }
    Ok(())
}

/// The journal's whole frames that extend the snapshot of `snapshot_seq`, in order.
pub(crate) fn read_journal(path: &Path, snapshot_seq: u64) -> Vec<(u64, Vec<u8>)> {
    let Ok(data) = std::fs::read(path) else {
        return Vec::new();
    };
    let mut frames = Vec::new();
    let mut at = 0;
    while data.len() >= at + JOURNAL_FRAME_HEADER {
        let u32_at = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().expect("4"));
        let length = u32_at(at) as usize;
        let Some(body) = data.get(at + 8..at + JOURNAL_FRAME_HEADER + length) else {
            break;
        };
        if crc32fast::hash(body) != u32_at(at + 4) {
            break;
        }
        let base = u64::from_le_bytes(body[..8].try_into().expect("8"));
        let seq = u64::from_le_bytes(body[8..16].try_into().expect("8"));
        if base == snapshot_seq {
            frames.push((seq, body[16..].to_vec()));
        }
        at += JOURNAL_FRAME_HEADER + length;
    }
    frames
}

/// Removes what an older Azurite or an interrupted write left in `index/`: graph
/// checkpoints (snapshots replace them), temporary files of snapshot writes that a crash
/// interrupted (the snapshot they were to replace is still in place), and snapshots of
/// collections that no longer exist (dropped just before a crash).
pub(crate) fn tidy_index_dir(dir: &Path, collections: &[Uuid]) {
    let Ok(entries) = std::fs::read_dir(dir.join(INDEX_DIR)) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let extension = path.extension().and_then(|x| x.to_str());
        let belongs = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .is_some_and(|id| collections.contains(&id));
        let reason = match extension {
            Some("tmp") => "left by an interrupted snapshot write",
            Some(LEGACY_CHECKPOINT_EXTENSION) => "a graph checkpoint of an earlier version",
            Some(SNAPSHOT_EXTENSION) if !belongs => "the snapshot of a dropped collection",
            Some(JOURNAL_EXTENSION) if !belongs => "the graph journal of a dropped collection",
            _ => continue,
        };
        log::info!("removing {} ({reason})", path.display());
        if let Err(e) = std::fs::remove_file(&path) {
            log::warn!("could not remove {}: {e}", path.display());
        }
    }
}

/// A directory with a log or segment snapshots but no record store lost its store: opening
/// it would start an empty database beside them and silently drop every record.
pub(crate) fn check_store_present(dir: &Path) -> Result<()> {
    let store = dir.join(STORE_FILE);
    if store.exists() {
        return Ok(());
    }
    let has_files = |sub: &str, extension: &str| {
        std::fs::read_dir(dir.join(sub)).is_ok_and(|entries| {
            entries.filter_map(|e| e.ok()).any(|e| {
                e.path().extension().and_then(|x| x.to_str()) == Some(extension)
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            })
        })
    };
    if has_files(LOG_DIR, "log") || has_files(INDEX_DIR, SNAPSHOT_EXTENSION) {
        return Err(Error::Corrupt {
            path: store,
            message: "the record store is missing, but the directory holds the write-ahead \
                      log or segment snapshots of a database"
                .to_string(),
        });
    }
    Ok(())
}
