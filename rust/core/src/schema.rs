//! A collection's schema: chromadb's `Schema` in the JSON form its clients send and read
//! (`defaults` per value type, `keys` with per-key overrides, and the special keys
//! `#document` and `#embedding`). It is reconciled with the configuration on create,
//! stored beside it, grows with every metadata key a write introduces, and decides which
//! filters are allowed: a key whose inverted index is disabled cannot be filtered on, nor
//! documents when full-text search is disabled.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use crate::batch::{Change, ResolvedBatch};
use crate::config::{CollectionConfiguration, HnswConfiguration};
use crate::distance::Space;
use crate::error::{Error, Result};
use crate::filter::{Filter, MetadataOp, Scalar};
use crate::metadata::MetadataValue;

pub const DOCUMENT_KEY: &str = "#document";
pub const EMBEDDING_KEY: &str = "#embedding";

/// The metadata value types a schema lists per key: four with an inverted index, and
/// sparse vectors with their sparse vector index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ValueType {
    Str,
    Int,
    Float,
    Bool,
    SparseVector,
}

impl ValueType {
    /// The name of the value type in the schema's JSON form.
    fn json_name(self) -> &'static str {
        match self {
            ValueType::Str => "string",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::SparseVector => "sparse_vector",
        }
    }

    fn index_name(self) -> &'static str {
        match self {
            ValueType::Str => "string_inverted_index",
            ValueType::Int => "int_inverted_index",
            ValueType::Float => "float_inverted_index",
            ValueType::Bool => "bool_inverted_index",
            ValueType::SparseVector => "sparse_vector_index",
        }
    }

    /// The name Chroma's errors give the type.
    fn error_name(self) -> &'static str {
        match self {
            ValueType::Str => "Str",
            ValueType::Int => "Int",
            ValueType::Float => "Float",
            ValueType::Bool => "Bool",
            ValueType::SparseVector => "SparseVector",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    fn of_value(value: &MetadataValue) -> Self {
        match value {
            MetadataValue::Str(_) | MetadataValue::StrList(_) => ValueType::Str,
            MetadataValue::Int(_) | MetadataValue::IntList(_) => ValueType::Int,
            MetadataValue::Float(_) | MetadataValue::FloatList(_) => ValueType::Float,
            MetadataValue::Bool(_) | MetadataValue::BoolList(_) => ValueType::Bool,
            MetadataValue::SparseVector(_) => ValueType::SparseVector,
        }
    }

    fn of_scalar(scalar: &Scalar) -> Self {
        match scalar {
            Scalar::Str(_) => ValueType::Str,
            Scalar::Int(_) => ValueType::Int,
            Scalar::Float(_) => ValueType::Float,
            Scalar::Bool(_) => ValueType::Bool,
        }
    }

    /// The types whose inverted index a filter needs.
    const ALL: [ValueType; 4] = [
        ValueType::Str,
        ValueType::Int,
        ValueType::Float,
        ValueType::Bool,
    ];

    const LISTED: [ValueType; 5] = [
        ValueType::Str,
        ValueType::Int,
        ValueType::Float,
        ValueType::Bool,
        ValueType::SparseVector,
    ];
}

/// Metadata keys are never called this in a schema: Chroma reserves the prefix.
const RESERVED_PREFIX: &str = "chroma:";

fn index(enabled: bool, config: Value) -> Value {
    json!({"enabled": enabled, "config": config})
}

fn hnsw_json(hnsw: &HnswConfiguration) -> Value {
    json!({
        "ef_construction": hnsw.ef_construction,
        "max_neighbors": hnsw.max_neighbors,
        "ef_search": hnsw.ef_search,
        "num_threads": hnsw.num_threads,
        "batch_size": hnsw.batch_size,
        "sync_threshold": hnsw.sync_threshold,
        "resize_factor": hnsw.resize_factor,
    })
}

/// The schema a configuration describes: Chroma's default indexes, with the vector index
/// of the configuration (which is also what a collection created without a schema gets).
pub fn from_configuration(configuration: &CollectionConfiguration) -> Value {
    let mut vector = Map::new();
    vector.insert("space".into(), configuration.hnsw.space.as_str().into());
    if let Some(ef) = &configuration.embedding_function {
        vector.insert("embedding_function".into(), ef.clone());
    }
    vector.insert("hnsw".into(), hnsw_json(&configuration.hnsw));
    let mut embedding = vector.clone();
    embedding.insert("source_key".into(), DOCUMENT_KEY.into());
    json!({
        "defaults": {
            "string": {
                "fts_index": index(false, json!({})),
                "string_inverted_index": index(true, json!({})),
            },
            "float_list": {"vector_index": index(false, Value::Object(vector))},
            "sparse_vector": {
                "sparse_vector_index": index(
                    false,
                    json!({"embedding_function": {"type": "unknown"}, "bm25": false}),
                ),
            },
            "int": {"int_inverted_index": index(true, json!({}))},
            "float": {"float_inverted_index": index(true, json!({}))},
            "bool": {"bool_inverted_index": index(true, json!({}))},
        },
        "keys": {
            EMBEDDING_KEY: {"float_list": {"vector_index": index(true, Value::Object(embedding))}},
            DOCUMENT_KEY: {
                "string": {
                    "fts_index": index(true, json!({})),
                    "string_inverted_index": index(false, json!({})),
                },
            },
        },
    })
}

