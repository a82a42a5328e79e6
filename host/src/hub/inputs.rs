//! The one adapter between the receivers and the hub: each input runs the
//! receiver's own loop (same decoders, limits and counters as `recv`) with
//! an [`Output`] whose [`Tap`] turns every kept frame into a hub [`Frame`].
//!
//! Camera ids: `<transport>-<source>-cam<N>`, where the source is the
//! receiver's camera name without the peer's port for TCP and UDP, so a
//! board that reconnects from a new port keeps its camera and tile.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;

use super::cameras::{Cameras, Frame};
use super::record::Recorder;
use crate::config::{HubConfig, HubInput, TcpConfig, TcpMode};
use crate::output::{Output, Tap};
use crate::status::{log, Stats};
use img_stream_core::jpeg::info;
use img_stream_core::pixel::PixelFormat;

use crate::store::{unix_now_us, FrameMeta};

fn transport(input: &HubInput) -> &'static str {
    match input {
        HubInput::TcpListen(_) | HubInput::TcpConnect(_) => "tcp",
        HubInput::Udp(_) => "udp",
        HubInput::Mqtt(_) => "mqtt",
        HubInput::Pull(_) => "pull",
    }
}

/// How an input is shown (`tcp 127.0.0.1:5000`).
pub fn label(input: &HubInput) -> String {
    match input {
        HubInput::TcpListen(a) => format!("tcp {a}"),
        HubInput::TcpConnect(a) => format!("tcp-connect {a}"),
        HubInput::Udp(a) => format!("udp {a}"),
        HubInput::Mqtt(c) => format!("mqtt {}:{} {}", c.host, c.port, c.filter()),
        HubInput::Pull(u) => format!("pull {u}"),
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
    // camera_name already bounds the length (store::MAX_SOURCE_NAME).
    format!("{transport}-{key}")
}

struct HubTap {
    transport: &'static str,
    input: String,
    stats: Arc<Stats>,
    cameras: Arc<Cameras>,
    recorder: Option<Arc<Recorder>>,
}

impl Tap for HubTap {
    fn frame(&self, camera: &str, meta: &FrameMeta, payload: &[u8], drops: u64) {
        if meta.format != PixelFormat::Jpeg.code() {
            // Viewers and recordings take JPEG only; still counted by `recv`.
            return;
        }
        let (width, height) = if meta.width == 0 {
            info::parse(payload).map_or((0, 0), |i| (i.width, i.height))
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

/// Starts `input` on its own threads, delivering into `cameras`, with the
/// receivers' limits from `config`.
pub fn start(
    input: &HubInput,
    config: &HubConfig,
    cameras: &Arc<Cameras>,
    recorder: Option<Arc<Recorder>>,
) -> anyhow::Result<()> {
    let stats = Stats::new();
    // Bind first, so the label names the real port.
    let (listener, socket) = match input {
        HubInput::TcpListen(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .with_context(|| format!("cannot listen on {addr}"))?;
            // Tests and scripts read the real port from this exact line.
            log(format_args!("hub: tcp on {}", l.local_addr()?));
            (Some(l), None)
        }
        HubInput::Udp(addr) => {
            let s = crate::recv_udp::bind(*addr)?;
            log(format_args!("hub: udp on {}", s.local_addr()?));
            (None, Some(s))
        }
        _ => (None, None),
    };
    let label = match (&listener, &socket) {
        (Some(l), _) => label(&HubInput::TcpListen(l.local_addr()?)),
        (_, Some(s)) => label(&HubInput::Udp(s.local_addr()?)),
        _ => label(input),
    };
    cameras.metrics.add_input(&label, stats.clone());
    let tap = Arc::new(HubTap {
        transport: transport(input),
        input: label.clone(),
        stats: stats.clone(),
        cameras: cameras.clone(),
        recorder,
    });
    // Message transports reorder a little; a TCP stream does not.
    let window = if matches!(input, HubInput::Udp(_) | HubInput::Mqtt(_)) {
        16
    } else {
        0
    };
    let (output, _stops) = Output::new(&config.output, stats, window)?;
    let output = Arc::new(output.with_tap(tap));
    let max_payload = config.output.max_payload;
    // The hub runs until the process ends: inputs never stop on their own.
    let never = || AtomicBool::new(false);
    let tcp = |mode| TcpConfig {
        mode,
        max_connections: config.max_connections,
        idle_timeout: config.idle_timeout,
        output: config.output.clone(),
    };
    let failed =
        move |label: String| move |e: anyhow::Error| log(format_args!("hub: {label} ended: {e:#}"));
    match (input.clone(), listener, socket) {
        (HubInput::TcpListen(addr), Some(listener), _) => {
            let tcp = tcp(TcpMode::Listen(addr));
            let failed = failed(label);
            std::thread::spawn(move || {
                crate::recv_tcp::serve_listener(listener, &output, &tcp, &never(), || {})
                    .unwrap_or_else(failed)
            });
        }
        (HubInput::TcpConnect(addr), _, _) => {
            std::thread::spawn(move || {
                crate::recv_tcp::connect_loop(&addr, &output, max_payload, &never())
            });
        }
        (HubInput::Udp(_), _, Some(socket)) => {
            let failed = failed(label);
            std::thread::spawn(move || {
                crate::recv_udp::receive(&socket, &output, max_payload, &never())
                    .unwrap_or_else(failed)
            });
        }
        (HubInput::Mqtt(mqtt), _, _) => {
            let failed = failed(label);
            std::thread::spawn(move || {
                crate::recv_mqtt::receive(&mqtt, &output, &never()).unwrap_or_else(failed)
            });
        }
        (HubInput::Pull(url), _, _) => {
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
    }
}
