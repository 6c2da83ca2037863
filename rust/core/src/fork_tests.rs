//! Forks against a model: random writes, forks and drops over a lineage of collections,
//! with reopens (after close, after a drop without close, and without snapshots, so that
//! every collection is loaded through its layers), then crashes at the fork's own points
//! and in a write of a forked source.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::batch::{Embeddings, RecordBatch, WriteKind};
use crate::database::{Database, DatabaseOptions, INDEX_DIR, Include};
use crate::error::Error;
use crate::failpoint;
use crate::metadata::MetadataValue;
use crate::store::{DEFAULT_DATABASE, DEFAULT_TENANT};
use crate::test_support::{open, snapshotting_collection};

const DIMENSION: usize = 3;

/// A collection as the model holds it: `(id, vector, metadata value)` in row order.
type Model = Vec<(String, Vec<f32>, i64)>;

/// Records of a write: `(id, new vector, new metadata value)`.
type Written = (String, Option<Vec<f32>>, Option<i64>);

/// xorshift64: deterministic, and enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn create(db: &Database, name: &str) -> String {
    // Snapshots every few writes, so that forks meet current and lagging ones.
    snapshotting_collection(db, name, 3)
}

fn id_of(db: &Database, name: &str) -> String {
    db.get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, name)
        .unwrap()
        .id
        .to_string()
}

fn write(db: &Database, name: &str, kind: WriteKind, records: &[Written]) {
    let vectors: Option<Vec<f32>> = records
        .iter()
        .map(|(_, vector, _)| vector.clone())
        .collect::<Option<Vec<_>>>()
        .map(|v| v.concat());
    let metadatas = records.iter().any(|(_, _, m)| m.is_some()).then(|| {
        records
            .iter()
            .map(|(_, _, m)| m.map(|m| [("m".to_string(), Some(MetadataValue::Int(m)))].into()))
            .collect()
    });
    let batch = RecordBatch {
        ids: records.iter().map(|(id, ..)| id.clone()).collect(),
        embeddings: vectors.map(|v| Embeddings::new(v, DIMENSION).unwrap()),
        metadatas,
        ..RecordBatch::default()
    };
    db.write(&id_of(db, name), kind, &batch).unwrap();
}

fn assert_matches(db: &Database, name: &str, model: &Model) {
    let records = db
        .get(
            &id_of(db, name),
            None,
            None,
            None,
            0,
            Include {
                embeddings: true,
                metadatas: true,
                ..Include::default()
            },
        )
        .unwrap();
    let ids: Vec<&str> = model.iter().map(|(id, ..)| id.as_str()).collect();
    assert_eq!(records.ids, ids, "ids of {name}");
    let vectors: Vec<f32> = model.iter().flat_map(|(_, v, _)| v.clone()).collect();
    assert_eq!(records.embeddings.unwrap(), vectors, "vectors of {name}");
    let metadatas: Vec<i64> = records
        .metadatas
        .unwrap()
        .into_iter()
        .map(|m| match m.as_ref().and_then(|m| m.get("m")) {
            Some(MetadataValue::Int(m)) => *m,
            other => panic!("metadata of a record of {name}: {other:?}"),
        })
        .collect();
    let expected: Vec<i64> = model.iter().map(|(.., m)| *m).collect();
    assert_eq!(metadatas, expected, "metadata of {name}");
    // The index agrees: every record is found by its own vector.
    if let Some((id, vector, _)) = model.first() {
        let found = db
            .query(
                &id_of(db, name),
                &Embeddings::new(vector.clone(), DIMENSION).unwrap(),
                1,
                None,
                None,
                Include::default(),
            )
            .unwrap();
        assert_eq!(
            found[0].records.ids,
            std::slice::from_ref(id),
            "query of {name}"
        );
    }
}

fn vector(rng: &mut Rng) -> Vec<f32> {
    (0..DIMENSION)
        .map(|_| (rng.below(10_000) as f32) * 0.001)
        .collect()
}

