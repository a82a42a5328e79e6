# K230: publish the camera to an MQTT broker; Home Assistant shows the raw JPEG topic.
#   micropython mqtt_publish.py [BROKER [PORT [FRAMES]]]   (unix port: synthetic camera)
import sys, img_stream
from umqtt.robust import MQTTClient  # reconnects and retries when the broker restarts
from synthetic_camera import SyntheticCamera  # on the board: media.sensor's Sensor

argv = sys.argv[1:] + [None] * 3
broker, port, frames = argv[0] or "127.0.0.1", int(argv[1] or 1883), int(argv[2] or 0)
client = MQTTClient(b"k230", broker, port)
client.connect()
cam = SyntheticCamera(640, 480, img_stream.NV12)
n = 0
while frames == 0 or n < frames:
    img_stream.publish(client, cam.snapshot(), quality=65)  # topic img_stream/k230/frame
    n += 1
client.disconnect()
