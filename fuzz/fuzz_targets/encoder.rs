//! The JPEG encoder on random sizes, strides, formats, qualities,
//! subsamplings and engines: no panic, no out-of-bounds read; a frame the
//! validator accepts encodes to a JPEG whose header has its size.
#![no_main]

use img_stream_core::frame::RawFrame;
use img_stream_core::jpeg::{encode, info, Engine, Subsampling};
use img_stream_core::pixel::PixelFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (head, pixels) = data.split_at(8);
    let width = u32::from(head[0]) % 70 + 1;
    let height = u32::from(head[1]) % 70 + 1;
    let format = PixelFormat::ALL[usize::from(head[2]) % PixelFormat::ALL.len()];
    let stride = usize::from(head[3]) * 2;
    let quality = head[4] % 101;
    let subsampling =
        [Subsampling::S444, Subsampling::S422, Subsampling::S420][usize::from(head[5]) % 3];
    let engine = [Engine::Generic, Engine::Fast][usize::from(head[6]) % 2];
    // Bit 7 of head[7]: pad the pixels to the size the frame needs, so most
    // cases get past validation to the encoder.
    let mut buf = pixels.to_vec();
    if head[7] & 0x80 != 0 {
        let need = width as usize * height as usize * 4 + stride * height as usize;
        buf.resize(need.max(buf.len()), head[7]);
    }
    let Ok(frame) = RawFrame::new(&buf, width, height, format, stride) else {
        return;
    };
    let mut out = Vec::new();
    if encode(&frame, quality, subsampling, engine, &mut out).is_ok() && format != PixelFormat::Jpeg
    {
        let i = info::parse(&out).expect("the encoder's output is a JPEG");
        assert_eq!((u32::from(i.width), u32::from(i.height)), (width, height));
    }
});
