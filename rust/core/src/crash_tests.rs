//! Crashes at named points of the write path (see `failpoint`), then a reopen of the same
//! directory: what a crash can leave behind must open to a consistent state holding every
//! acknowledged write, and the one write in flight wholly or not at all.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::batch::{Embeddings, RecordBatch, WriteKind};
use crate::database::{Database, DatabaseOptions, INDEX_DIR, Include};
use crate::error::Error;
use crate::failpoint;
use crate::store::{DEFAULT_DATABASE, DEFAULT_TENANT};
use crate::test_support::{open, snapshotting_collection, vector_batch};

const DIMENSION: usize = 4;

fn vector(i: usize) -> Vec<f32> {
    (0..DIMENSION)
        .map(|d| (i * 7 + d * 3) as f32 * 0.01)
        .collect()
}

fn batch(ids: std::ops::Range<usize>) -> RecordBatch {
    vector_batch(ids, DIMENSION, vector)
}

fn collection(db: &Database) -> String {
    snapshotting_collection(db, "crashes", 2)
}

/// Runs a write that is to crash at the armed failpoint, then drops the database without
/// closing it, as the end of a killed process would.
fn crash(db: Database, point: &'static str, write: impl FnOnce(&Database)) {
    failpoint::arm(point);
    let outcome = catch_unwind(AssertUnwindSafe(|| write(&db)));
    assert!(outcome.is_err(), "the failpoint {point} was not reached");
    drop(db);
}

/// The records are exactly `ids`, each with its vector, and the index agrees: it holds
/// every record once, and a search by a record's vector finds it first.
fn assert_holds(db: &Database, collection: &str, ids: std::ops::Range<usize>) {
    let expected: Vec<String> = ids.clone().map(|i| format!("id{i}")).collect();
    let records = db
        .get(
            collection,
            None,
            None,
            None,
            0,
            Include {
                embeddings: true,
                ..Include::default()
            },
        )
        .unwrap();
    assert_eq!(records.ids, expected);
    let flat: Vec<f32> = ids.clone().flat_map(vector).collect();
    assert_eq!(records.embeddings.unwrap(), flat);
    let (live, stats) = db.index_stats(collection).unwrap();
    assert_eq!(live as usize, expected.len());
    assert_eq!(stats.points - stats.tombstones, expected.len());
    let queries = Embeddings::new(flat, DIMENSION).unwrap();
    let found = db
        .query(collection, &queries, 1, None, None, Include::default())
        .unwrap();
    for (result, id) in found.iter().zip(&expected) {
        assert_eq!(result.records.ids, std::slice::from_ref(id));
        assert!(result.distances[0] <= 1e-6);
    }
}

fn index_files(dir: &Path, extension: &str) -> usize {
    std::fs::read_dir(dir.join(INDEX_DIR))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .and_then(|x| x.to_str())
                == Some(extension)
        })
        .count()
}

#[test]
fn a_crash_between_log_append_and_store_apply_replays_the_write_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = collection(&db);
    db.write(&id, WriteKind::Add, &batch(0..10)).unwrap();
    crash(db, "logged, not applied", |db| {
        let _ = db.write(&id, WriteKind::Add, &batch(10..25));
    });
    // Logged, so replayed: the write was in flight and is there in full.
    let db = open(dir.path());
    assert_holds(&db, &id, 0..25);
    db.close();
    // Replayed once: the next open finds the same state without replaying again.
    let db = open(dir.path());
    assert_holds(&db, &id, 0..25);
    db.write(&id, WriteKind::Add, &batch(25..30)).unwrap();
    assert_holds(&db, &id, 0..30);
}

#[test]
fn a_crash_during_a_log_append_leaves_no_trace_of_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = collection(&db);
    db.write(&id, WriteKind::Add, &batch(0..10)).unwrap();
    crash(db, "log append torn", |db| {
        let _ = db.write(&id, WriteKind::Add, &batch(10..25));
    });
    // Half a frame: cut off at the open, nothing of the write applied.
    let db = open(dir.path());
    assert_holds(&db, &id, 0..10);
    db.write(&id, WriteKind::Upsert, &batch(5..20)).unwrap();
    assert_holds(&db, &id, 0..20);
}

#[test]
fn a_crash_while_a_snapshot_is_half_written_keeps_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = collection(&db);
    db.write(&id, WriteKind::Add, &batch(0..40)).unwrap();
    assert_eq!(index_files(dir.path(), "seg"), 1);
    // This write is acknowledged in the store; its snapshot crashes half way.
    crash(db, "snapshot half written", |db| {
        let _ = db.write(&id, WriteKind::Add, &batch(40..80));
    });
    assert_eq!(index_files(dir.path(), "tmp"), 1);
    let db = open(dir.path());
    // The old snapshot was opened and brought up to date from the log; the half-written
    // file is gone.
    assert_eq!(index_files(dir.path(), "tmp"), 0);
    assert_holds(&db, &id, 0..80);
    db.close();
    let db = open(dir.path());
    assert_holds(&db, &id, 0..80);
}

