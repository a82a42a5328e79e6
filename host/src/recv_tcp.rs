//! `img-stream recv tcp`: frames over TCP.
//!
//! `--listen` serves any number of boards from **one thread** with a
//! readiness loop (mio): a connection costs its socket, a small
//! [`Decoder`] and whatever partial frame it has actually sent, all taken
//! from the process's memory budget. No thread is spawned per connection,
//! so no spawn can fail under a thread limit, and one owner of every
//! connection can evict synchronously:
//! - at most `--max-connections` at once; one more closes the connection
//!   idle longest (`connections evicted`);
//! - a connection that sends nothing for `--idle-timeout` is closed
//!   (`idle closed`);
//! - when the budget is full, the connection whose partial frame started
//!   earliest is closed (`evicted`);
//! - `accept` failing for lack of descriptors or memory (EMFILE, ENFILE,
//!   ENOMEM, ENOBUFS) closes the idlest connection and pauses accepting
//!   with a growing back-off; such errors are logged at most once every few
//!   seconds (`accept errors` counts them all);
//! - each turn reads at most a few buffers per connection, so one fast
//!   peer cannot starve the others.
//!
//! `--connect` keeps one connection to a board that is the server,
//! reconnecting with back-off. Good frames go to the shared [`Output`];
//! everything skipped is counted in [`Stats`].

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use mio::net::{TcpListener, TcpStream as MioStream};
use mio::{Events, Interest, Poll, Token};
use socket2::{SockRef, TcpKeepalive};

use crate::budget::{Budget, SourceMap};
use crate::config::{TcpConfig, TcpMode};
use crate::output::{Delivered, Output};
use crate::status::{log, Stats};
use crate::store::camera_name;
use crate::stream::{Decoder, Event};

/// Bytes asked of each `read` (one buffer for all connections).
const READ_SIZE: usize = 64 * 1024;
/// Reads one connection gets per turn before the others have theirs.
const READS_PER_TURN: usize = 4;
/// Budget bytes a connection costs besides its decoder's buffers: its
/// state, its slot in the maps and the kernel's socket (a guess; receive
/// queues are the kernel's).
pub const CONNECTION_COST: usize = 2048;
/// Camera names a connection caches (a board has a few cameras).
const NAMES_PER_CONNECTION: usize = 16;
/// Longest wait of the poll loop: how often idle connections are checked.
const TICK: Duration = Duration::from_millis(100);
/// First and longest pause of `accept` after it failed for lack of
/// descriptors or memory.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one line per this interval for a repeating error.
const LOG_INTERVAL: Duration = Duration::from_secs(5);
/// First and longest wait between connection attempts in `--connect` mode.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

const LISTENER: Token = Token(usize::MAX);

/// Runs the receiver until `--count` frames, a signal or a fatal error.
pub fn run(config: TcpConfig) -> anyhow::Result<ExitCode> {
    let max_payload = config.output.max_payload;
    let output_config = config.output.clone();
    match config.mode.clone() {
        TcpMode::Listen(addr) => {
            let listener = std::net::TcpListener::bind(addr)
                .with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            crate::output::run(&output_config, 0, move |output, stopping| {
                serve_listener(listener, output, &config, stopping, || {
                    // Tests and scripts read the real port from this exact
                    // line, printed once --out is ready.
                    eprintln!("listening on {local}");
                })
            })
        }
        TcpMode::Connect(addr) => crate::output::run(&output_config, 0, move |output, stopping| {
            connect_loop(&addr, output, max_payload, stopping);
            Ok(())
        }),
    }
}

/// A repeating error, logged at most once per [`LOG_INTERVAL`].
/// Serves boards on a bound `listener` into `output` until `stopping`, with
/// `config`'s connection cap and idle timeout; `ready` runs once it accepts.
/// `run`'s `--listen` mode, and the hub's `--tcp` input.
pub fn serve_listener(
    listener: std::net::TcpListener,
    output: &Arc<Output>,
    config: &TcpConfig,
    stopping: &AtomicBool,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let server = Server::new(TcpListener::from_std(listener), output.clone(), config)?;
    ready();
    server.serve(stopping)
}

struct RateLimited {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimited {
    fn new() -> RateLimited {
        RateLimited {
            last: None,
            suppressed: 0,
        }
    }

