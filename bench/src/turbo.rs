//! libjpeg-turbo through its TurboJPEG 2.1 API: the few functions the
//! benchmark needs, declared by hand from `/usr/include/turbojpeg.h`.
//!
//! Whether libjpeg-turbo uses SIMD is decided once per process, when the
//! library first runs, from the environment variable `JSIMD_FORCENONE=1`;
//! the benchmark therefore runs the portable path in a child process.

use std::ffi::{c_char, c_int, c_uchar, c_ulong, c_void, CStr};

type Handle = *mut c_void;

// Values from turbojpeg.h (enum TJPF, enum TJSAMP, TJFLAG_*).
const TJPF_RGB: c_int = 0;
const TJPF_GRAY: c_int = 6;
const TJSAMP_420: c_int = 2;
const TJSAMP_GRAY: c_int = 3;
const TJFLAG_NOREALLOC: c_int = 1024;
const TJFLAG_FASTDCT: c_int = 2048;
const TJFLAG_ACCURATEDCT: c_int = 4096;

extern "C" {
    fn tjInitCompress() -> Handle;
    fn tjDestroy(handle: Handle) -> c_int;
    fn tjGetErrorStr2(handle: Handle) -> *mut c_char;
    fn tjBufSize(width: c_int, height: c_int, subsamp: c_int) -> c_ulong;
    fn tjCompress2(
        handle: Handle,
        src: *const c_uchar,
        width: c_int,
        pitch: c_int,
        height: c_int,
        pixel_format: c_int,
        jpeg_buf: *mut *mut c_uchar,
        jpeg_size: *mut c_ulong,
        subsamp: c_int,
        quality: c_int,
        flags: c_int,
    ) -> c_int;
    fn tjCompressFromYUVPlanes(
        handle: Handle,
        planes: *const *const c_uchar,
        width: c_int,
        strides: *const c_int,
        height: c_int,
        subsamp: c_int,
        jpeg_buf: *mut *mut c_uchar,
        jpeg_size: *mut c_ulong,
        quality: c_int,
        flags: c_int,
    ) -> c_int;
}

/// Which forward DCT libjpeg-turbo uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dct {
    /// `TJFLAG_ACCURATEDCT` ("islow"): accuracy on a par with our encoders.
    Accurate,
    /// `TJFLAG_FASTDCT` ("ifast", AAN): TurboJPEG 2.1's default when compressing.
    Fast,
}

impl Dct {
    fn flag(self) -> c_int {
        match self {
            Dct::Accurate => TJFLAG_ACCURATEDCT,
            Dct::Fast => TJFLAG_FASTDCT,
        }
    }
}

/// What libjpeg-turbo is given.
pub enum PeerInput<'a> {
    /// Interleaved R,G,B bytes, encoded 4:2:0.
    Rgb(&'a [u8]),
    /// One luma plane, encoded as a grayscale JPEG.
    Gray(&'a [u8]),
    /// Separate Y, U, V planes (U and V at half width and height), 4:2:0.
    Yuv420 {
        /// Full-resolution luma.
        y: &'a [u8],
        /// Cb, `width/2 x height/2`.
        u: &'a [u8],
        /// Cr, `width/2 x height/2`.
        v: &'a [u8],
    },
}

/// One TurboJPEG compressor with its own output buffer, reused across calls
/// so that no encode allocates (`TJFLAG_NOREALLOC`).
pub struct Turbo {
    handle: Handle,
    out: Vec<u8>,
}

impl Turbo {
    /// A compressor whose buffer fits any frame up to `width x height`.
    pub fn new(width: u32, height: u32) -> Result<Turbo, String> {
        // SAFETY: plain constructor; a null result is checked below.
        let handle = unsafe { tjInitCompress() };
        if handle.is_null() {
            return Err("tjInitCompress failed".into());
        }
        // SAFETY: pure size computation.
        let cap = unsafe { tjBufSize(width as c_int, height as c_int, TJSAMP_420) } as usize;
        Ok(Turbo {
            handle,
            out: vec![0; cap],
        })
    }

    /// Encodes one frame; returns the JPEG (a view into the reused buffer).
    pub fn encode(
        &mut self,
        input: &PeerInput<'_>,
        width: u32,
        height: u32,
        quality: u8,
        dct: Dct,
    ) -> Result<&[u8], String> {
        let (w, h) = (width as c_int, height as c_int);
        let mut buf = self.out.as_mut_ptr();
        let mut size = self.out.len() as c_ulong;
        let flags = TJFLAG_NOREALLOC | dct.flag();
        let q = quality as c_int;
        let rc = match input {
            PeerInput::Rgb(px) => {
                assert!(px.len() >= width as usize * height as usize * 3);
                // SAFETY: `px` holds h rows of 3*w bytes; `buf` has `size`
                // bytes and NOREALLOC keeps TurboJPEG inside it.
                unsafe {
                    tjCompress2(
                        self.handle,
                        px.as_ptr(),
                        w,
                        3 * w,
                        h,
                        TJPF_RGB,
                        &mut buf,
                        &mut size,
                        TJSAMP_420,
                        q,
                        flags,
                    )
                }
            }
            PeerInput::Gray(px) => {
                assert!(px.len() >= width as usize * height as usize);
                // SAFETY: as above, one byte per pixel.
                unsafe {
                    tjCompress2(
                        self.handle,
                        px.as_ptr(),
                        w,
                        w,
                        h,
                        TJPF_GRAY,
                        &mut buf,
                        &mut size,
                        TJSAMP_GRAY,
                        q,
                        flags,
                    )
                }
            }
            PeerInput::Yuv420 { y, u, v } => {
                let (cw, ch) = (width as usize / 2, height as usize / 2);
                assert!(y.len() >= width as usize * height as usize);
                assert!(u.len() >= cw * ch && v.len() >= cw * ch);
                let planes = [y.as_ptr(), u.as_ptr(), v.as_ptr()];
                let strides = [w, cw as c_int, cw as c_int];
                // SAFETY: three planes of the stated strides and heights
                // (checked above); output as for tjCompress2.
                unsafe {
                    tjCompressFromYUVPlanes(
                        self.handle,
                        planes.as_ptr(),
                        w,
                        strides.as_ptr(),
                        h,
                        TJSAMP_420,
                        &mut buf,
                        &mut size,
                        q,
                        flags,
                    )
                }
            }
        };
        if rc != 0 {
            // SAFETY: TurboJPEG returns a NUL-terminated string it owns.
            let msg = unsafe { CStr::from_ptr(tjGetErrorStr2(self.handle)) };
            return Err(format!("libjpeg-turbo: {}", msg.to_string_lossy()));
        }
        // NOREALLOC: TurboJPEG wrote into our buffer and did not replace it.
        assert_eq!(buf, self.out.as_mut_ptr());
        Ok(&self.out[..size as usize])
    }
}

impl Drop for Turbo {
    fn drop(&mut self) {
        // SAFETY: the handle came from tjInitCompress and is dropped once.
        unsafe { tjDestroy(self.handle) };
    }
}
