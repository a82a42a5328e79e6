//! Command-line arguments, in two stages (as ripgrep does): clap parses the
//! words into the low-level [`Cli`], then [`Cli::validate`] checks them and
//! produces a [`Command`] the receivers run without further checks.
//!
//! This is the only place that checks what the user typed; the validated
//! types live in the dependency-free [`crate::config`].
//!
//! Adding a transport (`recv mqtt`, `recv udp`): a variant in `Recv` with
//! its own args struct that flattens `OutputArgs` (so `--out`, `--count`,
//! `--max-payload`, `--max-memory` and `--status` mean the same everywhere),
//! its checks here, a validated config in a [`Command`] variant, and one
//! match arm in `crate::run`.

use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use img_stream_core::framing;

use crate::config::{
    Access, Command, HubConfig, HubInput, HubLimits, MqttConfig, OutputConfig, RecordConfig,
    StatusMode, TcpConfig, TcpMode, UdpConfig, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_MEMORY,
};

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
    /// Subscribe on this MQTT broker (port 1883 when omitted).
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
    /// MQTT shared subscription group: hubs in one group split the messages.
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
    #[arg(long, value_name = "BYTES", value_parser = size_arg, default_value = "1GiB",
          requires = "record")]
    keep_bytes: u64,
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
    /// Memory budget of each input for what it received and has not
    /// delivered yet (as for recv). At least 2 × --max-payload.
    #[arg(long, value_name = "BYTES", value_parser = size_arg,
          default_value_t = DEFAULT_MAX_MEMORY as u64)]
    max_memory: u64,
    /// Most boards connected at once per TCP input.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Close a TCP connection that sends nothing for this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    idle_timeout: f64,
    /// Most cameras at once.
    #[arg(long, value_name = "N", default_value_t = HubLimits::default().max_cameras)]
    max_cameras: usize,
    /// Most stream viewers of one camera (503 beyond).
    #[arg(long, value_name = "N", default_value_t = HubLimits::default().max_viewers_per_camera)]
    max_viewers_per_camera: usize,
    /// Most stream viewers in total (503 beyond).
    #[arg(long, value_name = "N", default_value_t = HubLimits::default().max_viewers)]
    max_viewers: usize,
    /// Close an HTTP connection that moves no byte either way for this many
    /// seconds (a viewer that stopped reading, a client that sends nothing).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    http_idle_timeout: f64,
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
    /// Most boards connected at once (--listen); one more evicts the
    /// connection idle longest.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Close a connection that sends nothing for this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    idle_timeout: f64,
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
    /// Memory budget for everything received and not yet written (partial
    /// frames, connections, per-sender bookkeeping); when it is full the
    /// oldest partial work is dropped and counted. At least 2 × --max-payload.
    #[arg(long, value_name = "BYTES", value_parser = size_arg,
          default_value_t = DEFAULT_MAX_MEMORY as u64)]
    max_memory: u64,
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
                let (max_connections, idle_timeout) =
                    tcp_limits(args.max_connections, args.idle_timeout)?;
                Ok(Command::RecvTcp(TcpConfig {
                    mode,
                    max_connections,
                    idle_timeout,
                    output: args.output.validate()?,
                }))
            }
            CliCommand::Recv(Recv::Mqtt(args)) => Ok(Command::RecvMqtt(mqtt_config(
                &args.broker,
                &args.topic,
                args.share,
                args.output.validate()?,
            )?)),
            CliCommand::Recv(Recv::Udp(args)) => Ok(Command::RecvUdp(UdpConfig {
                listen: resolve_one(&args.listen)?,
                output: args.output.validate()?,
            })),
            CliCommand::Hub(args) => Ok(Command::Hub(args.validate()?)),
        }
    }
}

/// Checks `--max-connections` and `--idle-timeout` (TCP receivers).
fn tcp_limits(max_connections: usize, idle_timeout: f64) -> anyhow::Result<(usize, Duration)> {
    if max_connections == 0 {
        bail!("--max-connections must be at least 1");
    }
    if !(idle_timeout.is_finite() && idle_timeout > 0.0) {
        bail!("--idle-timeout must be a positive number of seconds");
    }
    Ok((
        max_connections,
        Duration::from_secs_f64(idle_timeout.min(1e9)),
    ))
}