#[test]
fn a_crash_before_a_written_snapshot_is_renamed_keeps_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = collection(&db);
    db.write(&id, WriteKind::Add, &batch(0..40)).unwrap();
    let before = std::fs::read(dir.path().join(INDEX_DIR).join(format!("{id}.seg"))).unwrap();
    crash(db, "snapshot written, not renamed", |db| {
        let _ = db.delete(&id, Some(&["id3".to_string()]), None, None);
        let _ = db.write(&id, WriteKind::Add, &batch(40..80));
    });
    let after = std::fs::read(dir.path().join(INDEX_DIR).join(format!("{id}.seg"))).unwrap();
    assert_eq!(before, after);
    let db = open(dir.path());
    let mut ids: Vec<usize> = (0..80).collect();
    ids.retain(|&i| i != 3);
    let records = db
        .get(&id, None, None, None, 0, Include::default())
        .unwrap();
    let expected: Vec<String> = ids.iter().map(|i| format!("id{i}")).collect();
    assert_eq!(records.ids, expected);
    assert_eq!(
        db.index_stats(&id).unwrap().1.points - db.index_stats(&id).unwrap().1.tombstones,
        79
    );
}

#[test]
fn damage_followed_by_unapplied_writes_needs_repair_and_repair_reports_the_loss() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = collection(&db);
    db.write(&id, WriteKind::Add, &batch(0..10)).unwrap();
    db.write(&id, WriteKind::Add, &batch(10..20)).unwrap();
    // The third write is logged, not applied; then the second frame is damaged, so the
    // third cannot be applied in order.
    crash(db, "logged, not applied", |db| {
        let _ = db.write(&id, WriteKind::Add, &batch(20..30));
    });
    let log = std::fs::read_dir(dir.path().join(crate::database::LOG_DIR))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&log).unwrap();
    let frames = crate::wal::read_frames(&bytes).0;
    assert_eq!(
        frames.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&log, &bytes).unwrap();

    match Database::open(Some(dir.path()), DatabaseOptions::default()) {
        Err(error @ Error::NeedsRepair { .. }) => {
            let message = error.to_string();
            assert!(message.contains("azurite repair --path"), "{message}");
            assert!(message.contains(log.file_name().unwrap().to_str().unwrap()));
        }
        other => panic!("expected NeedsRepair, got {:?}", other.err()),
    }
    let report = crate::repair(dir.path()).unwrap();
    assert_eq!(report.losses.len(), 1, "{report:?}");
    assert!(report.losses[0].contains("[3]"), "{report:?}");
    let db = open(dir.path());
    assert_holds(&db, &id, 0..20);
    db.close();
    assert!(crate::repair(dir.path()).unwrap().losses.is_empty());
}

#[test]
fn full_durability_syncs_every_commit_and_the_default_does_not() {
    for (durability, synchronous) in [
        (crate::database::Durability::Process, 1),
        (crate::database::Durability::Full, 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(
            Some(dir.path()),
            DatabaseOptions {
                durability,
                read_only: false,
            },
        )
        .unwrap();
        assert_eq!(db.store_synchronous(), synchronous);
        let id = collection(&db);
        let before = failpoint::log_syncs();
        for i in 0..5 {
            db.write(&id, WriteKind::Add, &batch(i * 10..i * 10 + 10))
                .unwrap();
        }
        let syncs = failpoint::log_syncs() - before;
        assert_eq!(syncs, if synchronous == 2 { 5 } else { 0 });
        // Either way a crash loses nothing acknowledged.
        crash(db, "logged, not applied", |db| {
            let _ = db.write(&id, WriteKind::Add, &batch(50..60));
        });
        let db = open(dir.path());
        assert_holds(&db, &id, 0..60);
    }
}

#[test]
fn rotated_log_segments_are_in_sqlites_main_file_so_losing_its_wal_file_loses_nothing() {
    failpoint::set_segment_bytes(4 << 10);
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = collection(&db);
    for i in 0..40 {
        db.write(&id, WriteKind::Add, &batch(i * 10..i * 10 + 10))
            .unwrap();
    }
    let log_dir = dir.path().join(crate::database::LOG_DIR);
    let segments = std::fs::read_dir(&log_dir).unwrap().count();
    assert!(
        segments < 40,
        "older segments were dropped ({segments} left)"
    );
    // What is on disk now, without SQLite's own write-ahead file (as if it were lost
    // after a crash): SQLite's main file and Azurite's log still hold every write.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join(crate::database::STORE_FILE),
        copy.path().join(crate::database::STORE_FILE),
    )
    .unwrap();
    std::fs::create_dir(copy.path().join(crate::database::LOG_DIR)).unwrap();
    for entry in std::fs::read_dir(&log_dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            copy.path()
                .join(crate::database::LOG_DIR)
                .join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    let reopened = open(copy.path());
    assert_holds(&reopened, &id, 0..400);
    db.close();
}

#[test]
fn a_replayed_write_discovers_its_metadata_keys_as_the_write_would_have() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = collection(&db);
    let mut tagged = batch(0..2);
    let metadata = crate::metadata::MetadataUpdate::from([(
        "colour".to_string(),
        Some(crate::metadata::MetadataValue::Str("red".into())),
    )]);
    tagged.metadatas = Some(vec![Some(metadata.clone()), Some(metadata)]);
    crash(db, "logged, not applied", |db| {
        let _ = db.write(&id, WriteKind::Add, &tagged);
    });
    let db = open(dir.path());
    let info = db
        .get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "crashes")
        .unwrap();
    let colour = &info.schema["keys"]["colour"]["string"]["string_inverted_index"];
    assert_eq!(colour["enabled"], true);
}

