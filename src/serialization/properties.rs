//! Property tests of what reads untrusted input and what writes the store: the codec (random
//! and mutated inputs in both formats never panic; whatever `encode` writes decodes to the
//! same value; whatever `decode` reads can be written back), the cookie reader and the
//! signer.
//!
//! Each property runs proptest's default 256 cases (the whole file takes a few seconds).
//! For a long run, raise the count: `PROPTEST_CASES=100000 cargo test --release --lib
//! serialization::properties` (see benches/README.md).

use crate::SerializationFormat::{self, Json, MsgPack};
use crate::Value;
use crate::config::SessionConfig;
use crate::cookie::CookieSettings;
use crate::serialization::{
    MAX_DEPTH, check_encodable, decode, encode, encoded_len, timestamp_value,
};
use crate::signer::Signer;
use actix_web::http::header::{COOKIE, HeaderMap, HeaderValue};
use proptest::collection::vec;
use proptest::prelude::*;
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------------
// Value trees

/// Unix seconds Python's `datetime` can hold (years 1 to 9999).
const PY_SECS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

fn timestamp() -> impl Strategy<Value = Value> + Clone {
    (PY_SECS, 0..1_000_000_000i128).prop_map(|(secs, nanos)| {
        let at =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(secs) * 1_000_000_000 + nanos)
                .expect("in range");
        timestamp_value(at)
    })
}

/// Scalars JSON holds as themselves.
fn json_scalar() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::F64),
        ".{0,12}".prop_map(Value::from),
    ]
}

/// Every scalar msgpack stores (floats as float64: float32 is widened on the way).
fn msgpack_scalar() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        4 => json_scalar(),
        1 => any::<f64>().prop_map(Value::F64),
        1 => vec(any::<u8>(), 0..12).prop_map(Value::Binary),
        1 => timestamp(),
        1 => (any::<i8>().prop_filter("not a timestamp", |t| *t != -1), vec(any::<u8>(), 0..12))
            .prop_map(|(ty, data)| Value::Ext(ty, data)),
    ]
}

/// Keys msgpack stores: hashable scalars and tuples of them.
fn msgpack_key() -> impl Strategy<Value = Value> + Clone {
    let hashable = prop_oneof![
        json_scalar(),
        any::<f64>().prop_map(Value::F64),
        vec(any::<u8>(), 0..8).prop_map(Value::Binary),
        timestamp(),
    ];
    prop_oneof![
        4 => hashable.clone(),
        1 => vec(hashable, 0..3).prop_map(Value::Array),
    ]
}

/// Python dict semantics on generated entries: a repeated key keeps only its first entry.
fn unique(entries: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
    let mut out: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        if !out.iter().any(|(seen, _)| *seen == k) {
            out.push((k, v));
        }
    }
    out
}

fn tree(
    leaf: impl Strategy<Value = Value> + Clone + 'static,
    key: impl Strategy<Value = Value> + Clone + 'static,
) -> impl Strategy<Value = Value> {
    leaf.prop_recursive(4, 48, 6, move |inner| {
        let key = key.clone();
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((key.clone(), inner), 0..6).prop_map(|e| Value::Map(unique(e))),
        ]
    })
}

fn session(
    key: impl Strategy<Value = Value> + Clone + 'static,
    value: impl Strategy<Value = Value>,
) -> impl Strategy<Value = Vec<(Value, Value)>> {
    vec((key, value), 0..8).prop_map(unique)
}

fn json_key() -> impl Strategy<Value = Value> + Clone {
    ".{0,8}".prop_map(Value::from)
}

fn json_session() -> impl Strategy<Value = Vec<(Value, Value)>> {
    session(json_key(), tree(json_scalar(), json_key()))
}

fn msgpack_session() -> impl Strategy<Value = Vec<(Value, Value)>> {
    session(msgpack_key(), tree(msgpack_scalar(), msgpack_key()))
}

/// Equality with floats compared bit for bit (NaN is itself, -0.0 is not 0.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => same_entries(x, y),
        _ => a == b,
    }
}

fn same_entries(x: &[(Value, Value)], y: &[(Value, Value)]) -> bool {
    x.len() == y.len()
        && x.iter()
            .zip(y)
            .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
}

/// `depth` arrays around `leaf`.
fn nested(depth: usize, leaf: Value) -> Value {
    (0..depth).fold(leaf, |v, _| Value::Array(vec![v]))
}

/// Whatever `decode` accepted can be written back in msgpack and reads back the same (both
/// decoders only produce values msgpack holds).
fn assert_rewritable(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(map) = decode(bytes, MsgPack) {
        let again = encode(&map, MsgPack).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(encoded_len(&map, MsgPack).ok(), Some(again.len()));
        let reread = decode(&again, MsgPack).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(same_entries(&map, &reread), "{map:?} != {reread:?}");
    }
    // In JSON (which a msgpack input may not fit), what is written reads back; keys and
    // bytes come back as strings.
    if let Ok(map) = decode(bytes, Json)
        && let Ok(again) = encode(&map, Json)
    {
        prop_assert!(decode(&again, Json).is_ok());
    }
    Ok(())
}

