"""send_udp on the unix port into `img-stream recv udp` over 127.0.0.1.

- Clean path: 300 frames, all written, bytes identical to encode().
- Through a lossy relay (seeded: 10 % drop, bounded reordering, duplicates,
  garbage and oversize datagrams, two boards interleaved): no corrupt frame
  is written, every frame whose datagrams all got through is written, and
  the receiver's counters equal what the relay did.
- Crafted datagrams (an independent chunk encoder below): garbage and
  oversize totals are refused and counted, good frames still get through.
"""
import os
import pathlib
import random
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import zlib

from conftest import IMG_STREAM_BIN, run_micropython
from receiver import wait_for

CHUNK_LEN = 32
FRAME_LEN = 40


# --- the receiver ------------------------------------------------------------

class UdpReceiver:
    """`img-stream recv udp` on a free port; stderr collected in `lines`."""

    def __init__(self, *args):
        cmd = [str(IMG_STREAM_BIN), "recv", "udp", "--listen", "127.0.0.1:0", "--status", "quiet",
               *map(str, args)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.port = None
        self._ready = threading.Event()
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        assert self._ready.wait(30), "receiver did not start"
        assert self.port is not None, "receiver failed:\n" + "\n".join(self.lines)

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            m = re.search(r"listening on udp 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    def wait(self, timeout=120):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("receiver did not finish:\n" + "\n".join(self.lines[-20:]))
        self._t.join(5)
        return rc

    def stop(self):
        """SIGTERM: the receiver takes what is queued, counts partial
        frames, prints its summary and exits 0."""
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(30)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def summary(self):
        line = next((x for x in reversed(self.lines) if x.startswith("summary:")), None)
        assert line, "no summary line:\n" + "\n".join(self.lines[-20:])
        counts = {}
        for part in line[len("summary:"):].split("|"):
            m = re.fullmatch(r"\s*([a-z ]+?) (\d+)\s*", part)
            if m:
                counts[m.group(1)] = int(m.group(2))
        return counts

    def kernel_drops(self):
        """Datagrams the kernel dropped at the receiver's socket
        (/proc/net/udp: a full receive buffer would make a test flaky)."""
        for line in pathlib.Path("/proc/net/udp").read_text().splitlines()[1:]:
            f = line.split()
            if f[1] == "0100007F:%04X" % self.port:
                return int(f[-1])
        return 0


def written(out):
    """{(camera dir, seq): bytes} of every frame file under `out`."""
    got = {}
    for p in pathlib.Path(out).glob("*/*.jpg"):
        got[(p.parent.name, int(p.stem))] = p.read_bytes()
    return got


# --- an independent encoder of protocol v1 -------------------------------------

def crc32(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def frame_message(seq, payload, camera_id=0, width=16, height=8):
    h = struct.pack("<4sBBHIQHHBBHII", b"IMGS", 1, FRAME_LEN, 0, seq, 1000 + seq, width, height, 9, 0,
                    camera_id, len(payload), crc32(payload))
    return h + struct.pack("<I", crc32(h)) + payload


def chunk_header(seq, camera_id, index, count, offset, total, crc=None):
    h = struct.pack("<4sBBHIHHHHII", b"IMGC", 1, CHUNK_LEN, 0, seq, camera_id, index, count, 0, offset, total)
    return h + struct.pack("<I", crc32(h) if crc is None else crc)


def chunks(msg, seq, camera_id, mtu):
    size = mtu - CHUNK_LEN
    count = (len(msg) + size - 1) // size
    return [chunk_header(seq, camera_id, i, count, i * size, len(msg)) + msg[i * size:(i + 1) * size]
            for i in range(count)]


def parse_chunk(d):
    """(seq, camera_id, index, count) of a chunk datagram sent by send_udp."""
    assert d[:4] == b"IMGC" and crc32(d[:28]) == struct.unpack_from("<I", d, 28)[0]
    seq, cam, index, count = struct.unpack_from("<IHHH", d, 8)
    return seq, cam, index, count


# --- clean path ----------------------------------------------------------------

CLEAN = """
import sys, socket, img_stream
from synthetic_camera import SyntheticCamera
port, n, exp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cases = [(320, 240, img_stream.NV12), (160, 120, img_stream.RGB565), (322, 242, img_stream.RGB888),
         (64, 48, img_stream.GRAYSCALE), (200, 100, img_stream.YUV422), (96, 64, img_stream.RGBP888),
         (640, 480, img_stream.NV12), (48, 32, img_stream.BGR888)]
cams = [SyntheticCamera(w, h, f) for w, h, f in cases]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr = socket.getaddrinfo("127.0.0.1", port)[0][-1]
datagrams = 0
for i in range(n):
    img = cams[i % len(cams)].snapshot()
    q = 50 + i % 40
    datagrams += img_stream.send_udp(s, addr, img, quality=q, seq=i, mtu=(1400, 512, 8192)[i % 3])
    with open("%s/%d.jpg" % (exp, i), "wb") as f:
        f.write(img_stream.encode(img, quality=q))
print("sent", n, datagrams)
"""


def test_300_frames_clean_path(tmp_path):
    out, exp = tmp_path / "out", tmp_path / "exp"
    exp.mkdir()
    rx = UdpReceiver("--out", out, "--count", 300)
    try:
        p = run_micropython(CLEAN, rx.port, 300, exp)
        assert "sent 300" in p.stdout, p.stdout
        assert rx.wait() == 0
    finally:
        rx.kill()
    got = written(out)
    assert len(got) == 300, (len(got), rx.kernel_drops())
    for (cam, seq), data in got.items():
        assert data == (exp / ("%d.jpg" % seq)).read_bytes(), seq
    s = rx.summary()
    assert (s["frames"], s["crc errors"], s["bad headers"]) == (300, 0, 0), s
    assert "incomplete" not in s and "duplicates" not in s, s


# --- lossy relay -----------------------------------------------------------------

TWO_BOARDS = """
import sys, socket, img_stream
from synthetic_camera import SyntheticCamera
pa, pb, n, exp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
formats = [img_stream.NV12, img_stream.RGB565, img_stream.GRAYSCALE, img_stream.RGB888]
cams = [SyntheticCamera(160, 120, f) for f in formats]
boards = [(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.getaddrinfo("127.0.0.1", p)[0][-1])
          for p in (pa, pb)]
datagrams = 0
for i in range(n):
    for b, (s, addr) in enumerate(boards):  # board b is camera b, seqs 1000*b + i
        img_stream.set_camera_id(b)
        img = cams[(i + b) % len(cams)].snapshot()
        datagrams += img_stream.send_udp(s, addr, img, mtu=600, seq=1000 * b + i)
        with open("%s/%d-%d.jpg" % (exp, b, 1000 * b + i), "wb") as f:
            f.write(img_stream.encode(img))
img_stream.set_camera_id(0)
print("sent", datagrams)
"""


def bound_udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", 0))
    return s


def capture(socks, run):
    """Collects every datagram arriving on `socks` while `run()` runs, in
    arrival order, as (board index, bytes)."""
    got = []
    done = threading.Event()

    def collect():
        while True:
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                got.append((socks.index(s), s.recv(65536)))
            if not ready and done.is_set():
                return

    t = threading.Thread(target=collect)
    t.start()
    try:
        result = run()
    finally:
        done.set()  # the collector still drains what is queued
        t.join()
    return got, result


def garbage(rng):
    """Datagrams the receiver must refuse: (bytes, is_oversize)."""
    good = chunk_header(7, 0, 0, 2, 0, 100) + b"x" * 60
    return [
        (bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 200))), False),
        (b"IMGC" + bytes(40), False),
        (good[:12] + b"\xff" + good[13:], False),  # header CRC no longer matches
        (chunk_header(7, 0, 2, 2, 0, 100) + b"x" * 60, False),  # index >= count
        (chunk_header(7, 0, 1, 2, 80, 100) + b"x" * 60, False),  # runs past total
        (chunk_header(7, 0, 0, 2, 0, 30) + b"x" * 20, False),  # total < 40
        (chunk_header(7, 0, 0, 2, 0, 100), False),  # no data
        (b"\xff\xd8\xff\xe0 not a frame", False),
        (chunk_header(8, 0, 0, 3000, 0, 0xFFFFFF00) + b"x" * 500, True),  # oversize total
        (chunk_header(9, 1, 5, 9000, 0, (16 << 20) + 41) + b"x" * 500, True),  # just over 16 MiB
    ]


