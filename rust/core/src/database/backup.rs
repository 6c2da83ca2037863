//! Online backup: a copy of a live database directory that holds exactly the writes up to
//! one sequence number, taken while writers keep writing.
//!
//! The copy is the directory as a crash at one instant would leave it, minus what a crash
//! leaves to repair: writers are held (by the storage lock every commit takes) only while
//! that instant is fixed. Under it the last write is noted, a read transaction begins on a
//! second SQLite connection (WAL mode keeps showing it the store as of that write, whatever
//! commits later), and the files the copy needs are opened: the log segments, with the
//! active one's length (every frame in it up to there is whole, since appends happen under
//! the same lock), and each collection's segment snapshot and graph journal. An open handle
//! keeps a file's contents even when the database renames a new snapshot over it or
//! deletes a log segment or journal, so nothing the copy needs can go away. The bytes are
//! then copied with writers running: the store through SQLite's backup API inside that
//! read transaction, the other files from their handles. Recovery of the copy is a normal
//! open: the store's `applied_seq` is the noted write and the log ends at it, so nothing is
//! replayed or cut, and every snapshot is one the log can bring up to date, as at the
//! noted instant (journal frames past it are ignored by the open, and only whole frames
//! are copied).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use uuid::Uuid;

use super::Database;
use super::directory::{
    INDEX_DIR, JOURNAL_FRAME_HEADER, LOG_DIR, STORE_FILE, journal_file, snapshot_file,
};
use crate::error::{Error, Result};
use crate::wal::list_segments;

/// What a backup copied.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The last write the copy holds: every write acknowledged before the backup began,
    /// and none after this one.
    pub seq: u64,
    pub collections: usize,
    /// Bytes written into the copy.
    pub bytes: u64,
    /// How long writers were held while the copy's write was fixed.
    pub writer_pause: Duration,
}

/// A file opened under the barrier and how much of it belongs to the copy.
struct PinnedFile {
    file: File,
    /// The name in the copy, relative to the database directory.
    name: PathBuf,
    len: u64,
    /// A graph journal, of which only whole frames are copied.
    journal: bool,
}

/// Everything fixed under the barrier: the copy is made from this alone.
struct Pinned {
    seq: u64,
    /// Holds the read transaction begun under the barrier.
    store: Connection,
    collections: usize,
    files: Vec<PinnedFile>,
    writer_pause: Duration,
}

