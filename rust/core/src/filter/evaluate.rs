//! Evaluation of a [`Filter`] into the bitmap of matching rows. Negated operators are the
//! complement of their positive form within the live rows, which gives Chroma's semantics
//! for free: a record without the key (or without metadata or a document) matches `$ne`,
//! `$nin`, `$not_contains` and `$not_regex`.

use std::ops::Bound;

use regex::Regex;
use roaring::RoaringBitmap;

use super::tree::{Filter, MetadataOp, Scalar};
use crate::metadata::Number;

/// What a filter is evaluated against: the live rows and the indexes over them.
pub trait FilterSource {
    fn live_rows(&self) -> &RoaringBitmap;
    fn metadata_equal(&self, key: &str, value: &Scalar) -> RoaringBitmap;
    fn metadata_range(
        &self,
        key: &str,
        lower: Bound<Number>,
        upper: Bound<Number>,
    ) -> RoaringBitmap;
    fn metadata_array_contains(&self, key: &str, value: &Scalar) -> RoaringBitmap;
    fn document_contains(&self, text: &str) -> RoaringBitmap;
    fn document_matches(&self, regex: &Regex) -> RoaringBitmap;
}

fn as_number(value: &Scalar) -> Option<Number> {
    match value {
        Scalar::Int(i) => Some(Number::Int(*i)),
        Scalar::Float(f) => Some(Number::Float(*f)),
        Scalar::Str(_) | Scalar::Bool(_) => None,
    }
}

fn any_equal(source: &dyn FilterSource, key: &str, values: &[Scalar]) -> RoaringBitmap {
    values
        .iter()
        .map(|value| source.metadata_equal(key, value))
        .fold(RoaringBitmap::new(), |acc, rows| acc | rows)
}

fn range(source: &dyn FilterSource, key: &str, op: &MetadataOp) -> RoaringBitmap {
    let (lower, upper) = match op {
        MetadataOp::Gt(v) => (as_number(v).map(Bound::Excluded), Some(Bound::Unbounded)),
        MetadataOp::Gte(v) => (as_number(v).map(Bound::Included), Some(Bound::Unbounded)),
        MetadataOp::Lt(v) => (Some(Bound::Unbounded), as_number(v).map(Bound::Excluded)),
        MetadataOp::Lte(v) => (Some(Bound::Unbounded), as_number(v).map(Bound::Included)),
        _ => (None, None),
    };
    match (lower, upper) {
        (Some(lower), Some(upper)) => source.metadata_range(key, lower, upper),
        // The parser only admits numeric operands for range operators.
        _ => RoaringBitmap::new(),
    }
}

fn metadata(source: &dyn FilterSource, key: &str, op: &MetadataOp) -> RoaringBitmap {
    let live = source.live_rows();
    match op {
        MetadataOp::Eq(value) => source.metadata_equal(key, value),
        MetadataOp::Ne(value) => live - source.metadata_equal(key, value),
        MetadataOp::In(values) => any_equal(source, key, values),
        MetadataOp::Nin(values) => live - any_equal(source, key, values),
        MetadataOp::Contains(value) => source.metadata_array_contains(key, value),
        MetadataOp::NotContains(value) => live - source.metadata_array_contains(key, value),
        MetadataOp::Gt(_) | MetadataOp::Gte(_) | MetadataOp::Lt(_) | MetadataOp::Lte(_) => {
            range(source, key, op)
        }
    }
}

pub fn evaluate(filter: &Filter, source: &dyn FilterSource) -> RoaringBitmap {
    let live = source.live_rows();
    match filter {
        Filter::And(children) => {
            let mut result = live.clone();
            for child in children {
                if result.is_empty() {
                    break;
                }
                result &= evaluate(child, source);
            }
            result
        }
        Filter::Or(children) => children
            .iter()
            .map(|child| evaluate(child, source))
            .fold(RoaringBitmap::new(), |acc, rows| acc | rows),
        Filter::Metadata { key, op } => metadata(source, key, op),
        Filter::DocumentContains(text) => source.document_contains(text),
        Filter::DocumentNotContains(text) => live - source.document_contains(text),
        Filter::DocumentRegex(regex) => source.document_matches(regex),
        Filter::DocumentNotRegex(regex) => live - source.document_matches(regex),
    }
}
