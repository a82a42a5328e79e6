//! `publish`: one frame as MQTT messages, either as PUBLISH packets for the
//! shim to write to the client's socket itself (umqtt clients), or as
//! payloads for the client's own `publish()` (any other client).
//!
//! The shim drives the loop (it calls Python, which must not run under Rust
//! frames); Rust prepares the bytes: the messages lie in the pool, and each
//! PUBLISH packet is built by `core::mqtt` (mqttrs) into one reused packet
//! area of the pool behind them.
//!
//! - Raw mode: the message is the JPEG itself (in the pool, or the caller's
//!   JPEG bytes).
//! - Chunked mode: the frame message (40-byte frame header + JPEG) lies in
//!   the pool, the header in the headroom. Chunk `i` covers bytes
//!   `i*S..i*S+len` of it, and its 32-byte chunk header goes into the 32 bytes
//!   right before that: the headroom for chunk 0, the tail of chunk `i-1`'s
//!   data (already sent) for the others. So chunks must be taken in
//!   index order, each sent before the next is asked for; to send chunks
//!   again (after a reconnect), take them again in order from the first.

use img_stream_core::chunk::{self, ChunkPlan};
use img_stream_core::framing;
use img_stream_core::mqtt::{self, Incoming, MqttError};

use crate::ffi::*;
use crate::pool::{HEADROOM, POOL};
use crate::staging::{header_repr, stage, Staged};

/// The frame needs more chunks than a chunk header can count (65535):
/// `needed` is the smallest `chunk_size` that would do.
pub const IS_ERR_TOO_MANY_CHUNKS: i32 = 30;
/// `chunk_size` leaves no room for data after the 32-byte chunk header.
pub const IS_ERR_CHUNK_TOO_SMALL: i32 = 31;
/// The topic is not UTF-8, empty, or longer than 65535 bytes.
pub const IS_ERR_BAD_TOPIC: i32 = 32;
/// The broker sent bytes that are no MQTT 3.1.1 packet we can take.
pub const IS_ERR_MQTT_PROTOCOL: i32 = 33;
/// Raw mode: the JPEG is too large for one MQTT message (umqtt's limit,
/// `core::mqtt::UMQTT_LIMIT`, or the caller's `max_message`).
pub const IS_ERR_MQTT_TOO_LARGE: i32 = 34;
/// Chunked mode: a `chunk_size` message would pass umqtt's limit.
pub const IS_ERR_MQTT_CHUNK_TOO_LARGE: i32 = 35;

/// QoS 1 messages of one frame sent before their PUBACKs are awaited: a VGA
/// frame in 4 KiB chunks (4 messages) costs one round trip, not four. Well
/// under Mosquitto's default `max_inflight_messages` (20).
pub const IS_MQTT_WINDOW: usize = 8;
/// Most bytes a PUBLISH adds to topic and payload (`core::mqtt::PUBLISH_OVERHEAD`).
pub const IS_MQTT_PUBLISH_OVERHEAD: usize = 9;
/// umqtt's message limit (`core::mqtt::UMQTT_LIMIT`): a PUBLISH's
/// remaining length must stay below it.
pub const IS_MQTT_UMQTT_LIMIT: usize = 2_097_152;
/// Pool bytes for PUBLISH packets built at once and written in one go (a
/// window of 4 KiB chunks is one write, not one per chunk); the shim asks for
/// them where it pipelines QoS 1 (Linux), and builds one packet at a time
/// elsewhere, where the memory is dearer.
pub const IS_MQTT_BATCH_BYTES: usize = 32_768;
/// Longest packet [`is_mqtt_parse`] is handed whole without the shim
/// reading it into a heap object (PUBACK, PINGRESP, SUBACK...).
pub const IS_MQTT_SMALL_PACKET: usize = 16;

