//! The wire form of `collection.search` (chromadb's `Search.to_dict()`) → a typed plan.
//! Field defaults follow Chroma's server: a missing `filter`, `rank`, `group_by`, `limit` or
//! `select` means none, a Knn's `key` is `#embedding` and its `limit` 16. Unknown fields are
//! ignored, as Chroma's server ignores them.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::filter::{Filter, parse_where};

/// The key of a `where` clause that reaches record ids.
pub const ID_KEY: &str = "#id";
pub const EMBEDDING_KEY: &str = "#embedding";
const DEFAULT_KNN_LIMIT: u32 = 16;

/// One search of a batch, as parsed.
#[derive(Debug)]
pub struct SearchPlan {
    pub filter: Option<Condition>,
    pub rank: Option<RankExpr>,
    pub group_by: Option<GroupBy>,
    pub offset: u32,
    pub limit: Option<u32>,
    pub select: Select,
}

impl SearchPlan {
    /// Calls `check` on every record filter of the search's `where`.
    pub fn try_for_each_filter(&self, check: &mut impl FnMut(&Filter) -> Result<()>) -> Result<()> {
        self.filter
            .as_ref()
            .map_or(Ok(()), |condition| condition.try_for_each_filter(check))
    }
}

impl Condition {
    fn try_for_each_filter(&self, check: &mut impl FnMut(&Filter) -> Result<()>) -> Result<()> {
        match self {
            Condition::And(children) | Condition::Or(children) => children
                .iter()
                .try_for_each(|child| child.try_for_each_filter(check)),
            Condition::Ids { .. } => Ok(()),
            Condition::Where(filter) => check(filter),
        }
    }
}

/// A `where` clause of a search: the record filters of `get`/`query`, plus `#id`.
#[derive(Debug)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    /// `#id` `$eq`/`$in` (or, `negated`, `$ne`/`$nin`).
    Ids {
        ids: Vec<String>,
        negated: bool,
    },
    Where(Filter),
}

#[derive(Debug, Clone, PartialEq)]
pub enum KnnQuery {
    Dense(Vec<f32>),
    Sparse { indices: Vec<u32>, values: Vec<f32> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Knn {
    pub query: KnnQuery,
    pub key: String,
    pub limit: u32,
    /// The score of a record this Knn did not return; `None` drops such records.
    pub default: Option<f32>,
    /// Score by position in the Knn's result (0-based) instead of distance.
    pub return_rank: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RankExpr {
    Knn(Knn),
    Value(f32),
    Sum(Vec<RankExpr>),
    Mul(Vec<RankExpr>),
    Max(Vec<RankExpr>),
    Min(Vec<RankExpr>),
    Sub(Box<RankExpr>, Box<RankExpr>),
    Div(Box<RankExpr>, Box<RankExpr>),
    Abs(Box<RankExpr>),
    Exp(Box<RankExpr>),
    Log(Box<RankExpr>),
}

impl RankExpr {
    /// The Knn leaves in evaluation order (depth first, left to right).
    pub fn knns(&self) -> Vec<&Knn> {
        let mut out = Vec::new();
        self.collect_knns(&mut out);
        out
    }

    fn collect_knns<'a>(&'a self, out: &mut Vec<&'a Knn>) {
        match self {
            RankExpr::Knn(knn) => out.push(knn),
            RankExpr::Value(_) => {}
            RankExpr::Sum(items)
            | RankExpr::Mul(items)
            | RankExpr::Max(items)
            | RankExpr::Min(items) => {
                items.iter().for_each(|item| item.collect_knns(out));
            }
            RankExpr::Sub(left, right) | RankExpr::Div(left, right) => {
                left.collect_knns(out);
                right.collect_knns(out);
            }
            RankExpr::Abs(inner) | RankExpr::Exp(inner) | RankExpr::Log(inner) => {
                inner.collect_knns(out);
            }
        }
    }
}

/// What `select` names; the order is Chroma's (it sorts a response's `select` by it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SelectKey {
    Document,
    Embedding,
    Metadata,
    Score,
    Field(String),
}

impl SelectKey {
    fn parse(name: &str) -> SelectKey {
        match name {
            "#document" => SelectKey::Document,
            "#embedding" => SelectKey::Embedding,
            "#metadata" => SelectKey::Metadata,
            "#score" => SelectKey::Score,
            field => SelectKey::Field(field.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            SelectKey::Document => "#document",
            SelectKey::Embedding => EMBEDDING_KEY,
            SelectKey::Metadata => "#metadata",
            SelectKey::Score => "#score",
            SelectKey::Field(field) => field,
        }
    }
}

/// The selected keys, sorted and without repeats.
#[derive(Debug, Default)]
pub struct Select {
    pub keys: Vec<SelectKey>,
}

impl Select {
    pub fn has(&self, key: &SelectKey) -> bool {
        self.keys.binary_search(key).is_ok()
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|key| match key {
            SelectKey::Field(field) => Some(field.as_str()),
            _ => None,
        })
    }