    fn log(&mut self, now: Instant, message: std::fmt::Arguments<'_>) {
        if self
            .last
            .is_some_and(|t| now.saturating_duration_since(t) < LOG_INTERVAL)
        {
            self.suppressed += 1;
            return;
        }
        if self.suppressed > 0 {
            log(format_args!(
                "{message} ({} more since the last line)",
                self.suppressed
            ));
        } else {
            log(message);
        }
        self.last = Some(now);
        self.suppressed = 0;
    }
}

/// One accepted board.
struct Connection {
    stream: MioStream,
    peer: SocketAddr,
    source: String,
    names: HashMap<u16, String>,
    decoder: Decoder,
    /// Budget bytes held for it.
    charged: usize,
    /// When its unfinished frame began (None between frames).
    partial_since: Option<Instant>,
    /// Waiting in `Server::ready` for another turn.
    queued: bool,
}

/// Why a connection is being closed.
enum Close {
    Eof,
    Panicked,
    Broken(io::Error),
    Evicted,
    Idle,
    OverBudget,
}

/// The `--listen` loop: every connection, the budget and the accept
/// back-off, owned by one thread.
struct Server {
    poll: Poll,
    listener: TcpListener,
    output: Arc<Output>,
    budget: Arc<Budget>,
    max_payload: u32,
    /// Every connection, idlest first; the map's cap and time to live are
    /// `--max-connections` and `--idle-timeout`.
    conns: SourceMap<Token, Connection>,
    /// Connections with data possibly left to read, in turn order.
    ready: VecDeque<Token>,
    next_token: usize,
    accept_paused_until: Option<Instant>,
    accept_backoff: Duration,
    accept_log: RateLimited,
    buf: Vec<u8>,
}

impl Server {
    fn new(listener: TcpListener, output: Arc<Output>, config: &TcpConfig) -> io::Result<Server> {
        let poll = Poll::new()?;
        let mut listener = listener;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(Server {
            poll,
            listener,
            budget: output.budget().clone(),
            output,
            max_payload: config.output.max_payload,
            conns: SourceMap::new(config.max_connections, config.idle_timeout),
            ready: VecDeque::new(),
            next_token: 0,
            accept_paused_until: None,
            accept_backoff: ACCEPT_BACKOFF_MIN,
            accept_log: RateLimited::new(),
            buf: vec![0; READ_SIZE],
        })
    }

