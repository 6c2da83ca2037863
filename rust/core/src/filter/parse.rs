//! JSON → [`Filter`], with the acceptance rules and messages of Chroma's Rust layer (which
//! is what an HTTP client reaches; the Python client validates more strictly first).

use regex::Regex;
use serde_json::{Map, Value};

use super::tree::{Filter, MetadataOp, Scalar};
use crate::error::{Error, Result};

const INVALID_WHERE: &str = "Invalid where clause";
const INVALID_WHERE_DOCUMENT: &str = "Invalid where document clause";
/// The key under which a `where` clause reaches the document instead of metadata.
const DOCUMENT_KEY: &str = "#document";

fn invalid_where() -> Error {
    Error::invalid(INVALID_WHERE)
}

fn single_entry(map: &Map<String, Value>) -> Option<(&String, &Value)> {
    if map.len() == 1 {
        map.iter().next()
    } else {
        None
    }
}

pub fn parse_where(value: &Value) -> Result<Filter> {
    let map = value.as_object().ok_or_else(invalid_where)?;
    let (key, operand) = single_entry(map).ok_or_else(invalid_where)?;
    match key.as_str() {
        "$and" | "$or" => {
            let children = operand
                .as_array()
                .ok_or_else(invalid_where)?
                .iter()
                .map(parse_where)
                .collect::<Result<Vec<_>>>()?;
            Ok(if key == "$and" {
                Filter::And(children)
            } else {
                Filter::Or(children)
            })
        }
        key if key.starts_with('$') => Err(invalid_where()),
        DOCUMENT_KEY => parse_document_condition(operand),
        key => Ok(Filter::Metadata {
            key: key.to_string(),
            op: parse_metadata_condition(operand)?,
        }),
    }
}

fn parse_document_condition(operand: &Value) -> Result<Filter> {
    let map = operand.as_object().ok_or_else(invalid_where)?;
    let (op, value) = single_entry(map).ok_or_else(invalid_where)?;
    let text = value.as_str().ok_or_else(invalid_where)?;
    document_operator(op, text)?.ok_or_else(invalid_where)
}

fn document_operator(op: &str, text: &str) -> Result<Option<Filter>> {
    Ok(Some(match op {
        "$contains" => Filter::DocumentContains(text.to_string()),
        "$not_contains" => Filter::DocumentNotContains(text.to_string()),
        "$regex" => Filter::DocumentRegex(compile_regex(text)?),
        "$not_regex" => Filter::DocumentNotRegex(compile_regex(text)?),
        _ => return Ok(None),
    }))
}

fn compile_regex(pattern: &str) -> Result<Regex> {
    // The misspelling is Chroma's, kept because clients match on the message.
    Regex::new(pattern).map_err(|e| Error::invalid(format!("Regex syntax errror: {e}")))
}

fn scalar(value: &Value) -> Option<Scalar> {
    match value {
        Value::String(s) => Some(Scalar::Str(s.clone())),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(Scalar::Int(i)),
            // An integer operand beyond i64 is refused, as Chroma refuses it.
            None if n.is_u64() => None,
            None => n.as_f64().map(Scalar::Float),
        },
        _ => None,
    }
}

fn number(value: &Value) -> Option<Scalar> {
    match value {
        Value::Number(_) => scalar(value),
        _ => None,
    }
}

fn same_json_type(a: &Scalar, b: &Scalar) -> bool {
    matches!(
        (a, b),
        (Scalar::Str(_), Scalar::Str(_))
            | (Scalar::Bool(_), Scalar::Bool(_))
            | (
                Scalar::Int(_) | Scalar::Float(_),
                Scalar::Int(_) | Scalar::Float(_)
            )
    )
}

fn scalar_list(value: &Value) -> Option<Vec<Scalar>> {
    let items = value
        .as_array()?
        .iter()
        .map(scalar)
        .collect::<Option<Vec<_>>>()?;
    let first = items.first()?;
    items
        .iter()
        .all(|item| same_json_type(first, item))
        .then_some(items)
}

