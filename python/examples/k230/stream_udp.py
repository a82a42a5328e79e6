# K230: stream the camera to a PC over UDP with img_stream (lost datagrams
# drop a frame, never corrupt one). On the PC:
#   img-stream recv udp --listen 0.0.0.0:9000 --out frames/
# Copy this file, net_up.py and camera_up.py to the board. On the unix port:
#   micropython stream_udp.py HOST PORT [FRAMES]
import socket

import img_stream
from media.media import CAM_CHN_ID_0
from net_up import net_up, script_args
from camera_up import camera_up, camera_down

HOST, PORT, FRAMES = "192.168.1.100", 9000, 0
HOST, PORT, FRAMES = script_args(HOST, PORT, FRAMES)

print("network:", net_up())
sensor = camera_up(640, 480)

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr = socket.getaddrinfo(HOST, PORT)[0][-1]
sent = 0
while FRAMES == 0 or sent < FRAMES:
    # ~4 MB/s pacing keeps a burst from overflowing a small Wi-Fi queue.
    img_stream.send_udp(sock, addr, sensor.snapshot(chn=CAM_CHN_ID_0), mtu=1400, max_rate=4_000_000)
    sent += 1
sock.close()
camera_down(sensor)
print("sent", sent)
