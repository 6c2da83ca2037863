//! Imports through staging collections: staged, written, published (replacing a
//! collection under its id and name, or under a new name) or abandoned, refused when the
//! target moved meanwhile, hidden from the catalog until published, and a crash at each
//! point of the way: the next open finds the target as it was or the whole import, and no
//! trace of an unfinished one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::batch::{Embeddings, RecordBatch, WriteKind};
use crate::database::{CollectionInfo, Database, DatabaseOptions, INDEX_DIR, Include, STORE_FILE};
use crate::error::Error;
use crate::failpoint;
use crate::metadata::MetadataValue;
use crate::store::{DEFAULT_DATABASE, DEFAULT_TENANT};
use crate::test_support::{open, snapshotting_collection};

const DIMENSION: usize = 3;

/// `(id, vector, metadata value)` in row order.
type Model = Vec<(String, Vec<f32>, i64)>;

/// Distinct for every record of a model: a search by it finds its record first.
fn vector(i: usize, salt: usize) -> Vec<f32> {
    vec![i as f32 * 0.1, salt as f32 * 0.1, (i % 7) as f32 * 0.1]
}

/// Records `range`, their vectors and metadata drawn with `salt`.
fn records(range: std::ops::Range<usize>, salt: usize) -> Model {
    range
        .map(|i| (format!("r{i}"), vector(i, salt), (i + salt * 1000) as i64))
        .collect()
}

fn write(db: &Database, id: &str, kind: WriteKind, model: &Model) {
    let batch = RecordBatch {
        ids: model.iter().map(|(id, ..)| id.clone()).collect(),
        embeddings: Some(
            Embeddings::new(
                model.iter().flat_map(|(_, v, _)| v.clone()).collect(),
                DIMENSION,
            )
            .unwrap(),
        ),
        metadatas: Some(
            model
                .iter()
                .map(|(.., m)| Some([("m".to_string(), Some(MetadataValue::Int(*m)))].into()))
                .collect(),
        ),
        ..RecordBatch::default()
    };
    db.write(id, kind, &batch).unwrap();
}

fn delete(db: &Database, id: &str, ids: &[&str]) {
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    db.delete(id, Some(&ids), None, None).unwrap();
}

fn create(db: &Database, name: &str) -> String {
    // A snapshot every few writes, so that imports meet snapshots, journals and links.
    snapshotting_collection(db, name, 3)
}

fn stage(db: &Database, name: &str) -> CollectionInfo {
    db.stage_import(DEFAULT_TENANT, DEFAULT_DATABASE, name, None, None, None)
        .unwrap()
}

fn names(db: &Database) -> Vec<String> {
    let mut names: Vec<String> = db
        .list_collections(DEFAULT_TENANT, DEFAULT_DATABASE, None, 0)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

fn id_of(db: &Database, name: &str) -> String {
    db.get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, name)
        .unwrap()
        .id
        .to_string()
}

