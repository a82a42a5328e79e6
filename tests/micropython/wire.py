# Reading protocol-v1 frames in MicroPython tests (an independent, minimal
# parser: header fields by offset, both CRCs checked with binascii).
import binascii
import struct

HEADER_LEN = 40


def crc32(b):
    return binascii.crc32(b) & 0xFFFFFFFF


def parse_header(h):
    assert len(h) >= HEADER_LEN
    assert h[0:4] == b"IMGS", h[0:4]
    assert h[4] == 1 and h[5] == HEADER_LEN, (h[4], h[5])
    (flags, seq, ts, w, hh, fmt, _res, cam, plen, pcrc, hcrc) = struct.unpack("<HIQHHBBHIII", h[6:40])
    assert hcrc == crc32(h[0:36]), "header crc"
    return dict(flags=flags, seq=seq, timestamp_us=ts, width=w, height=hh, format=fmt,
                camera_id=cam, payload_len=plen, payload_crc=pcrc)


def read_exactly(sock, buf, n):
    """Reads n bytes into buf (a bytearray at least n long) without allocating."""
    mv = memoryview(buf)
    got = 0
    while got < n:
        k = sock.readinto(mv[got:n])
        if not k:
            raise OSError("peer closed after %d of %d bytes" % (got, n))
        got += k
    return mv[:n]


def read_frame(sock, buf):
    """Reads one frame into buf; returns (header dict, payload memoryview)."""
    h = dict(parse_header(bytes(read_exactly(sock, buf, HEADER_LEN))))
    n = h["payload_len"]
    payload = read_exactly(sock, buf, n)
    assert crc32(payload) == h["payload_crc"], "payload crc"
    return h, payload
