//! HTTP MJPEG (`multipart/x-mixed-replace`): the response head, the part
//! heads, and `send_mjpeg` (encode once, write one part).
//!
//! Wire layout, as µStreamer sends it:
//!
//! ```text
//! HTTP/1.1 200 OK ... \r\n\r\n--B\r\n          response head, ends with the first boundary
//! Content-Type: image/jpeg\r\n                 part head
//! Content-Length: N\r\nX-Timestamp: s.us\r\n\r\n
//! <N bytes of JPEG>\r\n--B\r\n                 JPEG, then the *next* boundary line
//! ```
//!
//! Each part ends with the boundary line that opens the next one, so a
//! browser knows the JPEG is complete as soon as it arrives (Chrome otherwise
//! keeps painting the previous frame until the next part starts). Every
//! client reads this as an ordinary multipart stream.
//!
//! Nothing here allocates: heads are formatted into the caller's buffer or
//! into the pool's headroom, right in front of the JPEG.

use img_stream_core::sink::{Measure, Sink, SinkFull, SliceSink};

use crate::ffi::*;
use crate::pool::{HEADROOM, POOL};
use crate::send;
use crate::staging::{record, stage, status};

/// The boundary is empty, longer than 70 bytes, or has a byte outside
/// RFC 2046's safe set (letters, digits, `'()+_,-./:=?`).
pub const IS_ERR_BAD_BOUNDARY: i32 = 40;
/// A header value (`allow_origin`) contains a control character.
pub const IS_ERR_BAD_HEADER_VALUE: i32 = 41;

/// Longest part head [`is_mjpeg_part_head`] writes.
pub const IS_MJPEG_PART_HEAD_MAX: usize = 102;

/// Longest boundary RFC 2046 allows.
pub const IS_MJPEG_BOUNDARY_MAX: usize = 70;
const BOUNDARY_MAX: usize = IS_MJPEG_BOUNDARY_MAX;

/// Longest tail: CRLF, `--`, boundary, CRLF.
const PART_TAIL_MAX: usize = 2 + 2 + BOUNDARY_MAX + 2;

// usize::MAX has 20 digits; u64::MAX µs has 14 digits of seconds.
const PART_HEAD_MAX: usize =
    CONTENT_TYPE.len() + CONTENT_LENGTH.len() + 20 + 2 + X_TIMESTAMP.len() + 14 + 1 + 6 + 2 + 2;

const CONTENT_TYPE: &[u8] = b"Content-Type: image/jpeg\r\n";
const CONTENT_LENGTH: &[u8] = b"Content-Length: ";
const X_TIMESTAMP: &[u8] = b"X-Timestamp: ";

// The part head goes into the pool's headroom, in front of the JPEG.
const _: () = assert!(PART_HEAD_MAX <= HEADROOM);
const _: () = assert!(PART_HEAD_MAX == IS_MJPEG_PART_HEAD_MAX);

/// Writes `v` in decimal, at least `width` digits (zero-padded).
fn put_dec<S: Sink>(s: &mut S, mut v: u64, width: usize) -> Result<(), SinkFull> {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while v > 0 || digits.len() - i < width.max(1) {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    s.write_all(&digits[i..])
}

/// Runs `write` into `dst` through a [`Measure`]: `Ok(len)` when all of it
/// fitted, else `Err(needed)`, the length it would have had. One pass gives
/// both, so a head's length is never computed a second way.
fn format_into(
    dst: &mut [u8],
    write: impl FnOnce(&mut Measure<'_, SliceSink<'_>>) -> Result<(), SinkFull>,
) -> Result<usize, usize> {
    let mut slice = SliceSink::new(dst);
    let mut m = Measure::new(&mut slice);
    // A Measure never refuses bytes, so `write` cannot fail.
    let _ = write(&mut m);
    if m.overflowed() {
        Err(m.offered())
    } else {
        Ok(m.offered())
    }
}

/// [`format_into`] for the C ABI: sets `out.len`, or `out.needed` with
/// `IS_ERR_OUTPUT_TOO_SMALL`.
fn format_status(
    dst: &mut [u8],
    out: &mut IsOutcome,
    write: impl FnOnce(&mut Measure<'_, SliceSink<'_>>) -> Result<(), SinkFull>,
) -> i32 {
    match format_into(dst, write) {
        Ok(n) => {
            out.len = n;
            IS_OK
        }
        Err(needed) => {
            out.needed = needed;
            IS_ERR_OUTPUT_TOO_SMALL
        }
    }
}

/// Checks a boundary against RFC 2046's conservative character set.
pub fn boundary_ok(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len() <= BOUNDARY_MAX
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&c))
}

