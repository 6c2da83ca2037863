//! Name rules for collections, tenants and databases, with Chroma's messages.

use std::net::IpAddr;

use crate::error::{Error, Result};

fn plain_name_problem(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    let shape_ok = (3..=512).contains(&bytes.len())
        && bytes.iter().all(allowed)
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric();
    if !shape_ok {
        return Some(format!(
            "Expected a name containing 3-512 characters from [a-zA-Z0-9._-], starting and ending with a character in [a-zA-Z0-9]. Got: {name}"
        ));
    }
    if name.contains("..") {
        return Some(format!(
            "Expected a name that does not contains two consecutive periods (..). Got {name}"
        ));
    }
    if name.parse::<IpAddr>().is_ok() {
        return Some(format!(
            "Expected a name that is not a valid ip address. Got {name}"
        ));
    }
    None
}

/// Checks a collection name; `field` is how the message names the argument (`name`, or
/// `new_name` for a rename).
pub fn check_collection_name(name: &str, field: &str) -> Result<()> {
    let problem = match name.split_once('+') {
        Some(_) if name.len() > 512 => Some(format!(
            "Expected a name containing 3-512 characters. Got: {}",
            name.len()
        )),
        Some((_, rest)) if rest.contains('+') => Some(
            "Expected a name to contain at most one topology:  Got two `+` characters.".to_string(),
        ),
        Some((topology, base)) => plain_name_problem(topology).or_else(|| plain_name_problem(base)),
        _ => plain_name_problem(name),
    };
    match problem {
        Some(problem) => Err(Error::invalid(format!(
            "Validation error: {field}: {problem}"
        ))),
        None => Ok(()),
    }
}

pub fn check_tenant_name(name: &str) -> Result<()> {
    if name.chars().count() < 3 {
        return Err(Error::invalid(format!(
            "Validation error: name: Validation error: length [{{\"value\": String(\"{name}\"), \"min\": Number(3)}}]"
        )));
    }
    Ok(())
}

/// Chroma counts a database name's UTF-8 bytes (a tenant name's characters).
pub fn check_database_name(name: &str) -> Result<()> {
    if name.len() < 3 {
        return Err(Error::invalid(
            "database name must be at least 3 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_names() {
        for good in ["abc", "a.b-c_d", "A1", "abc+def", &"a".repeat(512)] {
            if good.len() >= 3 {
                assert!(check_collection_name(good, "name").is_ok(), "{good}");
            }
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "a..b",
            "1.2.3.4",
            "a b c",
            "a+b+c",
            &"a".repeat(513),
        ] {
            let err = check_collection_name(bad, "name").unwrap_err().to_string();
            assert!(
                err.starts_with("Validation error: name: Expected a name"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn database_names_count_bytes_and_tenant_names_characters() {
        for good in ["abc", "日本", "0\u{80}"] {
            assert!(check_database_name(good).is_ok(), "{good}");
        }
        for bad in ["", "ab", "é"] {
            assert!(check_database_name(bad).is_err(), "{bad}");
        }
        assert!(check_tenant_name("日本").is_err());
        assert!(check_tenant_name("日本語").is_ok());
    }
}