/// A collection that is written rarely, beside a busy one: its snapshot must not hold the
/// whole log, and a stale copy of it must never be brought "up to date" from a log that
/// no longer holds the writes after it.
#[test]
fn a_stale_snapshot_is_used_only_while_the_log_holds_every_write_after_it() {
    failpoint::set_segment_bytes(4 << 10);
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let quiet = collection(&db);
    let busy = db
        .create_collection(
            DEFAULT_TENANT,
            DEFAULT_DATABASE,
            "busy",
            None,
            None,
            None,
            false,
        )
        .unwrap()
        .id
        .to_string();
    db.write(&quiet, WriteKind::Add, &batch(0..10)).unwrap();
    db.close();
    let snapshot = dir.path().join(INDEX_DIR).join(format!("{quiet}.seg"));
    let old_snapshot = std::fs::read(&snapshot).unwrap();

    // The quiet collection takes one write below its threshold, which the log must keep
    // for its snapshot; then the busy one rotates the log many times.
    let db = open(dir.path());
    db.write(&quiet, WriteKind::Add, &batch(10..11)).unwrap();
    for i in 0..60 {
        db.write(&busy, WriteKind::Add, &batch(100 + i * 10..110 + i * 10))
            .unwrap();
    }
    let log_dir = dir.path().join(crate::database::LOG_DIR);
    let segments = std::fs::read_dir(&log_dir).unwrap().count();
    assert!(segments <= 4, "the quiet snapshot held {segments} segments");
    // Its snapshot was written anew to let them go.
    assert_ne!(std::fs::read(&snapshot).unwrap(), old_snapshot);
    drop(db);
    let db = open(dir.path());
    assert_holds(&db, &quiet, 0..11);
    db.close();

    // A stale copy of the first snapshot, whose later write the log no longer holds: the
    // collection is loaded from the record store instead.
    std::fs::write(&snapshot, &old_snapshot).unwrap();
    let db = open(dir.path());
    assert_holds(&db, &quiet, 0..11);
    assert_eq!(db.count(&busy).unwrap(), 600);
}

/// Between snapshots, the graph's changes go to its journal every `sync_threshold`
/// changes; a crash then reopens the snapshot, replays the log's rows and the journal's
/// graph, and holds every write.
#[test]
fn a_crash_between_snapshots_reopens_from_the_snapshot_and_the_graph_journal() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = collection(&db);
    db.write(&id, WriteKind::Add, &batch(0..400)).unwrap();
    let snapshot = dir.path().join(INDEX_DIR).join(format!("{id}.seg"));
    let journal = dir.path().join(INDEX_DIR).join(format!("{id}.graph"));
    let written = std::fs::read(&snapshot).unwrap();
    // Fewer changes than a quarter of the collection: no snapshot, journal frames only.
    db.write(&id, WriteKind::Add, &batch(400..430)).unwrap();
    db.delete(
        &id,
        Some(&["id5".to_string(), "id6".to_string()]),
        None,
        None,
    )
    .unwrap();
    db.write(&id, WriteKind::Add, &batch(430..460)).unwrap();
    db.write(&id, WriteKind::Add, &batch(460..461)).unwrap();
    assert_eq!(std::fs::read(&snapshot).unwrap(), written);
    assert!(std::fs::metadata(&journal).unwrap().len() > 0);
    let stats = db.index_stats(&id).unwrap().1;
    drop(db);

    let db = open(dir.path());
    let mut expected: Vec<String> = (0..461).map(|i| format!("id{i}")).collect();
    expected.retain(|i| i != "id5" && i != "id6");
    let records = db
        .get(&id, None, None, None, 0, Include::default())
        .unwrap();
    assert_eq!(records.ids, expected);
    // The journal's graph is the one the crashed process had (the last write, after its
    // last frame, is inserted again).
    let reopened = db.index_stats(&id).unwrap().1;
    assert_eq!(
        (reopened.points, reopened.tombstones),
        (stats.points, stats.tombstones)
    );
    for i in [0usize, 200, 399, 410, 450, 460] {
        let hits = db
            .query(
                &id,
                &Embeddings::new(vector(i), DIMENSION).unwrap(),
                1,
                None,
                None,
                Include::default(),
            )
            .unwrap();
        assert_eq!(hits[0].records.ids, [format!("id{i}")]);
    }
    db.close();
    // The close wrote a snapshot holding everything, and no journal is left.
    assert!(!journal.exists());
    let db = open(dir.path());
    assert_eq!(db.count(&id).unwrap(), 459);
}
