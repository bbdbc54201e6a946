//! The deduplication window on disk: `dedup.log`, one escaped key per line,
//! append-only, compacted by an atomic rewrite.
//!
//! A final line without its `'\n'` is an append torn by a crash: the ack it
//! belonged to never returned, so the key is *not* in the window (its message
//! is still pending and will be handled again). It is ignored when reading
//! and cut off before the next append.

use std::collections::{HashSet, VecDeque};
use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

use super::durable::{corrupt, io_error, private_file, read_optional, replace_file, sync_dir};
use super::name::{escape, unescape};
use crate::store::{DEDUP_WINDOW, StoreError};

/// The log's file name in the account directory.
pub(super) const FILE: &str = "dedup.log";

/// The log is rewritten once it holds more lines than this.
const COMPACT_AFTER: usize = 2 * DEDUP_WINDOW;

/// What the log looked like when this process last read or wrote it, to
/// notice a change made by another store on the same directory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    len: u64,
    inode: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(meta: &Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            len: meta.len(),
            inode,
            modified: meta.modified().ok(),
        }
    }
}

/// The window of one account, as loaded from its log.
#[derive(Debug, Default)]
pub(super) struct Window {
    /// Keys, oldest first.
    order: VecDeque<String>,
    set: HashSet<String>,
    /// Complete lines in the file.
    lines: usize,
    /// Bytes up to and including the last `'\n'`.
    valid_len: u64,
    /// `None`: there was no file.
    stamp: Option<Stamp>,
}

impl Window {
    /// Whether `key` is in the window.
    pub(super) fn contains(&self, key: &str) -> bool {
        self.set.contains(key)
    }

    /// Adds `key`; returns the keys that fell out of the window for it.
    fn insert(&mut self, key: String) -> Vec<String> {
        let mut evicted = Vec::new();
        if self.set.insert(key.clone()) {
            self.order.push_back(key);
            while self.order.len() > DEDUP_WINDOW {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                    evicted.push(old);
                }
            }
        }
        evicted
    }

    fn load(path: &Path) -> Result<Self, StoreError> {
        let mut window = Self::default();
        let Some(bytes) = read_optional(path)? else {
            return Ok(window);
        };
        // The stamp is taken after reading: a change in between makes the
        // next check reload, never the reverse.
        let meta = fs::metadata(path).map_err(io_error(path))?;
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(last) => &bytes[..=last],
            None => &[][..],
        };
        let text = std::str::from_utf8(complete).map_err(|e| {
            let line = complete[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            corrupt(path, format!("invalid UTF-8 on line {}", line + 1))
        })?;
        for (n, line) in text.split_terminator('\n').enumerate() {
            let key = unescape(line)
                .ok_or_else(|| corrupt(path, format!("invalid key encoding on line {}", n + 1)))?;
            let _ = window.insert(key);
            window.lines += 1;
        }
        window.valid_len = complete.len() as u64;
        window.stamp = Some(Stamp {
            // What was read, so an append racing the read is noticed.
            len: bytes.len() as u64,
            ..Stamp::of(&meta)
        });
        Ok(window)
    }

    /// The window of the log at `path`, reusing `cached` while the file has
    /// not changed since this process last saw it (one `stat`).
    pub(super) fn fresh<'a>(
        cached: &'a mut Option<Window>,
        path: &Path,
    ) -> Result<&'a mut Window, StoreError> {
        let now = match fs::metadata(path) {
            Ok(meta) => Some(Stamp::of(&meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(path)(e)),
        };
        let stale = cached.as_ref().is_none_or(|w| w.stamp != now);
        if stale {
            *cached = None;
            let window = Window::load(path)?;
            return Ok(cached.insert(window));
        }
        // `stale` is false only when a window is cached.
        Ok(cached.get_or_insert_with(Window::default))
    }

    /// Adds `key` durably: one write of one line and **one fsync** (two the
    /// first time, when the log is created and its directory is synced);
    /// every `DEDUP_WINDOW` appends, a compaction adds two more. Does nothing
    /// when the key is already in the window.
    ///
    /// Returns the keys that fell out of the window (oldest first).
    pub(super) fn append(
        &mut self,
        dir: &Path,
        path: &Path,
        key: &str,
    ) -> Result<Vec<String>, StoreError> {
        if self.contains(key) {
            return Ok(Vec::new());
        }
        let mut line = escape(key);
        line.push('\n');
        let created = self.stamp.is_none();
        let mut file = private_file()
            .append(true)
            .create(true)
            .open(path)
            .map_err(io_error(path))?;
        let meta = file
            .metadata()
            .and_then(|meta| {
                if meta.len() > self.valid_len {
                    // Cut a torn final line so it cannot merge with this one.
                    file.set_len(self.valid_len)?;
                }
                file.write_all(line.as_bytes())?;
                file.sync_data()?;
                file.metadata()
            })
            .map_err(io_error(path))?;
        if created {
            sync_dir(dir)?;
        }
        self.stamp = Some(Stamp::of(&meta));
        self.valid_len = meta.len();
        self.lines += 1;
        let evicted = self.insert(key.to_owned());
        if self.lines > COMPACT_AFTER {
            self.compact(dir, path)?;
        }
        Ok(evicted)
    }

    /// Rewrites the log with the keys of the window only (atomic; two
    /// fsyncs).
    fn compact(&mut self, dir: &Path, path: &Path) -> Result<(), StoreError> {
        let mut text = String::new();
        for key in &self.order {
            text.push_str(&escape(key));
            text.push('\n');
        }
        replace_file(dir, FILE, text.as_bytes())?;
        let meta = fs::metadata(path).map_err(io_error(path))?;
        self.stamp = Some(Stamp::of(&meta));
        self.valid_len = meta.len();
        self.lines = self.order.len();
        Ok(())
    }
}
