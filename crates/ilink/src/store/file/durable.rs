//! Durable file operations: atomic replacement, directory syncs, private
//! permissions, and errors that name the file without quoting it.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::StoreError;

/// Every temporary file name starts with this; listings skip such names
/// (no escaped name starts with `.`).
pub(super) const TEMP_PREFIX: &str = ".tmp.";

/// Mode of every file the store creates.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// Mode of every directory the store creates.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// Maps an I/O error on `path` into a [`StoreError::Io`].
pub(super) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A [`StoreError::Corrupt`] for `path`.
pub(super) fn corrupt(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Why a JSON file could not be read, without quoting it: serde_json's own
/// messages may contain values (tokens live in these files).
fn json_reason(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Syntax => "not valid JSON",
        Category::Eof => "truncated JSON",
        Category::Data => "JSON of an unexpected shape",
        Category::Io => "unreadable JSON",
    };
    format!("{what} (line {}, column {})", error.line(), error.column())
}

/// Options that create a new private file for writing. A symlink where
/// the file should be is refused (`O_NOFOLLOW`), never followed: a planted
/// link cannot make the store write somewhere else.
pub(super) fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Options that open a file for reading without following a symlink.
fn no_follow_read() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Creates a private directory (mode 0700 on unix) if it is missing, and
/// makes its entry durable by syncing `parent`. Returns whether it was
/// created.
pub(super) fn ensure_dir(parent: &Path, dir: &Path) -> Result<bool, StoreError> {
    match private_dir(false).create(dir) {
        Ok(()) => {
            sync_dir(parent)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(false),
        Err(e) => Err(io_error(dir)(e)),
    }
}

/// Creates a private directory and its missing parents (each 0700 on unix).
pub(super) fn ensure_dir_all(dir: &Path) -> Result<(), StoreError> {
    private_dir(true).create(dir).map_err(io_error(dir))
}

/// A builder of private directories (0700 on unix).
fn private_dir(recursive: bool) -> fs::DirBuilder {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(recursive);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder
}

/// Makes the entries of `dir` (creations, renames, removals) durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(dir))
    }
    #[cfg(not(unix))]
    {
        // Directories cannot be opened for syncing here; the rename itself is
        // what the platform offers.
        let _ = dir;
        Ok(())
    }
}

/// A temporary name in the same directory, unique in this process and
/// across processes.
pub(super) fn temp_name(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{TEMP_PREFIX}{}.{n}.{name}", process::id())
}

/// Age past which a temporary file of another process is abandoned whatever
/// else is known: a write takes milliseconds.
pub(super) const TEMP_MAX_AGE: Duration = Duration::from_secs(60);

/// The process id and target name of a temporary file name
/// (`.tmp.<pid>.<n>.<target>`), `None` for any other name.
pub(super) fn parse_temp_name(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix(TEMP_PREFIX)?;
    let (pid, rest) = rest.split_once('.')?;
    let (n, target) = rest.split_once('.')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((pid.parse().ok()?, target))
}

/// Whether process `pid` is known to have ended. Only Linux can tell (through
/// `/proc`); elsewhere the answer is "not known", and abandoned files are
/// recognised by their age alone.
fn process_ended(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        false
    }
}

/// Removes the temporary files (and directories: removed accounts) that
/// writes interrupted by a crash left in `dir`, and returns how many.
///
/// A temporary file of this process is never touched. One of another process
/// goes when `owned(target)` says that only the caller writes its target (the
/// holder of the poller lock owns the inbox and the cursor), when that process
/// has ended, or when it is older than [`TEMP_MAX_AGE`]. Failures are logged
/// and skipped: leftovers are never read as data, so cleaning them up is
/// best effort.
pub(super) fn sweep_temps(dir: &Path, owned: impl Fn(&str) -> bool) -> usize {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return 0,
        Err(error) => {
            tracing::warn!(path = %dir.display(), %error, "could not list a directory to remove temporary files");
            return 0;
        }
    };
    let me = process::id();
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some((pid, target)) = file_name.to_str().and_then(parse_temp_name) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > TEMP_MAX_AGE);
        if !(owned(target) || process_ended(pid) || old) {
            continue;
        }
        let path = entry.path();
        let result = if meta.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match result {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "could not remove a temporary file");
            }
        }
    }
    if removed > 0 {
        tracing::debug!(path = %dir.display(), removed, "removed temporary files left by interrupted writes");
    }
    removed
}

/// Writes `bytes` to `dir/name` atomically: a private temporary file in the
/// same directory, synced, then renamed over the target. **One fsync**; the
/// caller syncs `dir` (once for several files, or through
/// [`replace_file`]).
pub(super) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let target = dir.join(name);
    let temp = dir.join(temp_name(name));
    let written = private_file()
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, &target));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io_error(&target)(e));
    }
    Ok(())
}

/// [`write_file`] and then a sync of `dir`: **two fsyncs**.
pub(super) fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    write_file(dir, name, bytes)?;
    sync_dir(dir)
}

/// Serializes a value as one line of compact JSON.
pub(super) fn to_json(path: &Path, value: &impl Serialize) -> Result<Vec<u8>, StoreError> {
    let mut bytes = serde_json::to_vec(value).map_err(|e| StoreError::Io {
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads a whole file; `None` when it does not exist.
pub(super) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    let read = no_follow_read().open(path).and_then(|mut file| {
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut file, &mut bytes).map(|_| bytes)
    });
    match read {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Parses JSON read from `path`; [`StoreError::Corrupt`] naming the file when
/// it is not what it should be.
pub(super) fn parse_json<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(path, json_reason(&e)))
}

/// Reads and parses a JSON file; `None` when it does not exist.
pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    read_optional(path)?
        .map(|bytes| parse_json(path, &bytes))
        .transpose()
}

/// Removes `dir/name` if present and syncs `dir` (**one fsync** when a file
/// was removed, none otherwise).
pub(super) fn remove_file(dir: &Path, name: &str) -> Result<(), StoreError> {
    let path = dir.join(name);
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&path)(e)),
    }
}

/// Where a name lands in `dir`, refusing anything but a single plain
/// component (defence in depth: every name passed here is escaped already).
pub(super) fn child(dir: &Path, name: &str) -> Result<PathBuf, StoreError> {
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(std::path::Component::Normal(c)), None) if c == name => Ok(dir.join(name)),
        _ => Err(StoreError::InvalidAccount),
    }
}
