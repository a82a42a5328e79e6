"""`img-stream recv tcp` fed by frames built here with nothing but `struct`
and `zlib` (an encoder independent of the Rust core): several boards at
once, status lines when stderr is not a terminal, faults in flight."""
import socket
import struct
import threading
import zlib

import pytest

from conftest import IMG_STREAM_BIN
from receiver import Receiver, frames_jsonl, wait_for


def frame(seq, payload, camera_id=0, width=64, height=48, fmt=9, ts=None):
    """One v1 frame: 40-byte header (CRC over its first 36 bytes) + payload."""
    head = struct.pack(
        "<4sBBHIQHHBBHII", b"IMGS", 1, 40, 0, seq, seq * 1000 if ts is None else ts,
        width, height, fmt, 0, camera_id, len(payload), zlib.crc32(payload),
    )
    return head + struct.pack("<I", zlib.crc32(head)) + payload


def jpeg_like(seq, n=2000):
    return b"\xff\xd8" + bytes((i * 13 + seq) & 0xFF for i in range(n)) + b"\xff\xd9"


@pytest.fixture(scope="module", autouse=True)
def receiver_built():
    if not IMG_STREAM_BIN.exists():
        pytest.fail(f"{IMG_STREAM_BIN} is missing: run `make` first")


def test_boards_in_parallel_land_in_their_own_folders(tmp_path):
    boards, per_board = 4, 25
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--out", tmp_path,
                  "--count", boards * per_board, "--status", "quiet")
    try:
        port = rx.port()
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(boards)]

        def send(cam, s):
            for seq in range(per_board):
                s.sendall(frame(seq, jpeg_like(seq + 100 * cam), camera_id=cam))

        threads = [threading.Thread(target=send, args=(i, s)) for i, s in enumerate(socks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert rx.wait() == 0
    finally:
        rx.stop()
    rows = frames_jsonl(tmp_path)
    assert len(rows) == boards * per_board
    names = {f"127.0.0.1_{s.getsockname()[1]}-cam{i}" for i, s in enumerate(socks)}
    assert {r["camera"] for r in rows} == names
    for r in rows:
        cam = int(r["camera"].rsplit("-cam", 1)[1])
        data = (tmp_path / r["file"]).read_bytes()
        assert data == jpeg_like(r["seq"] + 100 * cam)
        assert r["file"] == f"{r['camera']}/{r['seq']:010d}.jpg"
        assert (r["size"], r["width"], r["height"], r["format"], r["crc_ok"]) == (len(data), 64, 48, 9, True)
        assert r["timestamp_us"] == r["seq"] * 1000
        assert r["received_unix_us"] > 1_600_000_000_000_000
    for name in names:
        seqs = [r["seq"] for r in rows if r["camera"] == name]
        assert seqs == list(range(per_board))
    for s in socks:
        s.close()


def test_plain_status_lines_when_stderr_is_a_pipe(tmp_path):
    # stderr is a pipe here, so the default (auto) prints whole lines.
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--count", 2)
    try:
        s = socket.create_connection(("127.0.0.1", rx.port()))
        s.sendall(frame(1, jpeg_like(1)))
        wait_for(lambda: any(line.startswith("frames 1 |") for line in rx.lines), what="a periodic status line")
        s.sendall(frame(2, jpeg_like(2)))
        assert rx.wait() == 0
    finally:
        rx.stop()
    assert not any("\r" in line or "\x1b" in line for line in rx.lines), "no terminal control codes"
    summary = [line for line in rx.lines if line.startswith("summary: ")]
    assert len(summary) == 1 and summary[0].startswith("summary: frames 2 |"), rx.lines
    s.close()


def test_faults_in_flight_are_counted_not_written(tmp_path):
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--out", tmp_path, "--count", 3,
                  "--max-payload", "64KiB", "--status", "quiet")
    try:
        s = socket.create_connection(("127.0.0.1", rx.port()))
        flipped = bytearray(frame(2, jpeg_like(2)))
        flipped[500] ^= 0x04
        s.sendall(b"\x00" * 17 + b"IMG" + frame(1, jpeg_like(1)) + bytes(flipped)
                  + frame(3, jpeg_like(3, 70_000))          # over --max-payload
                  + frame(4, jpeg_like(4)) + b"IMGS\x01\x10junk" + frame(5, jpeg_like(5)))
        assert rx.wait() == 0
    finally:
        rx.stop()
    assert [r["seq"] for r in frames_jsonl(tmp_path)] == [1, 4, 5]
    assert rx.stat("crc errors") == 1
    assert rx.stat("oversize") == 1
    assert rx.stat("bad headers") == 1
    assert rx.stat("drops") == 2
    s.close()