/// A header value may be any visible ASCII or space, nothing that could end
/// the header line.
fn header_value_ok(v: &[u8]) -> bool {
    v.iter().all(|&c| c == b' ' || c.is_ascii_graphic())
}

/// Checks the response head's arguments.
fn check_head_args(boundary: &[u8], allow_origin: &[u8]) -> Result<(), i32> {
    if !boundary_ok(boundary) {
        Err(IS_ERR_BAD_BOUNDARY)
    } else if !header_value_ok(allow_origin) {
        Err(IS_ERR_BAD_HEADER_VALUE)
    } else {
        Ok(())
    }
}

/// Writes the HTTP response head that starts a stream (empty `allow_origin`
/// leaves the CORS header out). Arguments checked by [`check_head_args`].
fn response_head<S: Sink>(s: &mut S, boundary: &[u8], allow_origin: &[u8]) -> Result<(), SinkFull> {
    s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=")?;
    s.write_all(boundary)?;
    // Every frame is new: no cache, no proxy buffering.
    s.write_all(
        b"\r\nCache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n\
          Pragma: no-cache\r\nExpires: 0\r\nX-Accel-Buffering: no\r\nConnection: close\r\n",
    )?;
    if !allow_origin.is_empty() {
        s.write_all(b"Access-Control-Allow-Origin: ")?;
        s.write_all(allow_origin)?;
        s.write_all(b"\r\n")?;
    }
    s.write_all(b"\r\n--")?;
    s.write_all(boundary)?;
    s.write_all(b"\r\n")
}

/// Writes a part head for a JPEG of `len` bytes captured at `timestamp_us`.
fn part_head<S: Sink>(s: &mut S, len: usize, timestamp_us: u64) -> Result<(), SinkFull> {
    s.write_all(CONTENT_TYPE)?;
    s.write_all(CONTENT_LENGTH)?;
    put_dec(s, len as u64, 1)?;
    s.write_all(b"\r\n")?;
    s.write_all(X_TIMESTAMP)?;
    put_dec(s, timestamp_us / 1_000_000, 1)?;
    s.write_all(b".")?;
    put_dec(s, timestamp_us % 1_000_000, 6)?;
    s.write_all(b"\r\n\r\n")
}

/// Writes the tail that follows a JPEG: CRLF and the next boundary line.
fn part_tail<S: Sink>(s: &mut S, boundary: &[u8]) -> Result<(), SinkFull> {
    s.write_all(b"\r\n--")?;
    s.write_all(boundary)?;
    s.write_all(b"\r\n")
}

/// The part head for `len` bytes into a stack buffer: it always fits,
/// [`PART_HEAD_MAX`] being the longest head (tested below).
fn part_head_bytes(len: usize, timestamp_us: u64) -> ([u8; PART_HEAD_MAX], usize) {
    let mut head = [0u8; PART_HEAD_MAX];
    let n = format_into(&mut head, |s| part_head(s, len, timestamp_us)).unwrap_or(0);
    (head, n)
}

/// Writes the stream's HTTP response head (status line, multipart content
/// type, no-cache headers, `Access-Control-Allow-Origin` unless
/// `allow_origin` is empty, then the first boundary line) into `dst`.
/// `out.len` is its length; on `IS_ERR_OUTPUT_TOO_SMALL`, `out.needed` is.
///
/// # Safety
/// Pointers valid for the call with the given lengths; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn is_mjpeg_response_head(
    boundary: *const u8,
    boundary_len: usize,
    allow_origin: *const u8,
    allow_origin_len: usize,
    dst: *mut u8,
    cap: usize,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let out = unsafe { &mut *out };
    let b = try_status!(unsafe { borrow(boundary, boundary_len) });
    let o = try_status!(unsafe { borrow(allow_origin, allow_origin_len) });
    let d = try_status!(unsafe { borrow_mut(dst, cap) });
    try_status!(check_head_args(b, o));
    format_status(d, out, |s| response_head(s, b, o))
}

