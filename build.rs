//! Build script of the staticlib: tells cargo which inputs matter, and warns
//! with a clear message if the generated C header is missing (the shim cannot
//! compile without it; the Rust side can, so this does not fail the build).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    if !std::path::Path::new("c_glue/img_stream/img_stream_core.h").exists() {
        println!(
            "cargo:warning=c_glue/img_stream/img_stream_core.h is missing: run `make header` to generate it"
        );
    }
}