/// One random step on the collections of `models`; returns what it did.
fn step(db: &Database, models: &mut BTreeMap<String, Model>, rng: &mut Rng, next: &mut usize) {
    let names: Vec<String> = models.keys().cloned().collect();
    let name = names[rng.below(names.len())].clone();
    let model = models.get_mut(&name).unwrap();
    match rng.below(10) {
        // Add a few new records.
        0..=2 => {
            let records: Vec<_> = (0..1 + rng.below(4))
                .map(|_| {
                    *next += 1;
                    (format!("r{next}"), Some(vector(rng)), Some(*next as i64))
                })
                .collect();
            write(db, &name, WriteKind::Add, &records);
            for (id, v, m) in records {
                model.push((id, v.unwrap(), m.unwrap()));
            }
        }
        // Update the metadata only: the stored (maybe inherited) vector stays.
        3 | 4 if !model.is_empty() => {
            let at = rng.below(model.len());
            let value = rng.below(1_000_000) as i64;
            write(
                db,
                &name,
                WriteKind::Update,
                &[(model[at].0.clone(), None, Some(value))],
            );
            model[at].2 = value;
        }
        // Give a record a new vector only.
        5 if !model.is_empty() => {
            let at = rng.below(model.len());
            let v = vector(rng);
            write(
                db,
                &name,
                WriteKind::Update,
                &[(model[at].0.clone(), Some(v.clone()), None)],
            );
            model[at].1 = v;
        }
        6 | 7 if !model.is_empty() => {
            let at = rng.below(model.len());
            let id = model.remove(at).0;
            db.delete(&id_of(db, &name), Some(&[id]), None, None)
                .unwrap();
        }
        8 if models.len() < 6 => {
            *next += 1;
            let fork = format!("fork{next}");
            db.fork_collection(&id_of(db, &name), &fork).unwrap();
            let copy = models[&name].clone();
            models.insert(fork, copy);
        }
        9 if models.len() > 1 => {
            db.delete_collection(DEFAULT_TENANT, DEFAULT_DATABASE, &name)
                .unwrap();
            models.remove(&name);
        }
        _ => {}
    }
}

fn remove_snapshots(dir: &Path) {
    for entry in std::fs::read_dir(dir.join(INDEX_DIR)).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
}

#[test]
fn forks_written_forked_and_dropped_at_random_equal_the_model_across_reopens() {
    for seed in 1..=6u64 {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(dir.path());
        let mut rng = Rng(seed * 0x9E37_79B9_7F4A_7C15);
        let mut models = BTreeMap::new();
        create(&db, "root");
        models.insert("root".to_string(), Model::new());
        let mut next = 0;
        for round in 0..12 {
            for _ in 0..25 {
                step(&db, &mut models, &mut rng, &mut next);
            }
            for (name, model) in &models {
                assert_matches(&db, name, model);
            }
            // Reopen: after close, after an exit without close, or with the snapshots
            // gone, so that every collection is loaded from the store's layers.
            match round % 3 {
                0 => db.close(),
                1 => drop(db),
                _ => {
                    db.close();
                    remove_snapshots(dir.path());
                }
            }
            db = open(dir.path());
            for (name, model) in &models {
                assert_matches(&db, name, model);
            }
        }
        db.close();
    }
}

#[test]
fn fork_count_counts_every_fork_of_the_lineage_and_forgets_none_when_one_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let root = create(&db, "root");
    assert_eq!(db.fork_count(&root).unwrap(), 0);
    let first = db.fork_collection(&root, "first").unwrap().id.to_string();
    for i in 0..4 {
        db.fork_collection(&root, &format!("more{i}")).unwrap();
    }
    // A fork of a fork belongs to the same lineage.
    db.fork_collection(&first, "second").unwrap();
    for id in [&root, &first, &id_of(&db, "second")] {
        assert_eq!(db.fork_count(id).unwrap(), 6);
    }
    db.delete_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "root")
        .unwrap();
    db.delete_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "more0")
        .unwrap();
    assert_eq!(db.fork_count(&first).unwrap(), 6);
    db.close();
    let db = open(dir.path());
    assert_eq!(db.fork_count(&first).unwrap(), 6);
    // An unrelated collection has its own lineage.
    assert_eq!(db.fork_count(&create(&db, "other")).unwrap(), 0);
}

