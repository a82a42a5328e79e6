//! What other layers read from the Rust side is generated, and these tests
//! fail when a committed copy drifts: the C header in c_glue/ (cbindgen over
//! the ABI files) and the protocol constants block of
//! python/img_stream_proto.py. `make header` (IMG_STREAM_WRITE_HEADER=1)
//! rewrites both.

use std::path::Path;

use img_stream_core::{chunk, framing};

/// Every file that declares part of the C ABI.
const ABI_FILES: &[&str] = &[
    "src/ffi.rs",
    "src/pool.rs",
    "src/rate.rs",
    "src/tcp.rs",
    "src/tcp_sender.rs",
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

/// Every status has its own number: status.c maps numbers to exceptions, so
/// two statuses sharing one would raise the other's error. The statuses are
/// declared across the ABI files; the generated header holds them all.
#[test]
fn status_numbers_are_distinct() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(root.join("c_glue/img_stream/img_stream_core.h")).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for line in header.lines() {
        let mut words = line.split_whitespace();
        let (Some("#define"), Some(name), Some(value)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        if !(name.starts_with("IS_ERR_") || name == "IS_OK") {
            continue;
        }
        let value: i32 = value.parse().unwrap();
        if let Some(other) = seen.insert(value, name) {
            panic!("{name} and {other} are both {value}");
        }
    }
    assert!(seen.len() > 30, "found only {} statuses", seen.len());
}

/// The lines between these markers in python/img_stream_proto.py are
/// generated; the rest of that file is hand-written.
const PY_BEGIN: &str = "# --- protocol constants: generated from the Rust core by src/header_check.rs (`make header`); do not edit ---\n";
const PY_END: &str = "# --- end of generated constants ---\n";

/// The protocol constants as Python source, from the core's definitions.
fn python_constants() -> String {
    use img_stream_core::pixel::PixelFormat;
    let bytes = |m: [u8; 4]| String::from_utf8(m.to_vec()).unwrap();
    let formats: Vec<String> = PixelFormat::ALL
        .iter()
        .map(|f| format!("    {}: \"{}\",\n", f.code(), f.name()))
        .collect();
    format!(
        "MAGIC = b\"{}\"\n\
         CHUNK_MAGIC = b\"{}\"\n\
         VERSION = {}\n\
         HEADER_LEN = {}\n\
         CHUNK_HEADER_LEN = {}\n\
         PREFIX_LEN = {}  # magic, version, header_len: enough to judge a candidate\n\
         DEFAULT_MAX_PAYLOAD = {}\n\
         DEFAULT_MAX_PENDING = {}\n\
         DEFAULT_CHUNK_TIMEOUT = {:?}\n\
         FORMATS = {{\n{}}}\n",
        bytes(framing::MAGIC),
        bytes(chunk::MAGIC),
        framing::VERSION,
        framing::HEADER_LEN,
        chunk::HEADER_LEN,
        framing::PREFIX_LEN,
        framing::DEFAULT_MAX_PAYLOAD,
        chunk::DEFAULT_MAX_PENDING,
        chunk::DEFAULT_TIMEOUT_MS as f64 / 1000.0,
        formats.concat(),
    )
}

#[test]
fn python_constants_match_rust() {
    assert_eq!(framing::VERSION, chunk::VERSION, "one VERSION in Python");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/img_stream_proto.py");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find(PY_BEGIN).expect("begin marker") + PY_BEGIN.len();
    let end = start + text[start..].find(PY_END).expect("end marker");
    let generated = python_constants();
    if std::env::var_os("IMG_STREAM_WRITE_HEADER").is_some() {
        let new = format!("{}{}{}", &text[..start], generated, &text[end..]);
        std::fs::write(&path, new).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed[start..].starts_with(&generated),
        "python/img_stream_proto.py's constants are stale: run `make header`"
    );
}
