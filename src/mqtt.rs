//! `publish`: one frame as MQTT message payloads, for the shim to hand to
//! the client's own `publish()`.
//!
//! The shim drives the loop (it calls Python, which must not run under Rust
//! frames); Rust prepares the bytes. Nothing is copied per message: every
//! payload is one contiguous slice of the pool.
//!
//! - Raw mode: the payload is the JPEG itself (in the pool, or the caller's
//!   JPEG bytes).
//! - Chunked mode: the frame message (40-byte frame header + JPEG) lies in
//!   the pool, the header in the headroom. Chunk `i` covers bytes
//!   `i*S..i*S+len` of it, and its 32-byte chunk header goes into the 32 bytes
//!   right before that: the headroom for chunk 0, the tail of chunk `i-1`'s
//!   data (already published) for the others. So chunks must be taken in
//!   index order, each published before the next is asked for.

use img_stream_core::chunk::{self, ChunkPlan};
use img_stream_core::framing;

use crate::ffi::*;
use crate::pool::{HEADROOM, POOL};
use crate::staging::{header_repr, stage, Staged};

/// The frame needs more chunks than a chunk header can count (65535):
/// `needed` is the smallest `chunk_size` that would do.
pub const IS_ERR_TOO_MANY_CHUNKS: i32 = 30;
/// `chunk_size` leaves no room for data after the 32-byte chunk header.
pub const IS_ERR_CHUNK_TOO_SMALL: i32 = 31;

/// Where the frame message starts in the pool in chunked mode: right before
/// the JPEG, which the pool puts at `HEADROOM`.
const FRAME_AT: usize = HEADROOM - framing::HEADER_LEN;

// Chunk 0's header goes in front of the frame header.
const _: () = assert!(FRAME_AT >= chunk::HEADER_LEN);

/// A frame ready to publish, as [`is_mqtt_prepare`] left it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsMqttPlan {
    /// Raw mode: the JPEG (in the pool or the caller's buffer). Chunked:
    /// the frame message in the pool.
    pub data: *const u8,
    /// Bytes at `data`: the JPEG (raw) or the frame message (chunked).
    pub len: usize,
    /// JPEG bytes.
    pub payload_len: usize,
    /// Chunked: data bytes per chunk (the last may carry fewer).
    pub data_size: usize,
    /// Messages to publish: 1 in raw mode.
    pub count: u32,
    /// The frame's sequence number.
    pub seq: u32,
    /// The frame's camera id.
    pub camera_id: u16,
    /// Whether the messages are chunks (else the bare JPEG).
    pub chunked: bool,
}

/// Encodes `frame` (JPEG input passes through) and lays it out for
/// publishing. `chunk_size` 0 means raw mode: `plan.data` is the JPEG.
/// Otherwise messages of at most `chunk_size` bytes: the frame message is put
/// in the pool (JPEG input is copied there once) and [`is_mqtt_chunk`] hands
/// out the messages.
///
/// `plan.data` stays valid until the next call that uses the pool.
///
/// # Safety
/// Pointers valid for the call.
#[no_mangle]
pub unsafe extern "C" fn is_mqtt_prepare(
    frame: *const IsFrame,
    options: *const IsEncodeOptions,
    fields: *const IsHeaderFields,
    chunk_size: usize,
    plan: *mut IsMqttPlan,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (f, o, fields, plan, out) =
        unsafe { (&*frame, &*options, &*fields, &mut *plan, &mut *out) };
    let s = try_status!(settings(o));
    if chunk_size != 0 && chunk_size <= chunk::HEADER_LEN {
        return IS_ERR_CHUNK_TOO_SMALL;
    }
    let data = try_status!(unsafe { bytes_of(f) });
    let input = try_status!(input(f, data, out));
    *plan = IsMqttPlan {
        data: core::ptr::null(),
        len: 0,
        payload_len: 0,
        data_size: 0,
        count: 1,
        seq: fields.seq,
        camera_id: fields.camera_id,
        chunked: chunk_size != 0,
    };
    let r = POOL.with(|p| -> Result<(), i32> {
        if let (Input::Jpeg(bytes, info), 0) = (&input, chunk_size) {
            // Raw mode publishes the caller's bytes as they are.
            plan.data = bytes.as_ptr();
            plan.len = bytes.len();
            plan.payload_len = bytes.len();
            out.width = info.width.into();
            out.height = info.height.into();
            return Ok(());
        }
        let Staged {
            jpeg,
            width,
            height,
        } = stage(p, input, &s, 0, out)?;
        plan.payload_len = jpeg.len();
        if chunk_size == 0 {
            plan.data = p.bytes()[jpeg].as_ptr();
            plan.len = plan.payload_len;
            return Ok(());
        }
        let total = framing::HEADER_LEN + jpeg.len();
        let cut = chunk::plan(total, chunk_size).map_err(|_| {
            out.needed = total.div_ceil(chunk::MAX_COUNT) + chunk::HEADER_LEN;
            IS_ERR_TOO_MANY_CHUNKS
        })?;
        // is_mqtt_chunk writes chunk headers over the JPEG: whatever held
        // it (img_stream.Encoded) must not send it again.
        p.clobber();
        let buf = p.bytes_mut();
        let repr = header_repr(fields, width, height, &buf[jpeg.clone()]);
        repr.emit(&mut buf[FRAME_AT..HEADROOM]);
        plan.data = buf[FRAME_AT..].as_ptr();
        plan.len = total;
        plan.data_size = cut.data_size();
        plan.count = cut.count().into();
        Ok(())
    });
    match r {
        Ok(Ok(())) => {
            out.len = plan.payload_len;
            IS_OK
        }
        Ok(Err(status)) => status,
        Err(e) => pool_status(e, out),
    }
}