impl Database {
    /// Copies the database into `dest`, a directory that must not exist or be empty, while
    /// other threads keep writing. The copy holds every write acknowledged before the call
    /// and opens as it is (no repair, every collection from its snapshot). It is written
    /// into a temporary sibling of `dest` and renamed into place once synced, so an
    /// interrupted backup never leaves a partial copy at `dest`.
    pub fn backup(&self, dest: &Path) -> Result<BackupReport> {
        let Some(dir) = self.path.clone() else {
            return Err(Error::invalid(
                "An in-memory database cannot be backed up: it has no files to copy. Use a \
                 PersistentClient for data to keep",
            ));
        };
        if self.read_only {
            return Err(Error::invalid(format!(
                "The database at {} is open read-only, and its writer may change the files \
                 while they are copied: back it up from the process that opened it for \
                 writing (`azurite backup` asks a running `azurite run` to)",
                dir.display()
            )));
        }
        check_destination(&dir, dest)?;
        self.snapshot_unsnapshotted();
        let pinned = self.pin(&dir)?;
        let staging = staging_path(dest)?;
        let copied = write_copy(&staging, pinned);
        let report = match copied {
            Ok(report) => report,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        if let Err(e) = put_in_place(&staging, dest) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        Ok(report)
    }

    /// Writes the snapshot of every collection that has none yet, as `close` would, so
    /// that the copy opens each from its snapshot rather than from the record store. Each
    /// holds only its own collection's writer lock.
    fn snapshot_unsnapshotted(&self) {
        for (id, handle) in self.open_handles() {
            if handle.snapshot_seq.load(Ordering::Acquire) == 0
                && handle.changes_since_checkpoint.load(Ordering::Acquire) > 0
            {
                let _writer = handle.writer.lock();
                if handle.snapshot_seq.load(Ordering::Acquire) == 0 {
                    self.write_snapshot(&id, &handle);
                }
            }
        }
    }

    /// The barrier: with the storage lock held, no commit is under way and none starts,
    /// so the store, the log and the snapshots on disk all stop at the same write.
    fn pin(&self, dir: &Path) -> Result<Pinned> {
        let store_path = dir.join(STORE_FILE);
        let store = Connection::open_with_flags(
            &store_path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let storage = self.storage()?;
        let paused = Instant::now();
        // The read transaction's snapshot is taken by its first read, under the lock.
        store.execute_batch("BEGIN")?;
        let stored_seq: i64 = store.query_row(
            "SELECT value FROM settings WHERE key = 'applied_seq'",
            [],
            |r| r.get(0),
        )?;
        let seq = storage.last_seq;
        if stored_seq as u64 != seq {
            return Err(Error::Internal(format!(
                "the record store {} holds write {stored_seq} where the database has \
                 committed write {seq}",
                store_path.display()
            )));
        }
        let log = storage.log.as_ref().ok_or_else(|| {
            Error::Internal("a database opened for writing has no log".to_string())
        })?;
        let mut files = Vec::new();
        let segments = list_segments(&dir.join(LOG_DIR))?;
        let active = segments.len().saturating_sub(1);
        for (i, (_, path)) in segments.iter().enumerate() {
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            let len = if i == active {
                log.active_len()
            } else {
                file.metadata().map_err(|e| Error::io(path, e))?.len()
            };
            files.push(PinnedFile {
                file,
                name: relative(dir, path),
                len,
                journal: false,
            });
        }
        let ids = {
            let mut statement = store.prepare("SELECT id FROM collections")?;
            statement
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        for id in &ids {
            let id = Uuid::parse_str(id).map_err(|_| Error::Corrupt {
                path: store_path.clone(),
                message: format!("collection id {id:?} is not a UUID"),
            })?;
            for (path, journal) in [
                (snapshot_file(dir, &id), false),
                (journal_file(dir, &id), true),
            ] {
                match File::open(&path) {
                    Ok(file) => {
                        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
                        files.push(PinnedFile {
                            file,
                            name: relative(dir, &path),
                            len,
                            journal,
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io(&path, e)),
                }
            }
        }
        drop(storage);
        Ok(Pinned {
            seq,
            store,
            collections: ids.len(),
            files,
            writer_pause: paused.elapsed(),
        })
    }
}

fn relative(dir: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(dir).unwrap_or(path).to_path_buf()
}

/// Refuses a destination that holds anything, or that is the database itself.
fn check_destination(dir: &Path, dest: &Path) -> Result<()> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::invalid(format!(
                    "The backup destination {} exists and is not empty: name a new or empty \
                     directory",
                    dest.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) if dest.exists() => {
            return Err(Error::invalid(format!(
                "The backup destination {} exists and is not a directory ({e}): name a new or \
                 empty directory",
                dest.display()
            )));
        }
        Err(e) => return Err(Error::io(dest, e)),
    }
    let parent = parent_of(dest)?;
    if !parent.is_dir() {
        return Err(Error::invalid(format!(
            "The backup destination's parent directory {} does not exist",
            parent.display()
        )));
    }
    let inside = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a.starts_with(b),
        _ => false,
    };
    if inside(&parent, dir) {
        return Err(Error::invalid(format!(
            "The backup destination {} is inside the database directory {}: name a directory \
             outside it",
            dest.display(),
            dir.display()
        )));
    }
    Ok(())
}

fn parent_of(dest: &Path) -> Result<PathBuf> {
    let parent = dest.parent().unwrap_or(Path::new(""));
    if dest.file_name().is_none() {
        return Err(Error::invalid(format!(
            "The backup destination {} names no directory",
            dest.display()
        )));
    }
    Ok(if parent.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        parent.to_path_buf()
    })
}

/// A name beside `dest` for the copy while it is written: the rename into place is then
/// within one file system.
fn staging_path(dest: &Path) -> Result<PathBuf> {
    let parent = parent_of(dest)?;
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    let staging = parent.join(format!(
        ".{name}.backup-{}-{}",
        std::process::id(),
        Uuid::new_v4().simple()
    ));
    std::fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
    Ok(staging)
}

/// Copies the pinned state into `staging`, every file synced.
fn write_copy(staging: &Path, pinned: Pinned) -> Result<BackupReport> {
    for sub in [INDEX_DIR, LOG_DIR] {
        let path = staging.join(sub);
        std::fs::create_dir(&path).map_err(|e| Error::io(&path, e))?;
    }
    let store_copy = staging.join(STORE_FILE);
    copy_store(&pinned.store, &store_copy)?;
    drop(pinned.store);
    #[cfg(test)]
    crate::failpoint::crash_point("backup store copied");
    let mut bytes = std::fs::metadata(&store_copy)
        .map_err(|e| Error::io(&store_copy, e))?
        .len();
    // A fork's snapshot may be its source's file, linked: the copy links it too.
    let mut copied_inodes: HashMap<(u64, u64), PathBuf> = HashMap::new();
    for pinned_file in pinned.files {
        let to = staging.join(&pinned_file.name);
        if let Some(inode) = inode(&pinned_file.file)
            && let Some(first) = copied_inodes.get(&inode)
            && std::fs::hard_link(first, &to).is_ok()
        {
            continue;
        }
        bytes += copy_file(&pinned_file, &to)?;
        if let Some(inode) = inode(&pinned_file.file) {
            copied_inodes.insert(inode, to);
        }
    }
    for sub in [INDEX_DIR, LOG_DIR] {
        sync_dir(&staging.join(sub))?;
    }
    sync_dir(staging)?;
    Ok(BackupReport {
        seq: pinned.seq,
        collections: pinned.collections,
        bytes,
        writer_pause: pinned.writer_pause,
    })
}

/// SQLite's backup API, run in one step from a connection that holds the read transaction
/// begun under the barrier: the step reads inside that transaction (it begins its own only
/// when the source has none), so it copies the store exactly as of the noted write, and a
/// single step never restarts when another connection writes meanwhile.
fn copy_store(source: &Connection, to: &Path) -> Result<()> {
    let mut copy = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(source, &mut copy)?;
        match backup.step(-1)? {
            rusqlite::backup::StepResult::Done => {}
            other => {
                return Err(Error::Internal(format!(
                    "copying the record store stopped before the end ({other:?})"
                )));
            }
        }
    }
    // The copy is read back in full by its own first open; its pages are in the main
    // file, with no -wal beside it.
    copy.close().map_err(|(_, e)| Error::from(e))?;
    File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(to, e))
}

