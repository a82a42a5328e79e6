//! The C ABI of the per-stream policies: rate control (`RateControl`,
//! `quality=rc`) and skipping unchanged frames (`SkipSame`, `skip_same=`).
//! The policies themselves are `img_stream_core::rate` and
//! `img_stream_core::signature`; this file only lets a MicroPython object
//! hold their state (an opaque, fixed-size block inside the object, on the
//! GC heap: nothing is allocated per frame) and reports it back.
//!
//! Rust callers (a transport's encode path) never touch the blocks: they get
//! the controller through [`Settings::encode`](crate::ffi::Settings) and the
//! skip decision through [`is_same_decide`].

use img_stream_core::rate::{RateConfig, RateControl, RateError};
use img_stream_core::signature::SkipSame;

use crate::ffi::*;

/// Neither `target_bytes` nor `max_kbps` was given.
pub const IS_ERR_RATE_NO_TARGET: i32 = 60;
/// `min_quality`/`max_quality` outside 1..100 or min > max.
pub const IS_ERR_RATE_QUALITY: i32 = 61;
/// `fps` is not positive.
pub const IS_ERR_RATE_FPS: i32 = 62;
/// `target_bytes`, `max_kbps`, `keepalive_s` or `threshold` is negative or
/// too large.
pub const IS_ERR_RATE_VALUE: i32 = 63;

/// Storage for a [`RateControl`], embedded in the Python object.
#[repr(C)]
pub struct IsRateState {
    /// Opaque to C: only Rust reads or writes it.
    pub words: [u64; IS_RATE_STATE_WORDS],
}

/// Storage for a [`SkipSame`], embedded in the Python object.
#[repr(C)]
pub struct IsSameState {
    /// Opaque to C: only Rust reads or writes it.
    pub words: [u64; IS_SAME_STATE_WORDS],
}

/// Size of [`IsRateState`] in 64-bit words.
pub const IS_RATE_STATE_WORDS: usize = 12;
/// Size of [`IsSameState`] in 64-bit words.
pub const IS_SAME_STATE_WORDS: usize = 112;

const _: () = assert!(core::mem::size_of::<RateControl>() <= 8 * IS_RATE_STATE_WORDS);
const _: () = assert!(core::mem::align_of::<RateControl>() <= 8);
const _: () = assert!(core::mem::size_of::<SkipSame>() <= 8 * IS_SAME_STATE_WORDS);
const _: () = assert!(core::mem::align_of::<SkipSame>() <= 8);

/// `RateControl(...)`'s arguments as the shim parsed them; 0 means "not
/// given" for the first three.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IsRateConfig {
    /// Bytes per frame to aim at.
    pub target_bytes: i64,
    /// Cap in kilobits (1000 bits) per second.
    pub max_kbps: i64,
    /// Expected frames per second × 1000 (negative: refused).
    pub fps_milli: i64,
    /// Lowest quality.
    pub min_quality: i32,
    /// Highest quality.
    pub max_quality: i32,
}

/// What a `RateControl` reports back.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IsRateInfo {
    /// Quality of the last frame (before any: the first guess).
    pub quality: i32,
    /// Bytes of the last frame.
    pub last_bytes: u32,
    /// Frames encoded under this controller.
    pub frames: u32,
    /// Frames that took a second encode.
    pub retries: u32,
    /// Frames over the `max_kbps` bucket even at `min_quality`.
    pub over_cap: u32,
    /// The next frame's byte budget.
    pub budget: u32,
}

/// What a `SkipSame` reports back.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IsSameInfo {
    /// Frames let through (keep-alives included).
    pub sent: u32,
    /// Frames skipped as unchanged.
    pub skipped: u32,
    /// Unchanged frames sent as keep-alives.
    pub keepalives: u32,
}

/// The controller in a state block.
///
/// # Safety
/// `s` was set up by [`is_rate_init`] and is not otherwise borrowed.
pub(crate) unsafe fn rate_of<'a>(s: *mut IsRateState) -> &'a mut RateControl {
    // SAFETY: per the contract; size and alignment are asserted above.
    unsafe { &mut *s.cast::<RateControl>() }
}

unsafe fn same_of<'a>(s: *mut IsSameState) -> &'a mut SkipSame {
    // SAFETY: as `rate_of`, for blocks set up by `is_same_init`.
    unsafe { &mut *s.cast::<SkipSame>() }
}

