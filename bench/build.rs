//! Links Debian's libturbojpeg (package libturbojpeg0-dev): the peer encoder.
//!
//! Checked here, before rustc runs, so a machine without it stops with the
//! package to install instead of a linker error deep in `cargo test`.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // `cc -print-file-name=X` prints X's full path when the linker's search
    // path has it, and X alone when not.
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let found = Command::new(&cc)
        .arg("-print-file-name=libturbojpeg.so")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().contains('/'))
        .unwrap_or(false);
    if !found {
        eprintln!(
            "img-stream-bench: libturbojpeg.so not found by `{cc}`: install Debian's \
             libturbojpeg0-dev (`bash scripts/install-deps.sh test` does)"
        );
        std::process::exit(1);
    }
    println!("cargo:rustc-link-lib=turbojpeg");
}
