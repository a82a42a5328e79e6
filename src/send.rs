//! Writing bytes through the shim's write callback, in bounded pieces.
//!
//! The callback is a MicroPython stream `write`: it may write less than asked
//! (a non-blocking or interrupted socket), and it reports errors as an errno
//! or as "a Python exception is pending". Every loop over it lives here.

/// Largest piece handed to one write call: big enough that syscalls are not
/// the bottleneck, small enough to bound how long one call blocks.
pub const MAX_PIECE: usize = 64 * 1024;

/// Why a send stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The stream failed with this errno.
    Os(i32),
    /// The stream raised a Python exception; the shim holds it and re-raises.
    Exception,
    /// The stream accepted no bytes and reported no error (closed or would
    /// block); `sent` bytes had gone out before.
    Stalled,
    /// A non-blocking stream is full for now (EAGAIN): not an error for a
    /// caller that resumes later ([`crate::tcp_sender`]). Only writers made
    /// for such a caller report it.
    WouldBlock,
}

/// Something bytes can be written to: the shim's callback, or a test double.
pub trait Write {
    /// Writes up to `buf.len()` bytes, returning how many were taken.
    fn write(&mut self, buf: &[u8]) -> Result<usize, SendError>;
}

/// Writes all of `buf` in pieces of at most [`MAX_PIECE`] bytes, resuming
/// after short writes. On failure returns the error and the bytes written.
pub fn write_all<W: Write>(w: &mut W, buf: &[u8]) -> Result<usize, (SendError, usize)> {
    let mut done = 0;
    while done < buf.len() {
        let end = buf.len().min(done + MAX_PIECE);
        match w.write(&buf[done..end]) {
            Ok(0) => return Err((SendError::Stalled, done)),
            Ok(n) => done += n.min(end - done),
            Err(e) => return Err((e, done)),
        }
    }
    Ok(done)
}

/// Writes `parts` back to back, as one logical message.
pub fn write_parts<W: Write>(w: &mut W, parts: &[&[u8]]) -> Result<usize, (SendError, usize)> {
    let mut total = 0;
    for p in parts {
        match write_all(w, p) {
            Ok(n) => total += n,
            Err((e, n)) => return Err((e, total + n)),
        }
    }
    Ok(total)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stream that takes at most `chunk` bytes per call and can fail after
    /// `fail_after` bytes.
    pub struct Trickle {
        pub out: Vec<u8>,
        pub chunk: usize,
        pub fail_after: Option<usize>,
        pub calls: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> Result<usize, SendError> {
            self.calls += 1;
            assert!(buf.len() <= MAX_PIECE);
            if let Some(limit) = self.fail_after {
                if self.out.len() >= limit {
                    return Err(SendError::Os(32));
                }
            }
            let n = buf.len().min(self.chunk);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
    }

    #[test]
    fn short_writes_are_resumed() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut t = Trickle {
            out: Vec::new(),
            chunk: 777,
            fail_after: None,
            calls: 0,
        };
        assert_eq!(write_parts(&mut t, &[b"head", &data]), Ok(4 + data.len()));
        assert_eq!(&t.out[4..], &data[..]);
    }

    #[test]
    fn errors_report_progress() {
        let data = [1u8; 10_000];
        let mut t = Trickle {
            out: Vec::new(),
            chunk: 4096,
            fail_after: Some(5000),
            calls: 0,
        };
        assert_eq!(write_all(&mut t, &data), Err((SendError::Os(32), 8192)));
    }
}
