//! Integration tests of `ilink-crypto`, in one binary so they link once.

mod keys;
mod oneshot;
mod streaming;
mod upload;

/// Decodes hex written in test vectors.
pub(crate) fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("test vector hex"))
        .collect()
}

/// Encodes bytes as lowercase hex.
pub(crate) fn tohex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of the FIPS-197 appendix C.1 vector and the PKCS#7 vectors.
pub(crate) fn key_000102() -> ilink_crypto::MediaKey {
    ilink_crypto::MediaKey::from_bytes(std::array::from_fn(|i| i as u8))
}
