//! The C ABI the shim calls, and the single source of the constants and
//! limits the shim and Python see. `c_glue/img_stream/img_stream_core.h` is
//! generated from this file, its transport siblings and
//! `core/src/pixel.rs` by cbindgen (`src/header_check.rs` fails when they
//! drift; `make header` regenerates it).
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
use img_stream_core::{chunk, framing};

use crate::pool::{PoolError, PoolInfo, POOL};
use crate::rate::IsRateState;
use crate::send::{self, SendError};
use crate::staging;

/// Success.
pub const IS_OK: i32 = 0;
/// Width or height is 0 or above 65535.
pub const IS_ERR_BAD_SIZE: i32 = 1;
/// Width must be even for this format.
pub const IS_ERR_ODD_WIDTH: i32 = 2;
/// Height must be even for this format.
pub const IS_ERR_ODD_HEIGHT: i32 = 3;
/// Stride negative, or smaller than a row.
pub const IS_ERR_BAD_STRIDE: i32 = 4;
/// The pixel buffer is smaller than the frame (`needed` says how large).
pub const IS_ERR_FRAME_TOO_SMALL: i32 = 5;
/// Unknown pixel format code.
pub const IS_ERR_BAD_FORMAT: i32 = 6;
/// Quality outside `IS_QUALITY_MIN..=IS_QUALITY_MAX`.
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
/// Engine code not one of the `IS_ENGINE_*` values.
pub const IS_ERR_BAD_ENGINE: i32 = 18;
/// An `img_stream.Encoded` whose JPEG the pool no longer holds (another
/// frame was encoded or sent through the pool since).
pub const IS_ERR_STALE: i32 = 19;

/// Engine code: the default engine ([`Engine::default`]).
pub const IS_ENGINE_AUTO: i32 = 0;
/// Engine code: the `jpeg-encoder` crate ([`Engine::Generic`]).
pub const IS_ENGINE_JPEG_ENCODER: i32 = 1;
/// Engine code: img_stream's own encoder ([`Engine::Fast`]).
pub const IS_ENGINE_FAST: i32 = 2;

/// Lowest JPEG quality (`jpeg::QUALITY`).
pub const IS_QUALITY_MIN: i32 = 1;
/// Highest JPEG quality (`jpeg::QUALITY`).
pub const IS_QUALITY_MAX: i32 = 100;

/// Length of a v1 frame header (`framing::HEADER_LEN`).
pub const IS_FRAME_HEADER_LEN: usize = 40;
/// Length of a v1 chunk header (`chunk::HEADER_LEN`).
pub const IS_CHUNK_HEADER_LEN: usize = 32;
/// Most chunks one frame may be cut into (`chunk::MAX_COUNT`).
pub const IS_CHUNK_MAX_COUNT: usize = 65_535;

// cbindgen only copies literals: these tie them to the core's definitions.
const _: () = assert!(IS_QUALITY_MIN == *jpeg::QUALITY.start() as i32);
const _: () = assert!(IS_QUALITY_MAX == *jpeg::QUALITY.end() as i32);
const _: () = assert!(IS_FRAME_HEADER_LEN == framing::HEADER_LEN);
const _: () = assert!(IS_CHUNK_HEADER_LEN == chunk::HEADER_LEN);
const _: () = assert!(IS_CHUNK_MAX_COUNT == chunk::MAX_COUNT);

/// A frame as the shim found it: raw pixels, or JPEG bytes when
/// `format == IS_FMT_JPEG` (then width/height may be 0: read from the SOF).
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
    /// Pixel format code (`IS_FMT_*`).
    pub format: u8,
    /// Non-zero: the frame is the JPEG of `len` bytes the pool holds since
    /// this generation (`img_stream.Encoded`); `data` is then unused.
    pub held: u32,
}

