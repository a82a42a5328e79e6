//! The chunk reassembler (host/src/reassembly.rs) on any sequence of
//! messages from a few sources, with a small memory budget: no panic, the
//! budget is never passed, delivered frames verify, and once everything is
//! dropped and every source has expired all the memory is given back.
//!
//! Input: records of `[source, flags, len_lo, len_hi, bytes...]`. Flag bit 0
//! fixes the record's chunk header CRC (and bit 1 its magic and version),
//! so the fuzzer gets past the CRC to the reassembly rules; bits 2..3 add
//! 0, 1, 3 or 40 s to the clock before the message.
#![no_main]

use std::time::{Duration, Instant};

use img_stream_core::chunk::{self, ChunkHeader};
use img_stream_core::crc32::crc32;
use img_stream_host::budget::Budget;
use img_stream_host::reassembly::{Config, Outcome, Reassembler};
use libfuzzer_sys::fuzz_target;

const BUDGET: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let budget = Budget::new(BUDGET);
    let config = Config {
        max_total: 8192,
        max_chunk_data: 1500,
        max_in_flight: 3,
        ..Config::default()
    };
    let mut r: Reassembler<u8> = Reassembler::with_budget(config, budget.clone());
    let mut now = Instant::now();
    let mut rest = data;
    while rest.len() >= 4 {
        let (source, flags) = (rest[0] % 4, rest[1]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        let body = &rest[4..];
        let len = len.min(body.len());
        let mut msg = body[..len].to_vec();
        rest = &body[len..];
        if flags & 2 != 0 && msg.len() >= 6 {
            msg[..4].copy_from_slice(&chunk::MAGIC);
            msg[4] = chunk::VERSION;
            msg[5] = chunk::HEADER_LEN as u8;
        }
        if flags & 1 != 0 && msg.len() >= chunk::HEADER_LEN {
            let mut h = ChunkHeader::new_unchecked(&mut msg[..]);
            if usize::from(h.header_len()) == chunk::HEADER_LEN {
                h.fill_header_crc();
            }
        }
        now += [0, 1, 3, 40].map(Duration::from_secs)[usize::from(flags >> 2 & 3)];
        if let Outcome::Frame(f) = r.push(&source, &msg, now) {
            assert_eq!(crc32(&f.payload), f.header.payload_crc);
        }
        assert!(budget.used() <= BUDGET, "budget passed: {}", budget.used());
    }
    r.drop_all(now);
    r.expire(now + Duration::from_secs(3600));
    assert_eq!(r.in_flight(), 0);
    assert_eq!(budget.used(), 0, "memory not given back");
});