/// Copies the pinned part of a file; of a graph journal only its whole frames (an append
/// may have been under way at the barrier).
fn copy_file(pinned: &PinnedFile, to: &Path) -> Result<u64> {
    let mut source = (&pinned.file).take(pinned.len);
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| Error::io(to, e))?;
    let written = if pinned.journal {
        let mut data = Vec::with_capacity(pinned.len as usize);
        source
            .read_to_end(&mut data)
            .map_err(|e| Error::io(&pinned.name, e))?;
        let whole = whole_journal_frames(&data);
        out.write_all(&data[..whole])
            .map_err(|e| Error::io(to, e))?;
        whole as u64
    } else {
        std::io::copy(&mut source, &mut out).map_err(|e| Error::io(to, e))?
    };
    if written != pinned.len && !pinned.journal {
        return Err(Error::Internal(format!(
            "{} was {} bytes long at the start of the backup, {written} could be read",
            pinned.name.display(),
            pinned.len
        )));
    }
    out.sync_all().map_err(|e| Error::io(to, e))?;
    Ok(written)
}

/// The length of the journal's prefix made of whole frames.
fn whole_journal_frames(data: &[u8]) -> usize {
    let mut at = 0;
    while let Some(length) = data.get(at..at + 4) {
        let end =
            at + JOURNAL_FRAME_HEADER + u32::from_le_bytes(length.try_into().expect("4")) as usize;
        if end > data.len() {
            break;
        }
        at = end;
    }
    at
}