#[cfg(test)]
impl IsFrame {
    /// Packed pixels of format `code`, as the shim would pass them.
    pub(crate) fn raw(px: &[u8], width: u32, height: u32, code: u8) -> IsFrame {
        IsFrame {
            data: px.as_ptr(),
            len: px.len(),
            width,
            height,
            stride: 0,
            format: code,
            held: 0,
        }
    }

    /// JPEG bytes, as the shim passes them (size read from the SOF).
    pub(crate) fn jpeg(bytes: &[u8]) -> IsFrame {
        IsFrame::raw(bytes, 0, 0, PixelFormat::Jpeg.code())
    }
}

/// Encoder settings.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsEncodeOptions {
    /// JPEG quality, `IS_QUALITY_MIN..=IS_QUALITY_MAX` (with `rate`: its
    /// current quality, checked like any other).
    pub quality: i32,
    /// 444, 422 or 420.
    pub subsampling: i32,
    /// An `IS_ENGINE_*` code.
    pub engine: i32,
    /// A `RateControl`'s state (`quality=rc`) that picks each frame's
    /// quality, or null for the fixed `quality`. Borrowed for the call.
    pub rate: *mut IsRateState,
    /// The frame's time for `rate` (the shim's clock, µs).
    pub now_us: u64,
}

impl IsEncodeOptions {
    /// Fixed-quality options (no rate control), as Rust callers and tests
    /// build them.
    pub const fn fixed(quality: i32, subsampling: i32, engine: i32) -> IsEncodeOptions {
        IsEncodeOptions {
            quality,
            subsampling,
            engine,
            rate: core::ptr::null_mut(),
            now_us: 0,
        }
    }
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

/// What the write callback returns when the stream raised a Python exception
/// (the shim keeps it and re-raises after Rust returns).
pub const IS_WRITE_RAISED: i32 = -1;
/// What the write callback of a non-blocking writer returns when the stream
/// is full for now (EAGAIN): the caller resumes later, nothing is raised.
pub const IS_WRITE_WOULD_BLOCK: i32 = -2;

/// The shim's write callback: writes up to `len` bytes, stores how many in
/// `*written`, returns 0, a positive errno, [`IS_WRITE_RAISED`] or
/// [`IS_WRITE_WOULD_BLOCK`].
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

/// The wire header fields the caller chooses for one frame (the rest come
/// from the image and its JPEG).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsHeaderFields {
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
            IS_WRITE_RAISED => Err(SendError::Exception),
            IS_WRITE_WOULD_BLOCK => Err(SendError::WouldBlock),
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
        // Only a non-blocking writer reports WouldBlock, and its caller
        // (tcp_sender) resumes instead of failing: to anyone else it means
        // the stream took nothing.
        SendError::Stalled | SendError::WouldBlock => IS_ERR_STALLED,
    }
}

/// Validated settings.
pub(crate) struct Settings {
    pub(crate) quality: u8,
    pub(crate) subsampling: Subsampling,
    pub(crate) engine: Engine,
    rate: *mut IsRateState,
    now_us: u64,
}

impl Settings {
    /// Runs `encode(quality)` for one frame: once at the fixed quality, or
    /// under the rate control (once, twice when the first size missed its
    /// budget). `size` reads a result's byte count. The one place a
    /// transport's quality is chosen.
    pub(crate) fn encode<T, E>(
        &self,
        mut encode: impl FnMut(u8) -> Result<T, E>,
        size: impl Fn(&T) -> usize,
    ) -> Result<T, E> {
        if self.rate.is_null() {
            return encode(self.quality);
        }
        // SAFETY: a non-null `rate` is a live state block the caller lends
        // for this call only (IsEncodeOptions' contract).
        let rc = unsafe { crate::rate::rate_of(self.rate) };
        rc.encode_with(self.now_us, encode, size)
    }
}

