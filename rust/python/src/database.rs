//! `azurite._core.Database`: a frozen handle over a shared core database. Every method that
//! reaches storage or an index runs through [`guarded_without_gil`], which releases the
//! GIL and turns a panic into an exception. Collection ids go to the core as the caller
//! gave them: the core checks them, with Chroma's messages.

use std::path::PathBuf;
use std::sync::Arc;

use azurite_core::{
    DatabaseOptions, Durability, Embeddings, ReadLevel, RecordBatch, WriteKind, filter::Filter,
};
use numpy::PyReadonlyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert;
use crate::errors::{guarded_without_gil, to_py_err};

#[pyclass(frozen, module = "azurite._core")]
pub struct Database {
    inner: Arc<azurite_core::Database>,
}

/// A configuration's JSON text. Text that is not JSON (Python writes NaN and infinities as
/// bare words) is refused with serde's message as an `InvalidArgumentError`, as in Chroma.
fn parse_json(py: Python<'_>, json: Option<&str>) -> PyResult<Option<serde_json::Value>> {
    json.map(|text| {
        serde_json::from_str(text)
            .map_err(|e| to_py_err(py, azurite_core::Error::invalid(e.to_string())))
    })
    .transpose()
}

/// A new collection's metadata, configuration and schema, copied out of Python. The
/// metadata converts first, as chromadb's binding converts its arguments before reading
/// the configuration: a bad key is its TypeError whatever the JSON holds.
type NewCollectionArguments = (
    Option<azurite_core::Metadata>,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
);

fn new_collection_arguments(
    py: Python<'_>,
    metadata: Option<&Bound<'_, PyDict>>,
    configuration_json: Option<&str>,
    schema_json: Option<&str>,
) -> PyResult<NewCollectionArguments> {
    let metadata = metadata
        .map(|m| convert::metadata(m, "metadata"))
        .transpose()?;
    Ok((
        metadata,
        parse_json(py, configuration_json)?,
        parse_json(py, schema_json)?,
    ))
}

/// The records of an add, update or upsert, copied out of Python. `allow_none_values`:
/// metadata values of `None` delete the key (update, upsert).
fn record_batch(
    ids: Vec<String>,
    embeddings: Option<PyReadonlyArray2<'_, f32>>,
    metadatas: Option<&Bound<'_, PyList>>,
    documents: Option<Vec<Option<String>>>,
    uris: Option<Vec<Option<String>>>,
    allow_none_values: bool,
) -> PyResult<RecordBatch> {
    Ok(RecordBatch {
        ids,
        embeddings: convert::embeddings(embeddings)?,
        metadatas: convert::metadatas(metadatas, allow_none_values)?,
        documents,
        uris,
    })
}

impl Database {
    fn write(
        &self,
        py: Python<'_>,
        collection: &str,
        kind: WriteKind,
        batch: RecordBatch,
    ) -> PyResult<()> {
        guarded_without_gil(py, || self.inner.write(collection, kind, &batch))
    }
}