#[test]
fn fork_refuses_an_existing_name_an_unknown_collection_and_a_bad_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let root = create(&db, "root");
    create(&db, "taken");
    assert!(matches!(
        db.fork_collection(&root, "taken"),
        Err(Error::AlreadyExists(message)) if message == "Collection [taken] already exists"
    ));
    let unknown = uuid::Uuid::new_v4().to_string();
    assert!(matches!(
        db.fork_collection(&unknown, "fresh"),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(db.fork_count(&unknown), Err(Error::NotFound(_))));
    assert!(matches!(
        db.fork_collection("not-a-uuid", "fresh"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        db.fork_collection(&root, "x"),
        Err(Error::InvalidArgument(_))
    ));
    // Nothing was made by the refused calls.
    assert_eq!(
        db.count_collections(DEFAULT_TENANT, DEFAULT_DATABASE)
            .unwrap(),
        2
    );
    assert_eq!(db.fork_count(&root).unwrap(), 0);
}

/// Records `0..n` as `(id, vector, metadata)`.
fn numbered(range: std::ops::Range<usize>) -> Vec<Written> {
    range
        .map(|i| {
            let v = (0..DIMENSION).map(|d| (i * 5 + d) as f32 * 0.01).collect();
            (format!("n{i}"), Some(v), Some(i as i64))
        })
        .collect()
}

fn model_of(records: &[Written]) -> Model {
    records
        .iter()
        .map(|(id, v, m)| (id.clone(), v.clone().unwrap(), m.unwrap()))
        .collect()
}

#[test]
fn a_crash_before_the_fork_commits_leaves_no_fork_and_one_after_leaves_a_whole_one() {
    for (point, forked) in [
        ("fork written, not committed", false),
        ("fork committed, not published", true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        create(&db, "root");
        let records = numbered(0..20);
        write(&db, "root", WriteKind::Add, &records);
        let source = id_of(&db, "root");
        failpoint::arm(point);
        let outcome = catch_unwind(AssertUnwindSafe(|| db.fork_collection(&source, "fork")));
        assert!(outcome.is_err(), "the failpoint {point} was not reached");
        drop(db);

        let db = open(dir.path());
        assert_matches(&db, "root", &model_of(&records));
        let found = db.get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "fork");
        assert_eq!(found.is_ok(), forked, "{point}");
        if forked {
            assert_matches(&db, "fork", &model_of(&records));
            assert_eq!(db.fork_count(&source).unwrap(), 1);
        } else {
            assert_eq!(db.fork_count(&source).unwrap(), 0);
            // The name is free: the fork can be made now.
            db.fork_collection(&source, "fork").unwrap();
        }
        db.close();
    }
}

#[test]
fn a_crash_in_a_write_of_a_forked_source_replays_it_without_reaching_the_fork() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    create(&db, "root");
    let records = numbered(0..30);
    write(&db, "root", WriteKind::Add, &records);
    let source = id_of(&db, "root");
    db.fork_collection(&source, "fork").unwrap();
    let mut root_model = model_of(&records);
    let fork_model = model_of(&records);
    // Acknowledged writes of the source after the fork.
    write(
        &db,
        "root",
        WriteKind::Update,
        &[("n3".into(), None, Some(-3))],
    );
    root_model[3].2 = -3;
    db.delete(&source, Some(&["n4".to_string()]), None, None)
        .unwrap();
    root_model.remove(4);
    // The write in flight: logged, not applied, so the next open replays it, and the
    // replay must copy the rows it changes into the fork's layer first, as the write
    // would have.
    failpoint::arm("logged, not applied");
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        write(
            &db,
            "root",
            WriteKind::Update,
            &[("n5".into(), Some(vec![9.0, 9.0, 9.0]), Some(-5))],
        );
    }));
    assert!(outcome.is_err());
    drop(db);
    root_model[4].1 = vec![9.0, 9.0, 9.0];
    root_model[4].2 = -5;

    for reopen in 0..2 {
        let db = open(dir.path());
        assert_matches(&db, "root", &root_model);
        assert_matches(&db, "fork", &fork_model);
        db.close();
        if reopen == 0 {
            remove_snapshots(dir.path());
        }
    }
}

