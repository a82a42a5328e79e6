# send_udp over real loopback UDP sockets: chunking (checked with an
# independent parser), both send paths, no heap growth, errors with errno,
# pacing, and the module staying usable after each failure.
import errno
import gc
import socket
import struct
import time

import img_stream
from checks import bind_free_port, raises
from synthetic_camera import SyntheticCamera
from wire import HEADER_LEN, crc32, parse_header

CHUNK_LEN = 32


def bind_udp():
    """A UDP socket bound to a free 127.0.0.1 port."""
    return bind_free_port(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))


def addr_of(port):
    return socket.getaddrinfo("127.0.0.1", port)[0][-1]


def udp_pair(blocking=True):
    """A bound receiving socket (blocking or not), a sending socket, and the
    receiver's address."""
    rx, port = bind_udp()
    rx.setblocking(blocking)
    return rx, socket.socket(socket.AF_INET, socket.SOCK_DGRAM), addr_of(port)


def parse_chunk(d):
    assert d[0:4] == b"IMGC", d[0:4]
    assert d[4] == 1 and d[5] == CHUNK_LEN, (d[4], d[5])
    flags, seq, cam, index, count, _res, offset, total, hcrc = struct.unpack("<HIHHHHIII", d[6:32])
    assert hcrc == crc32(d[0:28]), "chunk header crc"
    assert index < count and offset + len(d) - CHUNK_LEN <= total
    return dict(seq=seq, camera_id=cam, index=index, count=count, offset=offset, total=total)


def recv_frame(sock, n, mtu):
    """Receives n datagrams of one frame; returns (header, payload, chunks)."""
    msg = None
    chunks = []
    for i in range(n):
        d = sock.recv(65536)
        assert len(d) <= mtu, (len(d), mtu)
        c = parse_chunk(d)
        assert c["index"] == i and c["count"] == n, (c, i, n)
        if msg is None:
            msg = bytearray(c["total"])
        data = d[CHUNK_LEN:]
        msg[c["offset"]:c["offset"] + len(data)] = data
        chunks.append(c)
    h = parse_header(bytes(msg[:HEADER_LEN]))
    payload = bytes(msg[HEADER_LEN:])
    assert len(payload) == h["payload_len"] and crc32(payload) == h["payload_crc"]
    assert all(c["seq"] == h["seq"] and c["camera_id"] == h["camera_id"] for c in chunks)
    return h, payload, chunks


def test_sendto_datagrams_reassemble_to_encode():
    rx, tx, a = udp_pair()
    try:
        cam = SyntheticCamera(160, 120, img_stream.NV12)
        img_stream.set_camera_id(5)
        for mtu in (72, 300, 1400, 65507):
            img = cam.snapshot()
            n = img_stream.send_udp(tx, a, img, mtu=mtu, seq=40 + mtu, timestamp_us=2 ** 40)
            h, payload, chunks = recv_frame(rx, n, mtu)
            assert payload == img_stream.encode(img)
            assert (h["seq"], h["camera_id"], h["timestamp_us"]) == (40 + mtu, 5, 2 ** 40), h
            assert (h["width"], h["height"], h["format"]) == (160, 120, img_stream.JPEG)
            # Every datagram but the last is exactly mtu bytes.
            total = HEADER_LEN + len(payload)
            assert n == (total + mtu - CHUNK_LEN - 1) // (mtu - CHUNK_LEN), (n, total, mtu)
    finally:
        img_stream.set_camera_id(0)
        tx.close()
        rx.close()


def test_connected_socket_one_write_one_datagram():
    rx, tx, a = udp_pair()
    tx.connect(a)
    try:
        img = SyntheticCamera(128, 96, img_stream.RGB565).snapshot()
        n = img_stream.send_udp(tx, None, img, mtu=500, quality=80)
        assert n > 3
        _, payload, _ = recv_frame(rx, n, 500)
        assert payload == img_stream.encode(img, quality=80)
        # JPEG input passes through unchanged, from an immutable object.
        jpeg = img_stream.encode(img, quality=30)
        n = img_stream.send_udp(tx, None, jpeg, mtu=500)
        h, payload, _ = recv_frame(rx, n, 500)
        assert payload == jpeg and (h["width"], h["height"]) == (128, 96)
    finally:
        tx.close()
        rx.close()


