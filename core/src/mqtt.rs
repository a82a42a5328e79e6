//! MQTT 3.1.1 packets: the PUBLISH packets `publish` writes to the client's
//! socket, and the packets a broker sends back while it does (PUBACK above
//! all), built and parsed with the `mqttrs` crate (no_std, no alloc).
//!
//! mqttrs 0.4.1 encodes a PUBLISH only whole (`Publish::to_buffer` copies the
//! payload into the output), so a packet is one copy of its message; the
//! caller keeps one reused buffer for it. mqttrs does not export its
//! remaining-length reader, so [`packet_len`] reads that field (MQTT 3.1.1
//! section 2.2.3) to tell how many bytes a packet has before it is parsed.

use core::ops::Range;

use mqttrs::{decode_slice, encode_slice, Packet, Pid, Publish, QosPid};

/// Most bytes a PUBLISH adds to its topic and payload: the fixed header
/// (1 + up to 4 remaining-length bytes), the topic's length (2) and the
/// packet id (2).
pub const PUBLISH_OVERHEAD: usize = 9;

/// umqtt.simple 1.3.4 writes at most 3 remaining-length bytes
/// (`assert sz < 2097152` in its `publish`): a PUBLISH whose remaining length
/// (2 + topic + packet id + payload) reaches this cannot go through it, and
/// we keep to the same limit so either path takes the same messages.
pub const UMQTT_LIMIT: usize = 2_097_152;

/// Most bytes of a fixed header: the type byte and 4 length bytes.
pub const MAX_FIXED_HEADER: usize = 5;

/// Why a packet could not be built or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MqttError {
    /// The topic is not UTF-8, is empty or longer than 65535 bytes.
    BadTopic,
    /// The packet would pass [`UMQTT_LIMIT`].
    TooLarge,
    /// The output buffer is too small (a caller bug: size it with
    /// [`publish_len`]).
    NoRoom,
    /// The broker sent bytes that are no MQTT 3.1.1 packet.
    Malformed,
}

/// Bytes of the PUBLISH packet for `topic_len` and `payload_len`.
pub fn publish_len(topic_len: usize, qos1: bool, payload_len: usize) -> Result<usize, MqttError> {
    let rest = 2 + topic_len + if qos1 { 2 } else { 0 } + payload_len;
    if rest >= UMQTT_LIMIT {
        return Err(MqttError::TooLarge);
    }
    let len_bytes = match rest {
        0..=127 => 1,
        128..=16383 => 2,
        _ => 3,
    };
    Ok(1 + len_bytes + rest)
}

/// The packet id after `last`, as umqtt numbers them (`self.pid += 1`,
/// starting from 0) but wrapping 65535 to 1: 0 is not a valid packet id and
/// umqtt would send it (truncated by `pack_into("!H")`) after 65535 messages.
pub fn next_pid(last: i64) -> u16 {
    (last.rem_euclid(65_535) + 1) as u16
}

/// Encodes a PUBLISH of `payload` on `topic` into `out` and returns its
/// length: QoS 1 with packet id `pid`, else QoS 0.
pub fn encode_publish(
    out: &mut [u8],
    topic: &[u8],
    pid: Option<u16>,
    retain: bool,
    payload: &[u8],
) -> Result<usize, MqttError> {
    let topic_name = topic_str(topic)?;
    let len = publish_len(topic.len(), pid.is_some(), payload.len())?;
    if out.len() < len {
        return Err(MqttError::NoRoom);
    }
    let qospid = match pid {
        Some(p) => QosPid::AtLeastOnce(Pid::try_from(p).map_err(|_| MqttError::Malformed)?),
        None => QosPid::AtMostOnce,
    };
    let packet = Packet::Publish(Publish {
        dup: false,
        qospid,
        retain,
        topic_name,
        payload,
    });
    let n = encode_slice(&packet, out).map_err(|_| MqttError::NoRoom)?;
    debug_assert_eq!(n, len);
    Ok(n)
}

/// Encodes the PUBACK for an incoming QoS 1 PUBLISH's `pid` (4 bytes).
pub fn encode_puback(out: &mut [u8; 4], pid: u16) -> Result<(), MqttError> {
    let pid = Pid::try_from(pid).map_err(|_| MqttError::Malformed)?;
    encode_slice(&Packet::Puback(pid), out).map_err(|_| MqttError::NoRoom)?;
    Ok(())
}

