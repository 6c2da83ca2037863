//! An import's rows enter the graph after its publish, in the background: searchable at
//! once (exactly) while they wait, met by later writes, persisted as the graph grows, and
//! resumed by the next open after a crash.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::batch::{Embeddings, WriteKind};
use crate::database::{Database, Include};
use crate::index::IndexStats;
use crate::store::{DEFAULT_DATABASE, DEFAULT_TENANT};
use crate::test_support::{open, vector_batch};

const DIMENSION: usize = 16;
const ROWS: usize = 3_000;

/// Pseudo-random coordinates in -1..1, distinct for every `(i, salt)`.
fn vector(i: usize, salt: usize) -> Vec<f32> {
    let mut state = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((salt as u64 + 7) << 32);
    (0..DIMENSION)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Imports records `id0..id{ROWS}` into a new collection, in batches of 500, and publishes
/// it; returns its id.
fn import(db: &Database, sync_threshold: usize) -> String {
    let configuration = serde_json::json!({"hnsw": {"sync_threshold": sync_threshold}});
    let staged = db
        .stage_import(
            DEFAULT_TENANT,
            DEFAULT_DATABASE,
            "imported",
            Some(&configuration),
            None,
            None,
        )
        .unwrap()
        .id
        .to_string();
    for start in (0..ROWS).step_by(500) {
        let batch = vector_batch(start..start + 500, DIMENSION, |i| vector(i, 0));
        db.write(&staged, WriteKind::Add, &batch).unwrap();
    }
    let (_, stats) = db.index_stats(&staged).unwrap();
    assert_eq!(
        (stats.pending, stats.points),
        (ROWS, 0),
        "a staged import builds no graph"
    );
    let published = db.publish_imports(&[staged]).unwrap();
    published[0].id.to_string()
}

fn stats(db: &Database, id: &str) -> IndexStats {
    db.index_stats(id).unwrap().1
}

/// The id of the record nearest to `query`, and its distance.
fn nearest(db: &Database, id: &str, query: Vec<f32>) -> (String, f32) {
    let queries = Embeddings::new(query, DIMENSION).unwrap();
    let found = db
        .query(id, &queries, 1, None, None, Include::default())
        .unwrap();
    (found[0].records.ids[0].clone(), found[0].distances[0])
}

/// Every 37th record is found first by its own vector (`salt` drawn).
fn assert_found(db: &Database, id: &str, salt: usize) {
    for i in (0..ROWS).step_by(37) {
        let (found, distance) = nearest(db, id, vector(i, salt));
        assert_eq!(found, format!("id{i}"));
        assert!(distance <= 1e-6);
    }
}

fn build_all(db: &Database) {
    while db.build_pending_indexes() {}
}

#[test]
fn an_import_is_searched_exactly_until_its_graph_is_built_after_the_publish() {
    let db = Database::open(None, Default::default()).unwrap();
    let id = import(&db, 1_000);
    assert_eq!((stats(&db, &id).pending, stats(&db, &id).points), (ROWS, 0));
    assert_found(&db, &id, 0);
    assert!(db.build_pending_indexes());
    let partly = stats(&db, &id);
    assert!(partly.pending > 0 && partly.pending < ROWS, "{partly:?}");
    assert_eq!(partly.pending + partly.points, ROWS);
    assert_found(&db, &id, 0);
    build_all(&db);
    let built = stats(&db, &id);
    assert_eq!(
        (built.pending, built.points, built.tombstones),
        (0, ROWS, 0)
    );
    assert_found(&db, &id, 0);
}

#[test]
fn writes_to_pending_rows_are_seen_by_searches_and_the_build() {
    let db = Database::open(None, Default::default()).unwrap();
    let id = import(&db, 1_000);
    assert!(db.build_pending_indexes());
    // New vectors for every 37th record, some built already, most pending; the record
    // after each is deleted.
    let moved: Vec<usize> = (0..ROWS).step_by(37).collect();
    for &i in &moved {
        let batch = vector_batch(i..i + 1, DIMENSION, |i| vector(i, 1));
        db.write(&id, WriteKind::Upsert, &batch).unwrap();
    }
    let deleted: Vec<String> = moved.iter().map(|i| format!("id{}", i + 1)).collect();
    db.delete(&id, Some(&deleted), None, None).unwrap();
    let check = |db: &Database| {
        assert_found(db, &id, 1);
        for &i in &moved {
            let (found, _) = nearest(db, &id, vector(i + 1, 0));
            assert_ne!(
                found,
                format!("id{}", i + 1),
                "a deleted record is never found"
            );
        }
    };
    check(&db);
    build_all(&db);
    let built = stats(&db, &id);
    assert_eq!(built.pending, 0);
    assert_eq!(built.points - built.tombstones, ROWS - deleted.len());
    check(&db);
}

fn reopen_after_crash(dir: &Path, db: Database) -> Database {
    // Dropped without closing, as the end of a killed process leaves it.
    drop(db);
    open(dir)
}

#[test]
fn a_restart_resumes_the_build_where_its_journal_and_snapshot_left_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let id = import(&db, 100);
    // Three chunks: the graph's progress reaches a snapshot and then journal frames.
    for _ in 0..3 {
        assert!(db.build_pending_indexes());
    }
    let before = stats(&db, &id);
    let db = reopen_after_crash(dir.path(), db);
    let after = stats(&db, &id);
    // The frames hold all but the last `sync_threshold` changes of the build.
    assert!(
        after.points + 100 > before.points,
        "{before:?} then {after:?}"
    );
    assert_eq!(after.pending + after.points - after.tombstones, ROWS);
    assert_found(&db, &id, 0);
    build_all(&db);
    assert_eq!(stats(&db, &id).pending, 0);
    assert_found(&db, &id, 0);
    db.close();
    let db = open(dir.path());
    let reopened = stats(&db, &id);
    assert_eq!((reopened.pending, reopened.points), (0, ROWS));
    assert_found(&db, &id, 0);
}

#[test]
fn the_builder_thread_finishes_a_published_import_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path()));
    Database::start_index_builder(&db).unwrap();
    let id = import(&db, 1_000);
    let deadline = Instant::now() + Duration::from_secs(120);
    while stats(&db, &id).pending > 0 {
        assert!(
            Instant::now() < deadline,
            "the builder stalled: {:?}",
            stats(&db, &id)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(stats(&db, &id).points, ROWS);
    assert_found(&db, &id, 0);
    db.close();
}
