//! Running a [`SearchPlan`] against one segment, with Chroma Cloud's semantics:
//!
//! 1. the filter gives the allowed rows;
//! 2. each Knn takes its `limit` nearest allowed rows (ties by row, i.e. insertion order);
//! 3. the rank expression is evaluated over those candidates: a row a Knn did not return
//!    takes the Knn's `default`, or drops out of the expression when it has none;
//! 4. rows are ordered by score, ascending, ties by row; without a rank, by row, scored
//!    by their position after `offset`;
//! 5. `group_by` keeps each group's `k` first by its aggregate keys, the survivors ordered
//!    by score again; then `offset`/`limit` and `select`.

use std::cmp::Ordering;
use std::collections::HashMap;

use roaring::RoaringBitmap;

use super::SearchResult;
use super::plan::{
    Condition, EMBEDDING_KEY, GroupBy, Knn, KnnQuery, OrderKey, RankExpr, SearchPlan, SelectKey,
};
use crate::error::{Error, Result};
use crate::index::Hit;
use crate::metadata::{Metadata, MetadataValue, SparseVector};
use crate::schema::CollectionSchema;
use crate::segment::{Segment, SparseQuery};

/// A row and its score.
#[derive(Debug, Clone, Copy)]
struct Scored {
    row: u32,
    score: f32,
}

fn by_score(a: &Scored, b: &Scored) -> Ordering {
    a.score.total_cmp(&b.score).then(a.row.cmp(&b.row))
}

/// Refuses a Knn that cannot run on this segment before any search of the batch runs: a
/// dense one on another key or of another dimension, a sparse one on a key the schema
/// gives no sparse vector index.
pub fn check_knns(segment: &Segment, schema: &CollectionSchema, plan: &SearchPlan) -> Result<()> {
    let Some(rank) = &plan.rank else {
        return Ok(());
    };
    for knn in rank.knns() {
        match &knn.query {
            KnnQuery::Dense(query) => {
                if knn.key != EMBEDDING_KEY {
                    return Err(Error::invalid(format!(
                        "Knn with a dense query searches '{EMBEDDING_KEY}', not '{}': pass a \
                         sparse vector to search a sparse vector key",
                        knn.key
                    )));
                }
                if let Some(dimension) = segment.dimension()
                    && query.len() != dimension
                {
                    return Err(Error::invalid(format!(
                        "Collection expecting embedding with dimension of {dimension}, got {}",
                        query.len()
                    )));
                }
            }
            KnnQuery::Sparse { .. } => {
                schema.sparse_index(&knn.key)?;
            }
        }
    }
    Ok(())
}

/// The rows passing a search's filter.
fn allowed_rows(segment: &Segment, condition: Option<&Condition>) -> RoaringBitmap {
    match condition {
        None => segment.select(None, None),
        Some(Condition::Where(filter)) => segment.select(None, Some(filter)),
        Some(Condition::Ids { ids, negated }) => {
            let rows = segment.select(Some(ids), None);
            if *negated {
                segment.select(None, None) - rows
            } else {
                rows
            }
        }
        Some(Condition::And(children)) => {
            children
                .iter()
                .fold(segment.select(None, None), |mut rows, child| {
                    if !rows.is_empty() {
                        rows &= allowed_rows(segment, Some(child));
                    }
                    rows
                })
        }
        Some(Condition::Or(children)) => {
            children.iter().fold(RoaringBitmap::new(), |rows, child| {
                rows | allowed_rows(segment, Some(child))
            })
        }
    }
}

/// One Knn's candidates, nearest first. [`check_knns`] has refused every Knn this segment
/// cannot answer.
fn knn_hits(
    segment: &Segment,
    schema: &CollectionSchema,
    knn: &Knn,
    allowed: &RoaringBitmap,
) -> Result<Vec<Hit>> {
    match &knn.query {
        KnnQuery::Dense(query) if !allowed.is_empty() => {
            Ok(segment.nearest(query, knn.limit as usize, allowed))
        }
        KnnQuery::Dense(_) => Ok(Vec::new()),
        KnnQuery::Sparse { indices, values } => sparse_nearest(
            segment,
            schema,
            &knn.key,
            SparseVector {
                indices: indices.clone(),
                values: values.clone(),
                tokens: None,
            },
            knn.limit as usize,
            allowed,
        ),
    }
}

/// The sparse Knn on `key`, answered by the segment's sparse vector index of that key,
/// IDF-weighted when the index is a `bm25` one. Chroma scores a sparse hit
/// `1 - dot product`, so that lower is better, as for distances.
fn sparse_nearest(
    segment: &Segment,
    schema: &CollectionSchema,
    key: &str,
    vector: SparseVector,
    limit: usize,
    allowed: &RoaringBitmap,
) -> Result<Vec<Hit>> {
    let settings = schema.sparse_index(key)?;
    let query = SparseQuery {
        vector: &vector,
        idf: settings.bm25,
    };
    Ok(segment
        .sparse_top_k(key, &query, limit, allowed)?
        .into_iter()
        .map(|(row, score)| Hit {
            row,
            distance: 1.0 - score,
        })
        .collect())
}