pub(crate) fn settings(o: &IsEncodeOptions) -> Result<Settings, i32> {
    let quality = jpeg::check_quality(o.quality).map_err(encode_status)?;
    let subsampling = u32::try_from(o.subsampling)
        .ok()
        .and_then(Subsampling::from_number)
        .ok_or(IS_ERR_BAD_SUBSAMPLING)?;
    let engine = match o.engine {
        IS_ENGINE_AUTO => Engine::default(),
        IS_ENGINE_JPEG_ENCODER => Engine::Generic,
        IS_ENGINE_FAST => Engine::Fast,
        _ => return Err(IS_ERR_BAD_ENGINE),
    };
    Ok(Settings {
        quality,
        subsampling,
        engine,
        rate: o.rate,
        now_us: o.now_us,
    })
}

/// Borrows `len` bytes at `p`; a null pointer is only fine for `len == 0`.
/// The one place the C ABI turns a pointer and a length into a slice.
///
/// # Safety
/// `p` has `len` readable bytes for `'a`.
pub(crate) unsafe fn borrow<'a>(p: *const u8, len: usize) -> Result<&'a [u8], i32> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(IS_ERR_NULL);
    }
    // SAFETY: per the contract above.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

/// Borrows `cap` writable bytes at `p`, as [`borrow`].
///
/// # Safety
/// `p` has `cap` writable bytes for `'a`.
pub(crate) unsafe fn borrow_mut<'a>(p: *mut u8, cap: usize) -> Result<&'a mut [u8], i32> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(IS_ERR_NULL);
    }
    // SAFETY: per the contract above.
    Ok(unsafe { core::slice::from_raw_parts_mut(p, cap) })
}

/// A frame's bytes, once its pointer has been checked.
///
/// # Safety
/// `f.data` must point to `f.len` readable bytes for the call.
pub(crate) unsafe fn bytes_of(f: &IsFrame) -> Result<&[u8], i32> {
    if f.held != 0 {
        return Ok(&[]); // the bytes are the pool's: see Input::Held
    }
    // SAFETY: the caller guarantees `len` readable bytes at `data`.
    unsafe { borrow(f.data, f.len) }
}

/// Checks encoder options as every encoding call will: the shim calls this
/// first, so a bad option is reported before anything else happens.
///
/// # Safety
/// `options` points to a valid `IsEncodeOptions`.
#[no_mangle]
pub unsafe extern "C" fn is_options_check(options: *const IsEncodeOptions) -> i32 {
    // SAFETY: per the contract above.
    match settings(unsafe { &*options }) {
        Ok(_) => IS_OK,
        Err(status) => status,
    }
}

/// The checks every encoding entry point starts with: its options, then the
/// frame against its buffer.
///
/// # Safety
/// `f.data` has `f.len` readable bytes for `'a` (see [`bytes_of`]).
pub(crate) unsafe fn open_input<'a>(
    f: &'a IsFrame,
    o: &IsEncodeOptions,
    out: &mut IsOutcome,
) -> Result<(Settings, Input<'a>), i32> {
    let s = settings(o)?;
    // SAFETY: per the contract above.
    let data = unsafe { bytes_of(f) }?;
    Ok((s, input(f, data, out)?))
}

/// What a frame turned out to be.
pub(crate) enum Input<'a> {
    Raw(RawFrame<'a>),
    Jpeg(&'a [u8], jpeg::info::JpegInfo),
    /// The JPEG the pool holds (checked against the pool when used).
    Held {
        generation: u32,
        len: usize,
    },
}

pub(crate) fn input<'a>(
    f: &IsFrame,
    data: &'a [u8],
    out: &mut IsOutcome,
) -> Result<Input<'a>, i32> {
    if f.held != 0 {
        return Ok(Input::Held {
            generation: f.held,
            len: f.len,
        });
    }
    if f.format == PixelFormat::Jpeg.code() {
        let info = jpeg::info::parse(data).ok_or(IS_ERR_BAD_JPEG)?;
        return Ok(Input::Jpeg(data, info));
    }
    let format = PixelFormat::from_code(f.format).ok_or(IS_ERR_BAD_FORMAT)?;
    RawFrame::new(data, f.width, f.height, format, f.stride)
        .map(Input::Raw)
        .map_err(|e| frame_status(e, out))
}