/// Packet kinds [`is_mqtt_parse`] reports.
pub const IS_MQTT_IN_PUBACK: i32 = 1;
/// A message for one of the client's subscriptions.
pub const IS_MQTT_IN_PUBLISH: i32 = 2;
/// Anything else: nothing to do.
pub const IS_MQTT_IN_OTHER: i32 = 3;

const _: () = assert!(IS_MQTT_PUBLISH_OVERHEAD == mqtt::PUBLISH_OVERHEAD);
const _: () = assert!(IS_MQTT_UMQTT_LIMIT == mqtt::UMQTT_LIMIT);
const _: () = assert!(IS_MQTT_SMALL_PACKET >= mqtt::MAX_FIXED_HEADER);

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
    /// Where in the pool [`is_mqtt_packets`] builds packets (0: no packets
    /// were asked for).
    pub packet_at: usize,
    /// Bytes of the largest message's packet.
    pub packet_cap: usize,
    /// Packets [`is_mqtt_packets`] builds at once, for one write (at least 1
    /// when packets were asked for): as many largest packets as
    /// `IsMqttPackets::batch_bytes` holds.
    pub batch: u32,
}

impl IsMqttPlan {
    /// Chunked: where the messages end in the pool (chunk data lie
    /// [`chunk::HEADER_LEN`] apart, see [`chunk_at`]).
    fn chunks_end(&self) -> usize {
        FRAME_AT + self.len + (self.count as usize - 1) * chunk::HEADER_LEN
    }

    /// Chunked: how the frame message is cut (None for a raw plan).
    fn cut(&self) -> Option<ChunkPlan> {
        if !self.chunked {
            return None;
        }
        chunk::plan(self.len, self.data_size + chunk::HEADER_LEN).ok()
    }

    /// Chunked: whether `pool` (the pool's bytes, or those before the
    /// packets) still holds this plan's chunks where prepare spread them.
    fn chunks_in(&self, pool: &[u8]) -> bool {
        pool.len() >= self.chunks_end() && pool[FRAME_AT..].as_ptr() == self.data
    }
}

/// How [`is_mqtt_prepare`] should leave room for PUBLISH packets.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IsMqttPackets {
    /// Whether the shim will ask for packets ([`is_mqtt_packets`]); if not,
    /// it hands the messages to the client's `publish()`.
    pub wanted: bool,
    /// The topic's length.
    pub topic_len: usize,
    /// QoS 1 (a packet id in every packet), else QoS 0.
    pub qos1: bool,
    /// Raw mode: the most bytes the caller allows in its one message (its
    /// `chunk_size`), 0 for umqtt's limit only.
    pub max_message: usize,
    /// Pool bytes the shim may have packets built in at once, to write them
    /// in one go ([`IS_MQTT_BATCH_BYTES`], or 0: one packet at a time).
    pub batch_bytes: usize,
}

impl IsMqttPackets {
    /// Whether one message of `len` bytes fits umqtt's limit, whichever
    /// client sends it (umqtt refuses a larger one).
    fn fits(&self, len: usize) -> bool {
        mqtt::publish_len(self.topic_len, self.qos1, len).is_ok()
    }

    /// [`fits`](Self::fits), and in raw mode the caller's `max_message`.
    fn fits_raw(&self, len: usize) -> bool {
        self.fits(len) && (self.max_message == 0 || len <= self.max_message)
    }
}

