//! Inverted index over record metadata: for every key, the rows holding each value, kept
//! separately per type because Chroma never matches across str, bool and number, and never
//! matches a scalar operator against an array value (or the other way round).

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use roaring::RoaringBitmap;

use crate::filter::Scalar;
use crate::metadata::{Metadata, MetadataValue, Number};

#[derive(Default, Clone)]
struct KeyPostings {
    strings: HashMap<String, RoaringBitmap>,
    numbers: BTreeMap<Number, RoaringBitmap>,
    bools: [RoaringBitmap; 2],
    array_strings: HashMap<String, RoaringBitmap>,
    array_ints: HashMap<i64, RoaringBitmap>,
    /// Keyed by bit pattern, with -0.0 folded into 0.0 so they stay equal as in SQL.
    array_floats: HashMap<u64, RoaringBitmap>,
    array_bools: [RoaringBitmap; 2],
}

fn float_key(f: f64) -> u64 {
    if f == 0.0 { 0 } else { f.to_bits() }
}

/// Adds or removes `row` from the posting of `key` in `map`, dropping postings that become
/// empty so that range scans never walk dead values.
fn update_posting<K: Eq + std::hash::Hash>(
    map: &mut HashMap<K, RoaringBitmap>,
    key: K,
    row: u32,
    add: bool,
) {
    if add {
        map.entry(key).or_default().insert(row);
    } else if let Some(rows) = map.get_mut(&key) {
        rows.remove(row);
        if rows.is_empty() {
            map.remove(&key);
        }
    }
}

fn update_bitmap(rows: &mut RoaringBitmap, row: u32, add: bool) {
    if add {
        rows.insert(row);
    } else {
        rows.remove(row);
    }
}

impl KeyPostings {
    fn update(&mut self, row: u32, value: &MetadataValue, add: bool) {
        match value {
            MetadataValue::Str(s) => update_posting(&mut self.strings, s.clone(), row, add),
            MetadataValue::Bool(b) => update_bitmap(&mut self.bools[usize::from(*b)], row, add),
            MetadataValue::Int(i) => self.update_number(Number::Int(*i), row, add),
            MetadataValue::Float(f) => self.update_number(Number::Float(*f), row, add),
            MetadataValue::StrList(items) => items
                .iter()
                .for_each(|s| update_posting(&mut self.array_strings, s.clone(), row, add)),
            MetadataValue::IntList(items) => items
                .iter()
                .for_each(|i| update_posting(&mut self.array_ints, *i, row, add)),
            MetadataValue::FloatList(items) => items
                .iter()
                .for_each(|f| update_posting(&mut self.array_floats, float_key(*f), row, add)),
            MetadataValue::BoolList(items) => items
                .iter()
                .for_each(|b| update_bitmap(&mut self.array_bools[usize::from(*b)], row, add)),
            // No filter compares sparse vectors: the sparse index holds them.
            MetadataValue::SparseVector(_) => {}
        }
    }

