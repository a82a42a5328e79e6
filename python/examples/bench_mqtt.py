# MQTT benchmark (make bench): VGA NV12 q65 frames/s published through umqtt.simple
# into a real broker, QoS 0 and QoS 1:
#  1. img_stream.publish raw (the JPEG is the payload),
#  2. img_stream.publish chunked, 4 KiB messages,
#  3. the same through a client that is not umqtt's class, so publish() calls its
#     publish() per message (one PUBACK wait each): the way before packets were
#     written directly,
#  4. the usual recipe: client.publish(topic, img_stream.encode(img)), the same JPEG;
# encode_into() alone (no MQTT) as the ceiling; and the four again with the JPEG
# encoded beforehand, which shows what the MQTT part alone costs.
# Each mode runs ROUNDS times, interleaved; the median fps is printed, with the
# MicroPython heap allocated per frame (garbage the GC must later collect).
# Before each run the broker and the receiver (their pids: QUIET_PIDS) are let
# finish what earlier runs left them (see quiet()).
#   micropython bench_mqtt.py HOST PORT [FRAMES] [ROUNDS] [QUIET_PIDS]
import sys
import time
import gc

import img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera

host, port = sys.argv[1], int(sys.argv[2])
frames = int(sys.argv[3]) if len(sys.argv) > 3 else 100
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
quiet_pids = sys.argv[5].split(",") if len(sys.argv) > 5 else []

TOPIC = b"img_stream/bench/frame"
cam = SyntheticCamera(640, 480, img_stream.NV12)
imgs = [cam.snapshot() for _ in range(8)]
c = MQTTClient(b"bench", host, port)
c.connect()
# TCP_NODELAY for every mode, as publish() sets it for QoS 1 anyway: without it
# umqtt's QoS 1 round trips wait ~40 ms each for delayed ACKs (docs/MQTT.md).
c.sock.setsockopt(6, 1, 1)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def cpu_ns(pid):
    with open("/proc/%s/schedstat" % pid) as f:
        return int(f.read().split()[0])


def quiet():
    """Waits until the broker and the receiver are idle: the broker acknowledges
    a QoS 1 message once it has it, not once the receiver does, so a fast mode
    leaves them seconds of forwarding that would slow whichever mode runs
    next. Idle: under 1 ms on the CPU in 20 ms, each."""
    for _ in range(500):
        before = [cpu_ns(p) for p in quiet_pids]
        time.sleep_ms(20)
        if all(cpu_ns(p) - b < 1000000 for p, b in zip(quiet_pids, before)):
            return
    raise OSError("broker or receiver still busy after 10 s")


published = 0


def run(fn, qos, frames):
    global published
    quiet()
    # umqtt.simple sends packet id 0, a protocol error, after 65535 QoS 1
    # messages (publish() itself wraps to 1); nothing is in flight here.
    c.pid = 0
    # Untimed: the steady state is what a camera sees, not the first frames
    # after an idle spell (three processes finding their places on the cores).
    warm = max(frames // 4, 20)
    for i in range(warm):
        fn(imgs[i & 7], qos)
    if fn is not encode_only:
        published += warm + frames
    gc.collect()
    gc.disable()  # count every byte allocated, not what survives
    a0 = gc.mem_alloc()
    paused = 0
    t0 = time.ticks_us()
    for i in range(frames):
        fn(imgs[i & 7], qos)
        if i & 31 == 31:
            # gc.mem_alloc() walks the whole heap (~1 ms at 32 MB), a cost
            # per frame count and not per second: it would weigh most on the
            # fastest modes. Not timed.
            t1 = time.ticks_us()
            if gc.mem_alloc() - a0 > 8 << 20:
                # Keep the heap from filling up; the bytes are counted below.
                a0 -= gc.mem_alloc()
                gc.collect()
                a0 += gc.mem_alloc()
            paused += time.ticks_diff(time.ticks_us(), t1)
    # At QoS 0 the last frames may still sit in our socket buffer: a ping's
    # answer says the broker has read everything before it.
    c.ping()
    while c.wait_msg() is not None:
        pass
    dt = time.ticks_diff(time.ticks_us(), t0) - paused
    alloc = gc.mem_alloc() - a0
    gc.enable()
    return frames * 1e6 / dt, alloc / frames


buf = bytearray(640 * 480)


def encode_only(img, qos):
    img_stream.encode_into(img, buf, quality=65)


def raw(img, qos):
    img_stream.publish(c, img, topic=TOPIC, quality=65, qos=qos)


def chunked(img, qos):
    img_stream.publish(c, img, topic=TOPIC, quality=65, qos=qos, chunked=True, chunk_size=4096)


class ViaPublish:
    """Not umqtt's class, so publish() hands each message to its publish()
    (one PUBACK wait per message): how every client was served before."""
    client_id = b"bench"

    def publish(self, topic, msg, retain=False, qos=0):
        c.publish(topic, msg, retain, qos)


via = ViaPublish()


def chunked_via(img, qos):
    img_stream.publish(via, img, topic=TOPIC, quality=65, qos=qos, chunked=True, chunk_size=4096)


def plain(img, qos):
    c.publish(TOPIC, img_stream.encode(img, quality=65), False, qos)


modes = [("publish raw", raw), ("publish chunked 4 KiB", chunked),
         ("chunked 4 KiB via client.publish()", chunked_via), ("client.publish(encode())", plain)]
# The same three with the JPEG encoded beforehand: what MQTT itself costs per frame.
jpegs = [img_stream.encode(i, quality=65) for i in imgs]
# Runs with the JPEG ready are ~10x faster: as many more frames keep them long
# enough to time (a run of 40 ms mostly measures how the cores wake up).
READY = 10
jpeg_of = {id(i): j for i, j in zip(imgs, jpegs)}
sent_modes = [
    ("publish raw", lambda img, qos: img_stream.publish(c, jpeg_of[id(img)], topic=TOPIC, qos=qos)),
    ("publish chunked 4 KiB", lambda img, qos: img_stream.publish(
        c, jpeg_of[id(img)], topic=TOPIC, qos=qos, chunked=True, chunk_size=4096)),
    ("chunked 4 KiB via client.publish()", lambda img, qos: img_stream.publish(
        via, jpeg_of[id(img)], topic=TOPIC, qos=qos, chunked=True, chunk_size=4096)),
    ("client.publish(jpeg)", lambda img, qos: c.publish(TOPIC, jpeg_of[id(img)], False, qos)),
]
results = {}
for r in range(rounds):
    for qos in (0, 1):
        for name, fn in modes + ([("encode only", encode_only)] if qos == 0 else []):
            results.setdefault((name, qos), []).append(run(fn, qos, frames))
        for name, fn in sent_modes:
            results.setdefault(("pre " + name, qos), []).append(run(fn, qos, READY * frames))
sizes = [len(img_stream.encode(i, quality=65)) for i in imgs]
print("JPEG %d..%d bytes; %d frames (JPEG ready: %d) x %d rounds per mode"
      % (min(sizes), max(sizes), frames, READY * frames, rounds))
print("%-46s %4s %9s %13s" % ("mode", "qos", "frames/s", "heap B/frame"))


def row(label, key, qos):
    rs = results[key]
    print("%-46s %4s %9.0f %13d" % (label, qos, median([x[0] for x in rs]), median([x[1] for x in rs])))


row("encode only (no MQTT)", ("encode only", 0), "-")
for qos in (0, 1):
    for name, _ in modes:
        row(name, (name, qos), qos)
for qos in (0, 1):
    for name, _ in sent_modes:
        row(name + ", JPEG ready", ("pre " + name, qos), qos)
c.disconnect()
print("published", published)