/// Writes the head of one part (`Content-Type`, `Content-Length: jpeg_len`,
/// `X-Timestamp: <sec>.<usec>`, blank line) into `dst`; at most
/// [`IS_MJPEG_PART_HEAD_MAX`] bytes. `out.len` is its length.
///
/// # Safety
/// `dst` has `cap` writable bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn is_mjpeg_part_head(
    jpeg_len: usize,
    timestamp_us: u64,
    dst: *mut u8,
    cap: usize,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let out = unsafe { &mut *out };
    let d = try_status!(unsafe { borrow_mut(dst, cap) });
    format_status(d, out, |s| part_head(s, jpeg_len, timestamp_us))
}

/// Encodes `frame` once into the pool (JPEG input is taken as is) and writes
/// one part — head, JPEG, tail with the next boundary — to `writer`, as one
/// contiguous write when the pool has room for the tail (it usually has).
/// `out.len` is the bytes written, also on failure; `out.needed` the JPEG's
/// size.
///
/// # Safety
/// Pointers valid for the call with the given lengths; `writer.write` is
/// safe to call with its `ctx`.
#[no_mangle]
pub unsafe extern "C" fn is_send_mjpeg_part(
    writer: *const IsWriter,
    frame: *const IsFrame,
    options: *const IsEncodeOptions,
    boundary: *const u8,
    boundary_len: usize,
    timestamp_us: u64,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (w, f, o, out) = unsafe { (*writer, &*frame, &*options, &mut *out) };
    let b = try_status!(unsafe { borrow(boundary, boundary_len) });
    if !boundary_ok(b) {
        return IS_ERR_BAD_BOUNDARY;
    }
    let (s, input) = try_status!(unsafe { open_input(f, o, out) });
    let mut tail = [0u8; PART_TAIL_MAX];
    let tail_len = format_into(&mut tail, |s| part_tail(s, b)).unwrap_or(0);
    let tail = &tail[..tail_len];
    let r = POOL.with(|p| -> Result<(), i32> {
        let mut w = w;
        if let Input::Jpeg(bytes, info) = input {
            // Copied behind the headroom so head, JPEG and tail go out in
            // one write; a JPEG over the pool's limit goes out in pieces.
            if p.reserve(HEADROOM + bytes.len() + tail.len()).is_err() {
                out.width = info.width.into();
                out.height = info.height.into();
                out.needed = bytes.len();
                return record(send_pieces(&mut w, bytes, tail, timestamp_us), out);
            }
        }
        let range = stage(p, input, &s, tail.len(), out)?.jpeg;
        out.needed = range.len();
        let buf = p.bytes_mut();
        let (head, head_len) = part_head_bytes(range.len(), timestamp_us);
        let start = range.start - head_len;
        buf[start..range.start].copy_from_slice(&head[..head_len]);
        let r = if range.end + tail.len() <= buf.len() {
            buf[range.end..range.end + tail.len()].copy_from_slice(tail);
            send::write_all(&mut w, &buf[start..range.end + tail.len()])
        } else {
            send::write_parts(&mut w, &[&buf[start..range.end], tail])
        };
        record(r, out)
    });
    status(r, out)
}