fn reconcile_error(detail: &str) -> Error {
    Error::invalid(format!("Failed to reconcile schema: {detail}"))
}

/// Chroma's rule for "the embedding function is the default": none, one of unknown
/// kind, or the one named `default` (a legacy function is not the default).
fn is_default_embedding_function(ef: Option<&Value>) -> bool {
    match ef {
        None | Some(Value::Null) => true,
        Some(ef) => match ef.get("type").and_then(Value::as_str) {
            Some("unknown") => true,
            Some("known") => ef.get("name").and_then(Value::as_str) == Some("default"),
            _ => false,
        },
    }
}

fn is_default_configuration(configuration: &CollectionConfiguration) -> bool {
    configuration.hnsw == HnswConfiguration::default()
        && is_default_embedding_function(configuration.embedding_function.as_ref())
}

/// Each field given equals its default (`num_threads` depends on the machine: skipped).
fn fields_default(given: Option<&Value>, defaults: &[(&str, f64)]) -> bool {
    let Some(given) = given.and_then(Value::as_object) else {
        return true;
    };
    defaults.iter().all(|(name, default)| {
        given
            .get(*name)
            .and_then(Value::as_f64)
            .is_none_or(|value| value == *default)
    })
}

const HNSW_DEFAULTS: &[(&str, f64)] = &[
    ("ef_construction", 100.0),
    ("max_neighbors", 16.0),
    ("ef_search", 100.0),
    ("batch_size", 100.0),
    ("sync_threshold", 1000.0),
    ("resize_factor", 1.2),
];

const SPANN_DEFAULTS: &[(&str, f64)] = &[
    ("search_nprobe", 64.0),
    ("search_rng_factor", 1.0),
    ("search_rng_epsilon", 10.0),
    ("nreplica_count", 8.0),
    ("write_rng_factor", 1.0),
    ("write_rng_epsilon", 5.0),
    ("split_threshold", 50.0),
    ("num_samples_kmeans", 1000.0),
    ("initial_lambda", 100.0),
    ("reassign_neighbor_count", 64.0),
    ("merge_threshold", 25.0),
    ("num_centers_to_merge_to", 8.0),
    ("write_nprobe", 32.0),
    ("ef_construction", 200.0),
    ("ef_search", 200.0),
    ("max_neighbors", 64.0),
];

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

fn enabled(index: Option<&Value>) -> Option<bool> {
    index
        .and_then(|i| i.get("enabled"))
        .and_then(Value::as_bool)
}

/// A vector index as Chroma's `is_default` sees it: `enabled` as expected, the default
/// space and embedding function, the expected source key, default HNSW or SPANN values.
fn is_default_vector_index(index: Option<&Value>, on: bool, source_key: Option<&str>) -> bool {
    let Some(index) = index else { return true };
    let config = index.get("config").unwrap_or(&Value::Null);
    let space_default = config
        .get("space")
        .and_then(Value::as_str)
        .is_none_or(|space| space == "l2");
    let (hnsw, spann) = (config.get("hnsw"), config.get("spann"));
    enabled(Some(index)) == Some(on)
        && space_default
        && is_default_embedding_function(config.get("embedding_function"))
        && config.get("source_key").and_then(Value::as_str) == source_key
        && !(hnsw.is_some() && spann.is_some())
        && fields_default(hnsw, HNSW_DEFAULTS)
        && fields_default(spann, SPANN_DEFAULTS)
}

/// Whether a schema asks for nothing beyond Chroma's defaults (then a configuration given
/// beside it decides).
fn is_default(schema: &Value) -> bool {
    let defaults = schema.get("defaults").unwrap_or(&Value::Null);
    let toggles_default = ValueType::ALL
        .iter()
        .all(|t| enabled(at(defaults, &[t.json_name(), t.index_name()])) != Some(false))
        && enabled(at(defaults, &["string", "fts_index"])) != Some(true);
    let sparse = at(defaults, &["sparse_vector", "sparse_vector_index"]);
    let sparse_default = sparse.is_none_or(|sparse| {
        let config = sparse.get("config").unwrap_or(&Value::Null);
        enabled(Some(sparse)) != Some(true)
            && is_default_embedding_function(config.get("embedding_function"))
            && config.get("source_key").is_none()
            && config.get("bm25").and_then(Value::as_bool) != Some(true)
    });
    let keys = schema.get("keys").and_then(Value::as_object);
    let keys_default = keys.is_none_or(|keys| {
        keys.iter().all(|(key, types)| {
            let only = |allowed: &str| {
                types
                    .as_object()
                    .is_none_or(|t| t.keys().all(|k| k == allowed))
            };
            match key.as_str() {
                EMBEDDING_KEY => {
                    only("float_list")
                        && is_default_vector_index(
                            at(types, &["float_list", "vector_index"]),
                            true,
                            Some(DOCUMENT_KEY),
                        )
                }
                DOCUMENT_KEY => {
                    only("string")
                        && enabled(at(types, &["string", "fts_index"])) != Some(false)
                        && enabled(at(types, &["string", "string_inverted_index"])) != Some(true)
                }
                _ => false,
            }
        })
    });
    toggles_default
        && sparse_default
        && is_default_vector_index(at(defaults, &["float_list", "vector_index"]), false, None)
        && keys_default
        && schema.get("cmek").is_none_or(Value::is_null)
}