/// Mutations of a valid encoding: flip a byte, cut, insert, delete.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let n = bytes.len();
        match *m {
            Mutation::Set(i, b) => bytes[i % n] = b,
            Mutation::Truncate(i) => bytes.truncate(i % n),
            Mutation::Insert(i, b) => bytes.insert(i % (n + 1), b),
            Mutation::Remove(i) => {
                bytes.remove(i % n);
            }
        }
    }
    bytes
}

proptest! {
    #[test]
    fn msgpack_encodings_decode_to_the_same_session(map in msgpack_session()) {
        let bytes = encode(&map, MsgPack).expect("generated sessions are valid");
        prop_assert_eq!(encoded_len(&map, MsgPack).ok(), Some(bytes.len()));
        for preferred in [MsgPack, Json] {
            let decoded = decode(&bytes, preferred).expect("what encode writes decodes");
            prop_assert!(same_entries(&map, &decoded), "{map:?} != {decoded:?}");
        }
    }

    #[test]
    fn json_encodings_decode_to_the_same_session(map in json_session()) {
        let bytes = encode(&map, Json).expect("generated sessions are valid");
        prop_assert_eq!(encoded_len(&map, Json).ok(), Some(bytes.len()));
        for preferred in [Json, MsgPack] {
            let decoded = decode(&bytes, preferred).expect("what encode writes decodes");
            prop_assert!(same_entries(&map, &decoded), "{map:?} != {decoded:?}");
        }
    }

    /// JSON turns keys and bytes into strings and NaN into null: one round trip reaches a
    /// session that then encodes to the same bytes.
    #[test]
    fn json_encoding_is_stable_after_one_round_trip(map in msgpack_session()) {
        if let Ok(bytes) = encode(&map, Json) {
            prop_assert_eq!(encoded_len(&map, Json).ok(), Some(bytes.len()));
            // Keys that stringify alike (`1` and `"1"`) merge on the first read.
            let once = decode(&bytes, Json).expect("what encode writes decodes");
            let bytes = encode(&once, Json).expect("what decode reads encodes");
            let twice = decode(&bytes, Json).expect("what encode writes decodes");
            prop_assert_eq!(encode(&twice, Json).ok(), Some(bytes));
        } else {
            prop_assert!(encoded_len(&map, Json).is_err());
        }
    }

    /// `check_encodable` (what `insert` checks) accepts exactly what `encode` writes, and
    /// what it accepts decodes, at any depth around the format's limit.
    #[test]
    fn check_encodable_agrees_with_encode_and_decode(
        value in tree(msgpack_scalar(), msgpack_key()),
        extra in 0usize..=2,
        msgpack in any::<bool>(),
    ) {
        let format: SerializationFormat = if msgpack { MsgPack } else { Json };
        let value = nested(MAX_DEPTH - 3 + extra, value);
        let map = vec![(Value::from("k"), value.clone())];
        let encoded = encode(&map, format);
        prop_assert_eq!(check_encodable(&value, format).is_ok(), encoded.is_ok());
        if let Ok(bytes) = encoded {
            prop_assert!(decode(&bytes, format).is_ok());
        }
    }

    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in vec(any::<u8>(), 0..256)) {
        assert_rewritable(&bytes)?;
    }

    #[test]
    fn random_json_text_never_panics_the_decoder(text in r#"[{}\[\]":,0-9a-z.eE+\- \\]{0,64}"#) {
        assert_rewritable(text.as_bytes())?;
    }

    #[test]
    fn mutated_msgpack_never_panics_the_decoder(
        map in msgpack_session(),
        mutations in vec(mutation(), 1..4),
    ) {
        let bytes = encode(&map, MsgPack).expect("generated sessions are valid");
        assert_rewritable(&mutate(bytes, &mutations))?;
    }

    #[test]
    fn mutated_json_never_panics_the_decoder(
        map in json_session(),
        mutations in vec(mutation(), 1..4),
    ) {
        let bytes = encode(&map, Json).expect("generated sessions are valid");
        assert_rewritable(&mutate(bytes, &mutations))?;
    }

    /// Deep inputs: nesting right around the limit, in bytes written by hand.
    #[test]
    fn deep_inputs_are_refused_past_the_limit(depth in 0usize..600, leaf in 0usize..4) {
        let leaf_bytes: &[u8] = [&[0xc0][..], &[0xa1, b'x'], &[0xd6, 0xff, 0, 0, 0, 1], &[0x90]][leaf];
        let mut bytes = vec![0x81, 0xa1, b'v'];
        bytes.extend(std::iter::repeat_n(0x91, depth));
        bytes.extend_from_slice(leaf_bytes);
        // An empty array leaf is one more level.
        let levels = depth + usize::from(leaf == 3);
        prop_assert_eq!(decode(&bytes, MsgPack).is_ok(), levels <= MAX_DEPTH);
        prop_assert_eq!(decode(&bytes, Json).is_ok(), levels <= MAX_DEPTH);
        let text = format!("{{\"v\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
        prop_assert_eq!(decode(text.as_bytes(), Json).is_ok(), depth <= MAX_DEPTH);
        prop_assert_eq!(decode(text.as_bytes(), MsgPack).is_ok(), depth <= MAX_DEPTH);
    }
}

