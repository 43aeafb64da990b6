//! Byte-exact vectors for the codec.
//!
//! Every expected byte string below was produced by msgspec 0.22.0 (the encoder Flask-Session
//! 0.8 uses) or copied from `shared/reference/vectors.json`, which is also read directly when
//! it is present next to the repository.

use crate::SerializationFormat::{Json, MsgPack};
use crate::serialization::{
    SessionMap, check_encodable, decode, encode, from_value, timestamp_value, to_value,
    value_as_timestamp,
};
use crate::{SerializationError, Value};
use serde::{Deserialize, Serialize};
use time::macros::datetime;

fn s(text: &str) -> Value {
    Value::from(text)
}

fn unhex(h: &str) -> Vec<u8> {
    hex::decode(h.replace(' ', "")).expect("valid hex in the test")
}

/// Encodes `{"k": v}` in msgpack and returns the hex of `v` alone (after `81 a1 6b`).
fn mp_value_hex(v: Value) -> String {
    let bytes = encode(&[(s("k"), v)], MsgPack).expect("encodes");
    assert_eq!(&bytes[..3], &[0x81, 0xa1, b'k']);
    hex::encode(&bytes[3..])
}

/// Encodes `{"k": v}` in JSON and returns the text of `v` alone.
fn json_value_text(v: Value) -> String {
    let bytes = encode(&[(s("k"), v)], Json).expect("encodes");
    let text = String::from_utf8(bytes).expect("JSON output is UTF-8");
    assert!(text.starts_with("{\"k\":") && text.ends_with('}'), "{text}");
    text["{\"k\":".len()..text.len() - 1].to_owned()
}

/// Asserts both directions for one session: encode gives `hex` and decoding `hex` gives the map.
fn assert_msgpack_vector(map: &SessionMap, hex_bytes: &str) {
    let bytes = encode(map, MsgPack).expect("encodes");
    assert_eq!(hex::encode(&bytes), hex_bytes.replace(' ', ""));
    assert_eq!(&decode(&unhex(hex_bytes), MsgPack).expect("decodes"), map);
    assert_eq!(
        &decode(&unhex(hex_bytes), Json).expect("decodes (fallback)"),
        map
    );
}