def sends_allocate_nothing(send, rx, count=30):
    f = SyntheticCamera(32, 32, img_stream.GRAYSCALE).snapshot()
    sizes = [0] * count
    send(f)
    rx.recv(2048)
    gc.collect()
    before = gc.mem_alloc()
    for i in range(count):
        sizes[i] = send(f)
    after = gc.mem_alloc()
    for i in range(sum(sizes)):
        rx.recv(2048)
    return after - before, sizes


def test_sends_allocate_nothing_both_paths():
    rx, tx, a = udp_pair()
    try:
        grown, sizes = sends_allocate_nothing(lambda f: img_stream.send_udp(tx, a, f), rx)
        assert grown == 0 and sizes == [1] * 30, (grown, sizes)
        tx.connect(a)
        grown, sizes = sends_allocate_nothing(lambda f: img_stream.send_udp(tx, None, f), rx)
        assert grown == 0 and sizes == [1] * 30, (grown, sizes)
    finally:
        tx.close()
        rx.close()


def test_300_multi_datagram_frames_do_not_grow_the_heap():
    rx, tx, a = udp_pair(blocking=False)
    buf = bytearray(2048)
    cam = SyntheticCamera(160, 120, img_stream.RGB565)
    frames = [cam.snapshot() for _ in range(4)]

    def drain():
        # Non-blocking readinto returns None when the queue is empty (it is
        # a stream read: one call may take several datagrams).
        while rx.readinto(buf) is not None:
            pass

    try:
        for f in frames:
            img_stream.send_udp(tx, a, f, mtu=1000, max_rate=50_000_000)
        drain()
        gc.collect()
        before = gc.mem_alloc()
        sent = 0
        for i in range(300):
            sent += img_stream.send_udp(tx, a, frames[i & 3], mtu=1000, max_rate=50_000_000)
            drain()
        grown = gc.mem_alloc() - before
        assert grown == 0, grown
        assert sent >= 600, sent
    finally:
        tx.close()
        rx.close()


class PySock:
    """A Python-level socket: runs the GC and allocates in every sendto, and
    keeps what it is given (so it must not be a view into the reused buffer)."""

    def __init__(self, short=False, fail_after=None):
        self.got = []
        self.short = short
        self.fail_after = fail_after

    def sendto(self, b, addr):
        if self.fail_after is not None and len(self.got) >= self.fail_after:
            raise KeyError("socket broke")
        gc.collect()
        junk = [bytearray(64) for _ in range(20)]  # noqa: F841
        self.got.append((b, addr))
        return len(b) - 1 if self.short else len(b)


def test_python_level_sendto_with_gc_and_kept_views():
    s = PySock()
    img = SyntheticCamera(96, 64, img_stream.RGB888).snapshot()
    n = img_stream.send_udp(s, ("x", 1), img, mtu=200)
    assert n == len(s.got) and n > 2
    assert all(a == ("x", 1) for _, a in s.got)
    # What it kept is still the datagrams, after more frames went out.
    img_stream.send_udp(PySock(), ("x", 1), SyntheticCamera(96, 64, img_stream.NV12).snapshot())
    msg = bytearray()
    for i, (d, _) in enumerate(s.got):
        c = parse_chunk(d)
        assert (c["index"], c["count"], c["offset"]) == (i, n, len(msg)), c
        msg += d[CHUNK_LEN:]
    assert bytes(msg[HEADER_LEN:]) == img_stream.encode(img)
    raises(KeyError, img_stream.send_udp, PySock(fail_after=2), ("x", 1), img, mtu=200)
    e = raises(OSError, img_stream.send_udp, PySock(short=True), ("x", 1), img, mtu=200)
    assert e.errno == errno.EIO, e
    # Still fine afterwards.
    s = PySock()
    assert img_stream.send_udp(s, ("x", 1), img, mtu=200) == len(s.got)


