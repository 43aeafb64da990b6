//! Every signing and session-id vector made with the real Flask-Session 0.8.0
//! (`tests/data/vectors.json`, a copy of the reference vectors).

use crate::signer::Signer;
use serde_json::Value;

fn vectors() -> Value {
    crate::vectors::vectors().clone()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_str()
        .unwrap_or_else(|| panic!("no string at {path:?}"))
}

#[test]
fn signatures_match_itsdangerous() {
    let v = vectors();
    let cases = v["signatures"]["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    for case in cases {
        let signer = Signer::new(str_at(case, &["secret_key"]), &[] as &[&str]);
        let sid = str_at(case, &["sid"]);
        let signed = str_at(case, &["signed"]);
        assert_eq!(signer.sign(sid), signed);
        assert_eq!(signer.unsign(signed), Some(sid));
    }
}

#[test]
fn verification_is_as_lenient_as_itsdangerous_and_no_more() {
    let v = vectors();
    let leniency = v["signatures"]["leniency"].as_object().expect("leniency");
    assert_eq!(leniency.len(), 9);
    for (name, case) in leniency {
        let value = str_at(case, &["value"]);
        let secret = case["secret_key"].as_str().unwrap_or("test-secret");
        let got = Signer::new(secret, &[] as &[&str]).unsign(value);
        if case["accepted"].as_bool() == Some(true) {
            assert_eq!(
                got,
                Some(str_at(case, &["unsigned"])),
                "{name} must be accepted"
            );
        } else {
            assert_eq!(got, None, "{name} must be rejected");
        }
    }
}

#[test]
fn live_cookies_verify() {
    let v = vectors();
    for run in ["e2e_random_sid", "e2e_fixed_sid"] {
        let signer = Signer::new("test-secret", &[] as &[&str]);
        let cookie = str_at(&v, &[run, "cookie_value"]);
        let sid = str_at(&v, &[run, "sid"]);
        assert_eq!(signer.sign(sid), cookie, "{run}");
        assert_eq!(signer.unsign(cookie), Some(sid), "{run}");
        assert_eq!(str_at(&v, &[run, "signature_b64"]).len(), 27);
        let header = str_at(&v, &[run, "set_cookie_header"]);
        assert!(
            header.starts_with(&format!("session={cookie}; ")),
            "{header}"
        );
        assert_eq!(sid.len() as u64, v[run]["sid_len"].as_u64().unwrap_or(0));
        assert!(crate::sid::is_well_formed(sid, 32));
    }
}

#[test]
fn fallback_keys_verify_and_newest_signs() {
    let sid = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let rotated = Signer::new("another-secret", &["test-secret"]);
    let old_cookie = format!("{sid}.epC2RSSJLkP1L6dqmDdFEcE3xr8");
    assert_eq!(rotated.unsign(&old_cookie), Some(sid));
    assert_eq!(
        rotated.sign(sid),
        format!("{sid}.VKC_w0tudxCRRdHK_vWDqynd1Bg")
    );
    assert_eq!(
        Signer::new("unrelated", &["also-unrelated"]).unsign(&old_cookie),
        None
    );
}

#[test]
fn sid_from_fixed_bytes() {
    let v = vectors();
    let bytes: Vec<u8> = (0u8..32).collect();
    assert_eq!(
        crate::sid::encode(&bytes),
        str_at(&v, &["signatures", "sid_from_bytes_0_31"])
    );
}

#[test]
fn storage_key_is_prefix_plus_unsigned_sid() {
    let v = vectors();
    let interface = crate::ServerSideSessionInterface::new(
        crate::backends::cachelib::CacheLibSessionInterface::new(
            crate::backends::cachelib::SimpleCache::new(10),
        ),
        crate::SessionConfig::default(),
    )
    .expect("interface");
    for run in ["e2e_random_sid", "e2e_fixed_sid"] {
        assert_eq!(
            interface.storage_key(str_at(&v, &[run, "sid"])),
            str_at(&v, &[run, "file", "store_key"])
        );
    }
}