/// The collection of `id` holds exactly `model`, and its index finds every record by its
/// own vector.
fn assert_holds(db: &Database, id: &str, model: &Model) {
    let got = db
        .get(
            id,
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
    assert_eq!(got.ids, ids);
    let vectors: Vec<f32> = model.iter().flat_map(|(_, v, _)| v.clone()).collect();
    assert_eq!(got.embeddings.unwrap(), vectors);
    let metadata: Vec<i64> = got
        .metadatas
        .unwrap()
        .into_iter()
        .map(|m| match m.unwrap()["m"] {
            MetadataValue::Int(m) => m,
            ref other => panic!("metadata {other:?}"),
        })
        .collect();
    assert_eq!(metadata, model.iter().map(|(.., m)| *m).collect::<Vec<_>>());
    for (record, v, _) in model {
        let found = db
            .query(
                id,
                &Embeddings::new(v.clone(), DIMENSION).unwrap(),
                1,
                None,
                None,
                Include::default(),
            )
            .unwrap();
        assert_eq!(found[0].records.ids, std::slice::from_ref(record));
    }
}

/// The files of the index directory, by name.
fn index_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join(INDEX_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

/// How many rows `table` of the store holds.
fn rows(dir: &Path, table: &str) -> i64 {
    let store = rusqlite::Connection::open(dir.join(STORE_FILE)).unwrap();
    store
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// What an import into `base` does in these tests: a new vector for some records, one
/// deleted, new ones added.
fn imported(base: &Model) -> Model {
    let mut model: Model = base
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(i, (id, v, m))| {
            if i % 2 == 0 {
                (id.clone(), vector(i, 7), m + 1)
            } else {
                (id.clone(), v.clone(), *m)
            }
        })
        .collect();
    model.extend(records(100..130, 7));
    model
}

fn run_import(db: &Database, staging: &str, base: &Model) {
    let changed: Model = imported(base)
        .into_iter()
        .filter(|(id, ..)| base.iter().any(|(b, ..)| b == id))
        .collect();
    write(db, staging, WriteKind::Upsert, &changed);
    delete(db, staging, &[base[1].0.as_str()]);
    // Several batches, so that the import writes snapshots and journal frames of its own.
    for chunk in records(100..130, 7).chunks(4) {
        write(db, staging, WriteKind::Add, &chunk.to_vec());
    }
}

#[test]
fn a_published_import_replaces_its_target_under_the_targets_id_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let target = create(&db, "books");
    let base = records(0..40, 0);
    write(&db, &target, WriteKind::Add, &base);
    db.fork_collection(&target, "books-fork").unwrap();
    let forks = db.fork_count(&target).unwrap();

    let staging = stage(&db, "books");
    let staging_id = staging.id.to_string();
    assert_eq!(staging.name, "books");
    assert_ne!(staging_id, target);
    // The import starts as the target, does not count as a fork, and is hidden.
    assert_holds(&db, &staging_id, &base);
    assert_eq!(db.fork_count(&target).unwrap(), forks);
    assert_eq!(names(&db), ["books", "books-fork"]);
    assert_eq!(
        db.count_collections(DEFAULT_TENANT, DEFAULT_DATABASE)
            .unwrap(),
        2
    );
    assert_eq!(id_of(&db, "books"), target);
    assert!(matches!(
        db.get_collection_by_id(DEFAULT_TENANT, DEFAULT_DATABASE, &staging_id),
        Err(Error::NotFound(_))
    ));
    for refused in [
        db.fork_collection(&staging_id, "other").map(drop),
        db.fork_count(&staging_id).map(drop),
        db.modify_collection(&staging_id, Some("renamed"), None, None)
            .map(drop),
    ] {
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    }

    run_import(&db, &staging_id, &base);
    let expected = imported(&base);
    assert_holds(&db, &staging_id, &expected);
    // Readers of the target still see it as it was.
    assert_holds(&db, &target, &base);

    let published = db
        .publish_imports(std::slice::from_ref(&staging_id))
        .unwrap();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].id.to_string(), target);
    assert_eq!(published[0].name, "books");
    assert_holds(&db, &target, &expected);
    assert_holds(&db, &id_of(&db, "books-fork"), &base);
    assert!(matches!(db.count(&staging_id), Err(Error::NotFound(_))));
    assert_eq!(names(&db), ["books", "books-fork"]);
    assert_eq!(db.fork_count(&target).unwrap(), forks);
    // The import is the collection now: it is written, forked and counted as one.
    write(&db, &target, WriteKind::Add, &records(200..201, 0));
    db.fork_collection(&target, "books-later").unwrap();
    assert_eq!(db.fork_count(&target).unwrap(), forks + 1);
    db.delete_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "books-later")
        .unwrap();
    let mut expected = expected;
    expected.extend(records(200..201, 0));
    db.close();

    for reopen in 0..2 {
        let db = open(dir.path());
        assert_holds(&db, &target, &expected);
        assert_holds(&db, &id_of(&db, "books-fork"), &base);
        db.close();
        if reopen == 0 {
            // Loaded from the store's layers alone, the collections read the same.
            for file in index_files(dir.path()) {
                std::fs::remove_file(dir.path().join(INDEX_DIR).join(file)).unwrap();
            }
        }
    }
}

