"""The CPython decoder (python/img_stream_proto.py) against every protocol
test vector in tests/vectors/, which core/tests/vectors.rs generated and the
Rust reference receiver checks: both decoders must reach the same frames and
the same counters."""
import io
import json
import pathlib
import re
import socket
import subprocess
import sys
import zlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
sys.path.insert(0, str(ROOT / "python"))

import img_stream_proto as proto  # noqa: E402

DESCRIPTIONS = sorted(VECTORS.glob("*.json"))
FRAME_FIELDS = ("flags", "seq", "timestamp_us", "width", "height", "format",
                "camera_id", "payload_len", "payload_crc")


def load(path):
    desc = json.loads(path.read_text())
    return desc, (VECTORS / desc["file"]).read_bytes()


def by_kind(kind):
    out = []
    for p in DESCRIPTIONS:
        if json.loads(p.read_text())["kind"] == kind:
            out.append(pytest.param(p, id=p.stem))
    return out


def frame_dict(frame, extra=()):
    d = {k: getattr(frame, k) for k in FRAME_FIELDS}
    for k in extra:
        d[k] = getattr(frame, k)
    return d


def test_every_vector_has_a_known_kind():
    assert len(DESCRIPTIONS) >= 20
    kinds = {json.loads(p.read_text())["kind"] for p in DESCRIPTIONS}
    assert kinds == {"header", "stream", "chunks", "classify"}


@pytest.mark.parametrize("path", by_kind("header"))
def test_header_vectors(path):
    desc, data = load(path)
    want = desc["expected"]
    if "header" in want:
        h = proto.parse_header(data)
        assert {k: getattr(h, k) for k in FRAME_FIELDS} == want["header"]
        return
    with pytest.raises(proto.ProtocolError) as e:
        proto.parse_header(data)
    assert e.value.kind == want["error"]
    if want["error"] == "unsupported_version":
        assert isinstance(e.value, proto.UnsupportedVersion)
        assert (e.value.version, e.value.header_len, e.value.payload_len) == (
            want["version"], want["header_len"], want["payload_len"])


@pytest.mark.parametrize("path", by_kind("stream"))
@pytest.mark.parametrize("piece", [1, 7, 41, 4096, None])
def test_stream_vectors(path, piece):
    desc, data = load(path)
    dec = proto.StreamDecoder(max_payload=desc["max_payload"])
    frames = []
    step = piece or max(len(data), 1)
    for i in range(0, len(data), step):
        frames += dec.feed(data[i:i + step])
    dec.finish()
    assert [frame_dict(f, ["offset"]) for f in frames] == desc["expected"]["frames"]
    for f in frames:
        assert zlib.crc32(f.payload) == f.payload_crc
        assert len(f.payload) == f.payload_len
        start = f.offset + proto.HEADER_LEN
        assert f.payload == data[start:start + f.payload_len]
    assert dec.counters() == desc["expected"]["counters"]


@pytest.mark.parametrize("path", by_kind("stream"))
def test_read_frames_from_a_file(path):
    desc, data = load(path)
    dec = proto.StreamDecoder(desc["max_payload"])
    frames = list(proto.read_frames(io.BytesIO(data), decoder=dec, bufsize=333))
    assert [f.seq for f in frames] == [f["seq"] for f in desc["expected"]["frames"]]
    assert dec.counters() == desc["expected"]["counters"]


def run_chunks(desc, data):
    asm = proto.ChunkAssembler(max_payload=desc["max_payload"],
                               max_pending=desc["max_pending"], timeout=3600)
    frames = []
    for m in desc["messages"]:
        msg = data[m["offset"]:m["offset"] + m["len"]]
        f = asm.push(msg, source=m["source"], now=0.0)
        if f is not None:
            frames.append(f)
    asm.flush()
    return asm, frames


