# Transport benchmark (make bench): VGA NV12 q65 frames/s
#  1. encode only (encode_into a reused buffer),
#  2. img_stream.send_tcp into the receiver,
#  3. the usual hand-written recipe in plain MicroPython: encode() + a struct
#     header + crc + sock.write(), producing the same bytes on the wire.
# Each mode runs ROUNDS times; the median fps is printed.
#   micropython bench_tcp.py HOST PORT [FRAMES] [ROUNDS]
import sys
import time
import socket
import struct
import binascii

import img_stream
from synthetic_camera import SyntheticCamera

host, port = sys.argv[1], int(sys.argv[2])
frames = int(sys.argv[3]) if len(sys.argv) > 3 else 200
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5

cam = SyntheticCamera(640, 480, img_stream.NV12)
imgs = [cam.snapshot() for _ in range(8)]
buf = bytearray(640 * 480)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def fps_of(fn):
    t0 = time.ticks_us()
    for i in range(frames):
        fn(imgs[i & 7])
    return frames * 1e6 / time.ticks_diff(time.ticks_us(), t0)


sock = socket.socket()
sock.connect(socket.getaddrinfo(host, port)[0][-1])
seq = [100000]


def plain(img):
    jpeg = img_stream.encode(img, quality=65)
    seq[0] += 1
    head = struct.pack("<4sBBHIQHHBBHII", b"IMGS", 1, 40, 0, seq[0], time.ticks_us(),
                       img.width(), img.height(), 9, 0, 0, len(jpeg),
                       binascii.crc32(jpeg) & 0xFFFFFFFF)
    head += struct.pack("<I", binascii.crc32(head) & 0xFFFFFFFF)
    sock.write(head)
    sock.write(jpeg)


modes = [
    ("encode only", lambda img: img_stream.encode_into(img, buf, quality=65)),
    ("send_tcp", lambda img: img_stream.send_tcp(sock, img, quality=65)),
    ("plain MicroPython", plain),
]
results = {}
for r in range(rounds):
    for name, fn in modes:  # interleaved, so drift affects all modes alike
        results.setdefault(name, []).append(fps_of(fn))
sock.close()
for name, _ in modes:
    print("%-18s %8.1f frames/s (median of %d x %d)" % (name, median(results[name]), rounds, frames))
enc, nat, pl = (median(results[n]) for n, _ in modes)
print("transport overhead: %.1f %%" % (100 * (1 - nat / enc)))
print("send_tcp vs plain: %.2fx" % (nat / pl))
