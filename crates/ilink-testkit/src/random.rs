//! The ids, tokens, keys and CDN parameters the simulator mints, from
//! `ilink_crypto::random`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Random bytes for ids and parameters (they only have to vary), from the
/// workspace's one source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    ilink_crypto::random::varying_bytes()
}

/// `N` random bytes as lowercase hex.
pub(crate) fn random_hex<const N: usize>() -> String {
    hex(&random_bytes::<N>())
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// `N` random bytes in standard base64 (CDN parameters, typing tickets).
pub(crate) fn random_base64<const N: usize>() -> String {
    STANDARD.encode(random_bytes::<N>())
}
