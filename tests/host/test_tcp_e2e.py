"""send_tcp on the unix port into the real `img-stream` receiver over
127.0.0.1: every written JPEG decodes, every CRC verifies, sequence numbers
are complete and in order; the board-as-server direction; faults."""
import io
import pathlib
import socket
import threading

from PIL import Image

from conftest import free_port, run_micropython
from receiver import Receiver, frames_jsonl

STREAM = """
import sys, socket, img_stream
from synthetic_camera import SyntheticCamera
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cases = [(320, 240, img_stream.NV12), (160, 120, img_stream.RGB565), (322, 242, img_stream.RGB888),
         (64, 48, img_stream.GRAYSCALE), (200, 100, img_stream.YUV422), (96, 64, img_stream.RGBP888),
         (640, 480, img_stream.NV12), (48, 32, img_stream.BGR888)]
cams = [SyntheticCamera(w, h, f) for w, h, f in cases]
s = socket.socket()
s.connect(socket.getaddrinfo(host, port)[0][-1])
for i in range(n):
    img_stream.send_tcp(s, cams[i % len(cams)].snapshot(), quality=60 + i % 30)
s.close()
print("sent", n)
"""

SIZES = [(320, 240), (160, 120), (322, 242), (64, 48), (200, 100), (96, 64), (640, 480), (48, 32)]


def check_frames(out, n, sizes=SIZES):
    rows = frames_jsonl(out)
    assert len(rows) == n, len(rows)
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(seqs[0], seqs[0] + n)), "sequence numbers not complete and ordered"
    for i, r in enumerate(rows):
        assert r["crc_ok"] is True
        path = pathlib.Path(out) / r["file"] if not pathlib.Path(r["file"]).is_absolute() else pathlib.Path(r["file"])
        data = path.read_bytes()
        assert len(data) == r["size"]
        im = Image.open(io.BytesIO(data))
        im.load()
        assert im.size == sizes[i % len(sizes)] == (r["width"], r["height"])
    return rows


def receive(out, count, send):
    """Runs the real receiver on a free port into `out` until it has `count`
    frames; `send(port)` is the board's side. Returns the stopped receiver
    (for its counters) and what `send` returned."""
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--out", out, "--count", count)
    try:
        sent = send(rx.port())
        assert rx.wait() == 0
    finally:
        rx.stop()
    return rx, sent


def stream(n, through=lambda port: port):
    """The board's side: STREAM sends n frames to the port `through` gives
    for the receiver's port (a relay's, or the receiver's own)."""
    return lambda port: run_micropython(STREAM, "127.0.0.1", through(port), n)


def test_300_mixed_frames_into_the_receiver(tmp_path, micropython):
    _, p = receive(tmp_path, 300, stream(300))
    assert "sent 300" in p.stdout
    check_frames(tmp_path, 300)


BOARD_SERVER = """
import sys, socket, img_stream
from synthetic_camera import SyntheticCamera
port, n, conns = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
srv.listen(1)
print("listening", flush=True) if hasattr(print, "flush") else print("listening")
cam = SyntheticCamera(320, 240, img_stream.NV12)
for c in range(conns):
    conn, _ = srv.accept()
    for i in range(n):
        img_stream.send_tcp(conn, cam.snapshot())
    conn.close()  # the "board restarts": the receiver must reconnect
srv.close()
print("served", conns)
"""


def test_board_as_server_with_receiver_reconnecting(tmp_path, micropython):
    port = free_port()
    board = threading.Thread(target=lambda: run_micropython(BOARD_SERVER, port, 20, 2), daemon=True)
    board.start()
    rx = Receiver("recv", "tcp", "--connect", f"127.0.0.1:{port}", "--out", tmp_path, "--count", 40)
    try:
        assert rx.wait() == 0
    finally:
        rx.stop()
    board.join(60)
    rows = frames_jsonl(tmp_path)
    assert len(rows) == 40 and all(r["crc_ok"] for r in rows)
    assert [r["seq"] for r in rows] == list(range(rows[0]["seq"], rows[0]["seq"] + 40))


class Relay:
    """A TCP relay between board and receiver that can tamper with the bytes:
    `mutate(data, offset) -> data` sees the stream in order."""

    def __init__(self, dest_port, mutate):
        self.dest_port = dest_port
        self.mutate = mutate
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        conn, _ = self.srv.accept()
        out = socket.create_connection(("127.0.0.1", self.dest_port))
        offset = 0
        while True:
            data = conn.recv(65536)
            if not data:
                break
            out.sendall(self.mutate(data, offset))
            offset += len(data)
        out.close()
        conn.close()


def test_corrupted_frame_is_counted_and_not_saved(tmp_path, micropython):
    # Flip one byte well inside the payload of an early frame.
    target = 2000

    def flip(data, offset):
        if offset <= target < offset + len(data):
            b = bytearray(data)
            b[target - offset] ^= 0x55
            return bytes(b)
        return data

    rx, _ = receive(tmp_path, 29, stream(30, through=lambda port: Relay(port, flip).port))
    rows = frames_jsonl(tmp_path)
    assert len(rows) == 29 and all(r["crc_ok"] for r in rows)
    assert rx.stat("crc") == 1
    for r in rows:  # every saved file decodes
        Image.open(pathlib.Path(tmp_path) / r["file"]).load()


def test_garbage_before_a_frame_resynchronises(tmp_path, micropython):
    def garbage_first(data, offset):
        return (b"\x00IMG garbage IMGS\xff" * 20 + data) if offset == 0 else data

    receive(tmp_path, 10, stream(10, through=lambda port: Relay(port, garbage_first).port))
    check_frames(tmp_path, 10)


HALF_THEN_NEW = """
import sys, socket, img_stream
from synthetic_camera import SyntheticCamera
bad_port, good_port = int(sys.argv[1]), int(sys.argv[2])
cam = SyntheticCamera(640, 480, img_stream.RGB888)
s = socket.socket()
s.connect(socket.getaddrinfo("127.0.0.1", bad_port)[0][-1])
try:
    for i in range(500):
        img_stream.send_tcp(s, cam.snapshot(), quality=95)
    print("no error")
except OSError as e:
    print("oserror", e.errno)
s.close()
s = socket.socket()
s.connect(socket.getaddrinfo("127.0.0.1", good_port)[0][-1])
for i in range(5):
    img_stream.send_tcp(s, cam.snapshot())
s.close()
print("sent 5")
"""


def test_receiver_closing_mid_frame_raises_and_next_connection_works(tmp_path, micropython):
    # A receiver that reads 1000 bytes (mid-frame) and hangs up.
    bad = socket.socket()
    bad.bind(("127.0.0.1", 0))
    bad.listen(1)

    def hang_up():
        c, _ = bad.accept()
        c.recv(1000)
        c.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        _, p = receive(tmp_path, 5, lambda port: run_micropython(HALF_THEN_NEW, bad.getsockname()[1], port))
    finally:
        bad.close()
    assert "oserror 32" in p.stdout or "oserror 104" in p.stdout, p.stdout
    assert "sent 5" in p.stdout
    assert len(frames_jsonl(tmp_path)) == 5
