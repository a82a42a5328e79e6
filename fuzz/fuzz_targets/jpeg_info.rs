//! JPEG info parsing (core/src/jpeg/info.rs) on any bytes: no panic, and a
//! result only for data that starts like a JPEG.
#![no_main]

use img_stream_core::jpeg::info;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if info::parse(data).is_some() {
        assert!(info::looks_like_jpeg(data));
    }
});
