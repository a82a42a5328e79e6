//! One v1 frame (header + payload) written to a stream: `send_tcp`.

use img_stream_core::framing::{FrameRepr, HEADER_LEN};

use crate::ffi::*;
use crate::pool::{HEADROOM, POOL};
use crate::send;

/// Encodes `frame` (JPEG passes through) and writes one v1 frame — header and
/// payload — to `writer`. `out.len` is the bytes written, also on failure.
///
/// # Safety
/// Pointers valid for the call; `writer.write` is safe to call with `ctx`.
#[no_mangle]
pub unsafe extern "C" fn is_send_frame(
    writer: *const IsWriter,
    frame: *const IsFrame,
    options: *const IsEncodeOptions,
    meta: *const IsFrameMeta,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (w, f, o, meta, out) = unsafe { (*writer, &*frame, &*options, &*meta, &mut *out) };
    let s = try_status!(settings(o));
    let data = try_status!(unsafe { bytes_of(f) });
    let input = try_status!(input(f, data, out));
    let r = POOL.with(|p| -> Result<(), i32> {
        let mut w = w;
        let (payload, width, height) = match input {
            Input::Jpeg(bytes, info) => (PayloadAt::Outside(bytes), info.width, info.height),
            Input::Raw(raw) => {
                let range = p
                    .encode(&raw, s.quality, s.subsampling, s.engine)
                    .map_err(|e| pool_status(e, out))?;
                (PayloadAt::Pool(range), raw.width(), raw.height())
            }
        };
        out.width = width.into();
        out.height = height.into();
        let body: &[u8] = match &payload {
            PayloadAt::Outside(b) => b,
            PayloadAt::Pool(r) => &p.bytes()[r.clone()],
        };
        let repr = FrameRepr {
            flags: 0,
            seq: meta.seq,
            timestamp_us: meta.timestamp_us,
            width,
            height,
            format: IS_FORMAT_JPEG,
            camera_id: meta.camera_id,
            payload_len: body.len() as u32,
            payload_crc: img_stream_core::crc32::crc32(body),
        };
        let result = match payload {
            PayloadAt::Pool(range) => {
                // Header straight in front of the payload: one contiguous write.
                let start = range.start - HEADER_LEN;
                let buf = p.bytes_mut();
                repr.emit(&mut buf[start..range.start]);
                send::write_all(&mut w, &buf[start..range.end])
            }
            PayloadAt::Outside(bytes) => {
                let mut head = [0u8; HEADER_LEN];
                repr.emit(&mut head);
                send::write_parts(&mut w, &[&head, bytes])
            }
        };
        match result {
            Ok(n) => {
                out.len = n;
                Ok(())
            }
            Err((e, n)) => {
                out.len = n;
                Err(send_status(e, out))
            }
        }
    });
    match r {
        Ok(Ok(())) => IS_OK,
        Ok(Err(status)) => status,
        Err(e) => pool_status(e, out),
    }
}

/// Where the bytes to send live.
enum PayloadAt<'a> {
    /// In the pool, after the headroom.
    Pool(core::ops::Range<usize>),
    /// In the caller's buffer (JPEG pass-through).
    Outside(&'a [u8]),
}

const _: () = assert!(HEADER_LEN <= HEADROOM);

/// CRC-32 (ISO-HDLC, as on the wire) of `len` bytes at `data`.
///
/// # Safety
/// `data` has `len` readable bytes (or `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn is_crc32(data: *const u8, len: usize) -> u32 {
    if data.is_null() || len == 0 {
        return img_stream_core::crc32::crc32(&[]);
    }
    // SAFETY: per the contract above.
    img_stream_core::crc32::crc32(unsafe { core::slice::from_raw_parts(data, len) })
}
