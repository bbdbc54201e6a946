//! Small helpers: time, randomness, client ids.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// A random `u64` (0 if the OS has no randomness, which only costs jitter).
pub(crate) fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// A random number in `0.0..1.0`.
pub(crate) fn random_unit() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A fresh client id like the official client's:
/// `<prefix>:<unix ms>-<8 hex>`.
pub(crate) fn client_id(prefix: &str) -> String {
    format!("{prefix}:{}-{:08x}", now_ms(), random_u64() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_unique_and_shaped() {
        let a = client_id("ilink");
        let b = client_id("ilink");
        assert_ne!(a, b);
        let (prefix, rest) = a.split_once(':').unwrap();
        assert_eq!(prefix, "ilink");
        let (ms, hex) = rest.split_once('-').unwrap();
        assert!(ms.parse::<u64>().is_ok());
        assert_eq!(hex.len(), 8);
        let u = random_unit();
        assert!((0.0..1.0).contains(&u));
    }
}
