//! Links Debian's libturbojpeg (package libturbojpeg0-dev): the peer encoder.
fn main() {
    println!("cargo:rustc-link-lib=turbojpeg");
    println!("cargo:rerun-if-changed=build.rs");
}
