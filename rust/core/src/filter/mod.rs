//! `where` and `where_document` filters: parsed from JSON into a typed tree, then evaluated
//! against a segment's indexes into the set of matching rows.

mod evaluate;
mod parse;
mod tree;

pub use evaluate::{FilterSource, evaluate};
pub use parse::{parse_where, parse_where_document};
pub use tree::{Filter, MetadataOp, Scalar};