    /// Chroma answers a metadata column when all metadata or any metadata key is selected.
    pub fn any_metadata(&self) -> bool {
        self.has(&SelectKey::Metadata) || self.fields().next().is_some()
    }
}

/// What an aggregate orders a group's records by.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderKey {
    Score,
    Field(String),
}

#[derive(Debug)]
pub struct GroupBy {
    pub keys: Vec<String>,
    pub order: Vec<OrderKey>,
    /// Records kept per group.
    pub k: u32,
    /// `$max_k`: the k largest; `$min_k`: the k smallest.
    pub largest: bool,
}

/// Every search of a request, each checked as Chroma's server checks it.
pub fn parse_searches(searches: &Value) -> Result<Vec<SearchPlan>> {
    let items = searches
        .as_array()
        .ok_or_else(|| Error::invalid("searches must be a list of search payloads"))?;
    items
        .iter()
        .enumerate()
        .map(|(index, search)| parse_search(search, index))
        .collect()
}

fn validation_error(index: usize, field: &str, message: &str) -> Error {
    Error::invalid(format!(
        "Validation error: searches[{index}].{field}: {message}"
    ))
}

fn shape_error(index: usize, field: &str, expected: &str) -> Error {
    Error::invalid(format!(
        "Invalid search payload: searches[{index}].{field} must be {expected}"
    ))
}

fn parse_search(search: &Value, index: usize) -> Result<SearchPlan> {
    let search = search.as_object().ok_or_else(|| {
        Error::invalid(format!(
            "Invalid search payload: searches[{index}] must be an object"
        ))
    })?;
    let present = |name: &str| search.get(name).filter(|value| !value.is_null());
    let filter = match present("filter") {
        Some(Value::Object(map)) if map.is_empty() => None,
        Some(value) => Some(parse_condition(value)?),
        None => None,
    };
    let rank = present("rank")
        .map(|value| parse_rank(value, index))
        .transpose()?;
    let group_by = present("group_by")
        .map(|value| parse_group_by(value, index))
        .transpose()?
        .flatten();
    if group_by.is_some() && rank.is_none() {
        return Err(validation_error(
            index,
            "group_by",
            "group_by requires rank expression to be specified",
        ));
    }
    let (offset, limit) = match present("limit") {
        Some(Value::Object(map)) => (
            optional_u32(map, "offset", index, "limit.offset")?.unwrap_or(0),
            optional_u32(map, "limit", index, "limit.limit")?,
        ),
        Some(_) => return Err(shape_error(index, "limit", "an object {offset, limit}")),
        None => (0, None),
    };
    let select = match present("select") {
        Some(Value::Object(map)) => {
            let mut keys = match map.get("keys") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(keys)) => keys
                    .iter()
                    .map(|key| {
                        key.as_str()
                            .map(SelectKey::parse)
                            .ok_or_else(|| shape_error(index, "select.keys", "a list of strings"))
                    })
                    .collect::<Result<Vec<_>>>()?,
                Some(_) => return Err(shape_error(index, "select.keys", "a list of strings")),
            };
            keys.sort();
            keys.dedup();
            Select { keys }
        }
        Some(_) => return Err(shape_error(index, "select", "an object {keys}")),
        None => Select::default(),
    };
    Ok(SearchPlan {
        filter,
        rank,
        group_by,
        offset,
        limit,
        select,
    })
}

