//! AES-128-ECB with PKCS#7 padding: the CDN's media encryption, one-shot.
//!
//! Every bulk operation hands the whole run of blocks to the `aes` crate at
//! once, so its AES-NI backend can keep eight blocks in flight.

use std::fmt;

use aes::cipher::consts::U16;
use aes::cipher::inout::InOutBuf;
use aes::cipher::{BlockDecrypt, BlockEncrypt, BlockSizeUser, KeyInit};
use aes::{Aes128, Aes128Dec, Aes128Enc};

use crate::key::MediaKey;

/// AES block size in bytes.
pub(crate) const BLOCK: usize = 16;

/// Ciphertext could not be decrypted.
///
/// ECB has no integrity check: a wrong key or corrupted data is noticed
/// only when the final block does not end in valid padding, and not always
/// then. The message never includes the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// No ciphertext at all; even empty plaintext encrypts to one block.
    #[error("ciphertext is empty")]
    Empty,
    /// The ciphertext ended inside a block: it was truncated, or is not
    /// AES-ECB ciphertext.
    #[error("ciphertext of {len} bytes is not a whole number of 16-byte blocks")]
    NotBlockAligned {
        /// Ciphertext length seen, in bytes.
        len: u64,
    },
    /// The last block does not end in valid PKCS#7 padding (wrong key,
    /// corrupted or truncated data).
    #[error("ciphertext does not end in valid PKCS#7 padding")]
    BadPadding,
}

impl From<DecryptError> for std::io::Error {
    /// An [`InvalidData`](std::io::ErrorKind::InvalidData) error carrying
    /// the [`DecryptError`], which `get_ref()` and `downcast` give back.
    fn from(err: DecryptError) -> Self {
        Self::new(std::io::ErrorKind::InvalidData, err)
    }
}

/// Encrypts whole blocks in place. `buf.len()` must be a multiple of 16.
pub(crate) fn encrypt_blocks<C>(cipher: &C, buf: &mut [u8])
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let (blocks, tail) = InOutBuf::from(buf).into_chunks::<U16>();
    debug_assert!(tail.is_empty(), "partial block");
    cipher.encrypt_blocks_inout(blocks);
}

/// Decrypts whole blocks in place. `buf.len()` must be a multiple of 16.
pub(crate) fn decrypt_blocks<C>(cipher: &C, buf: &mut [u8])
where
    C: BlockDecrypt + BlockSizeUser<BlockSize = U16>,
{
    let (blocks, tail) = InOutBuf::from(buf).into_chunks::<U16>();
    debug_assert!(tail.is_empty(), "partial block");
    cipher.decrypt_blocks_inout(blocks);
}

/// Encrypts whole blocks from `input` into `output`, which must have the
/// same length, a multiple of 16. Writing straight into the destination
/// saves copying the plaintext there first.
pub(crate) fn encrypt_blocks_b2b<C>(cipher: &C, input: &[u8], output: &mut [u8])
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    debug_assert_eq!(input.len(), output.len());
    if let Ok(buf) = InOutBuf::new(input, output) {
        let (blocks, tail) = buf.into_chunks::<U16>();
        debug_assert!(tail.is_empty(), "partial block");
        cipher.encrypt_blocks_inout(blocks);
    }
}

/// Decrypts whole blocks from `input` into `output`, as
/// [`encrypt_blocks_b2b`].
pub(crate) fn decrypt_blocks_b2b<C>(cipher: &C, input: &[u8], output: &mut [u8])
where
    C: BlockDecrypt + BlockSizeUser<BlockSize = U16>,
{
    debug_assert_eq!(input.len(), output.len());
    if let Ok(buf) = InOutBuf::new(input, output) {
        let (blocks, tail) = buf.into_chunks::<U16>();
        debug_assert!(tail.is_empty(), "partial block");
        cipher.decrypt_blocks_inout(blocks);
    }
}

/// The final block for a tail of fewer than 16 bytes: the tail, then
/// `16 - tail.len()` bytes of that value.
pub(crate) fn padded_block(tail: &[u8]) -> [u8; BLOCK] {
    debug_assert!(tail.len() < BLOCK);
    // `tail.len()` is below 16, so the cast cannot truncate.
    let mut block = [(BLOCK - tail.len()) as u8; BLOCK];
    block[..tail.len()].copy_from_slice(tail);
    block
}

/// Number of padding bytes (1 to 16) that end a decrypted final block, or
/// `None` when the padding is invalid. Looks at every padding byte without
/// stopping early.
pub(crate) fn padding_len(block: &[u8; BLOCK]) -> Option<usize> {
    let n = usize::from(block[BLOCK - 1]);
    if n == 0 || n > BLOCK {
        return None;
    }
    let diff = block[BLOCK - n..]
        .iter()
        .fold(0u8, |acc, &b| acc | (b ^ block[BLOCK - 1]));
    (diff == 0).then_some(n)
}