#[test]
fn a_fork_of_a_current_snapshot_shares_its_file_and_opens_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    create(&db, "root");
    let records = numbered(0..50);
    write(&db, "root", WriteKind::Add, &records);
    db.close();
    let db = open(dir.path());
    let source = id_of(&db, "root");
    let fork = db.fork_collection(&source, "fork").unwrap().id;
    let linked = dir
        .path()
        .join(INDEX_DIR)
        .join(format!("{fork}.{}", crate::segment::SNAPSHOT_EXTENSION));
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&linked).unwrap().nlink(), 2);
    }
    // Opened from the shared file, the fork reads as its source.
    assert_matches(&db, "fork", &model_of(&records));
    // The source moves on; the shared file is the fork's state still.
    write(
        &db,
        "root",
        WriteKind::Update,
        &[("n0".into(), None, Some(-1))],
    );
    drop(db);
    let db = open(dir.path());
    let mut root_model = model_of(&records);
    root_model[0].2 = -1;
    assert_matches(&db, "root", &root_model);
    assert_matches(&db, "fork", &model_of(&records));
    // Its writes go to its own records, and its own snapshot replaces the link.
    write(
        &db,
        "fork",
        WriteKind::Update,
        &[("n1".into(), None, Some(-2))],
    );
    db.close();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&linked).unwrap().nlink(), 1);
    }
    let db = open(dir.path());
    let mut fork_model = model_of(&records);
    fork_model[1].2 = -2;
    assert_matches(&db, "fork", &fork_model);
    assert_matches(&db, "root", &root_model);
}

#[test]
fn repair_keeps_every_member_of_a_lineage_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut rng = Rng(0xF0F0_1234);
    let mut models = BTreeMap::new();
    create(&db, "root");
    models.insert("root".to_string(), Model::new());
    let mut next = 0;
    for _ in 0..150 {
        step(&db, &mut models, &mut rng, &mut next);
    }
    // At least one fork survives, and its source is written after it.
    let (name, model) = models
        .iter()
        .next()
        .map(|(n, m)| (n.clone(), m.clone()))
        .unwrap();
    db.fork_collection(&id_of(&db, &name), "last").unwrap();
    models.insert("last".to_string(), model.clone());
    write(&db, &name, WriteKind::Add, &numbered(0..3));
    models
        .get_mut(&name)
        .unwrap()
        .extend(model_of(&numbered(0..3)));
    drop(db);
    // Repair removes the snapshots and loads every collection from the store's layers.
    crate::repair::repair(dir.path()).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join(INDEX_DIR))
            .unwrap()
            .count(),
        models.len()
    );
    let db = open(dir.path());
    for (name, model) in &models {
        assert_matches(&db, name, model);
    }
    db.close();
}

#[test]
fn forks_in_memory_copy_the_segment_and_equal_the_model() {
    // Without a directory there is no snapshot to share: each fork copies its source's
    // segment.
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let mut rng = Rng(0x1234_5678_9ABC);
    let mut models = BTreeMap::new();
    create(&db, "root");
    models.insert("root".to_string(), Model::new());
    let mut next = 0;
    for _ in 0..12 {
        for _ in 0..25 {
            step(&db, &mut models, &mut rng, &mut next);
        }
        for (name, model) in &models {
            assert_matches(&db, name, model);
        }
    }
}

#[test]
fn deleting_a_database_deletes_the_records_of_its_lineages() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_database("doomed", DEFAULT_TENANT).unwrap();
    let source = db
        .create_collection(DEFAULT_TENANT, "doomed", "root", None, None, None, false)
        .unwrap()
        .id
        .to_string();
    let batch = |range: std::ops::Range<usize>| RecordBatch {
        ids: range.clone().map(|i| format!("d{i}")).collect(),
        embeddings: Some(
            Embeddings::new(
                range.flat_map(|i| [i as f32; DIMENSION]).collect(),
                DIMENSION,
            )
            .unwrap(),
        ),
        ..RecordBatch::default()
    };
    db.write(&source, WriteKind::Add, &batch(0..10)).unwrap();
    let fork = db.fork_collection(&source, "fork").unwrap().id.to_string();
    db.write(&source, WriteKind::Upsert, &batch(0..3)).unwrap();
    db.delete(&fork, Some(&["d5".to_string()]), None, None)
        .unwrap();
    db.delete_database("doomed", DEFAULT_TENANT).unwrap();
    db.close();
    let store = rusqlite::Connection::open(dir.path().join(crate::database::STORE_FILE)).unwrap();
    for table in [
        "records",
        "record_masks",
        "record_layers",
        "lineages",
        "collections",
    ] {
        let left: i64 = store
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "{table}");
    }
}
