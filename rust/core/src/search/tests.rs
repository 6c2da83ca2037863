//! Searches run through `Database::search` on a small collection whose distances are known:
//! five points on a line, l2 (squared) from the origin 0, 1, 4, 9, 16.

use serde_json::{Value, json};

use super::{ReadLevel, SearchResult};
use crate::batch::{Embeddings, RecordBatch, WriteKind};
use crate::database::{Database, DatabaseOptions};
use crate::metadata::MetadataValue;
use crate::store::{DEFAULT_DATABASE, DEFAULT_TENANT};

struct Fixture {
    db: Database,
    collection: String,
}

fn fixture() -> Fixture {
    let db = Database::open(None, DatabaseOptions::default()).unwrap();
    let collection = db
        .create_collection(
            DEFAULT_TENANT,
            DEFAULT_DATABASE,
            "search",
            None,
            None,
            None,
            false,
        )
        .unwrap()
        .id
        .to_string();
    let categories = ["x", "y", "x", "y", "x"];
    let batch = RecordBatch {
        ids: ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
        embeddings: Some(
            Embeddings::new(vec![0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0], 2).unwrap(),
        ),
        metadatas: Some(
            categories
                .iter()
                .enumerate()
                .map(|(i, category)| {
                    Some(
                        [
                            (
                                "category".to_string(),
                                Some(MetadataValue::Str(category.to_string())),
                            ),
                            ("n".to_string(), Some(MetadataValue::Int(i as i64))),
                        ]
                        .into(),
                    )
                })
                .collect(),
        ),
        documents: Some(
            [
                "apple pie",
                "banana",
                "cherry pie",
                "date",
                "elderberry pie",
            ]
            .map(|d| Some(d.to_string()))
            .to_vec(),
        ),
        uris: None,
    };
    db.write(&collection, WriteKind::Add, &batch).unwrap();
    Fixture { db, collection }
}

impl Fixture {
    fn search(&self, search: Value) -> crate::error::Result<SearchResult> {
        self.db
            .search(&self.collection, &json!([search]), ReadLevel::IndexAndWal)
            .map(|mut results| results.remove(0))
    }

    fn ranked(&self, search: Value) -> Vec<(String, f32)> {
        let result = self.search(search).unwrap();
        let scores = result.scores.expect("#score selected");
        result.ids.into_iter().zip(scores).collect()
    }
}

fn knn(limit: u32) -> Value {
    json!({"$knn": {"query": [0.0, 0.0], "limit": limit}})
}

fn pairs(expected: &[(&str, f32)]) -> Vec<(String, f32)> {
    expected
        .iter()
        .map(|(id, s)| (id.to_string(), *s))
        .collect()
}

#[test]
fn knn_takes_its_limit_nearest_with_their_distances() {
    let f = fixture();
    let ranked = f.ranked(json!({"rank": knn(3), "select": {"keys": ["#score"]}}));
    assert_eq!(ranked, pairs(&[("a", 0.0), ("b", 1.0), ("c", 4.0)]));
}

#[test]
fn the_filter_limits_the_candidates_before_the_knn() {
    let f = fixture();
    let ranked = f.ranked(json!({
        "filter": {"$and": [{"category": "x"}, {"#id": {"$ne": "a"}}]},
        "rank": knn(2),
        "select": {"keys": ["#score"]}
    }));
    assert_eq!(ranked, pairs(&[("c", 4.0), ("e", 16.0)]));
    let ranked = f.ranked(json!({
        "filter": {"$or": [{"#document": {"$contains": "banana"}}, {"#id": {"$in": ["d"]}}]},
        "rank": knn(16),
        "select": {"keys": ["#score"]}
    }));
    assert_eq!(ranked, pairs(&[("b", 1.0), ("d", 9.0)]));
}

#[test]
fn a_record_missing_from_a_knn_takes_its_default_or_drops_out() {
    let f = fixture();
    // The second Knn returns a and b only: without a default, c drops out of the sum.
    let sum = |default: Value| {
        json!({"rank": {"$sum": [knn(3), {"$knn": {"query": [0.0, 0.0], "limit": 2, "default": default}}]},
               "select": {"keys": ["#score"]}})
    };
    assert_eq!(f.ranked(sum(Value::Null)), pairs(&[("a", 0.0), ("b", 2.0)]));
    assert_eq!(
        f.ranked(sum(json!(100.0))),
        pairs(&[("a", 0.0), ("b", 2.0), ("c", 104.0)])
    );
}