/// Encrypts `plain` into a new exactly-sized vector.
fn encrypt_with<C>(cipher: &C, plain: &[u8]) -> Vec<u8>
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let whole = plain.len() - plain.len() % BLOCK;
    let mut out = vec![0u8; whole + BLOCK];
    let (body, last) = out.split_at_mut(whole);
    encrypt_blocks_b2b(cipher, &plain[..whole], body);
    last.copy_from_slice(&padded_block(&plain[whole..]));
    encrypt_blocks(cipher, last);
    out
}

/// Pads `buf` and encrypts it in place.
fn encrypt_in_place_with<C>(cipher: &C, buf: &mut Vec<u8>)
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let pad = BLOCK - buf.len() % BLOCK; // 1 to 16
    buf.resize(buf.len() + pad, pad as u8);
    encrypt_blocks(cipher, buf);
}

/// Checks that `len` bytes can be ciphertext.
fn check_len(len: usize) -> Result<(), DecryptError> {
    if len == 0 {
        Err(DecryptError::Empty)
    } else if !len.is_multiple_of(BLOCK) {
        Err(DecryptError::NotBlockAligned { len: len as u64 })
    } else {
        Ok(())
    }
}

/// Decrypts `buf` in place and returns the plaintext length.
fn decrypt_in_place_with<C>(cipher: &C, buf: &mut [u8]) -> Result<usize, DecryptError>
where
    C: BlockDecrypt + BlockSizeUser<BlockSize = U16>,
{
    check_len(buf.len())?;
    decrypt_blocks(cipher, buf);
    let (_, last) = buf.split_at(buf.len() - BLOCK);
    let last: &[u8; BLOCK] = last.try_into().map_err(|_| DecryptError::BadPadding)?;
    let pad = padding_len(last).ok_or(DecryptError::BadPadding)?;
    Ok(buf.len() - pad)
}

/// Decrypts `data` into a new vector.
fn decrypt_with<C>(cipher: &C, data: &[u8]) -> Result<Vec<u8>, DecryptError>
where
    C: BlockDecrypt + BlockSizeUser<BlockSize = U16>,
{
    check_len(data.len())?;
    let mut out = vec![0u8; data.len()];
    decrypt_blocks_b2b(cipher, data, &mut out);
    let (_, last) = out.split_at(out.len() - BLOCK);
    let last: &[u8; BLOCK] = last.try_into().map_err(|_| DecryptError::BadPadding)?;
    let pad = padding_len(last).ok_or(DecryptError::BadPadding)?;
    out.truncate(out.len() - pad);
    Ok(out)
}

pub(crate) fn enc_cipher(key: &MediaKey) -> Aes128Enc {
    Aes128Enc::new(key.as_bytes().into())
}

pub(crate) fn dec_cipher(key: &MediaKey) -> Aes128Dec {
    Aes128Dec::new(key.as_bytes().into())
}

/// Encrypts a whole plaintext: AES-128-ECB with PKCS#7 padding.
///
/// The result has [`ciphertext_size`](crate::ciphertext_size) bytes. For large files use
/// [`EncryptingReader`](crate::EncryptingReader) or
/// [`Encryptor`](crate::Encryptor) instead, which need no more memory than
/// one buffer.
///
/// ```
/// use ilink_crypto::{MediaKey, decrypt, encrypt};
///
/// let key = MediaKey::generate()?;
/// let sealed = encrypt(&key, b"hello world");
/// assert_eq!(sealed.len(), 16);
/// assert_eq!(decrypt(&key, &sealed)?, b"hello world");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn encrypt(key: &MediaKey, plain: &[u8]) -> Vec<u8> {
    encrypt_with(&enc_cipher(key), plain)
}

/// Decrypts a whole ciphertext and strips its padding.
///
/// # Errors
///
/// [`DecryptError`] when the input is empty, not whole blocks, or does not
/// end in valid padding. Never panics, whatever the input.
pub fn decrypt(key: &MediaKey, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
    decrypt_with(&dec_cipher(key), ciphertext)
}

/// Pads `buf` and encrypts it in place; it grows by 1 to 16 bytes.
///
/// ```
/// use ilink_crypto::{MediaKey, ciphertext_size, encrypt_in_place};
///
/// let key = MediaKey::from_bytes([7; 16]);
/// let mut buf = b"sixteen bytes!!!".to_vec();
/// encrypt_in_place(&key, &mut buf);
/// assert_eq!(buf.len() as u64, ciphertext_size(16));
/// ```
pub fn encrypt_in_place(key: &MediaKey, buf: &mut Vec<u8>) {
    encrypt_in_place_with(&enc_cipher(key), buf);
}

