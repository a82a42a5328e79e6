//! The host's TCP stream decoder on any bytes, in any split: no panic, the
//! memory it holds stays bounded by the payload limit (plus one read and
//! the 255-byte header window), and every frame it returns verifies.
#![no_main]

use img_stream_core::crc32::crc32;
use img_stream_host::stream::{Decoder, Event, GROW_STEP};
use libfuzzer_sys::fuzz_target;

/// A small limit, so the fuzzer reaches the payload and oversize paths.
const MAX_PAYLOAD: u32 = 4096;

fuzz_target!(|data: &[u8]| {
    // First byte: the split size; the rest: the stream.
    let Some((&split, stream)) = data.split_first() else {
        return;
    };
    let split = usize::from(split).max(1);
    let mut decoder = Decoder::new(MAX_PAYLOAD);
    for piece in stream.chunks(split) {
        decoder.feed(piece, |event| {
            if let Event::Frame(f) = event {
                assert!(f.payload.len() <= MAX_PAYLOAD as usize);
                assert_eq!(crc32(&f.payload), f.header.payload_crc);
            }
        });
        let bound =
            MAX_PAYLOAD as usize + GROW_STEP.min(MAX_PAYLOAD as usize) + 2 * 1024 + split * 2;
        assert!(decoder.held() <= bound, "held {} > {bound}", decoder.held());
    }
    let _ = decoder.finish();
    assert!(decoder.is_idle());
});