fn parse_metadata_condition(operand: &Value) -> Result<MetadataOp> {
    if let Some(literal) = scalar(operand) {
        return Ok(MetadataOp::Eq(literal));
    }
    let map = operand.as_object().ok_or_else(invalid_where)?;
    let (op, value) = single_entry(map).ok_or_else(invalid_where)?;
    let parsed = match op.as_str() {
        "$eq" => scalar(value).map(MetadataOp::Eq),
        "$ne" => scalar(value).map(MetadataOp::Ne),
        "$gt" => number(value).map(MetadataOp::Gt),
        "$gte" => number(value).map(MetadataOp::Gte),
        "$lt" => number(value).map(MetadataOp::Lt),
        "$lte" => number(value).map(MetadataOp::Lte),
        "$in" => scalar_list(value).map(MetadataOp::In),
        "$nin" => scalar_list(value).map(MetadataOp::Nin),
        "$contains" => scalar(value).map(MetadataOp::Contains),
        "$not_contains" => scalar(value).map(MetadataOp::NotContains),
        _ => None,
    };
    parsed.ok_or_else(invalid_where)
}

pub fn parse_where_document(value: &Value) -> Result<Filter> {
    let invalid = || Error::invalid(INVALID_WHERE_DOCUMENT);
    let map = value.as_object().ok_or_else(invalid)?;
    let (op, operand) = single_entry(map).ok_or_else(invalid)?;
    match op.as_str() {
        "$and" | "$or" => {
            let children = operand
                .as_array()
                .ok_or_else(invalid)?
                .iter()
                .map(parse_where_document)
                .collect::<Result<Vec<_>>>()?;
            Ok(if op == "$and" {
                Filter::And(children)
            } else {
                Filter::Or(children)
            })
        }
        op => {
            let text = operand.as_str().ok_or_else(invalid)?;
            document_operator(op, text)?.ok_or_else(invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn where_error(value: Value) -> String {
        parse_where(&value).unwrap_err().to_string()
    }

    #[test]
    fn accepts_every_operator_and_shorthand() {
        for clause in [
            json!({"a": 1}),
            json!({"a": "x"}),
            json!({"a": true}),
            json!({"a": 1.5}),
            json!({"a": {"$eq": 1}}),
            json!({"a": {"$ne": "x"}}),
            json!({"a": {"$gt": 1}}),
            json!({"a": {"$gte": 1.5}}),
            json!({"a": {"$lt": -1}}),
            json!({"a": {"$lte": 0}}),
            json!({"a": {"$in": [1, 2]}}),
            json!({"a": {"$in": [1, 2.5]}}),
            json!({"a": {"$nin": ["x"]}}),
            json!({"a": {"$contains": 3}}),
            json!({"a": {"$not_contains": "x"}}),
            json!({"#document": {"$contains": "x"}}),
            json!({"#document": {"$regex": "^x"}}),
            json!({"$and": []}),
            json!({"$or": [{"a": 1}]}),
            json!({"$and": [{"a": 1}, {"$or": [{"b": 2}, {"c": {"$ne": 3}}]}]}),
        ] {
            assert!(parse_where(&clause).is_ok(), "{clause}");
        }
    }

    #[test]
    fn rejects_malformed_clauses_with_chromas_message() {
        for clause in [
            json!([]),
            json!({}),
            json!({"a": 1, "b": 2}),
            json!({"$not": [{"a": 1}]}),
            json!({"$and": {"a": 1}}),
            json!({"a": null}),
            json!({"a": [1]}),
            json!({"a": {}}),
            json!({"a": {"$eq": 1, "$ne": 2}}),
            json!({"a": {"$bogus": 1}}),
            json!({"a": {"$gte": true}}),
            json!({"a": {"$gt": "x"}}),
            json!({"a": {"$eq": [1]}}),
            json!({"a": {"$in": []}}),
            json!({"a": {"$in": [1, true]}}),
            json!({"a": {"$in": 1}}),
            json!({"a": {"$regex": "x"}}),
            json!({"#document": {"$eq": "x"}}),
            json!({"#document": {"$contains": 1}}),
            json!({"a": 9_223_372_036_854_775_808u64}),
        ] {
            assert_eq!(where_error(clause.clone()), INVALID_WHERE, "{clause}");
        }
    }

    #[test]
    fn where_document_grammar() {
        assert!(parse_where_document(&json!({"$contains": "x"})).is_ok());
        assert!(
            parse_where_document(&json!({"$or": [{"$regex": "a"}, {"$not_regex": "b"}]})).is_ok()
        );
        for clause in [
            json!({}),
            json!({"$contains": 1}),
            json!({"$eq": "x"}),
            json!({"$and": "x"}),
            json!({"$contains": "a", "$regex": "b"}),
        ] {
            assert_eq!(
                parse_where_document(&clause).unwrap_err().to_string(),
                INVALID_WHERE_DOCUMENT
            );
        }
        let message = parse_where_document(&json!({"$regex": "("}))
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("Regex syntax errror: "), "{message}");
    }
}