    fn serve(mut self, stopping: &AtomicBool) -> anyhow::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut accept_ready = true;
        while !stopping.load(Ordering::SeqCst) {
            let now = Instant::now();
            let timeout = if !self.ready.is_empty() || accept_ready && self.accepting(now) {
                Duration::ZERO
            } else {
                // Wake when a pause of accepting ends (only a pending one:
                // a pause in the past must not make this loop spin).
                match self.accept_paused_until {
                    Some(t) if accept_ready && t > now => (t - now).min(TICK),
                    _ => TICK,
                }
            };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("poll"),
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => accept_ready = true,
                    token => {
                        if let Some(c) = self.conns.peek_mut(&token) {
                            if !c.queued {
                                c.queued = true;
                                self.ready.push_back(token);
                            }
                        }
                    }
                }
            }
            let now = Instant::now();
            if accept_ready && self.accepting(now) {
                accept_ready = self.accept(now);
            }
            // One turn: each ready connection reads a little.
            for _ in 0..self.ready.len() {
                let Some(token) = self.ready.pop_front() else {
                    break;
                };
                self.read_turn(token)?;
            }
            for (token, conn) in self.conns.expire(Instant::now()) {
                Stats::add(&self.output.stats().idle_closed, 1);
                self.finish(token, conn, Close::Idle);
            }
        }
        // Count what the connections still hold, for the summary.
        while let Some((token, conn)) = self.conns.pop_idlest() {
            self.finish(token, conn, Close::Eof);
        }
        Ok(())
    }

    fn accepting(&self, now: Instant) -> bool {
        self.accept_paused_until.is_none_or(|t| now >= t)
    }

    /// Accepts until the queue is empty (returns false) or accepting must
    /// pause (returns true: try again when the pause ends).
    fn accept(&mut self, now: Instant) -> bool {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    self.accept_backoff = ACCEPT_BACKOFF_MIN;
                    self.accept_paused_until = None;
                    self.admit(stream, peer, now);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.accept_paused_until = None;
                    return false;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    Stats::add(&self.output.stats().accept_errors, 1);
                    let starved = matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS)
                    );
                    self.accept_log
                        .log(now, format_args!("accept: {e}; backing off"));
                    if !starved {
                        // Aborted handshakes and the like: the next one may work.
                        continue;
                    }
                    // Free a descriptor for the peer waiting in the queue.
                    if let Some((token, conn)) = self.conns.pop_idlest() {
                        Stats::add(&self.output.stats().conn_evicted, 1);
                        self.finish(token, conn, Close::Evicted);
                    }
                    self.accept_paused_until = Some(now + self.accept_backoff);
                    self.accept_backoff = (self.accept_backoff * 2).min(ACCEPT_BACKOFF_MAX);
                    return true;
                }
            }
        }
    }

    fn admit(&mut self, mut stream: MioStream, peer: SocketAddr, now: Instant) {
        if !self.reserve(CONNECTION_COST, None) {
            Stats::add(&self.output.stats().over_budget, 1);
            return;
        }
        // A board that loses power sends no FIN; keepalive notices it.
        let keepalive = TcpKeepalive::new()
            .with_time(Duration::from_secs(10))
            .with_interval(Duration::from_secs(2));
        let _ = SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        let token = Token(self.next_token);
        self.next_token = (self.next_token + 1) % (usize::MAX - 1);
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            self.budget.give(CONNECTION_COST);
            self.accept_log
                .log(now, format_args!("cannot watch connection {peer}: {e}"));
            return;
        }
        Stats::add(&self.output.stats().connections, 1);
        log(format_args!("connection from {peer}"));
        let conn = Connection {
            stream,
            peer,
            source: peer.to_string(),
            names: HashMap::new(),
            decoder: Decoder::new(self.max_payload),
            charged: CONNECTION_COST,
            partial_since: None,
            // Data may have arrived before registration: read it now.
            queued: true,
        };
        self.ready.push_back(token);
        if let Some((old, conn)) = self.conns.insert(token, conn, now) {
            Stats::add(&self.output.stats().conn_evicted, 1);
            self.finish(old, conn, Close::Evicted);
        }
    }

    /// Takes `n` budget bytes, closing the connections whose partial frame
    /// started earliest (never `keep`) until they fit.
    fn reserve(&mut self, n: usize, keep: Option<Token>) -> bool {
        loop {
            if self.budget.try_take(n) {
                return true;
            }
            let Some(victim) = self.oldest_partial(keep) else {
                return false;
            };
            if let Some(conn) = self.conns.remove(&victim) {
                Stats::add(&self.output.stats().evicted, 1);
                self.finish(victim, conn, Close::OverBudget);
            }
        }
    }

    fn oldest_partial(&self, keep: Option<Token>) -> Option<Token> {
        let mut best: Option<(Instant, Token)> = None;
        for (token, c) in self.conns.iter() {
            if Some(*token) == keep {
                continue;
            }
            if let Some(since) = c.partial_since {
                if best.is_none_or(|(b, _)| since < b) {
                    best = Some((since, *token));
                }
            }
        }
        best.map(|(_, t)| t)
    }

    /// Reads a few buffers from one connection and decodes them.
    fn read_turn(&mut self, token: Token) -> anyhow::Result<()> {
        for _ in 0..READS_PER_TURN {
            let now = Instant::now();
            let Some(conn) = self.conns.peek_mut(&token) else {
                return Ok(());
            };
            let n = match conn.stream.read(&mut self.buf) {
                Ok(0) => return self.close(token, Close::Eof),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    conn.queued = false;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.close(token, Close::Broken(e)),
            };
            // Progress: the connection is no longer the idlest.
            let _ = self.conns.get_mut(&token, now);
            let Some(conn) = self.conns.peek_mut(&token) else {
                return Ok(());
            };
            let mut failure = None;
            let output = &self.output;
            let Connection {
                decoder,
                names,
                source,
                ..
            } = conn;
            // A panic in one connection's handling (a bug: the decoder is
            // fuzzed to have none) closes that connection only, where the
            // binary unwinds; a `panic = "abort"` build still aborts.
            let data = &self.buf[..n];
            let decoded = panic::catch_unwind(AssertUnwindSafe(|| {
                decoder.feed(data, |event| {
                    if failure.is_some() {
                        return;
                    }
                    if let Event::Frame(frame) = event {
                        let id = frame.header.camera_id;
                        if !names.contains_key(&id) && names.len() < NAMES_PER_CONNECTION {
                            names.insert(id, camera_name(source, id));
                        }
                        let meta = (&frame.header).into();
                        let delivered = match names.get(&id) {
                            Some(name) => output.deliver(name, &meta, &frame.payload),
                            None => output.deliver(&camera_name(source, id), &meta, &frame.payload),
                        };
                        if let Err(e) = delivered {
                            failure = Some(e);
                        }
                    } else {
                        count(output.stats(), Some(event));
                    }
                })
            }));
            if decoded.is_err() {
                return self.close(token, Close::Panicked);
            }
            if let Some(e) = failure {
                return Err(e);
            }
            let mid_frame = conn.decoder.partial_bytes() > 0;
            conn.partial_since = match (mid_frame, conn.partial_since) {
                (false, _) => None,
                (true, None) => Some(now),
                (true, since) => since,
            };
            // Charged after the read: the overshoot is at most one read and
            // one growth step of the payload buffer (see `Decoder::held`).
            let held = CONNECTION_COST + conn.decoder.held();
            let charged = conn.charged;
            if held < charged {
                self.budget.give(charged - held);
            } else if held > charged && !self.reserve(held - charged, Some(token)) {
                // Nothing else to drop: this connection is the oldest work.
                Stats::add(&self.output.stats().over_budget, 1);
                return self.close(token, Close::OverBudget);
            }
            if let Some(c) = self.conns.peek_mut(&token) {
                c.charged = held;
            }
        }
        // Data may be left: another turn after the others.
        self.ready.push_back(token);
        Ok(())
    }

    fn close(&mut self, token: Token, why: Close) -> anyhow::Result<()> {
        if let Some(conn) = self.conns.remove(&token) {
            self.finish(token, conn, why);
        }
        Ok(())
    }

    /// Counts what `conn` leaves unfinished, gives its memory back and logs
    /// why it ended.
    fn finish(&mut self, _token: Token, mut conn: Connection, why: Close) {
        count(self.output.stats(), conn.decoder.finish());
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.budget.give(conn.charged);
        let peer = conn.peer;
        match why {
            Close::Eof => log(format_args!("connection {peer} closed")),
            Close::Panicked => log(format_args!(
                "connection {peer} closed: internal error while decoding it (a bug, please report)"
            )),
            // The board went away: normal for a stream, keep the others.
            Close::Broken(e) => log(format_args!("connection {peer} ended: {e}")),
            Close::Evicted => log(format_args!(
                "connection {peer} closed to admit another (--max-connections)"
            )),
            Close::Idle => log(format_args!(
                "connection {peer} closed: silent for --idle-timeout"
            )),
            Close::OverBudget => log(format_args!(
                "connection {peer} closed: memory budget full (--max-memory)"
            )),
        }
    }
}

/// Keeps one connection to the board at `addr` until `stopping`, with backoff.
pub fn connect_loop(addr: &str, output: &Output, max_payload: u32, stopping: &AtomicBool) {
    let mut backoff = BACKOFF_MIN;
    let mut last_error = String::new();
    while !stopping.load(Ordering::SeqCst) {
        match connect(addr) {
            Ok((stream, peer)) => {
                log(format_args!("connected to {peer}"));
                last_error.clear();
                let end = serve(stream, peer, output, max_payload, stopping);
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

/// How a `--connect` connection ended.
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
        End::Broken(e, _) => log(format_args!("connection {peer} ended: {e}")),
        End::Fatal(e) => output.fail(e),
    }
}

/// Reads one `--connect` connection to its end, delivering every good frame.
fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    output: &Output,
    max_payload: u32,
    stopping: &AtomicBool,
) -> End {
    Stats::add(&output.stats().connections, 1);
    // Reads wake now and then, so a stop is noticed without waiting for data.
    let _ = stream.set_read_timeout(Some(TICK));
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
    while !stopping.load(Ordering::SeqCst) {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
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
                    Ok(Delivered::Refused | Delivered::Repeat) => {}
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
