//! Compiles the vendored SILK SDK (silk/) and csrc/ with the `cc` crate.
//! The FFI declarations are written by hand in src/ffi.rs: no bindgen.

use std::path::Path;

fn main() {
    let src = Path::new("silk/src");
    let mut files: Vec<_> = std::fs::read_dir(src)
        .expect("silk/src is vendored in the crate")
        .map(|entry| entry.expect("silk/src is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .collect();
    files.sort();
    files.push("csrc/ilink_sizes.c".into());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    println!("cargo:rerun-if-changed=silk/interface");
    println!("cargo:rerun-if-changed=silk/src");
    cc::Build::new()
        .include("silk/interface")
        .include("silk/src")
        .files(&files)
        // The reference code is built as it is written; its warnings are not
        // ours to fix one by one.
        .warnings(false)
        .compile("ilink_silk_sdk");
}
