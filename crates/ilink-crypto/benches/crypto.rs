//! Throughput of the media crypto, without a benchmark framework.
//!
//! ```text
//! cargo bench -p ilink-crypto --bench crypto                 # in-memory figures
//! ILINK_BENCH_FILE=/tmp/big cargo bench -p ilink-crypto --bench crypto
//! cargo bench -p ilink-crypto --bench crypto -- --file /tmp/big
//! cargo bench -p ilink-crypto --bench crypto -- --only md5   # one figure
//! ```
//!
//! Each in-memory figure is the mean over 3 seconds of work on one 16 KiB
//! buffer, as `openssl speed -bytes 16384 -seconds 3` measures; the file
//! pipeline is the best of three runs. Figures are printed as `name MB/s`
//! lines and, at the end, as `key=value` lines that
//! `crates/ilink-proof/scripts/bench-crypto.sh` reads.

use std::fs::File;
use std::hint::black_box;
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ilink_crypto::{Decryptor, EncryptingReader, Encryptor, Md5, MediaCipher, MediaKey, scan};

/// Buffer size of the in-memory figures, as in `openssl speed -bytes 16384`.
const BUF: usize = 16 * 1024;
/// Seconds each in-memory figure runs, as `openssl speed -seconds 3`.
const SECONDS: f64 = 3.0;
/// Read size of the file pipeline.
const CHUNK: usize = 256 * 1024;

/// The in-memory figures, by name.
const FIGURES: [&str; 5] = [
    "aes_ecb_encrypt_in_place",
    "aes_ecb_decrypt_in_place",
    "encryptor_update",
    "decryptor_update",
    "md5",
];

fn main() {
    let mut file = std::env::var_os("ILINK_BENCH_FILE").map(PathBuf::from);
    let mut only: Option<String> = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--file" {
            file = args.next().map(PathBuf::from);
        } else if arg == "--only" {
            only = args.next().and_then(|name| name.into_string().ok());
        } else if arg == "--bench" {
            // Added by `cargo bench`.
        } else {
            file = Some(PathBuf::from(arg));
        }
    }
    if let Some(name) = &only
        && name != "none"
        && !FIGURES.contains(&name.as_str())
    {
        eprintln!("unknown figure {name:?}; one of {FIGURES:?} or none");
        std::process::exit(2);
    }

    let key = MediaKey::from_bytes(*b"benchmark key 16");
    let results: Vec<(&str, f64)> = FIGURES
        .iter()
        .filter(|name| only.as_deref().is_none_or(|only| only == **name))
        .map(|&name| (name, figure(name, &key)))
        .collect();
    for (name, value) in &results {
        println!("{name:28} {value:>10.1} MB/s");
    }

    if let Some(path) = file
        && let Err(err) = pipeline(&key, &path)
    {
        eprintln!("file pipeline on {}: {err}", path.display());
        std::process::exit(1);
    }
    for (name, value) in &results {
        println!("{name}_mb_s={value:.1}");
    }
}

/// Measures one in-memory figure.
fn figure(name: &str, key: &MediaKey) -> f64 {
    let cipher = MediaCipher::new(key);
    let mut buf = vec![0x5au8; BUF];
    let input = vec![0xa5u8; BUF];
    let mut out = Vec::with_capacity(BUF + 16);
    match name {
        "aes_ecb_encrypt_in_place" => mb_per_s(|| {
            let (blocks, _) = buf.as_chunks_mut::<16>();
            cipher.encrypt_blocks(blocks);
            black_box(&buf);
        }),
        "aes_ecb_decrypt_in_place" => mb_per_s(|| {
            let (blocks, _) = buf.as_chunks_mut::<16>();
            cipher.decrypt_blocks(blocks);
            black_box(&buf);
        }),
        "encryptor_update" => {
            let mut enc = Encryptor::new(key);
            mb_per_s(|| {
                out.clear();
                enc.update(&input, &mut out);
                black_box(&out);
            })
        }
        "decryptor_update" => {
            let mut dec = Decryptor::new(key);
            mb_per_s(|| {
                out.clear();
                dec.update(&input, &mut out).expect("update does not fail");
                black_box(&out);
            })
        }
        _ => {
            let mut hasher = Md5::new();
            let speed = mb_per_s(|| hasher.update(black_box(&input)));
            black_box(hasher.finalize());
            speed
        }
    }
}

/// Calls `op` (which processes one `BUF`-sized buffer) for a quarter of
/// a second to warm up, then for `SECONDS`, and returns the mean
/// throughput in MB/s (10^6 bytes), as `openssl speed -seconds` does.
fn mb_per_s(mut op: impl FnMut()) -> f64 {
    let run = |op: &mut dyn FnMut(), seconds: f64| {
        let start = Instant::now();
        let mut calls = 0u64;
        loop {
            for _ in 0..64 {
                op();
            }
            calls += 64;
            let elapsed = start.elapsed().as_secs_f64();
            if elapsed >= seconds {
                return (calls * BUF as u64) as f64 / 1e6 / elapsed;
            }
        }
    };
    run(&mut op, 0.25);
    run(&mut op, SECONDS)
}

/// The upload pipeline over a file: pass 1 size and MD5, pass 2 the
/// ciphertext drained to a sink. Best of three runs.
fn pipeline(key: &MediaKey, path: &std::path::Path) -> io::Result<()> {
    let mut best: Option<(Duration, Duration)> = None;
    let mut size = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let info = scan(File::open(path)?)?;
        let pass1 = start.elapsed();

        let start = Instant::now();
        let mut reader = EncryptingReader::new(key, File::open(path)?);
        let mut storage = vec![0u8; CHUNK + 4096];
        let buf = page_aligned(&mut storage, CHUNK);
        let mut sent = 0u64;
        loop {
            match reader.read(buf) {
                Ok(0) => break,
                Ok(n) => sent += black_box(&buf[..n]).len() as u64,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        let pass2 = start.elapsed();
        assert_eq!(sent, info.ciphertext_size(), "ciphertext size");
        size = info.size;
        if best.is_none_or(|(a, b)| pass1 + pass2 < a + b) {
            best = Some((pass1, pass2));
        }
    }
    let Some((pass1, pass2)) = best else {
        return Ok(());
    };
    let mb = size as f64 / 1e6;
    let total = pass1 + pass2;
    println!(
        "file pipeline ({size} bytes): md5 pass {:.3} s ({:.1} MB/s), encrypt pass {:.3} s ({:.1} MB/s), total {:.3} s ({:.1} MB/s)",
        pass1.as_secs_f64(),
        mb / pass1.as_secs_f64(),
        pass2.as_secs_f64(),
        mb / pass2.as_secs_f64(),
        total.as_secs_f64(),
        mb / total.as_secs_f64(),
    );
    println!("file_bytes={size}");
    println!("file_md5_pass_s={:.3}", pass1.as_secs_f64());
    println!("file_encrypt_pass_s={:.3}", pass2.as_secs_f64());
    println!("file_total_s={:.3}", total.as_secs_f64());
    Ok(())
}

/// A page-aligned window of `len` bytes in `storage` (`len + 4096` long):
/// a buffer 16 bytes into a page, where glibc puts large allocations, makes
/// the kernel's copy out of the page cache several times slower on some x86
/// CPUs.
fn page_aligned(storage: &mut [u8], len: usize) -> &mut [u8] {
    let offset = storage.as_ptr().align_offset(4096).min(4096);
    &mut storage[offset..offset + len]
}