@pytest.mark.parametrize("path", by_kind("chunks"))
def test_chunk_vectors(path):
    desc, data = load(path)
    asm, frames = run_chunks(desc, data)
    assert [frame_dict(f, ["source"]) for f in frames] == desc["expected"]["frames"]
    for f in frames:
        assert zlib.crc32(f.payload) == f.payload_crc
    assert asm.counters() == desc["expected"]["counters"]
    assert asm.pending == 0


@pytest.mark.parametrize("path", by_kind("classify"))
def test_classify_vectors(path):
    desc, data = load(path)
    for m in desc["messages"]:
        assert proto.classify(data[m["offset"]:m["offset"] + m["len"]]) == m["class"]


def test_build_frame_matches_the_golden_header():
    desc, data = load(VECTORS / "header_golden.json")
    h = desc["expected"]["header"]
    frame = proto.build_frame(b"\xff\xd8\xff\xd9", h["seq"], timestamp_us=h["timestamp_us"],
                              width=h["width"], height=h["height"], format=h["format"],
                              camera_id=h["camera_id"])
    assert frame[:40] == data
    assert frame[40:] == b"\xff\xd8\xff\xd9"


def test_build_chunks_matches_the_rust_chunker():
    desc, data = load(VECTORS / "chunks_in_order.json")
    jpeg = (VECTORS / "tiny.jpg").read_bytes()
    want = desc["expected"]["frames"][0]
    frame = proto.build_frame(jpeg, want["seq"], timestamp_us=want["timestamp_us"],
                              width=want["width"], height=want["height"])
    chunks = proto.build_chunks(frame, want["seq"], 0, max_message=100)
    got = b"".join(chunks)
    assert got == data[:len(got)]


def test_chunk_timeout_drops_a_stale_frame():
    frame = proto.build_frame(bytes(range(200)), 5)
    chunks = proto.build_chunks(frame, 5, max_message=64)
    asm = proto.ChunkAssembler(timeout=1.0)
    for c in chunks[:-1]:
        assert asm.push(c, "s", now=10.0) is None
    assert asm.pending == 1
    asm.expire(now=11.5)
    assert asm.pending == 0 and asm.incomplete == 1
    assert asm.push(chunks[-1], "s", now=11.6) is None
    assert asm.late == 1
    # The same seq from another source is another frame.
    for c in chunks[:-1]:
        asm.push(c, "t", now=12.0)
    f = asm.push(chunks[-1], "t", now=12.1)
    assert f is not None and f.payload == bytes(range(200)) and f.source == "t"


def test_oversize_header_allocates_nothing():
    # A trustworthy header announcing 4 GiB - 1: refused at once, the buffer
    # never grows beyond what was fed.
    head = bytearray(proto.build_frame(b"", 1)[:40])
    head[28:32] = (0xFFFFFFFF).to_bytes(4, "little")
    head[36:40] = zlib.crc32(bytes(head[:36])).to_bytes(4, "little")
    dec = proto.StreamDecoder()
    assert dec.feed(bytes(head)) == []
    assert dec.oversize == 1
    assert len(dec._buf) < 40
    good = proto.build_frame(b"\xff\xd8hello", 2)
    assert [f.seq for f in dec.feed(good)] == [2]


def test_recv_cli_saves_frames(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "python" / "img_stream_proto.py"), "recv",
         "--listen", "127.0.0.1:0", "--out", str(tmp_path), "--count", "3"],
        stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        port = int(re.search(r"listening on [^\s]*:(\d+)", line).group(1))
        jpeg = (VECTORS / "tiny.jpg").read_bytes()
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"noise" + b"".join(
                proto.build_frame(jpeg, seq, width=16, height=8, camera_id=2) for seq in range(3)))
            assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    for seq in range(3):
        assert (tmp_path / "2" / f"{seq}.jpg").read_bytes() == jpeg
    rows = [json.loads(line) for line in (tmp_path / "frames.jsonl").read_text().splitlines()]
    assert [r["seq"] for r in rows] == [0, 1, 2]
    assert all(r["crc_ok"] and r["size"] == len(jpeg) for r in rows)
