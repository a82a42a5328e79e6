# send_tcp over real loopback sockets: framing, sequence numbers, no heap
# growth, errors with errno, and the module staying usable after each.
import errno
import gc
import socket

import img_stream
from checks import bind_free_port, raises, is_jpeg
from synthetic_camera import SyntheticCamera
from wire import HEADER_LEN, read_frame, parse_header, read_exactly


def listen():
    """A listening socket on a free 127.0.0.1 port."""
    def tcp():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return s
    srv, port = bind_free_port(tcp)
    srv.listen(1)
    return srv, port


def pair():
    """A connected (client, server-side) socket pair on 127.0.0.1."""
    srv, port = listen()
    cli = socket.socket()
    cli.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    conn, _ = srv.accept()
    srv.close()
    return cli, conn


def test_frames_are_framed_and_counted():
    cli, conn = pair()
    buf = bytearray(1 << 20)
    try:
        cam = SyntheticCamera(320, 240, img_stream.NV12)
        img_stream.set_camera_id(7)
        first = None
        for i in range(10):
            img = cam.snapshot()
            n = img_stream.send_tcp(cli, img, quality=70)
            h, payload = read_frame(conn, buf)
            assert n == HEADER_LEN + h["payload_len"], (n, h)
            assert (h["width"], h["height"], h["format"]) == (320, 240, img_stream.JPEG)
            assert h["camera_id"] == 7
            assert bytes(payload) == img_stream.encode(img, quality=70)
            if first is None:
                first = h
            else:
                assert h["seq"] == first["seq"] + i, (h["seq"], first["seq"], i)
                assert h["timestamp_us"] >= first["timestamp_us"]
        # Explicit seq and timestamp (a 64-bit value) are carried as given.
        img_stream.send_tcp(cli, cam.snapshot(), seq=1000, timestamp_us=2 ** 40 + 5)
        h, _ = read_frame(conn, buf)
        assert h["seq"] == 1000 and h["timestamp_us"] == 2 ** 40 + 5, h
        img_stream.send_tcp(cli, cam.snapshot())
        assert read_frame(conn, buf)[0]["seq"] == 1001
    finally:
        img_stream.set_camera_id(0)
        cli.close()
        conn.close()


def test_jpeg_passes_through_unchanged():
    cli, conn = pair()
    buf = bytearray(1 << 20)
    try:
        jpeg = img_stream.encode(SyntheticCamera(64, 48, img_stream.RGB565).snapshot())
        img_stream.send_tcp(cli, jpeg)
        h, payload = read_frame(conn, buf)
        assert bytes(payload) == jpeg and (h["width"], h["height"]) == (64, 48)
    finally:
        cli.close()
        conn.close()


def test_300_frames_do_not_grow_the_heap():
    cli, conn = pair()
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    try:
        cam = SyntheticCamera(160, 120, img_stream.RGB565)
        frames = [cam.snapshot() for _ in range(4)]
        # Warm up: the reusable buffer reaches its steady size.
        for f in frames:
            n = img_stream.send_tcp(cli, f)
            read_exactly(conn, buf, n)
        gc.collect()
        before = gc.mem_alloc()
        for i in range(300):
            n = img_stream.send_tcp(cli, frames[i & 3])
            got = 0
            while got < n:
                got += conn.readinto(mv[got:n])  # slicing is the only garbage
        gc.collect()
        grown = gc.mem_alloc() - before
        # The conservative GC may keep the last slice alive from the stack;
        # 300 frames of per-frame garbage would be kilobytes.
        assert grown < 64, grown
        info = img_stream.buffer_info()
        assert info["encodes"] >= 304 and info["capacity"] <= info["limit"], info
    finally:
        cli.close()
        conn.close()


def test_send_itself_allocates_nothing():
    """Measured without the reader: 30 sends, then gc.mem_alloc() unchanged
    even without a collection in between."""
    cli, conn = pair()
    buf = bytearray(1 << 20)
    try:
        f = SyntheticCamera(96, 64, img_stream.NV12).snapshot()
        sizes = [0] * 30
        n = img_stream.send_tcp(cli, f)
        read_exactly(conn, buf, n)
        gc.collect()
        before = gc.mem_alloc()
        for i in range(30):
            sizes[i] = img_stream.send_tcp(cli, f)
        after = gc.mem_alloc()
        assert after == before, after - before
        read_exactly(conn, buf, sum(sizes))
    finally:
        cli.close()
        conn.close()


class SlowStream:
    """A Python-level stream: takes 1000 bytes per call and runs the GC and
    allocates on every write, to prove nothing img_stream uses mid-send is
    hidden from the GC."""

    def __init__(self):
        self.data = bytearray()

    def write(self, b):
        gc.collect()
        junk = [bytearray(64) for _ in range(50)]  # noqa: F841
        n = min(len(b), 1000)
        self.data.extend(bytes(b[:n]))
        return n


