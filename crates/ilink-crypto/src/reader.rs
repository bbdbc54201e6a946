//! A `Read` adapter that turns plaintext into the upload's ciphertext.

use std::fmt;
use std::io::{self, Read};

use aes::Aes128Enc;

use crate::ecb::{self, BLOCK};
use crate::key::MediaKey;

/// Reads the AES-128-ECB/PKCS#7 ciphertext of everything its inner reader
/// yields: exactly [`ciphertext_size`](crate::ciphertext_size) of the
/// plaintext size in all, the padded final block included.
///
/// It reads plaintext straight into the caller's buffer and encrypts it in
/// place, so it holds no buffer of its own (at most 15 plaintext and 16
/// ciphertext bytes between calls); throughput follows the caller's buffer
/// size, and 64–256 KiB reads work well. When the inner reader is a file,
/// a page-aligned buffer also spares a slow kernel copy on some x86 CPUs
/// (glibc starts large allocations 16 bytes into a page).
///
/// # Retrying an upload
///
/// A reader is used once. To send the same file again (the CDN upload is
/// retried on a 5xx or a network error), re-open or rewind the source and
/// wrap it in a new `EncryptingReader` with the same key: encryption is
/// deterministic, so every attempt produces the same bytes, and the
/// [`PlainInfo`](crate::PlainInfo) from the first pass stays valid as long
/// as the file has not changed.
///
/// ```
/// use std::io::Read;
/// use ilink_crypto::{EncryptingReader, MediaKey, ciphertext_size, encrypt};
///
/// let key = MediaKey::from_bytes([7; 16]);
/// let plain = vec![42u8; 100_000];
/// let mut sealed = Vec::new();
/// EncryptingReader::new(&key, plain.as_slice()).read_to_end(&mut sealed)?;
/// assert_eq!(sealed.len() as u64, ciphertext_size(100_000));
/// assert_eq!(sealed, encrypt(&key, &plain));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct EncryptingReader<R> {
    inner: R,
    cipher: Aes128Enc,
    /// Plaintext read but not yet encrypted, always under one block.
    carry: [u8; BLOCK],
    carry_len: usize,
    /// One encrypted block not yet handed out, for reads under 16 bytes.
    pending: [u8; BLOCK],
    pending_pos: usize,
    pending_len: usize,
    /// The final block has been made; the inner reader is not read again.
    done: bool,
    bytes_in: u64,
    bytes_out: u64,
}

impl<R: Read> EncryptingReader<R> {
    /// Encrypts what `inner` yields with `key`.
    pub fn new(key: &MediaKey, inner: R) -> Self {
        Self {
            inner,
            cipher: ecb::enc_cipher(key),
            carry: [0; BLOCK],
            carry_len: 0,
            pending: [0; BLOCK],
            pending_pos: 0,
            pending_len: 0,
            done: false,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Gives back the inner reader; anything it yielded that was not yet
    /// handed out as ciphertext is lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Plaintext bytes read from the inner reader so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Ciphertext bytes handed out so far: the upload's progress.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// Copies out as much of the pending block as fits.
    fn drain_pending(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.pending_len - self.pending_pos);
        out[..n].copy_from_slice(&self.pending[self.pending_pos..self.pending_pos + n]);
        self.pending_pos += n;
        self.bytes_out += n as u64;
        n
    }

    /// Makes the next block in `pending`, for callers whose buffer is too
    /// small to hold one.
    fn fill_pending(&mut self) -> io::Result<()> {
        while self.carry_len < BLOCK {
            match self.inner.read(&mut self.carry[self.carry_len..])? {
                0 => {
                    self.pending = ecb::padded_block(&self.carry[..self.carry_len]);
                    self.done = true;
                    break;
                }
                n => {
                    self.carry_len += n;
                    self.bytes_in += n as u64;
                }
            }
        }
        if !self.done {
            self.pending = self.carry;
        }
        self.carry_len = 0;
        ecb::encrypt_blocks(&self.cipher, &mut self.pending);
        self.pending_pos = 0;
        self.pending_len = BLOCK;
        Ok(())
    }
}

impl<R: Read> Read for EncryptingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.pending_pos < self.pending_len {
            return Ok(self.drain_pending(out));
        }
        if self.done {
            return Ok(0);
        }
        if out.len() < BLOCK {
            self.fill_pending()?;
            return Ok(self.drain_pending(out));
        }

        // Plaintext goes into `out` behind the carried bytes and is
        // encrypted there; only whole blocks are handed out.
        let cap = out.len() - out.len() % BLOCK;
        let mut filled = self.carry_len;
        out[..filled].copy_from_slice(&self.carry[..filled]);
        self.carry_len = 0;
        while filled < BLOCK {
            match self.inner.read(&mut out[filled..cap]) {
                Ok(0) => {
                    // End of input: `filled` is under one block, so the
                    // final block fits in `out`.
                    let block = ecb::padded_block(&out[..filled]);
                    out[..BLOCK].copy_from_slice(&block);
                    ecb::encrypt_blocks(&self.cipher, &mut out[..BLOCK]);
                    self.done = true;
                    self.bytes_out += BLOCK as u64;
                    return Ok(BLOCK);
                }
                Ok(n) => {
                    filled += n;
                    self.bytes_in += n as u64;
                }
                Err(err) => {
                    // Keep what was read; the caller may try again.
                    self.carry[..filled].copy_from_slice(&out[..filled]);
                    self.carry_len = filled;
                    return Err(err);
                }
            }
        }
        let whole = filled - filled % BLOCK;
        self.carry_len = filled - whole;
        self.carry[..self.carry_len].copy_from_slice(&out[whole..filled]);
        ecb::encrypt_blocks(&self.cipher, &mut out[..whole]);
        self.bytes_out += whole as u64;
        Ok(whole)
    }
}

impl<R: fmt::Debug> fmt::Debug for EncryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptingReader")
            .field("inner", &self.inner)
            .field("bytes_in", &self.bytes_in)
            .field("bytes_out", &self.bytes_out)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yields its data in the given chunk sizes, with an error after each
    /// chunk if asked.
    struct Choppy<'a> {
        data: &'a [u8],
        sizes: std::iter::Cycle<std::vec::IntoIter<usize>>,
        fail_next: bool,
        fail: bool,
    }

    impl Read for Choppy<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.fail && self.fail_next {
                self.fail_next = false;
                return Err(io::Error::new(io::ErrorKind::Interrupted, "again"));
            }
            self.fail_next = true;
            let n = self
                .sizes
                .next()
                .unwrap_or(1)
                .min(buf.len())
                .min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn survives_errors_and_tiny_reads() {
        let key = MediaKey::from_bytes([3; 16]);
        let plain: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let inner = Choppy {
            data: &plain,
            sizes: vec![1, 7, 3, 40, 2].into_iter().cycle(),
            fail_next: false,
            fail: true,
        };
        let mut reader = EncryptingReader::new(&key, inner);
        let mut sealed = Vec::new();
        // read_to_end retries on Interrupted; vary the read size by hand.
        let mut buf = [0u8; 37];
        let mut size = 1;
        loop {
            match reader.read(&mut buf[..size]) {
                Ok(0) => break,
                Ok(n) => sealed.extend_from_slice(&buf[..n]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => panic!("{err}"),
            }
            size = size % 37 + 1;
        }
        assert_eq!(sealed, ecb::encrypt(&key, &plain));
        assert_eq!(reader.bytes_in(), 1000);
        assert_eq!(reader.bytes_out(), 1008);
    }
}
