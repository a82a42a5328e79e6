# TcpSender over real loopback sockets: a peer that stops reading makes
# send() return False (counted, nothing encoded) instead of blocking, frames
# never interleave, the counters add up, errors carry errno, and a steady
# loop allocates nothing.
import errno
import gc
import socket

import img_stream
from checks import raises
from synthetic_camera import SyntheticCamera
from test_send_tcp import pair
from wire import HEADER_LEN, crc32, parse_header


def split_frames(data):
    """Parses a byte stream into whole frames (header, payload); asserts that
    each CRC verifies and that nothing is left over."""
    frames = []
    at = 0
    while at < len(data):
        h = parse_header(data[at:at + HEADER_LEN])
        payload = data[at + HEADER_LEN:at + HEADER_LEN + h["payload_len"]]
        assert len(payload) == h["payload_len"], "cut frame"
        assert crc32(payload) == h["payload_crc"], "payload crc"
        frames.append((h, payload))
        at += HEADER_LEN + h["payload_len"]
    return frames


def drain(tx, conn, read_before=0):
    """Reads everything the sender wrote (conn is non-blocking), pumping it
    meanwhile, until the sender is idle and every byte it counted, less the
    `read_before` bytes already read, has been read; returns the bytes."""
    import select
    got = bytearray()
    buf = bytearray(65536)
    p = select.poll()
    p.register(conn, select.POLLIN)
    while True:
        left = tx.pump()
        if left == 0 and read_before + len(got) == tx.stats()["bytes"]:
            return bytes(got)
        p.poll(1000)  # until bytes arrive (1 s: a stuck stream fails below)
        n = conn.readinto(buf)
        assert n, "no bytes while %d were unsent or unread" % (
            left or tx.stats()["bytes"] - read_before - len(got))
        got.extend(buf[:n])


def test_a_stalled_peer_makes_send_skip_not_block():
    cli, conn = pair()
    conn.setblocking(False)
    try:
        tx = img_stream.TcpSender(cli)
        assert tx.stats()["sndbuf"] == 8192, tx.stats()
        cam = SyntheticCamera(320, 240, img_stream.RGB888)
        img_stream.set_camera_id(4)
        results = [tx.send(cam.snapshot(), quality=90) for _ in range(60)]
        # The peer reads nothing: the kernel buffers fill, then the sender
        # holds one frame in flight and skips the rest.
        assert results[0] is True
        skipped = results.count(False)
        assert skipped > 0 and tx.skipped == skipped, (skipped, tx.stats())
        st = tx.stats()
        assert st["in_flight"] > 0 and st["skipped"] == skipped, st
        data = drain(tx, conn)
        st = tx.stats()
        frames = split_frames(data)
        assert len(frames) == st["sent"] == results.count(True), (len(frames), st)
        assert st["bytes"] == len(data) and st["in_flight"] == 0, st
        seqs = [h["seq"] for h, _ in frames]
        # Skipped images take no sequence number: the receiver sees no gaps.
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
        assert all(h["camera_id"] == 4 and h["width"] == 320 for h, _ in frames)
        # Once drained, the next image goes out at once.
        assert tx.send(cam.snapshot()) is True
        frames = split_frames(drain(tx, conn, len(data)))
        assert len(frames) == 1 and frames[0][0]["seq"] == seqs[-1] + 1
        tx.close()
    finally:
        img_stream.set_camera_id(0)
        cli.close()
        conn.close()


def test_jpeg_input_passes_through():
    cli, conn = pair()
    conn.setblocking(False)
    try:
        tx = img_stream.TcpSender(cli, sndbuf=0)  # 0: leave the buffer alone
        assert tx.stats()["sndbuf"] is None
        jpeg = img_stream.encode(SyntheticCamera(64, 48, img_stream.RGB565).snapshot())
        assert tx.send(jpeg, seq=77, timestamp_us=2 ** 40) is True
        (h, payload), = split_frames(drain(tx, conn))
        assert bytes(payload) == jpeg and h["seq"] == 77 and h["timestamp_us"] == 2 ** 40, h
    finally:
        cli.close()
        conn.close()


