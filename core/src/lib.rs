//! `img_stream_core`: everything img_stream does that is not MicroPython.
//!
//! The crate is `#![no_std]` (with `alloc` for `jpeg-encoder`'s working
//! buffers) so one source builds for the x86-64 tests, the host receiver and
//! the riscv64 firmware. Nothing here knows about MicroPython objects: the C
//! shim in `c_glue/` turns those into plain buffers first.
//!
//! Layers, each a module:
//! - [`pixel`]: camera pixel formats and their wire codes;
//! - [`frame`]: a validated view of one raw frame in a byte buffer;
//! - [`jpeg`]: baseline JPEG encoding of every supported format;
//! - [`crc32`]: the CRC used on the wire;
//! - [`framing`]: the v1 frame header (stream transports: TCP);
//! - [`chunk`]: the v1 chunk header (message transports: MQTT, UDP);
//! - [`mqtt`]: MQTT 3.1.1 PUBLISH packets out, PUBACK and others in;
//! - [`sink`]: the narrow byte sink the encoder writes into;
//! - [`rate`]: rate control (quality per frame from the last sizes);
//! - [`signature`]: a sampled pixel signature, to skip unchanged frames.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod chunk;
pub mod crc32;
pub mod frame;
pub mod framing;
pub mod jpeg;
pub mod mqtt;
pub mod pixel;
pub mod rate;
pub mod signature;
pub mod sink;
mod wire;
