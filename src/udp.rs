//! One v1 frame as chunk datagrams: `send_udp`.
//!
//! The frame message (40-byte frame header + JPEG) is built in the pool,
//! contiguous, with the headroom in front. Chunk 0's 32-byte chunk header
//! goes into the headroom right before it; the header of chunk `i > 0` is
//! written over the last 32 data bytes of chunk `i - 1`, which has already
//! been sent, and put back once this datagram is out, so the message is whole
//! again afterwards (a held JPEG, `img_stream.Encoded`, goes on to the next
//! transport). Every datagram is therefore one contiguous slice of the pool:
//! nothing is allocated per datagram (JPEG input is copied into the pool
//! once, because the caller's buffer is read-only).
//!
//! Pacing (`gap_us`, `max_rate`) spaces the *starts* of consecutive
//! datagrams; the schedule (`IsPacing::next_us`) is kept by the shim from
//! one call to the next, so a loop of `send_udp` calls keeps the rate too.

use core::ffi::c_void;

use img_stream_core::chunk::{self, ChunkPlan};
use img_stream_core::framing;

use crate::ffi::*;
use crate::pool::{HEADROOM, POOL};
use crate::send::{SendError, Write};
use crate::staging::{emit_header, record, stage, status};

/// Smallest `mtu`: a chunk header and the whole frame header fit the first
/// datagram.
pub const IS_UDP_MIN_MTU: usize = IS_CHUNK_HEADER_LEN + IS_FRAME_HEADER_LEN;

/// Largest `mtu`: the largest UDP payload over IPv4.
pub const IS_UDP_MAX_MTU: usize = 65_507;

/// `mtu` is outside `IS_UDP_MIN_MTU..=IS_UDP_MAX_MTU`.
pub const IS_ERR_BAD_MTU: i32 = 50;

/// The frame would need more than 65535 datagrams at this `mtu`
/// (`out.needed` is the frame message's length).
pub const IS_ERR_TOO_MANY_DATAGRAMS: i32 = 51;

// Chunk 0's header and the frame header both live in the headroom.
const _: () = assert!(IS_UDP_MIN_MTU <= HEADROOM);

/// Pacing between datagrams; 0 turns `gap_us`/`max_rate` off.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IsPacing {
    /// Microseconds added between the starts of consecutive datagrams.
    pub gap_us: u32,
    /// Bytes per second (UDP payload bytes) not to exceed.
    pub max_rate: u32,
    /// In and out: the earliest start of the next datagram on the clock
    /// (0: at once). Keep it between calls so the rate holds across frames.
    pub next_us: u64,
}

/// The shim's clock: waits until the clock reads at least `until_us` (no
/// wait when it already does), then stores the clock in `*now_us`. Returns 0,
/// or -1 when a Python exception was raised while waiting.
pub type IsClockFn = unsafe extern "C" fn(ctx: *mut c_void, until_us: u64, now_us: *mut u64) -> i32;

/// Where datagrams go: `send` sends one datagram per call (it must take all
/// of it), `clock` paces; both get `ctx`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsDatagramSender {
    /// Sends one datagram; never null.
    pub send: IsWriteFn,
    /// Reads the clock and waits; never null.
    pub clock: IsClockFn,
    /// Passed back to both.
    pub ctx: *mut c_void,
}

/// A clock that can wait.
pub(crate) trait Clock {
    /// Waits until `until_us` (if in the future) and returns the time.
    fn wait_until(&mut self, until_us: u64) -> Result<u64, SendError>;
}

impl Write for IsDatagramSender {
    fn write(&mut self, buf: &[u8]) -> Result<usize, SendError> {
        IsWriter {
            write: self.send,
            ctx: self.ctx,
        }
        .write(buf)
    }
}

impl Clock for IsDatagramSender {
    fn wait_until(&mut self, until_us: u64) -> Result<u64, SendError> {
        let mut now = 0u64;
        // SAFETY: the shim's callback writes `now` and nothing else of ours.
        match unsafe { (self.clock)(self.ctx, until_us, &mut now) } {
            0 => Ok(now),
            _ => Err(SendError::Exception),
        }
    }
}

impl IsPacing {
    fn enabled(&self) -> bool {
        self.gap_us != 0 || self.max_rate != 0
    }

