//! Conversions between Python values and core types at the boundary. Everything is copied
//! into owned Rust values while the GIL is held, so that core work can run without it and
//! Python code cannot change an argument underneath it.

use azurite_core::filter::{Filter, parse_where, parse_where_document};

use azurite_core::{
    CollectionInfo, DatabaseRecord, Embeddings, Include, Metadata, MetadataUpdate, MetadataValue,
    Records, SearchResult, SparseVector, shortest_f64,
};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods, ToPyArray};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyType};

use crate::errors::to_py_err;

fn conversion_error(argument: &str, target: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "argument '{argument}': Cannot convert Python object to {target}"
    ))
}

enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

fn scalar(value: &Bound<'_, PyAny>) -> Option<Scalar> {
    // bool first: Python's bool is an int.
    if let Ok(b) = value.cast::<PyBool>() {
        return Some(Scalar::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        // An int beyond i64 is kept as a float, as Chroma does.
        return Some(match value.extract::<i64>() {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::Float(value.extract::<f64>().ok()?),
        });
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        // -0.0 is stored as 0.0, as SQL stores it in Chroma.
        return Some(Scalar::Float(f.value() + 0.0));
    }
    if value.is_instance_of::<PyString>() {
        return value.extract::<String>().ok().map(Scalar::Str);
    }
    // Other objects convert as Chroma's engine converts them: numpy's bool, then anything
    // with `__index__` (numpy integers), then anything with `__float__` (numpy floats).
    if let Ok(b) = value.extract::<bool>() {
        return Some(Scalar::Bool(b));
    }
    if let Ok(i) = value.extract::<i64>() {
        return Some(Scalar::Int(i));
    }
    value.extract::<f64>().ok().map(|f| Scalar::Float(f + 0.0))
}

fn list_value(list: &Bound<'_, PyList>) -> Option<MetadataValue> {
    let items: Vec<Scalar> = list
        .iter()
        .map(|item| scalar(&item))
        .collect::<Option<_>>()?;
    let value = match items.first()? {
        Scalar::Str(_) => MetadataValue::StrList(
            items
                .into_iter()
                .map(|s| match s {
                    Scalar::Str(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        ),
        Scalar::Bool(_) => MetadataValue::BoolList(
            items
                .into_iter()
                .map(|s| match s {
                    Scalar::Bool(b) => Some(b),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        ),
        Scalar::Int(_) if items.iter().all(|s| matches!(s, Scalar::Int(_))) => {
            MetadataValue::IntList(
                items
                    .into_iter()
                    .map(|s| match s {
                        Scalar::Int(i) => Some(i),
                        _ => None,
                    })
                    .collect::<Option<_>>()?,
            )
        }
        // A mix of ints and floats becomes a float array.
        Scalar::Int(_) | Scalar::Float(_) => MetadataValue::FloatList(
            items
                .into_iter()
                .map(|s| match s {
                    Scalar::Int(i) => Some(i as f64),
                    Scalar::Float(f) => Some(f),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        ),
    };
    Some(value)
}

/// `azurite.base_types.SparseVector`, the class sparse vectors are read back as.
fn sparse_vector_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    CLASS.import(py, "azurite.base_types", "SparseVector")
}

/// A sparse vector given as a `SparseVector` or in its transport form, a dict with
/// `"#type": "sparse_vector"`, `indices`, `values` and optional `tokens`. `Ok(None)` when
/// `value` is neither (or its parts are not lists of the right types).
fn sparse_vector(value: &Bound<'_, PyAny>) -> PyResult<Option<SparseVector>> {
    let py = value.py();
    let (indices, values, tokens) = if let Ok(dict) = value.cast::<PyDict>() {
        let tag = dict.get_item("#type")?;
        if !tag.is_some_and(|t| t.extract::<String>().is_ok_and(|t| t == "sparse_vector")) {
            return Ok(None);
        }
        (
            dict.get_item("indices")?,
            dict.get_item("values")?,
            dict.get_item("tokens")?,
        )
    } else if value.is_instance(sparse_vector_class(py)?)? {
        (
            Some(value.getattr("indices")?),
            Some(value.getattr("values")?),
            Some(value.getattr("labels")?),
        )
    } else {
        return Ok(None);
    };
    let (Some(indices), Some(values)) = (indices, values) else {
        return Ok(None);
    };
    let tokens = match tokens.filter(|t| !t.is_none()) {
        Some(tokens) => match tokens.extract::<Vec<String>>() {
            Ok(tokens) => Some(tokens),
            Err(_) => return Ok(None),
        },
        None => None,
    };
    // bool is an int to Python, not an index or a value to Chroma.
    let no_bools = |list: &Bound<'_, PyAny>| {
        list.cast::<PyList>()
            .is_ok_and(|l| l.iter().all(|item| !item.is_instance_of::<PyBool>()))
    };
    if !no_bools(&indices) || !no_bools(&values) {
        return Ok(None);
    }
    let (Ok(indices), Ok(values)) = (indices.extract::<Vec<u32>>(), values.extract::<Vec<f32>>())
    else {
        return Ok(None);
    };
    Ok(Some(SparseVector {
        indices,
        values,
        tokens,
    }))
}

fn sparse_vector_to_py<'py>(py: Python<'py>, vector: &SparseVector) -> PyResult<Bound<'py, PyAny>> {
    sparse_vector_class(py)?.call1((
        vector.indices.as_slice(),
        // As Chroma's clients read them from its JSON: 0.1 reads back as 0.1.
        vector
            .values
            .iter()
            .copied()
            .map(shortest_f64)
            .collect::<Vec<f64>>(),
        vector.tokens.as_deref(),
    ))
}

/// One metadata value. `Ok(Some(None))` is a NaN float: Chroma stores it as NULL, so the
/// key is dropped (or, in an update, deleted). `Ok(None)` is a value of another type; an
/// empty list is refused with Chroma's `ValueError`.
fn metadata_value(value: &Bound<'_, PyAny>) -> PyResult<Option<Option<MetadataValue>>> {
    if let Ok(list) = value.cast::<PyList>() {
        if list.is_empty() {
            return Err(PyValueError::new_err(
                "Empty lists are not allowed as metadata values",
            ));
        }
        return Ok(list_value(list).map(Some));
    }
    if let Some(vector) = sparse_vector(value)? {
        return Ok(Some(Some(MetadataValue::SparseVector(Box::new(vector)))));
    }
    let Some(scalar) = scalar(value) else {
        return Ok(None);
    };
    Ok(Some(match scalar {
        Scalar::Str(s) => Some(MetadataValue::Str(s)),
        Scalar::Int(i) => Some(MetadataValue::Int(i)),
        Scalar::Float(f) if f.is_nan() => None,
        Scalar::Float(f) => Some(MetadataValue::Float(f)),
        Scalar::Bool(b) => Some(MetadataValue::Bool(b)),
    }))
}

/// A metadata key: `None` if it is not a string; a string that is not valid UTF-8 (a lone
/// surrogate) fails with Python's `UnicodeEncodeError`, as in Chroma.
fn metadata_key(key: &Bound<'_, PyAny>) -> Option<PyResult<String>> {
    key.is_instance_of::<PyString>().then(|| key.extract())
}

/// A count or position argument (`n_results`, `limit`, `offset`). A collection holds at
/// most `u32::MAX` rows, so any larger positive int means the same as `u32::MAX`: all of
/// them, or past the last one. Anything else converts as a `u32` does.
pub fn count(value: &Bound<'_, PyAny>) -> PyResult<u32> {
    if value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>() && value.gt(0)? {
        return Ok(value.extract::<u32>().unwrap_or(u32::MAX));
    }
    value.extract::<u32>()
}

/// [`count`] for an optional argument.
pub fn optional_count(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u32>> {
    value.map(count).transpose()
}

/// A listing's `limit` (none: all) and `offset` (none: from the first).
pub fn limit_and_offset(
    limit: Option<&Bound<'_, PyAny>>,
    offset: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Option<u32>, u32)> {
    Ok((optional_count(limit)?, optional_count(offset)?.unwrap_or(0)))
}

/// Metadata where `None` values mean "delete this key" (update, upsert, modify).
pub fn metadata_update(dict: &Bound<'_, PyDict>, argument: &str) -> PyResult<MetadataUpdate> {
    let error = || conversion_error(argument, "UpdateMetadataValue");
    let mut update = MetadataUpdate::new();
    for (key, value) in dict.iter() {
        let key = metadata_key(&key).ok_or_else(error)??;
        let value = if value.is_none() {
            None
        } else {
            metadata_value(&value)?.ok_or_else(error)?
        };
        update.insert(key, value);
    }
    Ok(update)
}

/// Metadata where every value must be present (add, create_collection).
pub fn metadata(dict: &Bound<'_, PyDict>, argument: &str) -> PyResult<Metadata> {
    let error = || conversion_error(argument, "MetadataValue");
    let mut metadata = Metadata::new();
    for (key, value) in dict.iter() {
        let key = metadata_key(&key).ok_or_else(error)??;
        if value.is_none() {
            return Err(error());
        }
        if let Some(value) = metadata_value(&value)?.ok_or_else(error)? {
            metadata.insert(key, value);
        }
    }
    Ok(metadata)
}

pub fn metadatas(
    list: Option<&Bound<'_, PyList>>,
    allow_none_values: bool,
) -> PyResult<Option<Vec<Option<MetadataUpdate>>>> {
    let Some(list) = list else { return Ok(None) };
    let mut out = Vec::with_capacity(list.len());
    for item in list.iter() {
        if item.is_none() {
            out.push(None);
            continue;
        }
        let dict = item.cast::<PyDict>().map_err(|_| {
            let target = if allow_none_values {
                "UpdateMetadataValue"
            } else {
                "MetadataValue"
            };
            conversion_error("metadatas", target)
        })?;
        out.push(Some(if allow_none_values {
            metadata_update(dict, "metadatas")?
        } else {
            metadata(dict, "metadatas")?
                .into_iter()
                .map(|(k, v)| (k, Some(v)))
                .collect()
        }));
    }
    Ok(Some(out))
}

pub fn embeddings(array: Option<PyReadonlyArray2<'_, f32>>) -> PyResult<Option<Embeddings>> {
    let Some(array) = array else { return Ok(None) };
    let dimension = array.shape()[1];
    let data = array.as_array().iter().copied().collect();
    Embeddings::new(data, dimension)
        .map(Some)
        .map_err(|e| to_py_err(array.py(), e))
}

/// Parses `where` / `where_document` JSON. Text that is not JSON (Python's `json.dumps`
/// writes NaN and infinities as bare words) is an invalid clause, as in Chroma.
pub fn filter_from_json(
    py: Python<'_>,
    where_json: Option<&str>,
    where_document_json: Option<&str>,
) -> PyResult<Option<azurite_core::filter::Filter>> {
    let parse = |json: &str,
                 parser: fn(&serde_json::Value) -> azurite_core::Result<Filter>,
                 invalid: &str| {
        serde_json::from_str::<serde_json::Value>(json)
            .map_err(|_| azurite_core::Error::invalid(invalid))
            .and_then(|value| parser(&value))
            .map_err(|e| to_py_err(py, e))
    };
    let where_ = where_json
        .map(|json| parse(json, parse_where, "Invalid where clause"))
        .transpose()?;
    let where_document = where_document_json
        .map(|json| parse(json, parse_where_document, "Invalid where document clause"))
        .transpose()?;
    Ok(Filter::combine(where_, where_document))
}

pub fn include(fields: &[String]) -> Include {
    let has = |name: &str| fields.iter().any(|f| f == name);
    Include {
        embeddings: has("embeddings"),
        documents: has("documents"),
        metadatas: has("metadatas"),
        uris: has("uris"),
    }
}

pub fn metadata_to_py<'py>(py: Python<'py>, metadata: &Metadata) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in metadata {
        match value {
            MetadataValue::Str(s) => dict.set_item(key, s)?,
            MetadataValue::Int(i) => dict.set_item(key, i)?,
            MetadataValue::Float(f) => dict.set_item(key, f)?,
            MetadataValue::Bool(b) => dict.set_item(key, b)?,
            MetadataValue::StrList(v) => dict.set_item(key, v)?,
            MetadataValue::IntList(v) => dict.set_item(key, v)?,
            MetadataValue::FloatList(v) => dict.set_item(key, v)?,
            MetadataValue::BoolList(v) => dict.set_item(key, v)?,
            MetadataValue::SparseVector(v) => dict.set_item(key, sparse_vector_to_py(py, v)?)?,
        }
    }
    Ok(dict)
}

fn optional_metadata_to_py<'py>(
    py: Python<'py>,
    metadata: Option<&Metadata>,
) -> PyResult<Bound<'py, PyAny>> {
    match metadata {
        Some(m) => Ok(metadata_to_py(py, m)?.into_any()),
        None => Ok(py.None().into_bound(py)),
    }
}

pub fn collection_to_py<'py>(
    py: Python<'py>,
    info: &CollectionInfo,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("id", info.id.to_string())?;
    dict.set_item("name", &info.name)?;
    dict.set_item("tenant", &info.tenant)?;
    dict.set_item("database", &info.database)?;
    dict.set_item(
        "metadata",
        optional_metadata_to_py(py, info.metadata.as_ref())?,
    )?;
    dict.set_item("configuration_json", info.configuration.to_string())?;
    dict.set_item("schema_json", info.schema.to_string())?;
    dict.set_item("dimension", info.dimension)?;
    Ok(dict)
}

