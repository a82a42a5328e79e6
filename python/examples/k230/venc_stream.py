# K230: hardware JPEG. The sensor is bound to the K230's video encoder (VENC,
# MJPEG) with media/vencoder.py, and each encoded packet goes out through an
# img_stream transport as an already-encoded JPEG: no CPU encoding, and no
# copy when the frame is one packet (it is read in place with
# uctypes.bytearray_at until ReleaseStream). On the unix port python/media/
# emulates VENC with img_stream's encoder.
#
#   micropython venc_stream.py tcp|udp|mqtt|http HOST PORT [FRAMES [WIDTH HEIGHT [Q]]]
#
# tcp: img-stream recv tcp; udp: img-stream recv udp; mqtt: a broker at
# HOST:PORT (umqtt.robust); http: serve an MJPEG stream on HOST:PORT.
import time
import uctypes

import img_stream
from media.vencoder import *
from media.sensor import *
from media.media import *
from net_up import net_up, script_args

MODE, HOST, PORT = "tcp", "192.168.1.100", 9000
FRAMES = 0  # 0 = forever
WIDTH, HEIGHT, Q = 1280, 720, 45
MODE, HOST, PORT, FRAMES, WIDTH, HEIGHT, Q = script_args(MODE, HOST, PORT, FRAMES, WIDTH, HEIGHT, Q)
# A frame spread over several packets is joined here (bounded, reused).
JOIN_CAP = WIDTH * HEIGHT * 3 // 4

print("network:", net_up())
VENC_CHN = VENC_CHN_ID_0
WIDTH = ALIGN_UP(WIDTH, 16)
sensor = Sensor()
sensor.reset()
# alignment=12 as Canaan's VENC example binds the sensor to the encoder.
sensor.set_framesize(width=WIDTH, height=HEIGHT, alignment=12)
sensor.set_pixformat(Sensor.YUV420SP)
encoder = Encoder()
encoder.SetOutBufs(VENC_CHN, 8, WIDTH, HEIGHT)
link = MediaManager.link(sensor.bind_info()["src"], (VIDEO_ENCODE_MOD_ID, VENC_DEV_ID, VENC_CHN))
MediaManager.init()
encoder.Create(VENC_CHN, ChnAttrStr(encoder.PAYLOAD_TYPE_JPEG, 0, WIDTH, HEIGHT, mjpeg_quality_factor=Q))
encoder.Start(VENC_CHN)
sensor.run()

if MODE == "tcp":
    import socket
    sock = socket.socket()
    sock.connect(socket.getaddrinfo(HOST, PORT)[0][-1])
    sock.settimeout(5)

    def send(jpeg):
        img_stream.send_tcp(sock, jpeg)
elif MODE == "udp":
    import socket
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    addr = socket.getaddrinfo(HOST, PORT)[0][-1]

    def send(jpeg):
        img_stream.send_udp(sock, addr, jpeg, mtu=1400, max_rate=4_000_000)
elif MODE == "mqtt":
    from umqtt.robust import MQTTClient
    client = MQTTClient("k230-venc", HOST, port=PORT, keepalive=30)
    client.connect()

    def send(jpeg):
        img_stream.publish(client, jpeg)
elif MODE == "http":
    import img_stream_http
    server = img_stream_http.MjpegServer(PORT, host=HOST)
    print("serving http://%s:%d/stream" % (HOST, PORT))

    def send(jpeg):
        server.push(jpeg)
else:
    raise SystemExit("mode must be tcp, udp, mqtt or http")

stream = StreamData()
joined = bytearray(JOIN_CAP)
sent = 0
try:
    while FRAMES == 0 or sent < FRAMES:
        encoder.GetStream(VENC_CHN, stream)
        try:
            if stream.pack_cnt == 1:
                # The packet's own memory: img_stream sends it as it is.
                send(uctypes.bytearray_at(stream.data[0], stream.data_size[0]))
            else:
                n = 0
                for i in range(stream.pack_cnt):
                    size = stream.data_size[i]
                    if n + size > JOIN_CAP:
                        raise ValueError("JPEG larger than %d bytes: lower Q" % JOIN_CAP)
                    joined[n:n + size] = uctypes.bytearray_at(stream.data[i], size)
                    n += size
                send(memoryview(joined)[:n])
        finally:
            encoder.ReleaseStream(VENC_CHN, stream)
        sent += 1
        if MODE == "http":
            server.poll(0)
finally:
    print("sent %d" % sent)
    sensor.stop()
    del link
    encoder.Stop(VENC_CHN)
    encoder.Destroy(VENC_CHN)
    MediaManager.deinit()
