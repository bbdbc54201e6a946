//! Prepares a file for upload the way a client does, in bounded memory:
//! pass 1 computes its size and MD5, pass 2 streams its ciphertext to a
//! sink (`/dev/null` unless an output path is given).
//!
//! ```text
//! cargo run --release -p ilink-crypto --example encrypt_file -- FILE [OUT]
//! cargo run --release -p ilink-crypto --example encrypt_file -- --scan-only FILE
//! /usr/bin/time -v target/release/examples/encrypt_file FILE   # peak RSS
//! ```
//!
//! It prints one `key=value` line per figure, peak RSS (`VmHWM`) included.
//! `--scan-only` stops after pass 1, to time the MD5 pass alone.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use ilink_crypto::{EncryptingReader, MediaKey, scan};

/// Read size of pass 2, the same as the one `scan` uses.
const CHUNK: usize = 256 * 1024;

fn main() -> ExitCode {
    let mut args: Vec<_> = std::env::args_os().skip(1).collect();
    let scan_only = args.first().is_some_and(|arg| arg == "--scan-only");
    if scan_only {
        args.remove(0);
    }
    let (input, output) = match args.as_slice() {
        [input] => (input.clone(), "/dev/null".into()),
        [input, output] => (input.clone(), output.clone()),
        _ => {
            eprintln!("usage: encrypt_file [--scan-only] FILE [OUT]");
            return ExitCode::from(2);
        }
    };
    match run(input.as_ref(), output.as_ref(), scan_only) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("encrypt_file: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &Path, output: &Path, scan_only: bool) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let info = scan(File::open(input)?)?;
    let scanned = start.elapsed();
    let mb = info.size as f64 / 1e6;
    println!("size={}", info.size);
    println!("md5={}", info.md5);
    println!("ciphertext_size={}", info.ciphertext_size());
    println!("scan_s={:.3}", scanned.as_secs_f64());
    println!("scan_mb_s={:.1}", mb / scanned.as_secs_f64());

    if !scan_only {
        let key = MediaKey::generate()?;
        let mut reader = EncryptingReader::new(&key, File::open(input)?);
        let mut sink = File::create(output)?;
        let mut storage = vec![0u8; CHUNK + 4096];
        let buf = page_aligned(&mut storage, CHUNK);
        let pass2 = Instant::now();
        loop {
            let n = match reader.read(buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err.into()),
            };
            sink.write_all(&buf[..n])?;
        }
        sink.flush()?;
        let encrypted = pass2.elapsed();
        if reader.bytes_out() != info.ciphertext_size() {
            return Err(format!(
                "wrote {} bytes of ciphertext, expected {}",
                reader.bytes_out(),
                info.ciphertext_size()
            )
            .into());
        }
        println!("encrypt_s={:.3}", encrypted.as_secs_f64());
        println!("encrypt_mb_s={:.1}", mb / encrypted.as_secs_f64());
        println!("total_s={:.3}", start.elapsed().as_secs_f64());
    }
    if let Some(kib) = peak_rss_kib() {
        println!("vm_hwm_kib={kib}");
    }
    Ok(())
}

/// Peak resident set size from `/proc/self/status`, on Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A page-aligned window of `len` bytes in `storage` (`len + 4096` long):
/// a buffer 16 bytes into a page, where glibc puts large allocations, makes
/// the kernel's copy out of the page cache several times slower on some x86
/// CPUs.
fn page_aligned(storage: &mut [u8], len: usize) -> &mut [u8] {
    let offset = storage.as_ptr().align_offset(4096).min(4096);
    &mut storage[offset..offset + len]
}
