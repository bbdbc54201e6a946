//! Known-answer vectors, padding, edge sizes and damaged ciphertext.

use std::io::{Read, Write};

use ilink_crypto::{
    DecryptError, DecryptingWriter, Decryptor, EncryptingReader, Encryptor, MediaCipher, MediaKey,
    ciphertext_size, decrypt, decrypt_in_place, encrypt, encrypt_in_place,
};

use crate::{key_000102, tohex, unhex};

fn blocks(bytes: &[u8]) -> Vec<[u8; 16]> {
    let (blocks, rest) = bytes.as_chunks::<16>();
    assert!(rest.is_empty());
    blocks.to_vec()
}

/// FIPS-197, appendix C.1 (AES-128).
#[test]
fn fips_197_c1() {
    let cipher = MediaCipher::new(&key_000102());
    let mut data = blocks(&unhex("00112233445566778899aabbccddeeff"));
    cipher.encrypt_blocks(&mut data);
    assert_eq!(
        tohex(data.as_flattened()),
        "69c4e0d86a7b0430d8cdb78070b4c55a"
    );
    cipher.decrypt_blocks(&mut data);
    assert_eq!(
        tohex(data.as_flattened()),
        "00112233445566778899aabbccddeeff"
    );
}

/// NIST SP 800-38A, F.1.1 and F.1.2 (ECB-AES128).
#[test]
fn sp_800_38a_ecb_aes128() {
    let key = MediaKey::from_hex("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
    let plain = "6bc1bee22e409f96e93d7e117393172a\
                 ae2d8a571e03ac9c9eb76fac45af8e51\
                 30c81c46a35ce411e5fbc1191a0a52ef\
                 f69f2445df4f9b17ad2b417be66c3710";
    let sealed = "3ad77bb40d7a3660a89ecaf32466ef97\
                  f5d3d58503b9699de785895a96fdbaaf\
                  43b1cd7f598ece23881b00e3ed030688\
                  7b0c785e27e8ad3f8223207104725dd4";
    let cipher = MediaCipher::new(&key);
    let mut data = blocks(&unhex(plain));
    cipher.encrypt_blocks(&mut data);
    assert_eq!(tohex(data.as_flattened()), sealed);
    cipher.decrypt_blocks(&mut data);
    assert_eq!(tohex(data.as_flattened()), plain);

    // The padded API gives the same blocks followed by one padding block.
    let padded = encrypt(&key, &unhex(plain));
    assert_eq!(tohex(&padded[..64]), sealed);
    assert_eq!(padded.len(), 80);
}

const PKCS7: [(&[u8], &str); 3] = [
    (b"", "954f64f2e4e86e9eee82d20216684899"),
    (b"hello world", "9276fdf384f38518fa6c8310f191678d"),
    (
        b"AAAAAAAAAAAAAAAA",
        "dd4b1a0b47daa7067d0b59d95d58a6ae954f64f2e4e86e9eee82d20216684899",
    ),
];

#[test]
fn pkcs7_vectors_through_every_api() {
    let key = key_000102();
    let cipher = MediaCipher::new(&key);
    for (plain, sealed) in PKCS7 {
        assert_eq!(tohex(&encrypt(&key, plain)), sealed);
        assert_eq!(tohex(&cipher.encrypt(plain)), sealed);

        let mut buf = plain.to_vec();
        encrypt_in_place(&key, &mut buf);
        assert_eq!(tohex(&buf), sealed);

        let mut out = Vec::new();
        let mut enc = Encryptor::new(&key);
        enc.update(plain, &mut out);
        enc.finish(&mut out);
        assert_eq!(tohex(&out), sealed);

        let mut out = Vec::new();
        EncryptingReader::new(&key, plain)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(tohex(&out), sealed);

        let ciphertext = unhex(sealed);
        assert_eq!(decrypt(&key, &ciphertext).unwrap(), plain);
        assert_eq!(cipher.decrypt(&ciphertext).unwrap(), plain);
        let mut buf = ciphertext.clone();
        let len = decrypt_in_place(&key, &mut buf).unwrap();
        assert_eq!(&buf[..len], plain);
        let mut buf = ciphertext.clone();
        let len = cipher.decrypt_in_place(&mut buf).unwrap();
        assert_eq!(&buf[..len], plain);

        let mut out = Vec::new();
        let mut dec = Decryptor::new(&key);
        dec.update(&ciphertext, &mut out).unwrap();
        dec.finish(&mut out).unwrap();
        assert_eq!(out, plain);

        let mut writer = DecryptingWriter::new(&key, Vec::new());
        writer.write_all(&ciphertext).unwrap();
        assert_eq!(writer.finish().unwrap(), plain);
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn edge_sizes() {
    let key = MediaKey::from_bytes(*b"edge-size-key-16");
    for size in [0usize, 1, 15, 16, 17, 31, 32, 33, 1 << 20] {
        let plain = pattern(size);
        let sealed = encrypt(&key, &plain);
        assert_eq!(sealed.len() as u64, ciphertext_size(size as u64), "{size}");
        assert!(sealed.len() > size && sealed.len() <= size + 16);
        assert_eq!(decrypt(&key, &sealed).unwrap(), plain, "{size}");

        let mut buf = plain.clone();
        encrypt_in_place(&key, &mut buf);
        assert_eq!(buf, sealed);
        let len = decrypt_in_place(&key, &mut buf).unwrap();
        assert_eq!(&buf[..len], &plain[..]);

        let mut streamed = Vec::new();
        EncryptingReader::new(&key, plain.as_slice())
            .read_to_end(&mut streamed)
            .unwrap();
        assert_eq!(streamed, sealed, "{size}");
    }
}

#[test]
fn empty_and_truncated_ciphertext() {
    let key = key_000102();
    assert_eq!(decrypt(&key, &[]), Err(DecryptError::Empty));
    assert_eq!(decrypt_in_place(&key, &mut []), Err(DecryptError::Empty));
    let sealed = encrypt(&key, &pattern(100)); // 112 bytes
    for cut in 1..16 {
        let short = &sealed[..sealed.len() - cut];
        let len = short.len() as u64;
        assert_eq!(
            decrypt(&key, short),
            Err(DecryptError::NotBlockAligned { len })
        );
        let mut dec = Decryptor::new(&key);
        let mut out = Vec::new();
        dec.update(short, &mut out).unwrap();
        assert_eq!(
            dec.finish(&mut out),
            Err(DecryptError::NotBlockAligned { len })
        );
        let mut writer = DecryptingWriter::new(&key, Vec::new());
        writer.write_all(short).unwrap();
        let err = writer.finish().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }
    // Cut at a block boundary: ECB cannot always tell, but the result is
    // never the original plaintext.
    for blocks in 1..7 {
        let short = &sealed[..16 * blocks];
        assert_ne!(decrypt(&key, short).ok(), Some(pattern(100)));
    }
    let err = decrypt(&key, &sealed[..7]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ciphertext of 7 bytes is not a whole number of 16-byte blocks"
    );
}

/// Encrypts raw blocks whose final block ends in `tail`, with no padding
/// of our own.
fn raw_with_tail(key: &MediaKey, tail: &[u8]) -> Vec<u8> {
    let mut data = pattern(32);
    let at = data.len() - tail.len();
    data[at..].copy_from_slice(tail);
    let mut blocks = blocks(&data);
    MediaCipher::new(key).encrypt_blocks(&mut blocks);
    blocks.as_flattened().to_vec()
}

#[test]
fn bad_padding_is_rejected_everywhere() {
    let key = key_000102();
    let bad_tails: [&[u8]; 5] = [
        &[0],          // zero
        &[17],         // longer than a block
        &[0xff],       // far longer
        &[2, 3, 3],    // inconsistent
        &[4, 4, 3, 4], // inconsistent in the middle
    ];
    for tail in bad_tails {
        let sealed = raw_with_tail(&key, tail);
        assert_eq!(
            decrypt(&key, &sealed),
            Err(DecryptError::BadPadding),
            "{tail:?}"
        );
        let mut buf = sealed.clone();
        assert_eq!(
            decrypt_in_place(&key, &mut buf),
            Err(DecryptError::BadPadding)
        );
        let mut dec = Decryptor::new(&key);
        let mut out = Vec::new();
        dec.update(&sealed, &mut out).unwrap();
        assert_eq!(dec.finish(&mut out), Err(DecryptError::BadPadding));
        let mut writer = DecryptingWriter::new(&key, Vec::new());
        writer.write_all(&sealed).unwrap();
        let err = writer.finish().unwrap_err();
        let inner = err.get_ref().and_then(|e| e.downcast_ref::<DecryptError>());
        assert_eq!(inner, Some(&DecryptError::BadPadding));
    }
    // Valid edge paddings: one byte of 1, a whole block of 16.
    let sealed = raw_with_tail(&key, &[1]);
    assert_eq!(decrypt(&key, &sealed).unwrap().len(), 31);
    let sealed = raw_with_tail(&key, &[16; 16]);
    assert_eq!(decrypt(&key, &sealed).unwrap(), pattern(16));
    let sealed = raw_with_tail(&key, &[15; 15]);
    assert_eq!(decrypt(&key, &sealed).unwrap(), pattern(17));
}

#[test]
fn wrong_key_is_caught_or_garbled() {
    let plain = pattern(1000);
    let sealed = encrypt(&key_000102(), &plain);
    let other = MediaKey::from_bytes([9; 16]);
    assert_ne!(decrypt(&other, &sealed).ok(), Some(plain));
}

#[test]
fn decrypt_error_converts_to_io_error() {
    let err: std::io::Error = DecryptError::BadPadding.into();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(err.to_string(), DecryptError::BadPadding.to_string());
}
