//! Properties: every streaming path agrees with the one-shot functions, and
//! no input makes decryption panic.

use std::io::{self, Read, Write};

use ilink_crypto::{
    DecryptingWriter, Decryptor, EncryptingReader, Encryptor, MediaKey, ciphertext_size, decrypt,
    decrypt_in_place, encrypt,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn key() -> impl Strategy<Value = MediaKey> {
    any::<[u8; 16]>().prop_map(MediaKey::from_bytes)
}

fn plaintext() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..48), vec(any::<u8>(), 0..3000)]
}

/// Chunk sizes, cycled over the input; 0 is allowed (an empty push).
fn chunking() -> impl Strategy<Value = Vec<usize>> {
    vec(prop_oneof![0usize..20, 0usize..700], 1..12)
}

/// Splits `data` into pieces of the given sizes, cycled; an empty piece is
/// never followed by another, so the split always ends.
fn split<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut pieces: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let size = match pieces.last() {
            Some([]) => size.max(1),
            _ => size,
        };
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// A reader that yields at most the next chunk size per read.
struct Trickle<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes[self.next % self.sizes.len()].max(1);
        self.next += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn round_trip(key in key(), plain in plaintext()) {
        let sealed = encrypt(&key, &plain);
        prop_assert_eq!(sealed.len() as u64, ciphertext_size(plain.len() as u64));
        prop_assert_eq!(decrypt(&key, &sealed).unwrap(), plain);
    }

    #[test]
    fn encryptor_matches_one_shot(key in key(), plain in plaintext(), sizes in chunking()) {
        let mut enc = Encryptor::new(&key);
        let mut out = Vec::new();
        for piece in split(&plain, &sizes) {
            enc.update(piece, &mut out);
            // Only whole blocks are ever handed out.
            prop_assert_eq!(out.len() % 16, 0);
            prop_assert_eq!(out.len() as u64, enc.bytes_out());
        }
        prop_assert_eq!(enc.bytes_in(), plain.len() as u64);
        enc.finish(&mut out);
        prop_assert_eq!(out, encrypt(&key, &plain));
    }

    #[test]
    fn decryptor_matches_one_shot(key in key(), plain in plaintext(), sizes in chunking()) {
        let sealed = encrypt(&key, &plain);
        let mut dec = Decryptor::new(&key);
        let mut out = Vec::new();
        for piece in split(&sealed, &sizes) {
            dec.update(piece, &mut out).unwrap();
            prop_assert!(out.len() + 16 <= sealed.len());
        }
        prop_assert_eq!(dec.bytes_in(), sealed.len() as u64);
        dec.finish(&mut out).unwrap();
        prop_assert_eq!(out, plain);
    }

    #[test]
    fn encrypting_reader_matches_one_shot(
        key in key(),
        plain in plaintext(),
        inner_sizes in chunking(),
        read_sizes in vec(1usize..600, 1..12),
    ) {
        let inner = Trickle { data: &plain, sizes: inner_sizes, next: 0 };
        let mut reader = EncryptingReader::new(&key, inner);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 600];
        for &size in read_sizes.iter().cycle() {
            let n = reader.read(&mut buf[..size]).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        // Once finished it stays finished.
        prop_assert_eq!(reader.read(&mut buf).unwrap(), 0);
        prop_assert_eq!(reader.bytes_in(), plain.len() as u64);
        prop_assert_eq!(reader.bytes_out(), out.len() as u64);
        prop_assert_eq!(out, encrypt(&key, &plain));
        prop_assert!(reader.into_inner().data.is_empty());
    }

    #[test]
    fn decrypting_writer_matches_one_shot(key in key(), plain in plaintext(), sizes in chunking()) {
        let sealed = encrypt(&key, &plain);
        let mut writer = DecryptingWriter::new(&key, Vec::new());
        for piece in split(&sealed, &sizes) {
            writer.write_all(piece).unwrap();
        }
        writer.flush().unwrap();
        prop_assert_eq!(writer.bytes_in(), sealed.len() as u64);
        prop_assert_eq!(writer.finish().unwrap(), plain);
    }

    #[test]
    fn garbage_never_panics(key in key(), data in vec(any::<u8>(), 0..200), sizes in chunking()) {
        let one_shot = decrypt(&key, &data);
        let mut buf = data.clone();
        let in_place = decrypt_in_place(&key, &mut buf).map(|len| buf[..len].to_vec());
        prop_assert_eq!(&in_place, &one_shot);

        let mut dec = Decryptor::new(&key);
        let mut out = Vec::new();
        for piece in split(&data, &sizes) {
            dec.update(piece, &mut out).unwrap();
        }
        let streamed = dec.finish(&mut out).map(|()| out);
        prop_assert_eq!(&streamed, &one_shot);

        let mut writer = DecryptingWriter::new(&key, Vec::new());
        for piece in split(&data, &sizes) {
            writer.write_all(piece).unwrap();
        }
        let written = writer.finish();
        prop_assert_eq!(written.is_ok(), one_shot.is_ok());
    }

    #[test]
    fn any_text_parses_or_errs(text in ".{0,60}") {
        let _ = MediaKey::parse(&text);
    }

    #[test]
    fn base64ish_text_parses_or_errs(text in "[A-Za-z0-9+/_=-]{0,48}") {
        if let Ok((key, format)) = MediaKey::parse(&text) {
            prop_assert_eq!(MediaKey::parse(&key.encode(format)), Ok((key, format)));
        }
    }
}