/// Fills `frame` from the parts the shim read off a Python object, as the
/// shim read them (machine integers, unchecked): the format code, a width
/// and height of 1..=65535 and a stride of 0 or more are checked here, then
/// the shape against the buffer. JPEG input
/// (`IS_FMT_JPEG`) ignores width, height and stride; its SOF is read when
/// it is used. On failure `frame` is left as it was.
///
/// # Safety
/// `frame` and `out` are writable; `data` has `len` readable bytes for as
/// long as `frame` is used.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn is_frame_from_parts(
    frame: *mut IsFrame,
    data: *const u8,
    len: usize,
    width: i64,
    height: i64,
    format: i64,
    stride: i64,
    out: *mut IsOutcome,
) -> i32 {
    let format = match u8::try_from(format).ok().and_then(PixelFormat::from_code) {
        Some(f) => f,
        None => return IS_ERR_BAD_FORMAT,
    };
    let (width, height, stride) = if format == PixelFormat::Jpeg {
        (0, 0, 0)
    } else {
        let side = |v: i64| u16::try_from(v).ok().filter(|&v| v > 0).map(u32::from);
        let (Some(width), Some(height)) = (side(width), side(height)) else {
            return IS_ERR_BAD_SIZE;
        };
        let Ok(stride) = usize::try_from(stride) else {
            return IS_ERR_BAD_STRIDE;
        };
        (width, height, stride)
    };
    let candidate = IsFrame {
        data,
        len,
        width,
        height,
        stride,
        format: format.code(),
        held: 0,
    };
    if format != PixelFormat::Jpeg {
        // The shape against the buffer, as every encode checks it
        // (`out.needed` for a buffer too small).
        // SAFETY: per the contract above.
        let (bytes, out) = unsafe { (try_status!(bytes_of(&candidate)), &mut *out) };
        try_status!(input(&candidate, bytes, out));
    }
    // SAFETY: per the contract above.
    unsafe { *frame = candidate };
    IS_OK
}

/// The short name of pixel format `code` (`"rgb565"`, `"?"` for an unknown
/// code), as `len` bytes at the returned pointer, not NUL-terminated.
///
/// # Safety
/// `len` is writable.
#[no_mangle]
pub unsafe extern "C" fn is_format_name(code: u8, len: *mut usize) -> *const u8 {
    let name = PixelFormat::from_code(code).map_or("?", PixelFormat::name);
    // SAFETY: per the contract above.
    unsafe { *len = name.len() };
    name.as_ptr()
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
    let dst = try_status!(unsafe { borrow_mut(dst, cap) });
    let (s, input) = try_status!(unsafe { open_input(f, o, out) });
    match input {
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
        Input::Held { generation, len } => {
            let r = POOL.with(|p| -> Result<(), i32> {
                let held = p.held(generation, len).ok_or(IS_ERR_STALE)?;
                if len > dst.len() {
                    out.needed = len;
                    return Err(IS_ERR_OUTPUT_TOO_SMALL);
                }
                dst[..len].copy_from_slice(&p.bytes()[held]);
                out.len = len;
                Ok(())
            });
            staging::status(r, out)
        }
        Input::Raw(raw) => {
            out.width = f.width;
            out.height = f.height;
            // (offered bytes, whether they overflowed `dst`)
            let r = s.encode(
                |q| {
                    let mut slice = SliceSink::new(&mut *dst);
                    let mut m = Measure::new(&mut slice);
                    jpeg::encode(&raw, q, s.subsampling, s.engine, &mut m)?;
                    Ok::<_, EncodeError>((m.offered(), m.overflowed()))
                },
                |r| r.0,
            );
            match r {
                Err(e) => encode_status(e),
                Ok((needed, true)) => {
                    out.needed = needed;
                    IS_ERR_OUTPUT_TOO_SMALL
                }
                Ok((len, false)) => {
                    out.len = len;
                    IS_OK
                }
            }
        }
    }
}