/// Decrypts `buf` in place and returns the length of the plaintext, which
/// is `buf[..len]`.
///
/// ```
/// use ilink_crypto::{MediaKey, decrypt_in_place, encrypt};
///
/// let key = MediaKey::from_bytes([7; 16]);
/// let mut buf = encrypt(&key, b"hello");
/// let len = decrypt_in_place(&key, &mut buf)?;
/// buf.truncate(len);
/// assert_eq!(buf, b"hello");
/// # Ok::<(), ilink_crypto::DecryptError>(())
/// ```
///
/// # Errors
///
/// As [`decrypt`]. On [`DecryptError::BadPadding`] the buffer has been
/// decrypted anyway and its contents are meaningless; on the other errors it
/// is untouched.
pub fn decrypt_in_place(key: &MediaKey, buf: &mut [u8]) -> Result<usize, DecryptError> {
    decrypt_in_place_with(&dec_cipher(key), buf)
}

/// A [`MediaKey`] with its AES key schedule worked out once, for many
/// one-shot operations with the same key.
///
/// Besides the padded one-shot operations it offers raw block operations
/// ([`encrypt_blocks`](Self::encrypt_blocks)) for callers that manage the
/// padding themselves.
///
/// ```
/// use ilink_crypto::{MediaCipher, MediaKey};
///
/// let cipher = MediaCipher::new(&MediaKey::from_bytes([7; 16]));
/// let sealed = cipher.encrypt(b"thumbnail");
/// assert_eq!(cipher.decrypt(&sealed)?, b"thumbnail");
/// # Ok::<(), ilink_crypto::DecryptError>(())
/// ```
#[derive(Clone)]
pub struct MediaCipher(Aes128);

impl MediaCipher {
    /// Expands the key.
    #[must_use]
    pub fn new(key: &MediaKey) -> Self {
        Self(Aes128::new(key.as_bytes().into()))
    }

    /// As [`encrypt`].
    #[must_use]
    pub fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        encrypt_with(&self.0, plain)
    }

    /// As [`decrypt`].
    ///
    /// # Errors
    ///
    /// As [`decrypt`].
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        decrypt_with(&self.0, ciphertext)
    }

    /// As [`encrypt_in_place`].
    pub fn encrypt_in_place(&self, buf: &mut Vec<u8>) {
        encrypt_in_place_with(&self.0, buf);
    }

    /// As [`decrypt_in_place`].
    ///
    /// # Errors
    ///
    /// As [`decrypt_in_place`].
    pub fn decrypt_in_place(&self, buf: &mut [u8]) -> Result<usize, DecryptError> {
        decrypt_in_place_with(&self.0, buf)
    }

    /// Encrypts whole blocks in place, with no padding: raw AES-128-ECB.
    ///
    /// Turn a byte buffer of whole blocks into blocks with
    /// [`slice::as_chunks_mut`].
    ///
    /// ```
    /// use ilink_crypto::{MediaCipher, MediaKey};
    ///
    /// let cipher = MediaCipher::new(&MediaKey::from_bytes([7; 16]));
    /// let mut buf = vec![0u8; 16 * 1024];
    /// let (blocks, rest) = buf.as_chunks_mut::<16>();
    /// assert!(rest.is_empty());
    /// cipher.encrypt_blocks(blocks);
    /// cipher.decrypt_blocks(blocks);
    /// assert!(buf.iter().all(|&b| b == 0));
    /// ```
    pub fn encrypt_blocks(&self, blocks: &mut [[u8; BLOCK]]) {
        encrypt_blocks(&self.0, blocks.as_flattened_mut());
    }

    /// Decrypts whole blocks in place, with no padding: raw AES-128-ECB.
    pub fn decrypt_blocks(&self, blocks: &mut [[u8; BLOCK]]) {
        decrypt_blocks(&self.0, blocks.as_flattened_mut());
    }
}

impl fmt::Debug for MediaCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaCipher(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use ilink_proto::ciphertext_size;

    use super::*;

    #[test]
    fn ciphertext_size_rounds_up_past_the_block() {
        for (plain, cipher) in [(0, 16), (1, 16), (15, 16), (16, 32), (31, 32), (32, 48)] {
            assert_eq!(ciphertext_size(plain), cipher, "{plain}");
        }
        assert_eq!(ciphertext_size(u64::MAX - 16), u64::MAX - 15);
        assert_eq!(ciphertext_size(u64::MAX), u64::MAX);
    }

    #[test]
    fn padded_block_fills_with_its_length() {
        assert_eq!(padded_block(&[]), [16; 16]);
        let block = padded_block(b"abcdefghijklmno");
        assert_eq!(&block[..15], b"abcdefghijklmno");
        assert_eq!(block[15], 1);
        let block = padded_block(b"abc");
        assert_eq!(&block[3..], &[13; 13]);
    }

    #[test]
    fn padding_len_accepts_only_consistent_padding() {
        assert_eq!(padding_len(&[16; 16]), Some(16));
        let mut block = padded_block(b"hello");
        assert_eq!(padding_len(&block), Some(11));
        block[15] = 0;
        assert_eq!(padding_len(&block), None);
        block[15] = 17;
        assert_eq!(padding_len(&block), None);
        block[15] = 11;
        block[6] = 10;
        assert_eq!(padding_len(&block), None);
        block[6] = 11;
        block[4] = 10; // outside the padding: any value is plaintext
        assert_eq!(padding_len(&block), Some(11));
    }
}
