# K230: one camera into `img-stream hub` by TCP, UDP or MQTT, paced to a frame
# rate. On the PC:
#   img-stream hub --tcp 0.0.0.0:9000 --udp 0.0.0.0:9001 --mqtt BROKER:1883 --http 0.0.0.0:8080
# On the board (or the unix port, whose sensor is synthetic):
#   micropython hub_board.py tcp|udp|mqtt HOST PORT [FPS [FRAMES [WIDTH HEIGHT [NAME [CAMERA_ID]]]]]
# FRAMES 0 = forever. NAME is the MQTT client id (topic img_stream/NAME/frame).
import sys
import time
import socket

import img_stream
from media.sensor import *
from media.media import MediaManager
from net_up import net_up

argv = getattr(sys, "argv", [])[1:]
if len(argv) < 3:
    raise SystemExit("usage: hub_board.py tcp|udp|mqtt HOST PORT [FPS [FRAMES [W H [NAME [ID]]]]]")
argv += [None] * (9 - len(argv))
MODE, HOST, PORT = argv[0], argv[1], int(argv[2])
FPS = float(argv[3] or 15)
FRAMES = int(argv[4] or 0)
WIDTH, HEIGHT = int(argv[5] or 320), int(argv[6] or 240)
NAME = argv[7] or "k230"
img_stream.set_camera_id(int(argv[8] or 0))

print("network:", net_up())
sensor = Sensor()
sensor.reset()
sensor.set_framesize(width=WIDTH, height=HEIGHT, chn=CAM_CHN_ID_0)
sensor.set_pixformat(Sensor.YUV420SP, chn=CAM_CHN_ID_0)
MediaManager.init()
sensor.run()
addr = socket.getaddrinfo(HOST, PORT)[0][-1]


def open_link():
    if MODE == "tcp":
        s = socket.socket()
        s.connect(addr)
        s.settimeout(5)  # a stalled PC raises OSError(ETIMEDOUT), not a hang
        return s
    if MODE == "udp":
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    from umqtt.robust import MQTTClient  # reconnects when the broker restarts
    c = MQTTClient(NAME.encode(), HOST, PORT)
    c.connect()
    return c


def send(link, img):
    if MODE == "tcp":
        img_stream.send_tcp(link, img, quality=65)
    elif MODE == "udp":
        img_stream.send_udp(link, addr, img, quality=65)
    else:
        img_stream.publish(link, img, quality=65)


link = open_link()
period_us = int(1_000_000 / FPS)
next_at = time.ticks_us()
sent = 0
while FRAMES == 0 or sent < FRAMES:
    try:
        send(link, sensor.snapshot(chn=CAM_CHN_ID_0))
    except OSError as e:
        print("send failed (%s), reconnecting" % e)
        link.close() if MODE != "mqtt" else None
        time.sleep_ms(500)
        link = open_link()
        continue
    sent += 1
    # Paced like a camera: the next frame is due one period after the last.
    next_at = time.ticks_add(next_at, period_us)
    wait = time.ticks_diff(next_at, time.ticks_us())
    if wait > 0:
        time.sleep_us(wait)
    else:
        next_at = time.ticks_us()
print("sent", sent)
sensor.stop()
MediaManager.deinit()
