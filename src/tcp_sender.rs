//! Latest-frame-wins sending over a stream: `img_stream.TcpSender`.
//!
//! One frame (v1 header + JPEG) is in flight at a time, in a buffer the
//! sender owns: the module's shared pool cannot hold it, because every other
//! call reuses that pool while this frame is still going out. The stream is
//! non-blocking; each `send` first pushes more of the frame in flight and,
//! only once it has gone out completely, encodes the new image. So frames
//! never interleave, the camera loop never waits for the link, and what sits
//! unsent in the application is one frame at most.
//!
//! The shim's writer reports EAGAIN as [`SendError::WouldBlock`] (not an
//! exception); any other failure abandons the frame, and if part of it had
//! gone out the stream is marked broken: the receiver holds a partial frame
//! that its length and CRC reject, and nothing may follow it.

use alloc::boxed::Box;
use core::ops::Range;

use img_stream_core::framing::HEADER_LEN;

use crate::ffi::*;
use crate::pool::{Pool, POOL};
use crate::send::{SendError, Write, MAX_PIECE};
use crate::staging::{emit_header, stage};

/// A `TcpSender`'s stream failed in the middle of a frame: the receiver holds
/// a partial frame, so nothing more may go on that stream.
pub const IS_ERR_BROKEN_STREAM: i32 = 70;

/// What `TcpSender.stats()` reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IsSenderStats {
    /// Frames written completely.
    pub sent: u64,
    /// `send` calls that did not take their image because a frame was still
    /// going out.
    pub skipped: u64,
    /// Bytes written (headers included).
    pub bytes: u64,
    /// Bytes of the frame in flight not yet written (0 when idle).
    pub in_flight: usize,
}

/// The sender's state: its buffer, the frame in flight and the counters.
/// Opaque to C, which holds it by pointer.
pub struct IsTcpSender {
    pool: Pool,
    /// The frame in flight (header + JPEG) in `pool`; empty when idle.
    frame: Range<usize>,
    broken: bool,
    stats: IsSenderStats,
}

impl IsTcpSender {
    fn new() -> IsTcpSender {
        IsTcpSender {
            pool: Pool::new(),
            frame: 0..0,
            broken: false,
            stats: IsSenderStats::default(),
        }
    }

    /// Pushes the frame in flight until it is out or the stream is full.
    /// Returns the bytes still unsent.
    fn pump<W: Write>(&mut self, w: &mut W) -> Result<usize, SendError> {
        while !self.frame.is_empty() {
            let end = self.frame.end.min(self.frame.start + MAX_PIECE);
            match w.write(&self.pool.bytes()[self.frame.start..end]) {
                // Nothing taken and no error: try again on the next call.
                Ok(0) | Err(SendError::WouldBlock) => break,
                Ok(n) => {
                    let n = n.min(end - self.frame.start);
                    self.frame.start += n;
                    self.stats.bytes += n as u64;
                    if self.frame.is_empty() {
                        self.stats.sent += 1;
                    }
                }
                Err(e) => {
                    // The frame is abandoned; if part of it went out, the
                    // receiver's copy is cut short and the stream is unusable.
                    self.broken = self.frame.start > FRAME_START;
                    self.frame = 0..0;
                    self.stats.in_flight = 0;
                    return Err(e);
                }
            }
        }
        self.stats.in_flight = self.frame.len();
        Ok(self.frame.len())
    }

    /// Whether a frame is still going out.
    fn busy(&self) -> bool {
        !self.frame.is_empty()
    }
}

/// Where a frame starts in the sender's pool: the header right before the
/// JPEG, which [`stage`] puts after the headroom. A failure at a later
/// offset means part of the frame was written.
const FRAME_START: usize = crate::pool::HEADROOM - HEADER_LEN;

/// A new, idle sender with an empty buffer (it grows on the first frame).
#[no_mangle]
pub extern "C" fn is_tcp_sender_new() -> *mut IsTcpSender {
    Box::into_raw(Box::new(IsTcpSender::new()))
}

/// Frees a sender and its buffer. Null is ignored.
///
/// # Safety
/// `s` came from [`is_tcp_sender_new`] and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn is_tcp_sender_free(s: *mut IsTcpSender) {
    if !s.is_null() {
        // SAFETY: per the contract above.
        drop(unsafe { Box::from_raw(s) });
    }
}