/// Writes chunk `index`'s header in front of its data and returns the chunk
/// message (`*message`, `*len`): a slice of the pool. Call in index order,
/// after the previous message was published (its tail is overwritten).
///
/// # Safety
/// Pointers valid for the call; `plan` came from a chunked
/// [`is_mqtt_prepare`] and the pool was not used since.
#[no_mangle]
pub unsafe extern "C" fn is_mqtt_chunk(
    plan: *const IsMqttPlan,
    index: u32,
    message: *mut *const u8,
    len: *mut usize,
) -> i32 {
    // SAFETY: per the contract above.
    let plan = unsafe { &*plan };
    if !plan.chunked || index >= plan.count {
        return IS_ERR_NULL;
    }
    let Ok(cut) = chunk::plan(plan.len, plan.data_size + chunk::HEADER_LEN) else {
        return IS_ERR_NULL;
    };
    let r = POOL.with(|p| {
        let buf = p.bytes_mut();
        // The pool must still hold this frame where prepare put it.
        if buf.len() < FRAME_AT + plan.len || buf[FRAME_AT..].as_ptr() != plan.data {
            return None;
        }
        let range = chunk_in_place(
            &mut buf[..FRAME_AT + plan.len],
            FRAME_AT,
            &cut,
            index as u16,
            plan.seq,
            plan.camera_id,
        );
        Some((buf[range.clone()].as_ptr(), range.len()))
    });
    match r {
        Ok(Some((ptr, n))) => {
            // SAFETY: `message` and `len` are writable.
            unsafe {
                *message = ptr;
                *len = n;
            }
            IS_OK
        }
        Ok(None) => IS_ERR_NULL,
        Err(_) => IS_ERR_BUSY,
    }
}

/// Emits chunk `index`'s header right before its data, for a frame message
/// at `buf[base..]`, and returns the chunk message's range in `buf`.
/// Needs `base >= chunk::HEADER_LEN`.
fn chunk_in_place(
    buf: &mut [u8],
    base: usize,
    cut: &ChunkPlan,
    index: u16,
    seq: u32,
    camera_id: u16,
) -> core::ops::Range<usize> {
    let offset = index as usize * cut.data_size();
    let c = chunk::PlannedChunk {
        index,
        offset: offset as u32,
        len: (cut.total() as usize - offset).min(cut.data_size()),
    };
    let start = base + offset - chunk::HEADER_LEN;
    cut.repr(&c, seq, camera_id).emit(&mut buf[start..]);
    start..base + offset + c.len
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_stream_core::chunk::{parse_message, ChunkRepr};

    /// Publishing copies each message out before the next header is written:
    /// the copies must reassemble to the original frame message.
    #[test]
    fn chunks_in_place_reassemble() {
        for (total, size) in [
            (40usize, 33usize),
            (1000, 300),
            (5000, 4096),
            (4096, 64),
            (77, 1000),
        ] {
            let frame: Vec<u8> = (0..total).map(|i| (i * 31 % 251) as u8).collect();
            let mut buf = vec![0u8; FRAME_AT + total];
            buf[FRAME_AT..].copy_from_slice(&frame);
            let cut = chunk::plan(total, size).unwrap();
            let mut rebuilt = vec![0u8; total];
            for i in 0..cut.count() {
                let r = chunk_in_place(&mut buf, FRAME_AT, &cut, i, 9, 3);
                assert!(r.len() <= size);
                let msg = buf[r].to_vec(); // what the broker got
                let (repr, data) = parse_message(&msg, u32::MAX).unwrap();
                assert_eq!(
                    (repr.index, repr.count, repr.seq, repr.camera_id),
                    (i, cut.count(), 9, 3)
                );
                rebuilt[repr.offset as usize..][..data.len()].copy_from_slice(data);
            }
            assert_eq!(rebuilt, frame, "total {total} size {size}");
        }
    }

    #[test]
    fn first_header_fits_the_headroom() {
        let cut = chunk::plan(100, 64).unwrap();
        let mut buf = vec![0u8; FRAME_AT + 100];
        let r = chunk_in_place(&mut buf, FRAME_AT, &cut, 0, 0, 0);
        assert_eq!(r.start, FRAME_AT - chunk::HEADER_LEN);
        assert!(ChunkRepr::parse(&buf[r]).is_ok());
    }
}
