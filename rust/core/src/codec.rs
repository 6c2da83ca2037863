//! A small length-prefixed little-endian binary codec. The write-ahead log and the record
//! store's metadata column use it; the reader checks every bound so that a corrupt or
//! truncated input is an error, never a panic or an out-of-bounds read.

use crate::metadata::{Metadata, MetadataValue, SparseVector};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

#[derive(Default)]
pub struct Encoder {
    pub buf: Vec<u8>,
}

impl Encoder {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("encoded item longer than 4 GiB"));
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.len(v.len());
        self.buf.extend_from_slice(v);
    }
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    pub fn opt_str(&mut self, v: Option<&str>) {
        match v {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
    pub fn u32s(&mut self, v: &[u32]) {
        self.len(v.len());
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }
    pub fn f32s(&mut self, v: &[f32]) {
        self.len(v.len());
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }
    pub fn metadata(&mut self, metadata: &Metadata) {
        self.len(metadata.len());
        for (key, value) in metadata {
            self.str(key);
            self.metadata_value(value);
        }
    }
    pub fn opt_metadata(&mut self, v: Option<&Metadata>) {
        match v {
            Some(m) => {
                self.u8(1);
                self.metadata(m);
            }
            None => self.u8(0),
        }
    }
    fn metadata_value(&mut self, value: &MetadataValue) {
        match value {
            MetadataValue::Str(s) => {
                self.u8(0);
                self.str(s);
            }
            MetadataValue::Int(i) => {
                self.u8(1);
                self.i64(*i);
            }
            MetadataValue::Float(f) => {
                self.u8(2);
                self.f64(*f);
            }
            MetadataValue::Bool(b) => {
                self.u8(3);
                self.u8(u8::from(*b));
            }
            MetadataValue::StrList(v) => {
                self.u8(4);
                self.len(v.len());
                v.iter().for_each(|s| self.str(s));
            }
            MetadataValue::IntList(v) => {
                self.u8(5);
                self.len(v.len());
                v.iter().for_each(|i| self.i64(*i));
            }
            MetadataValue::FloatList(v) => {
                self.u8(6);
                self.len(v.len());
                v.iter().for_each(|f| self.f64(*f));
            }
            MetadataValue::BoolList(v) => {
                self.u8(7);
                self.len(v.len());
                v.iter().for_each(|b| self.u8(u8::from(*b)));
            }
            // A new tag rather than a new format version: files written before sparse
            // vectors existed never hold it, so they decode as they always did.
            MetadataValue::SparseVector(vector) => {
                self.u8(8);
                self.u32s(&vector.indices);
                self.f32s(&vector.values);
                match &vector.tokens {
                    Some(tokens) => {
                        self.u8(1);
                        self.len(tokens.len());
                        tokens.iter().for_each(|t| self.str(t));
                    }
                    None => self.u8(0),
                }
            }
        }
    }
}

pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Decoder { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.data.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.data.len())
            .ok_or_else(|| {
                DecodeError(format!(
                    "truncated input: needed {n} bytes at offset {}",
                    self.pos
                ))
            })?;
        let slice = &self.data[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_le_bytes(self.array()?))
    }
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError(format!("invalid bool byte {other}"))),
        }
    }
    /// A length prefix, checked against what is left so that a corrupt length cannot make
    /// the caller reserve gigabytes.
    pub fn len(&mut self, min_item_size: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        let remaining = self.data.len() - self.pos;
        if n.saturating_mul(min_item_size.max(1)) > remaining {
            return Err(DecodeError(format!(
                "length {n} exceeds the {remaining} bytes left"
            )));
        }
        Ok(n)
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.len(1)?;
        self.take(n)
    }
    pub fn str(&mut self) -> Result<String, DecodeError> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|e| DecodeError(format!("invalid UTF-8: {e}")))
    }
    pub fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        Ok(if self.bool()? {
            Some(self.str()?)
        } else {
            None
        })
    }
    pub fn u32s(&mut self) -> Result<Vec<u32>, DecodeError> {
        let n = self.len(4)?;
        let raw = self.take(n * 4)?;
        Ok(raw
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("chunk of 4")))
            .collect())
    }
    pub fn f32s(&mut self) -> Result<Vec<f32>, DecodeError> {
        let n = self.len(4)?;
        let raw = self.take(n * 4)?;
        Ok(raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("chunk of 4")))
            .collect())
    }
    pub fn metadata(&mut self) -> Result<Metadata, DecodeError> {
        let n = self.len(5)?;
        let mut metadata = Metadata::new();
        for _ in 0..n {
            let key = self.str()?;
            let value = self.metadata_value()?;
            metadata.insert(key, value);
        }
        Ok(metadata)
    }
    pub fn opt_metadata(&mut self) -> Result<Option<Metadata>, DecodeError> {
        Ok(if self.bool()? {
            Some(self.metadata()?)
        } else {
            None
        })
    }
    fn metadata_value(&mut self) -> Result<MetadataValue, DecodeError> {
        Ok(match self.u8()? {
            0 => MetadataValue::Str(self.str()?),
            1 => MetadataValue::Int(self.i64()?),
            2 => MetadataValue::Float(self.f64()?),
            3 => MetadataValue::Bool(self.bool()?),
            4 => {
                let n = self.len(4)?;
                MetadataValue::StrList((0..n).map(|_| self.str()).collect::<Result<_, _>>()?)
            }
            5 => {
                let n = self.len(8)?;
                MetadataValue::IntList((0..n).map(|_| self.i64()).collect::<Result<_, _>>()?)
            }
            6 => {
                let n = self.len(8)?;
                MetadataValue::FloatList((0..n).map(|_| self.f64()).collect::<Result<_, _>>()?)
            }
            7 => {
                let n = self.len(1)?;
                MetadataValue::BoolList((0..n).map(|_| self.bool()).collect::<Result<_, _>>()?)
            }
            8 => {
                let indices = self.u32s()?;
                let values = self.f32s()?;
                let tokens = if self.bool()? {
                    let n = self.len(4)?;
                    Some((0..n).map(|_| self.str()).collect::<Result<_, _>>()?)
                } else {
                    None
                };
                let vector = SparseVector {
                    indices,
                    values,
                    tokens,
                };
                // The inverted index relies on sorted dimensions: damage that breaks the
                // rule is an error here, not a wrong answer later.
                if let Some(problem) = vector.problem() {
                    return Err(DecodeError(format!("sparse vector: {problem}")));
                }
                MetadataValue::SparseVector(Box::new(vector))
            }
            tag => return Err(DecodeError(format!("unknown metadata value tag {tag}"))),
        })
    }
}