#[test]
fn rrf_compiled_to_arithmetic_scores_by_rank() {
    let f = fixture();
    // chromadb's Rrf(ranks=[Knn(limit=3, return_rank), Knn(query=e, limit=3, return_rank)],
    // weights=[1, 2], k=60), defaults 10 so that no record drops out.
    let term = |weight: f32, query: [f32; 2]| {
        json!({"$div": {"left": {"$val": weight}, "right": {"$sum": [{"$val": 60},
            {"$knn": {"query": query, "limit": 3, "return_rank": true, "default": 10}}]}}})
    };
    let rrf =
        json!({"$mul": [{"$val": -1}, {"$sum": [term(1.0, [0.0, 0.0]), term(2.0, [4.0, 0.0])]}]});
    let ranked = f.ranked(json!({"rank": rrf, "select": {"keys": ["#score"]}}));
    let score = |near: f32, far: f32| -(1.0 / (60.0 + near) + 2.0 / (60.0 + far));
    // Ranks from the origin: a 0, b 1, c 2; from (4, 0): e 0, d 1, c 2; others 10.
    let mut expected = vec![
        ("a", score(0.0, 10.0)),
        ("b", score(1.0, 10.0)),
        ("c", score(2.0, 2.0)),
        ("d", score(10.0, 1.0)),
        ("e", score(10.0, 0.0)),
    ];
    expected.sort_by(|x, y| x.1.total_cmp(&y.1));
    assert_eq!(ranked.len(), 5);
    for ((id, got), (want_id, want)) in ranked.iter().zip(&expected) {
        assert_eq!(id, want_id);
        assert!((got - want).abs() < 1e-6, "{id}: {got} vs {want}");
    }
}

#[test]
fn functions_and_constants_apply_to_every_candidate() {
    let f = fixture();
    let ranked = f.ranked(json!({
        "rank": {"$max": [{"$log": {"$sum": [{"$val": 1}, knn(3)]}}, {"$val": 1.0}]},
        "select": {"keys": ["#score"]}
    }));
    assert_eq!(
        ranked,
        pairs(&[("a", 1.0), ("b", 1.0), ("c", 5.0f32.ln().max(1.0))])
    );
    let ranked = f.ranked(json!({
        "rank": {"$abs": {"$sub": {"left": knn(2), "right": {"$val": 5}}}},
        "select": {"keys": ["#score"]}
    }));
    assert_eq!(ranked, pairs(&[("b", 4.0), ("a", 5.0)]));
    // A rank of constants alone ranks no record: only Knns bring candidates.
    assert!(
        f.ranked(json!({"rank": {"$val": 1}, "select": {"keys": ["#score"]}}))
            .is_empty()
    );
}

#[test]
fn group_by_keeps_each_groups_first_then_orders_by_score() {
    let f = fixture();
    let grouped = |aggregate: Value| {
        f.ranked(json!({
            "rank": knn(16),
            "group_by": {"keys": ["category"], "aggregate": aggregate},
            "select": {"keys": ["#score"]}
        }))
    };
    assert_eq!(
        grouped(json!({"$min_k": {"keys": ["#score"], "k": 1}})),
        pairs(&[("a", 0.0), ("b", 1.0)])
    );
    assert_eq!(
        grouped(json!({"$max_k": {"keys": ["#score"], "k": 2}})),
        pairs(&[("b", 1.0), ("c", 4.0), ("d", 9.0), ("e", 16.0)])
    );
    // Offset and limit page the grouped records.
    let paged = f.ranked(json!({
        "rank": knn(16),
        "group_by": {"keys": ["category"], "aggregate": {"$min_k": {"keys": ["n"], "k": 2}}},
        "limit": {"offset": 1, "limit": 2},
        "select": {"keys": ["#score"]}
    }));
    assert_eq!(paged, pairs(&[("b", 1.0), ("c", 4.0)]));
}

