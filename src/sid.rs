//! Session ids: `secrets.token_urlsafe(SESSION_ID_LENGTH)`, as Flask-Session makes them.
//!
//! An id is `n` random bytes from the operating system's CSPRNG, base64url-encoded
//! without padding, so it is ⌈4n/3⌉ characters of `A-Z a-z 0-9 - _` (43 for the default
//! 32 bytes). Cookies are checked against that shape before any store access.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{TryRngCore, rngs::OsRng};

/// The operating system's random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomnessError(#[source] rand::rand_core::OsError);

/// Makes a fresh session id from `id_length` random bytes.
#[cfg(any(test, feature = "testing"))]
pub fn generate(id_length: usize) -> Result<String, RandomnessError> {
    let mut sid = String::with_capacity(encoded_len(id_length));
    generate_into(&mut sid, id_length)?;
    Ok(sid)
}

/// Appends a fresh id made from `id_length` random bytes to `out` (a storage key being
/// built, say); `out` is left as it was when the generator fails.
pub(crate) fn generate_into(out: &mut String, id_length: usize) -> Result<(), RandomnessError> {
    // Ids of up to 64 bytes (the usual 32 included) are drawn into a buffer on the stack.
    let mut small = [0u8; 64];
    let mut large = Vec::new();
    let bytes = match small.get_mut(..id_length) {
        Some(bytes) => bytes,
        None => {
            large.resize(id_length, 0);
            &mut large[..]
        }
    };
    OsRng.try_fill_bytes(bytes).map_err(RandomnessError)?;
    URL_SAFE_NO_PAD.encode_string(bytes, out);
    Ok(())
}

/// Encodes raw bytes the way `token_urlsafe` does (base64url, no padding).
#[cfg(test)]
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The length in characters of an id made from `id_length` bytes: ⌈4n/3⌉.
pub(crate) fn encoded_len(id_length: usize) -> usize {
    (id_length * 4).div_ceil(3)
}

/// Whether `sid` has exactly the shape of an id this configuration issues: the right
/// length and only base64url characters.
pub fn is_well_formed(sid: &str, id_length: usize) -> bool {
    sid.len() == encoded_len(id_length) && sid.bytes().all(|b| BASE64URL[usize::from(b)])
}

/// Which bytes are base64url characters (`A-Z a-z 0-9 - _`): one lookup per byte of a
/// cookie that is checked on every request.
const BASE64URL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_token_urlsafe() {
        for (n, len) in [
            (1, 2),
            (8, 11),
            (16, 22),
            (24, 32),
            (32, 43),
            (48, 64),
            (64, 86),
            (65, 87),
            (256, 342),
        ] {
            assert_eq!(encoded_len(n), len, "n = {n}");
            let sid = generate(n).unwrap();
            assert_eq!(sid.len(), len, "n = {n}");
            assert!(is_well_formed(&sid, n), "n = {n}: {sid}");
        }
    }

    #[test]
    fn shape_check_rejects_wrong_alphabet_and_length() {
        let good = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        assert!(is_well_formed(good, 32));
        assert!(!is_well_formed(&good[1..], 32));
        assert!(!is_well_formed(&format!("{good}A"), 32));
        assert!(!is_well_formed(&good.replace('A', "+"), 32));
        assert!(!is_well_formed(&good.replace('A', "."), 32));
        assert!(!is_well_formed("", 32));
        let non_ascii = format!("é{}", &good[2..]);
        assert_eq!(non_ascii.len(), 43);
        assert!(!is_well_formed(&non_ascii, 32));
    }

    #[test]
    fn ids_differ() {
        assert_ne!(generate(32).unwrap(), generate(32).unwrap());
    }
}

/// The examples of this module's items, as unit tests (the items are crate-private).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn generate_example() {
        let sid = crate::sid::generate(32).unwrap();
        assert_eq!(sid.len(), 43);
        assert!(crate::sid::is_well_formed(&sid, 32));
    }

    #[test]
    fn encode_example() {
        let bytes: Vec<u8> = (0u8..32).collect();
        assert_eq!(
            crate::sid::encode(&bytes),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
        );
    }
}
