//! The engine through its public API: writes, reads, filters and reopening a directory.

use azurite_core::filter::{parse_where, parse_where_document};
use azurite_core::{
    CHROMA_STORE_FILE, DEFAULT_DATABASE, DEFAULT_TENANT, Database, DatabaseOptions, Embeddings,
    Error, Include, MetadataUpdate, MetadataValue, RecordBatch, WriteKind, repair,
};
use serde_json::json;
use uuid::Uuid;

fn open(dir: &std::path::Path) -> Database {
    Database::open(Some(dir), DatabaseOptions::default()).unwrap()
}

fn create(db: &Database, name: &str, space: &str) -> String {
    db.create_collection(
        DEFAULT_TENANT,
        DEFAULT_DATABASE,
        name,
        Some(&json!({"hnsw": {"space": space}})),
        None,
        None,
        false,
    )
    .unwrap()
    .id
    .to_string()
}

fn batch(ids: &[&str], vectors: &[[f32; 2]], tags: &[Option<i64>]) -> RecordBatch {
    RecordBatch {
        ids: ids.iter().map(|s| s.to_string()).collect(),
        embeddings: Some(Embeddings::new(vectors.concat(), 2).unwrap()),
        metadatas: Some(
            tags.iter()
                .map(|t| {
                    t.map(|t| {
                        MetadataUpdate::from([("tag".to_string(), Some(MetadataValue::Int(t)))])
                    })
                })
                .collect(),
        ),
        documents: Some(
            ids.iter()
                .map(|id| Some(format!("document {id}")))
                .collect(),
        ),
        uris: None,
    }
}

const ALL: Include = Include {
    embeddings: true,
    documents: true,
    metadatas: true,
    uris: true,
};

fn ids(db: &Database, collection: &str) -> Vec<String> {
    db.get(collection, None, None, None, 0, Include::default())
        .unwrap()
        .ids
}

#[test]
fn writes_survive_reopening_in_insertion_order() {
    let dir = tempfile::tempdir().unwrap();
    let collection = {
        let db = open(dir.path());
        let c = create(&db, "things", "l2");
        db.write(
            &c,
            WriteKind::Add,
            &batch(
                &["a", "b", "c"],
                &[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]],
                &[Some(1), None, Some(3)],
            ),
        )
        .unwrap();
        db.write(
            &c,
            WriteKind::Upsert,
            &batch(&["d", "a"], &[[3.0, 0.0], [9.0, 9.0]], &[Some(4), Some(10)]),
        )
        .unwrap();
        db.delete(&c, Some(&["b".to_string()]), None, None).unwrap();
        c
    };
    let db = open(dir.path());
    assert_eq!(ids(&db, &collection), ["a", "c", "d"]);
    let records = db
        .get(&collection, Some(&["a".to_string()]), None, None, 0, ALL)
        .unwrap();
    assert_eq!(records.embeddings.unwrap(), [9.0, 9.0]);
    assert_eq!(
        records.metadatas.unwrap()[0].as_ref().unwrap()["tag"],
        MetadataValue::Int(10)
    );
}

#[test]
fn a_second_open_of_the_directory_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    match Database::open(Some(dir.path()), DatabaseOptions::default()) {
        Err(Error::Locked(message)) => assert!(message.contains(&std::process::id().to_string())),
        other => panic!("expected a lock error, got {:?}", other.err()),
    }
    first.close();
    let reopened = open(dir.path());
    assert!(matches!(
        first.count(&Uuid::nil().to_string()),
        Err(Error::Internal(message)) if message.contains("closed")
    ));
    drop(reopened);
}

