//! Record and collection metadata values, with Chroma's typing: str, int (i64), float (f64),
//! bool, and homogeneous non-empty arrays of those.

use std::cmp::Ordering;
use std::collections::BTreeMap;

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
