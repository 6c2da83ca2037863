//! `where` / `where_document` text as the binding and the server receive it: JSON text,
//! parsed, then turned into a filter tree. Any input must give a filter or an error.
#![no_main]

use azurite_core::filter::{parse_where, parse_where_document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = parse_where(&value);
        let _ = parse_where_document(&value);
    }
});