pub fn database_to_py<'py>(py: Python<'py>, db: &DatabaseRecord) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("id", &db.id)?;
    dict.set_item("name", &db.name)?;
    dict.set_item("tenant", &db.tenant)?;
    Ok(dict)
}

/// Records as a dict of columns: `ids`, and `embeddings` (2-D float32 array), `documents`,
/// `metadatas`, `uris` when they were asked for (else `None`).
pub fn records_to_py<'py>(py: Python<'py>, records: Records) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let n = records.ids.len();
    dict.set_item("ids", records.ids)?;
    match records.embeddings {
        Some(flat) => {
            let array = PyArray1::from_vec(py, flat).reshape([n, records.dimension])?;
            dict.set_item("embeddings", array)?;
        }
        None => dict.set_item("embeddings", py.None())?,
    }
    dict.set_item("documents", records.documents)?;
    match records.metadatas {
        Some(metadatas) => {
            let list = PyList::empty(py);
            for metadata in &metadatas {
                list.append(optional_metadata_to_py(py, metadata.as_ref())?)?;
            }
            dict.set_item("metadatas", list)?;
        }
        None => dict.set_item("metadatas", py.None())?,
    }
    dict.set_item("uris", records.uris)?;
    Ok(dict)
}

pub fn distances_to_py<'py>(py: Python<'py>, distances: &[f32]) -> Bound<'py, PyArray1<f32>> {
    distances.to_pyarray(py)
}

