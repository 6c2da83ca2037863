//! `azurite repair --path DIR`: brings a damaged database directory back to a state that
//! opens, and says what it did and what was lost.
//!
//! 1. Leftover temporary files of interrupted snapshot writes are removed.
//! 2. The record store (SQLite) is checked with `PRAGMA integrity_check`; a damaged one is
//!    copied into a fresh file with `VACUUM INTO` when SQLite can still read it, the damaged
//!    files kept beside it. A store that cannot be read is not guessed at: the error says
//!    so, and the files stay as they are. A missing store with a log or snapshots beside
//!    it leaves those moved aside (they cannot rebuild the records).
//! 3. The write-ahead log is read up to its first damage: the writes there that the store
//!    lacks are applied, the writes after the damage (which cannot be applied in order) are
//!    reported as lost, and the log is started afresh.
//! 4. The segment snapshots are removed (the store they copied may have changed), the
//!    database is opened, loading every collection from the store, and every snapshot is
//!    written anew.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags};

use crate::batch::ResolvedBatch;
use crate::database::{
    Database, DatabaseOptions, INDEX_DIR, LOG_DIR, STORE_FILE, lock_directory,
    refuse_chroma_directory,
};
use crate::error::{Error, Result};
use crate::segment::SNAPSHOT_EXTENSION;
use crate::store::Store;
use crate::wal;

/// What a repair did, one sentence per action, and what it could not keep.
#[derive(Debug, Default)]
pub struct RepairReport {
    pub actions: Vec<String>,
    /// What was lost, one sentence each; empty when nothing was.
    pub losses: Vec<String>,
    /// Sequence numbers of logged writes that were discarded without being applied.
    lost_writes: Vec<u64>,
    /// The whole log was applied over a salvaged store: records it lost are back.
    recovered_from_log: bool,
    /// What salvaging the store could not read, reported unless the log brought it back.
    unreadable: Vec<String>,
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().and_then(|x| x.to_str()) == Some(extension))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The problems `PRAGMA integrity_check` reports, or why the file cannot be read at all.
fn integrity_problems(path: &Path) -> Vec<String> {
    let check = || -> rusqlite::Result<Vec<String>> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect()
    };
    match check() {
        Ok(lines) if lines == ["ok"] => Vec::new(),
        Ok(lines) => lines,
        Err(e) => vec![e.to_string()],
    }
}

/// Returns whether the store was damaged (and salvaged).
fn repair_store(dir: &Path, report: &mut RepairReport) -> Result<bool> {
    let store = dir.join(STORE_FILE);
    if !store.exists() {
        let wal = format!("{STORE_FILE}-wal");
        let shm = format!("{STORE_FILE}-shm");
        let leftovers: Vec<&str> = [LOG_DIR, INDEX_DIR, wal.as_str(), shm.as_str()]
            .into_iter()
            .filter(|sub| {
                let path = dir.join(sub);
                path.is_file() || fs::read_dir(path).is_ok_and(|mut e| e.next().is_some())
            })
            .collect();
        if !leftovers.is_empty() {
            let aside = dir.join(format!("lost-{}", unix_time()));
            fs::create_dir_all(&aside).map_err(|e| Error::io(&aside, e))?;
            for sub in leftovers {
                fs::rename(dir.join(sub), aside.join(sub))
                    .map_err(|e| Error::io(dir.join(sub), e))?;
            }
            report.actions.push(format!(
                "the record store {} is missing; moved what was left beside it (the log and \
                 segment snapshots, which cannot rebuild it) to {}; the database starts empty",
                store.display(),
                aside.display()
            ));
            report.losses.push(
                "every record and collection of the missing record store, unless it is \
                 restored from a backup"
                    .to_string(),
            );
        }
        return Ok(false);
    }
    let problems = integrity_problems(&store);
    if problems.is_empty() {
        report
            .actions
            .push(format!("{}: integrity check passed", store.display()));
        return Ok(false);
    }
    let mut summary = problems
        .iter()
        .take(3)
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("; ");
    if summary.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|&i| summary.is_char_boundary(i))
            .unwrap_or(0);
        summary.truncate(cut);
        summary.push_str("...");
    }
    let salvaged = dir.join(format!("{STORE_FILE}.salvaged"));
    let _ = fs::remove_file(&salvaged);
    let checked = |copied: std::result::Result<(), String>| {
        copied.and_then(|()| {
            let left = integrity_problems(&salvaged);
            if left.is_empty() {
                Ok(())
            } else {
                Err(left.join("; "))
            }
        })
    };
    let vacuumed = checked(
        Connection::open_with_flags(&store, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .and_then(|conn| {
                conn.execute("VACUUM INTO ?1", [salvaged.display().to_string()])
                    .map(|_| ())
            })
            .map_err(|e| e.to_string()),
    );
    let mut unreadable = 0;
    let copied = vacuumed.or_else(|_| {
        let _ = fs::remove_file(&salvaged);
        checked(salvage_rows(&store, &salvaged).map(|n| unreadable = n))
    });
    if let Err(e) = copied {
        let _ = fs::remove_file(&salvaged);
        return Err(Error::Corrupt {
            path: store,
            message: format!(
                "the record store is damaged ({summary}) and SQLite cannot copy it out ({e}). \
                 Nothing was changed. Restore the directory from a backup; or, to start over \
                 without its records, move {STORE_FILE} out of the directory and run the \
                 repair again"
            ),
        });
    }
    let suffix = format!("damaged-{}", unix_time());
    for name in [
        STORE_FILE.to_string(),
        format!("{STORE_FILE}-wal"),
        format!("{STORE_FILE}-shm"),
    ] {
        let from = dir.join(&name);
        if from.exists() {
            let to = dir.join(format!("{name}.{suffix}"));
            fs::rename(&from, &to).map_err(|e| Error::io(&from, e))?;
        }
    }
    fs::rename(&salvaged, &store).map_err(|e| Error::io(&salvaged, e))?;
    report.actions.push(format!(
        "{} failed its integrity check ({summary}); copied what SQLite could read into a new \
         file, kept the damaged one as {STORE_FILE}.{suffix}",
        store.display()
    ));
    if unreadable > 0 {
        report.unreadable.push(format!(
            "{unreadable} row numbers of the damaged record store could not be read: at \
             most {unreadable} records"
        ));
    }
    Ok(true)
}

