//! Command-line arguments, in two stages (as ripgrep does): clap parses the
//! words into the low-level [`Cli`], then [`Cli::validate`] checks them and
//! produces a [`Command`] the receivers run without further checks.
//!
//! Adding a transport (`recv mqtt`, `recv udp`): a variant in `Recv` with
//! its own args struct that flattens `OutputArgs` (so `--out`, `--count`,
//! `--max-payload` and `--status` mean the same everywhere) and calls its
//! `validate`, a validated config in a [`Command`] variant, and one match
//! arm in `crate::run`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use img_stream_core::framing;

use crate::status::StatusMode;

/// Receive, verify and save camera frames sent by img_stream boards.
#[derive(Debug, Parser)]
#[command(name = "img-stream", version)]
pub struct Cli {
    #[command(subcommand)]
    command: CliCommand,
}

// Parsed once per run: the size of the hub's arguments costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Receive frames from boards.
    #[command(subcommand)]
    Recv(Recv),
    /// Take every board's stream and re-serve it: dashboard, MJPEG and
    /// snapshot URLs, JSON, Prometheus metrics, bounded recording.
    Hub(HubArgs),
}

#[derive(Debug, Args)]
struct HubArgs {
    /// Accept boards over TCP on ADDR (repeatable).
    #[arg(long, value_name = "ADDR")]
    tcp: Vec<String>,
    /// Connect to a board serving TCP at HOST:PORT (repeatable).
    #[arg(long, value_name = "HOST:PORT")]
    tcp_connect: Vec<String>,
    /// Receive UDP chunk datagrams on ADDR (repeatable).
    #[arg(long, value_name = "ADDR")]
    udp: Vec<String>,
    /// Subscribe on this MQTT broker.
    #[arg(long, value_name = "HOST:PORT")]
    mqtt: Option<String>,
    /// MQTT topic filter.
    #[arg(
        long,
        value_name = "FILTER",
        default_value = "img_stream/+/frame",
        requires = "mqtt"
    )]
    topic: String,
    /// MQTT shared subscription group: hubs in one group split the cameras.
    #[arg(long, value_name = "GROUP", requires = "mqtt")]
    share: Option<String>,
    /// Pull a board's MjpegServer stream (http://HOST:PORT/stream; repeatable).
    #[arg(long, value_name = "URL")]
    pull: Vec<String>,
    /// Serve HTTP on ADDR.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    http: String,
    /// Record every camera under DIR.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Most bytes the recordings may take (oldest deleted first).
    #[arg(
        long,
        value_name = "BYTES",
        default_value = "1GiB",
        requires = "record"
    )]
    keep_bytes: String,
    /// Delete recordings older than this (s, m, h, d).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "24h",
        requires = "record"
    )]
    keep_age: String,
    /// Require HTTP Basic credentials USER:PASS.
    #[arg(long, value_name = "USER:PASS", conflicts_with = "token")]
    auth: Option<String>,
    /// Require this token (Authorization: Bearer, or ?token=).
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// Refuse frames with a larger payload (suffixes K, M, KiB, MiB...).
    #[arg(long, value_name = "BYTES", default_value = "16MiB")]
    max_payload: String,
    /// Most cameras at once.
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_cameras: usize,
    /// Most stream viewers of one camera (503 beyond).
    #[arg(long, value_name = "N", default_value_t = 32)]
    max_viewers_per_camera: usize,
    /// Most stream viewers in total (503 beyond).
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_viewers: usize,
    /// Forget a camera that sent nothing for this long (s, m, h, d).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    forget_after: String,
}

#[derive(Debug, Subcommand)]
enum Recv {
    /// Over TCP: boards connect to us (--listen), or we connect to a board
    /// (--connect) and reconnect whenever it closes or restarts.
    Tcp(TcpArgs),
    /// From an MQTT broker: subscribe to a topic filter (img_stream/+/frame
    /// for many cameras); raw JPEG and chunked payloads are auto-detected.
    Mqtt(MqttArgs),
    /// Over UDP: chunk datagrams from img_stream.send_udp, reassembled per
    /// sender; a frame missing a datagram is dropped and counted.
    Udp(UdpArgs),
}

