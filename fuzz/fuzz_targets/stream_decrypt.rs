//! The streaming decryptor fed in arbitrary chunks agrees with one-shot
//! decryption, for any ciphertext.
#![no_main]

use ilink_crypto::{Decryptor, MediaKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 17 {
        return;
    }
    let key = MediaKey::from_bytes(data[..16].try_into().expect("16 bytes"));
    let step = usize::from(data[16]).max(1);
    let cipher = &data[17..];
    let expected = ilink_crypto::decrypt(&key, cipher);
    let mut dec = Decryptor::new(&key);
    let mut out = Vec::new();
    let mut failed = false;
    for chunk in cipher.chunks(step) {
        if dec.update(chunk, &mut out).is_err() {
            failed = true;
            break;
        }
    }
    let streamed = if failed {
        None
    } else {
        dec.finish(&mut out).ok().map(|()| out)
    };
    match (expected, streamed) {
        (Ok(a), Some(b)) => assert_eq!(a, b),
        (Err(_), None) => {}
        (a, b) => panic!("one-shot {:?} vs streamed {:?}", a.is_ok(), b.is_some()),
    }
});
