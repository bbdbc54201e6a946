//! The first pass of an upload: plaintext size and MD5.

use std::io::{self, Read};

use crate::md5::{Md5, Md5Digest};
use ilink_proto::ciphertext_size;

/// Size of the buffer [`scan`] reads into.
const SCAN_BUFFER: usize = 256 * 1024;
/// Alignment of that buffer.
const PAGE: usize = 4096;

/// What `getuploadurl` needs to know about the plaintext: its size
/// (`rawsize`) and MD5 (`rawfilemd5`), from which the ciphertext size
/// (`filesize`) follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PlainInfo {
    /// Plaintext size in bytes (`rawsize`, and `file_item.len` as a string).
    pub size: u64,
    /// MD5 of the plaintext (`rawfilemd5` and `file_item.md5`, as hex).
    pub md5: Md5Digest,
}

impl PlainInfo {
    /// Describes a plaintext of `size` bytes with digest `md5`.
    #[must_use]
    pub const fn new(size: u64, md5: Md5Digest) -> Self {
        Self { size, md5 }
    }

    /// Describes plaintext held in memory.
    #[must_use]
    pub fn of(data: &[u8]) -> Self {
        Self::new(data.len() as u64, crate::md5::md5(data))
    }

    /// Size of the ciphertext to upload (`filesize`; an image's `mid_size`,
    /// a video's `video_size`).
    #[must_use]
    pub const fn ciphertext_size(&self) -> u64 {
        ciphertext_size(self.size)
    }
}

/// Reads `reader` to the end once, returning the plaintext's size and MD5.
///
/// This is the first of an upload's two passes; the second streams the
/// same bytes through an [`EncryptingReader`](crate::EncryptingReader).
/// It reads through one page-aligned 256 KiB buffer, retrying reads that
/// were interrupted.
///
/// ```
/// use ilink_crypto::scan;
///
/// let info = scan(&b"abc"[..])?;
/// assert_eq!(info.size, 3);
/// assert_eq!(info.md5.to_hex(), "900150983cd24fb0d6963f7d28e17f72");
/// assert_eq!(info.ciphertext_size(), 16);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// The reader's error, other than [`Interrupted`](io::ErrorKind::Interrupted).
pub fn scan<R: Read>(mut reader: R) -> io::Result<PlainInfo> {
    let mut storage = vec![0u8; SCAN_BUFFER + PAGE];
    let buf = page_aligned(&mut storage, SCAN_BUFFER);
    let mut md5 = Md5::new();
    let mut size = 0u64;
    loop {
        match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                md5.update(&buf[..n]);
                size += n as u64;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(PlainInfo::new(size, md5.finalize()))
}

/// The `len` bytes of `storage` (which has `len + PAGE`) that start on a
/// page boundary.
///
/// Some x86 CPUs copy markedly slower when the destination sits a few bytes
/// past a page boundary relative to the source, and a large allocation from
/// glibc starts 16 bytes into a page while the kernel's page cache is page
/// aligned: reads of a file into such a buffer took three times the kernel
/// time here. Aligning the buffer avoids it.
fn page_aligned(storage: &mut [u8], len: usize) -> &mut [u8] {
    let offset = storage.as_ptr().align_offset(PAGE).min(PAGE);
    &mut storage[offset..offset + len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_aligned_window() {
        let mut storage = vec![0u8; 1000 + PAGE];
        let buf = page_aligned(&mut storage, 1000);
        assert_eq!(buf.len(), 1000);
        assert_eq!(buf.as_ptr() as usize % PAGE, 0);
    }
}
