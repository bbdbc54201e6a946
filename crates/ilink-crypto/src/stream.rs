//! Push-style streaming encryption and decryption in bounded memory.

use std::fmt;

use aes::{Aes128Dec, Aes128Enc};

use crate::ecb::{self, BLOCK, DecryptError};
use crate::key::MediaKey;

/// Encrypts a stream pushed in chunks of any size.
///
/// [`update`](Self::update) appends the ciphertext of every complete block
/// seen so far; [`finish`](Self::finish) appends the padded final block. At
/// most 15 bytes are carried between calls, so memory is bounded by the
/// chunks the caller hands in. The key schedule is worked out once, in
/// [`new`](Self::new).
///
/// ```
/// use ilink_crypto::{Encryptor, MediaKey, encrypt};
///
/// let key = MediaKey::from_bytes([7; 16]);
/// let mut enc = Encryptor::new(&key);
/// let mut out = Vec::new();
/// for chunk in [&b"hello "[..], b"streaming ", b"world"] {
///     enc.update(chunk, &mut out);
/// }
/// enc.finish(&mut out);
/// assert_eq!(out, encrypt(&key, b"hello streaming world"));
/// ```
#[derive(Clone)]
pub struct Encryptor {
    cipher: Aes128Enc,
    carry: [u8; BLOCK],
    carry_len: usize,
    bytes_in: u64,
    bytes_out: u64,
}

impl Encryptor {
    /// Starts encrypting with `key`.
    #[must_use]
    pub fn new(key: &MediaKey) -> Self {
        Self {
            cipher: ecb::enc_cipher(key),
            carry: [0; BLOCK],
            carry_len: 0,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// Takes more plaintext and appends the ciphertext of every block it
    /// completes to `out`; the rest (under 16 bytes) waits for the next call.
    pub fn update(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        self.bytes_in += input.len() as u64;
        if self.carry_len > 0 {
            let take = (BLOCK - self.carry_len).min(input.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&input[..take]);
            self.carry_len += take;
            input = &input[take..];
            if self.carry_len < BLOCK {
                return;
            }
            ecb::encrypt_blocks(&self.cipher, &mut self.carry);
            out.extend_from_slice(&self.carry);
            self.carry_len = 0;
            self.bytes_out += BLOCK as u64;
        }
        let whole = input.len() - input.len() % BLOCK;
        if whole > 0 {
            let start = out.len();
            out.resize(start + whole, 0);
            ecb::encrypt_blocks_b2b(&self.cipher, &input[..whole], &mut out[start..]);
            self.bytes_out += whole as u64;
        }
        let rest = &input[whole..];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carry_len = rest.len();
    }

    /// Appends the final block (the carried bytes and 1 to 16 bytes of
    /// padding) to `out`. The total written is
    /// [`ciphertext_size`](crate::ciphertext_size)`(bytes_in)`.
    pub fn finish(self, out: &mut Vec<u8>) {
        let mut block = ecb::padded_block(&self.carry[..self.carry_len]);
        ecb::encrypt_blocks(&self.cipher, &mut block);
        out.extend_from_slice(&block);
    }

    /// Plaintext bytes taken so far.
    #[must_use]
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Ciphertext bytes appended so far.
    #[must_use]
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }
}

impl fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("bytes_in", &self.bytes_in)
            .field("bytes_out", &self.bytes_out)
            .finish_non_exhaustive()
    }
}

/// Decrypts a stream pushed in chunks of any size.
///
/// [`update`](Self::update) appends the plaintext of every complete block
/// except the last one seen, which may be the padding block;
/// [`finish`](Self::finish) decrypts that block, checks and strips the
/// padding. At most 16 bytes are carried between calls.
///
/// Plaintext handed out before `finish` is not yet known to be good: ECB
/// cannot tell a wrong key until the padding check, and even that misses
/// some errors. Treat the output as provisional until `finish` returns `Ok`.
///
/// ```
/// use ilink_crypto::{Decryptor, MediaKey, encrypt};
///
/// let key = MediaKey::from_bytes([7; 16]);
/// let sealed = encrypt(&key, b"hello streaming world");
/// let mut dec = Decryptor::new(&key);
/// let mut out = Vec::new();
/// for chunk in sealed.chunks(5) {
///     dec.update(chunk, &mut out)?;
/// }
/// dec.finish(&mut out)?;
/// assert_eq!(out, b"hello streaming world");
/// # Ok::<(), ilink_crypto::DecryptError>(())
/// ```
#[derive(Clone)]
pub struct Decryptor {
    cipher: Aes128Dec,
    held: [u8; BLOCK],
    held_len: usize,
    bytes_in: u64,
    bytes_out: u64,
}

