//! The one reusable output buffer ("pool") that encodes and sends share.
//!
//! Each frame is encoded into the same block; it grows only when a frame
//! needs more, never past a limit the user sets, and so steady-state sending
//! allocates nothing. A fixed headroom before the JPEG leaves space to put a
//! transport header (frame header, MJPEG part head) directly in front of the
//! payload, so header and payload go out as one contiguous write.

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use img_stream_core::frame::RawFrame;
use img_stream_core::jpeg::{self, EncodeError, Engine, Subsampling};
use img_stream_core::sink::{Measure, SliceSink};

/// Bytes kept free in front of the payload for a transport header.
pub const HEADROOM: usize = 256;

/// Default cap on the buffer: enough for a 1080p frame at quality 100.
pub const DEFAULT_LIMIT: usize = 8 * 1024 * 1024;

/// Smallest buffer worth allocating.
const MIN_CAPACITY: usize = 16 * 1024;

/// Why the pool could not hold an encoded frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// The frame needs `needed` bytes, more than the limit allows.
    OverLimit {
        /// Bytes the frame (plus headroom) needs.
        needed: usize,
    },
    /// The allocator had no memory.
    NoMemory,
    /// The encoder refused the input.
    Encode(EncodeError),
    /// Another thread is using the pool.
    Busy,
}

/// The buffer and its limit.
#[derive(Debug)]
pub struct Pool {
    buf: Vec<u8>,
    limit: usize,
    encodes: u32,
    grows: u32,
    /// Changes whenever the bytes behind the headroom stop being the JPEG
    /// last put there, so a held result (`img_stream.Encoded`) can tell it
    /// is stale; never 0.
    generation: u32,
}

/// What `buffer_info()` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct PoolInfo {
    /// Bytes currently allocated.
    pub capacity: usize,
    /// Most bytes the buffer may grow to.
    pub limit: usize,
    /// Frames encoded into the pool since start.
    pub encodes: u32,
    /// Times the buffer had to grow.
    pub grows: u32,
}

impl Pool {
    /// An empty pool with the default limit.
    pub const fn new() -> Pool {
        Pool {
            buf: Vec::new(),
            limit: DEFAULT_LIMIT,
            encodes: 0,
            grows: 0,
            generation: 1,
        }
    }

    /// The current generation (see [`Pool::held`]).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Marks the JPEG behind the headroom as gone (re-encoded, replaced,
    /// freed, or overwritten in place by a transport).
    pub fn clobber(&mut self) {
        self.generation = self.generation.wrapping_add(1).max(1);
    }

    /// The range of a JPEG of `len` bytes put behind the headroom at
    /// `generation`, if it is still there untouched.
    pub fn held(&self, generation: u32, len: usize) -> Option<core::ops::Range<usize>> {
        (generation == self.generation && HEADROOM + len <= self.buf.len())
            .then_some(HEADROOM..HEADROOM + len)
    }

    /// Size, limit and counters.
    pub fn info(&self) -> PoolInfo {
        PoolInfo {
            capacity: self.buf.len(),
            limit: self.limit,
            encodes: self.encodes,
            grows: self.grows,
        }
    }

    /// Caps the buffer at `limit` bytes; a larger buffer is freed now and
    /// grown again on demand.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        if self.buf.len() > limit {
            self.release();
        }
    }

    /// Frees the buffer (the limit stays).
    pub fn release(&mut self) {
        self.buf = Vec::new();
        self.clobber();
    }

    /// Makes sure the buffer holds at least `needed` bytes, keeping what it
    /// holds (a held JPEG survives a transport growing the buffer).
    pub fn reserve(&mut self, needed: usize) -> Result<(), PoolError> {
        if needed > self.limit {
            return Err(PoolError::OverLimit { needed });
        }
        if self.buf.len() >= needed {
            return Ok(());
        }
        // Grow geometrically so a slowly growing frame size does not realloc
        // every frame, but never past the limit.
        let target = needed.max(self.buf.len() * 3 / 2).min(self.limit);
        let mut fresh = Vec::new();
        fresh
            .try_reserve_exact(target)
            .map_err(|_| PoolError::NoMemory)?;
        fresh.extend_from_slice(&self.buf);
        fresh.resize(target, 0);
        self.buf = fresh;
        self.grows += 1;
        Ok(())
    }

    /// Like [`Pool::reserve`], but the first `keep` bytes survive a move to
    /// a larger buffer (a transport that needs room behind a staged frame).
    pub fn reserve_keeping(&mut self, needed: usize, keep: usize) -> Result<(), PoolError> {
        if self.buf.len() >= needed {
            return Ok(());
        }
        let old = core::mem::take(&mut self.buf);
        if let Err(e) = self.reserve(needed) {
            self.buf = old;
            return Err(e);
        }
        let keep = keep.min(old.len());
        self.buf[..keep].copy_from_slice(&old[..keep]);
        Ok(())
    }

    /// Encodes `frame` after the headroom; returns the JPEG's range in
    /// [`Pool::bytes`].
    pub fn encode(
        &mut self,
        frame: &RawFrame<'_>,
        quality: u8,
        subsampling: Subsampling,
        engine: Engine,
    ) -> Result<core::ops::Range<usize>, PoolError> {
        if self.limit <= HEADROOM {
            return Err(PoolError::OverLimit {
                needed: HEADROOM + 1,
            });
        }
        if self.buf.is_empty() {
            // A first guess that fits most frames: a quarter of a byte per
            // pixel per component is generous for quality <= 90.
            let guess = frame.width() as usize * frame.height() as usize + MIN_CAPACITY;
            self.reserve((guess + HEADROOM).min(self.limit))?;
        }
        loop {
            let mut slice = SliceSink::new(&mut self.buf[HEADROOM..]);
            let mut measure = Measure::new(&mut slice);
            jpeg::encode(frame, quality, subsampling, engine, &mut measure)
                .map_err(PoolError::Encode)?;
            let len = measure.offered();
            if !measure.overflowed() {
                self.encodes += 1;
                self.clobber();
                return Ok(HEADROOM..HEADROOM + len);
            }
            // Rare (first frames, a sudden detailed scene): grow, re-encode.
            self.reserve(HEADROOM + len)?;
        }
    }

    /// The whole buffer, headroom included.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The whole buffer, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