/// Checks `--max-payload` and `--max-memory` together.
fn memory_limits(max_payload: &str, max_memory: u64) -> anyhow::Result<(u32, usize)> {
    let payload =
        parse_size(max_payload).with_context(|| format!("--max-payload {max_payload}"))?;
    if payload > MAX_MAX_PAYLOAD {
        bail!("--max-payload must be at most {MAX_MAX_PAYLOAD} bytes");
    }
    // Room for the largest frame twice: its pieces and the reassembled copy.
    let least = 2 * payload + (1 << 20);
    if max_memory < least {
        bail!("--max-memory must be at least 2 x --max-payload + 1 MiB ({least} bytes)");
    }
    Ok((
        payload as u32,
        usize::try_from(max_memory).unwrap_or(usize::MAX),
    ))
}

impl HubArgs {
    fn validate(self) -> anyhow::Result<HubConfig> {
        let (max_payload, max_memory) = memory_limits(&self.max_payload, self.max_memory)?;
        let output = OutputConfig {
            out: None,
            count: None,
            max_payload,
            max_memory,
            status: StatusMode::Quiet,
        };
        let (max_connections, idle_timeout) = tcp_limits(self.max_connections, self.idle_timeout)?;
        let mut inputs = Vec::new();
        for a in &self.tcp {
            inputs.push(HubInput::TcpListen(resolve_one(a)?));
        }
        for a in self.tcp_connect {
            if !a.contains(':') {
                bail!("--tcp-connect {a}: expected HOST:PORT");
            }
            inputs.push(HubInput::TcpConnect(a));
        }
        for a in &self.udp {
            inputs.push(HubInput::Udp(resolve_one(a)?));
        }
        if let Some(broker) = &self.mqtt {
            let mqtt = mqtt_config(broker, &self.topic, self.share, output.clone())?;
            inputs.push(HubInput::Mqtt(mqtt));
        }
        for url in self.pull {
            crate::hub::pull::split_url(&url)?;
            inputs.push(HubInput::Pull(url));
        }
        if inputs.is_empty() {
            bail!("give at least one input: --tcp, --tcp-connect, --udp, --mqtt or --pull");
        }
        let record = match self.record {
            Some(dir) => {
                if self.keep_bytes == 0 {
                    bail!("--keep-bytes must be above 0");
                }
                Some(RecordConfig {
                    dir,
                    keep_bytes: self.keep_bytes,
                    keep_age: parse_duration(&self.keep_age)
                        .with_context(|| format!("--keep-age {}", self.keep_age))?,
                })
            }
            None => None,
        };
        let access = match (self.auth, self.token) {
            (Some(a), _) => match a.split_once(':') {
                Some((u, p)) if !u.is_empty() && !p.is_empty() => Access::Basic(a),
                _ => bail!("--auth expects USER:PASS, both non-empty"),
            },
            (None, Some(t)) => {
                // URL-safe as is, so it never needs escaping in a query or a page.
                let safe = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
                if t.is_empty() || !t.bytes().all(safe) {
                    bail!("--token must be non-empty, of letters, digits and -._~");
                }
                Access::Token(t)
            }
            (None, None) => Access::Open,
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
        if !(self.http_idle_timeout.is_finite() && self.http_idle_timeout > 0.0) {
            bail!("--http-idle-timeout must be a positive number of seconds");
        }
        let forget_after = parse_duration(&self.forget_after)
            .with_context(|| format!("--forget-after {}", self.forget_after))?;
        Ok(HubConfig {
            inputs,
            http: resolve_one(&self.http)?,
            output,
            max_connections,
            idle_timeout,
            record,
            access,
            http_idle_timeout: Duration::from_secs_f64(self.http_idle_timeout.min(1e9)),
            limits: HubLimits {
                max_cameras: self.max_cameras,
                max_viewers_per_camera: self.max_viewers_per_camera,
                max_viewers: self.max_viewers,
                // Offline first, forgotten later, even with a short --forget-after.
                offline_after: HubLimits::default().offline_after.min(forget_after / 2),
                forget_after,
            },
        })
    }
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
        let (max_payload, max_memory) = memory_limits(&self.max_payload, self.max_memory)?;
        let status = match self.status {
            StatusArg::Auto if std::io::stderr().is_terminal() => StatusMode::Live,
            StatusArg::Auto => StatusMode::Periodic(Duration::from_secs(2)),
            StatusArg::Live => StatusMode::Live,
            StatusArg::Lines => StatusMode::Periodic(Duration::from_secs(2)),
            StatusArg::Quiet => StatusMode::Quiet,
        };
        Ok(OutputConfig {
            out: self.out,
            count: self.count,
            max_payload,
            max_memory,
            status,
        })
    }
}