#[test]
fn a_directory_that_chromadb_wrote_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let chroma = dir.path().join("chroma");
    std::fs::create_dir(&chroma).unwrap();
    std::fs::write(chroma.join(CHROMA_STORE_FILE), b"SQLite format 3\0").unwrap();
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(&chroma)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let read_only = DatabaseOptions {
        read_only: true,
        ..DatabaseOptions::default()
    };
    let refusals = [
        Database::open(Some(&chroma), DatabaseOptions::default()).err(),
        Database::open(Some(&chroma), read_only).err(),
        repair(&chroma).err(),
    ];
    for refusal in refusals {
        match refusal {
            Some(Error::InvalidArgument(message)) => {
                assert!(message.starts_with(&format!(
                    "{} is a Chroma database directory (it holds chroma.sqlite3)",
                    chroma.display()
                )));
                assert!(message.contains("does not open a Chroma directory in place"));
                assert!(message.contains(&format!(
                    "run `azurite import-chroma --from {} --path <new dir>`",
                    chroma.display()
                )));
            }
            other => panic!("expected the Chroma directory to be refused, got {other:?}"),
        }
    }
    assert_eq!(listing(), before);
}

#[test]
fn an_azurite_database_opened_in_a_chroma_directory_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    let moved = dir.path().join("moved");
    // What an Azurite without the check left: its database beside Chroma's store.
    let db = open(&shared);
    let collection = create(&db, "kept", "l2");
    db.write(
        &collection,
        WriteKind::Add,
        &batch(&["a"], &[[1.0, 2.0]], &[None]),
    )
    .unwrap();
    db.close();
    std::fs::write(shared.join(CHROMA_STORE_FILE), b"SQLite format 3\0").unwrap();
    match Database::open(Some(&shared), DatabaseOptions::default()) {
        Err(Error::InvalidArgument(message)) => assert!(message.ends_with(
            "The Azurite files beside it (azurite.sqlite3, wal/, index/, azurite.lock) were \
             written by an earlier Azurite that opened this directory in place: move them to a \
             directory of their own to open that database."
        )),
        other => panic!(
            "expected the Chroma directory to be refused, got {:?}",
            other.err()
        ),
    }
    std::fs::create_dir(&moved).unwrap();
    for name in ["azurite.sqlite3", "wal", "index", "azurite.lock"] {
        std::fs::rename(shared.join(name), moved.join(name)).unwrap();
    }
    assert_eq!(ids(&open(&moved), &collection), ["a"]);
}

#[test]
fn a_write_is_atomic_when_it_fails_validation() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let c = create(&db, "things", "l2");
    db.write(&c, WriteKind::Add, &batch(&["a"], &[[1.0, 1.0]], &[None]))
        .unwrap();
    let wrong_dimension = RecordBatch {
        ids: vec!["b".into(), "c".into()],
        embeddings: Some(Embeddings::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3).unwrap()),
        ..RecordBatch::default()
    };
    let err = db.write(&c, WriteKind::Add, &wrong_dimension).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Collection expecting embedding with dimension of 2, got 3"
    );
    let bad_key = RecordBatch {
        metadatas: Some(vec![
            None,
            Some(MetadataUpdate::from([(
                "$bad".to_string(),
                Some(MetadataValue::Int(1)),
            )])),
        ]),
        ..batch(&["b", "c"], &[[1.0, 1.0], [2.0, 2.0]], &[None, None])
    };
    assert!(matches!(
        db.write(&c, WriteKind::Add, &bad_key),
        Err(Error::InvalidArgument(m)) if m == "Validation error: metadatas: Invalid metadata at index 1"
    ));
    assert_eq!(ids(&db, &c), ["a"]);
}

#[test]
fn exact_search_in_every_space_with_filters() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    for (space, expected) in [("l2", 17.0f32), ("ip", -5.0), ("cosine", 0.4)] {
        let c = create(&db, &format!("space-{space}"), space);
        db.write(
            &c,
            WriteKind::Add,
            &batch(&["x", "y"], &[[3.0, 4.0], [0.0, 1.0]], &[Some(1), Some(2)]),
        )
        .unwrap();
        let query = Embeddings::new(vec![2.0, 0.0], 2).unwrap();
        let filter = parse_where(&json!({"tag": {"$lt": 1.5}})).unwrap();
        let results = db.query(&c, &query, 5, None, Some(&filter), ALL).unwrap();
        assert_eq!(results[0].records.ids, ["x"]);
        assert!((results[0].distances[0] - expected).abs() < 1e-6, "{space}");
        // The original vector comes back, not the normalised one.
        assert_eq!(results[0].records.embeddings.as_ref().unwrap(), &[3.0, 4.0]);
    }
}

