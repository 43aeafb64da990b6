//! The signed-cookie format of `SESSION_USE_SIGNER`: itsdangerous' `Signer` with HMAC-SHA1,
//! salt `flask-session` and key derivation `hmac`, byte for byte.
//!
//! 1. derived key `DK = HMAC-SHA1(SECRET_KEY, "flask-session")`;
//! 2. `MAC = HMAC-SHA1(DK, sid)`;
//! 3. cookie value = `sid + "." + base64url(MAC)` without padding (27 characters).
//!
//! Verification splits at the last `.`, decodes the signature as leniently as
//! itsdangerous does (standard or URL-safe alphabet, optional `=` padding, unused low
//! bits of the last character ignored, non-ASCII dropped) and compares MACs in constant
//! time (`ring::hmac::verify`). It accepts the newest `SECRET_KEY` and every key of
//! `SECRET_KEY_FALLBACKS`; signing always uses the newest key.

use base64::{
    Engine,
    alphabet::URL_SAFE,
    engine::{
        DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::URL_SAFE_NO_PAD,
    },
};
use ring::hmac;

const SALT: &[u8] = b"flask-session";

/// Decodes signatures with itsdangerous' leniency.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Signs and verifies session ids with a key ring (newest key first).
#[derive(Clone)]
pub struct Signer {
    keys: Vec<hmac::Key>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Signer {
    /// A signer that signs with `secret_key` and also accepts signatures made with any of
    /// `fallbacks` (oldest last, as Flask's `SECRET_KEY_FALLBACKS`).
    pub fn new<S: AsRef<str>>(secret_key: &str, fallbacks: &[S]) -> Self {
        let keys = std::iter::once(secret_key)
            .chain(fallbacks.iter().map(AsRef::as_ref))
            .map(derive_key)
            .collect();
        Signer { keys }
    }

    /// Returns `value.SIGNATURE`, signed with the newest key.
    pub fn sign(&self, value: &str) -> String {
        let mac = hmac::sign(&self.keys[0], value.as_bytes());
        let mut out = String::with_capacity(value.len() + 28);
        out.push_str(value);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(mac.as_ref(), &mut out);
        out
    }

    /// Returns the unsigned value when `signed` carries a valid signature from any key of
    /// the ring, `None` otherwise (no separator, undecodable or wrong signature).
    #[cfg(any(test, feature = "testing"))]
    pub fn unsign<'a>(&self, signed: &'a str) -> Option<&'a str> {
        self.verify(signed).map(|(value, _)| value)
    }

    /// Like [`unsign`](Self::unsign), and also says which key of the ring verified the
    /// signature: `0` for the newest key (`SECRET_KEY`), `n` for the n-th of the fallbacks.
    /// A value verified with a fallback should be signed again with the newest key.
    pub fn verify<'a>(&self, signed: &'a str) -> Option<(&'a str, usize)> {
        let (value, signature) = signed.rsplit_once('.')?;
        let cleaned: String = signature
            .chars()
            .filter(char::is_ascii)
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        let mac = LENIENT.decode(cleaned.trim_end_matches('=')).ok()?;
        self.keys
            .iter()
            .position(|key| hmac::verify(key, value.as_bytes(), &mac).is_ok())
            .map(|index| (value, index))
    }
}

/// `HMAC-SHA1(secret, salt)` as itsdangerous' `key_derivation="hmac"`.
fn derive_key(secret: &str) -> hmac::Key {
    let outer = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let derived = hmac::sign(&outer, SALT);
    hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, derived.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_match_vectors() {
        for (secret, hex) in [
            ("test-secret", "804dbff3c81a70204d52934dfc92280d53bd2bfb"),
            ("another-secret", "8430f1d058bdc0fd1db0a0e97c2f249a63b1a696"),
        ] {
            let outer = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
            let dk = hmac::sign(&outer, SALT);
            let got: String = dk.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex);
        }
    }
}

/// itsdangerous' own signatures and leniency, from the recorded Flask-Session vectors.
#[cfg(test)]
mod flask_vectors;

/// The examples of this module's items, as unit tests (the items are crate-private).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn new_example() {
        use crate::signer::Signer;
        let signer = Signer::new("test-secret", &[] as &[&str]);
        let sid = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        assert_eq!(
            signer.sign(sid),
            format!("{sid}.epC2RSSJLkP1L6dqmDdFEcE3xr8")
        );
        assert_eq!(signer.unsign(&signer.sign(sid)), Some(sid));
    }

    #[test]
    fn verify_example() {
        use crate::signer::Signer;
        let old = Signer::new("old-secret", &[] as &[&str]);
        let rotated = Signer::new("new-secret", &["old-secret"]);
        assert_eq!(rotated.verify(&old.sign("abc")), Some(("abc", 1)));
        assert_eq!(rotated.verify(&rotated.sign("abc")), Some(("abc", 0)));
    }
}