    /// Time a datagram of `len` bytes occupies before the next may start.
    fn interval_us(&self, len: usize) -> u64 {
        let rate = if self.max_rate == 0 {
            0
        } else {
            (len as u64 * 1_000_000).div_ceil(u64::from(self.max_rate))
        };
        u64::from(self.gap_us) + rate
    }
}

/// Sends the frame message `buf[msg]` as chunk datagrams of at most `mtu`
/// bytes. `buf[..msg.start]` must hold at least a chunk header; the message
/// bytes under each later chunk header are restored once it went out.
///
/// `pacing.next_us` is updated as datagrams go out. Returns the datagrams
/// sent, also on failure.
pub(crate) fn send_chunks<D: Write + Clock>(
    d: &mut D,
    buf: &mut [u8],
    msg: core::ops::Range<usize>,
    plan: &ChunkPlan,
    seq: u32,
    camera_id: u16,
    pacing: &mut IsPacing,
) -> Result<usize, (SendError, usize)> {
    debug_assert!(msg.start >= chunk::HEADER_LEN && msg.len() == plan.total() as usize);
    let mut sent = 0;
    for c in plan {
        let data = msg.start + c.offset as usize;
        let head = data - chunk::HEADER_LEN;
        let mut under = [0u8; chunk::HEADER_LEN];
        under.copy_from_slice(&buf[head..data]);
        plan.repr(&c, seq, camera_id).emit(&mut buf[head..data]);
        let r = send_one(d, &buf[head..data + c.len], pacing);
        buf[head..data].copy_from_slice(&under);
        r.map_err(|e| (e, sent))?;
        sent += 1;
    }
    Ok(sent)
}

/// Sends one datagram when `pacing` allows.
fn send_one<D: Write + Clock>(
    d: &mut D,
    datagram: &[u8],
    pacing: &mut IsPacing,
) -> Result<(), SendError> {
    if pacing.enabled() {
        let now = d.wait_until(pacing.next_us)?;
        pacing.next_us = now + pacing.interval_us(datagram.len());
    }
    match d.write(datagram)? {
        n if n == datagram.len() => Ok(()),
        // A datagram socket takes all or nothing: a part is a failure.
        _ => Err(SendError::Stalled),
    }
}

/// Plans the chunks for a frame message of `total` bytes (`mtu` checked by
/// [`check_mtu`]).
fn plan_for(total: usize, mtu: usize, out: &mut IsOutcome) -> Result<ChunkPlan, i32> {
    chunk::plan(total, mtu).map_err(|_| {
        out.needed = total;
        IS_ERR_TOO_MANY_DATAGRAMS
    })
}

/// The one `mtu` check.
fn check_mtu(mtu: usize) -> Result<(), i32> {
    if (IS_UDP_MIN_MTU..=IS_UDP_MAX_MTU).contains(&mtu) {
        Ok(())
    } else {
        Err(IS_ERR_BAD_MTU)
    }
}