impl Decryptor {
    /// Starts decrypting with `key`.
    #[must_use]
    pub fn new(key: &MediaKey) -> Self {
        Self {
            cipher: ecb::dec_cipher(key),
            held: [0; BLOCK],
            held_len: 0,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// Takes more ciphertext and appends the plaintext of every complete
    /// block before the last one to `out`.
    ///
    /// # Errors
    ///
    /// None today: every problem shows at [`finish`](Self::finish). The
    /// `Result` leaves room for early checks (such as a size cap) without a
    /// breaking change.
    pub fn update(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), DecryptError> {
        self.bytes_in += input.len() as u64;
        let total = self.held_len + input.len();
        // Keep the partial block, or the last whole block if there is none.
        let keep = match total % BLOCK {
            0 => total.min(BLOCK),
            partial => partial,
        };
        let mut emit = total - keep;
        if emit == 0 {
            self.held[self.held_len..total].copy_from_slice(input);
            self.held_len = total;
            return Ok(());
        }
        // `emit` is at least one block: first the held bytes, completed
        // from the input, then whole blocks straight from the input.
        if self.held_len > 0 {
            let take = BLOCK - self.held_len;
            self.held[self.held_len..].copy_from_slice(&input[..take]);
            input = &input[take..];
            ecb::decrypt_blocks(&self.cipher, &mut self.held);
            out.extend_from_slice(&self.held);
            self.held_len = 0;
            emit -= BLOCK;
        }
        if emit > 0 {
            let start = out.len();
            out.resize(start + emit, 0);
            ecb::decrypt_blocks_b2b(&self.cipher, &input[..emit], &mut out[start..]);
        }
        let rest = &input[emit..];
        self.held[..rest.len()].copy_from_slice(rest);
        self.held_len = rest.len();
        self.bytes_out = self.bytes_in - keep as u64;
        Ok(())
    }

    /// Decrypts the last block, checks its padding and appends the rest of
    /// the plaintext to `out`.
    ///
    /// # Errors
    ///
    /// [`DecryptError::Empty`] if no ciphertext came at all,
    /// [`DecryptError::NotBlockAligned`] if it stopped inside a block, and
    /// [`DecryptError::BadPadding`] if the padding is invalid (wrong key or
    /// damaged data).
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), DecryptError> {
        self.finish_mut(out)
    }

    /// [`finish`](Self::finish) for owners that cannot give the decryptor
    /// away; it must not be used afterwards.
    pub(crate) fn finish_mut(&mut self, out: &mut Vec<u8>) -> Result<(), DecryptError> {
        if self.bytes_in == 0 {
            return Err(DecryptError::Empty);
        }
        if self.held_len != BLOCK {
            return Err(DecryptError::NotBlockAligned { len: self.bytes_in });
        }
        ecb::decrypt_blocks(&self.cipher, &mut self.held);
        let pad = ecb::padding_len(&self.held).ok_or(DecryptError::BadPadding)?;
        out.extend_from_slice(&self.held[..BLOCK - pad]);
        Ok(())
    }

    /// Ciphertext bytes taken so far.
    #[must_use]
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Plaintext bytes appended so far (not counting the held-back block).
    #[must_use]
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }
}

impl fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decryptor")
            .field("bytes_in", &self.bytes_in)
            .field("bytes_out", &self.bytes_out)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MediaKey {
        MediaKey::from_bytes(*b"0123456789abcdef")
    }

    #[test]
    fn decryptor_holds_back_exactly_one_block() {
        let sealed = ecb::encrypt(&key(), &[1; 40]); // 48 bytes
        let mut dec = Decryptor::new(&key());
        let mut out = Vec::new();
        dec.update(&sealed[..16], &mut out).unwrap();
        assert!(out.is_empty());
        dec.update(&sealed[16..20], &mut out).unwrap();
        assert_eq!(out.len(), 16);
        dec.update(&sealed[20..48], &mut out).unwrap();
        assert_eq!(out.len(), 32);
        assert_eq!(dec.bytes_in(), 48);
        dec.finish(&mut out).unwrap();
        assert_eq!(out, [1; 40]);
    }

    #[test]
    fn decryptor_reports_the_length_seen() {
        let mut dec = Decryptor::new(&key());
        dec.update(&[0; 20], &mut Vec::new()).unwrap();
        assert_eq!(
            dec.finish(&mut Vec::new()),
            Err(DecryptError::NotBlockAligned { len: 20 })
        );
        let dec = Decryptor::new(&key());
        assert_eq!(dec.finish(&mut Vec::new()), Err(DecryptError::Empty));
    }

    #[test]
    fn encryptor_counts_bytes() {
        let mut enc = Encryptor::new(&key());
        let mut out = Vec::new();
        enc.update(&[0; 7], &mut out);
        assert_eq!((enc.bytes_in(), enc.bytes_out()), (7, 0));
        enc.update(&[0; 30], &mut out);
        assert_eq!((enc.bytes_in(), enc.bytes_out()), (37, 32));
        enc.finish(&mut out);
        assert_eq!(out.len(), 48);
    }
}
