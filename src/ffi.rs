//! The C ABI the shim calls. `c_glue/img_stream/img_stream_core.h` is generated from
//! this file by cbindgen (`tests/header.rs` fails if they drift).
//!
//! Conventions: every function returns an `IS_*` status; details (sizes,
//! errno) come back in an [`IsOutcome`]. Pointers are borrowed for the call
//! only: nothing is kept after return, so no GC object is ever referenced
//! from memory the MicroPython GC cannot see.

use core::ffi::c_void;

use img_stream_core::frame::{FrameError, RawFrame};
use img_stream_core::jpeg::{self, EncodeError, Engine, Subsampling};
use img_stream_core::pixel::PixelFormat;
use img_stream_core::sink::{Measure, SliceSink};

use crate::pool::{PoolError, PoolInfo, POOL};
use crate::send::{self, SendError};

/// Success.
pub const IS_OK: i32 = 0;
/// Width or height is 0 or above 65535.
pub const IS_ERR_BAD_SIZE: i32 = 1;
/// Width must be even for this format.
pub const IS_ERR_ODD_WIDTH: i32 = 2;
/// Height must be even for this format.
pub const IS_ERR_ODD_HEIGHT: i32 = 3;
/// Stride smaller than a row.
pub const IS_ERR_BAD_STRIDE: i32 = 4;
/// The pixel buffer is smaller than the frame (`needed` says how large).
pub const IS_ERR_FRAME_TOO_SMALL: i32 = 5;
/// Unknown pixel format code.
pub const IS_ERR_BAD_FORMAT: i32 = 6;
/// Quality outside 1..100.
pub const IS_ERR_BAD_QUALITY: i32 = 7;
/// Subsampling not 444, 422 or 420.
pub const IS_ERR_BAD_SUBSAMPLING: i32 = 8;
/// The caller's output buffer is too small (`needed` says how large).
pub const IS_ERR_OUTPUT_TOO_SMALL: i32 = 9;
/// The encoded frame would exceed the buffer limit (`needed` says by how much).
pub const IS_ERR_OVER_LIMIT: i32 = 10;
/// Out of memory.
pub const IS_ERR_NO_MEMORY: i32 = 11;
/// The stream failed: `os_error` holds the errno.
pub const IS_ERR_OS: i32 = 12;
/// The stream raised a Python exception, which the shim holds and re-raises.
pub const IS_ERR_EXCEPTION: i32 = 13;
/// The pool is in use by another thread.
pub const IS_ERR_BUSY: i32 = 14;
/// Bytes claimed to be a JPEG have no readable SOF marker.
pub const IS_ERR_BAD_JPEG: i32 = 15;
/// A required pointer was null.
pub const IS_ERR_NULL: i32 = 16;
/// The stream accepted no bytes and reported no error.
pub const IS_ERR_STALLED: i32 = 17;

/// Pixel-format code of an already-encoded JPEG.
pub const IS_FORMAT_JPEG: u8 = 9;

/// A frame as the shim found it: raw pixels, or JPEG bytes when
/// `format == IS_FORMAT_JPEG` (then width/height may be 0: read from the SOF).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsFrame {
    /// First byte of the buffer.
    pub data: *const u8,
    /// Bytes in the buffer.
    pub len: usize,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes per row, 0 for packed rows.
    pub stride: usize,
    /// Pixel format code (`img_stream` constants).
    pub format: u8,
}

/// Encoder settings.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsEncodeOptions {
    /// JPEG quality 1..100.
    pub quality: i32,
    /// 444, 422 or 420.
    pub subsampling: i32,
    /// 0 auto, 1 jpeg-encoder, 2 img_stream's own encoder.
    pub engine: i32,
}

/// What a call did, besides its status.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IsOutcome {
    /// Bytes produced (encode) or written (send).
    pub len: usize,
    /// Bytes needed, for the `*_TOO_SMALL` and `OVER_LIMIT` statuses.
    pub needed: usize,
    /// errno for `IS_ERR_OS`.
    pub os_error: i32,
    /// Width of the frame sent (read from the SOF for JPEG input).
    pub width: u32,
    /// Height of the frame sent.
    pub height: u32,
}

/// The shim's write callback: writes up to `len` bytes, stores how many in
/// `*written`, returns 0, a positive errno, or -1 when a Python exception was
/// raised (the shim keeps it and re-raises after Rust returns).
pub type IsWriteFn =
    unsafe extern "C" fn(ctx: *mut c_void, buf: *const u8, len: usize, written: *mut usize) -> i32;

/// A stream to write to: the callback and its context.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsWriter {
    /// Called for each piece; never null.
    pub write: IsWriteFn,
    /// Passed back to `write`.
    pub ctx: *mut c_void,
}

/// Per-frame header fields chosen by the caller.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsFrameMeta {
    /// Frame sequence number.
    pub seq: u32,
    /// Sender id carried in the header.
    pub camera_id: u16,
    /// Capture time in µs.
    pub timestamp_us: u64,
}