/// `user` over `default`, field by field; an embedding function is replaced whole.
fn merge(default: &Value, user: &Value) -> Value {
    match (default, user) {
        (Value::Object(default), Value::Object(user)) => {
            let mut merged = default.clone();
            for (key, value) in user {
                if value.is_null() {
                    continue;
                }
                let value = match merged.get(key) {
                    Some(existing) if key != "embedding_function" => merge(existing, value),
                    _ => value.clone(),
                };
                merged.insert(key.clone(), value);
            }
            Value::Object(merged)
        }
        (_, user) => user.clone(),
    }
}

/// A local collection's vector index is HNSW: SPANN settings keep only their space.
fn drop_spann(value_types: &mut Value) {
    if let Some(config) = value_types
        .pointer_mut("/float_list/vector_index/config")
        .and_then(Value::as_object_mut)
    {
        config.remove("spann");
    }
}

/// The schema a client sent is a JSON object of objects.
pub fn check_shape(user: &Value) -> Result<()> {
    let object = user
        .as_object()
        .ok_or_else(|| Error::invalid("schema: expected a JSON object"))?;
    for field in ["defaults", "keys"] {
        if let Some(value) = object.get(field)
            && !value.is_object()
        {
            return Err(Error::invalid(format!(
                "schema: `{field}` must be a JSON object"
            )));
        }
    }
    Ok(())
}

/// The user's schema merged into Chroma's defaults: `defaults` field by field, the special
/// keys field by field, other keys as given.
fn merge_with_defaults(user: &Value) -> Value {
    let mut schema = from_configuration(&CollectionConfiguration {
        hnsw: HnswConfiguration::default(),
        embedding_function: None,
    });
    if let Some(defaults) = user.get("defaults") {
        schema["defaults"] = merge(&schema["defaults"], defaults);
        drop_spann(&mut schema["defaults"]);
    }
    if let Some(keys) = user.get("keys").and_then(Value::as_object) {
        let merged = schema["keys"].as_object_mut().expect("the keys object");
        for (key, types) in keys {
            let types = match merged.get(key) {
                Some(existing) => {
                    let mut types = merge(existing, types);
                    drop_spann(&mut types);
                    types
                }
                None => types.clone(),
            };
            merged.insert(key.clone(), types);
        }
    }
    if let Some(cmek) = user.get("cmek").filter(|c| !c.is_null()) {
        schema["cmek"] = cmek.clone();
    }
    schema
}

/// The vector index settings of a schema, as a configuration: those of `#embedding`, else
/// of the defaults.
fn configuration_of(schema: &Value) -> Result<CollectionConfiguration> {
    let config = at(
        schema,
        &[
            "keys",
            EMBEDDING_KEY,
            "float_list",
            "vector_index",
            "config",
        ],
    )
    .or_else(|| {
        at(
            schema,
            &["defaults", "float_list", "vector_index", "config"],
        )
    })
    .cloned()
    .unwrap_or(Value::Null);
    let mut hnsw = HnswConfiguration::default();
    if let Some(space) = config.get("space").filter(|s| !s.is_null()) {
        hnsw.space = serde_json::from_value::<Space>(space.clone())
            .map_err(|e| Error::invalid(format!("schema: space: {e}")))?;
    }
    if let Some(given) = config.get("hnsw").and_then(Value::as_object) {
        let count = |name: &str, into: &mut usize| -> Result<()> {
            if let Some(value) = given.get(name).filter(|v| !v.is_null()) {
                *into = value.as_u64().ok_or_else(|| {
                    Error::invalid(format!("schema: hnsw.{name}: expected an unsigned integer"))
                })? as usize;
            }
            Ok(())
        };
        count("ef_construction", &mut hnsw.ef_construction)?;
        count("ef_search", &mut hnsw.ef_search)?;
        count("max_neighbors", &mut hnsw.max_neighbors)?;
        count("num_threads", &mut hnsw.num_threads)?;
        count("batch_size", &mut hnsw.batch_size)?;
        count("sync_threshold", &mut hnsw.sync_threshold)?;
        if let Some(value) = given.get("resize_factor").filter(|v| !v.is_null()) {
            hnsw.resize_factor = value
                .as_f64()
                .ok_or_else(|| Error::invalid("schema: hnsw.resize_factor: expected a number"))?;
        }
    }
    Ok(CollectionConfiguration {
        hnsw: hnsw.check()?,
        embedding_function: config
            .get("embedding_function")
            .filter(|ef| !ef.is_null())
            .cloned(),
    })
}

