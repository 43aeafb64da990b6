//! Benchmarks of the session codec: a typical Flask-Login-style session encoded and decoded in
//! both formats, the typed-value conversions, the size measurement an insert makes, and the
//! decoding of 60 000-entry maps of each key kind (linear since the hardening pass), and a
//! session holding one value of 100 B, 4 KB, 64 KB and 1 MB (`session_size`, the sizes of
//! `benches/http/sizes.sh`).
//!
//! Run with `cargo bench --features testing --bench codec` (`cargo bench --bench codec -- decode_60k` for the
//! large maps alone, `-- session_size` for the sized sessions).

use std::hint::black_box;
use std::time::Duration;

use actix_flask_session::SerializationFormat;
use actix_flask_session::Value;
use actix_flask_session::testing::internals::serialization::{
    SessionMap, decode, encode, encoded_len, from_value, to_value,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};

fn typical_session() -> SessionMap {
    vec![
        (Value::from("_permanent"), Value::Boolean(true)),
        (
            Value::from("_user_id"),
            Value::from("8f14e45f-ceea-467f-a0e6-3b9d2c1e1a11"),
        ),
        (Value::from("_fresh"), Value::Boolean(true)),
        (
            Value::from("_flashes"),
            Value::Array(vec![
                Value::Array(vec![Value::from("message"), Value::from("Welcome back!")]),
                Value::Array(vec![
                    Value::from("error"),
                    Value::from("Your card was declined."),
                ]),
            ]),
        ),
        (
            Value::from("csrf_token"),
            Value::from("3f2b1c9a8e7d6c5b4a39281706f5e4d3c2b1a098"),
        ),
        (Value::from("counter"), Value::from(42)),
    ]
}

#[derive(Serialize, Deserialize)]
struct Cart {
    id: u64,
    owner: String,
    items: Vec<(String, u32)>,
    discount: Option<f64>,
}

fn codec(c: &mut Criterion) {
    let session = typical_session();
    for (name, format) in [
        ("msgpack", SerializationFormat::MsgPack),
        ("json", SerializationFormat::Json),
    ] {
        let bytes = encode(&session, format).expect("the session encodes");
        c.bench_function(&format!("encode/{name}"), |b| {
            b.iter(|| encode(black_box(&session), format))
        });
        c.bench_function(&format!("decode/{name}"), |b| {
            b.iter(|| decode(black_box(&bytes), format))
        });
        // What the first insert of a request spends measuring the session for the size cap.
        c.bench_function(&format!("encoded_len/{name}"), |b| {
            b.iter(|| encoded_len(black_box(&session), format))
        });
    }
    // The fallback path: stored JSON read by a msgpack-configured app.
    let json = encode(&session, SerializationFormat::Json).expect("the session encodes");
    c.bench_function("decode/json-with-msgpack-configured", |b| {
        b.iter(|| decode(black_box(&json), SerializationFormat::MsgPack))
    });

    let cart = Cart {
        id: 1234,
        owner: "alice".into(),
        items: vec![("apple".into(), 3), ("pear".into(), 1)],
        discount: Some(0.15),
    };
    let tree = to_value(&cart).expect("the cart converts");
    c.bench_function("to_value/struct", |b| b.iter(|| to_value(black_box(&cart))));
    c.bench_function("from_value/struct", |b| {
        b.iter(|| from_value::<Cart>(black_box(&tree)))
    });
}

/// 60 000-entry maps: integer keys, string keys, and each with one repeated key (the case
/// that was quadratic).
fn large_maps(c: &mut Criterion) {
    const N: u64 = 60_000;
    let ints: SessionMap = (0..N).map(|i| (Value::from(i), Value::from(i))).collect();
    let strings: SessionMap = (0..N)
        .map(|i| (Value::from(format!("k{i}")), Value::from(i)))
        .collect();
    let mut ints_repeat = ints.clone();
    ints_repeat.push((Value::from(0), Value::from(1)));
    let mut strings_repeat = strings.clone();
    strings_repeat.push((Value::from("k0"), Value::from(1)));
    let mut group = c.benchmark_group("decode_60k");
    group.sample_size(20);
    for (name, map) in [
        ("int_keys", &ints),
        ("string_keys", &strings),
        ("int_keys_one_repeat", &ints_repeat),
        ("string_keys_one_repeat", &strings_repeat),
    ] {
        let bytes = encode(map, SerializationFormat::MsgPack).expect("encodes");
        group.bench_function(format!("msgpack/{name}"), |b| {
            b.iter(|| decode(black_box(&bytes), SerializationFormat::MsgPack))
        });
    }
    let json = encode(&strings_repeat, SerializationFormat::Json).expect("encodes");
    group.bench_function("json/string_keys_one_repeat", |b| {
        b.iter(|| decode(black_box(&json), SerializationFormat::Json))
    });
    group.finish();
}

/// The stored sizes of `benches/http/sizes.sh`: 100 B, 4 KB, 64 KB and 1 MB (10^6 bytes, under
/// the 1 MiB `SESSION_MAX_SIZE` default).
const SIZES: [usize; 4] = [100, 4096, 65536, 1_000_000];

/// `{"_permanent": true, "n": 1, "blob": <blob>}` whose msgpack encoding is exactly `total`
/// bytes: the session of `benches/http/sizes.sh` (`growth_seed.py`), with the blob a string
/// (`text`, what Flask sessions mostly hold) or bytes (msgpack bin).
fn sized_session(total: usize, text: bool) -> SessionMap {
    let session = |n: usize| -> SessionMap {
        let pattern = b"abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let blob: Vec<u8> = pattern.iter().copied().cycle().take(n).collect();
        let blob = if text {
            Value::from(String::from_utf8(blob).expect("ASCII"))
        } else {
            Value::Binary(blob)
        };
        vec![
            (Value::from("_permanent"), Value::Boolean(true)),
            (Value::from("n"), Value::from(1)),
            (Value::from("blob"), blob),
        ]
    };
    let empty = encode(&session(0), SerializationFormat::MsgPack).expect("encodes");
    // The blob's header grows with its length (1, 2, 3 or 5 bytes): try each.
    (0..5)
        .filter_map(|extra| total.checked_sub(empty.len() + extra))
        .map(session)
        .find(|s| encoded_len(s, SerializationFormat::MsgPack).ok() == Some(total))
        .expect("a session of that size exists")
}

/// Encode, decode and measure (the size count a load makes for a large session, and the
/// first insert for a small one) of the sized sessions, msgpack.
fn session_sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_size");
    group.measurement_time(Duration::from_secs(3));
    for size in SIZES {
        for (kind, text) in [("str", true), ("bin", false)] {
            let session = sized_session(size, text);
            let bytes = encode(&session, SerializationFormat::MsgPack).expect("encodes");
            assert_eq!(bytes.len(), size);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(format!("encode/{kind}/{size}"), |b| {
                b.iter(|| encode(black_box(&session), SerializationFormat::MsgPack))
            });
            group.bench_function(format!("decode/{kind}/{size}"), |b| {
                b.iter(|| decode(black_box(&bytes), SerializationFormat::MsgPack))
            });
            group.bench_function(format!("encoded_len/{kind}/{size}"), |b| {
                b.iter(|| encoded_len(black_box(&session), SerializationFormat::MsgPack))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, codec, large_maps, session_sizes);
criterion_main!(benches);
