//! Baseline JPEG encoding of raw camera frames.
//!
//! Two paths produce baseline JFIF:
//! - [`generic`]: `jpeg-encoder`, fed through its `ImageBuffer` trait by one
//!   adapter per pixel format (rows converted on the fly, no full-frame copy);
//! - [`fast`]: img_stream's own MCU-at-a-time encoder that reads every format
//!   straight from the frame (NV12/YUYV need no colour step at all) and
//!   allocates nothing.
//!
//! [`encode`] picks the path; the benchmark (`make bench`) shows why.

pub mod fast;
pub mod generic;
pub mod info;

use crate::frame::RawFrame;
use crate::pixel::PixelFormat;
use crate::sink::{Sink, SinkFull};

/// Chroma subsampling of the JPEG output (ignored for grayscale input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subsampling {
    /// 4:4:4, full-resolution chroma.
    S444,
    /// 4:2:2, chroma halved horizontally.
    S422,
    /// 4:2:0, chroma halved in both directions.
    S420,
}

impl Subsampling {
    /// From the number users write (444, 422, 420).
    pub fn from_number(n: u32) -> Option<Subsampling> {
        match n {
            444 => Some(Subsampling::S444),
            422 => Some(Subsampling::S422),
            420 => Some(Subsampling::S420),
            _ => None,
        }
    }
}

/// Why an encode failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// Quality outside 1..=100.
    BadQuality,
    /// The sink ran out of room.
    SinkFull,
    /// The encoder could not get working memory.
    OutOfMemory,
    /// The frame is not a raw format (JPEG passes through, it is not encoded).
    NotRaw,
}

impl From<SinkFull> for EncodeError {
    fn from(_: SinkFull) -> Self {
        EncodeError::SinkFull
    }
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            EncodeError::BadQuality => "quality must be 1..100",
            EncodeError::SinkFull => "output buffer full",
            EncodeError::OutOfMemory => "out of memory",
            EncodeError::NotRaw => "input is not a raw frame",
        })
    }
}

impl core::error::Error for EncodeError {}

/// The JPEG qualities the encoders take (IJG scale).
pub const QUALITY: core::ops::RangeInclusive<u8> = 1..=100;

/// Checks `quality` against [`QUALITY`]: the one quality check every entry
/// point (C ABI, [`encode`] through [`Job::new`]) goes through.
pub fn check_quality(quality: impl TryInto<u8>) -> Result<u8, EncodeError> {
    match quality.try_into() {
        Ok(q) if QUALITY.contains(&q) => Ok(q),
        _ => Err(EncodeError::BadQuality),
    }
}

/// Which encoder implementation to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// `jpeg-encoder` through an `ImageBuffer` adapter.
    Generic,
    /// img_stream's own allocation-free encoder: the default, because it is
    /// the faster one for every format (`docs/BENCHMARKS.md`).
    #[default]
    Fast,
}

/// What both engines encode: a raw frame and a checked quality, so the
/// checks live here once and not in each engine.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    /// Never [`PixelFormat::Jpeg`].
    frame: RawFrame<'a>,
    /// Within [`QUALITY`].
    quality: u8,
    subsampling: Subsampling,
}

impl<'a> Job<'a> {
    /// Fails with `BadQuality` outside [`QUALITY`] and `NotRaw` for JPEG
    /// input.
    pub fn new(
        frame: &RawFrame<'a>,
        quality: u8,
        subsampling: Subsampling,
    ) -> Result<Job<'a>, EncodeError> {
        let quality = check_quality(quality)?;
        if frame.format() == PixelFormat::Jpeg {
            return Err(EncodeError::NotRaw);
        }
        Ok(Job {
            frame: *frame,
            quality,
            subsampling,
        })
    }
}

/// Encodes `frame` as baseline JFIF into `sink`.
///
/// Fails with `BadQuality` outside [`QUALITY`], `NotRaw` for JPEG input and
/// `SinkFull` if the sink refused bytes (see [`fast::encode`]).
pub fn encode<S: Sink>(
    frame: &RawFrame<'_>,
    quality: u8,
    subsampling: Subsampling,
    engine: Engine,
    sink: &mut S,
) -> Result<(), EncodeError> {
    let job = Job::new(frame, quality, subsampling)?;
    match engine {
        Engine::Generic => generic::encode(&job, sink),
        Engine::Fast => fast::encode(&job, sink),
    }
}