/// Copies the catalog and every readable record of a damaged store into a new one at
/// `target`, reading records in small ranges (row by row where a range fails), so that a
/// damaged page costs only the records on it. Returns how many row numbers failed.
fn salvage_rows(damaged: &Path, target: &Path) -> std::result::Result<u64, String> {
    type Row = (
        i64,
        String,
        Vec<u8>,
        Option<String>,
        Option<Vec<u8>>,
        Option<String>,
    );
    drop(Store::open(Some(target), true).map_err(|e| e.to_string())?);
    let old = Connection::open_with_flags(damaged, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let mut conn = Connection::open(target).map_err(|e| e.to_string())?;
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    for table in [
        "settings",
        "tenants",
        "databases",
        "collections",
        "record_layers",
        "record_masks",
        "lineages",
    ] {
        // A store from before forks has no layer tables: the copy's stay empty.
        let present = old
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |_| Ok(()),
            )
            .is_ok();
        if !present {
            continue;
        }
        let read = || -> rusqlite::Result<(Vec<String>, Vec<Vec<rusqlite::types::Value>>)> {
            let mut stmt = old.prepare(&format!("SELECT * FROM {table}"))?;
            let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
            let n = columns.len();
            let rows = stmt
                .query_map([], |r| (0..n).map(|i| r.get(i)).collect())?
                .collect::<rusqlite::Result<_>>()?;
            Ok((columns, rows))
        };
        let (columns, rows) =
            read().map_err(|e| format!("the catalog table {table} cannot be read: {e}"))?;
        tx.execute(&format!("DELETE FROM {table}"), [])
            .map_err(|e| e.to_string())?;
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            vec!["?"; columns.len()].join(", ")
        );
        for row in rows {
            tx.execute(&insert, rusqlite::params_from_iter(row))
                .map_err(|e| format!("the catalog table {table} cannot be copied: {e}"))?;
        }
    }
    // Layers keep the keys of the sequence the collections draw from: the copy's
    // sequence must not hand them out again.
    tx.execute(
        "UPDATE sqlite_sequence SET seq = MAX(seq, \
             (SELECT COALESCE(MAX(key), 0) FROM record_layers)) WHERE name = 'collections'",
        [],
    )
    .map_err(|e| e.to_string())?;
    let collections: Vec<(i64, i64)> = {
        let mut stmt = tx
            .prepare(
                "SELECT key, next_row FROM collections \
                 UNION ALL SELECT key, rows FROM record_layers",
            )
            .map_err(|e| e.to_string())?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| e.to_string())?
    };
    let read = |first: i64, last: i64| -> rusqlite::Result<Vec<Row>> {
        let mut stmt = old.prepare_cached(
            "SELECT key, id, embedding, document, metadata, uri FROM records \
             WHERE key BETWEEN ?1 AND ?2",
        )?;
        stmt.query_map([first, last], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect()
    };
    const CHUNK: i64 = 256;
    let mut unreadable = 0;
    let mut rows: Vec<Row> = Vec::new();
    for (collection, next_row) in collections {
        let base = collection << 32;
        for start in (0..next_row).step_by(CHUNK as usize) {
            let end = (start + CHUNK).min(next_row) - 1;
            match read(base + start, base + end) {
                Ok(chunk) => rows.extend(chunk),
                Err(_) => {
                    for row in start..=end {
                        match read(base + row, base + row) {
                            Ok(one) => rows.extend(one),
                            Err(_) => unreadable += 1,
                        }
                    }
                }
            }
        }
    }
    {
        let mut insert = tx
            .prepare(
                "INSERT OR REPLACE INTO records (key, id, embedding, document, metadata, uri) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(|e| e.to_string())?;
        for (key, id, embedding, document, metadata, uri) in rows {
            insert
                .execute(rusqlite::params![
                    key, id, embedding, document, metadata, uri
                ])
                .map_err(|e| e.to_string())?;
        }
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(unreadable)
}

/// Records SQLite reads but Azurite cannot decode (damage inside a record's bytes) are
/// deleted and reported: the database cannot open with them.
/// Returns whether there were any.
fn drop_undecodable_records(dir: &Path, report: &mut RepairReport) -> Result<bool> {
    let mut store = Store::open(Some(&dir.join(STORE_FILE)), true)?;
    let bad = store.undecodable_records()?;
    if bad.is_empty() {
        return Ok(false);
    }
    let keys: Vec<i64> = bad.iter().map(|(key, _, _)| *key).collect();
    store.delete_record_keys(&keys)?;
    let listed: Vec<String> = bad
        .iter()
        .take(20)
        .map(|(_, id, problem)| format!("{id:?} ({problem})"))
        .collect();
    report.unreadable.push(format!(
        "{} damaged records, deleted: {}{}",
        bad.len(),
        listed.join(", "),
        if bad.len() > 20 { ", ..." } else { "" }
    ));
    Ok(true)
}

/// The log's intact entries from its start up to the first damage or gap, in order; what
/// the damage was; and the sequence numbers of intact entries found after it.
type LogScan = (Vec<(u64, ResolvedBatch)>, Option<String>, Vec<u64>);

fn scan_log(segments: &[(u64, PathBuf)]) -> Result<LogScan> {
    let mut prefix: Vec<(u64, ResolvedBatch)> = Vec::new();
    let mut damaged: Option<String> = None;
    let mut after: Vec<u64> = Vec::new();
    for (first_seq, path) in segments {
        let data = fs::read(path).map_err(|e| Error::io(path, e))?;
        if damaged.is_some() {
            after.extend(wal::read_frames_lenient(&data));
            continue;
        }
        let next = prefix.last().map(|(seq, _)| seq + 1);
        if next.is_some_and(|next| *first_seq > next) {
            damaged = Some(format!(
                "{} starts at write {first_seq}, after a gap",
                path.display()
            ));
            after.extend(wal::read_frames_lenient(&data));
            continue;
        }
        let (entries, valid_len, damage) = wal::read_frames(&data);
        for (seq, batch) in entries {
            if damaged.is_some() {
                after.push(seq);
                continue;
            }
            match prefix.last().map(|(last, _)| *last) {
                Some(last) if seq <= last => continue,
                Some(last) if seq != last + 1 => {
                    damaged = Some(format!(
                        "{} jumps from write {last} to write {seq}",
                        path.display()
                    ));
                    after.push(seq);
                }
                _ => prefix.push((seq, batch)),
            }
        }
        if let Some(damage) = damage {
            damaged.get_or_insert(format!(
                "{} damaged at byte {valid_len} ({damage})",
                path.display()
            ));
            after.extend(wal::frames_after(&data[valid_len..]));
        }
    }
    Ok((prefix, damaged, after))
}

/// Applies the readable log to the store. Normally only the writes the store lacks; after
/// the store itself was damaged, the whole log when it holds the database's history from
/// its first write, which brings back every record the damage took.
fn repair_log(dir: &Path, store_damaged: bool, report: &mut RepairReport) -> Result<()> {
    let log_dir = dir.join(LOG_DIR);
    if !log_dir.exists() {
        return Ok(());
    }
    let mut store = Store::open(Some(&dir.join(STORE_FILE)), true)?;
    let applied = store.applied_seq()?;
    let segments = wal::list_segments(&log_dir)?;
    let (prefix, mut damaged, after) = scan_log(&segments)?;
    let whole_history = prefix.first().is_some_and(|(seq, _)| *seq == 1)
        && prefix.last().is_some_and(|(seq, _)| *seq >= applied);
    let from = if store_damaged && whole_history {
        report.actions.push(format!(
            "the log holds every write since the database was created: applying all {} of \
             them again over the salvaged store, which brings back what the damage took",
            prefix.len()
        ));
        report.recovered_from_log = true;
        0
    } else {
        applied
    };
    if prefix.iter().any(|(seq, _)| *seq > from) && !prefix.iter().any(|(seq, _)| *seq == from + 1)
    {
        damaged.get_or_insert(format!(
            "the log resumes after write {}, the store holds writes up to {applied} only",
            from + 1
        ));
        report
            .lost_writes
            .extend(prefix.iter().map(|(seq, _)| *seq).filter(|&seq| seq > from));
    }
    let mut last = from;
    let mut replayed = 0;
    for (seq, batch) in &prefix {
        if *seq != last + 1 {
            continue;
        }
        if !store.has_collection(batch.collection)? && *seq > applied {
            // Its collection is gone from the store, which lost committed data.
            report.lost_writes.push(*seq);
        }
        store.replay(*seq, batch)?;
        last = *seq;
        replayed += 1;
    }
    if last < applied {
        // Replayed from the start but the store was further: keep its sequence number.
        store.set_applied_seq(applied)?;
    }
    report
        .lost_writes
        .extend(after.into_iter().filter(|&seq| seq > last.max(applied)));
    if replayed > 0 && !report.recovered_from_log {
        report.actions.push(format!(
            "applied {replayed} logged writes that the record store did not hold yet"
        ));
    }
    let Some(damaged) = damaged else {
        if !report.lost_writes.is_empty() {
            report.losses.push(format!(
                "{} logged writes belong to collections that the record store no longer has \
                 (it lost committed data): they were dropped (sequence numbers {:?})",
                report.lost_writes.len(),
                report.lost_writes
            ));
        }
        return Ok(());
    };
    drop(store);
    for (_, path) in &segments {
        fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    }
    report.lost_writes.sort_unstable();
    report.lost_writes.dedup();
    if report.lost_writes.is_empty() {
        report.actions.push(format!(
            "write-ahead log: {damaged}; every write in it that could be read was already \
             in the record store; removed {} log segment(s), the log starts afresh",
            segments.len()
        ));
    } else {
        report.actions.push(format!(
            "write-ahead log: {damaged}; removed {} log segment(s), the log starts afresh",
            segments.len()
        ));
        report.losses.push(format!(
            "{} logged writes after the damage in the log, which could not be applied in \
             order (sequence numbers {:?})",
            report.lost_writes.len(),
            report.lost_writes
        ));
    }
    Ok(())
}

/// Repairs the database directory `dir`, which no other process may have open.
pub fn repair(dir: &Path) -> Result<RepairReport> {
    refuse_chroma_directory(dir)?;
    if !dir.join(STORE_FILE).exists() && !dir.join(LOG_DIR).exists() {
        return Err(Error::NotFound(format!(
            "There is no Azurite database at {}",
            dir.display()
        )));
    }
    let mut report = RepairReport::default();
    {
        let _lock = lock_directory(dir)?;
        for temporary in files_with_extension(&dir.join(INDEX_DIR), "tmp") {
            fs::remove_file(&temporary).map_err(|e| Error::io(&temporary, e))?;
            report.actions.push(format!(
                "removed {}, left by an interrupted snapshot write",
                temporary.display()
            ));
        }
        let salvaged = repair_store(dir, &mut report)?;
        let damaged_records =
            dir.join(STORE_FILE).exists() && drop_undecodable_records(dir, &mut report)?;
        repair_log(dir, salvaged || damaged_records, &mut report)?;
        let unreadable = std::mem::take(&mut report.unreadable);
        if report.recovered_from_log {
            report.actions.extend(
                unreadable
                    .into_iter()
                    .map(|u| format!("{u}: brought back from the log")),
            );
        } else {
            report.losses.extend(unreadable);
        }
    }
    // Snapshots are copies of what the store and the log held; the store may have changed
    // above, so each collection is loaded from it again and its snapshot written anew.
    for snapshot in files_with_extension(&dir.join(INDEX_DIR), SNAPSHOT_EXTENSION) {
        fs::remove_file(&snapshot).map_err(|e| Error::io(&snapshot, e))?;
    }
    let database = Database::open(Some(dir), DatabaseOptions::default())?;
    database.write_all_snapshots();
    let (collections, records) = database.totals();
    database.close();
    report.actions.push(format!(
        "the database opens: {collections} collections, {records} records; segment snapshots \
         rewritten"
    ));
    Ok(report)
}
