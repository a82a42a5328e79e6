//! The narrow byte sink everything that produces bytes writes into.

/// Where encoded bytes go. One method, like `jpeg-encoder`'s `JfifWrite`.
pub trait Sink {
    /// Appends all of `buf`, or fails without a partial write being visible
    /// as success.
    fn write_all(&mut self, buf: &[u8]) -> Result<(), SinkFull>;
}

/// The sink had no room for the bytes offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinkFull;

impl core::fmt::Display for SinkFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("output buffer full")
    }
}

impl core::error::Error for SinkFull {}

/// A cursor over a caller's slice. As `heapless::Vec::extend_from_slice`,
/// a write that does not fit fails and changes nothing; wrap the sink in a
/// [`Measure`] to learn the size that would have been needed.
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceSink<'a> {
    /// An empty sink over `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceSink { buf, len: 0 }
    }
    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn write_all(&mut self, data: &[u8]) -> Result<(), SinkFull> {
        let end = self.len.checked_add(data.len()).ok_or(SinkFull)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(SinkFull)?
            .copy_from_slice(data);
        self.len = end;
        Ok(())
    }
}

impl<const N: usize> Sink for heapless::Vec<u8, N> {
    fn write_all(&mut self, data: &[u8]) -> Result<(), SinkFull> {
        self.extend_from_slice(data).map_err(|_| SinkFull)
    }
}

impl Sink for alloc::vec::Vec<u8> {
    fn write_all(&mut self, data: &[u8]) -> Result<(), SinkFull> {
        self.extend_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_sink_failed_write_changes_nothing() {
        let mut b = [0u8; 4];
        let mut s = SliceSink::new(&mut b);
        assert!(s.write_all(b"abc").is_ok());
        assert_eq!(s.write_all(b"de"), Err(SinkFull));
        assert_eq!(s.len(), 3);
        assert!(s.write_all(b"d").is_ok());
        assert_eq!(b, *b"abcd");
    }

    #[test]
    fn measure_counts_past_the_end() {
        let mut b = [0u8; 4];
        let mut s = SliceSink::new(&mut b);
        let mut m = Measure::new(&mut s);
        assert!(m.write_all(b"abc").is_ok());
        assert!(m.write_all(b"de").is_ok());
        // Nothing more is stored once a write did not fit, even if it would.
        assert!(m.write_all(b"f").is_ok());
        assert_eq!((m.offered(), m.overflowed()), (6, true));
        assert_eq!(s.len(), 3);
    }
}

/// Wraps a sink so that running out of room is not an error: bytes past the
/// end are only counted. An encoder or formatter then finishes and the
/// caller learns the size it would have needed (`encode_into`'s "need N
/// bytes" message, the MJPEG heads). The one counting mechanism: sinks
/// themselves never count what they refused.
#[derive(Debug)]
pub struct Measure<'s, S: Sink> {
    inner: &'s mut S,
    written: usize,
    overflowed: bool,
}

impl<'s, S: Sink> Measure<'s, S> {
    /// Starts measuring writes into `inner`.
    pub fn new(inner: &'s mut S) -> Self {
        Measure {
            inner,
            written: 0,
            overflowed: false,
        }
    }
    /// Bytes offered so far, stored or not.
    pub fn offered(&self) -> usize {
        self.written
    }
    /// Whether some bytes did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }
}

impl<S: Sink> Sink for Measure<'_, S> {
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> Result<(), SinkFull> {
        self.written += buf.len();
        if !self.overflowed && self.inner.write_all(buf).is_err() {
            self.overflowed = true;
        }
        Ok(())
    }
}
