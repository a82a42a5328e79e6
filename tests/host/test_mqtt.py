"""img_stream.publish() with the real umqtt.simple / umqtt.robust on the unix
port, through a real Mosquitto (started here on a free 127.0.0.1 port with its
own config), into a foreign subscriber (paho-mqtt) and into
`img-stream recv mqtt`."""
import io
import os
import pathlib
import signal
import socket
import subprocess
import threading

import pytest
from PIL import Image

from conftest import MICROPYPATH, MICROPYTHON, free_port, run_micropython
from mosquitto import Broker
from receiver import Receiver, frames_jsonl, wait_for

# How much slower the board interpreter runs than native (qemu: ~20, see tests/cross/run.sh).
SCALE = float(os.environ.get("IMG_STREAM_TIME_SCALE", "1"))


pytestmark = pytest.mark.usefixtures("umqtt")


def mqtt_receiver(port, *args):
    rx = Receiver("recv", "mqtt", "--broker", f"127.0.0.1:{port}", "--status", "lines", *args)
    wait_for(lambda: any("subscribed to" in l for l in rx.lines) or rx.proc.poll() is not None,
             30, "the receiver to subscribe")
    assert rx.proc.poll() is None, "\n".join(rx.lines)
    return rx


def summary(rx):
    """The receiver's counters from its final summary line."""
    line = next(l for l in reversed(rx.lines) if l.startswith("summary:"))
    fields = {}
    for part in line[len("summary:"):].split("|"):
        words = part.split()
        if words and words[-1].isdigit():
            fields[" ".join(words[:-1])] = int(words[-1])
    return fields


def stop_receiver(rx):
    rx.proc.send_signal(signal.SIGTERM)
    assert rx.wait(30) == 0
    return summary(rx)