impl send::Write for IsWriter {
    fn write(&mut self, buf: &[u8]) -> Result<usize, SendError> {
        let f = self.write;
        let mut written = 0usize;
        // SAFETY: the shim's callback reads `len` bytes at `buf`, which live
        // for this call, and writes `written`.
        let r = unsafe { f(self.ctx, buf.as_ptr(), buf.len(), &mut written) };
        match r {
            0 => Ok(written),
            -1 => Err(SendError::Exception),
            e => Err(SendError::Os(e)),
        }
    }
}

pub(crate) fn frame_status(e: FrameError, out: &mut IsOutcome) -> i32 {
    match e {
        FrameError::BadSize => IS_ERR_BAD_SIZE,
        FrameError::OddWidth => IS_ERR_ODD_WIDTH,
        FrameError::OddHeight => IS_ERR_ODD_HEIGHT,
        FrameError::BadStride => IS_ERR_BAD_STRIDE,
        FrameError::TooSmall { needed } => {
            out.needed = needed;
            IS_ERR_FRAME_TOO_SMALL
        }
        FrameError::NotRaw => IS_ERR_BAD_FORMAT,
    }
}

pub(crate) fn pool_status(e: PoolError, out: &mut IsOutcome) -> i32 {
    match e {
        PoolError::OverLimit { needed } => {
            out.needed = needed;
            IS_ERR_OVER_LIMIT
        }
        PoolError::NoMemory => IS_ERR_NO_MEMORY,
        PoolError::Busy => IS_ERR_BUSY,
        PoolError::Encode(e) => encode_status(e),
    }
}

pub(crate) fn encode_status(e: EncodeError) -> i32 {
    match e {
        EncodeError::BadQuality => IS_ERR_BAD_QUALITY,
        EncodeError::SinkFull => IS_ERR_OUTPUT_TOO_SMALL,
        EncodeError::OutOfMemory => IS_ERR_NO_MEMORY,
        EncodeError::NotRaw => IS_ERR_BAD_FORMAT,
    }
}

pub(crate) fn send_status(e: SendError, out: &mut IsOutcome) -> i32 {
    match e {
        SendError::Os(errno) => {
            out.os_error = errno;
            IS_ERR_OS
        }
        SendError::Exception => IS_ERR_EXCEPTION,
        SendError::Stalled => IS_ERR_STALLED,
    }
}

/// Validated settings.
pub(crate) struct Settings {
    pub(crate) quality: u8,
    pub(crate) subsampling: Subsampling,
    pub(crate) engine: Engine,
}

pub(crate) fn settings(o: &IsEncodeOptions) -> Result<Settings, i32> {
    if !(1..=100).contains(&o.quality) {
        return Err(IS_ERR_BAD_QUALITY);
    }
    let subsampling = u32::try_from(o.subsampling)
        .ok()
        .and_then(Subsampling::from_number)
        .ok_or(IS_ERR_BAD_SUBSAMPLING)?;
    let engine = match o.engine {
        1 => Engine::Generic,
        2 => Engine::Fast,
        _ => Engine::Auto,
    };
    Ok(Settings {
        quality: o.quality as u8,
        subsampling,
        engine,
    })
}

/// A frame's bytes, once its pointer has been checked.
///
/// # Safety
/// `f.data` must point to `f.len` readable bytes for the call.
pub(crate) unsafe fn bytes_of(f: &IsFrame) -> Result<&[u8], i32> {
    if f.data.is_null() {
        return if f.len == 0 {
            Ok(&[])
        } else {
            Err(IS_ERR_NULL)
        };
    }
    // SAFETY: the caller guarantees `len` readable bytes at `data`.
    Ok(unsafe { core::slice::from_raw_parts(f.data, f.len) })
}

/// What a frame turned out to be.
pub(crate) enum Input<'a> {
    Raw(RawFrame<'a>),
    Jpeg(&'a [u8], jpeg::info::JpegInfo),
}

pub(crate) fn input<'a>(
    f: &IsFrame,
    data: &'a [u8],
    out: &mut IsOutcome,
) -> Result<Input<'a>, i32> {
    if f.format == IS_FORMAT_JPEG {
        let info = jpeg::info::parse(data).ok_or(IS_ERR_BAD_JPEG)?;
        return Ok(Input::Jpeg(data, info));
    }
    let format = PixelFormat::from_code(f.format).ok_or(IS_ERR_BAD_FORMAT)?;
    RawFrame::new(data, f.width, f.height, format, f.stride)
        .map(Input::Raw)
        .map_err(|e| frame_status(e, out))
}

