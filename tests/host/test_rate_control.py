"""RateControl end to end (issue 15 point 1) and one encode for many
transports (point 4): the unix port sends over real loopback sockets, a
real Mosquitto and its own MjpegServer; CPython counts what arrives."""
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

import rawframes
from conftest import MICROPYPATH, MICROPYTHON, ROOT, free_port, run_micropython
from mosquitto import Broker
from receiver import wait_for

sys.path.insert(0, str(ROOT / "python"))
import img_stream_proto  # noqa: E402

# The fan-out test runs umqtt on the board.
pytestmark = pytest.mark.usefixtures("umqtt")

W, H = 320, 240


class Sink:
    """A TCP receiver on 127.0.0.1: every recv's arrival time and size, and
    the payload size of every verified frame."""

    def __init__(self):
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.port = self.srv.getsockname()[1]
        self.arrivals = []  # (monotonic s, bytes)
        self.frames = []  # JPEG bytes of each frame
        self.decoder = img_stream_proto.StreamDecoder()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        conn, _ = self.srv.accept()
        with conn:
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    break
                self.arrivals.append((time.monotonic(), len(data)))
                self.frames += [f.payload for f in self.decoder.feed(data)]

    def join(self):
        self.t.join(60)
        assert not self.t.is_alive()
        assert self.decoder.crc_errors == self.decoder.bad_headers == 0


def photo_sequence(path, per_photo=20):
    """Raw RGB888 frames panning slowly over three photographs: two scene
    cuts. Returns the frame count."""
    frames = []
    for name in ("coffee", "chelsea", "astronaut"):
        big = rawframes.photo(name, W + 2 * per_photo, H + per_photo)
        for i in range(per_photo):
            frames.append(np.ascontiguousarray(big[i:i + H, 2 * i:2 * i + W]).tobytes())
    path.write_bytes(b"".join(frames))
    return len(frames)


SENDER = """
import sys, time, socket, img_stream
from synthetic_camera import SyntheticCamera
W, H = 320, 240
path, port, n, target, kbps, fps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \\
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
if path == "synthetic":
    # Scene cuts: each scene holds one phase of the sliding pattern (and a
    # format) for 15 frames; the phases differ by up to 1.7x in JPEG size.
    cams = [SyntheticCamera(W, H, img_stream.NV12), SyntheticCamera(W, H, img_stream.RGB888)]
    scenes = [(0, 1), (0, 0), (1, 3), (0, 2), (1, 0)]
    def frame(i):
        c, phase = scenes[i // 15 % len(scenes)]
        cam = cams[c]
        while cam.count % 8 != phase:
            cam.snapshot()
        img = cam.snapshot()
        for _ in range(7):
            cam.snapshot()  # back to the same phase: a slowly moving scene
        return img
else:
    data = bytearray(open(path, "rb").read())
    mv = memoryview(data)
    size = W * H * 3
    def frame(i):
        return img_stream.Frame(mv[i * size:(i + 1) * size], W, H, img_stream.RGB888)
rc = img_stream.RateControl(target_bytes=target or None, max_kbps=kbps or None,
                            fps=fps or None)
s = socket.socket()
s.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
enc0 = img_stream.buffer_info()["encodes"]
t0 = time.ticks_us()
for i in range(n):
    if fps:  # the camera's own pace
        while time.ticks_diff(time.ticks_us(), t0) < i * 1000000 // fps:
            pass
    img_stream.send_tcp(s, frame(i), quality=rc)
s.close()
print(rc.frames, rc.retries, rc.over_cap, img_stream.buffer_info()["encodes"] - enc0)
"""


def send(source, n, target=0, kbps=0, fps=0):
    sink = Sink()
    p = run_micropython(SENDER, source, sink.port, n, target, kbps, fps, timeout=120)
    sink.join()
    frames, retries, over_cap, encodes = map(int, p.stdout.split())
    assert frames == n == len(sink.frames), (frames, n, len(sink.frames))
    # Never more than one extra encode per frame, and only where it missed.
    assert encodes == n + retries and retries < n, (encodes, retries)
    return sink, retries, over_cap


def within(sizes, target, tol=0.15):
    return sum(1 for s in sizes if abs(s - target) <= tol * target)


@pytest.mark.parametrize("source, target", [("photos", 12000), ("synthetic", 4000)])
def test_sizes_settle_on_target_bytes(tmp_path, micropython, source, target):
    if source == "photos":
        path = tmp_path / "photos.rgb"
        n = photo_sequence(path)
        source = str(path)
    else:
        n = 75
    sink, retries, _ = send(source, n, target=target)
    sizes = [len(f) for f in sink.frames]
    late = sizes[10:]
    print("%s: %d/%d frames after the 10th within 15 %% of %d B, %d re-encodes in %d frames"
          % (source if source == "synthetic" else "photos", within(late, target), len(late), target,
             retries, n))
    assert within(late, target) >= 0.9 * len(late), (target, sizes)
    # Retries at the start and the scene cuts, not in every frame.
    cuts = 2 if source != "synthetic" else 4
    assert retries <= 2 * (cuts + 1) + 2, (retries, sizes)