def test_bad_arguments_raise_before_anything_is_sent():
    cli, conn = pair()
    conn.setblocking(False)
    try:
        raises(TypeError, img_stream.TcpSender, 42)
        tx = img_stream.TcpSender(cli)
        img = SyntheticCamera(32, 16, img_stream.GRAYSCALE).snapshot()
        raises(ValueError, tx.send, img, quality=0)
        raises(TypeError, tx.send, 3.5)
        assert tx.stats()["sent"] == 0 and tx.stats()["bytes"] == 0
        tx.close()
        raises(ValueError, tx.send, img, contains="closed")
        raises(ValueError, tx.stats)
        tx.close()  # closing twice is harmless
    finally:
        cli.close()
        conn.close()


def test_a_closed_peer_raises_oserror_and_the_stream_stays_refused():
    cli, conn = pair()
    conn.close()
    tx = img_stream.TcpSender(cli)
    big = SyntheticCamera(640, 480, img_stream.RGB888).snapshot()
    e = None
    try:
        for _ in range(400):  # the first writes may still land in buffers
            tx.send(big, quality=95)
    except OSError as ex:
        e = ex
    assert e is not None and e.errno in (32, errno.ECONNRESET, errno.ENOTCONN), e
    # A frame cut short on the wire cannot be followed by anything.
    e2 = None
    try:
        tx.send(big)
        tx.send(big)
    except OSError as ex:
        e2 = ex
    assert e2 is not None, "a broken stream accepted more frames"
    cli.close()


def test_a_steady_loop_allocates_nothing():
    cli, conn = pair()
    conn.setblocking(False)
    buf = bytearray(65536)
    try:
        tx = img_stream.TcpSender(cli)
        img = SyntheticCamera(96, 64, img_stream.NV12).snapshot()
        for _ in range(5):
            tx.send(img)
        gc.collect()
        before = gc.mem_alloc()
        sent = 0
        for _ in range(200):
            sent += tx.send(img)
            try:
                conn.readinto(buf)
            except OSError:
                pass  # EAGAIN: nothing to read yet
        # A caught OSError allocates its exception object: count only what
        # 200 iterations of per-frame garbage would leave (kilobytes).
        gc.collect()
        grown = gc.mem_alloc() - before
        assert grown < 64, grown
        assert sent > 0
    finally:
        cli.close()
        conn.close()


def test_rate_control_and_skip_same_apply_to_the_frames_sent():
    """quality=rc picks each sent frame's quality (rc counts only frames
    encoded, not images skipped while the link was busy); skip_same= drops an
    unchanged image without encoding it, counted by the SkipSame."""
    cli, conn = pair()
    conn.setblocking(False)
    try:
        tx = img_stream.TcpSender(cli)
        cam = SyntheticCamera(160, 120, img_stream.RGB565)
        rc = img_stream.RateControl(target_bytes=3000)
        read = 0  # bytes the test has read so far
        for _ in range(12):
            assert tx.send(cam.snapshot(), quality=rc) is True
            read += len(drain(tx, conn, read))
        assert rc.frames == 12 and rc.last_bytes > 0, (rc.frames, rc.last_bytes)
        same = img_stream.SkipSame(keepalive_s=60)
        still = cam.snapshot()
        assert tx.send(still, skip_same=same) is True
        read += len(drain(tx, conn, read))
        assert tx.send(still, skip_same=same) is False  # unchanged: not encoded
        assert tx.stats()["bytes"] == read and tx.skipped == 0, tx.stats()
        assert same.skipped == 1 and same.sent == 1, (same.sent, same.skipped)
        assert tx.send(cam.snapshot(), skip_same=same) is True  # the scene moved
        (h, _), = split_frames(drain(tx, conn, read))
        assert h["payload_len"] > 0
    finally:
        cli.close()
        conn.close()