/// Chroma Cloud's rules for sparse vector indexes: only on named keys (neither the
/// defaults nor a special key), at most one per collection, and a `source_key` (a
/// metadata key, or `#document`) only with an embedding function to fill it.
fn check_sparse_indexes(schema: &Value) -> Result<()> {
    let invalid = |message: String| Error::invalid(format!("Validation error: schema: {message}"));
    let index_path = [
        ValueType::SparseVector.json_name(),
        ValueType::SparseVector.index_name(),
    ];
    if enabled(at(&schema["defaults"], &index_path)) == Some(true) {
        return Err(invalid(
            "Sparse vector index cannot be enabled by default. Please enable sparse vector \
             index on specific keys. At most one sparse vector index is allowed for the \
             collection."
                .into(),
        ));
    }
    let mut indexed_keys: Vec<&String> = Vec::new();
    for (key, types) in schema
        .get("keys")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let listed = types
            .get(ValueType::SparseVector.json_name())
            .is_some_and(|v| !v.is_null());
        if listed && key == DOCUMENT_KEY {
            return Err(invalid(format!(
                "Document field cannot have any value types other than string: {key}"
            )));
        }
        if listed && key == EMBEDDING_KEY {
            return Err(invalid(format!(
                "Embedding field cannot have any value types other than float_list: {key}"
            )));
        }
        let Some(index) = at(types, &index_path) else {
            continue;
        };
        let config = index.get("config").unwrap_or(&Value::Null);
        let source_key = config.get("source_key").filter(|k| !k.is_null());
        if enabled(Some(index)) == Some(true) {
            indexed_keys.push(key);
            if indexed_keys.len() > 1 {
                return Err(invalid(format!(
                    "At most one sparse vector index is allowed for the collection: \
                     {indexed_keys:?}"
                )));
            }
            if source_key.is_some() && config.get("embedding_function").is_none_or(Value::is_null) {
                return Err(invalid(
                    "If source_key is provided then embedding_function must also be provided \
                     since there is no default embedding function."
                        .into(),
                ));
            }
        }
        if let Some(source_key) = source_key {
            let source_key = source_key
                .as_str()
                .ok_or_else(|| invalid(format!("source_key of key '{key}' must be a string")))?;
            if source_key.starts_with('#') && source_key != DOCUMENT_KEY {
                return Err(invalid(
                    "source_key cannot begin with '#'. The only valid key starting with '#' \
                     is Key.DOCUMENT or '#document'."
                        .into(),
                ));
            }
        }
    }
    Ok(())
}

/// Chroma's reconciliation on create: a schema and a configuration that both ask for
/// something are refused; otherwise the one that does decides, and the configuration
/// stored is the one the schema describes.
pub fn reconcile(
    user: Option<&Value>,
    configuration: CollectionConfiguration,
) -> Result<(CollectionConfiguration, Value)> {
    let user = user.filter(|u| !u.is_null());
    let configuration_default = is_default_configuration(&configuration);
    if user.is_some_and(|u| !is_default(u)) && !configuration_default {
        return Err(reconcile_error(
            "Cannot set both collection config and schema simultaneously",
        ));
    }
    let schema = match user {
        _ if !configuration_default => from_configuration(&configuration),
        Some(user) => {
            let merged = merge_with_defaults(user);
            if is_default(&merged) {
                from_configuration(&CollectionConfiguration {
                    hnsw: HnswConfiguration::default(),
                    embedding_function: configuration.embedding_function.clone(),
                })
            } else {
                merged
            }
        }
        None => from_configuration(&configuration),
    };
    check_sparse_indexes(&schema)?;
    let configuration = match user {
        Some(_) if configuration_default => configuration_of(&schema)?,
        _ => configuration,
    };
    Ok((configuration, schema))
}

/// What a sparse search needs from the index it searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparseIndexSettings {
    /// The query's values are weighted by inverse document frequency first (Chroma's
    /// `bm25` flag: the key's own, else the defaults').
    pub bm25: bool,
    /// Where writes take the text a sparse embedding function turns into the key's
    /// vectors (`#document` or a metadata key); `None` when clients write the vectors.
    pub source_key: Option<String>,
}

/// A stored schema with what the hot paths need at hand: the value types each key already
/// lists (so a write of known keys costs one lookup per key), and whether any index that
/// a filter needs is disabled (so that, usually, filters are not inspected at all).
#[derive(Debug, Clone)]
pub struct CollectionSchema {
    json: Value,
    known: HashMap<String, u8>,
    any_disabled: bool,
}