/// Pushes the frame in flight; `out.len` is the bytes still unsent (0: idle,
/// the next image may be started). Counts a skipped image when `skip` is set
/// and a frame is still going out.
///
/// # Safety
/// `s` from [`is_tcp_sender_new`]; other pointers valid for the call.
#[no_mangle]
pub unsafe extern "C" fn is_tcp_sender_pump(
    s: *mut IsTcpSender,
    writer: *const IsWriter,
    skip: bool,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (s, mut w, out) = unsafe { (&mut *s, *writer, &mut *out) };
    match pump_status(s, &mut w, out) {
        IS_OK => {
            if skip && s.busy() {
                s.stats.skipped += 1;
            }
            IS_OK
        }
        st => st,
    }
}

fn pump_status<W: Write>(s: &mut IsTcpSender, w: &mut W, out: &mut IsOutcome) -> i32 {
    if s.broken {
        return IS_ERR_BROKEN_STREAM;
    }
    match s.pump(w) {
        Ok(left) => {
            out.len = left;
            IS_OK
        }
        Err(e) => send_status(e, out),
    }
}

/// Encodes `frame` (JPEG passes through, copied once into the sender's
/// buffer) with its v1 header and starts writing it. The sender must be idle
/// (`is_tcp_sender_pump` left 0 bytes). `out.len` is the bytes written by
/// this call.
///
/// # Safety
/// `s` from [`is_tcp_sender_new`]; other pointers valid for the call.
#[no_mangle]
pub unsafe extern "C" fn is_tcp_sender_start(
    s: *mut IsTcpSender,
    writer: *const IsWriter,
    frame: *const IsFrame,
    options: *const IsEncodeOptions,
    fields: *const IsHeaderFields,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (s, mut w, f, o, fields, out) =
        unsafe { (&mut *s, *writer, &*frame, &*options, &*fields, &mut *out) };
    if s.broken {
        return IS_ERR_BROKEN_STREAM;
    }
    if s.busy() {
        return IS_ERR_BUSY;
    }
    let (st, input) = try_status!(unsafe { open_input(f, o, out) });
    // The module's buffer limit (set_buffer_limit) caps this buffer too.
    if let Ok(info) = POOL.with(|p| p.info()) {
        s.pool.set_limit(info.limit);
    }
    let staged = match stage(&mut s.pool, input, &st, 0, out) {
        Ok(staged) => staged,
        Err(e) => return e,
    };
    s.frame = emit_header(s.pool.bytes_mut(), &staged, fields);
    let before = s.stats.bytes;
    let st = pump_status(s, &mut w, out);
    out.len = (s.stats.bytes - before) as usize;
    st
}

