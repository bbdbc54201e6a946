//! The state directory: created private (0700), refused when another user
//! could change it, and the database file in it created private (0600) and
//! never reached through a link.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::StoreError;

/// The database file's name in a state directory.
pub(crate) const DB_FILE: &str = "ilink.db";

pub(crate) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Makes `dir` ready and returns the database file's path in it.
pub(crate) fn prepare(dir: &Path) -> Result<PathBuf, StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_error(dir))?;
    #[cfg(unix)]
    check_private(dir)?;
    let db = dir.join(DB_FILE);
    match fs::symlink_metadata(&db) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(StoreError::Unsafe {
                path: db,
                reason: "the database file is a link",
            });
        }
        Ok(meta) if !meta.is_file() => {
            return Err(StoreError::Unsafe {
                path: db,
                reason: "the database path is not a regular file",
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Created here, exclusively and private, so that SQLite (and its
            // -wal and -shm files, which take the database's mode) never
            // make it readable by others.
            private_new_file()
                .open(&db)
                .map_err(io_error(&db))
                .map(drop)?;
        }
        Err(e) => return Err(io_error(&db)(e)),
    }
    Ok(db)
}

/// Options that create a file exclusively, mode 0600, refusing links.
fn private_new_file() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Refuses a directory another user could change: not owned by the user
/// this process runs as, or writable by group or others. The user is read
/// off a file made for the purpose (no `unsafe` call to `geteuid`).
#[cfg(unix)]
fn check_private(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(dir).map_err(io_error(dir))?;
    let unsafe_dir = |reason| StoreError::Unsafe {
        path: dir.to_path_buf(),
        reason,
    };
    if meta.file_type().is_symlink() {
        // A link to a directory: check where it leads instead.
        let target = fs::canonicalize(dir).map_err(io_error(dir))?;
        return check_private(&target);
    }
    if meta.mode() & 0o022 != 0 {
        return Err(unsafe_dir("it is writable by its group or by others"));
    }
    let probe = dir.join(format!(
        ".owner-probe.{}.{:08x}",
        std::process::id(),
        ilink_crypto::random::varying_u64() as u32
    ));
    let ours = private_new_file()
        .open(&probe)
        .and_then(|f| f.metadata())
        .map(|m| m.uid());
    let _ = fs::remove_file(&probe);
    let ours = ours.map_err(io_error(dir))?;
    if meta.uid() != ours {
        return Err(unsafe_dir("it belongs to another user"));
    }
    Ok(())
}