#[cfg(unix)]
fn inode(file: &File) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn inode(_file: &File) -> Option<(u64, u64)> {
    None
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Renames the finished copy to `dest` (over an empty directory, which a rename replaces
/// on POSIX systems) and syncs the parent, so `dest` either holds the whole copy or is as
/// it was.
fn put_in_place(staging: &Path, dest: &Path) -> Result<()> {
    if cfg!(not(unix)) && dest.is_dir() {
        std::fs::remove_dir(dest).map_err(|e| Error::io(dest, e))?;
    }
    std::fs::rename(staging, dest).map_err(|e| match e.kind() {
        // Something was put in `dest` while the copy was written.
        std::io::ErrorKind::DirectoryNotEmpty | std::io::ErrorKind::AlreadyExists => {
            Error::invalid(format!(
                "The backup destination {} was filled by something else during the backup",
                dest.display()
            ))
        }
        _ => Error::io(dest, e),
    })?;
    sync_dir(&parent_of(dest)?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    use super::*;
    use crate::batch::{Embeddings, RecordBatch, WriteKind};
    use crate::database::{DatabaseOptions, Include};
    use crate::test_support::{open, snapshotting_collection, vector_batch};

    const DIMENSION: usize = 8;

    fn vector(i: usize) -> Vec<f32> {
        // Distinct for every `i`, so a search by one finds that record first.
        (0..DIMENSION)
            .map(|d| {
                if d == 0 {
                    i as f32
                } else {
                    ((i * 31 + d * 7) % 97) as f32
                }
            })
            .collect()
    }

    fn batch(ids: std::ops::Range<usize>) -> RecordBatch {
        vector_batch(ids, DIMENSION, vector)
    }

    fn ids(db: &Database, collection: &str) -> Vec<String> {
        db.get(collection, None, None, None, 0, Include::default())
            .unwrap()
            .ids
    }

    /// Every collection of an opened copy came from its segment snapshot: a collection
    /// loaded from the record store has no snapshot write to keep the log for.
    fn assert_opened_from_snapshots(db: &Database) {
        for (id, handle) in db.open_handles() {
            assert!(
                handle.snapshot_seq.load(Ordering::Acquire) > 0,
                "collection {id} was loaded from the record store"
            );
        }
    }

    #[test]
    fn a_backup_under_a_write_load_holds_a_prefix_with_every_acknowledged_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(open(dir.path()));
        let busy = snapshotting_collection(&db, "busy", 50);
        let quiet = snapshotting_collection(&db, "quiet", 1000);
        db.write(&quiet, WriteKind::Add, &batch(0..10)).unwrap();
        const BATCH: usize = 20;
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (db, busy) = (Arc::clone(&db), busy.clone());
            let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
            std::thread::spawn(move || {
                // Small log segments: the log rotates and releases segments while the
                // backup copies the ones it pinned.
                crate::failpoint::set_segment_bytes(16 << 10);
                let mut n = 0;
                while !stop.load(Ordering::Acquire) && n < 2000 {
                    db.write(&busy, WriteKind::Add, &batch(n * BATCH..(n + 1) * BATCH))
                        .unwrap();
                    n += 1;
                    acknowledged.store(n, Ordering::Release);
                }
            })
        };
        while acknowledged.load(Ordering::Acquire) < 30 {
            std::thread::yield_now();
        }
        let dest = dir.path().with_extension("copy");
        let before = acknowledged.load(Ordering::Acquire);
        let report = db.backup(&dest).unwrap();
        let after = acknowledged.load(Ordering::Acquire);
        stop.store(true, Ordering::Release);
        writer.join().unwrap();

        let copy = open(&dest);
        assert_opened_from_snapshots(&copy);
        assert_eq!(report.collections, 2);
        assert_eq!(copy.storage().unwrap().last_seq, report.seq);
        let held = ids(&copy, &busy);
        assert_eq!(held.len() % BATCH, 0, "a torn batch");
        let batches = held.len() / BATCH;
        assert!(
            (before..=after).contains(&batches),
            "{batches} batches, {before} acknowledged before the backup, {after} after it"
        );
        let expected: Vec<String> = (0..batches * BATCH).map(|i| format!("id{i}")).collect();
        assert_eq!(held, expected);
        assert_eq!(ids(&copy, &quiet).len(), 10);
        // The index of the copy finds every record by its own vector.
        let last = batches * BATCH - 1;
        let found = copy
            .query(
                &busy,
                &Embeddings::new(vector(last), DIMENSION).unwrap(),
                1,
                None,
                None,
                Include::default(),
            )
            .unwrap();
        assert_eq!(found[0].records.ids, [format!("id{last}")]);
        std::fs::remove_dir_all(&dest).unwrap();
    }

    #[test]
    fn forks_deletes_and_journals_come_back_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let source = snapshotting_collection(&db, "source", 10);
        db.write(&source, WriteKind::Add, &batch(0..200)).unwrap();
        let fork = db.fork_collection(&source, "fork").unwrap().id.to_string();
        db.delete(
            &source,
            Some(&["id3".to_string(), "id4".to_string()]),
            None,
            None,
        )
        .unwrap();
        // Fewer changes than a snapshot waits for, more than a journal frame does.
        db.write(&fork, WriteKind::Add, &batch(200..215)).unwrap();
        let never_snapshotted = snapshotting_collection(&db, "small", 1000);
        db.write(&never_snapshotted, WriteKind::Add, &batch(0..5))
            .unwrap();
        let dest = dir.path().with_extension("copy");
        db.backup(&dest).unwrap();
        assert!(
            journal_file(&dest, &Uuid::parse_str(&fork).unwrap()).exists(),
            "the fork's journal was copied"
        );
        let copy = open(&dest);
        assert_opened_from_snapshots(&copy);
        for name in [&source, &fork, &never_snapshotted] {
            assert_eq!(ids(&copy, name), ids(&db, name));
        }
        assert_eq!(copy.count(&source).unwrap(), 198);
        assert_eq!(copy.count(&fork).unwrap(), 215);
        copy.close();
        std::fs::remove_dir_all(&dest).unwrap();
    }

    #[test]
    fn a_destination_that_holds_anything_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let name = snapshotting_collection(&db, "refusals", 10);
        db.write(&name, WriteKind::Add, &batch(0..3)).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let full = elsewhere.path().join("full");
        std::fs::create_dir(&full).unwrap();
        std::fs::write(full.join("x"), b"x").unwrap();
        let file = elsewhere.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let inside = dir.path().join("inside");
        let orphan = elsewhere.path().join("missing").join("copy");
        for (dest, expected) in [
            (&full, "exists and is not empty"),
            (&file, "is not a directory"),
            (&inside, "inside the database directory"),
            (&orphan, "does not exist"),
        ] {
            match db.backup(dest) {
                Err(Error::InvalidArgument(message)) => {
                    assert!(message.contains(expected), "{message}")
                }
                other => panic!("{} was accepted: {other:?}", dest.display()),
            }
        }
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 2);
        // An empty directory is a good destination.
        let empty = elsewhere.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let report = db.backup(&empty).unwrap();
        assert_eq!(report.collections, 1);
        assert_eq!(ids(&open(&empty), &name).len(), 3);
        let names: Vec<_> = std::fs::read_dir(elsewhere.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names.len(),
            3,
            "a staging directory was left behind: {names:?}"
        );
    }

    #[test]
    fn in_memory_and_read_only_databases_are_refused() {
        let db = Database::open(None, DatabaseOptions::default()).unwrap();
        let dest = tempfile::tempdir().unwrap();
        assert!(matches!(
            db.backup(&dest.path().join("copy")),
            Err(Error::InvalidArgument(message)) if message.contains("in-memory")
        ));
        let dir = tempfile::tempdir().unwrap();
        open(dir.path()).close();
        let options = DatabaseOptions {
            read_only: true,
            ..DatabaseOptions::default()
        };
        let reader = Database::open(Some(dir.path()), options).unwrap();
        assert!(matches!(
            reader.backup(&dest.path().join("copy")),
            Err(Error::InvalidArgument(message)) if message.contains("read-only")
        ));
        assert!(!dest.path().join("copy").exists());
    }

    #[test]
    fn a_snapshot_behind_by_several_log_segments_is_brought_up_to_date_in_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let name = snapshotting_collection(&db, "lagging", 1000);
        db.write(&name, WriteKind::Add, &batch(0..100)).unwrap();
        db.write_all_snapshots();
        // Every commit closes its segment; two closed segments behind a snapshot are
        // kept (a third would have the snapshot written anew).
        crate::failpoint::set_segment_bytes(1);
        db.write(&name, WriteKind::Add, &batch(100..110)).unwrap();
        db.delete(&name, Some(&["id5".to_string()]), None, None)
            .unwrap();
        let dest = dir.path().with_extension("copy");
        db.backup(&dest).unwrap();
        assert_eq!(list_segments(&dest.join(LOG_DIR)).unwrap().len(), 3);
        let copy = open(&dest);
        assert_opened_from_snapshots(&copy);
        let expected: Vec<String> = (0..110)
            .filter(|&i| i != 5)
            .map(|i| format!("id{i}"))
            .collect();
        assert_eq!(ids(&copy, &name), expected);
        copy.close();
        std::fs::remove_dir_all(&dest).unwrap();
    }

    #[test]
    fn a_backup_that_crashes_midway_leaves_nothing_at_its_destination() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let name = snapshotting_collection(&db, "interrupted", 10);
        db.write(&name, WriteKind::Add, &batch(0..50)).unwrap();
        let dest = dir.path().with_extension("copy");
        crate::failpoint::arm("backup store copied");
        let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| db.backup(&dest)));
        assert!(crashed.is_err(), "the failpoint was not reached");
        assert!(!dest.exists());
        // The database goes on, and the next backup to the same place succeeds.
        db.write(&name, WriteKind::Add, &batch(50..60)).unwrap();
        db.backup(&dest).unwrap();
        assert_eq!(ids(&open(&dest), &name).len(), 60);
        std::fs::remove_dir_all(&dest).unwrap();
        let parent = dest.parent().unwrap();
        let prefix = format!(".{}.backup-", dest.file_name().unwrap().to_string_lossy());
        for entry in std::fs::read_dir(parent).unwrap() {
            let entry = entry.unwrap().path();
            if entry
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)
            {
                std::fs::remove_dir_all(entry).unwrap();
            }
        }
    }

    #[test]
    fn only_whole_journal_frames_are_counted() {
        let mut data = Vec::new();
        for payload in [&b"abc"[..], b"defgh"] {
            data.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            data.extend_from_slice(&[0; JOURNAL_FRAME_HEADER - 4]);
            data.extend_from_slice(payload);
        }
        let whole = data.len();
        assert_eq!(whole_journal_frames(&data), whole);
        data.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
        assert_eq!(whole_journal_frames(&data), whole);
        assert_eq!(
            whole_journal_frames(&data[..whole - 1]),
            JOURNAL_FRAME_HEADER + 3
        );
    }
}