/// Checks a topic the way a broker will: UTF-8, not empty, at most 65535
/// bytes (MQTT 3.1.1 sections 1.5.3 and 4.7.3).
pub fn topic_str(topic: &[u8]) -> Result<&str, MqttError> {
    if topic.is_empty() || topic.len() > u16::MAX as usize {
        return Err(MqttError::BadTopic);
    }
    core::str::from_utf8(topic).map_err(|_| MqttError::BadTopic)
}

/// The whole length of the packet that starts with `head` (its first bytes):
/// `Ok(None)` while the remaining-length field is not complete in `head`.
pub fn packet_len(head: &[u8]) -> Result<Option<usize>, MqttError> {
    let mut rest = 0usize;
    for (i, &b) in head.iter().enumerate().skip(1).take(MAX_FIXED_HEADER - 1) {
        rest |= ((b & 0x7f) as usize) << (7 * (i - 1));
        if b & 0x80 == 0 {
            return Ok(Some(i + 1 + rest));
        }
    }
    if head.len() >= MAX_FIXED_HEADER {
        // A fifth length byte: MQTT allows four.
        return Err(MqttError::Malformed);
    }
    Ok(None)
}

/// Bytes of a PUBACK (type byte, length byte 2, packet id).
pub const PUBACK_LEN: usize = 4;

/// How many bytes may be read from the broker, at most `room`, without
/// reading past the last of `awaited` PUBACKs still to come, given `have`:
/// the first bytes of a packet not yet whole (empty between packets).
///
/// Why this is safe to read in one go: all the broker sends are whole
/// packets, and each awaited PUBACK is [`PUBACK_LEN`] bytes, so the stream
/// holds at least that many bytes before the end of the last one, whatever
/// else (a PINGRESP, a message for a subscription) comes between them. A
/// reader that stops there leaves the next packet whole for umqtt. An
/// unfinished packet that is a PUBACK is counted as one of the awaited;
/// one with its length field still incomplete gets 1 byte at a time.
pub fn read_budget(have: &[u8], awaited: usize, room: usize) -> Result<usize, MqttError> {
    let ahead = if have.is_empty() {
        PUBACK_LEN * awaited
    } else {
        match packet_len(have)? {
            None => 1,
            Some(total) => {
                let rest = total.saturating_sub(have.len());
                let puback = have[0] == 0x40 && total == PUBACK_LEN;
                rest + PUBACK_LEN * awaited.saturating_sub(puback as usize)
            }
        }
    };
    Ok(ahead.min(room))
}

/// A packet a broker sent, as `publish` must handle it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// The acknowledgement of our QoS 1 PUBLISH with this id.
    Puback(u16),
    /// A message for one of the client's subscriptions: the topic's and the
    /// payload's ranges in the packet, and its packet id at QoS 1 (to be
    /// acknowledged), None at QoS 0.
    Publish {
        /// The topic's bytes in the packet.
        topic: Range<usize>,
        /// The payload's bytes in the packet.
        payload: Range<usize>,
        /// Packet id, to acknowledge (QoS 1).
        pid: Option<u16>,
    },
    /// Anything else (PINGRESP, a late SUBACK): nothing to do.
    Other,
}