#[test]
fn an_import_of_a_new_name_is_created_as_create_collection_creates_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let configuration = serde_json::json!({"hnsw": {"ef_search": 77}});
    let metadata = [("topic".to_string(), MetadataValue::Str("x".into()))].into();
    let staging = db
        .stage_import(
            DEFAULT_TENANT,
            DEFAULT_DATABASE,
            "fresh",
            Some(&configuration),
            None,
            Some(&metadata),
        )
        .unwrap();
    assert_eq!(staging.name, "fresh");
    assert!(names(&db).is_empty());
    // The name stays free until the import is published.
    assert!(matches!(
        db.get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "fresh"),
        Err(Error::NotFound(_))
    ));
    let staging_id = staging.id.to_string();
    let model = records(0..10, 3);
    write(&db, &staging_id, WriteKind::Add, &model);
    let published = db
        .publish_imports(std::slice::from_ref(&staging_id))
        .unwrap();
    assert_eq!(published[0].id, staging.id);
    let found = db
        .get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "fresh")
        .unwrap();
    assert_eq!(found.id, staging.id);
    assert_eq!(found.metadata, Some(metadata));
    assert_eq!(found.configuration["hnsw"]["ef_search"], 77);
    assert_eq!(found.configuration, staging.configuration);
    assert_holds(&db, &staging_id, &model);
    assert_eq!(db.fork_count(&staging_id).unwrap(), 0);

    // What create_collection refuses, an import refuses with the same error.
    let bad_configuration = serde_json::json!({"hnsw": {"space": "nope"}});
    let cases: [(&str, Option<&serde_json::Value>); 2] =
        [("ab", None), ("good-name", Some(&bad_configuration))];
    for (name, configuration) in cases {
        let created = db
            .create_collection(
                DEFAULT_TENANT,
                DEFAULT_DATABASE,
                name,
                configuration,
                None,
                None,
                false,
            )
            .unwrap_err()
            .to_string();
        let staged = db
            .stage_import(
                DEFAULT_TENANT,
                DEFAULT_DATABASE,
                name,
                configuration,
                None,
                None,
            )
            .unwrap_err();
        assert!(matches!(staged, Error::InvalidArgument(_)));
        assert_eq!(staged.to_string(), created);
    }
    assert!(matches!(
        db.stage_import(DEFAULT_TENANT, "nowhere", "fresh2", None, None, None),
        Err(Error::InvalidArgument(m)) if m == "Database [nowhere] does not exist"
    ));
    // An import into a collection that exists takes its settings: none may be given.
    assert!(matches!(
        db.stage_import(
            DEFAULT_TENANT,
            DEFAULT_DATABASE,
            "fresh",
            Some(&configuration),
            None,
            None
        ),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(rows(dir.path(), "imports"), 0);
}

/// Something done to an import's target while the import runs.
type Change = dyn Fn(&Database);

#[test]
fn publishing_is_refused_whole_when_a_target_moved_or_a_name_was_taken() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let target = create(&db, "target");
    let base = records(0..8, 0);
    write(&db, &target, WriteKind::Add, &base);
    let moved_target: [(&str, &Change); 4] = [
        ("written", &|db| {
            write(
                db,
                &id_of(db, "target"),
                WriteKind::Add,
                &records(50..51, 0),
            )
        }),
        ("given metadata", &|db| {
            let update = [("k".to_string(), Some(MetadataValue::Int(1)))].into();
            db.modify_collection(&id_of(db, "target"), None, Some(&update), None)
                .unwrap();
        }),
        ("renamed", &|db| {
            db.modify_collection(&id_of(db, "target"), Some("elsewhere"), None, None)
                .unwrap();
        }),
        ("deleted", &|db| {
            db.delete_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "target")
                .unwrap();
            create(db, "target");
        }),
    ];
    for (what, change) in moved_target {
        let current = db
            .get(
                &id_of(&db, "target"),
                None,
                None,
                None,
                0,
                Include::default(),
            )
            .unwrap()
            .ids;
        let fresh = stage(&db, "unrelated");
        let staging = stage(&db, "target");
        let staging_id = staging.id.to_string();
        write(&db, &staging_id, WriteKind::Add, &records(90..92, 1));
        change(&db);
        let refused = db
            .publish_imports(&[fresh.id.to_string(), staging_id.clone()])
            .unwrap_err();
        match refused {
            Error::InvalidArgument(message) => assert_eq!(
                message,
                "Collection [target] was written, changed or deleted while it was being \
                 imported into: nothing was imported. Retry the import to import into its \
                 current state",
                "{what}"
            ),
            other => panic!("{what}: {other:?}"),
        }
        if names(&db).contains(&"elsewhere".to_string()) {
            db.modify_collection(&id_of(&db, "elsewhere"), Some("target"), None, None)
                .unwrap();
        }
        // Nothing was published: the other import is still hidden, both still open.
        assert!(!names(&db).contains(&"unrelated".to_string()), "{what}");
        assert_ne!(id_of(&db, "target"), staging_id);
        assert_eq!(db.count(&staging_id).unwrap() as usize, current.len() + 2);
        db.abandon_import(&staging_id).unwrap();
        db.abandon_import(&fresh.id.to_string()).unwrap();
    }

    // A new name another collection took meanwhile.
    let first = stage(&db, "new-one");
    let second = stage(&db, "new-two");
    create(&db, "new-two");
    assert!(matches!(
        db.publish_imports(&[first.id.to_string(), second.id.to_string()]),
        Err(Error::AlreadyExists(m)) if m == "Collection [new-two] already exists"
    ));
    assert!(!names(&db).contains(&"new-one".to_string()));
    // Two imports of one new name: the second finds it taken by the first.
    let again = stage(&db, "new-one");
    assert!(matches!(
        db.publish_imports(&[first.id.to_string(), again.id.to_string()]),
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(
        db.publish_imports(&[first.id.to_string(), first.id.to_string()]),
        Err(Error::InvalidArgument(_))
    ));
    db.publish_imports(&[first.id.to_string()]).unwrap();
    assert!(names(&db).contains(&"new-one".to_string()));
    // Published, it is no import any more; an unknown id never was one.
    for id in [first.id.to_string(), uuid::Uuid::new_v4().to_string()] {
        assert!(matches!(
            db.publish_imports(std::slice::from_ref(&id)),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(db.abandon_import(&id), Err(Error::NotFound(_))));
    }
    assert!(db.publish_imports(&[]).unwrap().is_empty());
}

#[test]
fn an_abandoned_import_leaves_nothing_and_its_target_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let target = create(&db, "kept");
    let base = records(0..40, 0);
    write(&db, &target, WriteKind::Add, &base);
    db.close();
    let db = open(dir.path());
    let files = index_files(dir.path());
    let (records_before, layers_before) = (
        rows(dir.path(), "records"),
        rows(dir.path(), "record_layers"),
    );
    let staging = stage(&db, "kept").id.to_string();
    run_import(&db, &staging, &base);
    let fresh = stage(&db, "never").id.to_string();
    write(&db, &fresh, WriteKind::Add, &records(0..5, 2));
    db.abandon_import(&staging).unwrap();
    db.abandon_import(&fresh).unwrap();
    assert!(matches!(db.count(&staging), Err(Error::NotFound(_))));
    assert_holds(&db, &target, &base);
    assert_eq!(index_files(dir.path()), files);
    assert_eq!(rows(dir.path(), "records"), records_before);
    assert_eq!(rows(dir.path(), "record_layers"), layers_before);
    assert_eq!(rows(dir.path(), "imports"), 0);
    db.close();
}