#[pymethods]
impl Database {
    /// Opens the database stored in `path`, or an in-memory one when `path` is None;
    /// `read_only` opens an existing directory beside a writer in another process.
    #[new]
    #[pyo3(signature = (path=None, durability="process", read_only=false))]
    fn new(
        py: Python<'_>,
        path: Option<PathBuf>,
        durability: &str,
        read_only: bool,
    ) -> PyResult<Self> {
        let durability = match durability {
            "process" => Durability::Process,
            "full" => Durability::Full,
            other => {
                return Err(PyValueError::new_err(format!(
                    "durability must be 'process' or 'full', got {other:?}"
                )));
            }
        };
        let options = DatabaseOptions {
            durability,
            read_only,
        };
        let inner = Arc::new(guarded_without_gil(py, || {
            azurite_core::Database::open(path.as_deref(), options)
        })?);
        azurite_core::Database::start_index_builder(&inner).map_err(|e| to_py_err(py, e))?;
        Ok(Database { inner })
    }

    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.inner.path().map(PathBuf::from)
    }

    /// Writes pending index checkpoints, releases the files and the directory lock; later
    /// calls raise.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        guarded_without_gil(py, || {
            self.inner.close();
            Ok(())
        })
    }

    /// Copies the database into `dest` (a new or empty directory) while other threads keep
    /// writing: `{"seq": last write held, "collections": n, "bytes": n, "path": dest,
    /// "writer_pause_ms": how long writers were held}`.
    fn backup<'py>(&self, py: Python<'py>, dest: PathBuf) -> PyResult<Bound<'py, PyDict>> {
        let report = guarded_without_gil(py, || self.inner.backup(&dest))?;
        let dict = PyDict::new(py);
        dict.set_item("seq", report.seq)?;
        dict.set_item("collections", report.collections)?;
        dict.set_item("bytes", report.bytes)?;
        dict.set_item("path", dest.to_string_lossy())?;
        dict.set_item(
            "writer_pause_ms",
            report.writer_pause.as_secs_f64() * 1000.0,
        )?;
        Ok(dict)
    }

    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        guarded_without_gil(py, || self.inner.reset())
    }

    fn create_tenant(&self, py: Python<'_>, name: String) -> PyResult<()> {
        guarded_without_gil(py, || self.inner.create_tenant(&name))
    }

    fn get_tenant(&self, py: Python<'_>, name: String) -> PyResult<()> {
        guarded_without_gil(py, || self.inner.get_tenant(&name))
    }

    fn create_database<'py>(
        &self,
        py: Python<'py>,
        name: String,
        tenant: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let db = guarded_without_gil(py, || self.inner.create_database(&name, &tenant))?;
        convert::database_to_py(py, &db)
    }

    fn get_database<'py>(
        &self,
        py: Python<'py>,
        name: String,
        tenant: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let db = guarded_without_gil(py, || self.inner.get_database(&name, &tenant))?;
        convert::database_to_py(py, &db)
    }

    #[pyo3(signature = (tenant, limit=None, offset=None))]
    fn list_databases<'py>(
        &self,
        py: Python<'py>,
        tenant: String,
        limit: Option<Bound<'_, PyAny>>,
        offset: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let (limit, offset) = convert::limit_and_offset(limit.as_ref(), offset.as_ref())?;
        let dbs = guarded_without_gil(py, || self.inner.list_databases(&tenant, limit, offset))?;
        dbs.iter()
            .map(|db| convert::database_to_py(py, db))
            .collect()
    }

    fn delete_database(&self, py: Python<'_>, name: String, tenant: String) -> PyResult<()> {
        guarded_without_gil(py, || self.inner.delete_database(&name, &tenant))
    }

    #[pyo3(signature = (tenant, database, name, configuration_json=None, metadata=None, get_or_create=false, schema_json=None))]
    #[allow(clippy::too_many_arguments)] // The Python signature, one argument each.
    fn create_collection<'py>(
        &self,
        py: Python<'py>,
        tenant: String,
        database: String,
        name: String,
        configuration_json: Option<&str>,
        metadata: Option<&Bound<'py, PyDict>>,
        get_or_create: bool,
        schema_json: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (metadata, configuration, schema) =
            new_collection_arguments(py, metadata, configuration_json, schema_json)?;
        let info = guarded_without_gil(py, || {
            self.inner.create_collection(
                &tenant,
                &database,
                &name,
                configuration.as_ref(),
                schema.as_ref(),
                metadata.as_ref(),
                get_or_create,
            )
        })?;
        convert::collection_to_py(py, &info)
    }

    fn get_collection<'py>(
        &self,
        py: Python<'py>,
        tenant: String,
        database: String,
        name: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let info =
            guarded_without_gil(py, || self.inner.get_collection(&tenant, &database, &name))?;
        convert::collection_to_py(py, &info)
    }

    fn get_collection_by_id<'py>(
        &self,
        py: Python<'py>,
        tenant: String,
        database: String,
        id: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let info = guarded_without_gil(py, || {
            self.inner.get_collection_by_id(&tenant, &database, id)
        })?;
        convert::collection_to_py(py, &info)
    }

    #[pyo3(signature = (tenant, database, limit=None, offset=None))]
    fn list_collections<'py>(
        &self,
        py: Python<'py>,
        tenant: String,
        database: String,
        limit: Option<Bound<'_, PyAny>>,
        offset: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let (limit, offset) = convert::limit_and_offset(limit.as_ref(), offset.as_ref())?;
        let infos = guarded_without_gil(py, || {
            self.inner
                .list_collections(&tenant, &database, limit, offset)
        })?;
        infos
            .iter()
            .map(|info| convert::collection_to_py(py, info))
            .collect()
    }

    fn count_collections(&self, py: Python<'_>, tenant: String, database: String) -> PyResult<u64> {
        guarded_without_gil(py, || self.inner.count_collections(&tenant, &database))
    }

    fn delete_collection(
        &self,
        py: Python<'_>,
        tenant: String,
        database: String,
        name: String,
    ) -> PyResult<()> {
        guarded_without_gil(py, || {
            self.inner.delete_collection(&tenant, &database, &name)
        })
    }

    fn fork_collection<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        new_name: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let info = guarded_without_gil(py, || self.inner.fork_collection(id, &new_name))?;
        convert::collection_to_py(py, &info)
    }

    fn fork_count(&self, py: Python<'_>, id: &str) -> PyResult<u64> {
        guarded_without_gil(py, || self.inner.fork_count(id))
    }

    /// Begins an import into collection `name`: a hidden staging collection, written with
    /// the record calls by its own id, then published or abandoned. When `name` exists the
    /// staging collection starts as a copy of it (no configuration, metadata or schema may
    /// be given); otherwise it is new, checked as `create_collection` checks one.
    #[pyo3(signature = (tenant, database, name, configuration_json=None, metadata=None, schema_json=None))]
    fn stage_import<'py>(
        &self,
        py: Python<'py>,
        tenant: String,
        database: String,
        name: String,
        configuration_json: Option<&str>,
        metadata: Option<&Bound<'py, PyDict>>,
        schema_json: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (metadata, configuration, schema) =
            new_collection_arguments(py, metadata, configuration_json, schema_json)?;
        let info = guarded_without_gil(py, || {
            self.inner.stage_import(
                &tenant,
                &database,
                &name,
                configuration.as_ref(),
                schema.as_ref(),
                metadata.as_ref(),
            )
        })?;
        convert::collection_to_py(py, &info)
    }

    /// Publishes the imports of the staging collections `ids` in one transaction, all or
    /// none: each becomes the visible collection of its name (taking the id of the one it
    /// replaces). Returns their models, in the order given.
    fn publish_imports<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<String>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let infos = guarded_without_gil(py, || self.inner.publish_imports(&ids))?;
        infos
            .iter()
            .map(|info| convert::collection_to_py(py, info))
            .collect()
    }

    /// Drops the staging collection `id` with its records.
    fn abandon_import(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        guarded_without_gil(py, || self.inner.abandon_import(id))
    }

    #[pyo3(signature = (id, new_name=None, new_metadata=None, new_configuration_json=None))]
    fn modify_collection<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        new_name: Option<String>,
        new_metadata: Option<&Bound<'py, PyDict>>,
        new_configuration_json: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let new_metadata = new_metadata
            .map(|m| convert::metadata_update(m, "metadata"))
            .transpose()?;
        let configuration = parse_json(py, new_configuration_json)?;
        let info = guarded_without_gil(py, || {
            self.inner.modify_collection(
                id,
                new_name.as_deref(),
                new_metadata.as_ref(),
                configuration.as_ref(),
            )
        })?;
        convert::collection_to_py(py, &info)
    }

    #[pyo3(signature = (collection, ids, embeddings=None, metadatas=None, documents=None, uris=None))]
    fn add(
        &self,
        py: Python<'_>,
        collection: &str,
        ids: Vec<String>,
        embeddings: Option<PyReadonlyArray2<'_, f32>>,
        metadatas: Option<&Bound<'_, PyList>>,
        documents: Option<Vec<Option<String>>>,
        uris: Option<Vec<Option<String>>>,
    ) -> PyResult<()> {
        let batch = record_batch(ids, embeddings, metadatas, documents, uris, false)?;
        self.write(py, collection, WriteKind::Add, batch)
    }

    #[pyo3(signature = (collection, ids, embeddings=None, metadatas=None, documents=None, uris=None))]
    fn update(
        &self,
        py: Python<'_>,
        collection: &str,
        ids: Vec<String>,
        embeddings: Option<PyReadonlyArray2<'_, f32>>,
        metadatas: Option<&Bound<'_, PyList>>,
        documents: Option<Vec<Option<String>>>,
        uris: Option<Vec<Option<String>>>,
    ) -> PyResult<()> {
        let batch = record_batch(ids, embeddings, metadatas, documents, uris, true)?;
        self.write(py, collection, WriteKind::Update, batch)
    }

    #[pyo3(signature = (collection, ids, embeddings=None, metadatas=None, documents=None, uris=None))]
    fn upsert(
        &self,
        py: Python<'_>,
        collection: &str,
        ids: Vec<String>,
        embeddings: Option<PyReadonlyArray2<'_, f32>>,
        metadatas: Option<&Bound<'_, PyList>>,
        documents: Option<Vec<Option<String>>>,
        uris: Option<Vec<Option<String>>>,
    ) -> PyResult<()> {
        let batch = record_batch(ids, embeddings, metadatas, documents, uris, true)?;
        self.write(py, collection, WriteKind::Upsert, batch)
    }

    #[pyo3(signature = (collection, ids=None, where_json=None, where_document_json=None, limit=None))]
    fn delete(
        &self,
        py: Python<'_>,
        collection: &str,
        ids: Option<Vec<String>>,
        where_json: Option<&str>,
        where_document_json: Option<&str>,
        limit: Option<Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let limit = convert::optional_count(limit.as_ref())?;
        let filter: Option<Filter> =
            convert::filter_from_json(py, where_json, where_document_json)?;
        guarded_without_gil(py, || {
            self.inner
                .delete(collection, ids.as_deref(), filter.as_ref(), limit)
        })
    }

    /// `{"live", "index", "points", "tombstones", "pending", "index_bytes",
    /// "f32_bytes_per_vector", "int8_bytes_per_vector", "bytes_per_vector"}`: live records,
    /// the index kind, vectors in the index, how many of them belong to deleted or replaced
    /// records, live records not in the index yet (scanned exactly), the memory the
    /// index holds beyond the vectors, what each vector's f32 copy and int8 copy take, and
    /// all a vector costs (both copies and its share of the index).
    fn index_stats<'py>(&self, py: Python<'py>, collection: &str) -> PyResult<Bound<'py, PyDict>> {
        let (live, stats) = guarded_without_gil(py, || self.inner.index_stats(collection))?;
        let dict = PyDict::new(py);
        dict.set_item("live", live)?;
        dict.set_item("index", stats.kind)?;
        dict.set_item("points", stats.points)?;
        dict.set_item("tombstones", stats.tombstones)?;
        dict.set_item("pending", stats.pending)?;
        dict.set_item("index_bytes", stats.bytes)?;
        dict.set_item("f32_bytes_per_vector", stats.f32_bytes_per_vector)?;
        dict.set_item("int8_bytes_per_vector", stats.int8_bytes_per_vector)?;
        dict.set_item("bytes_per_vector", stats.bytes_per_vector())?;
        Ok(dict)
    }

    fn count(&self, py: Python<'_>, collection: &str) -> PyResult<u64> {
        guarded_without_gil(py, || self.inner.count(collection))
    }

    #[pyo3(signature = (collection, ids=None, where_json=None, where_document_json=None, limit=None, offset=None, include=Vec::new()))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        collection: &str,
        ids: Option<Vec<String>>,
        where_json: Option<&str>,
        where_document_json: Option<&str>,
        limit: Option<Bound<'_, PyAny>>,
        offset: Option<Bound<'_, PyAny>>,
        include: Vec<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (limit, offset) = convert::limit_and_offset(limit.as_ref(), offset.as_ref())?;
        let filter = convert::filter_from_json(py, where_json, where_document_json)?;
        let include = convert::include(&include);
        let records = guarded_without_gil(py, || {
            self.inner.get(
                collection,
                ids.as_deref(),
                filter.as_ref(),
                limit,
                offset,
                include,
            )
        })?;
        convert::records_to_py(py, records)
    }

    /// Nearest records for each row of `query_embeddings`: one dict per query, with the
    /// columns of `get` plus `distances`.
    #[pyo3(signature = (collection, query_embeddings, n_results, ids=None, where_json=None, where_document_json=None, include=Vec::new()))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        collection: &str,
        query_embeddings: PyReadonlyArray2<'py, f32>,
        n_results: Bound<'_, PyAny>,
        ids: Option<Vec<String>>,
        where_json: Option<&str>,
        where_document_json: Option<&str>,
        include: Vec<String>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let n_results = convert::count(&n_results)?;
        let filter = convert::filter_from_json(py, where_json, where_document_json)?;
        let include = convert::include(&include);
        let queries: Embeddings =
            convert::embeddings(Some(query_embeddings))?.expect("an array was given");
        let results = guarded_without_gil(py, || {
            self.inner.query(
                collection,
                &queries,
                n_results,
                ids.as_deref(),
                filter.as_ref(),
                include,
            )
        })?;
        results
            .into_iter()
            .map(|result| {
                let dict = convert::records_to_py(py, result.records)?;
                dict.set_item("distances", convert::distances_to_py(py, &result.distances))?;
                Ok(dict)
            })
            .collect()
    }

    /// Runs a batch of searches (a JSON list of chromadb's `Search.to_dict()` payloads) and
    /// answers chromadb's `SearchResult` columns, one entry per search.
    #[pyo3(signature = (collection, searches_json, read_level="index_and_wal"))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        collection: &str,
        searches_json: &str,
        read_level: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let searches = parse_json(py, Some(searches_json))?.expect("text was given");
        let read_level = ReadLevel::parse(read_level).map_err(|e| to_py_err(py, e))?;
        let results =
            guarded_without_gil(py, || self.inner.search(collection, &searches, read_level))?;
        convert::search_results_to_py(py, results)
    }
}