/// Parses one whole packet (as long as [`packet_len`] said).
pub fn parse_incoming(packet: &[u8]) -> Result<Incoming, MqttError> {
    let base = packet.as_ptr() as usize;
    let range = |s: &[u8]| {
        let at = s.as_ptr() as usize - base;
        at..at + s.len()
    };
    match decode_slice(packet) {
        Ok(Some(Packet::Puback(pid))) => Ok(Incoming::Puback(pid.get())),
        Ok(Some(Packet::Publish(p))) => match p.qospid {
            QosPid::AtMostOnce | QosPid::AtLeastOnce(_) => Ok(Incoming::Publish {
                topic: range(p.topic_name.as_bytes()),
                payload: range(p.payload),
                pid: p.qospid.pid().map(|p| p.get()),
            }),
            // We connect as umqtt does and never subscribe at QoS 2.
            QosPid::ExactlyOnce(_) => Err(MqttError::Malformed),
        },
        Ok(Some(_)) => Ok(Incoming::Other),
        Ok(None) | Err(_) => Err(MqttError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn read_budget_never_reads_past_the_last_awaited_puback() {
        // Streams a broker may send while 1..=3 PUBACKs are awaited: the
        // PUBACKs with PINGRESPs and a subscribed message between them.
        let puback = |pid: u8| vec![0x40, 2, 0, pid];
        let pingresp = vec![0xd0, 0];
        let mut message = vec![0x30, 7, 0, 1, b't'];
        message.extend_from_slice(b"data");
        let mut checked = 0;
        for awaited in 1..=3u8 {
            for extra in [vec![], pingresp.clone(), message.clone()] {
                for extra_at in 0..awaited {
                    let mut stream = Vec::new();
                    for pid in 0..awaited {
                        if pid == extra_at {
                            stream.extend_from_slice(&extra);
                        }
                        stream.extend(puback(pid + 1));
                    }
                    // Read as a reader would: budgeted reads, whole packets
                    // taken off the front, for every read size the socket
                    // might return (1 byte up to the budget).
                    for cap in 1..=stream.len() {
                        let (mut at, mut have, mut left) = (0, 0, awaited as usize);
                        while left > 0 {
                            let n = read_budget(&stream[at - have..at], left, 64).unwrap();
                            assert!(n > 0 && at + n.min(cap) <= stream.len());
                            at += n.min(cap);
                            have += n.min(cap);
                            while let Ok(Some(total)) = packet_len(&stream[at - have..at]) {
                                if total > have {
                                    break;
                                }
                                if stream[at - have] == 0x40 {
                                    left -= 1;
                                }
                                have -= total;
                            }
                        }
                        assert_eq!((at, have), (stream.len(), 0));
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 234);
        assert_eq!(read_budget(&[], 8, 16), Ok(16));
        assert_eq!(read_budget(&[0x30], 1, 16), Ok(1));
        assert_eq!(
            read_budget(&[0x30, 0xff, 0xff, 0xff, 0xff], 1, 16),
            Err(MqttError::Malformed)
        );
    }

    #[test]
    fn publish_round_trips_through_mqttrs() {
        let mut checked = 0;
        for (topic, pid, retain, n) in [
            (&b"t"[..], None, false, 0usize),
            (b"img_stream/k230/frame", Some(1), true, 125),
            (b"img_stream/k230/frame", Some(65535), false, 16_383),
            (b"a/b", None, false, 2_097_000),
        ] {
            let payload: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
            let len = publish_len(topic.len(), pid.is_some(), n).unwrap();
            let mut out = vec![0u8; len];
            assert_eq!(
                encode_publish(&mut out, topic, pid, retain, &payload),
                Ok(len)
            );
            assert_eq!(packet_len(&out[..MAX_FIXED_HEADER.min(len)]), Ok(Some(len)));
            match parse_incoming(&out).unwrap() {
                Incoming::Publish {
                    topic: t,
                    payload: p,
                    pid: q,
                } => {
                    assert_eq!(&out[t], topic);
                    assert_eq!(&out[p], &payload[..]);
                    assert_eq!(q, pid);
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(out[0] & 1, retain as u8);
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    #[test]
    fn limits_and_bad_topics() {
        assert_eq!(publish_len(1, false, UMQTT_LIMIT), Err(MqttError::TooLarge));
        let mut out = [0u8; 16];
        assert_eq!(
            encode_publish(&mut out, b"\xff", None, false, b""),
            Err(MqttError::BadTopic)
        );
        assert_eq!(
            encode_publish(&mut out, b"", None, false, b""),
            Err(MqttError::BadTopic)
        );
        assert_eq!(
            encode_publish(&mut out, b"t", None, false, &[0; 20]),
            Err(MqttError::NoRoom)
        );
    }

    #[test]
    fn pids_follow_umqtt_and_skip_zero() {
        assert_eq!(next_pid(0), 1);
        assert_eq!(next_pid(41), 42);
        assert_eq!(next_pid(65_534), 65_535);
        assert_eq!(next_pid(65_535), 1);
        assert_eq!(next_pid(-1), 65_535);
    }

    #[test]
    fn reads_what_a_broker_sends() {
        let mut ack = [0u8; 4];
        encode_puback(&mut ack, 0x1234).unwrap();
        assert_eq!(ack, [0x40, 2, 0x12, 0x34]);
        assert_eq!(packet_len(&ack[..1]), Ok(None));
        assert_eq!(packet_len(&ack[..2]), Ok(Some(4)));
        assert_eq!(parse_incoming(&ack), Ok(Incoming::Puback(0x1234)));
        assert_eq!(parse_incoming(&[0xd0, 0]), Ok(Incoming::Other)); // PINGRESP
        assert_eq!(
            packet_len(&[0x30, 0x80, 0x80, 0x80, 0x80]),
            Err(MqttError::Malformed)
        );
        assert_eq!(parse_incoming(&[0x40, 2, 0, 0]), Err(MqttError::Malformed));
        // pid 0
    }
}