def test_refused_port_raises_oserror_and_module_survives():
    rx, tx, a = udp_pair()
    rx.close()  # nobody listens there now: ICMP port unreachable
    tx.connect(a)
    img = SyntheticCamera(320, 240, img_stream.RGB888).snapshot()
    e = None
    try:
        for _ in range(10):
            img_stream.send_udp(tx, None, img, mtu=500)
    except OSError as ex:
        e = ex
    tx.close()
    assert e is not None and e.errno == errno.ECONNREFUSED, e
    rx, tx, a = udp_pair()
    try:
        n = img_stream.send_udp(tx, a, img, mtu=500)
        _, payload, _ = recv_frame(rx, n, 500)
        assert payload == img_stream.encode(img)
    finally:
        tx.close()
        rx.close()


def test_bad_arguments_send_nothing_and_keep_seq():
    rx, tx, a = udp_pair(blocking=False)
    img = SyntheticCamera(64, 48, img_stream.GRAYSCALE).snapshot()
    try:
        img_stream.send_udp(tx, a, img, seq=100)
        rx.recv(2048)
        raises(ValueError, img_stream.send_udp, tx, a, img, mtu=71, contains="mtu")
        raises(ValueError, img_stream.send_udp, tx, a, img, mtu=65508, contains="mtu")
        raises(ValueError, img_stream.send_udp, tx, a, img, gap_us=-1)
        raises(ValueError, img_stream.send_udp, tx, a, img, max_rate=0)
        raises(ValueError, img_stream.send_udp, tx, a, img, quality=0)
        raises(TypeError, img_stream.send_udp, 42, a, img)
        raises(TypeError, img_stream.send_udp, object(), None, img)
        # A frame needing more than 65535 datagrams: 40 data bytes each at
        # mtu 72, so a JPEG of 2.7 MB (padding after EOI is still a JPEG).
        big = img_stream.encode(img) + bytes(65535 * 40)
        raises(ValueError, img_stream.send_udp, tx, a, big, mtu=72, contains="65535")
        try:
            rx.recv(2048)
            assert False, "a refused call sent something"
        except OSError as e:
            assert e.errno == errno.EAGAIN
        n = img_stream.send_udp(tx, a, img)
        rx.setblocking(True)
        h, _, _ = recv_frame(rx, n, 1400)
        assert h["seq"] == 101, h
    finally:
        tx.close()
        rx.close()


def test_pacing_spaces_datagrams():
    rx, tx, a = udp_pair()
    # Noise does not compress: a few kB, so several datagrams at mtu 532.
    import random
    noise = bytearray(64 * 64)
    for i in range(len(noise)):
        noise[i] = random.getrandbits(8)
    f = img_stream.Frame(noise, 64, 64, img_stream.GRAYSCALE)
    try:
        img_stream.send_udp(tx, a, f, mtu=532)  # warm up the buffer
        t0 = time.ticks_us()
        n = img_stream.send_udp(tx, a, f, mtu=532, gap_us=3000)
        dt = time.ticks_diff(time.ticks_us(), t0)
        assert n >= 4, n
        # n datagrams: n - 1 gaps inside the call (the first may wait for
        # the previous call's schedule, which had no pacing).
        assert dt >= 3000 * (n - 1), (dt, n)
        # 100 kB/s, 532-byte datagrams: 5.32 ms each.
        t0 = time.ticks_us()
        n2 = img_stream.send_udp(tx, a, f, mtu=532, max_rate=100_000)
        dt = time.ticks_diff(time.ticks_us(), t0)
        assert dt >= 5320 * (n2 - 1), (dt, n2)
        # The schedule carries over: a second call waits for the first's last datagram.
        t0 = time.ticks_us()
        img_stream.send_udp(tx, a, f, mtu=532, max_rate=100_000)
        dt = time.ticks_diff(time.ticks_us(), t0)
        assert dt >= 5320 * (n2 - 1) + 1000, (dt, n2)
    finally:
        tx.close()
        rx.close()
