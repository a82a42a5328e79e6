# K230: publish the camera to an MQTT broker; Home Assistant shows the raw
# JPEG topic img_stream/k230/frame as a camera. Copy this file, net_up.py,
# camera_up.py and umqtt/ to the board (or freeze them). On the unix port the
# sensor is emulated:
#   micropython publish_mqtt.py [BROKER [PORT [FRAMES]]]
import sys

import img_stream
from umqtt.robust import MQTTClient  # reconnects and retries when the broker restarts
from media.media import CAM_CHN_ID_0
from net_up import net_up
from camera_up import camera_up, camera_down

argv = getattr(sys, "argv", [])[1:] + [None] * 3
broker, port, frames = argv[0] or "192.168.1.100", int(argv[1] or 1883), int(argv[2] or 0)

print("network:", net_up())
sensor = camera_up(640, 480)

client = MQTTClient(b"k230", broker, port)
client.connect()
n = 0
while frames == 0 or n < frames:
    img_stream.publish(client, sensor.snapshot(chn=CAM_CHN_ID_0), quality=65)
    n += 1
client.disconnect()
camera_down(sensor)
print("published", n)