/// The scores of an expression: those of the rows it supports, and the score of every
/// other row (`None`: other rows drop out).
struct Domain {
    support: HashMap<u32, f32>,
    default: Option<f32>,
}

impl Domain {
    fn flat(value: f32) -> Domain {
        Domain {
            support: HashMap::new(),
            default: Some(value),
        }
    }

    fn map(self, op: impl Fn(f32) -> f32) -> Domain {
        Domain {
            support: self.support.into_iter().map(|(r, v)| (r, op(v))).collect(),
            default: self.default.map(&op),
        }
    }

    /// Combines two domains: a row missing from one side takes that side's default; a
    /// side without a default limits the result to the rows it supports.
    fn merge(left: Domain, right: Domain, op: impl Fn(f32, f32) -> f32) -> Domain {
        let value =
            |domain: &Domain, row: &u32| domain.support.get(row).copied().or(domain.default);
        let rows: Vec<u32> = match (left.default, right.default) {
            (Some(_), Some(_)) => {
                let mut rows: Vec<u32> = left.support.keys().copied().collect();
                rows.extend(
                    right
                        .support
                        .keys()
                        .filter(|r| !left.support.contains_key(r)),
                );
                rows
            }
            (Some(_), None) => right.support.keys().copied().collect(),
            (None, Some(_)) => left.support.keys().copied().collect(),
            (None, None) => left
                .support
                .keys()
                .filter(|r| right.support.contains_key(r))
                .copied()
                .collect(),
        };
        let support = rows
            .into_iter()
            .filter_map(|row| Some((row, op(value(&left, &row)?, value(&right, &row)?))))
            .collect();
        Domain {
            support,
            default: left.default.zip(right.default).map(|(l, r)| op(l, r)),
        }
    }

    fn fold(items: Vec<Domain>, start: f32, op: impl Fn(f32, f32) -> f32 + Copy) -> Domain {
        items.into_iter().fold(Domain::flat(start), |acc, item| {
            Domain::merge(acc, item, op)
        })
    }
}

fn evaluate(expr: &RankExpr, hits: &mut std::vec::IntoIter<Vec<Hit>>) -> Domain {
    let all = |items: &[RankExpr], hits: &mut std::vec::IntoIter<Vec<Hit>>| {
        items
            .iter()
            .map(|item| evaluate(item, hits))
            .collect::<Vec<_>>()
    };
    match expr {
        RankExpr::Knn(knn) => Domain {
            support: hits
                .next()
                .expect("one candidate list per Knn")
                .into_iter()
                .enumerate()
                .map(|(position, hit)| {
                    let score = if knn.return_rank {
                        position as f32
                    } else {
                        hit.distance
                    };
                    (hit.row, score)
                })
                .collect(),
            default: knn.default,
        },
        RankExpr::Value(value) => Domain::flat(*value),
        RankExpr::Sum(items) => Domain::fold(all(items, hits), 0.0, |a, b| a + b),
        RankExpr::Mul(items) => Domain::fold(all(items, hits), 1.0, |a, b| a * b),
        RankExpr::Max(items) => Domain::fold(all(items, hits), f32::MIN, f32::max),
        RankExpr::Min(items) => Domain::fold(all(items, hits), f32::MAX, f32::min),
        RankExpr::Sub(left, right) => {
            let left = evaluate(left, hits);
            Domain::merge(left, evaluate(right, hits), |a, b| a - b)
        }
        RankExpr::Div(left, right) => {
            let left = evaluate(left, hits);
            Domain::merge(left, evaluate(right, hits), |a, b| a / b)
        }
        RankExpr::Abs(inner) => evaluate(inner, hits).map(f32::abs),
        RankExpr::Exp(inner) => evaluate(inner, hits).map(f32::exp),
        RankExpr::Log(inner) => evaluate(inner, hits).map(f32::ln),
    }
}

/// A grouping or ordering value, ordered as Chroma orders metadata values: missing first,
/// then by type (bool, int, float, string, then arrays in the same order), then by value.
#[derive(Debug, Clone, PartialEq)]
struct OrderValue(Option<MetadataValue>);

impl OrderValue {
    fn type_rank(value: &MetadataValue) -> u8 {
        match value {
            MetadataValue::Bool(_) => 0,
            MetadataValue::Int(_) => 1,
            MetadataValue::Float(_) => 2,
            MetadataValue::Str(_) => 3,
            MetadataValue::SparseVector(_) => 4,
            MetadataValue::BoolList(_) => 5,
            MetadataValue::IntList(_) => 6,
            MetadataValue::FloatList(_) => 7,
            MetadataValue::StrList(_) => 8,
        }
    }
}