#[test]
fn query_by_unknown_id_without_a_filter_is_an_error_and_with_one_is_dropped() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let c = create(&db, "things", "l2");
    db.write(
        &c,
        WriteKind::Add,
        &batch(&["a", "b"], &[[0.0, 0.0], [1.0, 1.0]], &[Some(1), Some(1)]),
    )
    .unwrap();
    let query = Embeddings::new(vec![0.0, 0.0], 2).unwrap();
    let unknown = ["a".to_string(), "zz".to_string()];
    assert!(matches!(
        db.query(&c, &query, 3, Some(&unknown), None, Include::default()),
        Err(Error::Internal(m)) if m.contains("Error finding id")
    ));
    let filter = parse_where_document(&json!({"$contains": "document"})).unwrap();
    let results = db
        .query(
            &c,
            &query,
            3,
            Some(&unknown),
            Some(&filter),
            Include::default(),
        )
        .unwrap();
    assert_eq!(results[0].records.ids, ["a"]);
}

#[test]
fn delete_with_a_filter_and_limit_takes_the_first_matches() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let c = create(&db, "things", "l2");
    db.write(
        &c,
        WriteKind::Add,
        &batch(
            &["a", "b", "c", "d"],
            &[[0.0, 0.0]; 4],
            &[Some(1), Some(2), Some(1), Some(1)],
        ),
    )
    .unwrap();
    let filter = parse_where(&json!({"tag": 1})).unwrap();
    assert_eq!(db.delete(&c, None, Some(&filter), Some(2)).unwrap(), 2);
    assert_eq!(ids(&db, &c), ["b", "d"]);
    let missing = ["nope".to_string()];
    assert_eq!(db.delete(&c, Some(&missing), None, None).unwrap(), 1);
    assert_eq!(ids(&db, &c), ["b", "d"]);
}

#[test]
fn deleting_a_collection_deletes_its_records_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        let c = create(&db, "things", "l2");
        db.write(&c, WriteKind::Add, &batch(&["a"], &[[0.0, 0.0]], &[None]))
            .unwrap();
        db.delete_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "things")
            .unwrap();
        let again = create(&db, "things", "l2");
        assert_eq!(db.count(&again).unwrap(), 0);
    }
    let db = open(dir.path());
    let info = db
        .get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "things")
        .unwrap();
    assert_eq!(db.count(&info.id.to_string()).unwrap(), 0);
}

fn invalid_argument<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::InvalidArgument(message)) => message,
        other => panic!("expected an invalid argument, got {other:?}"),
    }
}

#[test]
fn delete_needs_a_filter_for_a_limit_and_ids_or_a_filter_to_delete_anything() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let c = create(&db, "things", "l2");
    db.write(
        &c,
        WriteKind::Add,
        &batch(&["a", "b"], &[[0.0, 0.0]; 2], &[Some(1), Some(2)]),
    )
    .unwrap();
    let a = ["a".to_string()];
    assert_eq!(
        invalid_argument(db.delete(&c, Some(&a), None, Some(1))),
        "limit can only be specified when a where or where_document clause is provided"
    );
    assert_eq!(
        invalid_argument(db.delete(&c, None, None, Some(1))),
        "limit can only be specified when a where or where_document clause is provided"
    );
    // Empty ids are checked before the limit, as Chroma's server checks them.
    for limit in [None, Some(1)] {
        assert_eq!(
            invalid_argument(db.delete(&c, Some(&[]), None, limit)),
            "Validation error: ids, where: Either ids or where must be specified"
        );
    }
    // Neither ids nor a filter: nothing to delete, which is not an error.
    assert_eq!(db.delete(&c, None, None, None).unwrap(), 0);
    assert_eq!(ids(&db, &c), ["a", "b"]);
    // With a filter, empty ids match nothing.
    let filter = parse_where(&json!({"tag": 1})).unwrap();
    assert_eq!(db.delete(&c, Some(&[]), Some(&filter), Some(1)).unwrap(), 0);
    assert_eq!(ids(&db, &c), ["a", "b"]);
}