fn optional_u32(
    map: &Map<String, Value>,
    name: &str,
    index: usize,
    field: &str,
) -> Result<Option<u32>> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| shape_error(index, field, "a non-negative integer")),
    }
}

/// A search's `where`: `$and`/`$or` and `#id` conditions here, every other clause by the
/// record filters' parser (so `get`, `query` and `search` accept the same clauses).
pub fn parse_condition(value: &Value) -> Result<Condition> {
    let invalid = || Error::invalid("Invalid where clause");
    let map = value.as_object().ok_or_else(invalid)?;
    if map.len() != 1 {
        return Err(invalid());
    }
    let (key, operand) = map.iter().next().expect("one entry");
    match key.as_str() {
        "$and" | "$or" => {
            let children = operand
                .as_array()
                .ok_or_else(invalid)?
                .iter()
                .map(parse_condition)
                .collect::<Result<Vec<_>>>()?;
            Ok(if key == "$and" {
                Condition::And(children)
            } else {
                Condition::Or(children)
            })
        }
        ID_KEY => parse_id_condition(operand),
        _ => Ok(Condition::Where(parse_where(value)?)),
    }
}

fn parse_id_condition(operand: &Value) -> Result<Condition> {
    let invalid =
        || Error::invalid("Invalid where clause: #id takes $eq, $ne, $in or $nin with string ids");
    let string = |value: &Value| value.as_str().map(str::to_string).ok_or_else(invalid);
    let strings = |value: &Value| {
        value
            .as_array()
            .ok_or_else(invalid)?
            .iter()
            .map(string)
            .collect::<Result<Vec<_>>>()
    };
    if let Value::String(id) = operand {
        return Ok(Condition::Ids {
            ids: vec![id.clone()],
            negated: false,
        });
    }
    let map = operand
        .as_object()
        .filter(|m| m.len() == 1)
        .ok_or_else(invalid)?;
    let (op, value) = map.iter().next().expect("one entry");
    let (ids, negated) = match op.as_str() {
        "$eq" => (vec![string(value)?], false),
        "$ne" => (vec![string(value)?], true),
        "$in" => (strings(value)?, false),
        "$nin" => (strings(value)?, true),
        _ => return Err(invalid()),
    };
    Ok(Condition::Ids { ids, negated })
}

fn rank_error(index: usize, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!(
        "Invalid rank expression in searches[{index}]: {message}"
    ))
}

fn parse_rank(value: &Value, index: usize) -> Result<RankExpr> {
    let map = value
        .as_object()
        .filter(|m| m.len() == 1)
        .ok_or_else(|| rank_error(index, "expected an object with one operator ($knn, $val, $sum, $sub, $mul, $div, $abs, $exp, $log, $max, $min)"))?;
    let (op, operand) = map.iter().next().expect("one entry");
    let list = |operand: &Value| -> Result<Vec<RankExpr>> {
        operand
            .as_array()
            .ok_or_else(|| rank_error(index, format!("{op} takes a list of rank expressions")))?
            .iter()
            .map(|item| parse_rank(item, index))
            .collect()
    };
    let pair = |operand: &Value| -> Result<(Box<RankExpr>, Box<RankExpr>)> {
        let side = |name: &str| {
            operand
                .get(name)
                .ok_or_else(|| rank_error(index, format!("{op} takes {{left, right}}")))
                .and_then(|side| parse_rank(side, index))
                .map(Box::new)
        };
        Ok((side("left")?, side("right")?))
    };
    let single = |operand: &Value| parse_rank(operand, index).map(Box::new);
    Ok(match op.as_str() {
        "$knn" => RankExpr::Knn(parse_knn(operand, index)?),
        "$val" => RankExpr::Value(
            operand
                .as_f64()
                .ok_or_else(|| rank_error(index, "$val takes a number"))? as f32,
        ),
        "$sum" => RankExpr::Sum(list(operand)?),
        "$mul" => RankExpr::Mul(list(operand)?),
        "$max" => RankExpr::Max(list(operand)?),
        "$min" => RankExpr::Min(list(operand)?),
        "$sub" => {
            let (left, right) = pair(operand)?;
            RankExpr::Sub(left, right)
        }
        "$div" => {
            let (left, right) = pair(operand)?;
            RankExpr::Div(left, right)
        }
        "$abs" => RankExpr::Abs(single(operand)?),
        "$exp" => RankExpr::Exp(single(operand)?),
        "$log" => RankExpr::Log(single(operand)?),
        other => return Err(rank_error(index, format!("unknown operator '{other}'"))),
    })
}