/// Checks `--broker`, `--topic` and `--share` of `recv mqtt`.
fn mqtt_config(
    broker: &str,
    topic: &str,
    share: Option<String>,
    output: OutputConfig,
) -> anyhow::Result<MqttConfig> {
    let (host, port) = match broker.rsplit_once(':') {
        Some((h, p)) => (
            h.trim_start_matches('[').trim_end_matches(']'),
            p.parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .with_context(|| format!("--broker {broker}: bad port"))?,
        ),
        None => (broker, 1883),
    };
    if host.is_empty() {
        bail!("--broker {broker}: expected HOST:PORT");
    }
    if topic.is_empty() || topic.starts_with("$share/") {
        bail!("--topic must be a non-empty filter (use --share GROUP for shared subscriptions)");
    }
    if let Some(g) = &share {
        if g.is_empty() || g.contains(['/', '+', '#']) {
            bail!("--share GROUP must be non-empty, without '/', '+' or '#'");
        }
    }
    Ok(MqttConfig {
        host: host.to_owned(),
        port,
        topic: topic.to_owned(),
        share,
        output,
    })
}

fn resolve_one(addr: &str) -> anyhow::Result<SocketAddr> {
    addr.to_socket_addrs()
        .with_context(|| format!("bad address {addr:?} (expected HOST:PORT)"))?
        .next()
        .with_context(|| format!("{addr} resolves to no address"))
}

/// [`parse_size`] for clap.
fn size_arg(text: &str) -> Result<u64, String> {
    parse_size(text).map_err(|e| format!("{e:#}"))
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
    fn hub_flags() {
        let Command::Hub(c) = parse(&[
            "hub",
            "--tcp",
            "127.0.0.1:0",
            "--udp",
            "127.0.0.1:0",
            "--mqtt",
            "b:1884",
            "--pull",
            "http://10.0.0.2:8080/stream",
            "--record",
            "r",
            "--keep-bytes",
            "2MiB",
            "--keep-age",
            "7d",
            "--token",
            "a-B_1.~",
        ])
        .unwrap() else {
            unreachable!()
        };
        assert_eq!(c.inputs.len(), 4);
        assert_eq!(c.http, "127.0.0.1:8080".parse().unwrap());
        let r = c.record.unwrap();
        assert_eq!((r.keep_bytes, r.keep_age.as_secs()), (2 << 20, 7 * 86_400));
        assert_eq!(c.access, Access::Token("a-B_1.~".into()));
        assert_eq!(c.limits, HubLimits::default());
        for bad in [
            &["hub"][..],
            &["hub", "--tcp", "127.0.0.1:0", "--token", "a&b"],
            &["hub", "--tcp", "127.0.0.1:0", "--auth", "nopass"],
            &[
                "hub",
                "--tcp",
                "127.0.0.1:0",
                "--auth",
                "a:b",
                "--token",
                "t",
            ],
            &["hub", "--tcp", "127.0.0.1:0", "--keep-bytes", "1"],
            &[
                "hub",
                "--tcp",
                "127.0.0.1:0",
                "--record",
                "r",
                "--keep-age",
                "3 weeks",
            ],
            &["hub", "--pull", "https://x/stream"],
            &["hub", "--tcp", "127.0.0.1:0", "--max-viewers", "0"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("10m").unwrap().as_secs(), 600);
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
        assert_eq!(c.output.max_memory, DEFAULT_MAX_MEMORY);
        assert_eq!(c.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(c.idle_timeout, DEFAULT_IDLE_TIMEOUT);
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
        assert!(
            parse(&[
                "recv",
                "udp",
                "--listen",
                "127.0.0.1:0",
                "--max-memory",
                "16MiB"
            ])
            .is_err(),
            "budget below twice the payload limit"
        );
        assert!(parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--max-connections",
            "0"
        ])
        .is_err());
        assert!(parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--idle-timeout",
            "0"
        ])
        .is_err());
    }

    #[test]
    fn broker_topic_and_share() {
        let output = || OutputConfig::quiet(1 << 20);
        let c = mqtt_config("127.0.0.1:1884", "img_stream/+/frame", None, output()).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 1884));
        assert_eq!(c.filter(), "img_stream/+/frame");
        let c = mqtt_config("broker", "a/#", Some("rx".into()), output()).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("broker", 1883));
        assert_eq!(c.filter(), "$share/rx/a/#");
        let c = mqtt_config("[::1]:1883", "t", None, output()).unwrap();
        assert_eq!(c.host, "::1");
        for (broker, topic, share) in [
            ("127.0.0.1:0", "t", None),
            ("127.0.0.1:x", "t", None),
            (":1883", "t", None),
            ("h:1", "", None),
            ("h:1", "$share/g/t", None),
            ("h:1", "t", Some("a/b")),
            ("h:1", "t", Some("")),
        ] {
            assert!(
                mqtt_config(broker, topic, share.map(Into::into), output()).is_err(),
                "{broker} {topic} {share:?}"
            );
        }
    }
}
