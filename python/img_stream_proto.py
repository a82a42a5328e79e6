"""img_stream wire protocol v1 in plain CPython (standard library only).

A second, independent implementation of ``docs/PROTOCOL.md`` for PC-side
scripts: receive frames from a board and hand the JPEG bytes to OpenCV,
Numpy or Pillow::

    import socket, numpy as np, cv2
    from img_stream_proto import read_frames

    srv = socket.create_server(("127.0.0.1", 8000))
    conn, _ = srv.accept()
    for frame in read_frames(conn):
        img = cv2.imdecode(np.frombuffer(frame.payload, np.uint8), cv2.IMREAD_COLOR)
        print(frame.seq, frame.timestamp_us, img.shape)

Pieces:

- ``parse_header(data)`` / ``build_frame(payload, ...)``: one frame header;
- ``StreamDecoder``: ``feed(bytes)`` returns the good frames found so far,
  resynchronising after garbage, skipping unknown versions, refusing
  oversize lengths before allocating, and counting what it dropped;
- ``ChunkAssembler``: reassembles chunk messages (MQTT/UDP) per source,
  camera and sequence number, with duplicate, reorder, timeout and
  superseded handling;
- ``classify(message)``: ``"chunk"``, ``"frame"``, ``"jpeg"`` or ``"unknown"``;
- ``read_frames(sock_or_file)``: frames from a socket or binary file.

Run ``python3 img_stream_proto.py recv --listen 127.0.0.1:8000 --out DIR``
for a small receiver that saves the JPEGs.
"""

import struct
import time
import zlib
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Optional

__all__ = [
    "MAGIC", "CHUNK_MAGIC", "VERSION", "HEADER_LEN", "CHUNK_HEADER_LEN",
    "DEFAULT_MAX_PAYLOAD", "FORMATS", "ProtocolError", "UnsupportedVersion",
    "FrameHeader", "ChunkHeader", "ReceivedFrame", "parse_header", "parse_chunk_header",
    "build_frame", "build_chunks", "classify", "StreamDecoder", "ChunkAssembler",
    "read_frames",
]

# --- protocol constants: generated from the Rust core by src/header_check.rs (`make header`); do not edit ---
MAGIC = b"IMGS"
CHUNK_MAGIC = b"IMGC"
VERSION = 1
HEADER_LEN = 40
CHUNK_HEADER_LEN = 32
PREFIX_LEN = 6  # magic, version, header_len: enough to judge a candidate
DEFAULT_MAX_PAYLOAD = 16777216
DEFAULT_MAX_PENDING = 4
DEFAULT_CHUNK_TIMEOUT = 2.0
FORMATS = {
    1: "grayscale",
    2: "rgb565",
    3: "rgb565_swapped",
    4: "rgb888",
    5: "bgr888",
    6: "rgbp888",
    7: "yuv422",
    8: "nv12",
    9: "jpeg",
}
# --- end of generated constants ---
# Finished frames remembered per (source, camera) to classify stragglers.
RECENT_KEYS = 32

# Everything before header_crc; all little-endian.
_FRAME = struct.Struct("<4sBBHIQHHBBHII")
_CHUNK = struct.Struct("<4sBBHIHHHHII")
_U32 = struct.Struct("<I")


class ProtocolError(ValueError):
    """Bytes that are not a usable header. ``kind`` is one of ``truncated``,
    ``bad_magic``, ``bad_header_len``, ``bad_header_crc``,
    ``unsupported_version``, ``bad_index``, ``no_data``, ``out_of_range``,
    ``bad_total``."""

    def __init__(self, kind, message=None):
        super().__init__(message or kind.replace("_", " "))
        self.kind = kind


class UnsupportedVersion(ProtocolError):
    """A header whose CRC matches but whose version is not 1. For frames,
    ``header_len + payload_len`` bytes can be skipped."""

    def __init__(self, version, header_len, payload_len=None):
        super().__init__("unsupported_version", f"unsupported version {version}")
        self.version = version
        self.header_len = header_len
        self.payload_len = payload_len


@dataclass(frozen=True)
class FrameHeader:
    """A v1 frame header's fields."""
    flags: int
    seq: int
    timestamp_us: int
    width: int
    height: int
    format: int
    camera_id: int
    payload_len: int
    payload_crc: int

    @property
    def frame_len(self):
        return HEADER_LEN + self.payload_len


@dataclass(frozen=True)
class ChunkHeader:
    """A v1 chunk header's fields."""
    flags: int
    seq: int
    camera_id: int
    index: int
    count: int
    offset: int
    total: int