fn parse_knn(operand: &Value, index: usize) -> Result<Knn> {
    let map = operand.as_object().ok_or_else(|| {
        rank_error(
            index,
            "$knn takes an object {query, key, limit, default, return_rank}",
        )
    })?;
    let present = |name: &str| map.get(name).filter(|value| !value.is_null());
    let query = parse_query(
        present("query").ok_or_else(|| rank_error(index, "$knn needs a query"))?,
        index,
    )?;
    let key = match present("key") {
        Some(key) => key
            .as_str()
            .ok_or_else(|| rank_error(index, "$knn key must be a string"))?
            .to_string(),
        None => EMBEDDING_KEY.to_string(),
    };
    let limit = match present("limit") {
        Some(limit) => limit
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| rank_error(index, "$knn limit must be a non-negative integer"))?,
        None => DEFAULT_KNN_LIMIT,
    };
    let default = present("default")
        .map(|value| {
            value
                .as_f64()
                .map(|v| v as f32)
                .ok_or_else(|| rank_error(index, "$knn default must be a number"))
        })
        .transpose()?;
    let return_rank = match present("return_rank") {
        Some(value) => value
            .as_bool()
            .ok_or_else(|| rank_error(index, "$knn return_rank must be a boolean"))?,
        None => false,
    };
    Ok(Knn {
        query,
        key,
        limit,
        default,
        return_rank,
    })
}

/// A dense query is a list of numbers; a sparse one is chromadb's tagged sparse vector
/// (`{"#type": "sparse_vector", "indices": [...], "values": [...]}`), checked as Chroma
/// checks it.
fn parse_query(value: &Value, index: usize) -> Result<KnnQuery> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_f64().map(|v| v as f32))
            .collect::<Option<Vec<_>>>()
            .map(KnnQuery::Dense)
            .ok_or_else(|| rank_error(index, "a dense $knn query must be a list of numbers")),
        Value::Object(map) => {
            let not_sparse = || {
                rank_error(
                    index,
                    "a $knn query object must be a sparse vector {indices, values}",
                )
            };
            let indices = map
                .get("indices")
                .and_then(Value::as_array)
                .ok_or_else(not_sparse)?
                .iter()
                .map(|i| i.as_u64().and_then(|i| u32::try_from(i).ok()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(not_sparse)?;
            let values = map
                .get("values")
                .and_then(Value::as_array)
                .ok_or_else(not_sparse)?
                .iter()
                .map(|v| v.as_f64().map(|v| v as f32))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(not_sparse)?;
            let tokens = map.get("tokens").and_then(Value::as_array).map(Vec::len);
            let invalid = |message: &str| {
                validation_error(
                    index,
                    "rank",
                    &format!("Invalid sparse vector in KNN query: {message}"),
                )
            };
            if indices.len() != values.len() || tokens.is_some_and(|n| n != indices.len()) {
                return Err(invalid(
                    "Sparse vector indices, values, and tokens (when present) must have the same length",
                ));
            }
            if indices.windows(2).any(|pair| pair[1] <= pair[0]) {
                return Err(invalid(
                    "Sparse vector indices must be sorted in strictly ascending order (no duplicates)",
                ));
            }
            Ok(KnnQuery::Sparse { indices, values })
        }
        _ => Err(rank_error(
            index,
            "a $knn query must be a list of numbers or a sparse vector",
        )),
    }
}

