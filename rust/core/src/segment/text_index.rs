//! Full-text index for `$contains` on documents: the rows containing each byte trigram.
//! A search intersects the postings of the pattern's trigrams and confirms each candidate
//! with a substring search, so it reads only documents that can match. Patterns shorter
//! than a trigram fall back to a scan, as SQLite's trigram tokenizer does.

use std::collections::HashMap;

use memchr::memmem;
use roaring::RoaringBitmap;

type Trigram = [u8; 3];

/// The distinct trigrams of a text (sorted, so that postings are touched in a stable order).
fn trigrams(text: &str) -> Vec<Trigram> {
    let mut found: Vec<Trigram> = text
        .as_bytes()
        .windows(3)
        .map(|w| [w[0], w[1], w[2]])
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

#[derive(Default, Clone)]
pub struct TextIndex {
    postings: HashMap<Trigram, RoaringBitmap>,
}

impl TextIndex {
    pub fn insert(&mut self, row: u32, document: &str) {
        for trigram in trigrams(document) {
            self.postings.entry(trigram).or_default().insert(row);
        }
    }

    pub fn remove(&mut self, row: u32, document: &str) {
        for trigram in trigrams(document) {
            if let Some(rows) = self.postings.get_mut(&trigram) {
                rows.remove(row);
                if rows.is_empty() {
                    self.postings.remove(&trigram);
                }
            }
        }
    }

    /// Rows whose document contains `pattern` (case-sensitive, byte-wise). `document` reads
    /// a row's document; `all_rows` is the scan set for patterns too short to index.
    pub fn contains<'a>(
        &self,
        pattern: &str,
        all_rows: &RoaringBitmap,
        document: impl Fn(u32) -> Option<&'a str>,
    ) -> RoaringBitmap {
        let finder = memmem::Finder::new(pattern.as_bytes());
        let candidates = if pattern.len() < 3 {
            all_rows.clone()
        } else {
            let mut candidates: Option<RoaringBitmap> = None;
            for trigram in trigrams(pattern) {
                let Some(rows) = self.postings.get(&trigram) else {
                    return RoaringBitmap::new();
                };
                candidates = Some(match candidates {
                    None => rows.clone(),
                    Some(acc) => acc & rows,
                });
            }
            candidates.unwrap_or_default()
        };
        candidates
            .into_iter()
            .filter(|row| document(*row).is_some_and(|doc| finder.find(doc.as_bytes()).is_some()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_substrings_case_sensitively_including_short_and_special_patterns() {
        let docs = [
            "Hello World",
            "hello world",
            "HELLO",
            "foo_bar",
            "100%",
            "a\\b",
        ];
        let mut index = TextIndex::default();
        let mut all = RoaringBitmap::new();
        for (row, doc) in docs.iter().enumerate() {
            index.insert(row as u32, doc);
            all.insert(row as u32);
        }
        let find = |index: &TextIndex, p: &str| -> Vec<u32> {
            index
                .contains(p, &all, |row| docs.get(row as usize).copied())
                .iter()
                .collect()
        };
        assert_eq!(find(&index, "hello"), [1]);
        assert_eq!(find(&index, "_"), [3]);
        assert_eq!(find(&index, "%"), [4]);
        assert_eq!(find(&index, "\\"), [5]);
        assert_eq!(find(&index, "lo W"), [0]);
        assert_eq!(find(&index, "absent"), Vec::<u32>::new());
        index.remove(1, docs[1]);
        assert_eq!(find(&index, "hello"), Vec::<u32>::new());
    }
}
