//! The filter tree that `parse` builds from JSON and `evaluate` runs against a segment.

use regex::Regex;

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone)]
pub enum MetadataOp {
    Eq(Scalar),
    Ne(Scalar),
    Gt(Scalar),
    Gte(Scalar),
    Lt(Scalar),
    Lte(Scalar),
    In(Vec<Scalar>),
    Nin(Vec<Scalar>),
    /// Array membership: the key holds an array with an element equal to the operand.
    Contains(Scalar),
    NotContains(Scalar),
}

#[derive(Debug, Clone)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Metadata { key: String, op: MetadataOp },
    DocumentContains(String),
    DocumentNotContains(String),
    DocumentRegex(Regex),
    DocumentNotRegex(Regex),
}

impl Filter {
    /// `where` and `where_document` together mean both must hold.
    pub fn combine(where_: Option<Filter>, where_document: Option<Filter>) -> Option<Filter> {
        match (where_, where_document) {
            (Some(a), Some(b)) => Some(Filter::And(vec![a, b])),
            (a, b) => a.or(b),
        }
    }
}