fn parse_group_by(value: &Value, index: usize) -> Result<Option<GroupBy>> {
    let map = value
        .as_object()
        .ok_or_else(|| shape_error(index, "group_by", "an object {keys, aggregate}"))?;
    let keys: Vec<String> = match map.get("keys") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|key| {
                key.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| shape_error(index, "group_by.keys", "a list of strings"))
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(shape_error(index, "group_by.keys", "a list of strings")),
    };
    let aggregate = map.get("aggregate").filter(|value| !value.is_null());
    let invalid = |message: &str| validation_error(index, "group_by", message);
    if keys.is_empty() != aggregate.is_none() {
        return Err(invalid(
            "group_by keys and aggregate must both be specified or both be omitted",
        ));
    }
    let Some(aggregate) = aggregate else {
        return Ok(None);
    };
    if keys.iter().any(|key| key.starts_with('#')) {
        return Err(invalid(
            "group_by keys must be metadata fields (cannot use #score, #document, #embedding, or #metadata)",
        ));
    }
    let (largest, body) = match aggregate.as_object().filter(|m| m.len() == 1) {
        Some(map) => match map.iter().next().expect("one entry") {
            (op, body) if op == "$min_k" => (false, body),
            (op, body) if op == "$max_k" => (true, body),
            _ => {
                return Err(shape_error(
                    index,
                    "group_by.aggregate",
                    "{\"$min_k\": ...} or {\"$max_k\": ...}",
                ));
            }
        },
        None => {
            return Err(shape_error(
                index,
                "group_by.aggregate",
                "{\"$min_k\": ...} or {\"$max_k\": ...}",
            ));
        }
    };
    let order_names: Vec<&str> = body
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| shape_error(index, "group_by.aggregate.keys", "a list of strings"))?
        .iter()
        .map(|key| {
            key.as_str()
                .ok_or_else(|| shape_error(index, "group_by.aggregate.keys", "a list of strings"))
        })
        .collect::<Result<_>>()?;
    let k = body
        .get("k")
        .and_then(Value::as_u64)
        .and_then(|k| u32::try_from(k).ok())
        .ok_or_else(|| shape_error(index, "group_by.aggregate.k", "a non-negative integer"))?;
    if order_names.is_empty() {
        return Err(invalid("aggregate keys must not be empty"));
    }
    if k == 0 {
        return Err(invalid("aggregate k must be greater than 0"));
    }
    let order = order_names
        .into_iter()
        .map(|name| match name {
            "#score" => Ok(OrderKey::Score),
            name if name.starts_with('#') => Err(invalid(
                "aggregate keys must be metadata fields or #score (cannot use #document, #embedding, or #metadata)",
            )),
            name => Ok(OrderKey::Field(name.to_string())),
        })
        .collect::<Result<_>>()?;
    Ok(Some(GroupBy {
        keys,
        order,
        k,
        largest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(search: Value) -> Result<SearchPlan> {
        parse_searches(&json!([search])).map(|mut plans| plans.remove(0))
    }

    fn error(search: Value) -> String {
        one(search).unwrap_err().to_string()
    }

    #[test]
    fn parses_chromadb_search_dicts_with_their_defaults() {
        let plan = one(json!({
            "filter": {"$and": [{"category": "a"}, {"#id": {"$in": ["x", "y"]}}]},
            "rank": {"$mul": [{"$val": -1.0}, {"$sum": [
                {"$div": {"left": {"$val": 0.7}, "right": {"$sum": [{"$val": 60}, {"$knn": {"query": [1, 2], "return_rank": true}}]}}},
                {"$knn": {"query": [1, 2], "key": "#embedding", "limit": 5, "default": 10.0}}
            ]}]},
            "group_by": {},
            "limit": {"offset": 2, "limit": 3},
            "select": {"keys": ["title", "#score", "#document", "#score"]}
        }))
        .unwrap();
        assert!(matches!(plan.filter, Some(Condition::And(ref c)) if c.len() == 2));
        let rank = plan.rank.unwrap();
        let knns = rank.knns();
        assert_eq!(knns.len(), 2);
        assert_eq!(
            (knns[0].limit, knns[0].return_rank, knns[0].default),
            (16, true, None)
        );
        assert_eq!(knns[0].key, EMBEDDING_KEY);
        assert_eq!((knns[1].limit, knns[1].default), (5, Some(10.0)));
        assert!(plan.group_by.is_none());
        assert_eq!((plan.offset, plan.limit), (2, Some(3)));
        assert_eq!(
            plan.select.keys,
            vec![
                SelectKey::Document,
                SelectKey::Score,
                SelectKey::Field("title".into())
            ]
        );
        assert!(plan.select.any_metadata());
    }

    #[test]
    fn empty_payload_means_no_filter_rank_or_limit() {
        let plan = one(json!({"filter": null, "rank": null, "group_by": {}, "limit": {"offset": 0}, "select": {"keys": []}})).unwrap();
        assert!(plan.filter.is_none() && plan.rank.is_none() && plan.limit.is_none());
        assert!(!plan.select.any_metadata());
    }

    #[test]
    fn group_by_is_checked_with_chromas_messages() {
        let knn = json!({"$knn": {"query": [1.0]}});
        let cases = [
            (
                json!({"rank": knn, "group_by": {"keys": ["a"]}}),
                "group_by keys and aggregate must both be specified or both be omitted",
            ),
            (
                json!({"rank": knn, "group_by": {"keys": ["#score"], "aggregate": {"$min_k": {"keys": ["#score"], "k": 1}}}}),
                "group_by keys must be metadata fields",
            ),
            (
                json!({"rank": knn, "group_by": {"keys": ["a"], "aggregate": {"$min_k": {"keys": [], "k": 1}}}}),
                "aggregate keys must not be empty",
            ),
            (
                json!({"rank": knn, "group_by": {"keys": ["a"], "aggregate": {"$max_k": {"keys": ["#score"], "k": 0}}}}),
                "aggregate k must be greater than 0",
            ),
            (
                json!({"rank": knn, "group_by": {"keys": ["a"], "aggregate": {"$min_k": {"keys": ["#document"], "k": 1}}}}),
                "aggregate keys must be metadata fields or #score",
            ),
            (
                json!({"group_by": {"keys": ["a"], "aggregate": {"$min_k": {"keys": ["#score"], "k": 1}}}}),
                "group_by requires rank expression to be specified",
            ),
        ];
        for (search, message) in cases {
            let got = error(search);
            assert!(
                got.starts_with("Validation error: searches[0].group_by: "),
                "{got}"
            );
            assert!(got.contains(message), "{got}");
        }
        let plan = one(json!({"rank": knn, "group_by": {"keys": ["a"], "aggregate": {"$max_k": {"keys": ["#score", "b"], "k": 2}}}})).unwrap();
        let group_by = plan.group_by.unwrap();
        assert!(group_by.largest);
        assert_eq!(
            group_by.order,
            vec![OrderKey::Score, OrderKey::Field("b".into())]
        );
    }

    #[test]
    fn malformed_rank_and_queries_are_refused() {
        assert!(error(json!({"rank": {"$pow": [1]}})).contains("unknown operator '$pow'"));
        assert!(error(json!({"rank": {"$knn": {"limit": 3}}})).contains("$knn needs a query"));
        assert!(error(json!({"rank": {"$knn": {"query": ["a"]}}})).contains("list of numbers"));
        assert!(error(json!({"rank": {"$sub": {"left": {"$val": 1}}}})).contains("{left, right}"));
        let unsorted = json!({"rank": {"$knn": {"query": {"#type": "sparse_vector", "indices": [3, 1], "values": [1, 2]}, "key": "s"}}});
        assert!(error(unsorted).contains("strictly ascending"));
        let ragged = json!({"rank": {"$knn": {"query": {"#type": "sparse_vector", "indices": [1], "values": [1, 2]}, "key": "s"}}});
        assert!(error(ragged).contains("same length"));
        assert!(parse_searches(&json!({"rank": null})).is_err());
    }

    #[test]
    fn id_conditions() {
        for (clause, negated, n) in [
            (json!({"#id": "a"}), false, 1),
            (json!({"#id": {"$eq": "a"}}), false, 1),
            (json!({"#id": {"$ne": "a"}}), true, 1),
            (json!({"#id": {"$in": ["a", "b"]}}), false, 2),
            (json!({"#id": {"$nin": ["a"]}}), true, 1),
        ] {
            match parse_condition(&clause).unwrap() {
                Condition::Ids { ids, negated: got } => assert_eq!((ids.len(), got), (n, negated)),
                other => panic!("{other:?}"),
            }
        }
        assert!(parse_condition(&json!({"#id": {"$gt": "a"}})).is_err());
        assert!(parse_condition(&json!({"#id": {"$in": [1]}})).is_err());
        assert_eq!(
            parse_condition(&json!({"a": 1, "b": 2}))
                .unwrap_err()
                .to_string(),
            "Invalid where clause"
        );
    }
}
