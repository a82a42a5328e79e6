//! `img-stream recv tcp`: frames over TCP, one thread per connection.
//!
//! `--listen` accepts any number of boards; `--connect` keeps one
//! connection to a board that is the server, reconnecting with backoff.
//! Each connection feeds a [`Decoder`]; good frames go to the shared
//! [`Output`], everything skipped is counted in [`Stats`].

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use socket2::{SockRef, TcpKeepalive};

use crate::flags::{TcpConfig, TcpMode};
use crate::output::{wait_for_stop, Delivered, Output, Stop};
use crate::status::{log, Stats, StatusReporter};
use crate::store::camera_name;
use crate::stream::{Decoder, Event};

/// Bytes asked of each `read`.
const READ_SIZE: usize = 64 * 1024;
/// First and longest wait between connection attempts in `--connect` mode.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the receiver until `--count` frames or a fatal error.
pub fn run(config: TcpConfig) -> anyhow::Result<ExitCode> {
    let stats = Stats::new();
    let (output, stops) = Output::new(&config.output, stats.clone(), 0)?;
    let output = Arc::new(output);
    let max_payload = config.output.max_payload;
    match config.mode {
        TcpMode::Listen(addr) => {
            let listener =
                TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            // Tests and scripts read the real port from this exact line.
            eprintln!("listening on {local}");
            let output = output.clone();
            std::thread::spawn(move || accept_loop(listener, output, max_payload));
        }
        TcpMode::Connect(addr) => {
            let output = output.clone();
            std::thread::spawn(move || connect_loop(&addr, &output, max_payload));
        }
    }
    let reporter = StatusReporter::spawn(stats, config.output.status);
    let stop = wait_for_stop(&stops);
    reporter.finish();
    match stop {
        Stop::CountReached | Stop::Interrupted => Ok(ExitCode::SUCCESS),
        Stop::Fatal(err) => Err(err),
    }
}

/// Accepts boards on `listener` forever, one thread per connection.
pub fn accept_loop(listener: TcpListener, output: Arc<Output>, max_payload: u32) {
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            // Per-connection failures (aborted handshakes, fd limits)
            // must not stop the other boards.
            Err(e) => {
                log(format_args!("accept: {e}"));
                continue;
            }
        };
        let peer = match stream.peer_addr() {
            Ok(p) => p,
            Err(_) => continue,
        };
        let output = output.clone();
        std::thread::spawn(move || {
            log(format_args!("connection from {peer}"));
            let end = serve(stream, peer, &output, max_payload);
            log_end(peer, end, &output);
        });
    }
}

/// Keeps one connection to the board at `addr` forever, with backoff.
pub fn connect_loop(addr: &str, output: &Output, max_payload: u32) {
    let mut backoff = BACKOFF_MIN;
    let mut last_error = String::new();
    loop {
        match connect(addr) {
            Ok((stream, peer)) => {
                log(format_args!("connected to {peer}"));
                last_error.clear();
                let end = serve(stream, peer, output, max_payload);
                // Only a connection that carried data resets the backoff: a
                // board that accepts and closes at once is not hammered.
                if end.bytes() > 0 {
                    backoff = BACKOFF_MIN;
                }
                log_end(peer, end, output);
            }
            Err(e) => {
                // One line per kind of failure, not one per attempt.
                let msg = format!("{e:#}");
                if msg != last_error {
                    log(format_args!("connect to {addr}: {msg}; retrying"));
                    last_error = msg;
                }
            }
        }
        // Backoff between attempts, so a board that is down is not hammered.
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

fn connect(addr: &str) -> anyhow::Result<(TcpStream, SocketAddr)> {
    let mut last = None;
    for sa in addr
        .to_socket_addrs()
        .with_context(|| format!("resolving {addr}"))?
    {
        match TcpStream::connect_timeout(&sa, CONNECT_TIMEOUT) {
            Ok(s) => return Ok((s, sa)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(
        || anyhow::anyhow!("{addr} resolves to no address"),
        Into::into,
    ))
}

/// How a connection ended.
enum End {
    /// The peer closed it, after this many bytes.
    Closed(u64),
    /// A socket error (reset, keepalive timeout...) after this many bytes.
    Broken(io::Error, u64),
    /// An error that should end the whole run (say the disk is full).
    Fatal(anyhow::Error),
}

impl End {
    fn bytes(&self) -> u64 {
        match self {
            End::Closed(n) | End::Broken(_, n) => *n,
            End::Fatal(_) => 0,
        }
    }
}

fn log_end(peer: SocketAddr, end: End, output: &Output) {
    match end {
        End::Closed(_) => log(format_args!("connection {peer} closed")),
        // The board went away: normal for a stream, keep the others.
        End::Broken(e, _) => log(format_args!("connection {peer} ended: {e}")),
        End::Fatal(e) => output.fail(e),
    }
}

/// Reads one connection to its end, delivering every good frame.
fn serve(mut stream: TcpStream, peer: SocketAddr, output: &Output, max_payload: u32) -> End {
    Stats::add(&output.stats().connections, 1);
    // A board that loses power sends no FIN; keepalive notices it.
    let keepalive = TcpKeepalive::new()
        .with_time(Duration::from_secs(10))
        .with_interval(Duration::from_secs(2));
    let _ = SockRef::from(&stream).set_tcp_keepalive(&keepalive);

    let source = peer.to_string();
    let mut names: HashMap<u16, String> = HashMap::new();
    let mut decoder = Decoder::new(max_payload);
    let mut buf = vec![0u8; READ_SIZE];
    let mut failure: Option<anyhow::Error> = None;
    let mut bytes = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                count(output.stats(), decoder.finish());
                return End::Broken(e, bytes);
            }
        };
        bytes += n as u64;
        decoder.feed(&buf[..n], |event| {
            if failure.is_some() {
                return;
            }
            if let Event::Frame(frame) = event {
                let camera = names
                    .entry(frame.header.camera_id)
                    .or_insert_with(|| camera_name(&source, frame.header.camera_id));
                match output.deliver(camera, &(&frame.header).into(), &frame.payload) {
                    Ok(Delivered::Kept | Delivered::OverLimit) => {}
                    Err(e) => failure = Some(e),
                }
            } else {
                count(output.stats(), Some(event));
            }
        });
        if let Some(e) = failure {
            return End::Fatal(e);
        }
    }
    count(output.stats(), decoder.finish());
    End::Closed(bytes)
}

/// Bumps the counter for a non-frame event.
fn count(stats: &Stats, event: Option<Event>) {
    let Some(event) = event else { return };
    Stats::add(&stats.garbage_bytes, event.scanned_bytes());
    let (counter, n) = match event {
        Event::Frame(_) => return,
        Event::CrcError(_) => (&stats.crc_errors, 1),
        Event::BadHeader(_) => (&stats.bad_headers, 1),
        Event::Oversize { .. } => (&stats.oversize, 1),
        Event::Unsupported { .. } => (&stats.unsupported, 1),
        Event::Garbage { .. } => return,
        Event::Truncated { .. } => (&stats.truncated, 1),
    };
    Stats::add(counter, n);
}
