//! One v1 frame (header + payload) written to a stream: `send_tcp`.

use img_stream_core::framing::HEADER_LEN;

use crate::ffi::*;
use crate::pool::POOL;
use crate::send;
use crate::staging::{emit_header, header_repr, record, stage, status};

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
    fields: *const IsHeaderFields,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (w, f, o, fields, out) = unsafe { (*writer, &*frame, &*options, &*fields, &mut *out) };
    let (s, input) = try_status!(unsafe { open_input(f, o, out) });
    let r = POOL.with(|p| -> Result<(), i32> {
        let mut w = w;
        if let Input::Jpeg(bytes, info) = input {
            // Pass-through JPEG: no copy, header and caller's bytes back to back.
            out.width = info.width.into();
            out.height = info.height.into();
            let mut head = [0u8; HEADER_LEN];
            header_repr(fields, info.width, info.height, bytes).emit(&mut head);
            return record(send::write_parts(&mut w, &[&head, bytes]), out);
        }
        let st = stage(p, input, &s, 0, out)?;
        let frame = emit_header(p.bytes_mut(), &st, fields);
        record(send::write_all(&mut w, &p.bytes()[frame]), out)
    });
    status(r, out)
}

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