#[test]
fn a_query_with_empty_ids_gives_one_empty_result_per_query_vector() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let c = create(&db, "things", "l2");
    db.write(
        &c,
        WriteKind::Add,
        &batch(&["a", "b"], &[[0.0, 0.0], [1.0, 1.0]], &[Some(1), None]),
    )
    .unwrap();
    // Shaped as a query that matched nothing: same columns, no rows. The query vectors'
    // dimension does not matter when no record can match.
    let nothing_matches = parse_where(&json!({"tag": 99})).unwrap();
    let query = Embeddings::new(vec![0.0, 0.0, 1.0, 1.0], 2).unwrap();
    let matched_nothing = db
        .query(&c, &query, 3, None, Some(&nothing_matches), ALL)
        .unwrap();
    for queries in [query, Embeddings::new(vec![0.0; 6], 3).unwrap()] {
        let results = db.query(&c, &queries, 3, Some(&[]), None, ALL).unwrap();
        assert_eq!(results.len(), 2);
        for (result, expected) in results.iter().zip(&matched_nothing) {
            assert!(result.records.ids.is_empty() && result.distances.is_empty());
            assert_eq!(result.records.embeddings, expected.records.embeddings);
            assert_eq!(result.records.documents, expected.records.documents);
            assert_eq!(result.records.metadatas, expected.records.metadatas);
            assert_eq!(result.records.uris, expected.records.uris);
        }
    }
    let results = db
        .query(
            &c,
            &Embeddings::new(vec![0.0, 0.0], 2).unwrap(),
            3,
            Some(&[]),
            None,
            Include::default(),
        )
        .unwrap();
    assert_eq!(results[0].records.documents, None);
}

#[test]
fn collection_ids_that_are_not_uuids_are_invalid_and_unknown_ones_are_not_found() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let c = create(&db, "things", "l2");
    db.write(&c, WriteKind::Add, &batch(&["a"], &[[0.0, 0.0]], &[None]))
        .unwrap();
    assert_eq!(
        invalid_argument(db.get_collection_by_id(DEFAULT_TENANT, DEFAULT_DATABASE, "nope")),
        "Validation error: collection_id: Invalid collection ID format, expected UUID"
    );
    let unknown = Uuid::new_v4().to_string();
    assert!(matches!(
        db.get_collection_by_id(DEFAULT_TENANT, DEFAULT_DATABASE, &unknown),
        Err(Error::NotFound(m)) if m == format!("Collection [{unknown}] does not exist")
    ));
    assert_eq!(
        db.get_collection_by_id(DEFAULT_TENANT, DEFAULT_DATABASE, &c.to_uppercase())
            .unwrap()
            .name,
        "things"
    );

    let query = Embeddings::new(vec![0.0, 0.0], 2).unwrap();
    let a = ["a".to_string()];
    let record_calls = |id: &str| -> Vec<Result<(), Error>> {
        vec![
            db.write(
                id,
                WriteKind::Upsert,
                &batch(&["b"], &[[1.0, 1.0]], &[None]),
            ),
            db.delete(id, Some(&a), None, None).map(drop),
            db.get(id, None, None, None, 0, ALL).map(drop),
            db.query(id, &query, 1, None, None, ALL).map(drop),
            db.count(id).map(drop),
            db.index_stats(id).map(drop),
        ]
    };
    for result in record_calls("not-a-uuid") {
        assert_eq!(
            invalid_argument(result),
            "Collection ID is not a valid UUIDv4"
        );
    }
    let rename = |id: &str| {
        db.modify_collection(id, Some("renamed"), None, None)
            .map(drop)
    };
    assert_eq!(
        invalid_argument(rename("not-a-uuid")),
        "Collection ID is not a valid UUIDv4"
    );
    // Chroma's messages: with a period for the record calls, without one for modify.
    for result in record_calls(&unknown) {
        assert!(
            matches!(&result, Err(Error::NotFound(m)) if m == &format!("Collection [{unknown}] does not exist.")),
            "{result:?}"
        );
    }
    assert!(matches!(
        rename(&unknown),
        Err(Error::NotFound(m)) if m == format!("Collection [{unknown}] does not exist")
    ));
    assert_eq!(ids(&db, &c), ["a"]);
}

