//! The C header in c_glue/ is generated from the ABI files; this fails when the
//! two drift. `make header` (IMG_STREAM_WRITE_HEADER=1) rewrites it.

use std::path::Path;

/// Every file that declares part of the C ABI.
const ABI_FILES: &[&str] = &[
    "src/ffi.rs",
    "src/pool.rs",
    "src/tcp.rs",
    "src/mjpeg.rs",
    "src/udp.rs",
    "src/mqtt.rs",
    "core/src/pixel.rs",
];

#[test]
fn header_matches_rust() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    let mut builder = cbindgen::Builder::new().with_config(config);
    for f in ABI_FILES {
        builder = builder.with_src(root.join(f));
    }
    builder.generate().expect("cbindgen").write(&mut generated);
    let path = root.join("c_glue/img_stream/img_stream_core.h");
    if std::env::var_os("IMG_STREAM_WRITE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "c_glue/img_stream/img_stream_core.h is stale: run `make header`"
    );
}
