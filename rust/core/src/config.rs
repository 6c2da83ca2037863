//! Collection configuration: Chroma's `configuration={"hnsw": {...}}` form and the legacy
//! `hnsw:*` collection metadata keys, resolved with Chroma's precedence into one internal
//! configuration that is stored with the collection.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::distance::Space;
use crate::error::{Error, Result};
use crate::metadata::{Metadata, MetadataValue};

/// The threads this process may use. Asked once: the standard library reads the CPU
/// affinity and the cgroup quota files each time (about 50 µs), and every collection the
/// server describes resolves its defaults.
fn default_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Vector index parameters. `num_threads` and `batch_size` are kept but, as in Chroma, never
/// shown in the configuration a client reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HnswConfiguration {
    pub space: Space,
    pub ef_construction: usize,
    pub ef_search: usize,
    pub max_neighbors: usize,
    pub num_threads: usize,
    pub resize_factor: f64,
    pub sync_threshold: usize,
    pub batch_size: usize,
}

impl Default for HnswConfiguration {
    fn default() -> Self {
        HnswConfiguration {
            space: Space::L2,
            ef_construction: 100,
            ef_search: 100,
            max_neighbors: 16,
            num_threads: default_threads(),
            resize_factor: 1.2,
            sync_threshold: 1000,
            batch_size: 100,
        }
    }
}

impl HnswConfiguration {
    /// What a collection created with no configuration (and no legacy `hnsw:*` metadata)
    /// is given, for clients that show the defaults.
    pub fn for_unconfigured_collection() -> Self {
        CollectionConfiguration::resolve(None, None)
            .expect("no configuration resolves to the defaults")
            .hnsw
    }
}

/// The `hnsw` object a client may send on create: every field optional, nothing unknown.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateHnsw {
    space: Option<Space>,
    ef_construction: Option<usize>,
    ef_search: Option<usize>,
    max_neighbors: Option<usize>,
    num_threads: Option<usize>,
    resize_factor: Option<f64>,
    sync_threshold: Option<usize>,
    batch_size: Option<usize>,
}

/// The `spann` object: only its space matters to a local (HNSW) collection.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // The other fields are parsed so that unknown ones are refused.
struct CreateSpann {
    space: Option<Space>,
    search_nprobe: Option<u32>,
    write_nprobe: Option<u32>,
    ef_construction: Option<usize>,
    ef_search: Option<usize>,
    max_neighbors: Option<usize>,
    reassign_neighbor_count: Option<u32>,
    split_threshold: Option<u32>,
    merge_threshold: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
struct CreateConfiguration {
    hnsw: Option<Value>,
    spann: Option<Value>,
    embedding_function: Option<Value>,
}

/// The mutable part of the `hnsw` object in `modify(configuration=...)`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateHnsw {
    ef_search: Option<usize>,
    max_neighbors: Option<usize>,
    num_threads: Option<usize>,
    resize_factor: Option<f64>,
    sync_threshold: Option<usize>,
    batch_size: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Parsed so that unknown fields are refused; local collections have no SPANN.
struct UpdateSpann {
    search_nprobe: Option<u32>,
    ef_search: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
struct UpdateConfiguration {
    hnsw: Option<Value>,
    spann: Option<Value>,
    embedding_function: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionConfiguration {
    pub hnsw: HnswConfiguration,
    pub embedding_function: Option<Value>,
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::invalid(e.to_string()))
}

fn non_null<T: serde::de::DeserializeOwned + Default>(value: Option<Value>) -> Result<Option<T>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => from_json(value).map(Some),
    }
}

const LEGACY_PREFIX: &str = "hnsw:";

fn legacy_error() -> Error {
    Error::invalid("Failed to parse hnsw parameters from segment metadata")
}

/// HNSW parameters from legacy `hnsw:*` collection metadata, over the defaults.
fn from_legacy_metadata(metadata: Option<&Metadata>) -> Result<HnswConfiguration> {
    let mut config = HnswConfiguration::default();
    let Some(metadata) = metadata else {
        return Ok(config);
    };
    for (key, value) in metadata {
        let Some(name) = key.strip_prefix(LEGACY_PREFIX) else {
            continue;
        };
        let int = || match value {
            MetadataValue::Int(i) if *i >= 0 => Ok(*i as usize),
            _ => Err(legacy_error()),
        };
        match name {
            "space" => {
                config.space = match value {
                    MetadataValue::Str(s) => Space::parse(s).ok_or_else(legacy_error)?,
                    _ => return Err(legacy_error()),
                }
            }
            "construction_ef" => config.ef_construction = int()?,
            "search_ef" => config.ef_search = int()?,
            "M" => config.max_neighbors = int()?,
            "num_threads" => config.num_threads = int()?,
            "resize_factor" => {
                config.resize_factor = match value {
                    MetadataValue::Float(f) => *f,
                    MetadataValue::Int(i) => *i as f64,
                    _ => return Err(legacy_error()),
                }
            }
            // Chroma requires at least 2 for these two on the legacy path only.
            "sync_threshold" => config.sync_threshold = int().and_then(at_least_two)?,
            "batch_size" => config.batch_size = int().and_then(at_least_two)?,
            _ => return Err(legacy_error()),
        }
    }
    Ok(config)
}