#[derive(Debug, Args)]
struct UdpArgs {
    /// Receive on ADDR (e.g. 0.0.0.0:5000; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    listen: String,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct MqttArgs {
    /// The broker, HOST:PORT (port 1883 when omitted).
    #[arg(long, value_name = "HOST:PORT")]
    broker: String,
    /// Topic filter to subscribe to; wildcards allowed.
    #[arg(long, value_name = "FILTER", default_value = "img_stream/+/frame")]
    topic: String,
    /// Shared subscription ($share/GROUP/FILTER): receivers in one group
    /// split the messages between them.
    #[arg(long, value_name = "GROUP")]
    share: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
#[group(id = "mode", required = true, multiple = false)]
struct TcpArgs {
    /// Accept boards on ADDR (e.g. 0.0.0.0:5000; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", group = "mode")]
    listen: Option<String>,
    /// Connect to a board listening on ADDR (HOST:PORT).
    #[arg(long, value_name = "ADDR", group = "mode")]
    connect: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Options every receiver shares.
#[derive(Debug, Args)]
struct OutputArgs {
    /// Write frames to DIR/<camera>/<seq>.jpg and DIR/frames.jsonl.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Exit (status 0) after N good frames in total.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Refuse frames with a larger payload (suffixes K, M, KiB, MiB...).
    #[arg(long, value_name = "BYTES", default_value = "16MiB")]
    max_payload: String,
    /// Status on stderr: a live line on a terminal, periodic lines otherwise.
    #[arg(long, value_enum, default_value_t = StatusArg::Auto)]
    status: StatusArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StatusArg {
    /// Live on a terminal, else lines every 2 s.
    Auto,
    /// One line rewritten in place.
    Live,
    /// A plain line every 2 s.
    Lines,
    /// Only the final summary.
    Quiet,
}

/// A validated command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `recv tcp`.
    RecvTcp(TcpConfig),
    /// `recv mqtt`.
    RecvMqtt(crate::recv_mqtt::MqttConfig),
    /// `recv udp`.
    RecvUdp(crate::recv_udp::UdpConfig),
    /// `hub`.
    Hub(crate::hub::HubConfig),
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
    /// Shared receiver options.
    pub output: OutputConfig,
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
    /// How to print status.
    pub status: StatusMode,
}

/// Largest payload a v1 header can describe inside a u32 frame length.
const MAX_MAX_PAYLOAD: u64 = u32::MAX as u64 - framing::HEADER_LEN as u64;

impl Cli {
    /// Checks the parsed arguments and turns them into a [`Command`].
    pub fn validate(self) -> anyhow::Result<Command> {
        match self.command {
            CliCommand::Recv(Recv::Tcp(args)) => {
                let mode = match (args.listen, args.connect) {
                    (Some(addr), None) => TcpMode::Listen(resolve_one(&addr)?),
                    (None, Some(addr)) => {
                        // Check the shape now; resolution is retried later.
                        if !addr.contains(':') {
                            bail!("--connect {addr}: expected HOST:PORT");
                        }
                        TcpMode::Connect(addr)
                    }
                    _ => bail!("give exactly one of --listen and --connect"),
                };
                Ok(Command::RecvTcp(TcpConfig {
                    mode,
                    output: args.output.validate()?,
                }))
            }
            CliCommand::Recv(Recv::Mqtt(args)) => {
                Ok(Command::RecvMqtt(crate::recv_mqtt::MqttConfig::new(
                    &args.broker,
                    &args.topic,
                    args.share,
                    args.output.validate()?,
                )?))
            }
            CliCommand::Recv(Recv::Udp(args)) => Ok(Command::RecvUdp(crate::recv_udp::UdpConfig {
                listen: resolve_one(&args.listen)?,
                output: args.output.validate()?,
            })),
            CliCommand::Hub(args) => Ok(Command::Hub(args.validate()?)),
        }
    }
}

impl HubArgs {
    fn validate(self) -> anyhow::Result<crate::hub::HubConfig> {
        use crate::hub::inputs::Input;
        let mut inputs = Vec::new();
        for a in &self.tcp {
            inputs.push(Input::TcpListen(resolve_one(a)?));
        }
        for a in self.tcp_connect {
            if !a.contains(':') {
                bail!("--tcp-connect {a}: expected HOST:PORT");
            }
            inputs.push(Input::TcpConnect(a));
        }
        for a in &self.udp {
            inputs.push(Input::Udp(resolve_one(a)?));
        }
        let output = OutputConfig {
            out: None,
            count: None,
            max_payload: max_payload(&self.max_payload)?,
            status: StatusMode::Quiet,
        };
        if let Some(broker) = &self.mqtt {
            inputs.push(Input::Mqtt(crate::recv_mqtt::MqttConfig::new(
                broker,
                &self.topic,
                self.share,
                output.clone(),
            )?));
        }
        for url in self.pull {
            crate::hub::pull::split_url(&url)?;
            inputs.push(Input::Pull(url));
        }
        if inputs.is_empty() {
            bail!("give at least one input: --tcp, --tcp-connect, --udp, --mqtt or --pull");
        }
        let record = match self.record {
            Some(dir) => {
                let keep_bytes = parse_size(&self.keep_bytes)
                    .with_context(|| format!("--keep-bytes {}", self.keep_bytes))?;
                if keep_bytes == 0 {
                    bail!("--keep-bytes must be above 0");
                }
                Some(crate::hub::record::RecordConfig {
                    dir,
                    keep_bytes,
                    keep_age: parse_duration(&self.keep_age)
                        .with_context(|| format!("--keep-age {}", self.keep_age))?,
                })
            }
            None => None,
        };
        let auth = match (self.auth, self.token) {
            (Some(a), _) => crate::hub::auth::Auth::basic(&a)?,
            (None, Some(t)) => crate::hub::auth::Auth::token(&t)?,
            (None, None) => crate::hub::auth::Auth::Open,
        };
        for (name, n) in [
            ("--max-cameras", self.max_cameras),
            ("--max-viewers", self.max_viewers),
            ("--max-viewers-per-camera", self.max_viewers_per_camera),
        ] {
            if n == 0 {
                bail!("{name} must be at least 1");
            }
        }
        let defaults = crate::hub::cameras::Limits::default();
        let forget_after = parse_duration(&self.forget_after)
            .with_context(|| format!("--forget-after {}", self.forget_after))?;
        Ok(crate::hub::HubConfig {
            inputs,
            http: resolve_one(&self.http)?,
            max_payload: output.max_payload,
            record,
            auth,
            limits: crate::hub::cameras::Limits {
                max_cameras: self.max_cameras,
                max_viewers_per_camera: self.max_viewers_per_camera,
                max_viewers: self.max_viewers,
                offline_after: defaults.offline_after.min(forget_after),
                forget_after,
            },
        })
    }
}

/// `--max-payload`: a size that a v1 header can describe.
fn max_payload(text: &str) -> anyhow::Result<u32> {
    let n = parse_size(text).with_context(|| format!("--max-payload {text}"))?;
    if n > MAX_MAX_PAYLOAD {
        bail!("--max-payload must be at most {MAX_MAX_PAYLOAD} bytes");
    }
    Ok(n as u32)
}

/// Parses a duration: `90`/`90s`, `10m`, `24h`, `7d`.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .context("expected a number and s, m, h or d")?;
    let mult = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => bail!("unknown unit {other:?} (s, m, h or d)"),
    };
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .context("duration too large")
}

