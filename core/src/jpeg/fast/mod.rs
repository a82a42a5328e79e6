//! img_stream's own allocation-free baseline encoder (being written).
use super::{EncodeError, Subsampling};
use crate::frame::RawFrame;
use crate::sink::Sink;

/// Encodes `frame` as baseline JFIF into `sink` without allocating.
pub fn encode<S: Sink>(
    frame: &RawFrame<'_>,
    quality: u8,
    subsampling: Subsampling,
    sink: &mut S,
) -> Result<(), EncodeError> {
    super::generic::encode(frame, quality, subsampling, sink)
}