@dataclass(frozen=True)
class ReceivedFrame(FrameHeader):
    """A delivered frame: its header's fields, the verified payload, and where
    it came from (``offset`` in the stream, ``source`` for chunked frames)."""
    payload: bytes
    offset: Optional[int] = None
    source: object = None

    @property
    def format_name(self):
        return FORMATS.get(self.format, f"format{self.format}")

    @classmethod
    def _from(cls, header, payload, offset=None, source=None):
        return cls(**vars(header), payload=payload, offset=offset, source=source)


def _check_prefix(data, magic, min_len):
    """Length, magic, header_len and header CRC, in the receiver's order;
    returns header_len."""
    if len(data) < PREFIX_LEN:
        raise ProtocolError("truncated")
    if bytes(data[:4]) != magic:
        raise ProtocolError("bad_magic")
    header_len = data[5]
    if header_len < min_len:
        raise ProtocolError("bad_header_len")
    if len(data) < header_len:
        raise ProtocolError("truncated")
    stored = _U32.unpack_from(data, header_len - 4)[0]
    if zlib.crc32(bytes(data[:header_len - 4])) != stored:
        raise ProtocolError("bad_header_crc")
    return header_len


def parse_header(data):
    """Parses the frame header at the start of ``data`` (bytes-like).

    Returns a ``FrameHeader``; raises ``UnsupportedVersion`` for a valid
    header of another version and ``ProtocolError`` otherwise. The payload is
    not looked at."""
    header_len = _check_prefix(data, MAGIC, HEADER_LEN)
    fields = _FRAME.unpack_from(data, 0)
    version, payload_len = fields[1], fields[11]
    if version != VERSION:
        raise UnsupportedVersion(version, header_len, payload_len)
    if header_len != HEADER_LEN:
        raise ProtocolError("bad_header_len")
    (_, _, _, flags, seq, ts, width, height, fmt, _reserved, cam, plen, pcrc) = fields
    return FrameHeader(flags, seq, ts, width, height, fmt, cam, plen, pcrc)


def parse_chunk_header(data):
    """Parses the chunk header at the start of a chunk message. Checks the
    header only (and ``index < count``), not the data; see
    ``ChunkAssembler.push`` for the message rules."""
    header_len = _check_prefix(data, CHUNK_MAGIC, CHUNK_HEADER_LEN)
    fields = _CHUNK.unpack_from(data, 0)
    if fields[1] != VERSION:
        raise UnsupportedVersion(fields[1], header_len)
    if header_len != CHUNK_HEADER_LEN:
        raise ProtocolError("bad_header_len")
    (_, _, _, flags, seq, cam, index, count, _reserved, offset, total) = fields
    if index >= count:
        raise ProtocolError("bad_index")
    return ChunkHeader(flags, seq, cam, index, count, offset, total)


def build_frame(payload, seq, *, timestamp_us=0, width=0, height=0, format=9,
                camera_id=0, flags=0):
    """A whole v1 frame (header + payload), as a sender writes it."""
    head = _FRAME.pack(MAGIC, VERSION, HEADER_LEN, flags, seq & 0xFFFFFFFF,
                       timestamp_us, width, height, format, 0, camera_id,
                       len(payload), zlib.crc32(payload))
    return head + _U32.pack(zlib.crc32(head)) + bytes(payload)


def build_chunk(seq, camera_id, index, count, offset, total, data):
    """One chunk message with exactly these header fields (valid header CRC),
    whatever they say: for senders and for tests that craft bad chunks."""
    head = _CHUNK.pack(CHUNK_MAGIC, VERSION, CHUNK_HEADER_LEN, 0, seq & 0xFFFFFFFF,
                       camera_id, index, count, 0, offset, total)
    return head + _U32.pack(zlib.crc32(head)) + bytes(data)