fn assert_json_vector(map: &SessionMap, text: &[u8]) {
    let bytes = encode(map, Json).expect("encodes");
    assert_eq!(
        hex::encode(&bytes),
        hex::encode(text),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(&decode(text, Json).expect("decodes"), map);
    assert_eq!(&decode(text, MsgPack).expect("decodes (fallback)"), map);
}

fn is_decode_err<T: std::fmt::Debug>(r: Result<T, SerializationError>) -> bool {
    matches!(r, Err(SerializationError::Decode(_)))
}

fn permanent() -> SessionMap {
    vec![
        (s("_permanent"), Value::Boolean(true)),
        (s("a"), Value::from(1)),
        (s("b"), s("x")),
    ]
}

fn non_permanent() -> SessionMap {
    vec![(s("a"), Value::from(1)), (s("b"), s("x"))]
}

fn cleared() -> SessionMap {
    vec![(s("_permanent"), Value::Boolean(false))]
}

/// The session each `vectors.json` serializer label stands for.
fn session_for_label(label: &str) -> SessionMap {
    if label.starts_with("permanent_session") {
        permanent()
    } else if label.starts_with("non_permanent_session") {
        non_permanent()
    } else if label.starts_with("after_clear_non_permanent") {
        cleared()
    } else {
        panic!("unknown vector label {label:?}: add it to the test")
    }
}

// ----------------------------------------------------------------------------------------
// vectors.json

#[test]
fn serializer_vectors_msgpack() {
    let flask = |session| crate::vectors::serialized_hex("msgpack", session);
    assert_msgpack_vector(&permanent(), flask("permanent_session"));
    assert_msgpack_vector(&non_permanent(), flask("non_permanent_session"));
    assert_msgpack_vector(&cleared(), flask("after_clear_non_permanent"));
}

#[test]
fn serializer_vectors_json() {
    let flask = |session| crate::vectors::serialized("json", session);
    assert_json_vector(&permanent(), &flask("permanent_session"));
    assert_json_vector(&non_permanent(), &flask("non_permanent_session"));
    assert_json_vector(&cleared(), &flask("after_clear_non_permanent"));
}

#[test]
fn vectors_json_file_when_present() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/vectors.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "{} not found; the embedded copies are checked instead",
            path.display()
        );
        return;
    };
    let doc: serde_json::Value = serde_json::from_str(&text).expect("vectors.json parses");
    let mut checked = 0;
    for (format, fmt_name) in [(MsgPack, "msgpack"), (Json, "json")] {
        let table = doc["serializer"][fmt_name]
            .as_object()
            .expect("serializer table");
        for (label, hex_value) in table {
            let hex_value = hex_value.as_str().expect("hex string");
            let map = session_for_label(label);
            assert_eq!(
                hex::encode(encode(&map, format).expect("encodes")),
                hex_value,
                "{label}"
            );
            assert_eq!(
                decode(&unhex(hex_value), format).expect("decodes"),
                map,
                "{label}"
            );
            checked += 1;
        }
    }
    for e2e in ["e2e_random_sid", "e2e_fixed_sid"] {
        let hex_value = doc[e2e]["serializer_msgpack_hex"]
            .as_str()
            .expect("hex string");
        assert_msgpack_vector(&permanent(), hex_value);
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn pickle_migration_vector() {
    // {'_permanent': True, 'legacy': 1}, re-encoded by Flask-Session after a pickle read.
    let map = vec![
        (s("_permanent"), Value::Boolean(true)),
        (s("legacy"), Value::from(1)),
    ];
    assert_msgpack_vector(&map, "82 aa 5f7065726d616e656e74 c3 a6 6c6567616379 01");
}

// ----------------------------------------------------------------------------------------
// msgpack byte rules

#[test]
fn msgpack_ints_smallest_form() {
    let cases: [(Value, &str, &str); 20] = [
        (Value::from(0u64), "00", "0"),
        (Value::from(127u64), "7f", "127"),
        (Value::from(128u64), "cc80", "128"),
        (Value::from(255u64), "ccff", "255"),
        (Value::from(256u64), "cd0100", "256"),
        (Value::from(65535u64), "cdffff", "65535"),
        (Value::from(65536u64), "ce00010000", "65536"),
        (Value::from(4294967295u64), "ceffffffff", "4294967295"),
        (
            Value::from(4294967296u64),
            "cf0000000100000000",
            "4294967296",
        ),
        (Value::from(-1i64), "ff", "-1"),
        (Value::from(-32i64), "e0", "-32"),
        (Value::from(-33i64), "d0df", "-33"),
        (Value::from(-128i64), "d080", "-128"),
        (Value::from(-129i64), "d1ff7f", "-129"),
        (Value::from(-32768i64), "d18000", "-32768"),
        (Value::from(-32769i64), "d2ffff7fff", "-32769"),
        (Value::from(-2147483648i64), "d280000000", "-2147483648"),
        (
            Value::from(-2147483649i64),
            "d3ffffffff7fffffff",
            "-2147483649",
        ),
        (
            Value::from(i64::MIN),
            "d38000000000000000",
            "-9223372036854775808",
        ),
        (
            Value::from(u64::MAX),
            "cfffffffffffffffff",
            "18446744073709551615",
        ),
    ];
    for (v, mp, js) in cases {
        assert_eq!(mp_value_hex(v.clone()), mp, "{v}");
        assert_eq!(json_value_text(v.clone()), js, "{v}");
        let back = decode(&unhex(&format!("81a16b{mp}")), MsgPack).expect("decodes");
        assert_eq!(back, vec![(s("k"), v.clone())]);
        let back = decode(format!("{{\"k\":{js}}}").as_bytes(), Json).expect("decodes");
        assert_eq!(back, vec![(s("k"), v)]);
    }
    // A non-negative integer built from an i64 still takes the unsigned forms.
    assert_eq!(mp_value_hex(Value::from(200i64)), "ccc8");
    assert_eq!(mp_value_hex(Value::from(70000i32)), "ce00011170");
}

#[test]
fn msgpack_floats_are_float64() {
    assert_eq!(mp_value_hex(Value::F64(1.0)), "cb3ff0000000000000");
    assert_eq!(mp_value_hex(Value::F32(1.0)), "cb3ff0000000000000");
    assert_eq!(mp_value_hex(Value::F64(f64::NAN)), "cb7ff8000000000000");
    assert_eq!(mp_value_hex(Value::F64(-0.0)), "cb8000000000000000");
    // A float32 read from msgpack becomes a float64, as in msgspec.
    let map = decode(&unhex("81a161ca3dcccccd"), MsgPack).expect("decodes");
    assert_eq!(map, vec![(s("a"), Value::F64(f64::from(0.1f32)))]);
}

#[test]
fn msgpack_str_lengths() {
    for (len, header) in [
        (0usize, "a0"),
        (31, "bf"),
        (32, "d920"),
        (255, "d9ff"),
        (256, "da0100"),
        (65535, "daffff"),
        (65536, "db00010000"),
    ] {
        let text = "a".repeat(len);
        let got = mp_value_hex(s(&text));
        assert_eq!(&got[..header.len()], header, "len {len}");
        assert_eq!(got.len(), header.len() + 2 * len, "len {len}");
        let bytes = unhex(&format!("81a16b{got}"));
        assert_eq!(
            decode(&bytes, MsgPack).expect("decodes"),
            vec![(s("k"), s(&text))]
        );
    }
}

#[test]
fn msgpack_bin_lengths() {
    for (len, header) in [
        (0usize, "c400"),
        (1, "c401"),
        (255, "c4ff"),
        (256, "c50100"),
        (65535, "c5ffff"),
        (65536, "c600010000"),
    ] {
        let data = vec![b'x'; len];
        let got = mp_value_hex(Value::Binary(data.clone()));
        assert_eq!(&got[..header.len()], header, "len {len}");
        assert_eq!(got.len(), header.len() + 2 * len, "len {len}");
        let bytes = unhex(&format!("81a16b{got}"));
        assert_eq!(
            decode(&bytes, MsgPack).expect("decodes"),
            vec![(s("k"), Value::Binary(data))]
        );
    }
}

#[test]
fn msgpack_array_and_map_headers() {
    let arr = |n: usize| Value::Array(vec![Value::from(0); n]);
    let map = |n: usize| {
        Value::Map(
            (0..n)
                .map(|i| (Value::from(i as u64), Value::from(0)))
                .collect(),
        )
    };
    for (v, header) in [
        (arr(0), "90"),
        (arr(15), "9f"),
        (arr(16), "dc0010"),
        (arr(65535), "dcffff"),
        (arr(65536), "dd00010000"),
        (map(0), "80"),
        (map(15), "8f"),
        (map(16), "de0010"),
        (map(65536), "df00010000"),
    ] {
        assert!(mp_value_hex(v).starts_with(header), "{header}");
    }
}

#[test]
fn nested_values_both_formats() {
    // {'a': [1, [2, {'b': None}], {}], 'c': {'d': True, 'e': False}}
    let map: SessionMap = vec![
        (
            s("a"),
            Value::Array(vec![
                Value::from(1),
                Value::Array(vec![Value::from(2), Value::Map(vec![(s("b"), Value::Nil)])]),
                Value::Map(vec![]),
            ]),
        ),
        (
            s("c"),
            Value::Map(vec![
                (s("d"), Value::Boolean(true)),
                (s("e"), Value::Boolean(false)),
            ]),
        ),
    ];
    assert_msgpack_vector(&map, "82a1619301920281a162c080a16382a164c3a165c2");
    assert_json_vector(
        &map,
        br#"{"a":[1,[2,{"b":null}],{}],"c":{"d":true,"e":false}}"#,
    );
}

#[test]
fn typical_flask_login_session() {
    let map: SessionMap = vec![
        (s("_permanent"), Value::Boolean(true)),
        (s("_user_id"), s("42")),
        (s("_fresh"), Value::Boolean(true)),
        (
            s("_flashes"),
            Value::Array(vec![
                Value::Array(vec![s("message"), s("Logged in")]),
                Value::Array(vec![s("error"), s("x")]),
            ]),
        ),
        (s("csrf_token"), s(&"a".repeat(40))),
        (s("counter"), Value::from(7)),
    ];
    assert_msgpack_vector(
        &map,
        "86aa5f7065726d616e656e74c3a85f757365725f6964a23432a65f6672657368c3a85f666c61736865739292\
         a76d657373616765a94c6f6767656420696e92a56572726f72a178aa637372665f746f6b656ed928\
         61616161616161616161616161616161616161616161616161616161616161616161616161616161\
         a7636f756e74657207",
    );
    assert_json_vector(
        &map,
        br#"{"_permanent":true,"_user_id":"42","_fresh":true,"_flashes":[["message","Logged in"],["error","x"]],"csrf_token":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","counter":7}"#,
    );
}

#[test]
fn non_string_keys_survive_msgpack() {
    // {1: 'a', -2: 'b', 1.5: 'c', None: 'd', b'z': 'e'}
    let map: SessionMap = vec![
        (Value::from(1), s("a")),
        (Value::from(-2), s("b")),
        (Value::F64(1.5), s("c")),
        (Value::Nil, s("d")),
        (Value::Binary(b"z".to_vec()), s("e")),
    ];
    assert_msgpack_vector(&map, "8501a161fea162cb3ff8000000000000a163c0a164c4017aa165");
}

// ----------------------------------------------------------------------------------------
// Timestamps

#[test]
fn timestamps_msgpack_and_json() {
    let cases = [
        (
            datetime!(2024-01-02 03:04:05 UTC),
            "d6ff65937d25",
            "\"2024-01-02T03:04:05Z\"",
        ),
        (
            datetime!(2024-01-02 03:04:05.123456 UTC),
            "d7ff1d6f280065937d25",
            "\"2024-01-02T03:04:05.123456Z\"",
        ),
        (
            datetime!(1969-12-31 23:59:59 UTC),
            "c70cff00000000ffffffffffffffff",
            "\"1969-12-31T23:59:59Z\"",
        ),
        (
            datetime!(1969-12-31 23:59:59.999999 UTC),
            "c70cff3b9ac618ffffffffffffffff",
            "\"1969-12-31T23:59:59.999999Z\"",
        ),
        (
            datetime!(2200-01-01 00:00:00 UTC),
            "d7ff00000001b09e1900",
            "\"2200-01-01T00:00:00Z\"",
        ),
        (
            datetime!(2600-01-01 00:00:00 UTC),
            "c70cff0000000000000004a0fe7280",
            "\"2600-01-01T00:00:00Z\"",
        ),
        (
            datetime!(0001-01-01 00:00:00 UTC),
            "c70cff00000000fffffff1886e0900",
            "\"0001-01-01T00:00:00Z\"",
        ),
        (
            datetime!(9999-12-31 23:59:59.999999 UTC),
            "c70cff3b9ac6180000003afff4417f",
            "\"9999-12-31T23:59:59.999999Z\"",
        ),
    ];
    for (dt, mp, js) in cases {
        let v = timestamp_value(dt);
        assert_eq!(mp_value_hex(v.clone()), mp, "{dt}");
        assert_eq!(json_value_text(v.clone()), js, "{dt}");
        let back = decode(&unhex(&format!("81a16b{mp}")), MsgPack).expect("decodes");
        assert_eq!(back, vec![(s("k"), v.clone())]);
        assert_eq!(value_as_timestamp(&back[0].1), Some(dt));
    }
    // Nanoseconds that are not whole microseconds: 64-bit form, 9 digits in JSON.
    let v = timestamp_value(datetime!(2024-01-02 03:04:05.000000001 UTC));
    assert_eq!(mp_value_hex(v.clone()), "d7ff0000000465937d25");
    assert_eq!(json_value_text(v), "\"2024-01-02T03:04:05.000000001Z\"");
    // The offset is dropped, the instant kept.
    let v = timestamp_value(datetime!(2024-01-02 05:04:05 +02:00));
    assert_eq!(mp_value_hex(v), "d6ff65937d25");
    // A timestamp as a JSON map key is written as RFC 3339.
    let key = timestamp_value(datetime!(2024-01-02 00:00:00 UTC));
    let bytes = encode(&[(key, s("a"))], Json).expect("encodes");
    assert_eq!(bytes, br#"{"2024-01-02T00:00:00Z":"a"}"#);
    assert_eq!(value_as_timestamp(&s("2024-01-02T00:00:00Z")), None);
}

#[test]
fn bad_timestamps_are_refused() {
    // Wrong payload length, and a year Python cannot hold.
    for bad in ["d5ff0000", "c70cff000000007fffffffffffffff"] {
        let bytes = unhex(&format!("81a16b{bad}"));
        assert!(is_decode_err(decode(&bytes, MsgPack)), "{bad}");
        let mut rd = &unhex(bad)[..];
        let v = rmpv::decode::read_value(&mut rd).expect("rmpv reads the extension");
        assert!(check_encodable(&v, MsgPack).is_err());
        assert!(check_encodable(&v, Json).is_err());
        assert!(encode(&[(s("k"), v.clone())], MsgPack).is_err());
        assert!(encode(&[(s("k"), v)], Json).is_err());
    }
}

// ----------------------------------------------------------------------------------------
// JSON byte rules

#[test]
fn json_strings_escape_like_msgspec() {
    let text = "é\u{2028}/<>&\u{0}\u{1f}\u{7f}\"\\\t\n\r\u{8}\u{c} 😀";
    let map = vec![(s("s"), s(text))];
    let want = "{\"s\":\"é\u{2028}/<>&\\u0000\\u001f\u{7f}\\\"\\\\\\t\\n\\r\\b\\f 😀\"}";
    assert_json_vector(&map, want.as_bytes());
}

#[test]
fn json_bytes_floats_and_keys() {
    let map: SessionMap = vec![
        (s("b"), Value::Binary(vec![0x00, 0xff])),
        (s("e"), Value::Binary(vec![])),
        (s("c"), Value::Binary(b"ab".to_vec())),
        (
            s("f"),
            Value::Array(vec![
                Value::F64(1.0),
                Value::F64(0.1),
                Value::F64(-2.5),
                Value::F64(1e100),
                Value::F64(f64::NAN),
                Value::F64(f64::NEG_INFINITY),
            ]),
        ),
    ];
    assert_eq!(
        encode(&map, Json).expect("encodes"),
        br#"{"b":"AP8=","e":"","c":"YWI=","f":[1.0,0.1,-2.5,1e100,null,null]}"#
    );
    // msgspec's float layout (no '+' in exponents), unlike plain serde_json.
    for (f, want) in [
        (1e20, "1e20"),
        (1e16, "1e16"),
        (1e15, "1000000000000000.0"),
        (1e-5, "0.00001"),
        (1e-7, "1e-7"),
        (2.5e-8, "2.5e-8"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
        (9007199254740993.0, "9007199254740992.0"),
        (1e15 + 0.5, "1000000000000000.5"),
    ] {
        assert_eq!(json_value_text(Value::F64(f)), want);
    }
    // Non-string keys are stringified: {1:'a', -2:'b', 1.5:'c', b'z':'e', 2**64-1:'f'}.
    let keys: SessionMap = vec![
        (Value::from(1), s("a")),
        (Value::from(-2), s("b")),
        (Value::F64(1.5), s("c")),
        (Value::Binary(b"z".to_vec()), s("e")),
        (Value::from(u64::MAX), s("f")),
    ];
    assert_eq!(
        encode(&keys, Json).expect("encodes"),
        br#"{"1":"a","-2":"b","1.5":"c","eg==":"e","18446744073709551615":"f"}"#
    );
    let float_keys: SessionMap = vec![
        (Value::F64(f64::NAN), s("a")),
        (Value::F64(f64::INFINITY), s("b")),
        (Value::F64(1e20), s("c")),
        (Value::F64(-0.0), s("d")),
    ];
    assert_eq!(
        encode(&float_keys, Json).expect("encodes"),
        br#"{"nan":"a","inf":"b","1e20":"c","-0.0":"d"}"#
    );
    // msgspec refuses None and bool keys in JSON.
    assert!(encode(&[(Value::Nil, s("d"))], Json).is_err());
    assert!(encode(&[(Value::Boolean(true), s("d"))], Json).is_err());
}

#[test]
fn json_decode_numbers_and_duplicates() {
    let map = decode(
        br#"{"a":1,"b":-2,"c":1.5,"d":1E2,"e":18446744073709551615,"a":3}"#,
        Json,
    )
    .expect("decodes");
    assert_eq!(
        map,
        vec![
            (s("a"), Value::from(3)),
            (s("b"), Value::from(-2)),
            (s("c"), Value::F64(1.5)),
            (s("d"), Value::F64(100.0)),
            (s("e"), Value::from(u64::MAX)),
        ]
    );
    // Whitespace around the object is accepted, as by msgspec.
    assert_eq!(
        decode(b" {\"a\":1} \n", Json).expect("decodes"),
        vec![(s("a"), Value::from(1))]
    );
}

// ----------------------------------------------------------------------------------------
// Decoding failures and fallback

#[test]
fn decode_failures() {
    let mut truncated = crate::vectors::serialized("msgpack", "permanent_session");
    truncated.pop();
    let mut trailing = crate::vectors::serialized("msgpack", "non_permanent_session");
    trailing.push(0xff);
    let cases: [(&str, &[u8]); 12] = [
        ("garbage", b"\xc1\xc1 not a session"),
        ("text", b"hello"),
        ("json array", b"[1,2]"),
        ("json string", b"\"x\""),
        ("json trailing", b"{\"a\":1} x"),
        ("json NaN", b"{\"a\":NaN}"),
        ("msgpack array", &[0x92, 0x01, 0x02]),
        ("msgpack int", &[0x01]),
        ("truncated map", &truncated),
        ("trailing garbage", &trailing),
        ("empty", b""),
        ("pickle", &[0x80, 0x05, 0x95, 0x21, 0x00]),
    ];
    for (name, bytes) in cases {
        assert!(
            is_decode_err(decode(bytes, MsgPack)),
            "{name} (msgpack first)"
        );
        assert!(is_decode_err(decode(bytes, Json)), "{name} (json first)");
    }
    // A map used as a map key cannot be a Python dict key.
    assert!(is_decode_err(decode(&unhex("8181a161a162a178"), MsgPack)));
}

#[test]
fn decode_accepts_the_other_format() {
    let mp = crate::vectors::serialized("msgpack", "permanent_session");
    let js = br#"{"_permanent":true,"a":1,"b":"x"}"#;
    assert_eq!(
        decode(&mp, Json).expect("msgpack read with json configured"),
        permanent()
    );
    assert_eq!(
        decode(js, MsgPack).expect("json read with msgpack configured"),
        permanent()
    );
}

#[test]
fn decode_keeps_python_dict_semantics_for_repeated_keys() {
    // {'a': 1, 'b': 2, 'a': 3} -> {'a': 3, 'b': 2}
    let map = decode(&unhex("83a16101a16202a16103"), MsgPack).expect("decodes");
    assert_eq!(
        map,
        vec![(s("a"), Value::from(3)), (s("b"), Value::from(2))]
    );
}

// ----------------------------------------------------------------------------------------
// Typed values

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    age: Option<u32>,
    nick: Option<String>,
    raw: Vec<u8>,
    big: u64,
    delta: i64,
    ratio: f32,
    tags: Vec<String>,
}

#[test]
fn to_value_from_value_round_trip() {
    let p = Profile {
        name: "Zoë".into(),
        age: Some(41),
        nick: None,
        raw: vec![0, 255],
        big: u64::MAX,
        delta: -129,
        ratio: 0.5,
        tags: vec!["a".into(), "b".into()],
    };
    let v = to_value(&p).expect("to_value");
    let Value::Map(entries) = &v else {
        panic!("a struct becomes a map: {v:?}")
    };
    let keys: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "name", "age", "nick", "raw", "big", "delta", "ratio", "tags"
        ]
    );
    assert_eq!(entries[1].1, Value::from(41));
    assert_eq!(entries[2].1, Value::Nil);
    assert_eq!(
        entries[3].1,
        Value::Array(vec![Value::from(0), Value::from(255)])
    );
    assert_eq!(entries[4].1, Value::from(u64::MAX));
    assert_eq!(entries[5].1, Value::from(-129));
    assert_eq!(entries[6].1, Value::F64(0.5), "f32 becomes F64");
    let back: Profile = from_value(&v).expect("from_value");
    assert_eq!(back, p);

    // Through the wire as well.
    let wire = encode(&[(s("p"), v)], MsgPack).expect("encodes");
    let map = decode(&wire, MsgPack).expect("decodes");
    let again: Profile = from_value(&map[0].1).expect("from_value");
    assert_eq!(again, p);

    // f32 widening is exact.
    assert_eq!(
        to_value(&0.1f32).expect("to_value"),
        Value::F64(f64::from(0.1f32))
    );
    assert_eq!(
        from_value::<f32>(&Value::F64(f64::from(0.1f32))).expect("from_value"),
        0.1f32
    );
    // Scalars and options.
    assert_eq!(to_value(&Some(-5i8)).expect("to_value"), Value::from(-5));
    assert_eq!(to_value(&None::<u8>).expect("to_value"), Value::Nil);
    assert_eq!(
        from_value::<Option<u8>>(&Value::Nil).expect("from_value"),
        None
    );
    assert_eq!(to_value("str").expect("to_value"), s("str"));
    // Values are written on the stack up to 128 bytes and into a growing buffer beyond;
    // both sides of the line (and far past it) come back whole.
    for len in [0, 100, 125, 126, 127, 128, 129, 300, 70_000] {
        let text = "x".repeat(len);
        assert_eq!(to_value(&text).expect("to_value"), s(&text), "len {len}");
        let list: Vec<u32> = (0..len as u32).collect();
        let expected = Value::Array(list.iter().map(|&n| Value::from(n)).collect());
        assert_eq!(to_value(&list).expect("to_value"), expected, "len {len}");
    }
    // A serializer error is reported, whichever buffer was in use.
    struct Refuses(usize);
    impl serde::Serialize for Refuses {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{Error as _, SerializeSeq as _};
            let mut seq = serializer.serialize_seq(None)?;
            for _ in 0..self.0 {
                seq.serialize_element("0123456789")?;
            }
            Err(S::Error::custom("refused on purpose"))
        }
    }
    for items in [0, 50] {
        match to_value(&Refuses(items)) {
            Err(SerializationError::Serialize(e)) => {
                assert!(e.to_string().contains("refused on purpose"), "{e}")
            }
            other => panic!("{items} items: {other:?}"),
        }
    }
    // Wrong shape is a Deserialize error.
    assert!(matches!(
        from_value::<Profile>(&Value::from(3)),
        Err(SerializationError::Deserialize(_))
    ));
}