/// Encodes `frame` (JPEG input passes through) and lays it out for
/// publishing. `chunk_size` 0 means raw mode: `plan.data` is the JPEG.
/// Otherwise messages of at most `chunk_size` bytes: the frame message is put
/// in the pool (JPEG input is copied there once) and [`is_mqtt_chunk`] hands
/// out the messages, their data spread [`chunk::HEADER_LEN`] apart so that
/// each header has a place of its own. With `packets.wanted`, room for
/// `plan.batch` of the largest message's PUBLISH packets is kept in the pool
/// too ([`is_mqtt_packets`]).
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
    packets: *const IsMqttPackets,
    plan: *mut IsMqttPlan,
    out: *mut IsOutcome,
) -> i32 {
    // SAFETY: per the contract above.
    let (f, o, fields, packets, plan, out) = unsafe {
        (
            &*frame, &*options, &*fields, &*packets, &mut *plan, &mut *out,
        )
    };
    if chunk_size != 0 && chunk_size <= chunk::HEADER_LEN {
        return IS_ERR_CHUNK_TOO_SMALL;
    }
    if chunk_size != 0 && !packets.fits(chunk_size) {
        return IS_ERR_MQTT_CHUNK_TOO_LARGE;
    }
    let (s, input) = try_status!(unsafe { open_input(f, o, out) });
    *plan = IsMqttPlan {
        data: core::ptr::null(),
        len: 0,
        payload_len: 0,
        data_size: 0,
        count: 1,
        seq: fields.seq,
        camera_id: fields.camera_id,
        chunked: chunk_size != 0,
        packet_at: 0,
        packet_cap: 0,
        batch: 0,
    };
    let r = POOL.with(|p| -> Result<(), i32> {
        // Where the messages lie in the pool (none: the caller's JPEG).
        let in_pool = if let (Input::Jpeg(bytes, info), 0) = (&input, chunk_size) {
            // Raw mode publishes the caller's bytes as they are.
            plan.data = bytes.as_ptr();
            plan.len = bytes.len();
            plan.payload_len = bytes.len();
            out.width = info.width.into();
            out.height = info.height.into();
            None
        } else {
            let Staged {
                jpeg,
                width,
                height,
            } = stage(p, input, &s, 0, out)?;
            plan.payload_len = jpeg.len();
            if chunk_size == 0 {
                plan.len = plan.payload_len;
                Some(jpeg.start)
            } else {
                let total = framing::HEADER_LEN + jpeg.len();
                let cut = chunk::plan(total, chunk_size).map_err(|_| {
                    out.needed = total.div_ceil(chunk::MAX_COUNT) + chunk::HEADER_LEN;
                    IS_ERR_TOO_MANY_CHUNKS
                })?;
                // The chunks are spread out over the JPEG's place: whatever
                // held it (img_stream.Encoded) must not send it again.
                p.clobber();
                let repr = header_repr(fields, width, height, &p.bytes()[jpeg.clone()]);
                plan.len = total;
                plan.data_size = cut.data_size();
                plan.count = cut.count().into();
                p.reserve_keeping(plan.chunks_end(), jpeg.end)
                    .map_err(|e| pool_status(e, out))?;
                let buf = p.bytes_mut();
                repr.emit(&mut buf[FRAME_AT..HEADROOM]);
                spread_chunks(buf, &cut);
                Some(FRAME_AT)
            }
        };
        if !plan.chunked && !packets.fits_raw(plan.len) {
            return Err(IS_ERR_MQTT_TOO_LARGE);
        }
        if packets.wanted {
            let largest = if plan.chunked {
                (plan.data_size + chunk::HEADER_LEN).min(plan.len + chunk::HEADER_LEN)
            } else {
                plan.len
            };
            plan.packet_cap = mqtt::publish_len(packets.topic_len, packets.qos1, largest)
                .map_err(|_| IS_ERR_MQTT_TOO_LARGE)?;
            plan.packet_at = match in_pool {
                None => 0,
                Some(_) if plan.chunked => plan.chunks_end(),
                Some(at) => at + plan.len,
            };
            plan.batch =
                (packets.batch_bytes / plan.packet_cap).clamp(1, plan.count as usize) as u32;
            // Growing moves the buffer: keep the messages staged in it.
            p.reserve_keeping(
                plan.packet_at + plan.batch as usize * plan.packet_cap,
                plan.packet_at,
            )
            .map_err(|e| pool_status(e, out))?;
        }
        if let Some(at) = in_pool {
            plan.data = p.bytes()[at..].as_ptr();
        }
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
/// message (`*message`, `*len`): a slice of the pool. Any order, any number
/// of times (a retry sends a chunk again).
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
    let Some(cut) = plan.cut().filter(|_| index < plan.count) else {
        return IS_ERR_NULL;
    };
    let r = POOL.with(|p| {
        let buf = p.bytes_mut();
        if !plan.chunks_in(buf) {
            return None;
        }
        let range = chunk_in_place(buf, &cut, index as u16, plan.seq, plan.camera_id)?;
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

/// Builds the PUBLISH packets of messages `first..first + n` (`n` at most
/// `plan.batch`) on `topic`, one after another, the i-th with packet id
/// `pids[i]` (`pids` null, or an id 0: QoS 0), and returns them (`*packets`,
/// `*len`): one slice of the pool, for one write, valid until the next call.
/// Messages in any order, any number of times (a retry builds them again).
///
/// # Safety
/// Pointers valid for the call (`pids` for `n` ids unless null); `plan`
/// came from [`is_mqtt_prepare`] with packets wanted, the pool was not used
/// since, and a raw plan's caller JPEG is still alive.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // one FFI call per write, as the shim's loop needs
pub unsafe extern "C" fn is_mqtt_packets(
    plan: *const IsMqttPlan,
    first: u32,
    n: u32,
    pids: *const u16,
    topic: *const u8,
    topic_len: usize,
    retain: bool,
    packets: *mut *const u8,
    len: *mut usize,
) -> i32 {
    // SAFETY: per the contract above.
    let plan = unsafe { &*plan };
    if plan.packet_cap == 0
        || n == 0
        || n > plan.batch
        || first.checked_add(n).is_none_or(|end| end > plan.count)
        || topic.is_null()
    {
        return IS_ERR_NULL;
    }
    // SAFETY: per the contract above.
    let topic = unsafe { core::slice::from_raw_parts(topic, topic_len) };
    let pids = if pids.is_null() {
        &[][..]
    } else {
        // SAFETY: per the contract above.
        unsafe { core::slice::from_raw_parts(pids, n as usize) }
    };
    let cut = plan.cut();
    if plan.chunked && cut.is_none() {
        return IS_ERR_NULL;
    }
    let cap = plan.batch as usize * plan.packet_cap;
    let r = POOL.with(|p| -> Result<(*const u8, usize), i32> {
        let buf = p.bytes_mut();
        if buf.len() < plan.packet_at + cap {
            return Err(IS_ERR_NULL);
        }
        let (msgs, area) = buf.split_at_mut(plan.packet_at);
        if cut.is_some() && !plan.chunks_in(msgs) {
            return Err(IS_ERR_NULL);
        }
        let area = &mut area[..cap];
        let mut built = 0;
        for i in 0..n {
            let index = first + i;
            let message: &[u8] = match &cut {
                Some(cut) => {
                    let range = chunk_in_place(msgs, cut, index as u16, plan.seq, plan.camera_id)
                        .ok_or(IS_ERR_NULL)?;
                    &msgs[range]
                }
                // The caller's JPEG, outside the pool.
                // SAFETY: alive, per the contract above.
                None if plan.packet_at == 0 => unsafe {
                    core::slice::from_raw_parts(plan.data, plan.len)
                },
                None => {
                    let at = plan.packet_at - plan.len;
                    if msgs[at..].as_ptr() != plan.data {
                        return Err(IS_ERR_NULL);
                    }
                    &msgs[at..]
                }
            };
            let pid = pids.get(i as usize).copied().filter(|&pid| pid != 0);
            built += mqtt::encode_publish(&mut area[built..], topic, pid, retain, message)
                .map_err(mqtt_status)?;
        }
        Ok((area.as_ptr(), built))
    });
    match r {
        Ok(Ok((ptr, n))) => {
            // SAFETY: `packets` and `len` are writable.
            unsafe {
                *packets = ptr;
                *len = n;
            }
            IS_OK
        }
        Ok(Err(status)) => status,
        Err(_) => IS_ERR_BUSY,
    }
}

fn mqtt_status(e: MqttError) -> i32 {
    match e {
        MqttError::BadTopic => IS_ERR_BAD_TOPIC,
        MqttError::TooLarge => IS_ERR_MQTT_TOO_LARGE,
        MqttError::Malformed => IS_ERR_MQTT_PROTOCOL,
        MqttError::NoRoom => IS_ERR_NULL,
    }
}

/// The packet id to use after the client's `pid` attribute `last`
/// (`core::mqtt::next_pid`: umqtt's numbering, never 0).
#[no_mangle]
pub extern "C" fn is_mqtt_next_pid(last: i64) -> u16 {
    mqtt::next_pid(last)
}

/// Checks `topic` as a broker will (UTF-8, 1..65535 bytes): [`IS_OK`] or
/// [`IS_ERR_BAD_TOPIC`].
///
/// # Safety
/// `topic` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn is_mqtt_check_topic(topic: *const u8, len: usize) -> i32 {
    if topic.is_null() {
        return IS_ERR_NULL;
    }
    // SAFETY: per the contract above.
    let t = unsafe { core::slice::from_raw_parts(topic, len) };
    match mqtt::topic_str(t) {
        Ok(_) => IS_OK,
        Err(e) => mqtt_status(e),
    }
}

/// The whole length of the incoming packet that starts with `head[..n]`
/// into `*total`: 0 while its length field is incomplete (read another
/// byte); [`IS_ERR_MQTT_PROTOCOL`] for a length field MQTT does not allow.
///
/// # Safety
/// `head` readable for `n` bytes, `total` writable.
#[no_mangle]
pub unsafe extern "C" fn is_mqtt_packet_len(head: *const u8, n: usize, total: *mut usize) -> i32 {
    if head.is_null() || total.is_null() {
        return IS_ERR_NULL;
    }
    // SAFETY: per the contract above.
    let (head, total) = unsafe { (core::slice::from_raw_parts(head, n), &mut *total) };
    match mqtt::packet_len(head) {
        Ok(t) => {
            *total = t.unwrap_or(0);
            IS_OK
        }
        Err(e) => mqtt_status(e),
    }
}

/// How many bytes the shim may read from the broker in one read, at most
/// `room`, into `*len`: `have[..n]` is the start of a packet not yet whole
/// (n = 0 between packets) and `awaited` PUBACKs are still to come. Never
/// past the last of them (`core::mqtt::read_budget` says why), so what
/// follows stays whole for umqtt; [`IS_ERR_MQTT_PROTOCOL`] for a length
/// field MQTT does not allow.
///
/// # Safety
/// `have` readable for `n` bytes (any pointer when `n` is 0), `len` writable.
#[no_mangle]
pub unsafe extern "C" fn is_mqtt_read_budget(
    have: *const u8,
    n: usize,
    awaited: u32,
    room: usize,
    len: *mut usize,
) -> i32 {
    if len.is_null() || (have.is_null() && n != 0) {
        return IS_ERR_NULL;
    }
    // SAFETY: per the contract above.
    let have = if n == 0 {
        &[][..]
    } else {
        unsafe { core::slice::from_raw_parts(have, n) }
    };
    match mqtt::read_budget(have, awaited as usize, room) {
        Ok(b) => {
            // SAFETY: per the contract above.
            unsafe { *len = b };
            IS_OK
        }
        Err(e) => mqtt_status(e),
    }
}

/// One incoming packet, as [`is_mqtt_parse`] read it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IsMqttIncoming {
    /// [`IS_MQTT_IN_PUBACK`], [`IS_MQTT_IN_PUBLISH`] or [`IS_MQTT_IN_OTHER`].
    pub kind: i32,
    /// PUBACK: the acknowledged id; PUBLISH: its id to acknowledge (0: QoS 0).
    pub pid: u16,
    /// PUBLISH: where its topic is in the packet.
    pub topic_at: usize,
    /// PUBLISH: the topic's length.
    pub topic_len: usize,
    /// PUBLISH: where its payload is in the packet.
    pub payload_at: usize,
    /// PUBLISH: the payload's length.
    pub payload_len: usize,
}

/// Parses one whole incoming packet (`packet[..n]`, as long as
/// [`is_mqtt_packet_len`] said) into `*into`; the PUBACK to send back for a
/// QoS 1 PUBLISH goes to `puback` (4 bytes).
///
/// # Safety
/// `packet` readable for `n` bytes; `into` and `puback` writable.
#[no_mangle]
pub unsafe extern "C" fn is_mqtt_parse(
    packet: *const u8,
    n: usize,
    into: *mut IsMqttIncoming,
    puback: *mut [u8; 4],
) -> i32 {
    if packet.is_null() || into.is_null() || puback.is_null() {
        return IS_ERR_NULL;
    }
    // SAFETY: per the contract above.
    let (packet, into, puback) = unsafe {
        (
            core::slice::from_raw_parts(packet, n),
            &mut *into,
            &mut *puback,
        )
    };
    *into = IsMqttIncoming::default();
    match mqtt::parse_incoming(packet) {
        Ok(Incoming::Puback(pid)) => {
            into.kind = IS_MQTT_IN_PUBACK;
            into.pid = pid;
        }
        Ok(Incoming::Publish {
            topic,
            payload,
            pid,
        }) => {
            into.kind = IS_MQTT_IN_PUBLISH;
            into.pid = pid.unwrap_or(0);
            into.topic_at = topic.start;
            into.topic_len = topic.len();
            into.payload_at = payload.start;
            into.payload_len = payload.len();
            if let Some(pid) = pid {
                try_status!(mqtt::encode_puback(puback, pid).map_err(mqtt_status));
            }
        }
        Ok(Incoming::Other) => into.kind = IS_MQTT_IN_OTHER,
        Err(e) => return mqtt_status(e),
    }
    IS_OK
}

/// Where chunk `index`'s message (its header, then its data) starts in the
/// pool: prepare spreads the frame message so that chunk data lie
/// [`chunk::HEADER_LEN`] apart, every header has room of its own, and a
/// chunk can be emitted again after a later one (a retry).
fn chunk_at(data_size: usize, index: usize) -> usize {
    FRAME_AT - chunk::HEADER_LEN + index * (data_size + chunk::HEADER_LEN)
}

/// Spreads the frame message at `buf[FRAME_AT..]`, cut as `cut`, to the
/// places [`chunk_at`] gives (the last chunk moves first: each moves up).
/// `buf` must reach the last chunk's end.
fn spread_chunks(buf: &mut [u8], cut: &ChunkPlan) {
    for c in (1..cut.count()).rev().filter_map(|i| cut.chunk(i)) {
        let from = FRAME_AT + c.offset as usize;
        buf.copy_within(
            from..from + c.len,
            chunk_at(cut.data_size(), c.index.into()) + chunk::HEADER_LEN,
        );
    }
}

/// Emits chunk `index`'s header in front of its data, spread as
/// [`spread_chunks`] left them, and returns the chunk message's range in
/// `buf` (None: the plan has no such chunk).
fn chunk_in_place(
    buf: &mut [u8],
    cut: &ChunkPlan,
    index: u16,
    seq: u32,
    camera_id: u16,
) -> Option<core::ops::Range<usize>> {
    let c = cut.chunk(index)?;
    let start = chunk_at(cut.data_size(), index.into());
    cut.repr(&c, seq, camera_id).emit(&mut buf[start..]);
    Some(start..start + c.message_len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_stream_core::chunk::{parse_message, ChunkHeaderRepr};

    /// The chunk messages, emitted in any order and again after later ones
    /// (a retry), reassemble to the original frame message.
    #[test]
    fn spread_chunks_reassemble_in_any_order() {
        let mut checked = 0;
        for (total, size) in [
            (40usize, 33usize),
            (1000, 300),
            (5000, 4096),
            (4096, 64),
            (77, 1000),
        ] {
            let frame: Vec<u8> = (0..total).map(|i| (i * 31 % 251) as u8).collect();
            let cut = chunk::plan(total, size).unwrap();
            let count = cut.count() as usize;
            let mut buf = vec![0u8; FRAME_AT + total + (count - 1) * chunk::HEADER_LEN];
            buf[FRAME_AT..][..total].copy_from_slice(&frame);
            spread_chunks(&mut buf, &cut);
            // Forwards, then backwards: every chunk after its successors.
            let order = (0..count).chain((0..count).rev());
            let mut rebuilt = [vec![0u8; total], vec![0u8; total]];
            for (n, i) in order.enumerate() {
                let r = chunk_in_place(&mut buf, &cut, i as u16, 9, 3).unwrap();
                assert!(r.len() <= size);
                let msg = buf[r].to_vec(); // what the broker got
                let (repr, data) = parse_message(&msg, u32::MAX).unwrap();
                assert_eq!(
                    (repr.index as usize, repr.count, repr.seq, repr.camera_id),
                    (i, cut.count(), 9, 3)
                );
                rebuilt[n / count][repr.offset as usize..][..data.len()].copy_from_slice(data);
                checked += 1;
            }
            assert_eq!(rebuilt[0], frame, "total {total} size {size}");
            assert_eq!(rebuilt[1], frame, "again: total {total} size {size}");
        }
        assert_eq!(checked, 350); // 2 x the 175 chunks of the five cuts
    }

    #[test]
    fn first_header_fits_the_headroom() {
        let cut = chunk::plan(100, 64).unwrap();
        let mut buf = vec![0u8; FRAME_AT + 100 + chunk::HEADER_LEN];
        let r = chunk_in_place(&mut buf, &cut, 0, 0, 0).unwrap();
        assert_eq!(r.start, FRAME_AT - chunk::HEADER_LEN);
        assert!(ChunkHeaderRepr::parse(&buf[r]).is_ok());
    }

    #[test]
    fn message_sizes_are_checked_here() {
        let packets = |qos1, max_message| IsMqttPackets {
            wanted: false,
            topic_len: 20,
            qos1,
            max_message,
            batch_bytes: 0,
        };
        // umqtt's remaining length: 2 + topic (+ 2 at QoS 1) + payload.
        let limit = mqtt::UMQTT_LIMIT;
        assert!(packets(false, 0).fits(limit - 23));
        assert!(!packets(false, 0).fits(limit - 22));
        assert!(packets(true, 0).fits(limit - 25));
        assert!(!packets(true, 0).fits(limit - 24));
        assert!(packets(false, 4096).fits_raw(4096));
        assert!(!packets(false, 4096).fits_raw(4097));
        assert!(!packets(false, 0).fits_raw(limit));
        // A chunk_size past the limit is refused before anything is encoded.
        let px = [0u8; 16];
        let frame = IsFrame::raw(
            &px,
            4,
            4,
            img_stream_core::pixel::PixelFormat::Grayscale.code(),
        );
        let options = IsEncodeOptions::fixed(65, 420, 0);
        let fields = IsHeaderFields {
            seq: 0,
            camera_id: 0,
            timestamp_us: 0,
        };
        let mut plan = core::mem::MaybeUninit::<IsMqttPlan>::zeroed();
        let mut out = IsOutcome::default();
        let st = unsafe {
            is_mqtt_prepare(
                &frame,
                &options,
                &fields,
                limit,
                &packets(false, 0),
                plan.as_mut_ptr(),
                &mut out,
            )
        };
        assert_eq!(st, IS_ERR_MQTT_CHUNK_TOO_LARGE);
    }
}
