//! The record calls: writes (add, update, upsert, delete) resolved against memory and
//! committed, and reads (get, query, count) served from memory under the segment's read
//! lock. Each takes the collection id as a client sent it and checks it first, so that
//! every client gets Chroma's message for a malformed one.

use super::{Database, Include, QueryResult, Records, record_collection_id};
use crate::batch::{Embeddings, RecordBatch, WriteKind};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::index::IndexStats;
use crate::search::{ReadLevel, SearchResult, check_knns, parse_searches, run};
use crate::segment::Segment;
use rayon::prelude::*;
use roaring::RoaringBitmap;

impl Database {
    /// Adds, updates or upserts records: all of them or, on error, none.
    pub fn write(&self, collection: &str, kind: WriteKind, batch: &RecordBatch) -> Result<()> {
        let collection = &record_collection_id(collection)?;
        self.check_writable()?;
        self.with_writer(collection, |handle| {
            let resolved = handle.segment.read().resolve(kind, batch)?;
            if resolved.changes.is_empty() && resolved.dimension.is_none() {
                return Ok(());
            }
            self.commit_and_publish(collection, handle, resolved)
        })
    }

    /// Deletes by ids and/or filter and returns Chroma's count: the number of ids given when
    /// there is no filter (existing or not), else the number of matching records deleted.
    /// Without a filter, `limit` is refused and so are empty `ids`; no ids at all delete
    /// nothing. These come before any other check, as in Chroma's server.
    pub fn delete(
        &self,
        collection: &str,
        ids: Option<&[String]>,
        filter: Option<&Filter>,
        limit: Option<u32>,
    ) -> Result<u64> {
        if filter.is_none() {
            match ids {
                Some([]) => {
                    return Err(Error::invalid(
                        "Validation error: ids, where: Either ids or where must be specified",
                    ));
                }
                _ if limit.is_some() => {
                    return Err(Error::invalid(
                        "limit can only be specified when a where or where_document clause is \
                         provided",
                    ));
                }
                None => return Ok(0),
                Some(_) => {}
            }
        }
        let collection = &record_collection_id(collection)?;
        self.check_writable()?;
        self.with_writer(collection, |handle| {
            handle.check_filter(filter)?;
            let (resolved, reported) = {
                let segment = handle.segment.read();
                let rows = segment.select(ids, filter);
                let rows: Vec<u32> = match limit {
                    Some(limit) if filter.is_some() => rows.iter().take(limit as usize).collect(),
                    _ => rows.iter().collect(),
                };
                let reported = match (filter, ids) {
                    (None, Some(ids)) => ids.len() as u64,
                    _ => rows.len() as u64,
                };
                (segment.resolve_delete(rows), reported)
            };
            if !resolved.changes.is_empty() {
                self.commit_and_publish(collection, handle, resolved)?;
            }
            Ok(reported)
        })
    }

    /// The live records and what the vector index holds for them.
    pub fn index_stats(&self, collection: &str) -> Result<(u64, IndexStats)> {
        let collection = &record_collection_id(collection)?;
        let handle = self.handle(collection)?;
        let segment = handle.segment.read();
        Ok((segment.count(), segment.index_stats()))
    }

    pub fn count(&self, collection: &str) -> Result<u64> {
        let collection = &record_collection_id(collection)?;
        Ok(self.handle(collection)?.segment.read().count())
    }

    pub fn get(
        &self,
        collection: &str,
        ids: Option<&[String]>,
        filter: Option<&Filter>,
        limit: Option<u32>,
        offset: u32,
        include: Include,
    ) -> Result<Records> {
        let collection = &record_collection_id(collection)?;
        let handle = self.handle(collection)?;
        handle.check_filter(filter)?;
        let segment = handle.segment.read();
        let rows = segment.select(ids, filter);
        let rows: Vec<u32> = rows
            .iter()
            .skip(offset as usize)
            .take(limit.map_or(usize::MAX, |l| l as usize))
            .collect();
        Ok(gather(&segment, &rows, include))
    }