// ---------------------------------------------------------------------------------------
// Cookie reader

fn settings() -> CookieSettings {
    CookieSettings::from_config(&SessionConfig::default())
}

fn headers(values: &[Vec<u8>]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for v in values {
        if let Ok(value) = HeaderValue::from_bytes(v) {
            map.append(COOKIE, value);
        }
    }
    map
}

proptest! {
    #[test]
    fn any_cookie_header_reads_without_panic(values in vec(vec(any::<u8>(), 0..64), 0..3)) {
        let _ = settings().read(&headers(&values));
    }

    /// The session cookie is found among other cookies, whatever they hold.
    #[test]
    fn the_session_cookie_is_found_among_others(
        before in vec(("[a-zA-Z0-9_]{1,8}", "[!#-+\\--:<-~]{0,12}"), 0..4),
        after in vec(("[a-zA-Z0-9_]{1,8}", "[!#-+\\--:<-~]{0,12}"), 0..4),
        value in "[!#-+\\--:<-~]{0,43}",
        spaces in 0usize..3,
    ) {
        let pairs = |list: &[(String, String)]| {
            list.iter()
                .filter(|(name, _)| name != "session")
                .map(|(name, v)| format!("{name}={v}"))
                .collect::<Vec<_>>()
        };
        let mut all = pairs(&before);
        all.push(format!("session={}{value}{}", " ".repeat(spaces), " ".repeat(spaces)));
        all.extend(pairs(&after));
        let header = all.join("; ");
        let map = headers(&[header.clone().into_bytes()]);
        let read = settings().read(&map);
        prop_assert_eq!(read.as_deref(), Some(value.as_str()), "{}", header);
    }
}

// ---------------------------------------------------------------------------------------
// Signer

/// Characters of the base64url alphabet that are not `c` nor its standard-alphabet twin.
fn other_b64(c: char, pick: u8) -> char {
    let alphabet: Vec<char> = ('A'..='Z')
        .chain('a'..='z')
        .chain('0'..='9')
        .filter(|&x| x != c)
        .collect();
    alphabet[usize::from(pick) % alphabet.len()]
}

proptest! {
    #[test]
    fn signed_values_verify(secret in ".{1,24}", value in "[^.]{0,64}") {
        let signer = Signer::new(&secret, &[] as &[&str]);
        let signed = signer.sign(&value);
        prop_assert_eq!(signer.unsign(&signed), Some(value.as_str()));
        // An older key of the ring verifies it too; another key does not.
        let rotated = Signer::new("newer", &[secret.as_str()]);
        prop_assert_eq!(rotated.unsign(&signed), Some(value.as_str()));
        let other = Signer::new(&format!("{secret}x"), &[] as &[&str]);
        prop_assert_eq!(other.unsign(&signed), None);
    }

    /// Changing any character of the value, or any fully significant character of the
    /// signature (all but the last, whose low bits itsdangerous ignores), fails.
    #[test]
    fn tampered_signatures_fail(
        secret in ".{1,24}",
        value in "[A-Za-z0-9_-]{1,64}",
        at in any::<usize>(),
        pick in any::<u8>(),
    ) {
        let signer = Signer::new(&secret, &[] as &[&str]);
        let signed = signer.sign(&value);
        let mut chars: Vec<char> = signed.chars().collect();
        let dot = value.chars().count();
        // Positions of the value and of the first 26 signature characters.
        let positions: Vec<usize> = (0..dot).chain(dot + 1..dot + 27).collect();
        let i = positions[at % positions.len()];
        chars[i] = other_b64(chars[i], pick);
        let tampered: String = chars.into_iter().collect();
        prop_assert_eq!(signer.unsign(&tampered), None, "{}", tampered);
    }

    #[test]
    fn any_text_unsigns_without_panic(secret in ".{1,16}", text in ".{0,80}") {
        let signer = Signer::new(&secret, &[] as &[&str]);
        let _ = signer.unsign(&text);
    }
}
