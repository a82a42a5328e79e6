# Emulated media.sensor.Sensor over python/synthetic_camera.py, with the
# board's API as Canaan's port has it (canmv_k230 at 738f17f,
# port/builtin_py/media/sensor.py; the 2024 port at 4b8cae1 agrees on all of
# this): keyword-only Sensor(id=, type=, force=, fps=, width=, height=), one
# Sensor per CSI unless force=True, the board's pixel-format constants,
# set_framesize() bounds, and snapshots whose buffer is released at the next
# snapshot() of the same channel or at stop(). Snapshots are image.Image-like
# (python/image.py): packed, with imlib's format() values, so img_stream
# takes them exactly as it takes the board's.
import image
import synthetic_camera as synth_fmt  # img_stream's codes (the class below has the board's names)
from synthetic_camera import SyntheticCamera
from media.media import *  # noqa: F401,F403 (the board's module re-exports these too)
from media.media import API, MediaManager, CAM_DEV_ID_MAX, CAM_CHN_ID_0, CAM_CHN_ID_MAX, CAMERA_MOD_ID

CAM_OUT_WIDTH_MIN = 64
CAM_OUT_HEIGHT_MIN = 64
_DEFAULT_CSI = 2  # get_default_sensor() on the usual CanMV boards
_PHASES = 4  # distinct positions of the emulated camera's moving pattern

_SIZES = ((88, 72), (176, 144), (352, 288), (176, 120), (352, 240), (160, 120), (320, 240),
          (640, 480), (120, 80), (240, 160), (480, 320), (64, 64), (128, 64), (128, 128),
          (160, 160), (320, 320), (128, 160), (720, 480), (752, 480), (800, 600), (1024, 768),
          (1280, 768), (1280, 1024), (1280, 960), (1600, 1200), (1280, 720), (1920, 1080),
          (2560, 1440), (2048, 1536), (2560, 1600), (2592, 1944))


