//! Output files that never destroy anything: checked before any work,
//! written to a temporary file created exclusively next to the destination
//! under a unique name, and moved into place only on success.

use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::app::{CliError, Result};

/// Refuses an output before any work: a directory, the same file as one of
/// the inputs (by device and inode, so links count), or an existing file
/// without `--force`.
pub(crate) fn check_output(output: &Path, inputs: &[&Path], force: bool) -> Result<()> {
    if output.as_os_str().is_empty() {
        return Err(CliError::Usage("the output path is empty".to_owned()));
    }
    let meta = std::fs::metadata(output).ok();
    if meta.as_ref().is_some_and(std::fs::Metadata::is_dir) || ends_with_separator(output) {
        return Err(CliError::Usage(format!(
            "the output {} is a directory; name a file",
            output.display()
        )));
    }
    for input in inputs {
        if same_file(input, output) {
            return Err(CliError::Usage(format!(
                "the output {} is the input: it would be destroyed; write elsewhere",
                output.display()
            )));
        }
    }
    if meta.is_some() && !force {
        return Err(CliError::Usage(format!(
            "the output {} exists; pass --force to replace it",
            output.display()
        )));
    }
    Ok(())
}

fn ends_with_separator(path: &Path) -> bool {
    path.as_os_str()
        .to_string_lossy()
        .ends_with(std::path::MAIN_SEPARATOR)
}

/// Whether two paths name one file (both must exist).
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// A new temporary file in the output's directory, created exclusively
/// (it can be no existing file) with a unique name (`.NAME.XXXXXX.partial`).
pub(crate) fn temp_next_to(output: &Path) -> Result<NamedTempFile> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(&dir)
        .map_err(|e| {
            CliError::Other(format!(
                "cannot create a temporary file in {}: {e}",
                dir.display()
            ))
        })
}

/// Moves a finished temporary file into place: over an existing output only
/// with `force` (an output that appeared meanwhile is not replaced).
pub(crate) fn persist(tmp: NamedTempFile, output: &Path, force: bool) -> Result<()> {
    tmp.as_file().sync_all()?;
    let done = if force {
        tmp.persist(output)
    } else {
        tmp.persist_noclobber(output)
    };
    done.map(drop).map_err(|e| {
        // Dropping the error's file removes the temporary file.
        CliError::Other(format!("cannot write {}: {}", output.display(), e.error))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_that_would_destroy_something_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.bin");
        std::fs::write(&input, b"data").unwrap();
        let code = |r: Result<()>| r.map_err(|e| e.code());
        assert_eq!(code(check_output(&input, &[&input], true)), Err(2));
        let link = dir.path().join("link.bin");
        std::fs::hard_link(&input, &link).unwrap();
        assert_eq!(code(check_output(&link, &[&input], true)), Err(2));
        assert_eq!(code(check_output(dir.path(), &[&input], true)), Err(2));
        assert_eq!(code(check_output(&link, &[], false)), Err(2));
        assert_eq!(code(check_output(&link, &[], true)), Ok(()));
        assert_eq!(
            code(check_output(&dir.path().join("new"), &[&input], false)),
            Ok(())
        );
    }

    #[test]
    fn temporary_files_are_unique_and_never_replace_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.bin");
        // A file named as the old scheme's temporary file is left alone.
        std::fs::write(dir.path().join("out.partial"), b"keep").unwrap();
        let a = temp_next_to(&out).unwrap();
        let b = temp_next_to(&out).unwrap();
        assert_ne!(a.path(), b.path());
        std::fs::write(a.path(), b"first").unwrap();
        persist(a, &out, false).unwrap();
        std::fs::write(b.path(), b"second").unwrap();
        let b_path = b.path().to_owned();
        assert!(persist(b, &out, false).is_err());
        assert!(!b_path.exists(), "the refused temporary file is removed");
        assert_eq!(std::fs::read(&out).unwrap(), b"first");
        assert_eq!(
            std::fs::read(dir.path().join("out.partial")).unwrap(),
            b"keep"
        );
    }
}