#[test]
fn modified_metadata_replaces_the_old_without_its_nulls_and_all_nulls_clear_it() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let c = create(&db, "things", "l2");
    let update = |pairs: &[(&str, Option<i64>)]| -> MetadataUpdate {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(MetadataValue::Int)))
            .collect()
    };
    let metadata_after = |pairs: &[(&str, Option<i64>)]| {
        db.modify_collection(&c, None, Some(&update(pairs)), None)
            .unwrap()
            .metadata
    };
    let one: azurite_core::Metadata = [("a".to_string(), MetadataValue::Int(1))].into();
    assert_eq!(metadata_after(&[("a", Some(1)), ("b", None)]), Some(one));
    assert_eq!(metadata_after(&[("b", None)]), None);
    assert_eq!(
        invalid_argument(db.modify_collection(&c, None, Some(&update(&[])), None)),
        "Validation error: new_metadata: Metadata cannot be empty"
    );
}

#[test]
fn creating_what_exists_is_its_own_error_kind() {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    create(&db, "things", "l2");
    let again = db.create_collection(
        DEFAULT_TENANT,
        DEFAULT_DATABASE,
        "things",
        None,
        None,
        None,
        false,
    );
    assert!(
        matches!(again, Err(Error::AlreadyExists(m)) if m == "Collection [things] already exists")
    );
    assert!(matches!(
        db.create_tenant(DEFAULT_TENANT),
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(
        db.create_database(DEFAULT_DATABASE, DEFAULT_TENANT),
        Err(Error::AlreadyExists(_))
    ));
}

#[test]
fn the_schema_with_its_discovered_keys_and_disabled_indexes_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    // Strings of `tag` are not indexed; its integers, discovered by the write, are.
    let disabled = json!({"string_inverted_index": {"enabled": false, "config": {}}});
    let schema = json!({"keys": {"tag": {"string": disabled}}});
    let refused =
        "Cannot filter using metadata key 'tag' with type 'Str' because indexing is disabled";
    let stored = {
        let db = open(dir.path());
        let id = db
            .create_collection(
                DEFAULT_TENANT,
                DEFAULT_DATABASE,
                "schemas",
                None,
                Some(&schema),
                None,
                false,
            )
            .unwrap()
            .id
            .to_string();
        db.write(
            &id,
            WriteKind::Add,
            &batch(&["a", "b"], &[[1.0, 0.0], [0.0, 1.0]], &[Some(1), None]),
        )
        .unwrap();
        let info = db
            .get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "schemas")
            .unwrap();
        assert_eq!(info.schema["keys"]["tag"]["string"], disabled);
        assert_eq!(
            info.schema["keys"]["tag"]["int"]["int_inverted_index"]["enabled"],
            true
        );
        info.schema
    };
    let db = open(dir.path());
    let info = db
        .get_collection(DEFAULT_TENANT, DEFAULT_DATABASE, "schemas")
        .unwrap();
    assert_eq!(info.schema, stored);
    let id = info.id.to_string();
    let by_int = parse_where(&json!({"tag": 1})).unwrap();
    assert_eq!(ids_where(&db, &id, &by_int), ["a"]);
    let by_string = parse_where(&json!({"tag": "x"})).unwrap();
    let err = db
        .get(&id, None, Some(&by_string), None, 0, Include::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m == refused),
        "{err}"
    );
}

fn ids_where(db: &Database, id: &str, filter: &azurite_core::filter::Filter) -> Vec<String> {
    db.get(id, None, Some(filter), None, 0, Include::default())
        .unwrap()
        .ids
}