/// Checks a frame's shape against its buffer; `out.needed` is the byte count
/// it requires.
///
/// # Safety
/// `frame` points to a valid `IsFrame` whose `data` has `len` readable bytes;
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn is_frame_check(frame: *const IsFrame, out: *mut IsOutcome) -> i32 {
    // SAFETY: per the contract above.
    let (f, out) = unsafe { (&*frame, &mut *out) };
    let data = try_status!(unsafe { bytes_of(f) });
    match try_status!(input(f, data, out)) {
        Input::Raw(r) => {
            out.needed = data
                .len()
                .min(RawFrame::required_len(f.width, f.height, r.format(), f.stride).unwrap_or(0));
            out.width = f.width;
            out.height = f.height;
        }
        Input::Jpeg(_, info) => {
            out.width = info.width.into();
            out.height = info.height.into();
        }
    }
    IS_OK
}

/// Encodes `frame` into the caller's buffer `dst` of `cap` bytes. JPEG input
/// is copied unchanged. On `IS_ERR_OUTPUT_TOO_SMALL`, `out.needed` is the
/// size that would have fitted.
///
/// # Safety
/// Pointers valid for the call; `dst` has `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn is_encode_into(
    frame: *const IsFrame,
    options: *const IsEncodeOptions,
    dst: *mut u8,
    cap: usize,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (f, o, out) = unsafe { (&*frame, &*options, &mut *out) };
    let s = try_status!(settings(o));
    let data = try_status!(unsafe { bytes_of(f) });
    if dst.is_null() && cap != 0 {
        return IS_ERR_NULL;
    }
    let dst: &mut [u8] = if cap == 0 {
        &mut []
    } else {
        // SAFETY: `cap` writable bytes at `dst`.
        unsafe { core::slice::from_raw_parts_mut(dst, cap) }
    };
    match try_status!(input(f, data, out)) {
        Input::Jpeg(bytes, info) => {
            out.width = info.width.into();
            out.height = info.height.into();
            if bytes.len() > dst.len() {
                out.needed = bytes.len();
                return IS_ERR_OUTPUT_TOO_SMALL;
            }
            dst[..bytes.len()].copy_from_slice(bytes);
            out.len = bytes.len();
            IS_OK
        }
        Input::Raw(raw) => {
            out.width = f.width;
            out.height = f.height;
            let mut slice = SliceSink::new(dst);
            let mut m = Measure::new(&mut slice);
            if let Err(e) = jpeg::encode(&raw, s.quality, s.subsampling, s.engine, &mut m) {
                return encode_status(e);
            }
            if m.overflowed() {
                out.needed = m.offered();
                return IS_ERR_OUTPUT_TOO_SMALL;
            }
            out.len = m.offered();
            IS_OK
        }
    }
}

/// Encodes `frame` into the module's reusable buffer; `*jpeg` points at the
/// result, valid until the next call that uses the buffer. JPEG input is not
/// copied: `*jpeg` then points into the caller's buffer.
///
/// # Safety
/// Pointers valid for the call.
#[no_mangle]
pub unsafe extern "C" fn is_pool_encode(
    frame: *const IsFrame,
    options: *const IsEncodeOptions,
    jpeg: *mut *const u8,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (f, o, out) = unsafe { (&*frame, &*options, &mut *out) };
    let s = try_status!(settings(o));
    let data = try_status!(unsafe { bytes_of(f) });
    match try_status!(input(f, data, out)) {
        Input::Jpeg(bytes, info) => {
            out.width = info.width.into();
            out.height = info.height.into();
            out.len = bytes.len();
            // SAFETY: `jpeg` is writable.
            unsafe { *jpeg = bytes.as_ptr() };
            IS_OK
        }
        Input::Raw(raw) => {
            out.width = f.width;
            out.height = f.height;
            let r = POOL.with(|p| {
                let range = p.encode(&raw, s.quality, s.subsampling, s.engine)?;
                Ok::<_, PoolError>((p.bytes()[range.clone()].as_ptr(), range.len()))
            });
            match r.and_then(|r| r) {
                Ok((ptr, len)) => {
                    out.len = len;
                    // SAFETY: `jpeg` is writable.
                    unsafe { *jpeg = ptr };
                    IS_OK
                }
                Err(e) => pool_status(e, out),
            }
        }
    }
}

/// Copies the pool's size, limit and counters into `info`.
///
/// # Safety
/// `info` is writable.
#[no_mangle]
pub unsafe extern "C" fn is_pool_info(info: *mut PoolInfo) -> i32 {
    match POOL.with(|p| p.info()) {
        Ok(i) => {
            // SAFETY: `info` is writable.
            unsafe { *info = i };
            IS_OK
        }
        Err(_) => IS_ERR_BUSY,
    }
}

/// Caps the pool at `limit` bytes (frees it now if larger).
#[no_mangle]
pub extern "C" fn is_pool_set_limit(limit: usize) -> i32 {
    match POOL.with(|p| p.set_limit(limit)) {
        Ok(()) => IS_OK,
        Err(_) => IS_ERR_BUSY,
    }
}

/// Frees the pool's memory (it grows again on the next frame).
#[no_mangle]
pub extern "C" fn is_pool_release() -> i32 {
    match POOL.with(|p| p.release()) {
        Ok(()) => IS_OK,
        Err(_) => IS_ERR_BUSY,
    }
}