fn float_lists(a: &[f64], b: &[f64]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

impl Eq for OrderValue {}

impl PartialOrd for OrderValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderValue {
    fn cmp(&self, other: &Self) -> Ordering {
        use MetadataValue as V;
        match (&self.0, &other.0) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => Self::type_rank(a)
                .cmp(&Self::type_rank(b))
                .then_with(|| match (a, b) {
                    (V::Bool(a), V::Bool(b)) => a.cmp(b),
                    (V::Int(a), V::Int(b)) => a.cmp(b),
                    (V::Float(a), V::Float(b)) => a.total_cmp(b),
                    (V::Str(a), V::Str(b)) => a.cmp(b),
                    (V::BoolList(a), V::BoolList(b)) => a.cmp(b),
                    (V::IntList(a), V::IntList(b)) => a.cmp(b),
                    (V::FloatList(a), V::FloatList(b)) => float_lists(a, b),
                    (V::StrList(a), V::StrList(b)) => a.cmp(b),
                    // Values of different kinds were ordered by their type rank above.
                    _ => Ordering::Equal,
                }),
        }
    }
}

fn group(segment: &Segment, records: Vec<Scored>, group_by: &GroupBy) -> Vec<Scored> {
    let field = |metadata: &Metadata, key: &str| OrderValue(metadata.get(key).cloned());
    let mut keyed: Vec<(Vec<OrderValue>, Vec<OrderValue>, Scored)> = records
        .into_iter()
        .map(|record| {
            let metadata = segment.row(record.row).metadata().unwrap_or_default();
            let group_key = group_by.keys.iter().map(|k| field(&metadata, k)).collect();
            let order_key = group_by
                .order
                .iter()
                .map(|key| match key {
                    OrderKey::Score => {
                        OrderValue(Some(MetadataValue::Float(f64::from(record.score))))
                    }
                    OrderKey::Field(name) => field(&metadata, name),
                })
                .collect();
            (group_key, order_key, record)
        })
        .collect();
    // Stable sorts: within a group and among equal keys the score order stays.
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut kept = Vec::new();
    for members in keyed.chunk_by_mut(|a, b| a.0 == b.0) {
        if group_by.largest {
            members.sort_by(|a, b| b.1.cmp(&a.1));
        } else {
            members.sort_by(|a, b| a.1.cmp(&b.1));
        }
        kept.extend(members.iter().take(group_by.k as usize).map(|m| m.2));
    }
    kept.sort_by(by_score);
    kept
}

/// Runs one search; `check_knns` must have accepted it.
pub fn run(
    segment: &Segment,
    schema: &CollectionSchema,
    plan: &SearchPlan,
) -> Result<SearchResult> {
    let allowed = allowed_rows(segment, plan.filter.as_ref());
    let offset = plan.offset as usize;
    let limit = plan.limit.map_or(usize::MAX, |l| l as usize);
    let records: Vec<Scored> = match &plan.rank {
        None => allowed
            .iter()
            .skip(offset)
            .take(limit)
            .enumerate()
            .map(|(position, row)| Scored {
                row,
                score: position as f32,
            })
            .collect(),
        Some(rank) => {
            let hits = rank
                .knns()
                .into_iter()
                .map(|knn| knn_hits(segment, schema, knn, &allowed))
                .collect::<Result<Vec<_>>>()?;
            let domain = evaluate(rank, &mut hits.into_iter());
            let mut ranked: Vec<Scored> = domain
                .support
                .into_iter()
                .map(|(row, score)| Scored { row, score })
                .collect();
            ranked.sort_by(by_score);
            if let Some(group_by) = &plan.group_by {
                ranked = group(segment, ranked, group_by);
            }
            ranked.into_iter().skip(offset).take(limit).collect()
        }
    };
    Ok(select(segment, &records, plan))
}

fn select(segment: &Segment, records: &[Scored], plan: &SearchPlan) -> SearchResult {
    let select = &plan.select;
    let rows = || records.iter().map(|r| segment.row(r.row));
    let dimension = segment.dimension().unwrap_or(0);
    let all_metadata = select.has(&SelectKey::Metadata);
    SearchResult {
        ids: rows().map(|row| row.id.to_string()).collect(),
        documents: select
            .has(&SelectKey::Document)
            .then(|| rows().map(|row| row.document.map(str::to_string)).collect()),
        embeddings: select.has(&SelectKey::Embedding).then(|| {
            let mut flat = Vec::with_capacity(records.len() * dimension);
            records
                .iter()
                .for_each(|r| flat.extend_from_slice(segment.vector(r.row)));
            flat
        }),
        dimension,
        metadatas: select.any_metadata().then(|| {
            rows()
                .map(|row| {
                    let mut metadata = row.visible_metadata()?;
                    if !all_metadata {
                        metadata.retain(|key, _| select.fields().any(|f| f == key));
                    }
                    (!metadata.is_empty()).then_some(metadata)
                })
                .collect()
        }),
        scores: select
            .has(&SelectKey::Score)
            .then(|| records.iter().map(|r| r.score).collect()),
        select: select.keys.iter().map(|k| k.name().to_string()).collect(),
    }
}
