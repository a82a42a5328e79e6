# Emulated media.sensor.Sensor over python/synthetic_camera.py, with the
# calls K230 scripts make: Sensor(), reset(), set_framesize(), set_pixformat(),
# run(), snapshot(), stop(). Snapshots are duck-typed images that img_stream
# accepts exactly as it accepts the board's image.Image.
from synthetic_camera import (
    SyntheticCamera, GRAYSCALE, RGB565, RGB888, RGBP888, NV12,
)

CAM_CHN_ID_0 = 0
CAM_CHN_ID_1 = 1
CAM_CHN_ID_2 = 2
CAM_CHN_ID_MAX = 3


class Sensor:
    # The board's pixel formats, mapped to img_stream's codes (on the board
    # the C adapter maps image.Image formats the same way).
    GRAYSCALE = GRAYSCALE
    RGB565 = RGB565
    RGB888 = RGB888
    RGBP888 = RGBP888
    YUV420SP = NV12

    def __init__(self, id=2, width=1920, height=1080, fps=30):
        self._chn = {}
        self._running = False

    def reset(self):
        self._chn = {}

    def _cfg(self, chn):
        return self._chn.setdefault(chn, {"w": 640, "h": 480, "fmt": None, "cam": None})

    def set_framesize(self, framesize=None, width=0, height=0, chn=CAM_CHN_ID_0, **kw):
        c = self._cfg(chn)
        # The board aligns widths to 16.
        c["w"], c["h"] = (width + 15) // 16 * 16, height
        c["cam"] = None

    def set_pixformat(self, pix_format, chn=CAM_CHN_ID_0):
        c = self._cfg(chn)
        c["fmt"] = pix_format
        c["cam"] = None

    def run(self):
        self._running = True

    def stop(self):
        self._running = False

    def snapshot(self, chn=CAM_CHN_ID_0, timeout=1000):
        if not self._running:
            raise RuntimeError("sensor not running: call sensor.run() first")
        c = self._cfg(chn)
        if c["fmt"] is None:
            raise RuntimeError("no pixel format set for channel %d" % chn)
        if c["cam"] is None:
            c["cam"] = SyntheticCamera(c["w"], c["h"], c["fmt"])
        return c["cam"].snapshot()
