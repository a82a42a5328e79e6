//! Every encoder behind one call, each writing into a buffer reused across
//! calls, so that the timed work is the encode and nothing else.

use img_stream_core::frame::RawFrame;
use img_stream_core::jpeg::{self, Engine, Subsampling};
use img_stream_core::sink::SliceSink;

use crate::frames::Frame;
use crate::turbo::{Dct, Turbo};

/// One encoder. Whether libjpeg-turbo uses SIMD is a property of the
/// process (see [`crate::turbo`]), not of this value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoder {
    /// img_stream's `Engine::Generic` (jpeg-encoder).
    Generic,
    /// img_stream's `Engine::Fast`.
    Fast,
    /// libjpeg-turbo with the given DCT.
    Turbo(Dct),
}

impl Encoder {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Encoder::Generic => "generic",
            Encoder::Fast => "fast",
            Encoder::Turbo(Dct::Accurate) => "turbo",
            Encoder::Turbo(Dct::Fast) => "turbo-fastdct",
        }
    }

    /// Parses [`Encoder::name`].
    pub fn parse(s: &str) -> Option<Encoder> {
        [
            Encoder::Generic,
            Encoder::Fast,
            Encoder::Turbo(Dct::Accurate),
            Encoder::Turbo(Dct::Fast),
        ]
        .into_iter()
        .find(|e| e.name() == s)
    }
}

/// Output buffers and the TurboJPEG handle, made once per process.
pub struct Runner {
    out: Vec<u8>,
    turbo: Turbo,
}

impl Runner {
    /// Room for frames up to `width x height`.
    pub fn new(width: u32, height: u32) -> Result<Runner, String> {
        // A q100 JPEG of noise stays below 3 bytes per pixel plus headers.
        let cap = width as usize * height as usize * 3 + 65536;
        Ok(Runner {
            out: vec![0; cap],
            turbo: Turbo::new(width, height)?,
        })
    }

    /// Encodes `frame` at `quality`, 4:2:0; returns the JPEG.
    pub fn encode(&mut self, enc: Encoder, frame: &Frame, quality: u8) -> Result<&[u8], String> {
        let engine = match enc {
            Encoder::Generic => Engine::Generic,
            Encoder::Fast => Engine::Fast,
            Encoder::Turbo(dct) => {
                return self
                    .turbo
                    .encode(&frame.peer(), frame.width, frame.height, quality, dct)
            }
        };
        let raw = RawFrame::new(
            &frame.ours,
            frame.width,
            frame.height,
            frame.format.pixel_format(),
            0,
        )
        .map_err(|e| e.to_string())?;
        let mut sink = SliceSink::new(&mut self.out);
        jpeg::encode(&raw, quality, Subsampling::S420, engine, &mut sink)
            .map_err(|e| format!("{}: {e}", enc.name()))?;
        let len = sink.len();
        Ok(&self.out[..len])
    }
}