// ----------------------------------------------------------------------------------------
// check_encodable

#[test]
fn check_encodable_ext_types() {
    let ext = Value::Ext(5, vec![1, 2, 3]);
    assert!(matches!(
        check_encodable(&ext, Json),
        Err(SerializationError::Encode(_))
    ));
    assert!(check_encodable(&ext, MsgPack).is_ok());
    assert_eq!(mp_value_hex(ext.clone()), "c70305010203");
    assert!(encode(&[(s("k"), ext.clone())], Json).is_err());
    // Nested inside an array / map too.
    let nested = Value::Array(vec![Value::Map(vec![(s("x"), ext)])]);
    assert!(check_encodable(&nested, Json).is_err());
    assert!(check_encodable(&nested, MsgPack).is_ok());
    // The timestamp is fine in both.
    let ts = timestamp_value(datetime!(2024-01-02 03:04:05 UTC));
    assert!(check_encodable(&ts, Json).is_ok());
    assert!(check_encodable(&ts, MsgPack).is_ok());
    // JSON cannot hold non-scalar keys.
    let array_key = Value::Map(vec![(Value::Array(vec![Value::from(1)]), s("v"))]);
    assert!(check_encodable(&array_key, Json).is_err());
    assert!(check_encodable(&array_key, MsgPack).is_ok());
    let int_key = Value::Map(vec![(Value::from(1), s("v"))]);
    assert!(check_encodable(&int_key, Json).is_ok());
}