#[test]
fn deleting_the_database_or_resetting_drops_imports_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_database("doomed", DEFAULT_TENANT).unwrap();
    let target = db
        .create_collection(DEFAULT_TENANT, "doomed", "target", None, None, None, false)
        .unwrap()
        .id
        .to_string();
    write(&db, &target, WriteKind::Add, &records(0..10, 0));
    let staging = db
        .stage_import(DEFAULT_TENANT, "doomed", "target", None, None, None)
        .unwrap()
        .id
        .to_string();
    write(&db, &staging, WriteKind::Add, &records(10..20, 0));
    db.delete_database("doomed", DEFAULT_TENANT).unwrap();
    assert!(matches!(db.count(&staging), Err(Error::NotFound(_))));
    for table in ["records", "record_layers", "imports", "collections"] {
        assert_eq!(rows(dir.path(), table), 0, "{table}");
    }
    let staging = stage(&db, "later").id.to_string();
    write(&db, &staging, WriteKind::Add, &records(0..10, 0));
    db.reset().unwrap();
    assert!(matches!(db.count(&staging), Err(Error::NotFound(_))));
    assert_eq!(rows(dir.path(), "imports"), 0);
    db.close();
}

#[test]
fn an_open_drops_unfinished_imports_and_a_read_only_one_ignores_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let target = create(&db, "target");
    let base = records(0..40, 0);
    write(&db, &target, WriteKind::Add, &base);
    let staging = stage(&db, "target").id.to_string();
    run_import(&db, &staging, &base);
    let fresh = stage(&db, "fresh").id.to_string();
    write(&db, &fresh, WriteKind::Add, &records(0..5, 1));

    let reader = Database::open(
        Some(dir.path()),
        DatabaseOptions {
            read_only: true,
            ..DatabaseOptions::default()
        },
    )
    .unwrap();
    assert_eq!(names(&reader), ["target"]);
    assert_holds(&reader, &target, &base);
    assert!(matches!(reader.count(&staging), Err(Error::NotFound(_))));
    reader.close();
    // Ended without close, as a killed process ends.
    drop(db);

    let db = open(dir.path());
    assert_eq!(names(&db), ["target"]);
    assert_holds(&db, &target, &base);
    for id in [&staging, &fresh] {
        assert!(matches!(db.count(id), Err(Error::NotFound(_))));
        assert!(
            !index_files(dir.path())
                .iter()
                .any(|f| f.starts_with(id.as_str())),
            "files of {id} were left"
        );
    }
    assert_eq!(rows(dir.path(), "imports"), 0);
    assert_eq!(rows(dir.path(), "collections"), 1);
    db.close();
}