/// Copies the sender's counters into `stats`.
///
/// # Safety
/// `s` from [`is_tcp_sender_new`]; `stats` writable.
#[no_mangle]
pub unsafe extern "C" fn is_tcp_sender_stats(s: *const IsTcpSender, stats: *mut IsSenderStats) {
    // SAFETY: per the contract above.
    unsafe { *stats = (*s).stats };
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_stream_core::framing::FrameHeaderRepr;
    use img_stream_core::pixel::PixelFormat;

    /// A non-blocking stream with room for `room` bytes until drained.
    struct Pipe {
        out: Vec<u8>,
        room: usize,
        fail: Option<i32>,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> Result<usize, SendError> {
            if let Some(e) = self.fail {
                return Err(SendError::Os(e));
            }
            if self.room == 0 {
                return Err(SendError::WouldBlock);
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
    }

    fn start(s: &mut IsTcpSender, w: &mut Pipe, px: &[u8], seq: u32) -> (i32, IsOutcome) {
        let writer_ctx = w as *mut Pipe as *mut core::ffi::c_void;
        unsafe extern "C" fn write(
            ctx: *mut core::ffi::c_void,
            buf: *const u8,
            len: usize,
            written: *mut usize,
        ) -> i32 {
            let p = unsafe { &mut *(ctx as *mut Pipe) };
            match p.write(unsafe { core::slice::from_raw_parts(buf, len) }) {
                Ok(n) => {
                    unsafe { *written = n };
                    0
                }
                Err(SendError::WouldBlock) => IS_WRITE_WOULD_BLOCK,
                Err(SendError::Os(e)) => e,
                Err(_) => IS_WRITE_RAISED,
            }
        }
        let writer = IsWriter {
            write,
            ctx: writer_ctx,
        };
        let frame = IsFrame::raw(px, 32, 16, PixelFormat::Rgb888.code());
        let options = IsEncodeOptions::fixed(80, 420, IS_ENGINE_AUTO);
        let fields = IsHeaderFields {
            seq,
            camera_id: 3,
            timestamp_us: 99,
        };
        let mut out = IsOutcome::default();
        let st = unsafe { is_tcp_sender_start(s, &writer, &frame, &options, &fields, &mut out) };
        (st, out)
    }

    fn pixels(seed: u8) -> Vec<u8> {
        (0..32 * 16 * 3u32)
            .map(|i| (i as u8).wrapping_mul(seed))
            .collect()
    }

    #[test]
    fn frames_resume_and_never_interleave() {
        let mut s = IsTcpSender::new();
        let mut pipe = Pipe {
            out: Vec::new(),
            room: 100,
            fail: None,
        };
        let (st, out) = start(&mut s, &mut pipe, &pixels(7), 5);
        assert_eq!((st, out.len), (IS_OK, 100));
        assert!(s.busy());
        let total = 100 + s.stats.in_flight;
        // A second start while busy is refused, and nothing is written.
        let (st, _) = start(&mut s, &mut pipe, &pixels(9), 6);
        assert_eq!(st, IS_ERR_BUSY);
        assert_eq!(pipe.out.len(), 100);
        // The link drains in small steps: the frame resumes where it stopped.
        let mut steps = 0;
        while s.busy() {
            pipe.room = 37;
            s.pump(&mut pipe).unwrap();
            steps += 1;
        }
        assert!(steps > 1);
        assert_eq!(pipe.out.len(), total);
        pipe.room = usize::MAX;
        let (st, _) = start(&mut s, &mut pipe, &pixels(9), 6);
        assert_eq!(st, IS_OK);
        assert!(!s.busy());
        // Two whole frames, back to back, each with a valid header and CRC.
        let mut rest = &pipe.out[..];
        for seq in [5, 6] {
            let h = FrameHeaderRepr::parse(rest).expect("header");
            assert_eq!(h.seq, seq);
            let end = HEADER_LEN + h.payload_len as usize;
            let jpeg = &rest[HEADER_LEN..end];
            assert_eq!(img_stream_core::crc32::crc32(jpeg), h.payload_crc);
            rest = &rest[end..];
        }
        assert!(rest.is_empty());
        assert_eq!(s.stats.sent, 2);
        assert_eq!(s.stats.bytes, pipe.out.len() as u64);
        assert_eq!(s.stats.in_flight, 0);
    }

    #[test]
    fn a_failure_mid_frame_breaks_the_stream() {
        let mut s = IsTcpSender::new();
        let mut pipe = Pipe {
            out: Vec::new(),
            room: 10,
            fail: None,
        };
        assert_eq!(start(&mut s, &mut pipe, &pixels(7), 1).0, IS_OK);
        pipe.fail = Some(32);
        let mut out = IsOutcome::default();
        assert_eq!(pump_status(&mut s, &mut pipe, &mut out), IS_ERR_OS);
        assert_eq!(out.os_error, 32);
        pipe.fail = None;
        pipe.room = usize::MAX;
        assert_eq!(
            pump_status(&mut s, &mut pipe, &mut out),
            IS_ERR_BROKEN_STREAM
        );
        assert_eq!(
            start(&mut s, &mut pipe, &pixels(7), 2).0,
            IS_ERR_BROKEN_STREAM
        );
        assert_eq!(pipe.out.len(), 10);
    }

    #[test]
    fn a_failure_before_any_byte_leaves_the_stream_usable() {
        let mut s = IsTcpSender::new();
        let mut pipe = Pipe {
            out: Vec::new(),
            room: usize::MAX,
            fail: Some(104),
        };
        assert_eq!(start(&mut s, &mut pipe, &pixels(7), 1).0, IS_ERR_OS);
        assert!(!s.broken && !s.busy());
        pipe.fail = None;
        assert_eq!(start(&mut s, &mut pipe, &pixels(7), 1).0, IS_OK);
        assert_eq!(s.stats.sent, 1);
    }
}
