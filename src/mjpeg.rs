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
const BOUNDARY_MAX: usize = 70;

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

/// The formatted text did not fit the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Full;

/// A write cursor over a byte slice.
struct Cursor<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a mut [u8]) -> Cursor<'a> {
        Cursor { buf, pos: 0 }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.pos.checked_add(bytes.len()).ok_or(Full)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Full)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// `v` in decimal, at least `width` digits (zero-padded).
    fn put_dec(&mut self, mut v: u64, width: usize) -> Result<(), Full> {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        while v > 0 || digits.len() - i < width.max(1) {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.put(&digits[i..])
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

/// Writes the HTTP response head that starts a stream (empty `allow_origin`
/// leaves the CORS header out); returns its length.
fn response_head(
    boundary: &[u8],
    allow_origin: &[u8],
    dst: &mut [u8],
) -> Result<usize, Result<usize, i32>> {
    if !boundary_ok(boundary) {
        return Err(Err(IS_ERR_BAD_BOUNDARY));
    }
    if !header_value_ok(allow_origin) {
        return Err(Err(IS_ERR_BAD_HEADER_VALUE));
    }
    let mut c = Cursor::new(dst);
    let r = (|| {
        c.put(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=")?;
        c.put(boundary)?;
        // Every frame is new: no cache, no proxy buffering.
        c.put(
            b"\r\nCache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n\
              Pragma: no-cache\r\nExpires: 0\r\nX-Accel-Buffering: no\r\nConnection: close\r\n",
        )?;
        if !allow_origin.is_empty() {
            c.put(b"Access-Control-Allow-Origin: ")?;
            c.put(allow_origin)?;
            c.put(b"\r\n")?;
        }
        c.put(b"\r\n--")?;
        c.put(boundary)?;
        c.put(b"\r\n")
    })();
    match r {
        Ok(()) => Ok(c.pos),
        Err(Full) => Err(Ok(response_head_len(boundary, allow_origin))),
    }
}

fn response_head_len(boundary: &[u8], allow_origin: &[u8]) -> usize {
    let mut scratch = [0u8; 512];
    // The fixed text is < 300 bytes; boundary and origin are added by length.
    let fixed = {
        let mut c = Cursor::new(&mut scratch);
        let _ = c.put(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=");
        let _ = c.put(
            b"\r\nCache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n\
              Pragma: no-cache\r\nExpires: 0\r\nX-Accel-Buffering: no\r\nConnection: close\r\n",
        );
        let _ = c.put(b"\r\n--\r\n");
        c.pos
    };
    let cors = if allow_origin.is_empty() {
        0
    } else {
        b"Access-Control-Allow-Origin: \r\n".len() + allow_origin.len()
    };
    fixed + 2 * boundary.len() + cors
}

/// Writes a part head for a JPEG of `len` bytes captured at `timestamp_us`.
fn part_head(len: usize, timestamp_us: u64, dst: &mut [u8]) -> Result<usize, Full> {
    let mut c = Cursor::new(dst);
    c.put(CONTENT_TYPE)?;
    c.put(CONTENT_LENGTH)?;
    c.put_dec(len as u64, 1)?;
    c.put(b"\r\n")?;
    c.put(X_TIMESTAMP)?;
    c.put_dec(timestamp_us / 1_000_000, 1)?;
    c.put(b".")?;
    c.put_dec(timestamp_us % 1_000_000, 6)?;
    c.put(b"\r\n\r\n")?;
    Ok(c.pos)
}

/// Writes the tail that follows a JPEG: CRLF and the next boundary line.
fn part_tail(boundary: &[u8], dst: &mut [u8]) -> Result<usize, Full> {
    let mut c = Cursor::new(dst);
    c.put(b"\r\n--")?;
    c.put(boundary)?;
    c.put(b"\r\n")?;
    Ok(c.pos)
}

/// Borrows `len` bytes at `p`; a null pointer is only fine for `len == 0`.
///
/// # Safety
/// `p` has `len` readable bytes for `'a`.
unsafe fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], i32> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(IS_ERR_NULL);
    }
    // SAFETY: per the contract above.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

/// Borrows `cap` writable bytes at `p`.
///
/// # Safety
/// `p` has `cap` writable bytes for `'a`.
unsafe fn bytes_mut<'a>(p: *mut u8, cap: usize) -> Result<&'a mut [u8], i32> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(IS_ERR_NULL);
    }
    // SAFETY: per the contract above.
    Ok(unsafe { core::slice::from_raw_parts_mut(p, cap) })
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
    let b = try_status!(unsafe { bytes(boundary, boundary_len) });
    let o = try_status!(unsafe { bytes(allow_origin, allow_origin_len) });
    let d = try_status!(unsafe { bytes_mut(dst, cap) });
    match response_head(b, o, d) {
        Ok(n) => {
            out.len = n;
            IS_OK
        }
        Err(Ok(needed)) => {
            out.needed = needed;
            IS_ERR_OUTPUT_TOO_SMALL
        }
        Err(Err(status)) => status,
    }
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
    let d = try_status!(unsafe { bytes_mut(dst, cap) });
    match part_head(jpeg_len, timestamp_us, d) {
        Ok(n) => {
            out.len = n;
            IS_OK
        }
        Err(Full) => {
            let mut scratch = [0u8; PART_HEAD_MAX];
            out.needed = part_head(jpeg_len, timestamp_us, &mut scratch).unwrap_or(PART_HEAD_MAX);
            IS_ERR_OUTPUT_TOO_SMALL
        }
    }
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
    let s = try_status!(settings(o));
    let b = try_status!(unsafe { bytes(boundary, boundary_len) });
    if !boundary_ok(b) {
        return IS_ERR_BAD_BOUNDARY;
    }
    let data = try_status!(unsafe { bytes_of(f) });
    let input = try_status!(input(f, data, out));
    let mut tail = [0u8; PART_TAIL_MAX];
    let tail_len = part_tail(b, &mut tail).unwrap_or(0);
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
        let mut head = [0u8; PART_HEAD_MAX];
        // Cannot fail: PART_HEAD_MAX is the longest head (tested below).
        let head_len =
            part_head(range.len(), timestamp_us, &mut head).map_err(|_| IS_ERR_OUTPUT_TOO_SMALL)?;
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
    let mut head = [0u8; PART_HEAD_MAX];
    let n = part_head(jpeg.len(), timestamp_us, &mut head).unwrap_or(0);
    send::write_parts(w, &[&head[..n], jpeg, tail])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::tests::Trickle;
    use core::ffi::c_void;

    fn head_str(len: usize, ts: u64) -> String {
        let mut b = [0u8; PART_HEAD_MAX];
        let n = part_head(len, ts, &mut b).unwrap();
        String::from_utf8(b[..n].to_vec()).unwrap()
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
        let mut b = [0u8; 512];
        let n = response_head(b"frame", b"*", &mut b).unwrap();
        let s = core::str::from_utf8(&b[..n]).unwrap();
        assert!(s.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(s.contains("\r\nContent-Type: multipart/x-mixed-replace;boundary=frame\r\n"));
        assert!(s.contains("\r\nCache-Control: no-store"));
        assert!(s.contains("\r\nAccess-Control-Allow-Origin: *\r\n"));
        assert!(s.ends_with("\r\n\r\n--frame\r\n"));
        assert_eq!(n, response_head_len(b"frame", b"*"));
        let n2 = response_head(b"frame", b"", &mut b).unwrap();
        assert!(!core::str::from_utf8(&b[..n2])
            .unwrap()
            .contains("Access-Control"));
        assert_eq!(n2, response_head_len(b"frame", b""));
    }

    #[test]
    fn response_head_rejects_bad_input() {
        let mut b = [0u8; 512];
        assert_eq!(
            response_head(b"", b"", &mut b),
            Err(Err(IS_ERR_BAD_BOUNDARY))
        );
        assert_eq!(
            response_head(b"a b", b"", &mut b),
            Err(Err(IS_ERR_BAD_BOUNDARY))
        );
        assert_eq!(
            response_head(&[b'x'; 71], b"", &mut b),
            Err(Err(IS_ERR_BAD_BOUNDARY))
        );
        assert!(response_head(&[b'x'; 70], b"", &mut b).is_ok());
        assert_eq!(
            response_head(b"ok", b"*\r\nSet-Cookie: x", &mut b),
            Err(Err(IS_ERR_BAD_HEADER_VALUE))
        );
        let mut small = [0u8; 20];
        let needed = response_head_len(b"ok", b"http://a");
        assert_eq!(
            response_head(b"ok", b"http://a", &mut small),
            Err(Ok(needed))
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
        let o = IsEncodeOptions {
            quality: 70,
            subsampling: 420,
            engine: 0,
        };
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
        let f = IsFrame {
            data: px.as_ptr(),
            len: px.len(),
            width: 96,
            height: 64,
            stride: 0,
            format: 1,
        };
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
        let j = IsFrame {
            data: jpeg.as_ptr(),
            len: jpeg.len(),
            width: 0,
            height: 0,
            stride: 0,
            format: IS_FORMAT_JPEG,
        };
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
        let f = IsFrame {
            data: px.as_ptr(),
            len: px.len(),
            width: 64,
            height: 64,
            stride: 0,
            format: 1,
        };
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
        let f = IsFrame {
            data: px.as_ptr(),
            len: 64,
            width: 8,
            height: 8,
            stride: 0,
            format: 1,
        };
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
        let o = IsEncodeOptions {
            quality: 70,
            subsampling: 420,
            engine: 0,
        };
        let mut out = IsOutcome::default();
        let st = unsafe { is_send_mjpeg_part(&w, &f, &o, b"a\r\n".as_ptr(), 3, 0, &mut out) };
        assert_eq!(st, IS_ERR_BAD_BOUNDARY);
        assert!(t.out.is_empty());
    }
}
