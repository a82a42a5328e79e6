//! The one adapter between the receivers and the hub: each input runs the
//! receiver's own loop (same decoders, limits and counters as `recv`) with
//! an [`Output`] whose [`Tap`] turns every kept frame into a hub [`Frame`].
//!
//! Camera ids: `<transport>-<source>-cam<N>`, where the source is the
//! receiver's camera name without the peer's port for TCP and UDP, so a
//! board that reconnects from a new port keeps its camera and tile.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;

use super::cameras::{Cameras, Frame};
use super::record::Recorder;
use crate::flags::OutputConfig;
use crate::output::{Output, Tap};
use crate::recv_mqtt::MqttConfig;
use crate::status::{Stats, StatusMode};
use crate::store::{jpeg_dimensions, unix_now_us, FrameMeta, FORMAT_JPEG};

/// One `hub` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// `--tcp ADDR`: accept boards.
    TcpListen(SocketAddr),
    /// `--tcp-connect HOST:PORT`: connect to a board.
    TcpConnect(String),
    /// `--udp ADDR`.
    Udp(SocketAddr),
    /// `--mqtt HOST:PORT --topic FILTER [--share GROUP]`.
    Mqtt(MqttConfig),
    /// `--pull URL`: a board's MjpegServer `/stream`.
    Pull(String),
}

impl Input {
    fn transport(&self) -> &'static str {
        match self {
            Input::TcpListen(_) | Input::TcpConnect(_) => "tcp",
            Input::Udp(_) => "udp",
            Input::Mqtt(_) => "mqtt",
            Input::Pull(_) => "pull",
        }
    }

    /// How the input is shown (`tcp 127.0.0.1:5000`).
    pub fn label(&self) -> String {
        match self {
            Input::TcpListen(a) => format!("tcp {a}"),
            Input::TcpConnect(a) => format!("tcp-connect {a}"),
            Input::Udp(a) => format!("udp {a}"),
            Input::Mqtt(c) => format!("mqtt {}:{} {}", c.host, c.port, c.filter()),
            Input::Pull(u) => format!("pull {u}"),
        }
    }
}

/// The hub's camera id for a receiver's camera name (`store::camera_name`).
///
/// For peer addresses (`127.0.0.1:54321` names `127.0.0.1_54321-cam0`) the
/// port is dropped: it changes on every reconnection.
pub fn camera_id(transport: &str, camera: &str) -> String {
    let key = match transport {
        "tcp" | "udp" => match camera.rsplit_once("-cam") {
            Some((source, cam)) => match source.rsplit_once('_') {
                Some((host, port))
                    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    format!("{host}-cam{cam}")
                }
                _ => camera.to_owned(),
            },
            None => camera.to_owned(),
        },
        _ => camera.to_owned(),
    };
    let id = format!("{transport}-{key}");
    if id.len() <= MAX_ID {
        return id;
    }
    // Long topics: cut, and keep ids unique with a hash of the whole.
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!("{}-{hash:016x}", &id[..MAX_ID - 17])
}

/// Longest camera id: it is a URL path segment and a directory name.
const MAX_ID: usize = 96;

struct HubTap {
    transport: &'static str,
    input: String,
    stats: Arc<Stats>,
    cameras: Arc<Cameras>,
    recorder: Option<Arc<Recorder>>,
}

impl Tap for HubTap {
    fn frame(&self, camera: &str, meta: &FrameMeta, payload: &[u8], drops: u64) {
        if meta.format != FORMAT_JPEG {
            // Viewers and recordings take JPEG only; still counted by `recv`.
            return;
        }
        let (width, height) = if meta.width == 0 {
            jpeg_dimensions(payload).unwrap_or((0, 0))
        } else {
            (meta.width, meta.height)
        };
        let id = camera_id(self.transport, camera);
        // The one copy: from here on the bytes are shared, never copied.
        let frame = Frame {
            jpeg: Bytes::copy_from_slice(payload),
            seq: meta.seq,
            width,
            height,
            received: Instant::now(),
            received_unix_us: unix_now_us(),
        };
        let jpeg = frame.jpeg.clone();
        if self
            .cameras
            .publish(&id, &self.input, &self.stats, frame, drops)
        {
            if let Some(r) = &self.recorder {
                r.offer(&id, jpeg, meta.seq);
            }
        }
    }
}

