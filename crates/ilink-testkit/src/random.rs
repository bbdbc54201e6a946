//! The randomness the simulator mints ids, tokens, keys and CDN parameters
//! from.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Random bytes; the simulator treats a failing OS RNG as fatal for the
/// request, never as a panic.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if getrandom::fill(&mut out).is_err() {
        // Fall back to something unique enough for test ids.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in out.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ (i as u8);
        }
    }
    out
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