impl CollectionSchema {
    pub fn new(json: Value) -> Self {
        let keys = json.get("keys").and_then(Value::as_object);
        let known = keys
            .into_iter()
            .flatten()
            .map(|(key, types)| {
                let bits = ValueType::LISTED
                    .iter()
                    .filter(|t| types.get(t.json_name()).is_some_and(|v| !v.is_null()))
                    .fold(0, |bits, t| bits | t.bit());
                (key.clone(), bits)
            })
            .collect();
        let disabled = |types: &Value| {
            ValueType::ALL
                .iter()
                .any(|t| enabled(at(types, &[t.json_name(), t.index_name()])) == Some(false))
        };
        let any_disabled = json.get("defaults").is_some_and(disabled)
            || keys.is_some_and(|keys| {
                keys.iter()
                    .any(|(key, types)| key != DOCUMENT_KEY && disabled(types))
            })
            || !fts_enabled(&json);
        CollectionSchema {
            json,
            known,
            any_disabled,
        }
    }

    pub fn json(&self) -> &Value {
        &self.json
    }

    /// Refuses a filter on a key whose index is disabled, or on documents when full-text
    /// search is, with Chroma's messages.
    pub fn check_filter(&self, filter: &Filter) -> Result<()> {
        if !self.any_disabled {
            return Ok(());
        }
        match filter {
            Filter::And(children) | Filter::Or(children) => children
                .iter()
                .try_for_each(|child| self.check_filter(child)),
            Filter::Metadata { key, op } => {
                let scalar = match op {
                    MetadataOp::Eq(s)
                    | MetadataOp::Ne(s)
                    | MetadataOp::Gt(s)
                    | MetadataOp::Gte(s)
                    | MetadataOp::Lt(s)
                    | MetadataOp::Lte(s)
                    | MetadataOp::Contains(s)
                    | MetadataOp::NotContains(s) => Some(s),
                    MetadataOp::In(set) | MetadataOp::Nin(set) => set.first(),
                };
                let Some(value_type) = scalar.map(ValueType::of_scalar) else {
                    return Ok(());
                };
                if self.index_enabled(key, value_type) {
                    Ok(())
                } else {
                    Err(Error::invalid(format!(
                        "Cannot filter using metadata key '{key}' with type '{}' because \
                         indexing is disabled",
                        value_type.error_name()
                    )))
                }
            }
            Filter::DocumentContains(_)
            | Filter::DocumentNotContains(_)
            | Filter::DocumentRegex(_)
            | Filter::DocumentNotRegex(_) => {
                if fts_enabled(&self.json) {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        "Cannot filter using full-text search because FTS indexing is disabled",
                    ))
                }
            }
        }
    }

    /// The key's own setting for the type, else the default's; an index the schema does
    /// not describe is enabled.
    fn index_enabled(&self, key: &str, value_type: ValueType) -> bool {
        let path = [value_type.json_name(), value_type.index_name()];
        let own = self
            .json
            .get("keys")
            .and_then(|keys| keys.get(key))
            .and_then(|types| types.get(value_type.json_name()))
            .filter(|v| !v.is_null())
            .and_then(|types| enabled(types.get(value_type.index_name())));
        own.or_else(|| enabled(at(&self.json["defaults"], &path)))
            .unwrap_or(true)
    }

    /// The sparse vector index a sparse `Knn` on `key` searches, refused with Chroma's
    /// message when the schema does not enable one there.
    pub fn sparse_index(&self, key: &str) -> Result<SparseIndexSettings> {
        let path = [
            ValueType::SparseVector.json_name(),
            ValueType::SparseVector.index_name(),
        ];
        let own = self
            .json
            .get("keys")
            .and_then(|keys| keys.get(key))
            .and_then(|types| at(types, &path));
        let default = at(&self.json["defaults"], &path);
        let index_enabled = enabled(own).or_else(|| enabled(default)).unwrap_or(false);
        if !index_enabled {
            return Err(Error::invalid(format!(
                "Cannot filter using metadata key '{key}' with type '{}' because indexing is \
                 disabled",
                ValueType::SparseVector.error_name()
            )));
        }
        let bm25 = |index: Option<&Value>| {
            index
                .and_then(|i| at(i, &["config", "bm25"]))
                .and_then(Value::as_bool)
        };
        let source_key = own
            .and_then(|i| at(i, &["config", "source_key"]))
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(SparseIndexSettings {
            bm25: bm25(own).or_else(|| bm25(default)).unwrap_or(false),
            source_key,
        })
    }

    /// The schema with the metadata keys and value types `batch` writes that it does not
    /// list yet, each given the default indexes of its type; `None` if it lists them all.
    pub fn discover(&self, batch: &ResolvedBatch) -> Option<CollectionSchema> {
        let mut found: BTreeSet<(&str, ValueType)> = BTreeSet::new();
        for change in &batch.changes {
            let Change::Put(record) = change else {
                continue;
            };
            for (key, value) in record.metadata.iter().flatten() {
                let value_type = ValueType::of_value(value);
                let bits = self.known.get(key.as_str()).copied().unwrap_or(0);
                if bits & value_type.bit() == 0 && !key.starts_with(RESERVED_PREFIX) {
                    found.insert((key, value_type));
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        let mut json = self.json.clone();
        if !json.get("keys").is_some_and(Value::is_object) {
            json["keys"] = json!({});
        }
        for (key, value_type) in found {
            let default = json["defaults"]
                .get(value_type.json_name())
                .cloned()
                .unwrap_or_else(|| {
                    // Only a schema names the key a sparse vector index serves.
                    let on = value_type != ValueType::SparseVector;
                    json!({value_type.index_name(): index(on, json!({}))})
                });
            let types = json["keys"]
                .as_object_mut()
                .expect("keys is an object")
                .entry(key)
                .or_insert_with(|| json!({}));
            types[value_type.json_name()] = default;
        }
        Some(CollectionSchema::new(json))
    }

    /// Keeps the vector index of the defaults and of `#embedding` in step with a
    /// configuration changed by `modify`.
    pub fn follow_configuration(&mut self, configuration: &CollectionConfiguration) {
        for pointer in [
            "/defaults/float_list/vector_index/config",
            "/keys/#embedding/float_list/vector_index/config",
        ] {
            let Some(config) = self
                .json
                .pointer_mut(pointer)
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            // The fields `modify` cannot change (ef_construction) are the same in the
            // configuration, so the whole block follows it.
            if let Some(hnsw) = config.get_mut("hnsw").filter(|hnsw| hnsw.is_object()) {
                *hnsw = hnsw_json(&configuration.hnsw);
            }
            if let Some(ef) = &configuration.embedding_function {
                config.insert("embedding_function".into(), ef.clone());
            }
        }
    }
}

fn fts_enabled(schema: &Value) -> bool {
    at(schema, &["keys", DOCUMENT_KEY, "string", "fts_index"])
        .or_else(|| at(schema, &["defaults", "string", "fts_index"]))
        .and_then(|index| enabled(Some(index)))
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::PutRecord;
    use crate::filter::{parse_where, parse_where_document};

    fn resolved(configuration: Option<Value>) -> CollectionConfiguration {
        CollectionConfiguration::resolve(configuration.as_ref(), None).unwrap()
    }

    fn cosine_schema() -> Value {
        json!({
            "defaults": {"float_list": {"vector_index": {"enabled": false, "config": {
                "space": "cosine", "hnsw": {"ef_construction": 150, "max_neighbors": 20}}}}},
            "keys": {"#embedding": {"float_list": {"vector_index": {"enabled": true, "config": {
                "space": "cosine", "source_key": "#document",
                "hnsw": {"ef_construction": 150, "max_neighbors": 20}}}}}},
        })
    }

    #[test]
    fn a_schema_vector_index_becomes_the_configuration() {
        let (configuration, schema) = reconcile(Some(&cosine_schema()), resolved(None)).unwrap();
        let hnsw = &configuration.hnsw;
        assert_eq!(
            (
                hnsw.space,
                hnsw.ef_construction,
                hnsw.max_neighbors,
                hnsw.ef_search
            ),
            (Space::Cosine, 150, 20, 100)
        );
        let block = &schema["keys"][EMBEDDING_KEY]["float_list"]["vector_index"]["config"]["hnsw"];
        assert_eq!(block["sync_threshold"], 1000);
        assert_eq!(block["num_threads"], default_threads_json());
        assert_eq!(
            schema["defaults"]["int"]["int_inverted_index"]["enabled"],
            true
        );
    }

    fn default_threads_json() -> Value {
        HnswConfiguration::default().num_threads.into()
    }

    #[test]
    fn without_a_schema_the_configuration_describes_it() {
        let configuration = resolved(Some(json!({"hnsw": {"space": "ip", "ef_search": 33}})));
        let (kept, schema) = reconcile(None, configuration.clone()).unwrap();
        assert_eq!(kept, configuration);
        assert_eq!(schema, from_configuration(&configuration));
        let vector = &schema["defaults"]["float_list"]["vector_index"];
        assert_eq!(
            (&vector["enabled"], &vector["config"]["space"]),
            (&json!(false), &json!("ip"))
        );
    }

    #[test]
    fn a_schema_and_a_configuration_that_both_ask_are_refused() {
        let configuration = resolved(Some(json!({"hnsw": {"space": "ip"}})));
        let err = reconcile(Some(&cosine_schema()), configuration.clone())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "Failed to reconcile schema: Cannot set both collection config and schema simultaneously"
        );
        // A schema that asks for nothing lets the configuration decide.
        let (kept, _) = reconcile(
            Some(&from_configuration(&resolved(None))),
            configuration.clone(),
        )
        .unwrap();
        assert_eq!(kept, configuration);
        // A legacy embedding function is not the default.
        let legacy = resolved(Some(json!({"embedding_function": {"type": "legacy"}})));
        assert!(reconcile(Some(&cosine_schema()), legacy).is_err());
    }

    fn sparse_schema(keys: Value) -> Value {
        json!({ "keys": keys })
    }

    fn sparse_key(enabled: bool, config: Value) -> Value {
        json!({"sparse_vector": {"sparse_vector_index": {"enabled": enabled, "config": config}}})
    }

    #[test]
    fn a_sparse_index_on_one_key_is_kept_with_its_configuration() {
        let ef = json!({"type": "known", "name": "chroma_bm25", "config": {"k": 1.2}});
        let user = sparse_schema(json!({"bm25_key": sparse_key(
            true,
            json!({"source_key": "#document", "embedding_function": ef, "bm25": true}),
        )}));
        let (_, schema) = reconcile(Some(&user), resolved(None)).unwrap();
        let config = &schema["keys"]["bm25_key"]["sparse_vector"]["sparse_vector_index"]["config"];
        assert_eq!(config["embedding_function"], ef);
        assert_eq!(config["source_key"], "#document");
        let schema = CollectionSchema::new(schema);
        assert_eq!(
            schema.sparse_index("bm25_key").unwrap(),
            SparseIndexSettings {
                bm25: true,
                source_key: Some("#document".into()),
            }
        );
        assert_eq!(
            schema.sparse_index("other").unwrap_err().to_string(),
            "Cannot filter using metadata key 'other' with type 'SparseVector' because \
             indexing is disabled"
        );
        // Filters on other keys are not affected by the sparse index.
        assert_eq!(refusal(&schema, json!({"bm25_key": 1})), None);
        let plain = sparse_schema(json!({"s": sparse_key(true, json!({}))}));
        let (_, plain) = reconcile(Some(&plain), resolved(None)).unwrap();
        assert!(!CollectionSchema::new(plain).sparse_index("s").unwrap().bm25);
    }

    #[test]
    fn sparse_indexes_follow_chroma_clouds_rules() {
        let refused = |user: Value| {
            reconcile(Some(&user), resolved(None))
                .unwrap_err()
                .to_string()
        };
        let ef = json!({"type": "known", "name": "chroma_bm25", "config": {}});
        let on = |source: Value| {
            sparse_key(
                true,
                json!({"source_key": source, "embedding_function": ef}),
            )
        };
        assert!(
            refused(sparse_schema(
                json!({"a": on(json!("#document")), "b": on(json!("t"))})
            ))
            .starts_with(
                "Validation error: schema: At most one sparse vector index is allowed for \
                     the collection: "
            )
        );
        assert!(
            refused(json!({"defaults": sparse_key(true, json!({}))}))
                .contains("Sparse vector index cannot be enabled by default")
        );
        assert!(
            refused(sparse_schema(
                json!({"a": sparse_key(true, json!({"source_key": "text"}))})
            ))
            .contains("If source_key is provided then embedding_function must also be")
        );
        assert!(
            refused(sparse_schema(json!({"a": on(json!("#embedding"))})))
                .contains("source_key cannot begin with '#'")
        );
        assert!(
            refused(sparse_schema(
                json!({"#document": sparse_key(false, json!({}))})
            ))
            .contains("Document field cannot have any value types other than string")
        );
        // A disabled index on a second key is no second index.
        let fine = sparse_schema(json!({"a": on(json!("t")), "b": sparse_key(false, json!({}))}));
        assert!(reconcile(Some(&fine), resolved(None)).is_ok());
    }

    #[test]
    fn sparse_values_add_their_key_with_the_disabled_default_index() {
        let schema = CollectionSchema::new(from_configuration(&resolved(None)));
        let vector = MetadataValue::SparseVector(Box::new(crate::metadata::SparseVector {
            indices: vec![1],
            values: vec![1.0],
            tokens: None,
        }));
        let grown = schema
            .discover(&batch(vec![put(&[("sv", vector.clone())])]))
            .expect("a new key");
        assert_eq!(
            grown.json()["keys"]["sv"]["sparse_vector"]["sparse_vector_index"]["enabled"],
            false
        );
        assert!(grown.sparse_index("sv").is_err());
        assert!(
            grown
                .discover(&batch(vec![put(&[("sv", vector)])]))
                .is_none()
        );
    }

    #[test]
    fn spann_keeps_only_its_space() {
        let spann = json!({"keys": {"#embedding": {"float_list": {"vector_index": {
            "enabled": true, "config": {"space": "ip", "spann": {"search_nprobe": 10}}}}}}});
        let (configuration, schema) = reconcile(Some(&spann), resolved(None)).unwrap();
        assert_eq!(configuration.hnsw.space, Space::Ip);
        let config = &schema["keys"][EMBEDDING_KEY]["float_list"]["vector_index"]["config"];
        assert!(config.get("spann").is_none());
        assert_eq!(config["hnsw"]["max_neighbors"], 16);
    }

    #[test]
    fn a_schema_that_is_not_an_object_is_refused() {
        assert!(check_shape(&json!([1])).is_err());
        assert!(check_shape(&json!({"keys": 3})).is_err());
        assert!(check_shape(&json!({"defaults": {}, "keys": {}})).is_ok());
    }

    fn disabled() -> CollectionSchema {
        let user = json!({
            "defaults": {"int": {"int_inverted_index": {"enabled": false, "config": {}}}},
            "keys": {
                "k": {"string": {"string_inverted_index": {"enabled": false, "config": {}}}},
                "#document": {"string": {"fts_index": {"enabled": false, "config": {}}}},
            },
        });
        CollectionSchema::new(reconcile(Some(&user), resolved(None)).unwrap().1)
    }

    fn refusal(schema: &CollectionSchema, filter: Value) -> Option<String> {
        schema
            .check_filter(&parse_where(&filter).unwrap())
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn filters_on_disabled_indexes_are_refused_with_chromas_messages() {
        let schema = disabled();
        let message = |key: &str, kind: &str| {
            Some(format!(
                "Cannot filter using metadata key '{key}' with type '{kind}' because indexing \
                 is disabled"
            ))
        };
        assert_eq!(refusal(&schema, json!({"k": "x"})), message("k", "Str"));
        assert_eq!(
            refusal(&schema, json!({"k": {"$nin": ["x"]}})),
            message("k", "Str")
        );
        assert_eq!(refusal(&schema, json!({"k": 1})), message("k", "Int"));
        assert_eq!(
            refusal(&schema, json!({"other": {"$gt": 1}})),
            message("other", "Int")
        );
        assert_eq!(
            refusal(&schema, json!({"$or": [{"s": "a"}, {"k": "x"}]})),
            message("k", "Str")
        );
        assert_eq!(refusal(&schema, json!({"s": "a"})), None);
        assert_eq!(refusal(&schema, json!({"f": 1.5})), None);
        let document = parse_where_document(&json!({"$contains": "a"})).unwrap();
        assert_eq!(
            schema.check_filter(&document).unwrap_err().to_string(),
            "Cannot filter using full-text search because FTS indexing is disabled"
        );
        let everything_on = CollectionSchema::new(from_configuration(&resolved(None)));
        assert!(!everything_on.any_disabled);
        assert!(everything_on.check_filter(&document).is_ok());
    }

    fn put(metadata: &[(&str, MetadataValue)]) -> Change {
        Change::Put(PutRecord {
            row: 0,
            id: "a".into(),
            embedding: None,
            document: None,
            metadata: Some(
                metadata
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            ),
            uri: None,
        })
    }

    fn batch(changes: Vec<Change>) -> ResolvedBatch {
        ResolvedBatch {
            collection: 1,
            dimension: None,
            next_row: 1,
            changes,
        }
    }

    #[test]
    fn writes_discover_new_keys_with_the_default_indexes_of_their_type() {
        let schema = disabled();
        let first = batch(vec![put(&[
            ("n", MetadataValue::Int(1)),
            ("tags", MetadataValue::StrList(vec!["a".into()])),
            ("k", MetadataValue::Str("x".into())),
            ("k2", MetadataValue::Bool(true)),
        ])]);
        let grown = schema.discover(&first).expect("new keys");
        let keys = &grown.json()["keys"];
        assert_eq!(
            keys["n"],
            json!({"int": {"int_inverted_index": {"enabled": false, "config": {}}}})
        );
        assert_eq!(
            keys["tags"]["string"]["string_inverted_index"]["enabled"],
            true
        );
        assert_eq!(keys["tags"]["string"]["fts_index"]["enabled"], false);
        // A key the user configured keeps its own setting.
        assert_eq!(keys["k"], schema.json()["keys"]["k"]);
        assert_eq!(keys["k2"]["bool"]["bool_inverted_index"]["enabled"], true);
        // Known keys and types cost nothing more: no new schema.
        assert!(grown.discover(&first).is_none());
        let new_type = batch(vec![put(&[("n", MetadataValue::Float(1.5))])]);
        let again = grown
            .discover(&new_type)
            .expect("a new type of a known key");
        assert_eq!(
            again.json()["keys"]["n"]["float"]["float_inverted_index"]["enabled"],
            true
        );
        assert!(again.json()["keys"]["n"].get("int").is_some());
        assert!(
            again
                .discover(&batch(vec![Change::Delete { row: 0 }]))
                .is_none()
        );
    }

    #[test]
    fn modify_updates_the_vector_index_of_the_defaults_and_of_the_embedding_key() {
        let (mut configuration, schema) =
            reconcile(Some(&cosine_schema()), resolved(None)).unwrap();
        let mut schema = CollectionSchema::new(schema);
        configuration
            .update(&json!({"hnsw": {"ef_search": 77, "max_neighbors": 30}}))
            .unwrap();
        schema.follow_configuration(&configuration);
        for pointer in [
            "/defaults/float_list/vector_index/config/hnsw",
            "/keys/#embedding/float_list/vector_index/config/hnsw",
        ] {
            let hnsw = schema.json().pointer(pointer).unwrap();
            assert_eq!(
                (
                    &hnsw["ef_search"],
                    &hnsw["max_neighbors"],
                    &hnsw["ef_construction"]
                ),
                (&json!(77), &json!(30), &json!(150))
            );
        }
    }
}
