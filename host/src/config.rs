//! Validated receiver configurations: plain data that every receiver runs
//! without further checks.
//!
//! This module depends on nothing else in the crate: [`crate::flags`] is the
//! one place that parses and validates the command line into these types,
//! and the receivers only read them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default `--max-memory`: the one budget every connection, partial frame
/// and piece of per-source bookkeeping of a receiver process draws from.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

/// Default `--max-connections` of `recv tcp --listen`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Default `--idle-timeout`: a TCP connection that delivers no byte for this
/// long is closed. Boards send several frames a second, so 10 s of silence
/// means a dead or stalled peer.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A validated command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `recv tcp`.
    RecvTcp(TcpConfig),
    /// `recv mqtt`.
    RecvMqtt(MqttConfig),
    /// `recv udp`.
    RecvUdp(UdpConfig),
    /// `hub`.
    Hub(HubConfig),
}

/// How the status thread prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusMode {
    /// One line rewritten in place (`\r`), a few times per second.
    Live,
    /// One full line every interval, for logs and pipes.
    Periodic(Duration),
    /// Only the final summary.
    Quiet,
}

/// Validated options every receiver shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputConfig {
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--count` (at least 1).
    pub count: Option<u64>,
    /// `--max-payload` in bytes.
    pub max_payload: u32,
    /// `--max-memory` in bytes: the process's memory budget for received
    /// data and bookkeeping (at least twice `max_payload`, so the largest
    /// frame can always be reassembled).
    pub max_memory: usize,
    /// How to print status.
    pub status: StatusMode,
}

impl OutputConfig {
    /// Options for tests and examples: no `--out`, no `--count`, quiet, the
    /// default budget.
    pub fn quiet(max_payload: u32) -> OutputConfig {
        OutputConfig {
            out: None,
            count: None,
            max_payload,
            max_memory: DEFAULT_MAX_MEMORY,
            status: StatusMode::Quiet,
        }
    }
}

/// How `recv tcp` reaches the boards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpMode {
    /// Bind here and accept boards.
    Listen(SocketAddr),
    /// Connect to this `HOST:PORT`, resolved again on every attempt.
    Connect(String),
}

/// Validated `recv tcp` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    /// Listen or connect.
    pub mode: TcpMode,
    /// Most connections open at once (`--listen`); a new one beyond it
    /// evicts the one idle longest.
    pub max_connections: usize,
    /// A connection silent this long is closed.
    pub idle_timeout: Duration,
    /// Shared receiver options.
    pub output: OutputConfig,
}

/// Validated `recv udp` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpConfig {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Shared receiver options.
    pub output: OutputConfig,
}

/// Validated `recv mqtt` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttConfig {
    /// Broker host name or address.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// The topic filter as given (`img_stream/+/frame`).
    pub topic: String,
    /// `--share GROUP`: subscribe to `$share/GROUP/<topic>`.
    pub share: Option<String>,
    /// Shared receiver options.
    pub output: OutputConfig,
}

impl MqttConfig {
    /// The filter sent to the broker.
    pub fn filter(&self) -> String {
        match &self.share {
            Some(group) => format!("$share/{group}/{}", self.topic),
            None => self.topic.clone(),
        }
    }
}

/// One `hub` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubInput {
    /// `--tcp ADDR`: accept boards.
    TcpListen(SocketAddr),
    /// `--tcp-connect HOST:PORT`: connect to a board.
    TcpConnect(String),
    /// `--udp ADDR`.
    Udp(SocketAddr),
    /// `--mqtt HOST:PORT --topic FILTER [--share GROUP]`.
    Mqtt(MqttConfig),
    /// `--pull URL`: a board's MjpegServer `/stream` (`http://` only).
    Pull(String),
}

/// Who may use the hub's HTTP side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Everybody (the default bind is 127.0.0.1 for this reason).
    Open,
    /// `--auth USER:PASS` (HTTP Basic), both parts non-empty.
    Basic(String),
    /// `--token T` (Bearer header or `?token=`), of URL-safe characters.
    Token(String),
}

/// Caps and timeouts of the hub's camera table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HubLimits {
    /// Most cameras at once; frames of further cameras are refused.
    pub max_cameras: usize,
    /// Most stream viewers of one camera.
    pub max_viewers_per_camera: usize,
    /// Most stream viewers in total.
    pub max_viewers: usize,
    /// A camera without frames for this long is shown offline.
    pub offline_after: Duration,
    /// ... and removed after this long.
    pub forget_after: Duration,
}

impl Default for HubLimits {
    fn default() -> HubLimits {
        HubLimits {
            max_cameras: 64,
            max_viewers_per_camera: 32,
            max_viewers: 256,
            offline_after: Duration::from_secs(5),
            forget_after: Duration::from_secs(600),
        }
    }
}

/// Validated `--record` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordConfig {
    /// `--record DIR`.
    pub dir: PathBuf,
    /// `--keep-bytes`: the most the segments may add up to (above 0).
    pub keep_bytes: u64,
    /// `--keep-age`: segments older than this are deleted.
    pub keep_age: Duration,
}

/// Validated `hub` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// Every input, in the order given (at least one).
    pub inputs: Vec<HubInput>,
    /// `--http ADDR`.
    pub http: SocketAddr,
    /// The receivers' options for every input (`--max-payload`,
    /// `--max-memory`, which each input draws from on its own; never `--out`).
    pub output: OutputConfig,
    /// `--max-connections` and `--idle-timeout` of each TCP input.
    pub max_connections: usize,
    /// See `max_connections`.
    pub idle_timeout: Duration,
    /// `--record`, with its retention.
    pub record: Option<RecordConfig>,
    /// `--auth` / `--token`.
    pub access: Access,
    /// `--http-idle-timeout`: an HTTP connection that moves no byte either
    /// way for this long is closed (a stalled viewer frees its slot).
    pub http_idle_timeout: Duration,
    /// Camera and viewer caps, offline and forget times.
    pub limits: HubLimits,
}