/// A pool behind a flag, so the staticlib needs no `std` mutex and no TLS.
/// MicroPython calls in with its GIL held; the flag still makes a second
/// thread (GIL released during a socket write) fail cleanly with `Busy`.
pub struct SharedPool {
    busy: AtomicBool,
    pool: UnsafeCell<Pool>,
}

// SAFETY: access to `pool` only happens through `with`, which the `busy` flag
// makes exclusive.
unsafe impl Sync for SharedPool {}

impl SharedPool {
    /// An empty, unlocked pool.
    pub const fn new() -> SharedPool {
        SharedPool {
            busy: AtomicBool::new(false),
            pool: UnsafeCell::new(Pool::new()),
        }
    }

    /// Runs `f` with exclusive access, or fails with `Busy`.
    pub fn with<R>(&self, f: impl FnOnce(&mut Pool) -> R) -> Result<R, PoolError> {
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(PoolError::Busy);
        }
        // SAFETY: the flag is ours until the store below.
        let r = f(unsafe { &mut *self.pool.get() });
        self.busy.store(false, Ordering::Release);
        Ok(r)
    }
}

impl Default for SharedPool {
    fn default() -> Self {
        SharedPool::new()
    }
}

/// The module's pool.
pub static POOL: SharedPool = SharedPool::new();

#[cfg(test)]
mod tests {
    use super::*;
    use img_stream_core::pixel::PixelFormat;

    fn frame(px: &[u8], w: u32, h: u32) -> RawFrame<'_> {
        RawFrame::new(px, w, h, PixelFormat::Rgb888, 0).unwrap()
    }

    #[test]
    fn grows_then_reuses() {
        let px: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let mut p = Pool::new();
        let r = p.encode(
            &frame(&px, 64, 48),
            90,
            Subsampling::S444,
            Engine::default(),
        );
        let r = r.unwrap();
        assert_eq!(&p.bytes()[r.start..r.start + 2], &[0xFF, 0xD8]);
        let cap = p.info().capacity;
        for _ in 0..5 {
            p.encode(
                &frame(&px, 64, 48),
                90,
                Subsampling::S444,
                Engine::default(),
            )
            .unwrap();
        }
        assert_eq!(p.info().capacity, cap);
        assert_eq!(p.info().encodes, 6);
    }

    #[test]
    fn limit_is_enforced() {
        let px: Vec<u8> = (0..256 * 256 * 3).map(|i| (i * 7919 % 256) as u8).collect();
        let mut p = Pool::new();
        p.set_limit(4096);
        let e = p.encode(
            &frame(&px, 256, 256),
            100,
            Subsampling::S444,
            Engine::default(),
        );
        assert!(matches!(e, Err(PoolError::OverLimit { needed }) if needed > 4096));
        assert!(p.info().capacity <= 4096);
    }

    #[test]
    fn held_jpeg_survives_growth_but_not_a_new_frame() {
        let px: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let mut p = Pool::new();
        let r = p
            .encode(
                &frame(&px, 64, 48),
                80,
                Subsampling::S420,
                Engine::default(),
            )
            .unwrap();
        let (g, jpeg) = (p.generation(), p.bytes()[r.clone()].to_vec());
        assert_eq!(p.held(g, jpeg.len()), Some(r.clone()));
        // A transport making room (MJPEG's tail) keeps the bytes.
        p.reserve(p.info().capacity + 1).unwrap();
        assert_eq!(
            p.held(g, jpeg.len()).map(|r| &p.bytes()[r]),
            Some(&jpeg[..])
        );
        p.encode(
            &frame(&px, 64, 48),
            80,
            Subsampling::S420,
            Engine::default(),
        )
        .unwrap();
        assert_eq!(p.held(g, jpeg.len()), None);
        let g = p.generation();
        p.clobber();
        assert_eq!(p.held(g, jpeg.len()), None);
        p.release();
        assert_ne!(p.generation(), 0);
    }

    #[test]
    fn shared_pool_is_exclusive() {
        let s = SharedPool::new();
        let inner = s.with(|_| s.with(|_| ()).err());
        assert_eq!(inner, Ok(Some(PoolError::Busy)));
    }
}
