//! Record and collection metadata values, with Chroma's typing: str, int (i64), float (f64),
//! bool, homogeneous non-empty arrays of those, and sparse vectors.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    StrList(Vec<String>),
    IntList(Vec<i64>),
    FloatList(Vec<f64>),
    BoolList(Vec<bool>),
    /// Boxed: a sparse vector is three times the size of the other variants, and most
    /// metadata holds none.
    SparseVector(Box<SparseVector>),
}

/// A sparse vector as Chroma keeps it: dimensions in strictly ascending order, one value
/// each, and optionally the token each dimension stands for (chromadb's `labels`, sent as
/// `tokens`).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
    pub tokens: Option<Vec<String>>,
}

impl SparseVector {
    /// What makes the vector unusable, in Chroma's words; also refuses values that are
    /// not finite, which would make every score they touch meaningless.
    pub fn problem(&self) -> Option<&'static str> {
        let tokens_align = self
            .tokens
            .as_ref()
            .is_none_or(|tokens| tokens.len() == self.indices.len());
        if self.indices.len() != self.values.len() || !tokens_align {
            return Some(
                "Sparse vector indices, values, and tokens (when present) must have the same length",
            );
        }
        if self.indices.windows(2).any(|pair| pair[1] <= pair[0]) {
            return Some(
                "Sparse vector indices must be sorted in strictly ascending order (no duplicates)",
            );
        }
        if self.values.iter().any(|value| !value.is_finite()) {
            return Some("Sparse vector values must be finite numbers");
        }
        None
    }

    /// Chroma's JSON form, `{"#type": "sparse_vector", "indices", "values", "tokens"?}`,
    /// read as Chroma reads it: the tag may be left out, and `tokens` may be null.
    /// Whether the vector is usable is `problem`'s to say.
    pub fn from_json(value: &Value) -> Result<SparseVector, String> {
        let object = value
            .as_object()
            .ok_or("a sparse vector must be an object with indices and values")?;
        if let Some(tag) = object.get(SPARSE_VECTOR_TAG).filter(|t| !t.is_null()) {
            let tag = tag.as_str().unwrap_or_default();
            if tag != SPARSE_VECTOR_TYPE {
                return Err(format!(
                    "Expected #type='{SPARSE_VECTOR_TYPE}', got '{tag}'"
                ));
            }
        }
        let list = |name: &str| {
            object
                .get(name)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("sparse vector {name}: expected a list"))
        };
        let indices = list("indices")?
            .iter()
            .map(|i| i.as_u64().and_then(|i| u32::try_from(i).ok()))
            .collect::<Option<Vec<u32>>>()
            .ok_or("sparse vector indices: expected integers from 0 to 4294967295")?;
        let values = list("values")?
            .iter()
            .map(|v| v.as_f64().map(|v| v as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or("sparse vector values: expected numbers")?;
        let tokens = match object.get("tokens").filter(|t| !t.is_null()) {
            None => None,
            Some(tokens) => Some(
                tokens
                    .as_array()
                    .and_then(|t| {
                        t.iter()
                            .map(|t| t.as_str().map(str::to_string))
                            .collect::<Option<Vec<String>>>()
                    })
                    .ok_or("sparse vector tokens: expected a list of strings")?,
            ),
        };
        Ok(SparseVector {
            indices,
            values,
            tokens,
        })
    }

    /// Chroma's JSON form, values written as the shortest decimals of their float32 (as
    /// Chroma's server writes them).
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert(SPARSE_VECTOR_TAG.into(), SPARSE_VECTOR_TYPE.into());
        object.insert("indices".into(), self.indices.clone().into());
        let values: Vec<f64> = self.values.iter().copied().map(shortest_f64).collect();
        object.insert("values".into(), values.into());
        if let Some(tokens) = &self.tokens {
            object.insert("tokens".into(), tokens.clone().into());
        }
        Value::Object(object)
    }

    /// The dot product, summed in ascending dimension order (the order the inverted index
    /// sums in too, so both give the same float).
    pub fn dot(&self, other: &SparseVector) -> f32 {
        let (mut i, mut j, mut sum) = (0, 0, 0.0_f32);
        while i < self.indices.len() && j < other.indices.len() {
            match self.indices[i].cmp(&other.indices[j]) {
                Ordering::Less => i += 1,
                Ordering::Greater => j += 1,
                Ordering::Equal => {
                    sum += self.values[i] * other.values[j];
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }
}

pub type Metadata = BTreeMap<String, MetadataValue>;

/// Metadata carried by update/upsert: a `None` value deletes the key.
pub type MetadataUpdate = BTreeMap<String, Option<MetadataValue>>;

/// Keys with this prefix are Chroma's internal keys: accepted on write, never returned.
pub const INTERNAL_KEY_PREFIX: &str = "chroma:";

impl MetadataValue {
    pub fn is_array(&self) -> bool {
        matches!(
            self,
            MetadataValue::StrList(_)
                | MetadataValue::IntList(_)
                | MetadataValue::FloatList(_)
                | MetadataValue::BoolList(_)
        )
    }

    pub fn as_sparse_vector(&self) -> Option<&SparseVector> {
        match self {
            MetadataValue::SparseVector(vector) => Some(vector),
            _ => None,
        }
    }
}

/// A number as stored in metadata, ordered numerically across ints and floats so that int 1
/// and float 1.0 are the same key of a range index. NaN never reaches here: NaN metadata is
/// dropped on write, as Chroma does.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn cmp_int_float(i: i64, f: f64) -> Ordering {
        // Exact comparison without rounding i to f64: compare against the float's integer
        // part first, then let the fractional part decide.
        const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
        if f >= TWO_POW_63 {
            return Ordering::Less;
        }
        if f < -TWO_POW_63 {
            return Ordering::Greater;
        }
        let whole = f.trunc();
        match i.cmp(&(whole as i64)) {
            Ordering::Equal => 0.0_f64.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal),
            other => other,
        }
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (*self, *other) {
            (Number::Int(a), Number::Int(b)) => a.cmp(&b),
            // Numerically, so that -0.0 == 0.0 as it does against Int(0); NaN never gets here.
            (Number::Float(a), Number::Float(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            (Number::Int(a), Number::Float(b)) => Number::cmp_int_float(a, b),
            (Number::Float(a), Number::Int(b)) => Number::cmp_int_float(b, a).reverse(),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

const SPARSE_VECTOR_TAG: &str = "#type";
const SPARSE_VECTOR_TYPE: &str = "sparse_vector";

/// The float64 that the shortest decimal of a float32 reads as: `0.1_f32` gives `0.1`,
/// not the float32 widened (`0.10000000149011612`), as Chroma's JSON gives float32s.
pub fn shortest_f64(value: f32) -> f64 {
    let mut text = String::with_capacity(16);
    write!(text, "{value}").expect("writing to a String cannot fail");
    text.parse().unwrap_or_else(|_| f64::from(value))
}

/// Validation shared by record and collection metadata: key rules of Chroma's Rust layer.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("Metadata key cannot be empty".to_string());
    }
    if key.starts_with('#') || key.starts_with('$') {
        return Err(format!("Metadata key cannot start with '#' or '$': {key}"));
    }
    Ok(())
}

/// Merges an update into existing metadata: keys are replaced one by one and a `None` value
/// removes the key. An empty result is no metadata at all.
pub fn merge(existing: Option<&Metadata>, update: &MetadataUpdate) -> Option<Metadata> {
    let mut merged = existing.cloned().unwrap_or_default();
    for (key, value) in update {
        match value {
            Some(value) => {
                merged.insert(key.clone(), value.clone());
            }
            None => {
                merged.remove(key);
            }
        }
    }
    (!merged.is_empty()).then_some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_exactly_across_int_and_float() {
        assert_eq!(Number::Int(1), Number::Float(1.0));
        assert!(Number::Int(1) < Number::Float(1.5));
        assert!(Number::Int(2) > Number::Float(1.5));
        assert!(Number::Int(-2) < Number::Float(-1.5));
        assert!(Number::Int(-1) > Number::Float(-1.5));
        assert!(Number::Int(i64::MAX) < Number::Float(9.3e18));
        assert!(Number::Int(i64::MIN) > Number::Float(-9.3e18));
        assert_eq!(Number::Float(-0.0), Number::Float(0.0));
        assert_eq!(Number::Float(-0.0), Number::Int(0));
        // 2^53 + 1 is not representable as f64: an exact comparison must still order it.
        assert!(Number::Int((1 << 53) + 1) > Number::Float((1u64 << 53) as f64));
    }

    #[test]
    fn sparse_vector_problems_use_chromas_words() {
        let vector =
            |indices: Vec<u32>, values: Vec<f32>, tokens: Option<Vec<String>>| SparseVector {
                indices,
                values,
                tokens,
            };
        assert_eq!(vector(vec![1, 4], vec![0.5, 2.0], None).problem(), None);
        assert_eq!(vector(vec![], vec![], None).problem(), None);
        assert!(
            vector(vec![1], vec![0.5, 1.0], None)
                .problem()
                .unwrap()
                .contains("same length")
        );
        assert!(
            vector(vec![1], vec![0.5], Some(vec![]))
                .problem()
                .unwrap()
                .contains("same length")
        );
        for indices in [vec![2, 1], vec![3, 3]] {
            assert!(
                vector(indices, vec![1.0, 1.0], None)
                    .problem()
                    .unwrap()
                    .contains("strictly ascending")
            );
        }
        assert!(vector(vec![1], vec![f32::NAN], None).problem().is_some());
    }

    #[test]
    fn sparse_dot_product_meets_on_shared_dimensions_only() {
        let a = SparseVector {
            indices: vec![1, 3, 7],
            values: vec![1.0, 2.0, 3.0],
            tokens: None,
        };
        let b = SparseVector {
            indices: vec![0, 3, 7, 9],
            values: vec![5.0, -1.0, 0.5, 4.0],
            tokens: None,
        };
        assert_eq!(a.dot(&b), -0.5);
        assert_eq!(b.dot(&a), -0.5);
    }

    #[test]
    fn sparse_vectors_read_and_write_chromas_json_form() {
        let read = |json: Value| SparseVector::from_json(&json);
        let vector = read(serde_json::json!({
            "#type": "sparse_vector", "indices": [1, 4294967295_u64], "values": [0.1, -2],
            "tokens": ["a", "b"],
        }))
        .unwrap();
        assert_eq!(vector.indices, [1, u32::MAX]);
        assert_eq!(vector.values, [0.1_f32, -2.0]);
        assert_eq!(
            vector.to_json(),
            serde_json::json!({
                "#type": "sparse_vector", "indices": [1, 4294967295_u64], "values": [0.1, -2.0],
                "tokens": ["a", "b"],
            })
        );
        let untagged = read(serde_json::json!({"indices": [3], "values": [1.5], "tokens": null}));
        assert_eq!(untagged.unwrap().tokens, None);
        assert_eq!(
            read(serde_json::json!({"#type": "dense", "indices": [], "values": []})).unwrap_err(),
            "Expected #type='sparse_vector', got 'dense'"
        );
        for bad in [
            serde_json::json!([1, 2]),
            serde_json::json!({"indices": [-1], "values": [1.0]}),
            serde_json::json!({"indices": [4294967296_u64], "values": [1.0]}),
            serde_json::json!({"indices": [1], "values": ["x"]}),
            serde_json::json!({"values": [1.0]}),
            serde_json::json!({"indices": [1], "values": [1.0], "tokens": [1]}),
        ] {
            assert!(read(bad.clone()).is_err(), "{bad}");
        }
        assert_eq!(shortest_f64(0.1), 0.1);
        assert_eq!(shortest_f64(123.456), 123.456);
        // Always the same float32 again.
        for value in [f32::MAX, f32::MIN_POSITIVE, 1e-45, -0.0, 16_777_217.0, 0.3] {
            assert_eq!((shortest_f64(value) as f32).to_bits(), value.to_bits());
        }
    }

    #[test]
    fn merge_replaces_deletes_and_empties() {
        let existing: Metadata = [("a".to_string(), MetadataValue::Int(1))].into();
        let update: MetadataUpdate = [
            ("a".to_string(), None),
            ("b".to_string(), Some(MetadataValue::Bool(true))),
        ]
        .into();
        let merged = merge(Some(&existing), &update).unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged["b"], MetadataValue::Bool(true));
        let delete_all: MetadataUpdate = [("a".to_string(), None)].into();
        assert_eq!(merge(Some(&existing), &delete_all), None);
    }
}
