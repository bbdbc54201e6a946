//! The one source of randomness of the workspace, with two rules.
//!
//! - **Secrets** (media keys, file keys): [`bytes`], from the operating
//!   system's generator, or a [`RandomError`]; never a weaker source.
//! - **Values that only have to vary** (retry jitter, reply and holder ids,
//!   the `X-WECHAT-UIN` header, the simulator's ids): [`varying_u64`],
//!   [`varying_bytes`] and [`unit`](unit()). They come from the same generator;
//!   should it fail, a mix of the clock, a process-wide counter and the
//!   process id stands in, so two draws still differ. Never use them for a
//!   secret.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The operating system's random number generator failed.
///
/// Keys are never made from a weaker source: when this happens there is no
/// key. It is rare (a sandbox without `getrandom(2)` or `/dev/urandom`) and
/// usually permanent, so retrying seldom helps.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomError(#[source] getrandom::Error);

/// `N` random bytes from the operating system, for secrets.
///
/// # Errors
///
/// [`RandomError`] when the generator fails.
///
/// ```
/// let key: [u8; 16] = ilink_crypto::random::bytes()?;
/// # Ok::<(), ilink_crypto::RandomError>(())
/// ```
pub fn bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(RandomError)?;
    Ok(out)
}

/// A random `u64` that only has to vary (not a secret): see the module
/// docs.
#[must_use]
pub fn varying_u64() -> u64 {
    getrandom::u64().unwrap_or_else(|_| mixed())
}

/// `N` random bytes that only have to vary (not a secret).
#[must_use]
pub fn varying_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if getrandom::fill(&mut out).is_err() {
        for chunk in out.chunks_mut(8) {
            let x = mixed().to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
    }
    out
}

/// A number in `0.0..1.0` that only has to vary (jitter).
#[must_use]
pub fn unit() -> f64 {
    // The top 53 bits: every value exact in an f64, never 1.0.
    (varying_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// What stands in when the generator fails: the clock, a counter and the
/// process id through a 64-bit finaliser (splitmix64), so that draws in
/// one nanosecond still differ.
fn mixed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos
        ^ COUNTER.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        ^ (u64::from(std::process::id()) << 32);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_draws_differ() {
        assert_ne!(bytes::<16>().unwrap(), bytes::<16>().unwrap());
        assert_ne!(varying_u64(), varying_u64());
        assert_ne!(varying_bytes::<12>(), varying_bytes::<12>());
    }

    #[test]
    fn the_stand_in_varies_within_one_instant() {
        let draws: std::collections::HashSet<u64> = (0..1000).map(|_| mixed()).collect();
        assert_eq!(draws.len(), 1000);
    }

    #[test]
    fn unit_is_in_the_half_open_interval() {
        for _ in 0..1000 {
            let u = unit();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }
}