def build_chunks(frame, seq, camera_id=0, max_message=1400):
    """Cuts a whole frame (``build_frame`` output) into chunk messages of at
    most ``max_message`` bytes each, header included."""
    size = max_message - CHUNK_HEADER_LEN
    if size <= 0:
        raise ValueError("max_message leaves no room for data")
    count = -(-len(frame) // size)
    if not 1 <= count <= 0xFFFF:
        raise ValueError("frame needs too many chunks")
    return [build_chunk(seq, camera_id, index, count, index * size, len(frame),
                        frame[index * size:(index + 1) * size])
            for index in range(count)]


def classify(message):
    """What a message payload is, from its first bytes: ``"chunk"`` (IMGC),
    ``"frame"`` (IMGS), ``"jpeg"`` (FF D8, a bare JPEG) or ``"unknown"``."""
    head = bytes(message[:4])
    if head == CHUNK_MAGIC:
        return "chunk"
    if head == MAGIC:
        return "frame"
    if head[:2] == b"\xff\xd8":
        return "jpeg"
    return "unknown"


class StreamDecoder:
    """Frames from a byte stream (TCP), by the receiver rules of
    docs/PROTOCOL.md. Feed it bytes in any pieces; it returns the same
    frames and counts however the stream is split.

    Counters (attributes, also ``counters()``): ``frames``, ``crc_errors``,
    ``bad_headers``, ``unsupported``, ``oversize``, ``garbage_bytes`` and
    ``truncated`` (set by ``finish()`` when the input ended mid-frame)."""

    COUNTERS = ("frames", "crc_errors", "bad_headers", "unsupported", "oversize",
                "garbage_bytes", "truncated")

    def __init__(self, max_payload=DEFAULT_MAX_PAYLOAD):
        self.max_payload = max_payload
        self._buf = bytearray()
        self._pos = 0  # stream offset of _buf[0]
        self._skip = 0  # bytes of an unsupported frame still to drop
        self._header = None  # parsed header waiting for its payload
        for name in self.COUNTERS:
            setattr(self, name, 0)

    def counters(self):
        return {name: getattr(self, name) for name in self.COUNTERS}

    def _drop(self, n):
        del self._buf[:n]
        self._pos += n

    def feed(self, data):
        """Adds received bytes; returns a list of the complete, verified
        frames they finished (possibly empty)."""
        self._buf += data
        out = []
        while True:
            frame = self._step()
            if frame is None:
                return out
            if frame is not True:
                out.append(frame)

    def finish(self):
        """Marks the end of input; counts a partial frame left over."""
        if self._skip or self._buf:
            self.truncated += 1
        self._buf.clear()
        self._skip = 0
        self._header = None

    def _garbage(self, n):
        self.garbage_bytes += n
        self._drop(n)
        return True

    def _step(self):
        """One decision: ``None`` when more bytes are needed, ``True`` after
        dropping bytes, or a delivered ``ReceivedFrame``."""
        buf = self._buf
        if self._skip:
            n = min(self._skip, len(buf))
            self._drop(n)
            self._skip -= n
            if self._skip:
                return None
        if self._header is None:
            if not buf.startswith(MAGIC):
                if MAGIC.startswith(buf):
                    return None  # could still become the magic
                at = buf.find(MAGIC)
                if at < 0:
                    # Keep a tail that may be a magic split across reads.
                    keep = next((k for k in (3, 2, 1) if buf.endswith(MAGIC[:k])), 0)
                    at = len(buf) - keep
                return self._garbage(at)
            if len(buf) < PREFIX_LEN:
                return None
            if buf[5] < HEADER_LEN:
                self.bad_headers += 1
                return self._garbage(1)
            if len(buf) < buf[5]:
                return None
            try:
                header = parse_header(buf)
            except UnsupportedVersion as e:
                self.unsupported += 1
                self._skip = e.header_len + e.payload_len
                return True
            except ProtocolError:
                self.bad_headers += 1
                return self._garbage(1)
            if header.payload_len > self.max_payload:
                # Refused before any payload buffer exists.
                self.oversize += 1
                return self._garbage(1)
            self._header = header
        header = self._header
        end = header.frame_len
        if len(buf) < end:
            return None
        payload = bytes(buf[HEADER_LEN:end])
        offset = self._pos
        self._header = None
        self._drop(end)
        if zlib.crc32(payload) != header.payload_crc:
            self.crc_errors += 1
            return True
        self.frames += 1
        return ReceivedFrame._from(header, payload, offset=offset)


class _Pending:
    """A frame in progress: the chunks that arrived, by index. Nothing is
    sized by ``total`` until every chunk is in (PROTOCOL.md 3.3, Memory)."""
    __slots__ = ("count", "total", "have", "order", "started")

    def __init__(self, count, total, order, started):
        self.count = count
        self.total = total
        self.have = {}  # index -> (offset, data)
        self.order = order
        self.started = started

    def join(self):
        buf = bytearray(self.total)
        for offset, data in self.have.values():
            buf[offset:offset + len(data)] = data
        return buf


class ChunkAssembler:
    """Reassembles chunk messages into frames, per (source, camera_id, seq);
    a whole frame (IMGS) message is checked and delivered at once.

    ``push(message, source)`` returns a verified ``ReceivedFrame`` when the message
    completed one, else ``None``. A frame still incomplete ``timeout``
    seconds after its first chunk, or pushed out because more than
    ``max_pending`` frames of the same (source, camera) are in progress, is
    dropped; so are all of them at ``flush()``.

    Counters: ``chunks`` (stored), ``frames``, ``garbage`` (rejected
    messages), ``unsupported``, ``duplicates``, ``late`` (chunks of a frame
    already dropped), ``corrupt`` (count/total disagree), ``incomplete``,
    ``crc_errors`` and ``bad_headers`` (of the reassembled frame)."""

    COUNTERS = ("chunks", "frames", "garbage", "unsupported", "duplicates", "late",
                "corrupt", "incomplete", "crc_errors", "bad_headers")

    def __init__(self, max_payload=DEFAULT_MAX_PAYLOAD, max_pending=DEFAULT_MAX_PENDING,
                 timeout=DEFAULT_CHUNK_TIMEOUT, clock=time.monotonic):
        self.max_total = max_payload + HEADER_LEN
        self.max_pending = max(1, max_pending)
        self.timeout = timeout
        self.clock = clock
        self._pending = OrderedDict()  # key -> _Pending, in start order
        self._recent = {}  # (source, camera) -> deque of (seq, delivered)
        self._order = 0
        for name in self.COUNTERS:
            setattr(self, name, 0)

    def counters(self):
        return {name: getattr(self, name) for name in self.COUNTERS}

    @property
    def pending(self):
        """Frames in progress."""
        return len(self._pending)

    def _finished(self, key, total, head):
        """Remembers a finished frame: its (seq, total) and, when it
        completed, its frame header (None when it was dropped)."""
        q = self._recent.setdefault(key[:2], deque(maxlen=RECENT_KEYS))
        q.append((key[2], total, head))

    def _drop(self, key, counter):
        p = self._pending.pop(key)
        self._finished(key, p.total, None)
        setattr(self, counter, getattr(self, counter) + 1)

    def expire(self, now=None):
        """Drops frames whose first chunk is older than the timeout."""
        now = self.clock() if now is None else now
        for key in [k for k, p in self._pending.items() if now - p.started > self.timeout]:
            self._drop(key, "incomplete")

    def flush(self):
        """Drops every frame in progress (end of input)."""
        for key in list(self._pending):
            self._drop(key, "incomplete")

    def push(self, message, source=None, now=None):
        now = self.clock() if now is None else now
        self.expire(now)
        if bytes(message[:4]) == MAGIC:
            return self._push_whole(message, source)
        try:
            c = parse_chunk_header(message)
        except UnsupportedVersion:
            self.unsupported += 1
            return None
        except ProtocolError:
            self.garbage += 1
            return None
        data_len = len(message) - CHUNK_HEADER_LEN
        # count > total: more chunks than bytes, no sender cuts a frame so.
        if data_len <= 0 or not HEADER_LEN <= c.total <= self.max_total \
                or c.offset + data_len > c.total or c.count > c.total:
            self.garbage += 1
            return None
        key = (source, c.camera_id, c.seq)
        data = memoryview(message)[CHUNK_HEADER_LEN:]
        for seq, total, head in self._recent.get(key[:2], ()):
            if (seq, total) == (c.seq, c.total):
                n = min(len(head), data_len) if head is not None else 0
                if c.offset == 0 and head is not None and head[:n] != data[:n]:
                    # Other bytes under a finished seq: the sender restarted.
                    del self._recent[key[:2]]
                    break
                if head is not None:
                    self.duplicates += 1
                else:
                    self.late += 1
                return None
        p = self._pending.get(key)
        if p is None:
            same = [k for k in self._pending if k[:2] == key[:2]]
            while len(same) >= self.max_pending:
                self._drop(same.pop(0), "incomplete")
            self._order += 1
            p = self._pending[key] = _Pending(c.count, c.total, self._order, now)
        elif p.count != c.count or p.total != c.total:
            self._drop(key, "corrupt")
            return None
        if c.index in p.have:
            self.duplicates += 1
            return None
        p.have[c.index] = (c.offset, bytes(data))
        self.chunks += 1
        if len(p.have) < p.count:
            return None
        del self._pending[key]
        buf = p.join()
        self._finished(key, p.total, bytes(buf[:HEADER_LEN]))
        return self._deliver(buf, source, key)

    def _push_whole(self, message, source):
        """A whole frame in one message: checked at once, and remembered like
        a completed chunked frame, so the same message again is a duplicate
        and the same seq with another header a restarted sender."""
        checked = self._check(message, max_payload=self.max_total - HEADER_LEN)
        if checked is None:
            return None
        header, payload = checked
        cam = (source, header.camera_id)
        head = bytes(message[:HEADER_LEN])
        for seq, total, seen in self._recent.get(cam, ()):
            if (seq, total) == (header.seq, len(message)):
                if seen == head:
                    self.duplicates += 1
                    return None
                del self._recent[cam]  # the sender restarted
                break
        self._finished((source, header.camera_id, header.seq), len(message), head)
        self.frames += 1
        return ReceivedFrame._from(header, payload, source=source)

    def _deliver(self, buf, source, key):
        checked = self._check(buf, key)
        if checked is None:
            return None
        self.frames += 1
        return ReceivedFrame._from(*checked, source=source)

    def _check(self, buf, key=None, max_payload=None):
        """(header, payload) of a whole frame message, or None with the
        failure counted. With the chunks' ``key``, the frame must also be the
        one they promised (their seq and camera); a payload over
        ``max_payload`` is garbage (oversize)."""
        try:
            header = parse_header(buf)
        except UnsupportedVersion:
            self.unsupported += 1
            return None
        except ProtocolError:
            self.bad_headers += 1
            return None
        if max_payload is not None and header.payload_len > max_payload:
            self.garbage += 1
            return None
        promised = key is None or (header.seq, header.camera_id) == (key[2], key[1])
        if header.frame_len != len(buf) or not promised:
            self.bad_headers += 1
            return None
        payload = bytes(buf[HEADER_LEN:])
        if zlib.crc32(payload) != header.payload_crc:
            self.crc_errors += 1
            return None
        return header, payload


def read_frames(source, max_payload=DEFAULT_MAX_PAYLOAD, decoder=None, bufsize=1 << 16):
    """Yields the good frames from a connected socket (anything with
    ``recv``) or a binary file (``read``) until end of input. Pass your own
    ``StreamDecoder`` as ``decoder`` to read its counters afterwards."""
    dec = decoder if decoder is not None else StreamDecoder(max_payload)
    read = source.recv if hasattr(source, "recv") else source.read
    while True:
        data = read(bufsize)
        if not data:
            break
        yield from dec.feed(data)
    dec.finish()


# ---------------------------------------------------------------- receiver CLI

def _recv_main(args):
    import json
    import os
    import socket
    import sys
    import threading

    host, _, port = args.listen.rpartition(":")
    out = args.out
    if out:
        os.makedirs(out, exist_ok=True)
    lock = threading.Lock()
    done = threading.Event()
    state = {"frames": 0}
    jsonl = open(os.path.join(out, "frames.jsonl"), "a") if out else None

    def handle(conn, peer):
        dec = StreamDecoder(args.max_payload)
        with conn:
            for frame in read_frames(conn, decoder=dec):
                with lock:
                    if done.is_set():
                        break
                    if out:
                        cam_dir = os.path.join(out, str(frame.camera_id))
                        os.makedirs(cam_dir, exist_ok=True)
                        with open(os.path.join(cam_dir, f"{frame.seq}.jpg"), "wb") as f:
                            f.write(frame.payload)
                        jsonl.write(json.dumps({
                            "peer": f"{peer[0]}:{peer[1]}", "camera": frame.camera_id,
                            "seq": frame.seq, "timestamp_us": frame.timestamp_us,
                            "received": time.time(), "size": frame.payload_len,
                            "width": frame.width, "height": frame.height,
                            "format": frame.format, "crc_ok": True}) + "\n")
                        jsonl.flush()
                    state["frames"] += 1
                    if args.count and state["frames"] >= args.count:
                        done.set()
        print(f"{peer[0]}:{peer[1]} closed: {dec.counters()}", file=sys.stderr)

    srv = socket.create_server((host or "127.0.0.1", int(port)))
    srv.settimeout(0.2)
    print(f"listening on {srv.getsockname()[0]}:{srv.getsockname()[1]}", file=sys.stderr, flush=True)
    try:
        while not done.is_set():
            try:
                conn, peer = srv.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            threading.Thread(target=handle, args=(conn, peer), daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        srv.close()
        if jsonl:
            jsonl.close()
    print(f"{state['frames']} frames", file=sys.stderr)
    return 0


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="img_stream_proto.py",
                                     description="img_stream protocol v1 tools")
    sub = parser.add_subparsers(dest="cmd", required=True)
    recv = sub.add_parser("recv", help="receive frames over TCP (boards connect here)")
    recv.add_argument("--listen", default="127.0.0.1:8000", help="HOST:PORT (port 0: any)")
    recv.add_argument("--out", help="directory for <camera>/<seq>.jpg and frames.jsonl")
    recv.add_argument("--count", type=int, default=0, help="stop after N frames")
    recv.add_argument("--max-payload", type=int, default=DEFAULT_MAX_PAYLOAD)
    args = parser.parse_args(argv)
    return _recv_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