/// Starts `input` on its own threads, delivering into `cameras`.
pub fn start(
    input: &Input,
    max_payload: u32,
    cameras: &Arc<Cameras>,
    recorder: Option<Arc<Recorder>>,
) -> anyhow::Result<()> {
    let stats = Stats::new();
    // Bind first, so the label names the real port.
    let (listener, socket) = match input {
        Input::TcpListen(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .with_context(|| format!("cannot listen on {addr}"))?;
            // Tests and scripts read the real port from this exact line.
            crate::status::log(format_args!("hub: tcp on {}", l.local_addr()?));
            (Some(l), None)
        }
        Input::Udp(addr) => {
            let s = crate::recv_udp::bind(*addr)?;
            crate::status::log(format_args!("hub: udp on {}", s.local_addr()?));
            (None, Some(s))
        }
        _ => (None, None),
    };
    let label = match (&listener, &socket) {
        (Some(l), _) => Input::TcpListen(l.local_addr()?).label(),
        (_, Some(s)) => Input::Udp(s.local_addr()?).label(),
        _ => input.label(),
    };
    cameras.metrics.add_input(&label, stats.clone());
    let config = OutputConfig {
        out: None,
        count: None,
        max_payload,
        status: StatusMode::Quiet,
    };
    let tap = Arc::new(HubTap {
        transport: input.transport(),
        input: label.clone(),
        stats: stats.clone(),
        cameras: cameras.clone(),
        recorder,
    });
    // Message transports reorder a little; a TCP stream does not.
    let window = if matches!(input, Input::Udp(_) | Input::Mqtt(_)) {
        16
    } else {
        0
    };
    let (output, _stops) = Output::new(&config, stats, window)?;
    let output = Arc::new(output.with_tap(tap));
    match (input.clone(), listener, socket) {
        (Input::TcpListen(_), Some(listener), _) => {
            std::thread::spawn(move || crate::recv_tcp::accept_loop(listener, output, max_payload));
        }
        (Input::TcpConnect(addr), _, _) => {
            std::thread::spawn(move || crate::recv_tcp::connect_loop(&addr, &output, max_payload));
        }
        (Input::Udp(_), _, Some(socket)) => {
            std::thread::spawn(move || {
                let never = AtomicBool::new(false);
                if let Err(e) = crate::recv_udp::receive(&socket, &output, max_payload, &never) {
                    crate::status::log(format_args!("hub: udp input ended: {e:#}"));
                }
            });
        }
        (Input::Mqtt(config), _, _) => {
            std::thread::spawn(move || {
                if let Err(e) = crate::recv_mqtt::receive(&config, &output) {
                    crate::status::log(format_args!("hub: {label} ended: {e:#}"));
                }
            });
        }
        (Input::Pull(url), _, _) => {
            std::thread::spawn(move || super::pull::run(&url, &output, max_payload));
        }
        _ => unreachable!("listeners are bound above"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::camera_name;

    #[test]
    fn ids_drop_the_peer_port_only() {
        let tcp = camera_name("127.0.0.1:54321", 2);
        assert_eq!(camera_id("tcp", &tcp), "tcp-127.0.0.1-cam2");
        assert_eq!(
            camera_id("udp", &camera_name("[::1]:5000", 0)),
            "udp-__1-cam0"
        );
        // A topic ending in digits keeps them.
        let topic = camera_name("img_stream/cam_5/frame_7", 0);
        assert_eq!(
            camera_id("mqtt", &topic),
            "mqtt-img_stream_cam_5_frame_7-cam0"
        );
        let long = camera_id("mqtt", &camera_name(&"t".repeat(500), 0));
        assert_eq!(long.len(), MAX_ID);
        assert_ne!(long, camera_id("mqtt", &camera_name(&"t".repeat(501), 0)));
    }
}