/// Encodes `frame` into the module's reusable buffer; `*jpeg` points at the
/// result, valid until the next call that uses the buffer. JPEG input is not
/// copied: `*jpeg` then points into the caller's buffer (or the pool's, for
/// a held JPEG).
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
    let (s, input) = try_status!(unsafe { open_input(f, o, out) });
    match input {
        Input::Jpeg(bytes, info) => {
            out.width = info.width.into();
            out.height = info.height.into();
            out.len = bytes.len();
            // SAFETY: `jpeg` is writable.
            unsafe { *jpeg = bytes.as_ptr() };
            IS_OK
        }
        input => {
            let r = POOL.with(|p| -> Result<(), i32> {
                let range = staging::stage(p, input, &s, 0, out)?.jpeg;
                out.len = range.len();
                // SAFETY: `jpeg` is writable.
                unsafe { *jpeg = p.bytes()[range].as_ptr() };
                Ok(())
            });
            staging::status(r, out)
        }
    }
}

/// A JPEG the pool holds for `img_stream.Encoded`: pass `generation` and
/// `len` back in an [`IsFrame`]'s `held`/`len` to send it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IsHeld {
    /// The pool's generation when the JPEG was put there (never 0).
    pub generation: u32,
    /// JPEG bytes.
    pub len: usize,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Puts `frame`'s JPEG into the pool and holds it there (encoded from raw
/// pixels, or JPEG input copied in once) for any number of transports to
/// send in place, until the next call that uses the pool.
///
/// # Safety
/// Pointers valid for the call.
#[no_mangle]
pub unsafe extern "C" fn is_pool_hold(
    frame: *const IsFrame,
    options: *const IsEncodeOptions,
    held: *mut IsHeld,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (f, o, held, out) = unsafe { (&*frame, &*options, &mut *held, &mut *out) };
    let (s, input) = try_status!(unsafe { open_input(f, o, out) });
    let r = POOL.with(|p| -> Result<(), i32> {
        let st = staging::stage(p, input, &s, 0, out)?;
        *held = IsHeld {
            generation: p.generation(),
            len: st.jpeg.len(),
            width: st.width.into(),
            height: st.height.into(),
        };
        out.len = st.jpeg.len();
        Ok(())
    });
    staging::status(r, out)
}