fn rate_config(c: &IsRateConfig) -> Result<RateConfig, i32> {
    let bytes = |v: i64| u32::try_from(v).map_err(|_| IS_ERR_RATE_VALUE);
    let quality = |v: i32| u8::try_from(v).map_err(|_| IS_ERR_RATE_QUALITY);
    if c.fps_milli < 0 {
        return Err(IS_ERR_RATE_FPS);
    }
    let max_bytes_per_s = c
        .max_kbps
        .checked_mul(125)
        .ok_or(IS_ERR_RATE_VALUE)
        .and_then(bytes)?;
    // fps_milli > 0 here, so the interval is at most 10^9 µs.
    let frame_us = match c.fps_milli {
        0 => 0,
        f => (1_000_000_000 / f).max(1) as u32,
    };
    Ok(RateConfig {
        target_bytes: bytes(c.target_bytes)?,
        max_bytes_per_s,
        frame_us,
        min_quality: quality(c.min_quality)?,
        max_quality: quality(c.max_quality)?,
    })
}

/// Sets up a controller in `state` from `config`.
///
/// # Safety
/// `state` writable, `config` readable.
#[no_mangle]
pub unsafe extern "C" fn is_rate_init(state: *mut IsRateState, config: *const IsRateConfig) -> i32 {
    // SAFETY: per the contract above.
    let cfg = try_status!(rate_config(unsafe { &*config }));
    let rc = try_status!(RateControl::new(cfg).map_err(|e| match e {
        RateError::NoTarget => IS_ERR_RATE_NO_TARGET,
        RateError::BadQualityRange => IS_ERR_RATE_QUALITY,
        RateError::BadFps => IS_ERR_RATE_FPS,
    }));
    // SAFETY: the block is large and aligned enough (asserted above).
    unsafe { state.cast::<RateControl>().write(rc) };
    IS_OK
}

/// Reads a controller's numbers into `info`.
///
/// # Safety
/// `state` set up by [`is_rate_init`]; `info` writable.
#[no_mangle]
pub unsafe extern "C" fn is_rate_info(state: *mut IsRateState, info: *mut IsRateInfo) {
    // SAFETY: per the contract above.
    let rc = unsafe { rate_of(state) };
    let i = IsRateInfo {
        quality: rc.quality().into(),
        last_bytes: rc.last_bytes(),
        frames: rc.frames(),
        retries: rc.retries(),
        over_cap: rc.over_cap(),
        budget: rc.budget(),
    };
    // SAFETY: `info` is writable.
    unsafe { *info = i };
}

/// Sets up a skip state in `state`: a frame the same as the last one sent
/// (no sampled cell moved by more than `threshold`) is skipped unless
/// `keepalive_us` (>= 0) passed since that one.
///
/// # Safety
/// `state` writable.
#[no_mangle]
pub unsafe extern "C" fn is_same_init(
    state: *mut IsSameState,
    keepalive_us: i64,
    threshold: i32,
) -> i32 {
    let (Ok(keepalive_us), Ok(threshold)) = (u64::try_from(keepalive_us), u8::try_from(threshold))
    else {
        return IS_ERR_RATE_VALUE;
    };
    // SAFETY: the block is large and aligned enough (asserted above).
    unsafe {
        state
            .cast::<SkipSame>()
            .write(SkipSame::new(keepalive_us, threshold))
    };
    IS_OK
}

/// Decides whether `frame` (at `now_us`) goes out: 1 to encode and send,
/// 0 to skip it as unchanged. JPEG input always goes.
///
/// # Safety
/// `state` set up by [`is_same_init`]; `frame` valid, its `data` readable.
#[no_mangle]
pub unsafe extern "C" fn is_same_decide(
    state: *mut IsSameState,
    frame: *const IsFrame,
    now_us: u64,
) -> i32 {
    // SAFETY: per the contract above.
    let (s, f) = unsafe { (same_of(state), &*frame) };
    let Ok(data) = (unsafe { bytes_of(f) }) else {
        return 1;
    };
    let mut out = IsOutcome::default();
    let raw = match input(f, data, &mut out) {
        Ok(Input::Raw(r)) => Some(r),
        _ => None,
    };
    i32::from(s.decide(raw.as_ref(), now_us))
}

/// The frame [`is_same_decide`] let through was not sent: the next frame is
/// compared with nothing and goes out.
///
/// # Safety
/// `state` set up by [`is_same_init`].
#[no_mangle]
pub unsafe extern "C" fn is_same_forget(state: *mut IsSameState) {
    // SAFETY: per the contract above.
    unsafe { same_of(state) }.forget();
}

/// Reads a skip state's counters into `info`.
///
/// # Safety
/// `state` set up by [`is_same_init`]; `info` writable.
#[no_mangle]
pub unsafe extern "C" fn is_same_info(state: *mut IsSameState, info: *mut IsSameInfo) {
    // SAFETY: per the contract above.
    let s = unsafe { same_of(state) };
    // SAFETY: `info` is writable.
    unsafe {
        *info = IsSameInfo {
            sent: s.sent(),
            skipped: s.skipped(),
            keepalives: s.keepalives(),
        }
    };
}
