//! The upload's first pass: size and MD5.

use std::io::{self, Read};

use ilink_crypto::{HexError, Md5, Md5Digest, PlainInfo, md5, scan};
use proptest::prelude::*;

#[test]
fn scan_reports_size_and_md5() {
    let info = scan(&b""[..]).unwrap();
    assert_eq!(info.size, 0);
    assert_eq!(info.md5.to_hex(), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(info.ciphertext_size(), 16);

    let info = scan(&b"abc"[..]).unwrap();
    assert_eq!(info.size, 3);
    assert_eq!(info.md5.to_string(), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(info, PlainInfo::of(b"abc"));
}

#[test]
fn scan_reads_past_its_buffer() {
    // More than the 256 KiB buffer, not a multiple of it.
    let data: Vec<u8> = (0..600_001u32).map(|i| (i % 253) as u8).collect();
    let info = scan(data.as_slice()).unwrap();
    assert_eq!(info.size, 600_001);
    assert_eq!(info.md5, md5(&data));
    assert_eq!(info.ciphertext_size(), 600_016);
}

/// Interrupts every other read and fails after `fail_at` bytes.
struct Flaky<'a> {
    data: &'a [u8],
    toggle: bool,
    fail_at: Option<usize>,
    read: usize,
}

impl Read for Flaky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.toggle = !self.toggle;
        if self.toggle {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.fail_at.is_some_and(|at| self.read >= at) {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.data.len()).min(1000);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.read += n;
        Ok(n)
    }
}

#[test]
fn scan_retries_interrupts_and_reports_errors() {
    let data = vec![7u8; 5000];
    let flaky = Flaky {
        data: &data,
        toggle: false,
        fail_at: None,
        read: 0,
    };
    assert_eq!(scan(flaky).unwrap(), PlainInfo::of(&data));
    let flaky = Flaky {
        data: &data,
        toggle: false,
        fail_at: Some(2000),
        read: 0,
    };
    assert_eq!(scan(flaky).unwrap_err().to_string(), "disk on fire");
}

#[test]
fn digest_parses_hex() {
    let digest: Md5Digest = "D41D8CD98F00B204E9800998ECF8427E".parse().unwrap();
    assert_eq!(digest, md5(b""));
    assert_eq!(Md5Digest::from_bytes(*digest.as_bytes()), digest);
    assert_eq!(
        "d41d".parse::<Md5Digest>(),
        Err(HexError::Length {
            expected: 32,
            found: 4
        })
    );
    assert!(matches!(
        "x41d8cd98f00b204e9800998ecf8427e".parse::<Md5Digest>(),
        Err(HexError::Char { position: 0, .. })
    ));
}

#[test]
fn hasher_feeds_from_io_copy() {
    let data = vec![1u8; 70_000];
    let mut hasher = Md5::default();
    io::copy(&mut data.as_slice(), &mut hasher).unwrap();
    assert_eq!(hasher.finalize(), md5(&data));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn streaming_md5_matches_one_shot(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        cut in 0usize..2000,
    ) {
        let cut = cut.min(data.len());
        let mut hasher = Md5::new();
        hasher.update(&data[..cut]);
        hasher.update(&data[cut..]);
        prop_assert_eq!(hasher.finalize(), md5(&data));
    }
}