pub fn encode_metadata(metadata: &Metadata) -> Vec<u8> {
    let mut encoder = Encoder::default();
    encoder.metadata(metadata);
    encoder.buf
}

pub fn decode_metadata(data: &[u8]) -> Result<Metadata, DecodeError> {
    let mut decoder = Decoder::new(data);
    let metadata = decoder.metadata()?;
    if !decoder.is_empty() {
        return Err(DecodeError("trailing bytes after metadata".to_string()));
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_every_type() {
        let metadata: Metadata = [
            ("s", MetadataValue::Str("x".into())),
            ("i", MetadataValue::Int(-7)),
            ("f", MetadataValue::Float(f64::INFINITY)),
            ("b", MetadataValue::Bool(true)),
            ("sl", MetadataValue::StrList(vec!["a".into(), "b".into()])),
            ("il", MetadataValue::IntList(vec![1, 2])),
            ("fl", MetadataValue::FloatList(vec![0.5])),
            ("bl", MetadataValue::BoolList(vec![false, true])),
            (
                "sv",
                MetadataValue::SparseVector(Box::new(SparseVector {
                    indices: vec![0, 7, u32::MAX],
                    values: vec![0.25, -1.5, 3.0],
                    tokens: None,
                })),
            ),
            (
                "svt",
                MetadataValue::SparseVector(Box::new(SparseVector {
                    indices: vec![2, 9],
                    values: vec![1.0, 2.0],
                    tokens: Some(vec!["fox".into(), "jumps".into()]),
                })),
            ),
            (
                "empty",
                MetadataValue::SparseVector(Box::new(SparseVector {
                    indices: vec![],
                    values: vec![],
                    tokens: None,
                })),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(
            decode_metadata(&encode_metadata(&metadata)).unwrap(),
            metadata
        );
    }

    #[test]
    fn truncated_and_garbage_inputs_are_errors() {
        let metadata: Metadata = [("key".to_string(), MetadataValue::Str("value".into()))].into();
        let encoded = encode_metadata(&metadata);
        for cut in 0..encoded.len() {
            assert!(decode_metadata(&encoded[..cut]).is_err());
        }
        assert!(decode_metadata(&[0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn sparse_vectors_are_a_new_tag_beside_the_old_encoding() {
        // Metadata encoded before sparse vectors existed: one Int under "k".
        let old = [1, 0, 0, 0, 1, 0, 0, 0, b'k', 1, 7, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            decode_metadata(&old).unwrap(),
            [("k".to_string(), MetadataValue::Int(7))].into()
        );
        let sparse = |indices: Vec<u32>| -> Metadata {
            [(
                "s".to_string(),
                MetadataValue::SparseVector(Box::new(SparseVector {
                    values: vec![1.0; indices.len()],
                    indices,
                    tokens: Some(vec!["a".into(), "b".into()]),
                })),
            )]
            .into()
        };
        let encoded = encode_metadata(&sparse(vec![1, 2]));
        assert_eq!(encoded[9], 8, "the sparse vector tag");
        for cut in 0..encoded.len() {
            assert!(decode_metadata(&encoded[..cut]).is_err());
        }
        // Damage that unsorts the dimensions is refused, not decoded into a wrong index.
        assert!(decode_metadata(&encode_metadata(&sparse(vec![2, 1]))).is_err());
    }
}
