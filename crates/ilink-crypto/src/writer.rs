//! A `Write` adapter that decrypts a download on its way to a sink.

use std::fmt;
use std::io::{self, Write};

use crate::key::MediaKey;
use crate::stream::Decryptor;

/// Most ciphertext taken by one `write` call, which bounds the buffer.
const MAX_CHUNK: usize = 64 * 1024;

/// Takes ciphertext through [`Write`] and writes the plaintext to `W`.
///
/// The last block is held back until [`finish`](Self::finish), which checks
/// and strips the padding and returns `W`. Dropping the writer without
/// calling `finish` leaves the plaintext short of its last block. Memory is
/// bounded: one `write` takes at most 64 KiB of ciphertext.
///
/// Decryption failures surface as [`io::Error`]s of kind
/// [`InvalidData`](io::ErrorKind::InvalidData) wrapping a
/// [`DecryptError`](crate::DecryptError).
///
/// ```
/// use std::io::Write;
/// use ilink_crypto::{DecryptingWriter, MediaKey, encrypt};
///
/// let key = MediaKey::from_bytes([7; 16]);
/// let sealed = encrypt(&key, b"downloaded file");
/// let mut writer = DecryptingWriter::new(&key, Vec::new());
/// for chunk in sealed.chunks(3) {
///     writer.write_all(chunk)?;
/// }
/// let plain = writer.finish()?;
/// assert_eq!(plain, b"downloaded file");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct DecryptingWriter<W: Write> {
    inner: W,
    decryptor: Decryptor,
    /// Plaintext not yet accepted by `inner`, from `pos` on.
    buf: Vec<u8>,
    pos: usize,
    bytes_out: u64,
}

impl<W: Write> DecryptingWriter<W> {
    /// Decrypts with `key` into `inner`.
    pub fn new(key: &MediaKey, inner: W) -> Self {
        Self {
            inner,
            decryptor: Decryptor::new(key),
            buf: Vec::new(),
            pos: 0,
            bytes_out: 0,
        }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Ciphertext bytes taken so far.
    pub fn bytes_in(&self) -> u64 {
        self.decryptor.bytes_in()
    }

    /// Plaintext bytes written to the inner writer so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// Writes the last block's plaintext after checking its padding,
    /// flushes, and returns the inner writer.
    ///
    /// # Errors
    ///
    /// An [`InvalidData`](io::ErrorKind::InvalidData) error wrapping a
    /// [`DecryptError`](crate::DecryptError) when the ciphertext was empty,
    /// not whole blocks, or badly padded; or the inner writer's error.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_buf()?;
        self.decryptor.finish_mut(&mut self.buf)?;
        self.write_buf()?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// Hands the buffered plaintext to the inner writer.
    fn write_buf(&mut self) -> io::Result<()> {
        while self.pos < self.buf.len() {
            match self.inner.write(&self.buf[self.pos..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the inner writer accepted no more plaintext",
                    ));
                }
                Ok(n) => {
                    self.pos += n;
                    self.bytes_out += n as u64;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        self.buf.clear();
        self.pos = 0;
        Ok(())
    }
}

impl<W: Write> Write for DecryptingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_buf()?;
        let n = data.len().min(MAX_CHUNK);
        self.decryptor.update(&data[..n], &mut self.buf)?;
        // The input is taken even if the inner writer fails now; its error
        // comes back from the next call, which retries the buffered rest.
        let _ = self.write_buf();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_buf()?;
        self.inner.flush()
    }
}

impl<W: Write + fmt::Debug> fmt::Debug for DecryptingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptingWriter")
            .field("inner", &self.inner)
            .field("bytes_in", &self.bytes_in())
            .field("bytes_out", &self.bytes_out)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecb;

    /// Accepts at most `limit` bytes per call and, until it holds `calm_after`
    /// bytes, fails every other call.
    struct Stubborn {
        data: Vec<u8>,
        limit: usize,
        calm_after: usize,
        fail: bool,
    }

    impl Write for Stubborn {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.fail = !self.fail && self.data.len() < self.calm_after;
            if self.fail {
                return Err(io::Error::new(io::ErrorKind::WouldBlock, "busy"));
            }
            let n = buf.len().min(self.limit);
            self.data.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn keeps_plaintext_across_inner_errors() {
        let key = MediaKey::from_bytes([5; 16]);
        let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let sealed = ecb::encrypt(&key, &plain);
        let sink = Stubborn {
            data: Vec::new(),
            limit: 1000,
            calm_after: 150_000,
            fail: false,
        };
        let mut writer = DecryptingWriter::new(&key, sink);
        let mut rest = &sealed[..];
        while !rest.is_empty() {
            match writer.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        }
        let sink = loop {
            // `finish` consumes the writer, so flush the backlog first.
            match writer.flush() {
                Ok(()) => break writer.finish().unwrap(),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        };
        assert_eq!(sink.data, plain);
    }

    #[test]
    fn bad_ciphertext_is_invalid_data() {
        let key = MediaKey::from_bytes([5; 16]);
        let mut writer = DecryptingWriter::new(&key, Vec::new());
        writer.write_all(&[0; 20]).unwrap();
        let err = writer.finish().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<crate::DecryptError>());
        assert_eq!(
            inner,
            Some(&crate::DecryptError::NotBlockAligned { len: 20 })
        );
    }
}
