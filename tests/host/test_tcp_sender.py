"""TcpSender on the unix port through a throttled link into the real
`img-stream` receiver: the camera loop keeps its rate, every frame arrives
intact, and no queue builds up, while plain send_tcp over the same link
blocks the loop and lags. The link is a relay on 127.0.0.1 that forwards
at most `rate` bytes/s and holds little in its own socket buffer, as a slow
radio link would."""
import json
import os
import socket
import struct
import sys
import threading
import time

import pytest

from conftest import ROOT, run_micropython
from receiver import Receiver, frames_jsonl, wait_for

sys.path.insert(0, str(ROOT / "python"))
from img_stream_proto import HEADER_LEN  # noqa: E402  (the generated protocol constants)

# Under emulation (IMG_STREAM_TIME_SCALE, e.g. qemu) the camera runs slower
# and the link with it: the ratios the test checks do not depend on the rate.
SCALE = float(os.environ.get("IMG_STREAM_TIME_SCALE", "1"))
FPS = 25 / SCALE
INTERVAL_S = 1 / FPS
RUN = 75 if SCALE == 1 else 20  # frames per camera run
WIDTH, HEIGHT, QUALITY = 640, 480, 95  # ~30 KB frames
# The relay's receive buffer: the link's own buffering (Linux doubles it),
# with Ethernet-sized segments: loopback's 64 KiB segments would not fit such
# a window, and TCP would stall on it.
LINK_RCVBUF = 8192
LINK_MSS = 1460
# TcpSender's bound on the kernel's send queue: about what the link carries
# in one frame interval (Linux doubles it, bookkeeping included).
SNDBUF = 4096

CAMERA = """
import sys, json, socket, time, img_stream
from synthetic_camera import SyntheticCamera
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n, interval, w, h, q, sndbuf = [int(a) for a in sys.argv[4:10]]
cam = SyntheticCamera(w, h, img_stream.NV12)
s = socket.socket()
s.connect(socket.getaddrinfo(host, port)[0][-1])
tx = img_stream.TcpSender(s, sndbuf=sndbuf) if mode == "sender" else None
if not tx and sndbuf:
    s.setsockopt(1, 7, sndbuf)  # Linux SOL_SOCKET, SO_SNDBUF (not in the unix port's socket module)
start = time.ticks_us()
due = start
for i in range(n):
    # The sensor's frame clock: a frame is ready every interval; a loop that
    # is late takes the current one (a camera does not queue frames).
    late = time.ticks_diff(time.ticks_us(), due)
    if late < 0:
        time.sleep_us(-late)
    elif late > interval:
        due = time.ticks_us()
    due = time.ticks_add(due, interval)
    img = cam.snapshot()
    if tx:
        tx.send(img, quality=q)
    else:
        img_stream.send_tcp(s, img, quality=q)
elapsed = time.ticks_diff(time.ticks_us(), start)
stats = tx.stats() if tx else {}
if tx:
    import select
    p = select.poll()
    p.register(s, select.POLLOUT)
    while tx.pump():
        p.poll(100)  # the last frame finishes; wait for room, not a fixed time
s.close()
print(json.dumps({"loop_fps": n * 1e6 / elapsed, "stats": stats, "sent": stats.get("sent", n)}))
"""


