# send_mjpeg()/mjpeg_head(): part layout, short writes, errors, no garbage.
import gc
import io
import socket

import img_stream
from checks import raises, is_jpeg

HEAD = b"HTTP/1.1 200 OK\r\n"


def gray(w=64, h=48, v=0):
    buf = bytearray(w * h)
    for i in range(len(buf)):
        buf[i] = (i * 7 + v) & 255
    return img_stream.Frame(buf, w, h, img_stream.GRAYSCALE)


def split_part(data):
    """(headers dict, jpeg, rest) of one part (the bytes after a boundary line)."""
    end = data.find(b"\r\n\r\n")
    assert end > 0, data[:100]
    fields = {}
    for line in data[:end].split(b"\r\n"):
        k, v = line.split(b": ", 1)
        fields[k.decode()] = v.decode()
    n = int(fields["Content-Length"])
    start = end + 4
    return fields, data[start:start + n], data[start + n:]


def test_response_head():
    h = img_stream.mjpeg_head()
    assert h.startswith(HEAD), h
    assert b"\r\nContent-Type: multipart/x-mixed-replace;boundary=img_stream\r\n" in h
    assert b"\r\nCache-Control: no-store" in h and b"\r\nPragma: no-cache\r\n" in h
    assert b"\r\nAccess-Control-Allow-Origin: *\r\n" in h
    # The head ends with the first boundary line: parts follow directly.
    assert h.endswith(b"\r\n\r\n--img_stream\r\n"), h
    h = img_stream.mjpeg_head(boundary="b0und", allow_origin="http://a.example")
    assert b"boundary=b0und\r\n" in h and h.endswith(b"\r\n--b0und\r\n")
    assert b"\r\nAccess-Control-Allow-Origin: http://a.example\r\n" in h
    assert b"Access-Control" not in img_stream.mjpeg_head(allow_origin=None)
    assert b"Access-Control" not in img_stream.mjpeg_head(allow_origin="")


def test_part_head_and_into():
    h = img_stream.mjpeg_head(1234, timestamp_us=5000001)
    assert h == b"Content-Type: image/jpeg\r\nContent-Length: 1234\r\nX-Timestamp: 5.000001\r\n\r\n", h
    # Large timestamps (beyond a small int) keep every digit.
    h = img_stream.mjpeg_head(7, timestamp_us=12345678901234567)
    assert b"X-Timestamp: 12345678901.234567\r\n" in h, h
    # `into`: written at the end, right in front of whatever follows.
    buf = bytearray(b"." * 120)
    n = img_stream.mjpeg_head(99, into=buf, timestamp_us=1)
    assert buf[-n:] == img_stream.mjpeg_head(99, timestamp_us=1)
    assert buf[:120 - n] == b"." * (120 - n)
    e = raises(ValueError, img_stream.mjpeg_head, 99, into=bytearray(20), timestamp_us=1,
               contains="need")
    assert str(n) in str(e), str(e)
    mv = memoryview(bytearray(320))
    n = img_stream.mjpeg_head(into=mv[:300])
    assert bytes(mv[300 - n:300]) == img_stream.mjpeg_head()


def test_bad_arguments():
    raises(ValueError, img_stream.mjpeg_head, boundary="", contains="boundary")
    raises(ValueError, img_stream.mjpeg_head, boundary="a b", contains="boundary")
    raises(ValueError, img_stream.mjpeg_head, boundary="x" * 71, contains="boundary")
    assert img_stream.mjpeg_head(boundary="x" * 70).endswith(b"x" * 70 + b"\r\n")
    raises(ValueError, img_stream.mjpeg_head, allow_origin="*\r\nSet-Cookie: a", contains="allow_origin")
    raises(ValueError, img_stream.mjpeg_head, -1, contains="length")
    raises(ValueError, img_stream.mjpeg_head, 5, timestamp_us=-1, contains="timestamp")
    raises(ValueError, img_stream.send_mjpeg, io.BytesIO(), gray(), boundary="a\nb", contains="boundary")
    raises(ValueError, img_stream.send_mjpeg, io.BytesIO(), gray(), quality=0)
    raises(TypeError, img_stream.send_mjpeg, 42, gray())
    raises(TypeError, img_stream.send_mjpeg, io.BytesIO(), 42)
    # Still usable afterwards.
    assert img_stream.send_mjpeg(io.BytesIO(), gray()) > 0