/// Search results as chromadb's `SearchResult` columns: `ids`, `documents`, `embeddings`,
/// `metadatas`, `scores` and `select`, each a list with one entry per search; an entry of a
/// column the search did not select is `None`. Embeddings are lists of floats, as
/// chromadb's client has them.
pub fn search_results_to_py<'py>(
    py: Python<'py>,
    results: Vec<SearchResult>,
) -> PyResult<Bound<'py, PyDict>> {
    let ids = PyList::empty(py);
    let documents = PyList::empty(py);
    let embeddings = PyList::empty(py);
    let metadatas = PyList::empty(py);
    let scores = PyList::empty(py);
    let select = PyList::empty(py);
    for result in results {
        ids.append(result.ids)?;
        documents.append(result.documents)?;
        match result.embeddings {
            Some(flat) => {
                let rows = PyList::empty(py);
                for row in flat.chunks(result.dimension.max(1)) {
                    rows.append(row)?;
                }
                embeddings.append(rows)?;
            }
            None => embeddings.append(py.None())?,
        }
        match result.metadatas {
            Some(column) => {
                let list = PyList::empty(py);
                for metadata in &column {
                    list.append(optional_metadata_to_py(py, metadata.as_ref())?)?;
                }
                metadatas.append(list)?;
            }
            None => metadatas.append(py.None())?,
        }
        scores.append(result.scores)?;
        select.append(result.select)?;
    }
    let dict = PyDict::new(py);
    dict.set_item("ids", ids)?;
    dict.set_item("documents", documents)?;
    dict.set_item("embeddings", embeddings)?;
    dict.set_item("metadatas", metadatas)?;
    dict.set_item("scores", scores)?;
    dict.set_item("select", select)?;
    Ok(dict)
}