/// Where a held JPEG lies now (`*jpeg`, `len` bytes), for reading it (the
/// buffer protocol of `img_stream.Encoded`); `IS_ERR_STALE` when the pool no
/// longer holds it.
///
/// # Safety
/// `held` readable, `jpeg` writable.
#[no_mangle]
pub unsafe extern "C" fn is_pool_held(held: *const IsHeld, jpeg: *mut *const u8) -> i32 {
    // SAFETY: per the contract above.
    let h = unsafe { &*held };
    let r = POOL.with(|p| p.held(h.generation, h.len).map(|r| p.bytes()[r].as_ptr()));
    match r {
        Ok(Some(ptr)) => {
            // SAFETY: `jpeg` is writable.
            unsafe { *jpeg = ptr };
            IS_OK
        }
        Ok(None) => IS_ERR_STALE,
        Err(_) => IS_ERR_BUSY,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(quality: i32, subsampling: i32, engine: i32) -> i32 {
        let o = IsEncodeOptions::fixed(quality, subsampling, engine);
        unsafe { is_options_check(&o) }
    }

    #[test]
    fn options_are_checked_in_rust_only() {
        assert_eq!(check(IS_QUALITY_MIN, 420, IS_ENGINE_AUTO), IS_OK);
        assert_eq!(check(IS_QUALITY_MAX, 444, IS_ENGINE_FAST), IS_OK);
        assert_eq!(check(0, 420, 0), IS_ERR_BAD_QUALITY);
        assert_eq!(check(101, 420, 0), IS_ERR_BAD_QUALITY);
        assert_eq!(check(-1, 420, 0), IS_ERR_BAD_QUALITY);
        assert_eq!(check(65, 411, 0), IS_ERR_BAD_SUBSAMPLING);
        assert_eq!(check(65, -420, 0), IS_ERR_BAD_SUBSAMPLING);
        for engine in [-1, 3, i32::MAX] {
            assert_eq!(check(65, 420, engine), IS_ERR_BAD_ENGINE, "engine {engine}");
        }
        let engine = |code| {
            settings(&IsEncodeOptions::fixed(65, 420, code))
                .map(|s| s.engine)
                .ok()
        };
        assert_eq!(engine(IS_ENGINE_AUTO), Some(Engine::default()));
        assert_eq!(engine(IS_ENGINE_JPEG_ENCODER), Some(Engine::Generic));
        assert_eq!(engine(IS_ENGINE_FAST), Some(Engine::Fast));
    }

    fn from_parts(px: &[u8], w: i64, h: i64, format: i64, stride: i64) -> (i32, IsFrame) {
        let mut f = IsFrame::raw(&[], 1, 1, PixelFormat::Grayscale.code());
        let mut out = IsOutcome::default();
        let st = unsafe {
            is_frame_from_parts(
                &mut f,
                px.as_ptr(),
                px.len(),
                w,
                h,
                format,
                stride,
                &mut out,
            )
        };
        (st, f)
    }

    #[test]
    fn frames_from_parts_are_checked_in_rust_only() {
        let px = [0u8; 64];
        let (st, f) = from_parts(&px, 4, 2, PixelFormat::Rgb888.code().into(), 0);
        assert_eq!(st, IS_OK);
        assert_eq!(
            (f.width, f.height, f.stride, f.format, f.len),
            (4, 2, 0, PixelFormat::Rgb888.code(), 64)
        );
        let gray = IsFrame::raw(&[], 1, 1, PixelFormat::Grayscale.code());
        for (w, h, format, stride, want) in [
            (4, 2, 0, 0, IS_ERR_BAD_FORMAT),
            (4, 2, -1, 0, IS_ERR_BAD_FORMAT),
            (
                4,
                2,
                256 + i64::from(PixelFormat::Rgb888.code()),
                0,
                IS_ERR_BAD_FORMAT,
            ),
            (0, 2, 1, 0, IS_ERR_BAD_SIZE),
            (-4, 2, 1, 0, IS_ERR_BAD_SIZE),
            (4, 65536, 1, 0, IS_ERR_BAD_SIZE),
            (4, 2, 1, -1, IS_ERR_BAD_STRIDE),
            (4, 2, 4, 5, IS_ERR_BAD_STRIDE),
            (8, 8, 4, 0, IS_ERR_FRAME_TOO_SMALL),
        ] {
            let (st, f) = from_parts(&px, w, h, format, stride);
            assert_eq!(st, want, "{w}x{h} format {format} stride {stride}");
            // A failed call leaves the frame as it was.
            assert_eq!(
                (f.width, f.height, f.format, f.len),
                (gray.width, gray.height, gray.format, gray.len)
            );
        }
        // JPEG: the shape comes from the SOF later, whatever was passed.
        let (st, f) = from_parts(&px, -1, 0, PixelFormat::Jpeg.code().into(), -7);
        assert_eq!(st, IS_OK);
        assert_eq!(
            (f.width, f.height, f.stride, f.format),
            (0, 0, 0, PixelFormat::Jpeg.code())
        );
        let mut n = 0;
        let name = unsafe {
            core::slice::from_raw_parts(is_format_name(PixelFormat::Nv12.code(), &mut n), n)
        };
        assert_eq!(name, b"nv12");
        let name = unsafe { core::slice::from_raw_parts(is_format_name(0, &mut n), n) };
        assert_eq!(name, b"?");
    }
}