class Relay:
    """Accepts the board, connects to the receiver, forwards at most `rate`
    bytes/s, and notes when the last byte of each
    frame went through (the frames are parsed from the forwarded stream)."""

    def __init__(self, downstream_port, rate):
        self.rate = rate
        self.down_port = downstream_port
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, LINK_RCVBUF)
        self.srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, LINK_MSS)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.buffer = 0
        self.arrivals = []  # (seq, timestamp_us, arrival_us, frame length)
        self.forwarded = 0
        self.error = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            up, _ = self.srv.accept()
            # What the link may hold (as Linux reports it: bookkeeping
            # included, so more than the data it holds).
            self.buffer = up.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            down = socket.create_connection(("127.0.0.1", self.down_port))
            with up, down:
                self._forward(up, down)
        except Exception as e:  # reported by the test
            self.error = e

    def _forward(self, up, down):
        pending = bytearray()  # bytes of the frame being parsed
        budget, last = 0.0, time.monotonic()
        while True:
            now = time.monotonic()
            budget = min(budget + (now - last) * self.rate, 4096)
            last = now
            if budget < 512:
                time.sleep((512 - budget) / self.rate)  # the link's pace
                continue
            want = int(budget)
            data = up.recv(want)
            if not data:
                return
            budget -= len(data)
            down.sendall(data)
            self.forwarded += len(data)
            pending += data
            self._frames(pending)

    def _frames(self, pending):
        while len(pending) >= HEADER_LEN:
            seq, ts = struct.unpack_from("<IQ", pending, 8)
            (plen,) = struct.unpack_from("<I", pending, 28)
            if len(pending) < HEADER_LEN + plen:
                return
            self.arrivals.append((seq, ts, time.monotonic_ns() // 1000, HEADER_LEN + plen))
            del pending[:HEADER_LEN + plen]

    def close(self):
        self.srv.close()
        self.t.join(30)


def run(tmp_path, mode, n, rate, sndbuf=SNDBUF):
    """One camera run through a relay at `rate`; returns the camera's report,
    the relay, the receiver's frames and its CRC error count."""
    out = tmp_path / f"{mode}-{rate}"
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--out", out, "--status", "lines")
    relay = None
    try:
        # Unthrottled, the camera talks to the receiver directly: the
        # baseline must not depend on how fast a Python relay runs.
        relay = Relay(rx.port(), rate) if rate else None
        port = relay.port if relay else rx.port()
        p = run_micropython(CAMERA, "127.0.0.1", port, mode, n, int(INTERVAL_S * 1e6), WIDTH, HEIGHT,
                            QUALITY, sndbuf, timeout=120 * SCALE)
        report = json.loads(p.stdout.strip().splitlines()[-1])
        if relay:
            relay.close()
            assert relay.error is None, relay.error
        arrived = len(relay.arrivals) if relay else report["sent"]
        wait_for(lambda: (out / "frames.jsonl").exists() and len(frames_jsonl(out)) == arrived,
                 timeout=30 * SCALE, what="the receiver to store every forwarded frame")
    finally:
        rx.stop()
    return report, relay, frames_jsonl(out), rx.stat("crc errors")


def beyond_link(relay, rate):
    """Each frame's capture->arrival delay minus the link's own delay: the
    time to carry the frame and to drain the link's buffer. The first frame
    is left out: it waits for the connection's slow start."""
    return [(arr - ts) / 1e6 - (length + relay.buffer) / rate
            for _, ts, arr, length in relay.arrivals[1:]]


def test_latest_frame_wins_against_send_tcp_on_a_slow_link(tmp_path):
    n = RUN  # 3 s of camera
    # The baseline: no link limit.
    free, _, rows, crc = run(tmp_path, "sender", n, None)
    assert crc == 0
    if SCALE > 1 and free["loop_fps"] < 0.8 * FPS:
        # The claims are about a loop that keeps the camera's frame clock; an
        # emulated one that cannot (qemu on a loaded machine) would measure
        # the emulator: TcpSender pushes its frame only when called.
        pytest.skip("the camera loop runs at %.2f of %.2f fps unthrottled" % (free["loop_fps"], FPS))
    frame_bytes = HEADER_LEN + sum(r["size"] for r in rows) / len(rows)
    # A link that carries a quarter of the stream.
    rate = frame_bytes * FPS / 4
    slow, link, rows, crc = run(tmp_path, "sender", n, rate)
    extra = beyond_link(link, rate)
    print("TcpSender loop fps: unthrottled", free["loop_fps"], "throttled", slow["loop_fps"], slow["stats"])
    print("delay beyond the link's own, s:", [round(d, 3) for d in extra])
    assert slow["loop_fps"] >= 0.9 * free["loop_fps"], (slow["loop_fps"], free["loop_fps"])
    # Every frame the receiver got is whole: CRCs verified, none refused,
    # and the receiver stored each one the relay saw go through.
    assert crc == 0
    assert len(rows) == len(link.arrivals) >= n // 8, (len(rows), len(link.arrivals))
    assert all(r["crc_ok"] for r in rows)
    seqs = [a[0] for a in link.arrivals]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "frames lost or reordered"
    assert slow["stats"]["skipped"] > n // 2, slow["stats"]
    # No queue: beyond the link's own delay, a frame waits at most two frame
    # intervals (one for the frame before it to finish, one for the camera).
    assert max(extra) < 2 * INTERVAL_S, max(extra)

    # The comparison: plain send_tcp over the same link, with the same bound
    # on the kernel's queue, waits for the link: the loop drops to its pace.
    m = RUN // 3
    blocking, link, rows, crc = run(tmp_path, "send_tcp", m, rate)
    extra = beyond_link(link, rate)
    print("send_tcp loop fps, throttled", blocking["loop_fps"])
    print("send_tcp delay beyond the link's own, s:", [round(d, 3) for d in extra])
    assert crc == 0 and len(rows) == m
    assert blocking["loop_fps"] < 0.5 * slow["loop_fps"], (blocking["loop_fps"], slow["loop_fps"])


def test_without_a_send_buffer_bound_the_kernel_queues(tmp_path):
    """Why TcpSender sets SO_SNDBUF: with the kernel's default (sndbuf=0
    leaves it alone) Linux grows the send buffer, the sender's one frame in
    flight is "out" as soon as the kernel took it, and seconds of frames
    queue below the application."""
    n = RUN * 2 // 3
    rate = 31_000 * FPS / 4  # about a quarter of the stream (~31 KB frames)
    report, link, rows, crc = run(tmp_path, "sender", n, rate, sndbuf=0)
    extra = beyond_link(link, rate)
    print("sndbuf=0: delay beyond the link's own, s:", [round(d, 3) for d in extra])
    assert report["stats"]["sndbuf"] is None and crc == 0
    assert max(extra) > 10 * INTERVAL_S, max(extra)


def test_k230_example_streams_the_newest_frames(tmp_path, micropython):
    """python/examples/k230/stream_latest.py on the unix port (media.sensor
    emulated): every frame it reports sent reaches the receiver whole."""
    k230 = ROOT / "python" / "examples" / "k230"
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--out", tmp_path, "--status", "lines")
    try:
        p = run_micropython(k230 / "stream_latest.py", "127.0.0.1", rx.port(), 30, cwd=k230,
                            timeout=120 * SCALE)
        sent, skipped = map(int, p.stdout.split("sent ")[-1].split(" skipped "))
        assert sent + skipped == 30 and sent >= 1, p.stdout
        wait_for(lambda: (tmp_path / "frames.jsonl").exists() and len(frames_jsonl(tmp_path)) == sent,
                 what="the receiver to store every frame sent")
    finally:
        rx.stop()
    assert rx.stat("crc errors") == 0
    assert all(r["crc_ok"] and (r["width"], r["height"]) == (640, 480) for r in frames_jsonl(tmp_path))