fn at_least_two(n: usize) -> Result<usize> {
    if n >= 2 { Ok(n) } else { Err(legacy_error()) }
}

/// Chroma's own tests configure up to 1,000; beyond that a node's links would take more
/// memory than any recall gain could justify.
const MAX_NEIGHBORS_LIMIT: usize = 1_024;

impl HnswConfiguration {
    pub(crate) fn check(self) -> Result<Self> {
        if !(1..=MAX_NEIGHBORS_LIMIT).contains(&self.max_neighbors) {
            return Err(Error::invalid(format!(
                "max_neighbors must be between 1 and {MAX_NEIGHBORS_LIMIT}, got {}",
                self.max_neighbors
            )));
        }
        if self.ef_construction == 0 {
            return Err(Error::invalid("ef_construction must be at least 1"));
        }
        Ok(self)
    }
}

impl CollectionConfiguration {
    /// Resolves what a client sent on create. Chroma's rule: an explicit `hnsw` object wins
    /// unless it amounts to the defaults, in which case legacy metadata keys decide; a
    /// `spann` object contributes only its space.
    pub fn resolve(configuration: Option<&Value>, metadata: Option<&Metadata>) -> Result<Self> {
        let create: CreateConfiguration = match configuration {
            None | Some(Value::Null) => CreateConfiguration::default(),
            Some(value) => from_json(value.clone())?,
        };
        let hnsw: Option<CreateHnsw> = non_null(create.hnsw)?;
        let spann: Option<CreateSpann> = non_null(create.spann)?;
        let legacy = from_legacy_metadata(metadata)?;
        let hnsw = match (hnsw, spann) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "Multiple vector index configurations provided",
                ));
            }
            (Some(given), None) => {
                let defaults = HnswConfiguration::default();
                let explicit = HnswConfiguration {
                    space: given.space.unwrap_or(defaults.space),
                    ef_construction: given.ef_construction.unwrap_or(defaults.ef_construction),
                    ef_search: given.ef_search.unwrap_or(defaults.ef_search),
                    max_neighbors: given.max_neighbors.unwrap_or(defaults.max_neighbors),
                    num_threads: given.num_threads.unwrap_or(defaults.num_threads),
                    resize_factor: given.resize_factor.unwrap_or(defaults.resize_factor),
                    sync_threshold: given.sync_threshold.unwrap_or(defaults.sync_threshold),
                    batch_size: given.batch_size.unwrap_or(defaults.batch_size),
                };
                if explicit == defaults {
                    legacy
                } else {
                    explicit
                }
            }
            (None, Some(spann)) => HnswConfiguration {
                space: spann.space.unwrap_or(Space::L2),
                ..HnswConfiguration::default()
            },
            (None, None) => legacy,
        };
        Ok(CollectionConfiguration {
            hnsw: hnsw.check()?,
            embedding_function: create.embedding_function.filter(|v| !v.is_null()),
        })
    }

    /// Applies `modify(configuration=...)`: only mutable fields, only those given.
    pub fn update(&mut self, update: &Value) -> Result<()> {
        let update: UpdateConfiguration = from_json(update.clone())?;
        if let Some(hnsw) = non_null::<UpdateHnsw>(update.hnsw)? {
            let current = &self.hnsw;
            self.hnsw = HnswConfiguration {
                ef_search: hnsw.ef_search.unwrap_or(current.ef_search),
                max_neighbors: hnsw.max_neighbors.unwrap_or(current.max_neighbors),
                num_threads: hnsw.num_threads.unwrap_or(current.num_threads),
                resize_factor: hnsw.resize_factor.unwrap_or(current.resize_factor),
                sync_threshold: hnsw.sync_threshold.unwrap_or(current.sync_threshold),
                batch_size: hnsw.batch_size.unwrap_or(current.batch_size),
                ..current.clone()
            }
            .check()?;
        }
        non_null::<UpdateSpann>(update.spann)?;
        if let Some(ef) = update.embedding_function.filter(|v| !v.is_null()) {
            self.embedding_function = Some(ef);
        }
        Ok(())
    }

    /// The configuration as Chroma clients read it back (`configuration_json`).
    pub fn to_public_json(&self) -> Value {
        let h = &self.hnsw;
        json!({
            "hnsw": {
                "space": h.space.as_str(),
                "ef_construction": h.ef_construction,
                "ef_search": h.ef_search,
                "max_neighbors": h.max_neighbors,
                "resize_factor": h.resize_factor,
                "sync_threshold": h.sync_threshold,
            },
            "spann": null,
            "embedding_function": self.embedding_function,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(pairs: &[(&str, MetadataValue)]) -> Metadata {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn precedence_of_configuration_and_legacy_metadata() {
        let cosine = metadata(&[("hnsw:space", MetadataValue::Str("cosine".into()))]);
        let resolve = |c: Value, m: Option<&Metadata>| {
            CollectionConfiguration::resolve(Some(&c), m).unwrap().hnsw
        };
        assert_eq!(resolve(json!({}), Some(&cosine)).space, Space::Cosine);
        assert_eq!(
            resolve(json!({"hnsw": {"space": "l2"}}), Some(&cosine)).space,
            Space::Cosine
        );
        let explicit = resolve(
            json!({"hnsw": {"space": "l2", "ef_search": 50}}),
            Some(&cosine),
        );
        assert_eq!((explicit.space, explicit.ef_search), (Space::L2, 50));
        assert_eq!(
            resolve(json!({"spann": {"space": "ip"}}), None).space,
            Space::Ip
        );
    }

    #[test]
    fn refuses_unknown_fields_and_bad_legacy_values() {
        let err = CollectionConfiguration::resolve(Some(&json!({"hnsw": {"foo": 1}})), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown field `foo`, expected one of `space`"),
            "{err}"
        );
        let err = CollectionConfiguration::resolve(Some(&json!({"hnsw": {"space": "x"}})), None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("unknown variant `x`, expected one of `l2`, `cosine`, `ip`"));
        for bad in [
            metadata(&[("hnsw:foo", MetadataValue::Int(1))]),
            metadata(&[("hnsw:space", MetadataValue::Str("foobar".into()))]),
            metadata(&[("hnsw:M", MetadataValue::Str("x".into()))]),
            metadata(&[("hnsw:sync_threshold", MetadataValue::Int(1))]),
        ] {
            assert_eq!(
                CollectionConfiguration::resolve(None, Some(&bad))
                    .unwrap_err()
                    .to_string(),
                "Failed to parse hnsw parameters from segment metadata"
            );
        }
    }

    #[test]
    fn neighbour_counts_the_graph_cannot_hold_are_refused() {
        for config in [
            json!({"hnsw": {"max_neighbors": 1_025}}),
            json!({"hnsw": {"max_neighbors": 0}}),
            json!({"hnsw": {"ef_construction": 0}}),
        ] {
            assert!(
                CollectionConfiguration::resolve(Some(&config), None).is_err(),
                "{config}"
            );
        }
        let legacy: Metadata = [("hnsw:M".to_string(), MetadataValue::Int(5_000))].into();
        assert!(CollectionConfiguration::resolve(None, Some(&legacy)).is_err());
        let mut config = CollectionConfiguration::resolve(None, None).unwrap();
        assert!(
            config
                .update(&json!({"hnsw": {"max_neighbors": 2_000}}))
                .is_err()
        );
        assert_eq!(config.hnsw.max_neighbors, 16);
    }

    #[test]
    fn an_unconfigured_collection_gets_the_defaults() {
        let unconfigured = HnswConfiguration::for_unconfigured_collection();
        assert_eq!(unconfigured, HnswConfiguration::default());
        assert_eq!(
            (
                unconfigured.space,
                unconfigured.ef_search,
                unconfigured.max_neighbors
            ),
            (Space::L2, 100, 16)
        );
        let resolved = CollectionConfiguration::resolve(Some(&json!({"hnsw": {}})), None).unwrap();
        assert_eq!(resolved.hnsw, unconfigured);
    }

    #[test]
    fn update_changes_only_mutable_fields() {
        let mut config = CollectionConfiguration::resolve(None, None).unwrap();
        config.update(&json!({"hnsw": {"ef_search": 7}})).unwrap();
        assert_eq!(config.hnsw.ef_search, 7);
        let err = config
            .update(&json!({"hnsw": {"space": "ip"}}))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown field `space`, expected one of `ef_search`, `max_neighbors`")
        );
    }
}