def spawn_micropython(script, *args):
    env = dict(os.environ, MICROPYPATH=MICROPYPATH)
    return subprocess.Popen([str(MICROPYTHON), "-X", "heapsize=64M", "-c", script, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def decoded(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


RAW = """
import sys, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
port, out = int(sys.argv[1]), sys.argv[2]
c = MQTTClient(b"cam1", "127.0.0.1", port)
c.connect()
cam = SyntheticCamera(320, 240, img_stream.NV12)
for i in range(3):
    img = cam.snapshot()
    n = img_stream.publish(c, img, quality=70)
    jpeg = img_stream.encode(img, quality=70)
    assert n == len(jpeg), (n, len(jpeg))
    with open("%s/%d.jpg" % (out, i), "wb") as f:
        f.write(jpeg)
c.disconnect()
print("published 3")
"""


def test_raw_mode_reaches_a_foreign_subscriber(broker, tmp_path, micropython):
    import paho.mqtt.client as paho

    got = []
    subscribed = threading.Event()
    sub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="foreign")
    sub.on_connect = lambda c, *a: c.subscribe("img_stream/+/frame", 0)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_message = lambda c, u, m: got.append((m.topic, bytes(m.payload)))
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()
    try:
        assert subscribed.wait(10)
        p = run_micropython(RAW, broker.port, tmp_path)
        assert "published 3" in p.stdout
        wait_for(lambda: len(got) == 3, 20 * SCALE, "3 messages at the foreign subscriber")
    finally:
        sub.loop_stop()
        sub.disconnect()
    for i, (topic, payload) in enumerate(got):
        # The default topic, and the payload is exactly the JPEG file.
        assert topic == "img_stream/cam1/frame"
        assert payload == (tmp_path / f"{i}.jpg").read_bytes()
        assert payload[:2] == b"\xff\xd8"
        assert decoded(payload).size == (320, 240)


CHUNKED_1080P = """
import sys, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
port, out, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = MQTTClient(b"big", "127.0.0.1", port)
c.connect()
cam = SyntheticCamera(1920, 1080, img_stream.NV12)
topic = b"img_stream/big/frame"
for i in range(n):
    img = cam.snapshot()
    jpeg = img_stream.encode(img, quality=90)
    assert len(jpeg) > 8192  # too big for one message on this broker
    with open("%s/%d.jpg" % (out, 1000 + i), "wb") as f:
        f.write(jpeg)
    sent = img_stream.publish(c, img, topic=topic, quality=90, chunked=True, chunk_size=4096,
                              seq=1000 + i, qos=i % 2)
    chunks = (40 + len(jpeg) + 4063) // 4064
    assert sent == 40 + len(jpeg) + 32 * chunks, (sent, len(jpeg), chunks)
c.disconnect()
print("published", n)
"""


def test_chunked_1080p_through_a_small_message_limit(tmp_path, micropython):
    b = Broker(tmp_path, message_size_limit=4096)
    try:
        out, sent = tmp_path / "out", tmp_path / "sent"
        sent.mkdir()
        rx = mqtt_receiver(b.port, "--topic", "img_stream/+/frame", "--out", out, "--count", 4)
        try:
            p = run_micropython(CHUNKED_1080P, b.port, sent, 4)
            assert "published 4" in p.stdout
            assert rx.wait(60 * SCALE) == 0
        finally:
            rx.stop()
        stats = summary(rx)
        assert stats["frames"] == 4 and stats["crc errors"] == 0 and stats.get("incomplete", 0) == 0
        rows = frames_jsonl(out)
        assert [r["seq"] for r in rows] == [1000, 1001, 1002, 1003]
        for r in rows:
            data = (out / r["file"]).read_bytes()
            assert data == (sent / f"{r['seq']}.jpg").read_bytes(), "not encode()'s bytes"
            assert (r["width"], r["height"]) == (1920, 1080) and r["crc_ok"]
            assert r["camera"] == "img_stream_big_frame-cam0"
            assert decoded(data).size == (1920, 1080)
    finally:
        b.stop()


ROBUST_STREAM = """
import sys, img_stream
from umqtt import robust, simple
from synthetic_camera import SyntheticCamera
port, stop_file, chunked, qos = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
plain = sys.argv[5] == "1"

class Client(robust.MQTTClient):
    # umqtt.robust 1.0 also retries wait_msg(), which simple.publish() uses to
    # wait for PUBACK: after a reconnect there it waits forever for the PUBACK
    # of a message never sent on the new connection. Let the OSError reach
    # robust.publish(), which reconnects and publishes again (docs/MQTT.md).
    def wait_msg(self):
        return simple.MQTTClient.wait_msg(self)

# publish() reads the PUBACKs itself, so the plain client works at QoS 1 too.
c = (Client if qos and not plain else robust.MQTTClient)(b"robust1", "127.0.0.1", port)
c.DELAY = 0.05  # umqtt.robust's pause between reconnection attempts
c.connect()
cam = SyntheticCamera(320, 240, img_stream.NV12)
kw = {"chunked": True, "chunk_size": 2048} if chunked else {}
n = 0
while True:
    try:
        open(stop_file).close()
        break
    except OSError:
        pass
    img_stream.publish(c, cam.snapshot(), qos=qos, **kw)
    n += 1
c.disconnect()
print("published", n)
"""


@pytest.mark.parametrize("chunked,qos,plain", [(True, 1, False), (False, 1, False), (True, 0, True),
                                               (True, 1, True)],
                         ids=["chunked-qos1", "raw-qos1", "chunked-qos0", "chunked-qos1-plain-robust"])
def test_stream_survives_a_broker_restart(broker, tmp_path, micropython, chunked, qos, plain):
    out, stop_file = tmp_path / "out", tmp_path / "stop"
    rx = mqtt_receiver(broker.port, "--topic", "img_stream/robust1/frame", "--out", out)
    board = spawn_micropython(ROBUST_STREAM, broker.port, stop_file, int(chunked), qos, int(plain))
    try:
        def written():
            assert board.poll() is None, board.communicate()[1]
            p = out / "frames.jsonl"
            return len(p.read_text().splitlines()) if p.exists() else 0
        try:
            wait_for(lambda: written() >= 20, 60 * SCALE, "20 frames before the restart")
            broker.stop()
            broker.start()
            # Both sides reconnect by themselves; the stream resumes. Frames
            # written after the receiver resubscribed came through the new broker.
            wait_for(lambda: any("resubscribed" in l for l in rx.lines), 60 * SCALE,
                     "the receiver to resubscribe")
            before = written()
            wait_for(lambda: written() >= before + 20, 60 * SCALE, "20 frames after the restart")
        except AssertionError as e:
            if board.poll() is None:
                board.send_signal(signal.SIGINT)  # its traceback shows where it waits
            err = board.communicate(timeout=10)[1]
            raise AssertionError(f"{e}\nboard:\n{err[-2000:]}\nreceiver:\n" + "\n".join(rx.lines[-8:])
                                 + "\nbroker:\n" + "".join(broker.log.read_text().splitlines(True)[-15:]))
        stop_file.write_text("")
        stdout, stderr = board.communicate(timeout=60 * SCALE)
        assert board.returncode == 0, stderr
    finally:
        if board.poll() is None:
            board.kill()
        stats = stop_receiver(rx)
    assert stats["crc errors"] == 0 and stats["bad headers"] == 0 and stats.get("corrupt", 0) == 0
    rows = frames_jsonl(out)
    # The summary is taken at SIGTERM while a last frame may still be written.
    assert len(rows) >= stats["frames"] >= before + 20
    for r in rows:
        assert r["crc_ok"]
        assert decoded((out / r["file"]).read_bytes()).size == (320, 240)
    if chunked:
        seqs = [r["seq"] for r in rows]
        assert len(set(seqs)) == len(seqs), "a frame was delivered twice"


SHARED = """
import sys, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
port, n = int(sys.argv[1]), int(sys.argv[2])
c = MQTTClient(b"shared1", "127.0.0.1", port)
c.connect()
cam = SyntheticCamera(160, 120, img_stream.RGB565)
for i in range(n):
    # One self-describing chunk per frame: each message is a whole frame.
    img_stream.publish(c, cam.snapshot(), qos=1, chunked=True, chunk_size=65536, seq=i)
c.disconnect()
print("published", n)
"""


def test_shared_subscription_splits_frames(broker, tmp_path, micropython):
    dirs = [tmp_path / "a", tmp_path / "b"]
    rxs = [mqtt_receiver(broker.port, "--topic", "img_stream/+/frame", "--share", "rx", "--out", d)
           for d in dirs]
    try:
        p = run_micropython(SHARED, broker.port, 60)
        assert "published 60" in p.stdout

        def total():
            return sum(len(frames_jsonl(d)) for d in dirs if (d / "frames.jsonl").exists())
        wait_for(lambda: total() >= 60, 30 * SCALE, "60 frames across both receivers")
    finally:
        stats = [stop_receiver(rx) for rx in rxs]
    seqs = [[r["seq"] for r in frames_jsonl(d)] for d in dirs]
    assert all(s for s in seqs), f"one receiver got nothing: {seqs}"
    assert sorted(seqs[0] + seqs[1]) == list(range(60)), "frames lost or duplicated"
    assert all(s["crc errors"] == 0 for s in stats)


BAD_INPUT = """
import gc, img_stream
from synthetic_camera import SyntheticCamera

class Fake:
    client_id = "fake"
    def __init__(self):
        self.msgs = []
        self.fail = None
    def publish(self, topic, msg, retain=False, qos=0):
        if self.fail:
            raise self.fail
        self.msgs.append((topic, bytes(msg), retain, qos))

def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        return str(e)
    raise AssertionError("no %s" % exc.__name__)

img = SyntheticCamera(640, 480, img_stream.NV12).snapshot()
c = Fake()
print("no client:", raises(TypeError, img_stream.publish, object(), img))
print("raw > chunk_size:", raises(ValueError, img_stream.publish, c, img, chunk_size=1000))
jpeg = img_stream.encode(img)
huge = jpeg + bytes(2097152)
print("raw > umqtt limit:", raises(ValueError, img_stream.publish, c, huge))
print("tiny chunks:", raises(ValueError, img_stream.publish, c, img, chunked=True, chunk_size=32))
print("too many chunks:", raises(ValueError, img_stream.publish, c, huge, chunked=True, chunk_size=33))
print("huge chunks:", raises(ValueError, img_stream.publish, c, img, chunked=True, chunk_size=3 << 20))
print("qos 2:", raises(ValueError, img_stream.publish, c, img, qos=2))
assert c.msgs == [], "something was published on bad input"

# The client's own exception comes out unchanged; the unsent seq is reused.
def seqs():
    return [m[1][8] | m[1][9] << 8 for m in c.msgs]
img_stream.publish(c, img, chunked=True, chunk_size=4096, seq=76)
c.fail = err = OSError(104)
try:
    img_stream.publish(c, img, chunked=True)
    raise AssertionError("no OSError")
except OSError as e:
    assert e is err
c.fail = None
img_stream.publish(c, img, chunked=True, chunk_size=4096)
assert set(seqs()) == {76, 77}, seqs()
assert all(t == b"img_stream/fake/frame" and len(m) <= 4096 for t, m, r, q in c.msgs)

# Raw mode: exactly the JPEG; retain and qos reach the client.
c.msgs = []
img_stream.publish(c, img, topic="t", retain=True, qos=1)
assert c.msgs == [("t", jpeg, True, 1)], [m[0] for m in c.msgs]

# Steady state: the heap does not grow (nothing is held across calls).
c.msgs = None
c.publish = lambda *a: None
for i in range(5):
    img_stream.publish(c, img, chunked=True, chunk_size=4096)
gc.collect()
before = gc.mem_alloc()
for i in range(50):
    img_stream.publish(c, img, chunked=True, chunk_size=4096)
gc.collect()
print("heap growth:", gc.mem_alloc() - before)
assert gc.mem_alloc() - before < 512
print("ok")
"""


def test_bad_input_and_client_errors(micropython):
    p = run_micropython(BAD_INPUT)
    assert p.stdout.rstrip().endswith("ok"), p.stdout
    assert "use chunked=True" in p.stdout.split("raw > chunk_size:")[1].splitlines()[0]
    assert "use chunked=True" in p.stdout.split("raw > umqtt limit:")[1].splitlines()[0]
    assert "chunk_size" in p.stdout.split("tiny chunks:")[1].splitlines()[0]
    assert "umqtt" in p.stdout.split("huge chunks:")[1].splitlines()[0]


CAMERA = """
import sys, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
port, name, n, chunked = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
c = MQTTClient(name.encode(), "127.0.0.1", port)
c.connect()
cam = SyntheticCamera(320, 240, img_stream.YUV422)
for i in range(n):
    img_stream.publish(c, cam.snapshot(), qos=1, chunked=chunked, chunk_size=1024 if chunked else None)
c.disconnect()
print("published", n)
"""


def test_many_cameras_on_one_wildcard(broker, tmp_path, micropython):
    """Three boards at once, chunked and raw interleaved on the broker, one
    receiver on img_stream/+/frame: every frame of every camera, none corrupt."""
    out = tmp_path / "out"
    rx = mqtt_receiver(broker.port, "--out", out, "--count", 3 * 40)
    boards = [spawn_micropython(CAMERA, broker.port, name, 40, chunked)
              for name, chunked in (("camA", 1), ("camB", 1), ("camC", 0))]
    try:
        for b in boards:
            stdout, stderr = b.communicate(timeout=60 * SCALE)
            assert b.returncode == 0, stderr
        assert rx.wait(60 * SCALE) == 0
    finally:
        for b in boards:
            if b.poll() is None:
                b.kill()
        rx.stop()
    stats = summary(rx)
    assert stats["frames"] == 120 and stats["crc errors"] == 0 and stats.get("incomplete", 0) == 0
    by_camera = {}
    for r in frames_jsonl(out):
        by_camera.setdefault(r["camera"], []).append(r["seq"])
        assert decoded((out / r["file"]).read_bytes()).size == (320, 240)
    assert sorted(by_camera) == ["img_stream_camA_frame-cam0", "img_stream_camB_frame-cam0",
                                 "img_stream_camC_frame-cam0"]
    # Chunked frames carry each board's seq; raw ones are numbered per topic.
    for seqs in by_camera.values():
        assert sorted(seqs) == list(range(40))


PUBACK_TIMEOUT = """
import sys, time, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
c = MQTTClient(b"silent", "127.0.0.1", int(sys.argv[1]))
c.connect()
img = SyntheticCamera(64, 48, img_stream.NV12).snapshot()
t0 = time.ticks_ms()
try:
    img_stream.publish(c, img, qos=1, puback_timeout=0.3)
    print("no error")
except OSError as e:
    print("oserror", e.errno, time.ticks_diff(time.ticks_ms(), t0))
try:
    img_stream.publish(c, img, qos=1, puback_timeout=0)
except ValueError as e:
    print("valueerror", e)
"""


def test_missing_puback_raises_etimedout(micropython):
    """A broker that accepts the connection and the PUBLISH but never sends
    PUBACK: QoS 1 publish raises OSError(ETIMEDOUT) after puback_timeout
    instead of waiting forever (umqtt itself would)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got = []

    def silent_broker():
        conn, _ = srv.accept()
        conn.recv(1024)                    # CONNECT
        conn.sendall(b"\x20\x02\x00\x00")  # CONNACK, accepted
        conn.settimeout(10)
        try:
            while True:
                data = conn.recv(65536)   # the PUBLISH, never acknowledged
                if not data:
                    break
                got.append(data)
        except OSError:
            pass
        conn.close()

    t = threading.Thread(target=silent_broker, daemon=True)
    t.start()
    p = run_micropython(PUBACK_TIMEOUT, srv.getsockname()[1], timeout=60)
    srv.close()
    words = p.stdout.split()
    assert words[:2] == ["oserror", "110"], p.stdout
    assert 250 <= int(words[2]) < 3000, p.stdout
    assert "valueerror puback_timeout" in p.stdout, p.stdout
    assert b"img_stream/silent/frame" in b"".join(got)  # the PUBLISH did reach the broker


LEFT_BLOCKING = """
import sys, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
got = []
c = MQTTClient(b"later", "127.0.0.1", int(sys.argv[1]))
c.set_callback(lambda t, m: got.append(bytes(m)))
c.connect()
img = SyntheticCamera(64, 48, img_stream.NV12).snapshot()
img_stream.publish(c, img, qos=1, puback_timeout=0.2)
c.wait_msg()
print("got", got)
"""


def test_qos1_publish_leaves_the_socket_without_its_timeout(micropython):
    """puback_timeout bounds the PUBACK wait only: afterwards client.sock
    blocks without a timeout, as umqtt leaves it. (On the unix port
    setblocking(True) keeps SO_RCVTIMEO, so a later wait_msg() used to raise
    OSError(ETIMEDOUT) after puback_timeout.) The broker here acknowledges the
    PUBLISH, stays quiet well past the timeout, then sends a message."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def broker():
        conn, _ = srv.accept()
        with conn:
            # umqtt writes a packet in pieces: take whole ones.
            data, packets = b"", []
            while len(packets) < 2:  # CONNECT, PUBLISH
                more, data = split_packets(data + conn.recv(65536))
                packets += more
                if len(packets) == 1 and more:
                    conn.sendall(b"\x20\x02\x00\x00")  # CONNACK, accepted
            pid, _ = qos1_publish(packets[1])
            conn.sendall(b"\x40\x02" + pid)  # PUBACK
            threading.Event().wait(1.0)       # quiet: 5x puback_timeout
            conn.sendall(b"\x30\x08\x00\x01tlater")
            conn.recv(1)                       # until the client hangs up

    t = threading.Thread(target=broker, daemon=True)
    t.start()
    p = run_micropython(LEFT_BLOCKING, srv.getsockname()[1], timeout=60 * SCALE)
    srv.close()
    assert p.stdout.split() == ["got", "[b'later']"], p.stdout + p.stderr


RETRY = """
import sys, img_stream
from umqtt import robust
from synthetic_camera import SyntheticCamera
c = robust.MQTTClient(b"retry", "127.0.0.1", int(sys.argv[1]))
c.DELAY = 0.05
c.connect()
img = SyntheticCamera(320, 240, img_stream.NV12).snapshot()
print("sent", img_stream.publish(c, img, qos=1, chunked=True, chunk_size=1024))
c.disconnect()
"""


def test_a_retry_resends_the_same_chunk_bytes(micropython):
    """umqtt.robust's retry after a lost connection: the chunks not yet
    acknowledged go out again, byte for byte as the first time. (Chunk
    headers used to be written over the previous chunk's tail, so a chunk
    sent again after a later one carried that one's header in its data.) The
    broker here acknowledges the first chunk of the first connection and
    drops it; the second connection gets every PUBACK."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(2)
    conns = [[], []]  # (pid, payload) of each PUBLISH, per connection

    def broker():
        for attempt in range(2):
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(30)
                data = b""
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    packets, data = split_packets(data + chunk)
                    for pkt in packets:
                        kind = pkt[0] & 0xF0
                        if kind == 0x10:
                            conn.sendall(b"\x20\x02\x00\x00")  # CONNACK
                        elif kind == 0x30:
                            pid, payload = qos1_publish(pkt)
                            conns[attempt].append((pid, payload))
                            if attempt == 1 or len(conns[0]) == 1:
                                conn.sendall(b"\x40\x02" + pid)  # PUBACK
                    if attempt == 0 and len(conns[0]) >= 4:
                        break  # three chunks unacknowledged: the link dies
                    if any(pkt[0] == 0xE0 for pkt in packets):
                        break  # DISCONNECT

    t = threading.Thread(target=broker, daemon=True)
    t.start()
    p = run_micropython(RETRY, srv.getsockname()[1], timeout=60 * SCALE)
    t.join(10)
    srv.close()
    first, second = [payload for _, payload in conns[0]], [payload for _, payload in conns[1]]
    assert len(first) >= 4 and second, (len(first), len(second), p.stdout)
    # Every chunk of the frame went out, unacknowledged ones again; the
    # second time each carried the bytes of the first.
    assert second[:len(first) - 1] == first[1:]
    sent = int(p.stdout.split()[1])
    assert sum(len(m) for m in first[:1] + second) == sent  # each chunk once


def split_packets(data):
    """The whole MQTT packets at the start of data, and the bytes after them."""
    out = []
    while True:
        try:
            n = packet_len(data)
        except IndexError:  # not even the length field is whole yet
            break
        if len(data) < n:
            break
        out.append(data[:n])
        data = data[n:]
    return out, data


def qos1_publish(packet):
    """A whole QoS 1 PUBLISH's packet id (2 bytes, after the topic) and payload."""
    at = header_len(packet)
    at += 2 + int.from_bytes(packet[at:at + 2], "big")
    return packet[at:at + 2], packet[at + 2:]


def header_len(packet):
    """Bytes of an MQTT fixed header (type byte and remaining length)."""
    n = 1
    while packet[n] & 0x80:
        n += 1
    return n + 1


def packet_len(packet):
    """Bytes of the whole MQTT packet that starts `packet` (its header whole)."""
    rest, shift = 0, 0
    for b in packet[1:header_len(packet)]:
        rest |= (b & 0x7F) << shift
        shift += 7
    return header_len(packet) + rest


HEAP = """
import sys, gc, img_stream
from umqtt import robust, simple
from synthetic_camera import SyntheticCamera
port = int(sys.argv[1])
imgs = [SyntheticCamera(320, 240, img_stream.NV12).snapshot() for _ in range(4)]

def raw(c, img, qos):
    return img_stream.publish(c, img, qos=qos)   # the default topic, too

def chunked(c, img, qos):
    return img_stream.publish(c, img, topic=b"img_stream/heap/frame", qos=qos, chunked=True,
                              chunk_size=2048)

for cls in (simple.MQTTClient, robust.MQTTClient):
    c = cls(b"heap", "127.0.0.1", port)
    c.connect()
    for name, fn in (("raw", raw), ("chunked", chunked)):
        for qos in (0, 1):
            for i in range(3):
                fn(c, imgs[i], qos)  # the pool grows to its size here
            gc.collect()
            gc.disable()   # count every byte allocated, not what survives
            pid0 = c.pid
            a0 = gc.mem_alloc()
            i = 0
            while i < 20:
                fn(c, imgs[i & 3], qos)
                i += 1
            grown = gc.mem_alloc() - a0
            gc.enable()
            print(cls.__module__ if hasattr(cls, "__module__") else cls, name, qos, grown, c.pid - pid0)
    # umqtt's own state is still right: its own QoS 1 publish gets its PUBACK.
    c.publish(b"img_stream/heap/other", b"x", False, 1)
    c.disconnect()
print("ok")
"""


def test_publish_makes_no_garbage_and_keeps_umqtt_consistent(broker, micropython):
    """umqtt.simple and umqtt.robust against the real Mosquitto: raw and
    chunked at QoS 0 and 1 allocate 0 bytes of MicroPython heap per frame;
    at QoS 1 every message took one packet id from client.pid (so each was
    acknowledged: publish returns only then), and umqtt's own publish still
    works afterwards."""
    p = run_micropython(HEAP, broker.port, timeout=120 * SCALE)
    assert p.stdout.rstrip().endswith("ok"), p.stdout
    rows = [l.split() for l in p.stdout.splitlines()[:-1]]
    assert len(rows) == 8, p.stdout
    for row in rows:
        name, qos, grown, pids = row[-4], int(row[-3]), int(row[-2]), int(row[-1])
        assert grown == 0, f"{row}: heap allocated"
        if qos == 0:
            assert pids == 0, row
        else:
            # 320x240 frames: one raw message, or a few 2 KiB chunks each.
            assert pids == 20 if name == "raw" else pids > 20, row


ECHO = """
import sys, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
port = int(sys.argv[1])
got = []
c = MQTTClient(b"echo", "127.0.0.1", port)
c.set_callback(lambda t, m: got.append((t, bytes(m[:4]), len(m))))
c.connect()
c.subscribe(b"echo/#", 1)
img = SyntheticCamera(640, 480, img_stream.NV12).snapshot()
# A small message and a PINGRESP come back ahead of the first PUBACKs: packets
# shorter than a PUBACK and ones that fit the reader's buffer whole.
c.publish(b"echo/s", b"hi")
c.ping()
n = img_stream.publish(c, img, topic=b"echo/x", qos=1, chunked=True, chunk_size=512)
during = len(got)
count = (n + 511) // 512 + 1
while len(got) < count:
    c.wait_msg()
print("during", during, "total", len(got), "count", count)
assert got[0] == (b"echo/s", b"hi", 2), got[0]
assert all(t == b"echo/x" and head == b"IMGC" and size <= 512 for t, head, size in got[1:]), got
print("ok")
"""


def test_messages_for_the_client_arrive_during_a_publish(broker, micropython):
    """A client subscribed to its own topic: the broker's PUBLISHes (and a
    PINGRESP) arrive between the PUBACKs. publish hands them to client.cb as
    umqtt's wait_msg() does (and acknowledges them), loses none, and leaves
    the client's stream at a packet boundary (wait_msg() reads on)."""
    p = run_micropython(ECHO, broker.port, timeout=60 * SCALE)
    assert p.stdout.rstrip().endswith("ok"), p.stdout + p.stderr
    words = p.stdout.split()
    during, total, count = int(words[1]), int(words[3]), int(words[5])
    assert total == count and count > 8
    assert during > 0, "nothing was delivered while publish waited for PUBACKs"


class DelayLink:
    """A TCP relay between the board and the broker that delays the broker's
    bytes by `delay` seconds (a long link); the other direction is direct."""

    def __init__(self, broker_port, delay):
        self.delay = delay
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.broker_port = broker_port
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import queue
        import time
        while True:
            try:
                a, _ = self.srv.accept()
            except OSError:
                return
            b = socket.create_connection(("127.0.0.1", self.broker_port))
            for s in (a, b):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            line = queue.Queue()

            def up(a=a, b=b):
                try:
                    while (d := a.recv(65536)):
                        b.sendall(d)
                except OSError:
                    pass

            def down_read(b=b, line=line):
                try:
                    while (d := b.recv(65536)):
                        line.put((time.monotonic() + self.delay, d))
                except OSError:
                    pass
                line.put((0, b""))

            def down_write(a=a, line=line):
                while True:
                    due, d = line.get()
                    if not d:
                        break
                    # The link's own latency (this relay's job, no synchronisation).
                    time.sleep(max(0, due - time.monotonic()))
                    try:
                        a.sendall(d)
                    except OSError:
                        break
            for f in (up, down_read, down_write):
                threading.Thread(target=f, daemon=True).start()

    def close(self):
        self.srv.close()


PIPELINE = """
import sys, time, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
port = int(sys.argv[1])
c = MQTTClient(b"far", "127.0.0.1", port)
c.connect()
img = SyntheticCamera(640, 480, img_stream.NV12).snapshot()
img_stream.publish(c, img, qos=1, chunked=True, chunk_size=1024)  # the pool grows here
t0 = time.ticks_ms()
n = img_stream.publish(c, img, qos=1, chunked=True, chunk_size=1024)
dt = time.ticks_diff(time.ticks_ms(), t0)
t0 = time.ticks_ms()
c.publish(b"img_stream/far/one", b"x", False, 1)
one = time.ticks_diff(time.ticks_ms(), t0)
print("chunks", (n + 1023) // 1024, "ms", dt, "one", one)
"""


def test_qos1_chunks_are_pipelined(broker, micropython):
    """Over a link whose broker-to-board direction takes 150 ms, a chunked
    QoS 1 frame of at least 8 chunks is done in well under 8 round trips:
    chunks go out within the window before their PUBACKs are awaited (one
    PUBACK wait per chunk, as umqtt's publish() does it, would take >= 8)."""
    link = DelayLink(broker.port, 0.15)
    try:
        p = run_micropython(PIPELINE, link.port, timeout=60 * SCALE)
    finally:
        link.close()
    words = p.stdout.split()
    chunks, ms, one = int(words[1]), int(words[3]), int(words[5])
    assert chunks >= 9, p.stdout
    assert one >= 150, p.stdout  # the link does delay each PUBACK
    # A window of 8: two waits for this frame, not `chunks`.
    assert ms < 4 * 150 * SCALE, p.stdout