    /// Nearest records to each query vector among those passing `ids` and `filter`. Empty
    /// `ids` rule out every record: one empty result per query vector, whatever the
    /// vectors' dimension.
    pub fn query(
        &self,
        collection: &str,
        queries: &Embeddings,
        n_results: u32,
        ids: Option<&[String]>,
        filter: Option<&Filter>,
        include: Include,
    ) -> Result<Vec<QueryResult>> {
        let collection = &record_collection_id(collection)?;
        let handle = self.handle(collection)?;
        handle.check_filter(filter)?;
        let segment = handle.segment.read();
        let empty = || {
            (0..queries.len())
                .map(|_| QueryResult {
                    records: gather(&segment, &[], include),
                    distances: Vec::new(),
                })
                .collect()
        };
        if ids.is_some_and(<[String]>::is_empty) {
            return Ok(empty());
        }
        let Some(dimension) = segment.dimension() else {
            return Ok(empty());
        };
        if queries.dimension() != dimension {
            return Err(Error::invalid(format!(
                "Collection expecting embedding with dimension of {dimension}, got {}",
                queries.dimension()
            )));
        }
        if let (Some(ids), None) = (ids, filter)
            && ids.iter().any(|id| segment.row_of(id).is_none())
        {
            return Err(Error::Internal(
                "Error executing plan: Internal error: Error finding id".to_string(),
            ));
        }
        let allowed: RoaringBitmap = segment.select(ids, filter);
        if allowed.is_empty() {
            return Ok(empty());
        }
        let search = |i: usize| {
            let hits = segment.nearest(queries.row(i), n_results as usize, &allowed);
            let rows: Vec<u32> = hits.iter().map(|h| h.row).collect();
            QueryResult {
                records: gather(&segment, &rows, include),
                distances: hits.iter().map(|h| h.distance).collect(),
            }
        };
        let workers = segment.workers();
        Ok(if queries.len() > 1 && workers.parallel() {
            workers.run(|| (0..queries.len()).into_par_iter().map(search).collect())
        } else {
            (0..queries.len()).map(search).collect()
        })
    }
}

fn gather(segment: &Segment, rows: &[u32], include: Include) -> Records {
    let dimension = segment.dimension().unwrap_or(0);
    Records {
        ids: rows
            .iter()
            .map(|&r| segment.row(r).id.to_string())
            .collect(),
        embeddings: include.embeddings.then(|| {
            let mut flat = Vec::with_capacity(rows.len() * dimension);
            rows.iter()
                .for_each(|&r| flat.extend_from_slice(segment.vector(r)));
            flat
        }),
        dimension,
        documents: include.documents.then(|| {
            rows.iter()
                .map(|&r| segment.row(r).document.map(str::to_string))
                .collect()
        }),
        metadatas: include.metadatas.then(|| {
            rows.iter()
                .map(|&r| segment.row(r).visible_metadata())
                .collect()
        }),
        uris: include.uris.then(|| {
            rows.iter()
                .map(|&r| segment.row(r).uri.map(str::to_string))
                .collect()
        }),
    }
}

impl Database {
    /// Runs a batch of searches (chromadb's `Search.to_dict()` payloads, as a JSON list)
    /// under one read lock, so every search of the batch sees the same state. The whole
    /// batch is checked before any search runs; several searches run in parallel, as
    /// several query vectors do. Every read level sees every acknowledged
    /// write here, so all read alike.
    pub fn search(
        &self,
        collection: &str,
        searches: &serde_json::Value,
        _read_level: ReadLevel,
    ) -> Result<Vec<SearchResult>> {
        let collection = &record_collection_id(collection)?;
        let plans = parse_searches(searches)?;
        let handle = self.handle(collection)?;
        for plan in &plans {
            plan.try_for_each_filter(&mut |filter| handle.check_filter(Some(filter)))?;
        }
        let schema = handle.schema.read();
        let segment = handle.segment.read();
        for plan in &plans {
            check_knns(&segment, &schema, plan)?;
        }
        let workers = segment.workers();
        if plans.len() > 1 && workers.parallel() {
            workers.run(|| {
                plans
                    .par_iter()
                    .map(|plan| run(&segment, &schema, plan))
                    .collect()
            })
        } else {
            plans
                .iter()
                .map(|plan| run(&segment, &schema, plan))
                .collect()
        }
    }
}