def test_lossy_relay_two_boards_garbage(tmp_path):
    out, exp = tmp_path / "out", tmp_path / "exp"
    exp.mkdir()
    frames_per_board = 60
    ra, rb = bound_udp(), bound_udp()
    try:
        got, p = capture([ra, rb], lambda: run_micropython(
            TWO_BOARDS, ra.getsockname()[1], rb.getsockname()[1], frames_per_board, exp))
        sent = int(re.search(r"sent (\d+)", p.stdout).group(1))
        assert len(got) == sent, ("the relay itself lost datagrams", len(got), sent)
        # The sender's order (frame i of board 0, then of board 1), whichever
        # socket the collector happened to read first: the seeded decisions
        # below then repeat exactly from run to run.
        got.sort(key=lambda x: (parse_chunk(x[1])[0] % 1000, x[0]))

        # The relay's decisions, seeded: drop 10 %, duplicate 5 % of what is
        # forwarded, reorder within a bounded window, add garbage.
        rng = random.Random(20261123)
        forwarded = []  # (sort key, board, bytes)
        arrived = {}  # (board, seq) -> set of chunk indices forwarded
        counts = {}
        duplicates = 0
        window = 6  # a datagram moves at most this many places
        for pos, (board, d) in enumerate(got):
            seq, cam, index, count = parse_chunk(d)
            assert cam == board
            counts[(board, seq)] = count
            if rng.random() < 0.10:
                continue
            arrived.setdefault((board, seq), set()).add(index)
            forwarded.append((pos + rng.uniform(0, window), board, d))
            if rng.random() < 0.05:
                duplicates += 1
                forwarded.append((pos + rng.uniform(0, window), board, d))
        junk = garbage(rng)
        for d, _ in junk:
            forwarded.append((rng.uniform(0, len(got)), rng.randrange(2), d))
        forwarded.sort(key=lambda x: x[0])

        complete = {k for k, idx in arrived.items() if len(idx) == counts[k]}
        incomplete = set(arrived) - complete
        assert len(incomplete) >= 10 and len(complete) >= 10, (len(incomplete), len(complete))

        rx = UdpReceiver("--out", out)
        try:
            dest = ("127.0.0.1", rx.port)
            for _, board, d in forwarded:
                (ra, rb)[board].sendto(d, dest)

            def all_written():
                return len(list(out.glob("*/*.jpg"))) >= len(complete)

            wait_for(all_written, 60, "the complete frames")
            assert rx.stop() == 0
        finally:
            rx.kill()
        assert rx.kernel_drops() == 0
        s = rx.summary()

        # Every complete frame is written, byte for byte; nothing else is.
        files = written(out)
        names = {0: "127.0.0.1_%d-cam0" % ra.getsockname()[1], 1: "127.0.0.1_%d-cam1" % rb.getsockname()[1]}
        expected = {(names[b], seq): (exp / ("%d-%d.jpg" % (b, seq))).read_bytes() for b, seq in complete}
        assert set(files) == set(expected)
        for k, data in files.items():
            assert data == expected[k], k

        # Counters match what the relay did.
        assert s["frames"] == len(complete), s
        assert s.get("incomplete", 0) == len(incomplete), s
        assert s.get("duplicates", 0) == duplicates, s
        assert s.get("chunk garbage", 0) == len(junk), s
        assert s.get("oversize", 0) == sum(1 for _, o in junk if o), s
        assert (s["crc errors"], s["bad headers"], s.get("corrupt", 0), s.get("late", 0)) == (0, 0, 0, 0), s
    finally:
        ra.close()
        rb.close()