#[test]
fn a_snapshot_written_for_another_collection_is_never_used() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let (one, two) = (create(&db, "one"), create(&db, "two"));
    write(&db, &one, WriteKind::Add, &records(0..20, 0));
    write(&db, &two, WriteKind::Add, &records(0..20, 5));
    db.close();
    let index = dir.path().join(INDEX_DIR);
    std::fs::copy(
        index.join(format!("{one}.seg")),
        index.join(format!("{two}.seg")),
    )
    .unwrap();
    let db = open(dir.path());
    assert_holds(&db, &two, &records(0..20, 5));
    assert_holds(&db, &one, &records(0..20, 0));
}

/// Every point where a crash can stop an import, and whether the import is to be found
/// whole at the next open (else the target as it was).
const CRASH_POINTS: [(&str, bool); 7] = [
    ("import staged, not committed", false),
    ("import staged, not published", false),
    ("logged, not applied", false),
    ("replaced files removed, publish not committed", false),
    ("publish made, not committed", false),
    ("publish committed, files not moved", true),
    ("snapshot renamed, journal not", true),
];

#[test]
fn a_crash_at_any_point_of_an_import_leaves_the_target_as_it_was_or_the_whole_import() {
    for (point, published) in CRASH_POINTS {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let target = create(&db, "target");
        let base = records(0..40, 0);
        write(&db, &target, WriteKind::Add, &base);
        let bystander = create(&db, "bystander");
        write(&db, &bystander, WriteKind::Add, &records(0..6, 4));
        db.close();
        let db = open(dir.path());
        failpoint::arm(point);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let staging = stage(&db, "target").id.to_string();
            run_import(&db, &staging, &base);
            db.publish_imports(&[staging]).unwrap();
        }));
        assert!(outcome.is_err(), "the failpoint {point} was not reached");
        drop(db);

        let expected = if published {
            imported(&base)
        } else {
            base.clone()
        };
        for reopen in 0..2 {
            let db = open(dir.path());
            assert_eq!(names(&db), ["bystander", "target"], "{point}");
            assert_eq!(id_of(&db, "target"), target, "{point}");
            assert_holds(&db, &target, &expected);
            assert_holds(&db, &bystander, &records(0..6, 4));
            assert_eq!(rows(dir.path(), "imports"), 0, "{point}");
            assert_eq!(rows(dir.path(), "collections"), 2, "{point}");
            let ids = [target.clone(), bystander.clone()];
            for file in index_files(dir.path()) {
                assert!(
                    ids.iter().any(|id| file.starts_with(id.as_str())),
                    "{point}: {file} was left"
                );
            }
            // The import can be run again, and published.
            if reopen == 1 {
                let staging = stage(&db, "target").id.to_string();
                write(&db, &staging, WriteKind::Add, &records(300..301, 0));
                db.publish_imports(&[staging]).unwrap();
                let mut again = expected.clone();
                again.extend(records(300..301, 0));
                assert_holds(&db, &target, &again);
            }
            db.close();
        }
    }
}