class Sensor:
    # mpp's PIXEL_FORMAT_* values (port/builtin_py/mpp/video_struct.py).
    RGB565 = 2
    RGB888 = 3
    RGBP888 = 46
    YUV420SP = 31
    GRAYSCALE = 303  # delivered as the Y plane of a YUV420SP frame

    (QQCIF, QCIF, CIF, QSIF, SIF, QQVGA, QVGA, VGA, HQQVGA, HQVGA, HVGA, B64X64, B128X64, B128X128,
     B160X160, B320X320, QQVGA2, WVGA, WVGA2, SVGA, XGA, WXGA, SXGA, SXGAM, UXGA, HD, FHD, QHD, QXGA,
     WQXGA, WQXGA2) = range(31)
    FRAME_SIZE_INVAILD = 31

    # What each board format is made of here: the synthetic camera's format,
    # and the image.Image format the snapshot carries.
    _SOURCE = {
        YUV420SP: (synth_fmt.NV12, image.YUV420),
        GRAYSCALE: (synth_fmt.NV12, image.GRAYSCALE),
        RGB888: (synth_fmt.RGB888, image.RGB888),
        RGB565: (synth_fmt.RGB565, image.RGB565),  # the board converts RGB888 in place (cvt_565)
        RGBP888: (synth_fmt.RGBP888, image.RGBP888),
    }

    _csis = [False] * CAM_DEV_ID_MAX
    _devs = [None] * CAM_DEV_ID_MAX

    def __init__(self, **kwargs):
        self._csi = kwargs.get("id", _DEFAULT_CSI)
        if self._csi > CAM_DEV_ID_MAX - 1:
            raise AssertionError("invaild sensor id %d, should < %d" % (self._csi, CAM_DEV_ID_MAX - 1))
        if not kwargs.get("force", False) and Sensor._csis[self._csi]:
            raise OSError("sensor(%d) is already inited." % self._csi)
        # The probed sensor's output window bounds every channel.
        self._win = (kwargs.get("width", 1920), kwargs.get("height", 1080))
        self._enabled = False
        self._started = False
        self._size = [None] * CAM_CHN_ID_MAX
        self._fmt = [None] * CAM_CHN_ID_MAX
        self._buf_init = [False] * CAM_CHN_ID_MAX
        self._cams = [None] * CAM_CHN_ID_MAX
        self._imgs = [None] * CAM_CHN_ID_MAX
        Sensor._csis[self._csi] = True
        if None not in Sensor._devs:
            raise AssertionError("too many csi devs")
        self._dev_id = Sensor._devs.index(None)
        Sensor._devs[self._dev_id] = self

    def _need_reset(self):
        if not self._enabled:
            raise AssertionError("should call reset() first")

    def _check_chn(self, chn):
        if chn > CAM_CHN_ID_MAX - 1:
            raise AssertionError("invaild chn id %d, should < %d" % (chn, CAM_CHN_ID_MAX - 1))

    def reset(self):
        self._enabled = True

    def _config_buffers(self, chn):
        # The 2024 port reserves a channel's buffers once its size and format
        # are known, which MediaManager only allows before init().
        if API == "2024" and not self._buf_init[chn] and self._size[chn] and self._fmt[chn]:
            MediaManager._config()
            self._buf_init[chn] = True

    def set_framesize(self, framesize=FRAME_SIZE_INVAILD, chn=CAM_CHN_ID_0, alignment=0, crop=None, **kwargs):
        self._need_reset()
        self._check_chn(chn)
        if "w" in kwargs and "h" in kwargs:
            width, height = kwargs["w"], kwargs["h"]
        elif "width" in kwargs and "height" in kwargs:
            width, height = kwargs["width"], kwargs["height"]
        else:
            width, height = _SIZES[framesize] if 0 <= framesize < len(_SIZES) else (0, 0)
        if width % 16:
            width = (width + 15) // 16 * 16
            print("Warning: sensor(%d) chn(%d) set_framesize align up width to %d" % (self._csi, chn, width))
        if width > self._win[0] or width < CAM_OUT_WIDTH_MIN:
            raise AssertionError("sensor(%d) chn(%d) set_framesize invaild width(%d), should be %d - %d" % (
                self._csi, chn, width, CAM_OUT_WIDTH_MIN, self._win[0]))
        if height > self._win[1] or height < CAM_OUT_HEIGHT_MIN:
            raise AssertionError("sensor(%d) chn(%d) set_framesize invaild height(%d), should be %d - %d" % (
                self._csi, chn, height, CAM_OUT_HEIGHT_MIN, self._win[1]))
        self._size[chn] = (width, height)
        self._cams[chn] = None
        self._config_buffers(chn)

    def get_framesize(self, chn=CAM_CHN_ID_0):
        self._need_reset()
        return self._size[chn]

    def set_pixformat(self, pix_format, chn=CAM_CHN_ID_0):
        self._need_reset()
        self._check_chn(chn)
        self._fmt[chn] = pix_format
        self._cams[chn] = None
        self._config_buffers(chn)

    def get_pixformat(self, chn=CAM_CHN_ID_0):
        self._need_reset()
        return self._fmt[chn]

    def width(self, chn=CAM_CHN_ID_0):
        return self._size[chn][0]

    def height(self, chn=CAM_CHN_ID_0):
        return self._size[chn][1]

    def run(self):
        self._need_reset()
        if API == "2024" and not MediaManager._is_inited:
            # The 2024 port starts VICAP on buffers MediaManager.init() made.
            raise RuntimeError("sensor(%d) run error: MediaManager.init() was not called "
                               "(emulating the 2024 port)" % self._csi)
        self._started = True

    def _release(self, chn):
        if self._imgs[chn] is not None:
            self._imgs[chn]._release()
            self._imgs[chn] = None

    def stop(self, is_del=False):
        if not is_del:
            self._need_reset()
        for chn in range(CAM_CHN_ID_MAX):
            self._release(chn)
        self._enabled = False
        self._started = False
        Sensor._csis[self._csi] = False
        Sensor._devs[self._dev_id] = None

    def bind_info(self, x=0, y=0, chn=CAM_CHN_ID_0):
        self._need_reset()
        self._check_chn(chn)
        w, h = self._size[chn]
        return {"src": (CAMERA_MOD_ID, self._dev_id, chn), "rect": (x, y, w, h), "pix_format": self._fmt[chn]}

    def _bound_frame(self, chn):
        """The next frame of a channel linked to another module (VENC): the
        packed pixels, their size and img_stream's format code."""
        if not self._started:
            return None
        cam = self._camera(chn)
        w, h = self._size[chn]
        return self._frame(cam), w, h, cam[0].format

    def _camera(self, chn):
        cam = self._cams[chn]
        if cam is None:
            src = Sensor._SOURCE.get(self._fmt[chn])
            if src is None or self._size[chn] is None:
                raise RuntimeError("sensor(%d) snapshot chn(%d) not support pixelformat(%s)" % (
                    self._csi, chn, self._fmt[chn]))
            w, h = self._size[chn]
            cam = self._cams[chn] = [SyntheticCamera(w, h, src[0]), src[1], [], 0]
        return cam

    def _frame(self, cam):
        # The synthetic camera's frames are windows into a wider pattern (a
        # row stride); the board's are packed. Packing costs a copy per row,
        # so it is done once for each of a few positions of the sliding
        # pattern, and snapshots cycle through those buffers.
        synth, fmt, frames, n = cam
        cam[3] = n + 1
        if len(frames) < _PHASES:
            view = synth.snapshot().bytearray()
            w, h, row, stride = synth.width, synth.height, synth.width * synth.bpp, synth.stride
            rows = h * (3 if synth.format == synth_fmt.RGBP888 else 1) + (h // 2 if synth.format == synth_fmt.NV12 else 0)
            packed = bytearray(rows * row)
            for r in range(rows):
                packed[r * row:(r + 1) * row] = view[r * stride:r * stride + row]
            frames.append(memoryview(packed)[:image.image_size(w, h, fmt)])
        return frames[n % _PHASES]

    def snapshot(self, chn=CAM_CHN_ID_0, timeout=1000, dump_frame=False, auto_reboot=False):
        self._need_reset()
        self._check_chn(chn)
        self._release(chn)
        if not self._started:
            raise RuntimeError("sensor(%d) snapshot chn(%d) failed(-1): sensor not running" % (self._csi, chn))
        if dump_frame:
            raise NotImplementedError("dump_frame: not emulated")
        cam = self._camera(chn)
        w, h = self._size[chn]
        img = self._imgs[chn] = image.Image(w, h, cam[1], self._frame(cam))
        return img
