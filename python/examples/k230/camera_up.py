# Camera bring-up shared by the K230 example scripts: sensor channel 0 at
# WIDTH x HEIGHT in FORMAT (YUV420SP is NV12, which img_stream encodes
# without a conversion). Copy it to the board with the script that uses it;
# on the unix port python/media/ emulates the same API.
from media.sensor import Sensor
# CAM_CHN_ID_0 lives in media.media (canmv_k230 738f17f, port/builtin_py/media/media.py).
from media.media import MediaManager, CAM_CHN_ID_0


def camera_up(width=640, height=480, fmt=Sensor.YUV420SP):
    """Starts the sensor and the media buffers; returns the running sensor."""
    sensor = Sensor()
    sensor.reset()
    sensor.set_framesize(width=width, height=height, chn=CAM_CHN_ID_0)
    sensor.set_pixformat(fmt, chn=CAM_CHN_ID_0)
    MediaManager.init()
    sensor.run()
    return sensor


def camera_down(sensor):
    """Stops the sensor, then gives the media buffers back (in that order)."""
    sensor.stop()
    MediaManager.deinit()