def test_send_mjpeg_part_layout():
    s = io.BytesIO()
    n = img_stream.send_mjpeg(s, gray(), quality=80, timestamp_us=3000007)
    data = s.getvalue()
    assert n == len(data)
    fields, jpeg, rest = split_part(data)
    assert fields["Content-Type"] == "image/jpeg"
    assert fields["X-Timestamp"] == "3.000007"
    assert is_jpeg(jpeg)
    assert jpeg == img_stream.encode(gray(), quality=80)
    # The part ends with the next part's boundary line.
    assert rest == b"\r\n--img_stream\r\n", rest
    # Without timestamp_us the clock is used: it moves forward.
    s2 = io.BytesIO()
    img_stream.send_mjpeg(s2, gray(), boundary="zz")
    f2, _, rest2 = split_part(s2.getvalue())
    assert float(f2["X-Timestamp"]) > 0 and rest2 == b"\r\n--zz\r\n"


def test_stream_of_parts_parses_back():
    s = io.BytesIO()
    s.write(img_stream.mjpeg_head())
    for i in range(5):
        img_stream.send_mjpeg(s, gray(v=i * 40), timestamp_us=i * 1000)
    body = s.getvalue()
    parts = body.split(b"\r\n\r\n--img_stream\r\n", 1)[1]
    seen = 0
    while parts:
        fields, jpeg, parts = split_part(parts)
        assert is_jpeg(jpeg) and fields["X-Timestamp"] == "0.%06d" % (seen * 1000)
        assert parts.startswith(b"\r\n--img_stream\r\n")
        parts = parts[len(b"\r\n--img_stream\r\n"):]
        seen += 1
    assert seen == 5


def test_jpeg_passes_through():
    j = img_stream.encode(gray(), quality=50)
    s = io.BytesIO()
    img_stream.send_mjpeg(s, j, quality=90, timestamp_us=1)
    _, jpeg, _ = split_part(s.getvalue())
    assert jpeg == j


class Trickle:
    """A Python stream that takes at most `chunk` bytes per write."""

    def __init__(self, chunk, fail_after=None, exc=None):
        self.out = bytearray()
        self.chunk = chunk
        self.fail_after = fail_after
        self.exc = exc

    def write(self, b):
        if self.fail_after is not None and len(self.out) >= self.fail_after:
            raise self.exc
        n = min(len(b), self.chunk)
        self.out.extend(b[:n])
        return n


def test_short_writes_are_resumed():
    t = Trickle(37)
    n = img_stream.send_mjpeg(t, gray(), timestamp_us=1)
    ref = io.BytesIO()
    img_stream.send_mjpeg(ref, gray(), timestamp_us=1)
    assert n == len(t.out) and bytes(t.out) == ref.getvalue()


def test_stream_errors_propagate():
    t = Trickle(100, fail_after=200, exc=OSError(32))
    e = raises(OSError, img_stream.send_mjpeg, t, gray())
    assert e.args[0] == 32
    t = Trickle(100, fail_after=0, exc=KeyError("boom"))
    raises(KeyError, img_stream.send_mjpeg, t, gray())
    # A stream that takes nothing and reports nothing is an error, not a hang.
    raises(OSError, img_stream.send_mjpeg, Trickle(0), gray())
    assert img_stream.send_mjpeg(io.BytesIO(), gray()) > 0


def socket_pair():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for port in range(18750, 18790):
        try:
            srv.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
            break
        except OSError:
            pass
    srv.listen(1)
    c = socket.socket()
    c.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    a, _ = srv.accept()
    srv.close()
    return a, c


def recv_exactly(sock, buf, n):
    mv = memoryview(buf)
    got = 0
    while got < n:
        r = sock.readinto(mv[got:n])
        assert r, "connection closed"
        got += r
    return got


def test_real_socket_and_no_garbage():
    a, c = socket_pair()
    try:
        f = gray(160, 120)
        rx = bytearray(64 * 1024)
        n = img_stream.send_mjpeg(a, f, timestamp_us=42)
        recv_exactly(c, rx, n)
        _, jpeg, rest = split_part(bytes(rx[:n]))
        assert is_jpeg(jpeg) and rest == b"\r\n--img_stream\r\n"
        # Steady state: the encode buffer is reused and nothing is allocated.
        gc.collect()
        grown = 0
        for _ in range(20):
            before = gc.mem_alloc()
            m = img_stream.send_mjpeg(a, f, timestamp_us=42)
            grown += gc.mem_alloc() - before
            recv_exactly(c, rx, m)
        assert grown == 0, grown
    finally:
        a.close()
        c.close()


def test_non_blocking_socket_raises_eagain_when_full():
    a, c = socket_pair()
    try:
        a.setblocking(False)
        f = img_stream.Frame(bytearray(b"\x55\xaa" * 160 * 120), 320, 120, img_stream.GRAYSCALE)
        e = None
        for _ in range(10000):  # the peer never reads: the buffers fill up
            try:
                img_stream.send_mjpeg(a, f, quality=100)
            except OSError as x:
                e = x
                break
        assert e is not None and e.args[0] == 11, e  # EAGAIN
    finally:
        a.close()
        c.close()
