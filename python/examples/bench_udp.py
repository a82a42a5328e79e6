# UDP transport benchmark: VGA NV12 q65 frames/s on the sender, per mode
#  1. encode only (encode_into a reused buffer),
#  2. send_tcp into `img-stream recv tcp`,
#  3. send_udp into `img-stream recv udp`: sendto at mtu 1400, the same on a
#     connected socket (addr=None), and sendto at mtu 65507 (one datagram per
#     frame: the cost of the syscalls, not of the chunking).
# Modes are interleaved round by round; the median fps of each is printed,
# with the datagrams per frame and, where /proc exists (unix port), the
# sender's CPU time per frame split into user and kernel (system) time:
# on a machine shared with other work, CPU time is a steadier measure than
# wall-clock fps. bench/udp.sh runs the receivers and reports
# how many frames they got (UDP on loopback drops when the receiver falls
# behind; the sender does not know).
#   micropython bench_udp.py TCP_PORT UDP_PORT [FRAMES] [ROUNDS]
import sys
import time
import socket

import img_stream
from synthetic_camera import SyntheticCamera

tcp_port, udp_port = int(sys.argv[1]), int(sys.argv[2])
frames = int(sys.argv[3]) if len(sys.argv) > 3 else 200
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5

cam = SyntheticCamera(640, 480, img_stream.NV12)
imgs = [cam.snapshot() for _ in range(8)]
buf = bytearray(640 * 480)


def cpu_ticks():
    """(user, system) CPU time of this process in clock ticks, or None."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]), int(fields[12])
    except OSError:
        return None


TICK_US = 10000  # USER_HZ is 100 on Linux


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


tcp = socket.socket()
tcp.connect(socket.getaddrinfo("127.0.0.1", tcp_port)[0][-1])
udp_addr = socket.getaddrinfo("127.0.0.1", udp_port)[0][-1]
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp_conn = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp_conn.connect(udp_addr)
datagrams = {}


cpu = {}


def run(name, fn):
    n = 0
    c0 = cpu_ticks()
    t0 = time.ticks_us()
    for i in range(frames):
        n += fn(imgs[i & 7]) or 0
    dt = time.ticks_diff(time.ticks_us(), t0)
    c1 = cpu_ticks()
    datagrams[name] = n
    if c0 and c1:
        cpu.setdefault(name, []).append(((c1[0] - c0[0]) * TICK_US / frames, (c1[1] - c0[1]) * TICK_US / frames))
    return frames * 1e6 / dt


modes = [
    ("encode only", lambda img: img_stream.encode_into(img, buf, quality=65) and 0),
    ("send_tcp", lambda img: img_stream.send_tcp(tcp, img, quality=65) and 0),
    ("send_udp mtu 1400", lambda img: img_stream.send_udp(udp, udp_addr, img, quality=65)),
    ("send_udp connected", lambda img: img_stream.send_udp(udp_conn, None, img, quality=65)),
    ("send_udp mtu 65507", lambda img: img_stream.send_udp(udp, udp_addr, img, quality=65, mtu=65507)),
]
results = {}
for r in range(rounds):
    for name, fn in modes:
        results.setdefault(name, []).append(run(name, fn))
tcp.close()
udp.close()
udp_conn.close()
enc = median(results["encode only"])
print("%-20s %10s %8s %21s %12s" % ("mode", "frames/s", "vs enc", "CPU us/frame usr+sys", "datagrams"))
for name, _ in modes:
    fps = median(results[name])
    per = datagrams[name] / frames
    c = cpu.get(name)
    c = ("%7.0f = %4.0f + %4.0f" % (median([u + k for u, k in c]), median([u for u, _ in c]),
                                    median([k for _, k in c]))) if c else "-"
    print("%-20s %10.1f %+7.1f%% %21s %12s" % (name, fps, 100 * (fps / enc - 1), c, ("%.1f" % per) if per else "-"))
print("frames sent per mode: %d (x %d rounds)" % (frames, rounds))
