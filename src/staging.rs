//! Steps every transport shares: the frame's JPEG into the pool (encoded, or
//! a pass-through JPEG copied behind the headroom), its v1 header, and the
//! mapping of send results to statuses.

use core::ops::Range;

use img_stream_core::crc32::crc32;
use img_stream_core::framing::{FrameHeaderRepr, HEADER_LEN};
use img_stream_core::pixel::PixelFormat;

use img_stream_core::jpeg;

use crate::ffi::{pool_status, send_status, Input, IsHeaderFields, IsOutcome, Settings};
use crate::ffi::{IS_ERR_BAD_JPEG, IS_ERR_STALE, IS_OK};
use crate::pool::{Pool, PoolError, HEADROOM};
use crate::send::SendError;

// The frame header fits the headroom in front of a staged JPEG.
const _: () = assert!(HEADER_LEN <= HEADROOM);

/// A JPEG now in the pool, after the headroom.
pub(crate) struct Staged {
    /// Where the JPEG lies in [`Pool::bytes`].
    pub jpeg: Range<usize>,
    /// Frame width in pixels.
    pub width: u16,
    /// Frame height in pixels.
    pub height: u16,
}

/// Puts the frame's JPEG into the pool: raw frames are encoded, JPEG input is
/// copied (with `spare` free bytes after it), a JPEG the pool still holds
/// (`img_stream.Encoded`) stays where it is. Sets `out.width`/`out.height`.
pub(crate) fn stage(
    p: &mut Pool,
    input: Input<'_>,
    s: &Settings,
    spare: usize,
    out: &mut IsOutcome,
) -> Result<Staged, i32> {
    let staged = match input {
        Input::Raw(raw) => Staged {
            jpeg: s
                .encode(|q| p.encode(&raw, q, s.subsampling, s.engine), |r| r.len())
                .map_err(|e| pool_status(e, out))?,
            width: raw.width(),
            height: raw.height(),
        },
        Input::Jpeg(bytes, info) => {
            let jpeg = copy_in(p, bytes, spare).map_err(|e| pool_status(e, out))?;
            Staged {
                jpeg,
                width: info.width,
                height: info.height,
            }
        }
        Input::Held { generation, len } => {
            let jpeg = p.held(generation, len).ok_or(IS_ERR_STALE)?;
            p.reserve(jpeg.end + spare)
                .map_err(|e| pool_status(e, out))?;
            let info = jpeg::info::parse(&p.bytes()[jpeg.clone()]).ok_or(IS_ERR_BAD_JPEG)?;
            Staged {
                jpeg,
                width: info.width,
                height: info.height,
            }
        }
    };
    out.width = staged.width.into();
    out.height = staged.height.into();
    Ok(staged)
}

/// Copies a pass-through JPEG behind the headroom, leaving `spare` bytes.
pub(crate) fn copy_in(p: &mut Pool, bytes: &[u8], spare: usize) -> Result<Range<usize>, PoolError> {
    p.reserve(HEADROOM + bytes.len() + spare)?;
    let jpeg = HEADROOM..HEADROOM + bytes.len();
    p.bytes_mut()[jpeg.clone()].copy_from_slice(bytes);
    p.clobber();
    Ok(jpeg)
}

/// The v1 header of a JPEG frame.
pub(crate) fn header_repr(
    fields: &IsHeaderFields,
    width: u16,
    height: u16,
    jpeg: &[u8],
) -> FrameHeaderRepr {
    FrameHeaderRepr {
        flags: 0,
        seq: fields.seq,
        timestamp_us: fields.timestamp_us,
        width,
        height,
        format: PixelFormat::Jpeg.code(),
        camera_id: fields.camera_id,
        payload_len: jpeg.len() as u32,
        payload_crc: crc32(jpeg),
    }
}

/// Writes the v1 header of the staged JPEG into the headroom right before
/// it; returns where the whole frame (header + JPEG) lies in `buf`, so it
/// goes out as one contiguous write.
pub(crate) fn emit_header(buf: &mut [u8], st: &Staged, fields: &IsHeaderFields) -> Range<usize> {
    let start = st.jpeg.start - HEADER_LEN;
    let repr = header_repr(fields, st.width, st.height, &buf[st.jpeg.clone()]);
    repr.emit(&mut buf[start..st.jpeg.start]);
    start..st.jpeg.end
}

/// Records bytes written (also on failure) and maps a send error to a status.
pub(crate) fn record(r: Result<usize, (SendError, usize)>, out: &mut IsOutcome) -> Result<(), i32> {
    match r {
        Ok(n) => {
            out.len = n;
            Ok(())
        }
        Err((e, n)) => {
            out.len = n;
            Err(send_status(e, out))
        }
    }
}

/// The status of a whole pool operation.
pub(crate) fn status(r: Result<Result<(), i32>, PoolError>, out: &mut IsOutcome) -> i32 {
    match r {
        Ok(Ok(())) => IS_OK,
        Ok(Err(status)) => status,
        Err(e) => pool_status(e, out),
    }
}
