//! Micro-benchmarks of the cookie path: session id generation (`token_urlsafe(32)`),
//! signing an id (itsdangerous HMAC-SHA1, salt `flask-session`) and verifying a signed
//! cookie (good and tampered).
//!
//! Run with `cargo bench --features testing --bench cookie` (the feature opens the
//! crate's internals to the benchmarks).

use std::hint::black_box;

use actix_flask_session::testing::internals::sid;
use actix_flask_session::testing::internals::signer::Signer;
use criterion::{Criterion, criterion_group, criterion_main};

/// The sid of `tests/data/vectors.json` (`token_urlsafe` of the bytes 0x00..0x1f).
const SID: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const SIGNED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8.epC2RSSJLkP1L6dqmDdFEcE3xr8";

fn benches(c: &mut Criterion) {
    let signer = Signer::new("test-secret", &[] as &[&str]);
    assert_eq!(signer.sign(SID), SIGNED, "spec vector");
    let rotated = Signer::new("new-secret", &["test-secret"]);
    let tampered = format!("{}x", &SIGNED[..SIGNED.len() - 1]);

    c.bench_function("sid/generate_32_bytes", |b| {
        b.iter(|| sid::generate(black_box(32)).map(|s| s.len()).unwrap_or(0))
    });
    c.bench_function("sid/is_well_formed", |b| {
        b.iter(|| sid::is_well_formed(black_box(SID), 32))
    });
    c.bench_function("signer/sign", |b| b.iter(|| signer.sign(black_box(SID))));
    c.bench_function("signer/verify_good", |b| {
        b.iter(|| signer.unsign(black_box(SIGNED)).is_some())
    });
    c.bench_function("signer/verify_tampered", |b| {
        b.iter(|| signer.unsign(black_box(&tampered)).is_some())
    });
    c.bench_function("signer/verify_with_fallback_key", |b| {
        b.iter(|| rotated.unsign(black_box(SIGNED)).is_some())
    });
}

criterion_group!(cookie, benches);
criterion_main!(cookie);