/// Encodes `frame` (JPEG input is copied into the pool unchanged) and sends
/// it as one v1 frame in chunk datagrams of at most `mtu` bytes, paced per
/// `pacing` (whose `next_us` is updated, also on failure). `out.len` is the number of datagrams sent, also on failure;
/// `out.needed` the frame message's length (40 + JPEG).
///
/// # Safety
/// Pointers valid for the call; `sender`'s callbacks are safe to call with
/// its `ctx`.
#[no_mangle]
pub unsafe extern "C" fn is_send_udp(
    sender: *const IsDatagramSender,
    frame: *const IsFrame,
    options: *const IsEncodeOptions,
    fields: *const IsHeaderFields,
    mtu: usize,
    pacing: *mut IsPacing,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (mut d, f, o, fields, pacing, out) = unsafe {
        (
            *sender,
            &*frame,
            &*options,
            &*fields,
            &mut *pacing,
            &mut *out,
        )
    };
    try_status!(check_mtu(mtu));
    let (s, input) = try_status!(unsafe { open_input(f, o, out) });
    let r = POOL.with(|p| -> Result<(), i32> {
        let st = stage(p, input, &s, 0, out)?;
        out.needed = framing::HEADER_LEN + st.jpeg.len();
        let plan = plan_for(out.needed, mtu, out)?;
        let buf = p.bytes_mut();
        let msg = emit_header(buf, &st, fields);
        let result = send_chunks(
            &mut d,
            buf,
            msg,
            &plan,
            fields.seq,
            fields.camera_id,
            pacing,
        );
        record(result, out)
    });
    status(r, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_stream_core::chunk::parse_message;
    use img_stream_core::crc32::crc32;

    /// Collects datagrams and keeps a fake clock.
    #[derive(Default)]
    struct Net {
        datagrams: Vec<Vec<u8>>,
        starts: Vec<u64>,
        now: u64,
        /// Time each send takes.
        send_us: u64,
        fail_at: Option<usize>,
    }

    impl Write for Net {
        fn write(&mut self, buf: &[u8]) -> Result<usize, SendError> {
            if self.fail_at == Some(self.datagrams.len()) {
                return Err(SendError::Os(105)); // ENOBUFS
            }
            self.starts.push(self.now);
            self.now += self.send_us;
            self.datagrams.push(buf.to_vec());
            Ok(buf.len())
        }
    }

    impl Clock for Net {
        fn wait_until(&mut self, until_us: u64) -> Result<u64, SendError> {
            self.now = self.now.max(until_us);
            Ok(self.now)
        }
    }

    /// A pool-like buffer: headroom, then a frame message of `len` bytes.
    fn message(len: usize) -> (Vec<u8>, core::ops::Range<usize>, Vec<u8>) {
        let msg: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let mut buf = vec![0xEE; HEADROOM];
        buf.extend_from_slice(&msg);
        (buf, HEADROOM..HEADROOM + len, msg)
    }

    fn reassemble(datagrams: &[Vec<u8>], mtu: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, d) in datagrams.iter().enumerate() {
            assert!(d.len() <= mtu, "datagram {i} is {} > {mtu}", d.len());
            let (repr, data) = parse_message(d, u32::MAX).unwrap();
            assert_eq!(repr.index as usize, i);
            assert_eq!(repr.count as usize, datagrams.len());
            assert_eq!(repr.offset as usize, out.len());
            assert_eq!((repr.seq, repr.camera_id), (77, 3));
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn datagrams_carry_the_message_in_place() {
        for (len, mtu) in [
            (40, 72),
            (41, 72),
            (1000, 72),
            (5000, 1400),
            (1368, 1400),
            (1369, 1400),
        ] {
            let (mut buf, range, msg) = message(len);
            let plan = chunk::plan(len, mtu).unwrap();
            let mut net = Net::default();
            let mut next = IsPacing::default();
            let n =
                send_chunks(&mut net, &mut buf, range.clone(), &plan, 77, 3, &mut next).unwrap();
            assert_eq!(n, plan.count() as usize);
            assert_eq!(reassemble(&net.datagrams, mtu), msg, "len {len} mtu {mtu}");
            assert_eq!(next.next_us, 0, "no pacing, no schedule");
            // Whole again for the next transport.
            assert_eq!(&buf[range], &msg[..], "len {len} mtu {mtu}");
        }
    }

    #[test]
    fn failure_reports_datagrams_sent() {
        let (mut buf, range, _) = message(3000);
        let plan = chunk::plan(3000, 500).unwrap();
        let mut net = Net {
            fail_at: Some(2),
            ..Net::default()
        };
        let r = send_chunks(
            &mut net,
            &mut buf,
            range,
            &plan,
            77,
            3,
            &mut IsPacing::default(),
        );
        assert_eq!(r, Err((SendError::Os(105), 2)));
    }

    #[test]
    fn pacing_spaces_datagram_starts() {
        let (mut buf, range, _) = message(4000);
        let plan = chunk::plan(4000, 1032).unwrap(); // 1000 data bytes each
                                                     // 1032-byte datagrams at 1 MB/s: 1032 µs apart, plus a 100 µs gap.
        let pacing = IsPacing {
            gap_us: 100,
            max_rate: 1_000_000,
            next_us: 0,
        };
        let mut net = Net {
            now: 5000,
            send_us: 10,
            ..Net::default()
        };
        let mut next = pacing;
        send_chunks(&mut net, &mut buf, range.clone(), &plan, 77, 3, &mut next).unwrap();
        assert_eq!(net.starts, [5000, 6132, 7264, 8396]);
        assert_eq!(next.next_us, 8396 + 100 + 1032);
        // The schedule carries over: the next frame does not burst.
        let (mut buf2, range2, _) = message(100);
        let plan2 = chunk::plan(100, 1032).unwrap();
        send_chunks(&mut net, &mut buf2, range2, &plan2, 78, 3, &mut next).unwrap();
        assert_eq!(net.starts[4], 9528);
        // A slow send does not cause a catch-up burst afterwards.
        let (mut buf3, range3, _) = message(4000);
        let mut slow = Net {
            send_us: 5000,
            ..Net::default()
        };
        let mut next = pacing;
        send_chunks(&mut slow, &mut buf3, range3, &plan, 77, 3, &mut next).unwrap();
        assert_eq!(slow.starts, [0, 5000, 10_000, 15_000]);
    }

    #[test]
    fn rate_interval_rounds_up() {
        let p = IsPacing {
            gap_us: 0,
            max_rate: 3,
            next_us: 0,
        };
        assert_eq!(p.interval_us(1), 333_334);
        assert!(!IsPacing::default().enabled());
    }

    #[test]
    fn mtu_limits() {
        let mut out = IsOutcome::default();
        assert_eq!(check_mtu(IS_UDP_MIN_MTU - 1), Err(IS_ERR_BAD_MTU));
        assert_eq!(check_mtu(IS_UDP_MAX_MTU + 1), Err(IS_ERR_BAD_MTU));
        assert_eq!(check_mtu(IS_UDP_MIN_MTU), Ok(()));
        assert_eq!(check_mtu(IS_UDP_MAX_MTU), Ok(()));
        assert!(plan_for(100, IS_UDP_MIN_MTU, &mut out).is_ok());
        // 40 data bytes per datagram: at most 65535 * 40 bytes.
        assert!(plan_for(65_535 * 40, 72, &mut out).is_ok());
        assert_eq!(
            plan_for(65_535 * 40 + 1, 72, &mut out),
            Err(IS_ERR_TOO_MANY_DATAGRAMS)
        );
        assert_eq!(out.needed, 65_535 * 40 + 1);
    }

    #[test]
    fn ffi_sends_a_frame_that_reassembles() {
        unsafe extern "C" fn send(
            ctx: *mut c_void,
            buf: *const u8,
            len: usize,
            w: *mut usize,
        ) -> i32 {
            let v = unsafe { &mut *(ctx as *mut Vec<Vec<u8>>) };
            v.push(unsafe { core::slice::from_raw_parts(buf, len) }.to_vec());
            unsafe { *w = len };
            0
        }
        unsafe extern "C" fn clock(_: *mut c_void, until: u64, now: *mut u64) -> i32 {
            unsafe { *now = until };
            0
        }
        let px: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let mut got: Vec<Vec<u8>> = Vec::new();
        let sender = IsDatagramSender {
            send,
            clock,
            ctx: &mut got as *mut _ as *mut c_void,
        };
        let frame = IsFrame::raw(&px, 64, 48, 4);
        let opts = IsEncodeOptions::fixed(80, 420, 0);
        let fields = IsHeaderFields {
            seq: 77,
            camera_id: 3,
            timestamp_us: 123,
        };
        let mut out = IsOutcome::default();
        // Other tests share the module's pool: wait while they hold it.
        let send_udp = |f: &IsFrame, mtu: usize, out: &mut IsOutcome| loop {
            let st = unsafe {
                is_send_udp(
                    &sender,
                    f,
                    &opts,
                    &fields,
                    mtu,
                    &mut IsPacing::default(),
                    out,
                )
            };
            if st != IS_ERR_BUSY {
                return st;
            }
            std::thread::yield_now();
        };
        let st = send_udp(&frame, 200, &mut out);
        assert_eq!(st, IS_OK);
        assert_eq!(out.len, got.len());
        let msg = reassemble(&got, 200);
        assert_eq!(msg.len(), out.needed);
        let h = framing::FrameHeaderRepr::parse(&msg).unwrap();
        assert_eq!(
            (h.width, h.height, h.seq, h.timestamp_us),
            (64, 48, 77, 123)
        );
        assert_eq!(h.payload_crc, crc32(&msg[40..]));

        // JPEG input passes through byte for byte.
        let jpeg = msg[40..].to_vec();
        let jf = IsFrame::jpeg(&jpeg);
        got.clear();
        let st = send_udp(&jf, 1400, &mut out);
        assert_eq!(st, IS_OK);
        assert_eq!(reassemble(&got, 1400)[40..], jpeg[..]);

        let st = send_udp(&jf, 71, &mut out);
        assert_eq!(st, IS_ERR_BAD_MTU);
    }
}
