# MQTT benchmark, second part (make bench, scripts/bench_mqtt.sh): the median time
# of one chunked QoS 1 publish (VGA NV12 q65, 4 KiB chunks) through umqtt.simple,
# umqtt's client (PUBLISH packets written directly, chunks in a window) against a
# client that is not umqtt's class (publish() per chunk, one PUBACK wait each),
# interleaved frame by frame. Per-frame medians hold up on a shared machine,
# where frames/s over a run follow the neighbours' load.
#   micropython bench_mqtt_frame_us.py HOST PORT [FRAMES]
import sys
import time

import img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera

host, port = sys.argv[1], int(sys.argv[2])
frames = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
TOPIC = b"img_stream/bench/frame"
c = MQTTClient(b"bench", host, port)
c.connect()
c.sock.setsockopt(6, 1, 1)  # TCP_NODELAY, as in bench_mqtt.py
imgs = [SyntheticCamera(640, 480, img_stream.NV12).snapshot() for _ in range(4)]
jpegs = [img_stream.encode(i, quality=65) for i in imgs]


class ViaPublish:
    """Not umqtt's class: publish() calls its publish() per message."""
    client_id = b"bench"

    def publish(self, topic, msg, retain=False, qos=0):
        c.publish(topic, msg, retain, qos)


times = {}
for i in range(frames):
    for name, client in (("umqtt client (direct)", c), ("via client.publish()", ViaPublish())):
        for what, img in (("encode + publish", imgs[i & 3]), ("publish, JPEG ready", jpegs[i & 3])):
            t0 = time.ticks_us()
            img_stream.publish(client, img, topic=TOPIC, quality=65, qos=1, chunked=True,
                               chunk_size=4096)
            times.setdefault((what, name), []).append(time.ticks_diff(time.ticks_us(), t0))
print("chunked 4 KiB, QoS 1, %d frames each, interleaved" % frames)
print("%-22s %-22s %10s %9s" % ("", "client", "median us", "frames/s"))
for (what, name), ts in sorted(times.items()):
    ts.sort()
    m = ts[len(ts) // 2]
    print("%-22s %-22s %10d %9.0f" % (what, name, m, 1e6 / m))
c.disconnect()
print("published", 4 * frames)