impl OutputArgs {
    fn validate(self) -> anyhow::Result<OutputConfig> {
        if self.count == Some(0) {
            bail!("--count must be at least 1");
        }
        let max_payload = max_payload(&self.max_payload)?;
        let status = match self.status {
            StatusArg::Auto => StatusMode::detect(),
            StatusArg::Live => StatusMode::Live,
            StatusArg::Lines => StatusMode::Periodic(Duration::from_secs(2)),
            StatusArg::Quiet => StatusMode::Quiet,
        };
        Ok(OutputConfig {
            out: self.out,
            count: self.count,
            max_payload,
            status,
        })
    }
}

fn resolve_one(addr: &str) -> anyhow::Result<SocketAddr> {
    addr.to_socket_addrs()
        .with_context(|| format!("bad address {addr:?} (expected HOST:PORT)"))?
        .next()
        .with_context(|| format!("{addr} resolves to no address"))
}

/// Parses a byte count: `4096`, `64K`/`64KB` (×1000), `64KiB` (×1024), same
/// for M/MiB and G/GiB. Case-insensitive.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        bail!("expected a number of bytes");
    }
    let n: u64 = digits.parse().context("number too large")?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "ki" | "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mi" | "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gi" | "gib" => 1 << 30,
        other => bail!("unknown unit {other:?}"),
    };
    n.checked_mul(mult).context("number too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Command> {
        let mut words = vec!["img-stream"];
        words.extend(args);
        Cli::try_parse_from(words)?.validate()
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("2k").unwrap(), 2000);
        assert_eq!(parse_size("1 GiB").unwrap(), 1 << 30);
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("99999999999999999999").is_err());
    }

    #[test]
    fn listen_with_defaults() {
        let Command::RecvTcp(c) = parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--status",
            "quiet",
        ])
        .unwrap() else {
            unreachable!()
        };
        assert_eq!(c.mode, TcpMode::Listen("127.0.0.1:0".parse().unwrap()));
        assert_eq!(c.output.max_payload, 16 << 20);
        assert_eq!(c.output.count, None);
        assert_eq!(c.output.status, StatusMode::Quiet);
    }

    #[test]
    fn connect_with_options() {
        let Command::RecvTcp(c) = parse(&[
            "recv",
            "tcp",
            "--connect",
            "board.local:5000",
            "--out",
            "d",
            "--count",
            "3",
            "--max-payload",
            "1MiB",
        ])
        .unwrap() else {
            unreachable!()
        };
        assert_eq!(c.mode, TcpMode::Connect("board.local:5000".into()));
        assert_eq!(c.output.out, Some(PathBuf::from("d")));
        assert_eq!(c.output.count, Some(3));
        assert_eq!(c.output.max_payload, 1 << 20);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse(&["recv", "tcp"]).is_err(), "a mode is required");
        assert!(parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--connect",
            "127.0.0.1:1"
        ])
        .is_err());
        assert!(parse(&["recv", "tcp", "--listen", "nonsense"]).is_err());
        assert!(parse(&["recv", "tcp", "--connect", "noport"]).is_err());
        assert!(parse(&["recv", "tcp", "--listen", "127.0.0.1:0", "--count", "0"]).is_err());
        assert!(parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--max-payload",
            "5GiB"
        ])
        .is_err());
    }
}
