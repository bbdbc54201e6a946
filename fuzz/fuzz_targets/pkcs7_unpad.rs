//! Any ciphertext: decryption returns plaintext or a typed error, never a
//! panic; in place and one-shot agree; plaintext re-encrypts to the input.
#![no_main]

use ilink_crypto::MediaKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let key = MediaKey::from_bytes(data[..16].try_into().expect("16 bytes"));
    let cipher = &data[16..];
    let one_shot = ilink_crypto::decrypt(&key, cipher);
    let mut buf = cipher.to_vec();
    let in_place = ilink_crypto::decrypt_in_place(&key, &mut buf).map(|n| buf[..n].to_vec());
    assert_eq!(one_shot.is_ok(), in_place.is_ok());
    if let (Ok(a), Ok(b)) = (&one_shot, &in_place) {
        assert_eq!(a, b);
        assert_eq!(ilink_crypto::encrypt(&key, a), cipher);
    }
});