def test_python_stream_with_short_writes_and_gc():
    s = SlowStream()
    cam = SyntheticCamera(128, 96, img_stream.RGB888)
    img = cam.snapshot()
    n = img_stream.send_tcp(s, img)
    assert n == len(s.data)
    h = parse_header(bytes(s.data[:HEADER_LEN]))
    assert bytes(s.data[HEADER_LEN:]) == img_stream.encode(img) and h["payload_len"] == n - HEADER_LEN
    # JPEG pass-through from a temporary object while the GC runs each write.
    s2 = SlowStream()
    img_stream.send_tcp(s2, bytes(img_stream.encode(cam.snapshot(), quality=95)))
    h = parse_header(bytes(s2.data[:HEADER_LEN]))
    import binascii
    assert binascii.crc32(bytes(s2.data[HEADER_LEN:])) & 0xFFFFFFFF == h["payload_crc"]
    assert is_jpeg(bytes(s2.data[HEADER_LEN:]))


class RaisingStream:
    def __init__(self, after):
        self.after = after
        self.n = 0

    def write(self, b):
        if self.n >= self.after:
            raise KeyError("stream broke")
        n = min(len(b), 5)  # short writes, so the failure comes mid-frame
        self.n += n
        return n


def test_exception_in_stream_propagates_and_module_survives():
    img = SyntheticCamera(64, 48, img_stream.GRAYSCALE).snapshot()
    raises(KeyError, img_stream.send_tcp, RaisingStream(0), img)
    raises(KeyError, img_stream.send_tcp, RaisingStream(10), img)
    s = SlowStream()
    assert img_stream.send_tcp(s, img) == len(s.data)


def test_peer_closed_raises_oserror_with_errno():
    cli, conn = pair()
    conn.close()
    big = SyntheticCamera(640, 480, img_stream.RGB888).snapshot()
    e = None
    try:
        for _ in range(200):  # the first writes may still land in buffers
            img_stream.send_tcp(cli, big, quality=95)
    except OSError as ex:
        e = ex
    cli.close()
    # errno has no EPIPE on the unix port; Linux's value is 32.
    assert e is not None and e.errno in (getattr(errno, "EPIPE", 32), errno.ECONNRESET), e
    # A new connection streams normally.
    cli, conn = pair()
    buf = bytearray(1 << 20)
    img_stream.send_tcp(cli, big)
    h, _ = read_frame(conn, buf)
    assert h["width"] == 640
    cli.close()
    conn.close()


def test_timeout_raises_etimedout():
    cli, conn = pair()
    cli.settimeout(0.2)
    # Incompressible pixels: each frame is megabytes, the reader never reads.
    import random
    noise = bytearray(1920 * 1080 * 3)
    for i in range(0, len(noise), 7):
        noise[i] = random.getrandbits(8)
    f = img_stream.Frame(noise, 1920, 1080, img_stream.RGB888)
    e = None
    try:
        for _ in range(20):
            img_stream.send_tcp(cli, f, quality=100, subsampling=444)
    except OSError as ex:
        e = ex
    cli.close()
    conn.close()
    assert e is not None and e.errno == errno.ETIMEDOUT, e


def test_over_limit_raises_and_sends_nothing():
    cli, conn = pair()
    try:
        f = SyntheticCamera(320, 240, img_stream.RGB888).snapshot()
        img_stream.set_buffer_limit(4000)
        seq = None
        try:
            raises(ValueError, img_stream.send_tcp, cli, f, quality=95, contains="limit")
        finally:
            img_stream.set_buffer_limit(8 * 1024 * 1024)
        conn.setblocking(False)
        try:
            got = conn.recv(100)
        except OSError as ex:
            assert ex.errno == errno.EAGAIN
            got = b""
        assert got == b"", got
        conn.setblocking(True)
        # The refused frame consumed no sequence number.
        img_stream.send_tcp(cli, f, seq=50)
        img_stream.send_tcp(cli, f)
        buf = bytearray(1 << 20)
        assert read_frame(conn, buf)[0]["seq"] == 50
        assert read_frame(conn, buf)[0]["seq"] == 51
        del seq
    finally:
        cli.close()
        conn.close()


def test_bad_arguments():
    f = SyntheticCamera(16, 16, img_stream.GRAYSCALE).snapshot()
    raises(TypeError, img_stream.send_tcp, 42, f)
    raises(TypeError, img_stream.send_tcp, object(), f)
    s = SlowStream()
    raises(ValueError, img_stream.send_tcp, s, f, quality=0)
    raises(TypeError, img_stream.send_tcp, s, 3.5)
    # timestamp_us is a u64 on the wire: one parser, for every transport.
    for ts in (-1, -(2 ** 70), 2 ** 64):
        raises(ValueError, img_stream.send_tcp, s, f, timestamp_us=ts, contains="timestamp_us")
    raises(TypeError, img_stream.send_tcp, s, f, timestamp_us=1.5)
    assert s.data == bytearray()
    img_stream.send_tcp(s, f, timestamp_us=2 ** 64 - 1)
    assert parse_header(bytes(s.data[:HEADER_LEN]))["timestamp_us"] == 2 ** 64 - 1
