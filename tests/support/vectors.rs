//! The Flask-Session 0.8 vectors recorded from the real library (`tests/data/vectors.json`,
//! a copy of the reference vectors), for every test that needs Flask's bytes: one source,
//! never a literal copied into a test.
#![allow(dead_code)]

use std::sync::OnceLock;

use serde_json::Value;

/// `tests/data/vectors.json`, parsed once.
pub fn vectors() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/vectors.json"
        )))
        .expect("tests/data/vectors.json parses")
    })
}

/// The string at a `/`-separated JSON pointer (`/e2e_random_sid/sid`), or a panic naming it.
pub fn text(pointer: &str) -> &'static str {
    vectors()
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("tests/data/vectors.json has no string at {pointer}"))
}

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as Flask-Session stores it (msgpack), in hex.
pub fn permanent_ab_msgpack_hex() -> &'static str {
    text("/e2e_random_sid/serializer_msgpack_hex")
}

/// The same bytes, decoded.
pub fn permanent_ab_msgpack() -> Vec<u8> {
    hex::decode(permanent_ab_msgpack_hex()).expect("hex in vectors.json")
}

/// The session id Flask generated in the recorded run (43 characters).
pub fn flask_sid() -> &'static str {
    text("/e2e_random_sid/sid")
}

/// The store key Flask wrote for [`flask_sid`] (`session:<sid>`).
pub fn flask_store_key() -> &'static str {
    text("/e2e_random_sid/file/store_key")
}

/// The bytes Flask-Session's serializer wrote, in hex: `format` is `msgpack` or `json`,
/// `session` the start of the recorded label (`permanent_session`,
/// `non_permanent_session`, `after_clear_non_permanent`).
pub fn serialized_hex(format: &str, session: &str) -> &'static str {
    let table = vectors()["serializer"][format]
        .as_object()
        .unwrap_or_else(|| panic!("tests/data/vectors.json has no serializer {format}"));
    table
        .iter()
        .find(|(label, _)| label.split(' ').next() == Some(session))
        .and_then(|(_, hex)| hex.as_str())
        .unwrap_or_else(|| panic!("tests/data/vectors.json has no {format} {session}"))
}

/// [`serialized_hex`], decoded.
pub fn serialized(format: &str, session: &str) -> Vec<u8> {
    hex::decode(serialized_hex(format, session)).expect("hex in vectors.json")
}