/// Writes head, JPEG and tail as three pieces (JPEG too large for the pool).
fn send_pieces<W: send::Write>(
    w: &mut W,
    jpeg: &[u8],
    tail: &[u8],
    timestamp_us: u64,
) -> Result<usize, (send::SendError, usize)> {
    let (head, n) = part_head_bytes(jpeg.len(), timestamp_us);
    send::write_parts(w, &[&head[..n], jpeg, tail])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::tests::Trickle;
    use core::ffi::c_void;

    fn head_str(len: usize, ts: u64) -> String {
        let (b, n) = part_head_bytes(len, ts);
        String::from_utf8(b[..n].to_vec()).unwrap()
    }

    /// The response head through the C entry point: `Ok(text)` or the
    /// status with `out.needed`.
    fn response(boundary: &[u8], origin: &[u8], cap: usize) -> Result<String, (i32, usize)> {
        let mut b = vec![0u8; cap];
        let mut out = IsOutcome::default();
        let st = unsafe {
            is_mjpeg_response_head(
                boundary.as_ptr(),
                boundary.len(),
                origin.as_ptr(),
                origin.len(),
                b.as_mut_ptr(),
                cap,
                &mut out,
            )
        };
        if st == IS_OK {
            Ok(String::from_utf8(b[..out.len].to_vec()).unwrap())
        } else {
            Err((st, out.needed))
        }
    }

    #[test]
    fn part_head_fields() {
        assert_eq!(
            head_str(12345, 1_700_000_000_000_042),
            "Content-Type: image/jpeg\r\nContent-Length: 12345\r\n\
             X-Timestamp: 1700000000.000042\r\n\r\n"
        );
        assert!(head_str(0, 0).contains("Content-Length: 0\r\nX-Timestamp: 0.000000\r\n"));
        // The longest possible head fits the bound (and the headroom).
        assert_eq!(head_str(usize::MAX, u64::MAX).len(), PART_HEAD_MAX);
    }

    #[test]
    fn part_head_reports_size_needed() {
        let mut small = [0u8; 10];
        let mut out = IsOutcome::default();
        let st = unsafe { is_mjpeg_part_head(999, 5, small.as_mut_ptr(), 10, &mut out) };
        assert_eq!(st, IS_ERR_OUTPUT_TOO_SMALL);
        assert_eq!(out.needed, head_str(999, 5).len());
    }

    #[test]
    fn response_head_text() {
        let s = response(b"frame", b"*", 512).unwrap();
        assert!(s.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(s.contains("\r\nContent-Type: multipart/x-mixed-replace;boundary=frame\r\n"));
        assert!(s.contains("\r\nCache-Control: no-store"));
        assert!(s.contains("\r\nAccess-Control-Allow-Origin: *\r\n"));
        assert!(s.ends_with("\r\n\r\n--frame\r\n"));
        let s2 = response(b"frame", b"", 512).unwrap();
        assert!(!s2.contains("Access-Control"));
        // Too small: the size needed is exactly the head's length.
        assert_eq!(
            response(b"frame", b"*", 20),
            Err((IS_ERR_OUTPUT_TOO_SMALL, s.len()))
        );
        assert_eq!(
            response(b"frame", b"", 0),
            Err((IS_ERR_OUTPUT_TOO_SMALL, s2.len()))
        );
        assert_eq!(response(b"frame", b"*", s.len()), Ok(s));
    }

    #[test]
    fn response_head_rejects_bad_input() {
        let bad = |b: &[u8], o: &[u8]| response(b, o, 512).err().map(|e| e.0);
        assert_eq!(bad(b"", b""), Some(IS_ERR_BAD_BOUNDARY));
        assert_eq!(bad(b"a b", b""), Some(IS_ERR_BAD_BOUNDARY));
        assert_eq!(bad(&[b'x'; 71], b""), Some(IS_ERR_BAD_BOUNDARY));
        assert_eq!(bad(&[b'x'; 70], b""), None);
        assert_eq!(
            bad(b"ok", b"*\r\nSet-Cookie: x"),
            Some(IS_ERR_BAD_HEADER_VALUE)
        );
        // Bad arguments are reported before the size, also with no room.
        assert_eq!(
            response(b"a b", b"", 0).err(),
            Some((IS_ERR_BAD_BOUNDARY, 0))
        );
    }

    /// A writer callback collecting into a `Trickle`.
    unsafe extern "C" fn trickle_write(
        ctx: *mut c_void,
        buf: *const u8,
        len: usize,
        written: *mut usize,
    ) -> i32 {
        let t = unsafe { &mut *(ctx as *mut Trickle) };
        let b = unsafe { core::slice::from_raw_parts(buf, len) };
        match send::Write::write(t, b) {
            Ok(n) => {
                unsafe { *written = n };
                0
            }
            Err(send::SendError::Os(e)) => e,
            Err(_) => -1,
        }
    }

    fn send(frame: &IsFrame, t: &mut Trickle, ts: u64) -> (i32, IsOutcome) {
        let w = IsWriter {
            write: trickle_write,
            ctx: t as *mut Trickle as *mut c_void,
        };
        let o = IsEncodeOptions::fixed(70, 420, 0);
        let mut out = IsOutcome::default();
        let st = unsafe { is_send_mjpeg_part(&w, frame, &o, b"bnd".as_ptr(), 3, ts, &mut out) };
        (st, out)
    }

    /// Splits one part into (head, jpeg, tail) using its Content-Length.
    fn split(part: &[u8]) -> (&[u8], &[u8], &[u8]) {
        let end = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = core::str::from_utf8(&part[..end]).unwrap();
        let len: usize = head
            .split("Content-Length: ")
            .nth(1)
            .unwrap()
            .split("\r\n")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        (&part[..end], &part[end..end + len], &part[end + len..])
    }

    #[test]
    fn send_raw_frame_short_writes() {
        let px: Vec<u8> = (0..96 * 64).map(|i| (i * 13 % 251) as u8).collect();
        let f = IsFrame::raw(&px, 96, 64, 1);
        let mut t = Trickle {
            out: Vec::new(),
            chunk: 333,
            fail_after: None,
            calls: 0,
        };
        let (st, out) = send(&f, &mut t, 3_000_001);
        assert_eq!(st, IS_OK);
        assert_eq!(out.len, t.out.len());
        assert_eq!((out.width, out.height), (96, 64));
        let (head, jpeg, tail) = split(&t.out);
        assert!(core::str::from_utf8(head)
            .unwrap()
            .contains("X-Timestamp: 3.000001\r\n"));
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        assert_eq!(&jpeg[jpeg.len() - 2..], &[0xFF, 0xD9]);
        assert_eq!(out.needed, jpeg.len());
        assert_eq!(tail, b"\r\n--bnd\r\n");

        // The same JPEG passed through is sent byte for byte.
        let jpeg = jpeg.to_vec();
        let j = IsFrame::jpeg(&jpeg);
        let mut t2 = Trickle {
            out: Vec::new(),
            chunk: usize::MAX,
            fail_after: None,
            calls: 0,
        };
        let (st, out2) = send(&j, &mut t2, 3_000_001);
        assert_eq!(st, IS_OK);
        assert_eq!(t2.out, t.out);
        assert_eq!((out2.width, out2.height), (96, 64));
        assert_eq!(t2.calls, 1, "head, JPEG and tail go out in one write");
    }

    #[test]
    fn send_reports_errno_and_progress() {
        let px = vec![128u8; 64 * 64];
        let f = IsFrame::raw(&px, 64, 64, 1);
        let mut t = Trickle {
            out: Vec::new(),
            chunk: 50,
            fail_after: Some(100),
            calls: 0,
        };
        let (st, out) = send(&f, &mut t, 0);
        assert_eq!(st, IS_ERR_OS);
        assert_eq!(out.os_error, 32);
        assert_eq!(out.len, 100);
    }

    #[test]
    fn send_rejects_bad_boundary() {
        let px = [0u8; 64];
        let f = IsFrame::raw(&px[..64], 8, 8, 1);
        let mut t = Trickle {
            out: Vec::new(),
            chunk: 10,
            fail_after: None,
            calls: 0,
        };
        let w = IsWriter {
            write: trickle_write,
            ctx: &mut t as *mut Trickle as *mut c_void,
        };
        let o = IsEncodeOptions::fixed(70, 420, 0);
        let mut out = IsOutcome::default();
        let st = unsafe { is_send_mjpeg_part(&w, &f, &o, b"a\r\n".as_ptr(), 3, 0, &mut out) };
        assert_eq!(st, IS_ERR_BAD_BOUNDARY);
        assert!(t.out.is_empty());
    }
}
