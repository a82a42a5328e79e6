//! `img-stream recv udp`: frames sent by `img_stream.send_udp`, as chunk
//! datagrams on one UDP socket.
//!
//! Every datagram goes to a [`MessageHandler`] keyed by the sender's
//! address: chunks are reassembled per (address, camera id, seq), in any
//! order, with duplicates ignored; a frame is written only once all its
//! chunks are in and both CRCs check. Incomplete frames are dropped when
//! they time out or when newer frames of the same camera supersede them,
//! and counted (`incomplete`, `late`, `duplicates` on the status line).
//!
//! Loss model: UDP gives no retransmission, so a frame missing any datagram
//! is lost as a whole — never written in part, never written corrupt. The
//! next frame is independent of it, so one loss costs one frame.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use socket2::{Domain, Protocol, Socket, Type};

use crate::budget::SourceMap;
use crate::config::UdpConfig;
use crate::messages::MessageHandler;
use crate::output::Output;
use crate::reassembly::Config;
use crate::status::log;

/// Kernel receive buffer asked for: a burst of frames from several boards
/// must fit while a frame is being written to disk (Linux caps it at
/// `net.core.rmem_max`).
const RECV_BUFFER: usize = 4 << 20;
/// How long one receive waits before stale partial frames are checked.
const TICK: Duration = Duration::from_millis(100);
/// Seq numbers may arrive this far out of order before a step back counts
/// as a sender restart (frames complete out of order when reordered).
const REORDER_WINDOW: u32 = 16;
/// Peer names kept at most (each a few dozen bytes).
const NAMES: usize = 65_536;

/// Binds `addr` with a large receive buffer.
pub fn bind(addr: SocketAddr) -> anyhow::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: a smaller buffer still works, it only drops sooner.
    let _ = socket.set_recv_buffer_size(RECV_BUFFER);
    socket
        .bind(&addr.into())
        .with_context(|| format!("cannot listen on udp {addr}"))?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(TICK))?;
    Ok(socket)
}

/// Runs the receiver until `--count` frames, a signal or a fatal error.
pub fn run(config: UdpConfig) -> anyhow::Result<ExitCode> {
    let socket = bind(config.listen)?;
    let local = socket.local_addr()?;
    let max_payload = config.output.max_payload;
    crate::output::run(&config.output, REORDER_WINDOW, move |output, stopping| {
        // Tests and scripts read the real port from this exact line,
        // printed once --out is ready.
        log(format_args!("listening on udp {local}"));
        receive(&socket, output, max_payload, stopping)
    })
}

/// Receives datagrams until `stopping`; then takes what is already queued
/// and drops (and counts) the partial frames left. An error is fatal for
/// the run (a failed write).
pub fn receive(
    socket: &UdpSocket,
    output: &Arc<Output>,
    max_payload: u32,
    stopping: &AtomicBool,
) -> anyhow::Result<()> {
    let mut handler: MessageHandler<SocketAddr> =
        MessageHandler::new(output.clone(), Config::with_max_payload(max_payload), false);
    // Peer names, made once per peer (not per datagram) and forgotten with
    // the peer's reassembly state.
    let remember = handler.reassembler().config().remember;
    let mut names: SourceMap<SocketAddr, String> = SourceMap::new(NAMES, remember);
    // The largest datagram UDP can carry.
    let mut buf = vec![0u8; 65_536];
    let mut draining = false;
    loop {
        if !draining && stopping.load(Ordering::SeqCst) {
            socket.set_nonblocking(true)?;
            draining = true;
        }
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => {
                let now = Instant::now();
                if names.get_mut(&peer, now).is_none() {
                    names.expire(now);
                    names.insert(peer, peer.to_string(), now);
                }
                let name = names.peek_mut(&peer).map_or("", |n| n.as_str());
                handler.handle(&peer, name, &buf[..n], now)?;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if draining {
                    break;
                }
                handler.tick(Instant::now());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // ICMP errors from earlier sends and the like: not fatal for a
            // listener that only receives.
            Err(e) => log(format_args!("udp receive: {e}")),
        }
    }
    handler.finish(Instant::now());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OutputConfig;
    use crate::status::Stats;
    use img_stream_core::chunk;
    use img_stream_core::crc32::crc32;
    use img_stream_core::framing::{FrameHeaderRepr, HEADER_LEN};
    use std::sync::atomic::Ordering::Relaxed;

    fn datagrams(seq: u32, payload: &[u8], mtu: usize) -> Vec<Vec<u8>> {
        let repr = FrameHeaderRepr {
            flags: 0,
            seq,
            timestamp_us: 1,
            width: 8,
            height: 8,
            format: 9,
            camera_id: 0,
            payload_len: payload.len() as u32,
            payload_crc: crc32(payload),
        };
        let mut msg = vec![0; HEADER_LEN];
        repr.emit(&mut msg);
        msg.extend_from_slice(payload);
        let plan = chunk::plan(msg.len(), mtu).unwrap();
        plan.iter()
            .map(|c| {
                let mut m = vec![0; chunk::HEADER_LEN];
                plan.repr(&c, seq, 0).emit(&mut m);
                m.extend_from_slice(&msg[c.range()]);
                m
            })
            .collect()
    }

    #[test]
    fn reassembles_over_loopback_and_counts_leftovers_at_the_end() {
        let dir = std::env::temp_dir().join(format!("img-stream-udp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = OutputConfig {
            out: Some(dir.clone()),
            ..OutputConfig::quiet(1 << 20)
        };
        let (output, _stops) = Output::new(&config, Stats::new(), REORDER_WINDOW).unwrap();
        let output = Arc::new(output);
        let socket = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let to = socket.local_addr().unwrap();
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (output, stopping) = (output.clone(), stopping.clone());
            std::thread::spawn(move || receive(&socket, &output, 1 << 20, &stopping))
        };
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut payload: Vec<u8> = (0..3000u32).map(|i| (i * 13) as u8).collect();
        payload[..2].copy_from_slice(&[0xFF, 0xD8]);
        let mut good = datagrams(5, &payload, 500);
        good.reverse();
        for d in &good {
            tx.send_to(d, to).unwrap();
        }
        // Half a frame: counted as incomplete once the receiver stops.
        for d in &datagrams(6, &payload, 500)[..3] {
            tx.send_to(d, to).unwrap();
        }
        // Loopback queues each datagram before send_to returns, and the
        // receiver takes what is queued before it stops.
        stopping.store(true, Relaxed);
        thread.join().unwrap().unwrap();
        let port = tx.local_addr().unwrap().port();
        let file = dir.join(format!("127.0.0.1_{port}-cam0/0000000005.jpg"));
        assert_eq!(std::fs::read(&file).unwrap(), payload);
        let s = output.stats();
        assert_eq!(s.frames.load(Relaxed), 1);
        assert_eq!(s.chunk_incomplete.load(Relaxed), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
