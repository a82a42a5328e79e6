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