# --- crafted datagrams -------------------------------------------------------------

def test_garbage_and_oversize_refused_good_frames_kept(tmp_path):
    out = tmp_path / "out"
    rx = UdpReceiver("--out", out, "--max-payload", "64KiB")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        dest = ("127.0.0.1", rx.port)
        # JPEG-format payloads must look like a JPEG to be written (PROTOCOL.md 3.4).
        good = [b"\xff\xd8" + os.urandom(3000 + 100 * i) for i in range(3)]
        rng = random.Random(5)
        junk = garbage(rng)
        # Over --max-payload 64KiB but well under the default.
        junk.append((chunk_header(3, 0, 0, 200, 0, (64 << 10) + 41) + b"y" * 400, True))
        # A whole frame message (IMGS) in one datagram is accepted too.
        whole = frame_message(50, b"\xff\xd8whole\xff\xd9")
        # A frame whose payload CRC is wrong: reassembled, checked, refused.
        bad = bytearray(frame_message(60, b"z" * 1000))
        bad[500] ^= 1
        junk_sent = []
        for i, payload in enumerate(good):
            parts = chunks(frame_message(10 + i, payload), 10 + i, 0, 700)
            parts.reverse()
            for j, part in enumerate(parts):
                tx.sendto(part, dest)
                if j < len(junk):
                    junk_sent.append(junk[(i + j) % len(junk)])
                    tx.sendto(junk_sent[-1][0], dest)
        for item in junk:  # every kind at least once
            junk_sent.append(item)
            tx.sendto(item[0], dest)
        for part in chunks(bytes(bad), 60, 0, 700):
            tx.sendto(part, dest)
        tx.sendto(whole, dest)
        wait_for(lambda: len(list(out.glob("*/*.jpg"))) >= 4, 60, "good frames")
        assert rx.stop() == 0
    finally:
        rx.kill()
        tx.close()
    s = rx.summary()
    files = written(out)
    by_seq = {seq: data for (_, seq), data in files.items()}
    assert set(by_seq) == {10, 11, 12, 50}
    for i, payload in enumerate(good):
        assert by_seq[10 + i] == payload
    assert by_seq[50] == b"\xff\xd8whole\xff\xd9"
    assert s["frames"] == 4, s
    assert s["crc errors"] == 1, s
    assert s.get("chunk garbage", 0) == len(junk_sent), s
    assert s.get("oversize", 0) == sum(1 for _, o in junk_sent if o) >= 3, s
    assert s.get("incomplete", 0) == 0 and s.get("corrupt", 0) == 0, s
