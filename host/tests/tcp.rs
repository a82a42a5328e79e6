//! `img-stream recv tcp` end to end: the real binary, real sockets on
//! 127.0.0.1, frames built with the core's own header code.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use img_stream_core::crc32::crc32;
use img_stream_core::framing::{FrameHeaderRepr, HEADER_LEN};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_img-stream");
/// Generous: only reached when something is broken.
const DEADLINE: Duration = Duration::from_secs(60);

fn frame(seq: u32, camera_id: u16, payload: &[u8]) -> Vec<u8> {
    let repr = FrameHeaderRepr::jpeg(
        seq,
        1_000_000 + u64::from(seq),
        320,
        240,
        camera_id,
        payload,
    );
    let mut out = vec![0; HEADER_LEN];
    repr.emit(&mut out);
    out.extend_from_slice(payload);
    out
}

/// A JPEG-looking payload unique to (camera, seq).
fn payload(camera_id: u16, seq: u32, len: usize) -> Vec<u8> {
    let mut p = vec![0xFF, 0xD8];
    p.extend((0..len).map(|i| (i as u32 ^ seq.wrapping_mul(7) ^ u32::from(camera_id) << 4) as u8));
    p.extend([0xFF, 0xD9]);
    p
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("img-stream-tcp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A running receiver; killed on drop if a test fails half way.
struct Receiver {
    child: Child,
    stderr: BufReader<ChildStderr>,
    early: Vec<String>,
}

impl Receiver {
    /// A receiver listening on a free 127.0.0.1 port, writing into `dir`.
    fn listen_into(dir: &Path, args: &[&str]) -> Receiver {
        let out = dir.to_str().unwrap();
        Receiver::start(&[&["--listen", "127.0.0.1:0", "--out", out], args].concat())
    }

    fn start(args: &[&str]) -> Receiver {
        let mut child = Command::new(BIN)
            .args(["recv", "tcp"])
            .args(args)
            .args(["--status", "quiet"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("img-stream starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        Receiver {
            child,
            stderr,
            early: Vec::new(),
        }
    }

    /// Reads stderr up to the `listening on ADDR` line.
    fn listening_addr(&mut self) -> SocketAddr {
        loop {
            let mut line = String::new();
            assert!(
                self.stderr.read_line(&mut line).unwrap() > 0,
                "receiver exited before listening: {:?}",
                self.early
            );
            if let Some(addr) = line.trim_end().strip_prefix("listening on ") {
                return addr.parse().expect("a socket address");
            }
            self.early.push(line);
        }
    }

    /// Waits for the exit; returns the status and all of stderr.
    fn wait(mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > DEADLINE {
                let _ = self.child.kill();
                panic!("receiver did not exit within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut rest = self.early.concat();
        self.stderr.read_to_string(&mut rest).unwrap();
        (status, rest)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn jsonl(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("frames.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The number after `name` in the summary line.
fn summary_count(stderr: &str, name: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary line in {stderr:?}"));
    line.split(" | ")
        .find_map(|f| {
            f.trim_start_matches("summary: ")
                .strip_prefix(&format!("{name} "))
        })
        .map_or(0, |n| n.parse().unwrap())
}

#[test]
fn many_boards_at_once() {
    let dir = temp_dir("many");
    let (boards, per_board) = (8u16, 6u32);
    let total = u32::from(boards) * per_board;
    let mut rx = Receiver::listen_into(&dir, &["--count", &total.to_string()]);
    let addr = rx.listening_addr();
    // All boards connect before any sends, so the connections overlap.
    let socks: Vec<TcpStream> = (0..boards)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let locals: Vec<SocketAddr> = socks.iter().map(|s| s.local_addr().unwrap()).collect();
    let senders: Vec<_> = socks
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            std::thread::spawn(move || {
                let cam = i as u16;
                for seq in 0..per_board {
                    let p = payload(cam, seq, 1000 + 997 * seq as usize);
                    // Split writes so frames cross read boundaries.
                    let f = frame(seq, cam, &p);
                    let (a, b) = f.split_at(f.len() / 3);
                    s.write_all(a).unwrap();
                    s.write_all(b).unwrap();
                }
                s
            })
        })
        .collect();
    let (status, stderr) = rx.wait();
    let socks: Vec<TcpStream> = senders.into_iter().map(|t| t.join().unwrap()).collect();
    drop(socks);
    assert!(status.success(), "{stderr}");
    let lines = jsonl(&dir);
    assert_eq!(lines.len(), total as usize);
    let cameras: BTreeSet<&str> = lines
        .iter()
        .map(|l| l["camera"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<String> = locals
        .iter()
        .enumerate()
        .map(|(i, a)| format!("127.0.0.1_{}-cam{i}", a.port()))
        .collect();
    assert_eq!(cameras, expected.iter().map(String::as_str).collect());
    for l in &lines {
        let cam: u16 = l["camera"]
            .as_str()
            .unwrap()
            .rsplit("-cam")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let seq = l["seq"].as_u64().unwrap() as u32;
        let want = payload(cam, seq, 1000 + 997 * seq as usize);
        assert_eq!(
            std::fs::read(dir.join(l["file"].as_str().unwrap())).unwrap(),
            want
        );
        assert_eq!(l["size"].as_u64().unwrap(), want.len() as u64);
        assert_eq!(
            l["timestamp_us"].as_u64().unwrap(),
            1_000_000 + u64::from(seq)
        );
        assert_eq!(
            (l["width"].as_u64(), l["height"].as_u64()),
            (Some(320), Some(240))
        );
        assert_eq!(l["crc_ok"], true);
        assert_eq!(l["format"], 9);
        assert_eq!(
            l["file"].as_str().unwrap(),
            format!("{}/{seq:010}.jpg", l["camera"].as_str().unwrap())
        );
    }
    // Per camera, every seq once, in order in the index.
    let mut per_cam: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for l in &lines {
        per_cam
            .entry(l["camera"].as_str().unwrap())
            .or_default()
            .push(l["seq"].as_u64().unwrap());
    }
    for seqs in per_cam.values() {
        assert_eq!(*seqs, (0..u64::from(per_board)).collect::<Vec<_>>());
    }
    assert_eq!(summary_count(&stderr, "frames"), u64::from(total));
    assert_eq!(summary_count(&stderr, "drops"), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_frames_are_counted_and_never_written() {
    let dir = temp_dir("corrupt");
    let mut rx = Receiver::listen_into(&dir, &["--count", "3", "--max-payload", "4096"]);
    let mut s = TcpStream::connect(rx.listening_addr()).unwrap();
    let mut stream = b"\x00\x01garbage IMG IMGS before the first frame".to_vec();
    stream.extend(frame(1, 0, &payload(0, 1, 500)));
    // Payload bit flip: a CRC error.
    let mut bad = frame(2, 0, &payload(0, 2, 500));
    bad[HEADER_LEN + 100] ^= 0x10;
    stream.extend(&bad);
    // Header bit flip: a bad header, then resync.
    let mut bad_header = frame(3, 0, &payload(0, 3, 500));
    bad_header[9] ^= 0x01;
    stream.extend(&bad_header);
    // Over --max-payload: refused.
    stream.extend(frame(4, 0, &payload(0, 4, 5000)));
    stream.extend(b"more garbage");
    stream.extend(frame(5, 0, &payload(0, 5, 500)));
    // A header claiming nearly 4 GiB: refused, nothing allocated.
    let mut huge = frame(6, 0, &[]);
    let repr = FrameHeaderRepr {
        payload_len: u32::MAX - 64,
        ..FrameHeaderRepr::parse(&huge).unwrap()
    };
    repr.emit(&mut huge);
    stream.extend(&huge);
    stream.extend(frame(7, 0, &payload(0, 7, 500)));
    s.write_all(&stream).unwrap();
    let (status, stderr) = rx.wait();
    assert!(status.success(), "{stderr}");
    let seqs: Vec<u64> = jsonl(&dir)
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 5, 7]);
    let cam = format!("127.0.0.1_{}-cam0", s.local_addr().unwrap().port());
    let mut files: Vec<_> = std::fs::read_dir(dir.join(&cam))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["0000000001.jpg", "0000000005.jpg", "0000000007.jpg"]
    );
    assert_eq!(summary_count(&stderr, "crc errors"), 1);
    // The flipped header, and the fake "IMGS" in the leading garbage.
    assert_eq!(summary_count(&stderr, "bad headers"), 2);
    assert_eq!(summary_count(&stderr, "oversize"), 2);
    assert_eq!(
        summary_count(&stderr, "drops"),
        4,
        "seq 2, 3, 4 and 6 missing"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn count_stops_while_the_board_keeps_sending() {
    let dir = temp_dir("count");
    let mut rx = Receiver::listen_into(&dir, &["--count", "3"]);
    let mut s = TcpStream::connect(rx.listening_addr()).unwrap();
    for seq in 0..10 {
        s.write_all(&frame(seq, 2, &payload(2, seq, 300))).unwrap();
    }
    let (status, stderr) = rx.wait();
    assert!(status.success(), "{stderr}");
    assert_eq!(jsonl(&dir).len(), 3);
    assert_eq!(summary_count(&stderr, "frames"), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_connection_then_a_new_one() {
    let mut rx = Receiver::start(&["--listen", "127.0.0.1:0", "--count", "2"]);
    let addr = rx.listening_addr();
    let f = frame(1, 0, &payload(0, 1, 2000));
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&f).unwrap();
        // Half a frame, then the board goes away.
        s.write_all(&frame(2, 0, &payload(0, 2, 2000))[..1000])
            .unwrap();
    }
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&frame(3, 0, &payload(0, 3, 10))).unwrap();
    let (status, stderr) = rx.wait();
    assert!(status.success(), "{stderr}");
    assert_eq!(summary_count(&stderr, "frames"), 2);
    assert_eq!(summary_count(&stderr, "connections"), 2);
    // The first connection's end may be seen after the count is reached
    // (threads are independent), so the truncation is counted 0 or 1 times
    // here; the decoder's own tests pin it down.
    assert!(summary_count(&stderr, "truncated") <= 1);
}

#[test]
fn connect_mode_reconnects_when_the_board_restarts() {
    let dir = temp_dir("connect");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let rx = Receiver::start(&[
        "--connect",
        &addr.to_string(),
        "--out",
        dir.to_str().unwrap(),
        "--count",
        "4",
    ]);
    // First life of the board: two frames, then it closes and stops listening.
    let (mut s, _) = listener.accept().unwrap();
    s.write_all(&frame(0, 1, &payload(1, 0, 100))).unwrap();
    s.write_all(&frame(1, 1, &payload(1, 1, 100))).unwrap();
    drop(s);
    drop(listener);
    // Second life on the same port; the receiver's backoff finds it.
    let listener = TcpListener::bind(addr).unwrap();
    let (mut s, _) = listener.accept().unwrap();
    s.write_all(&frame(0, 1, &payload(1, 100, 100))).unwrap();
    s.write_all(&frame(1, 1, &payload(1, 101, 100))).unwrap();
    let (status, stderr) = rx.wait();
    assert!(status.success(), "{stderr}");
    assert_eq!(stderr.matches("connected to ").count(), 2, "{stderr}");
    let lines = jsonl(&dir);
    assert_eq!(lines.len(), 4);
    let cam = format!("127.0.0.1_{}-cam1", addr.port());
    assert!(lines.iter().all(|l| l["camera"] == cam.as_str()));
    // The restarted board reused seq 0 and 1: nothing is overwritten, the
    // newer frames go beside the first ones under <seq>-<payload crc>.
    let first = std::fs::read(dir.join(&cam).join("0000000001.jpg")).unwrap();
    assert_eq!(first, payload(1, 1, 100));
    let crc = crc32(&payload(1, 101, 100));
    let newest = std::fs::read(dir.join(&cam).join(format!("0000000001-{crc:08x}.jpg"))).unwrap();
    assert_eq!(newest, payload(1, 101, 100));
    assert_eq!(
        summary_count(&stderr, "drops"),
        0,
        "a restart is not a loss"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_exit_2_and_help_exits_0() {
    let run = |args: &[&str]| Command::new(BIN).args(args).output().unwrap();
    let out = run(&["recv", "tcp"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["recv", "tcp", "--listen", "127.0.0.1:0", "--count", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--count"));
    let out = run(&["recv", "tcp", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--max-payload"));
    // A port already taken is an error, not a hang.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = run(&[
        "recv",
        "tcp",
        "--listen",
        &taken.local_addr().unwrap().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}

#[cfg(unix)]
#[test]
fn sigterm_prints_the_summary_and_exits_0() {
    let mut rx = Receiver::start(&["--listen", "127.0.0.1:0"]);
    let mut s = TcpStream::connect(rx.listening_addr()).unwrap();
    s.write_all(&frame(1, 0, &payload(0, 1, 10))).unwrap();
    let pid = rx.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let (status, stderr) = rx.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("summary: frames "), "{stderr}");
}

#[test]
fn a_write_failure_ends_the_run_with_status_2() {
    let dir = temp_dir("fatal");
    let mut rx = Receiver::listen_into(&dir, &[]);
    let mut s = TcpStream::connect(rx.listening_addr()).unwrap();
    // A plain file where the camera's folder must go.
    let cam = format!("127.0.0.1_{}-cam0", s.local_addr().unwrap().port());
    std::fs::write(dir.join(&cam), b"in the way").unwrap();
    s.write_all(&frame(1, 0, &payload(0, 1, 10))).unwrap();
    let (status, stderr) = rx.wait();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("img-stream: writing a frame to"),
        "{stderr}"
    );
    assert!(
        stderr.contains("summary: "),
        "the summary still comes first"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
