//! `collection.search`: Chroma's Search API. `plan` turns the wire form (chromadb's
//! `Search.to_dict()`) into a typed plan with Chroma's validation; `execute` runs it against
//! a collection's segment (filter, Knn candidates, rank arithmetic, grouping, paging,
//! selection). `Database::search` holds the segment's read lock around both.

mod execute;
mod plan;

pub(crate) use execute::{check_knns, run};
pub(crate) use plan::parse_searches;

use crate::error::{Error, Result};
use crate::metadata::Metadata;

/// How much of the log a search must see. Every acknowledged write is visible to every
/// read here, so the levels differ only in name; they are accepted so that clients can send
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadLevel {
    IndexAndWal,
    IndexOnly,
    IndexAndBoundedWal,
}

impl ReadLevel {
    pub fn parse(name: &str) -> Result<ReadLevel> {
        match name {
            "index_and_wal" => Ok(ReadLevel::IndexAndWal),
            "index_only" => Ok(ReadLevel::IndexOnly),
            "index_and_bounded_wal" => Ok(ReadLevel::IndexAndBoundedWal),
            other => Err(Error::invalid(format!(
                "Invalid read_level '{other}': expected index_and_wal, index_only or \
                 index_and_bounded_wal"
            ))),
        }
    }
}

/// One search's answer in columns; a column is `None` when `select` did not ask for it,
/// as in Chroma's response.
#[derive(Debug)]
pub struct SearchResult {
    pub ids: Vec<String>,
    pub documents: Option<Vec<Option<String>>>,
    /// Row-major, `ids.len() * dimension` values.
    pub embeddings: Option<Vec<f32>>,
    pub dimension: usize,
    /// All metadata (`#metadata`) or only the selected keys; `None` for a record with none.
    pub metadatas: Option<Vec<Option<Metadata>>>,
    pub scores: Option<Vec<f32>>,
    /// The selected keys, sorted as Chroma sorts them.
    pub select: Vec<String>,
}

#[cfg(test)]
mod tests;
