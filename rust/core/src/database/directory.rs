//! The files of a database directory: their names, the lock that keeps a second writer
//! out, the index checkpoints (written atomically) and the checks an open makes of what
//! it finds there.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::error::{Error, Result};

pub const STORE_FILE: &str = "azurite.sqlite3";
pub const LOG_DIR: &str = "wal";
pub const LOCK_FILE: &str = "azurite.lock";
/// Checkpoints of the collections' vector indexes: `<collection id>.hnsw`.
pub const INDEX_DIR: &str = "index";
const CHECKPOINT_EXTENSION: &str = "hnsw";
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
         collections over, read them with chromadb and add them to an Azurite client on a \
         directory of its own; an importer (`azurite import --from-chroma`) is planned but \
         does not exist yet.{earlier_azurite}",
        dir.display()
    )))
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

pub(crate) fn checkpoint_path(dir: &Path, collection: &Uuid) -> PathBuf {
    dir.join(INDEX_DIR)
        .join(format!("{collection}.{CHECKPOINT_EXTENSION}"))
}

/// Writes a file so that it is either wholly the old or wholly the new content after a
/// crash: temporary name, sync, rename, sync of the directory.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary)?;
    #[cfg(test)]
    if crate::failpoint::fire("checkpoint half written") {
        file.write_all(&bytes[..bytes.len() / 2])?;
        panic!("failpoint checkpoint half written: simulated crash");
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    #[cfg(test)]
    crate::failpoint::crash_point("checkpoint written, not renamed");
    std::fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Removes the temporary files of checkpoint writes that a crash interrupted: the
/// checkpoint they were to replace is still in place.
pub(crate) fn remove_interrupted_checkpoints(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir.join(INDEX_DIR)) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().and_then(|x| x.to_str()) == Some("tmp") {
            log::info!(
                "removing {}, left by an interrupted checkpoint write",
                path.display()
            );
            if let Err(e) = std::fs::remove_file(&path) {
                log::warn!("could not remove {}: {e}", path.display());
            }
        }
    }
}

/// A directory with a log or index checkpoints but no record store lost its store: opening
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
    if has_files(LOG_DIR, "log") || has_files(INDEX_DIR, CHECKPOINT_EXTENSION) {
        return Err(Error::Corrupt {
            path: store,
            message: "the record store is missing, but the directory holds the write-ahead \
                      log or index checkpoints of a database"
                .to_string(),
        });
    }
    Ok(())
}