#[test]
fn without_a_rank_records_come_in_insertion_order_scored_by_position() {
    let f = fixture();
    let ranked = f.ranked(json!({
        "filter": {"category": "x"},
        "limit": {"offset": 1, "limit": 5},
        "select": {"keys": ["#score"]}
    }));
    assert_eq!(ranked, pairs(&[("c", 0.0), ("e", 1.0)]));
}

#[test]
fn select_answers_only_the_columns_asked_for() {
    let f = fixture();
    let bare = f.search(json!({"rank": knn(1)})).unwrap();
    assert_eq!(bare.ids, vec!["a"]);
    assert!(bare.documents.is_none() && bare.embeddings.is_none());
    assert!(bare.metadatas.is_none() && bare.scores.is_none());
    assert!(bare.select.is_empty());

    let some = f
        .search(json!({"rank": knn(2), "select": {"keys": ["n", "#document", "missing"]}}))
        .unwrap();
    assert_eq!(some.select, vec!["#document", "missing", "n"]);
    assert_eq!(
        some.documents.unwrap(),
        vec![Some("apple pie".to_string()), Some("banana".to_string())]
    );
    let metadatas = some.metadatas.unwrap();
    assert_eq!(
        metadatas[1].as_ref().unwrap().keys().collect::<Vec<_>>(),
        vec!["n"]
    );
    assert!(some.scores.is_none());

    let none_match = f
        .search(json!({"rank": knn(1), "select": {"keys": ["missing"]}}))
        .unwrap();
    assert_eq!(none_match.metadatas.unwrap(), vec![None]);

    let all = f
        .search(json!({"rank": knn(2), "select": {"keys": ["#embedding", "#metadata"]}}))
        .unwrap();
    assert_eq!(all.embeddings.unwrap(), vec![0.0, 0.0, 1.0, 0.0]);
    assert_eq!(all.dimension, 2);
    assert_eq!(all.metadatas.unwrap()[0].as_ref().unwrap().len(), 2);
}

#[test]
fn several_searches_answer_in_order() {
    let f = fixture();
    let results =
        f.db.search(
            &f.collection,
            &json!([{"rank": knn(1)}, {"rank": knn(2)}, {}]),
            ReadLevel::IndexOnly,
        )
        .unwrap();
    let ids: Vec<usize> = results.iter().map(|r| r.ids.len()).collect();
    assert_eq!(ids, vec![1, 2, 5]);
}

#[test]
fn knns_the_collection_cannot_answer_are_refused() {
    let f = fixture();
    let error = |search: Value| f.search(search).unwrap_err().to_string();
    let sparse = json!({"$knn": {"query": {"#type": "sparse_vector", "indices": [1], "values": [0.5]},
                                  "key": "sparse_embedding"}});
    assert_eq!(
        error(json!({"rank": sparse})),
        "Cannot filter using metadata key 'sparse_embedding' with type 'SparseVector' because \
         indexing is disabled"
    );
    assert_eq!(
        error(json!({"rank": {"$knn": {"query": [1.0, 2.0, 3.0]}}})),
        "Collection expecting embedding with dimension of 2, got 3"
    );
    assert!(
        error(json!({"rank": {"$knn": {"query": [1.0, 2.0], "key": "other"}}})).contains("'other'")
    );
    // A refused search in a batch refuses the batch.
    let batch = f.db.search(
        &f.collection,
        &json!([{"rank": knn(1)}, {"rank": sparse}]),
        ReadLevel::IndexAndWal,
    );
    assert!(batch.is_err());
    assert_eq!(
        f.db.search("nope", &json!([]), ReadLevel::IndexAndWal)
            .unwrap_err()
            .to_string(),
        "Collection ID is not a valid UUIDv4"
    );
}

#[test]
fn read_levels_are_chromas_names() {
    assert_eq!(
        ReadLevel::parse("index_only").unwrap(),
        ReadLevel::IndexOnly
    );
    assert_eq!(
        ReadLevel::parse("index_and_wal").unwrap(),
        ReadLevel::IndexAndWal
    );
    assert_eq!(
        ReadLevel::parse("index_and_bounded_wal").unwrap(),
        ReadLevel::IndexAndBoundedWal
    );
    assert!(ReadLevel::parse("wal").is_err());
}