    fn update_number(&mut self, number: Number, row: u32, add: bool) {
        if add {
            self.numbers.entry(number).or_default().insert(row);
        } else if let Some(rows) = self.numbers.get_mut(&number) {
            rows.remove(row);
            if rows.is_empty() {
                self.numbers.remove(&number);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.strings.is_empty()
            && self.numbers.is_empty()
            && self.bools.iter().all(RoaringBitmap::is_empty)
            && self.array_strings.is_empty()
            && self.array_ints.is_empty()
            && self.array_floats.is_empty()
            && self.array_bools.iter().all(RoaringBitmap::is_empty)
    }
}

#[derive(Default, Clone)]
pub struct MetadataIndex {
    keys: HashMap<String, KeyPostings>,
}

impl MetadataIndex {
    pub fn insert(&mut self, row: u32, metadata: &Metadata) {
        for (key, value) in metadata {
            self.keys
                .entry(key.clone())
                .or_default()
                .update(row, value, true);
        }
    }

    pub fn remove(&mut self, row: u32, metadata: &Metadata) {
        for (key, value) in metadata {
            if let Some(postings) = self.keys.get_mut(key) {
                postings.update(row, value, false);
                if postings.is_empty() {
                    self.keys.remove(key);
                }
            }
        }
    }

    pub fn equal(&self, key: &str, value: &Scalar) -> RoaringBitmap {
        let Some(postings) = self.keys.get(key) else {
            return RoaringBitmap::new();
        };
        let found = match value {
            Scalar::Str(s) => postings.strings.get(s),
            Scalar::Bool(b) => Some(&postings.bools[usize::from(*b)]),
            Scalar::Int(i) => postings.numbers.get(&Number::Int(*i)),
            Scalar::Float(f) => postings.numbers.get(&Number::Float(*f)),
        };
        found.cloned().unwrap_or_default()
    }

    pub fn range(&self, key: &str, lower: Bound<Number>, upper: Bound<Number>) -> RoaringBitmap {
        let Some(postings) = self.keys.get(key) else {
            return RoaringBitmap::new();
        };
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(u) | Bound::Excluded(u)) =
            (lower, upper)
            && l > u
        {
            // BTreeMap::range panics on inverted bounds; such a range matches nothing.
            return RoaringBitmap::new();
        }
        postings
            .numbers
            .range((lower, upper))
            .fold(RoaringBitmap::new(), |acc, (_, rows)| acc | rows)
    }

    pub fn array_contains(&self, key: &str, value: &Scalar) -> RoaringBitmap {
        let Some(postings) = self.keys.get(key) else {
            return RoaringBitmap::new();
        };
        let found = match value {
            Scalar::Str(s) => postings.array_strings.get(s),
            Scalar::Int(i) => postings.array_ints.get(i),
            Scalar::Float(f) => postings.array_floats.get(&float_key(*f)),
            Scalar::Bool(b) => Some(&postings.array_bools[usize::from(*b)]),
        };
        found.cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(records: &[Metadata]) -> MetadataIndex {
        let mut index = MetadataIndex::default();
        for (row, metadata) in records.iter().enumerate() {
            index.insert(row as u32, metadata);
        }
        index
    }

    fn metadata(pairs: &[(&str, MetadataValue)]) -> Metadata {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn rows(bitmap: RoaringBitmap) -> Vec<u32> {
        bitmap.iter().collect()
    }

    #[test]
    fn types_never_cross_except_int_and_float() {
        let index = index(&[
            metadata(&[("x", MetadataValue::Int(1))]),
            metadata(&[("x", MetadataValue::Float(1.0))]),
            metadata(&[("x", MetadataValue::Bool(true))]),
            metadata(&[("x", MetadataValue::Str("1".into()))]),
            metadata(&[("x", MetadataValue::IntList(vec![1]))]),
        ]);
        assert_eq!(rows(index.equal("x", &Scalar::Int(1))), [0, 1]);
        assert_eq!(rows(index.equal("x", &Scalar::Float(1.0))), [0, 1]);
        assert_eq!(
            rows(index.equal("x", &Scalar::Float(1.5))),
            Vec::<u32>::new()
        );
        assert_eq!(rows(index.equal("x", &Scalar::Bool(true))), [2]);
        assert_eq!(rows(index.equal("x", &Scalar::Str("1".into()))), [3]);
        assert_eq!(rows(index.array_contains("x", &Scalar::Int(1))), [4]);
        assert_eq!(
            rows(index.array_contains("x", &Scalar::Float(1.0))),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn ranges_compare_numerically_and_remove_cleans_up() {
        let records = [
            metadata(&[("n", MetadataValue::Int(1))]),
            metadata(&[("n", MetadataValue::Float(1.5))]),
            metadata(&[("n", MetadataValue::Int(2))]),
        ];
        let mut index = index(&records);
        let gt = |index: &MetadataIndex, v: f64| {
            rows(index.range("n", Bound::Excluded(Number::Float(v)), Bound::Unbounded))
        };
        assert_eq!(gt(&index, 1.0), [1, 2]);
        assert_eq!(
            rows(index.range("n", Bound::Unbounded, Bound::Excluded(Number::Float(1.5)))),
            [0]
        );
        assert_eq!(
            rows(index.range(
                "n",
                Bound::Included(Number::Int(3)),
                Bound::Included(Number::Int(1))
            )),
            Vec::<u32>::new()
        );
        index.remove(1, &records[1]);
        assert_eq!(gt(&index, 1.0), [2]);
        index.remove(0, &records[0]);
        index.remove(2, &records[2]);
        assert!(index.keys.is_empty());
    }
}