#[test]
fn a_crash_while_an_import_of_a_new_name_is_published_leaves_none_or_all_of_it() {
    for (point, published) in [
        ("publish made, not committed", false),
        ("publish committed, files not moved", true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let model = records(0..30, 2);
        failpoint::arm(point);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let first = stage(&db, "first").id.to_string();
            let second = stage(&db, "second").id.to_string();
            for id in [&first, &second] {
                for chunk in model.chunks(5) {
                    write(&db, id, WriteKind::Add, &chunk.to_vec());
                }
            }
            db.publish_imports(&[first, second]).unwrap();
        }));
        assert!(outcome.is_err(), "the failpoint {point} was not reached");
        drop(db);
        let db = open(dir.path());
        if published {
            assert_eq!(names(&db), ["first", "second"]);
            for name in ["first", "second"] {
                assert_holds(&db, &id_of(&db, name), &model);
            }
        } else {
            assert!(names(&db).is_empty());
            assert_eq!(rows(dir.path(), "records"), 0);
            assert!(index_files(dir.path()).is_empty());
        }
        db.close();
    }
}

#[test]
fn a_write_that_waited_for_a_replaced_collection_lands_in_the_one_holding_its_id() {
    for round in 0..10 {
        let db = Database::open(None, DatabaseOptions::default()).unwrap();
        let target = create(&db, "target");
        write(&db, &target, WriteKind::Add, &records(0..10, 0));
        let staging = stage(&db, "target").id.to_string();
        write(&db, &staging, WriteKind::Upsert, &records(0..10, 1));
        // The publish and a write of the target both wait for its writer lock; which one
        // gets it first is up to the scheduler.
        let (published, ()) = std::thread::scope(|scope| {
            let (publish, written) = db.while_writer_held(&target, || {
                let publish = scope.spawn(|| db.publish_imports(std::slice::from_ref(&staging)));
                let written =
                    scope.spawn(|| write(&db, &target, WriteKind::Add, &records(50..51, 2)));
                std::thread::sleep(std::time::Duration::from_millis(20));
                (publish, written)
            });
            (publish.join().unwrap(), written.join().unwrap())
        });
        let mut expected = match published {
            // The publish went first: the write went on to the import, which holds the id.
            Ok(_) => records(0..10, 1),
            // The write went first: the publish found the target written.
            Err(Error::InvalidArgument(_)) => records(0..10, 0),
            Err(other) => panic!("round {round}: {other:?}"),
        };
        expected.extend(records(50..51, 2));
        assert_holds(&db, &target, &expected);
    }
}
