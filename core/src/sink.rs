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

/// A cursor over a caller's slice that keeps counting past the end, so a
/// failed encode can still say how many bytes it would have needed.
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
    /// Bytes written so far, or that would have been written.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Whether everything offered fitted.
    pub fn fits(&self) -> bool {
        self.len <= self.buf.len()
    }
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn write_all(&mut self, data: &[u8]) -> Result<(), SinkFull> {
        let end = self.len + data.len();
        if end <= self.buf.len() {
            self.buf[self.len..end].copy_from_slice(data);
            self.len = end;
            Ok(())
        } else {
            // Keep counting so the caller learns the size it needs.
            self.len = end;
            Err(SinkFull)
        }
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
    fn slice_sink_counts_past_end() {
        let mut b = [0u8; 4];
        let mut s = SliceSink::new(&mut b);
        assert!(s.write_all(b"abc").is_ok());
        assert_eq!(s.write_all(b"de"), Err(SinkFull));
        assert_eq!(s.len(), 5);
        assert!(!s.fits());
    }
}

/// Wraps a sink so that running out of room is not an error: bytes past the
/// end are only counted. An encoder then finishes and the caller learns the
/// size it would have needed (`encode_into`'s "need N bytes" message).
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
