//! Random bytes from the operating system.

/// The operating system's random number generator failed.
///
/// Keys are never made from a weaker source: when this happens there is no
/// key. It is rare (a sandbox without `getrandom(2)` or `/dev/urandom`) and
/// usually permanent, so retrying seldom helps.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomError(#[source] getrandom::Error);

/// Fills an array with random bytes from the operating system.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(RandomError)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_draws_differ() {
        let a = super::bytes::<16>().unwrap();
        let b = super::bytes::<16>().unwrap();
        assert_ne!(a, b);
    }
}