def test_max_kbps_holds_in_every_second_at_the_receiver(tmp_path, micropython):
    path = tmp_path / "photos.rgb"
    n = photo_sequence(path, per_photo=25)
    kbps, fps = 1600, 15
    sink, _, over_cap = send(str(path), n, kbps=kbps, fps=fps)
    cap = kbps * 1000 // 8
    arrivals = sink.arrivals
    assert arrivals[-1][0] - arrivals[0][0] > 3.5  # 75 frames at 15 fps: 5 s
    windows = 0
    worst = 0
    for i, (t0, _) in enumerate(arrivals):
        total = 0
        for t, b in arrivals[i:]:
            if t >= t0 + 1.0:
                break
            total += b
        worst = max(worst, total)
        windows += 1
    # A window starts at every recv (a loaded receiver may read two frames at
    # once), and the windows saw every byte of every frame.
    assert windows == len(arrivals) > n // 2, (windows, n)
    assert sum(b for _, b in arrivals) > sum(len(f) for f in sink.frames)
    print("max_kbps=%d: busiest 1 s window at the receiver %d B of %d B (%d windows)"
          % (kbps, worst, cap, windows))
    assert worst <= cap, (worst, cap)
    # The cap is used, not avoided: at least half of it in the busiest second.
    assert worst >= cap // 2, (worst, cap)
    assert over_cap == 0


FANOUT = """
import sys, gc, socket, time, img_stream
from umqtt.simple import MQTTClient
from img_stream_http import MjpegServer
from synthetic_camera import SyntheticCamera
tcp_port, mqtt_port, http_port, n = (int(a) for a in sys.argv[1:5])
tcp = socket.socket()
tcp.connect(socket.getaddrinfo("127.0.0.1", tcp_port)[0][-1])
mq = MQTTClient(b"fanout", "127.0.0.1", mqtt_port)
mq.connect()
server = MjpegServer(http_port, host="127.0.0.1")
cam = SyntheticCamera(320, 240, img_stream.NV12)
imgs = [cam.snapshot() for _ in range(4)]
jpg = img_stream.Encoded()
print("ready")
# The MJPEG viewer connects while the server is polled.
while not server.stats()["clients"]:
    server.poll(50)

mqtt_heap = [0]

def frame(i):
    jpg.encode(imgs[i % 4], quality=70)
    img_stream.send_tcp(tcp, jpg)
    # umqtt's own publish() allocates (its packet header): counted apart,
    # it is issue 15 point 5's to remove.
    before = gc.mem_alloc()
    img_stream.publish(mq, jpg, topic=b"fanout/frame")
    mqtt_heap[0] += gc.mem_alloc() - before
    server.push(jpg)

for i in range(8):  # warm-up: buffers reach their size
    frame(i)
gc.collect()
enc0 = img_stream.buffer_info()["encodes"]
mqtt_heap[0] = grown = 0
t0 = time.ticks_ms()
for i in range(n):
    before = gc.mem_alloc()
    frame(i)
    grown += gc.mem_alloc() - before
seconds = time.ticks_diff(time.ticks_ms(), t0) // 1000
encodes = img_stream.buffer_info()["encodes"] - enc0
tcp.close()
mq.disconnect()
for _ in range(20):
    server.poll(10)
server.close()
print(encodes, grown - mqtt_heap[0], mqtt_heap[0] // n, seconds)
"""


def test_one_encode_feeds_tcp_mqtt_and_http(tmp_path, micropython):
    import paho.mqtt.client as paho

    broker = Broker(tmp_path)
    got_mqtt = []
    sub = paho.Client(paho.CallbackAPIVersion.VERSION2)
    sub.on_message = lambda c, u, m: got_mqtt.append(bytes(m.payload))
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("fanout/frame")
    sub.loop_start()
    try:
        assert subscribed.wait(10)
        sink = Sink()
        http_port = free_port()
        n = 40
        env = dict(os.environ, MICROPYPATH=MICROPYPATH)
        p = subprocess.Popen([str(MICROPYTHON), "-X", "heapsize=64M", "-c", FANOUT, str(sink.port),
                              str(broker.port), str(http_port), str(n)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        parts = []
        stream = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/stream", timeout=30)
        buf = b""
        while True:
            chunk = stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16)
            if not chunk:
                break
            buf += chunk
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        encodes, grown, mqtt_per_frame, seconds = map(int, out.split())
        print("fan-out: %d encodes for %d frames, img_stream heap %d B in %d s; umqtt.simple publish: %d B/frame"
              % (encodes, n, grown, seconds, mqtt_per_frame))
        sink.join()
        # One encode per frame for all three transports, and no heap per
        # frame from img_stream (MjpegServer's once-a-second rate update
        # aside, as tests/micropython/test_mjpeg_server.py allows).
        assert encodes == n, encodes
        # (A per-frame bound of 16 B on top failed whenever the 40 frames took
        # 4 s: the once-a-second updates alone are 160 B/s. Per-frame garbage
        # is measured call by call in tests/micropython/test_rate.py.)
        assert grown <= 256 * (seconds + 2), (grown, seconds)
        # Every transport carried the same JPEGs.
        tcp = sink.frames
        assert len(tcp) == n + 8
        wait_for(lambda: len(got_mqtt) >= n + 8, 10, "the MQTT messages")
        assert got_mqtt == tcp
        for jpeg in set(tcp):
            if jpeg in buf:
                parts.append(jpeg)
        assert len(parts) == len(set(tcp)), (len(parts), len(set(tcp)))
    finally:
        sub.loop_stop()
        broker.stop()
