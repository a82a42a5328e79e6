# Emulated media.media: MediaManager as either CanMV port has it, and the
# channel constants media.sensor re-exports.
#
# Current port (canmv_k230 at 738f17f, builtin_py/media/media.py): init()
# and deinit() only print "deprecated function". The 2024 port (same file at
# 4b8cae1, 2024-12-17): init() sets up the video buffers, raises on a second
# call, and the sensor must be configured before it. Scripts that configure
# the sensor, then call MediaManager.init(), then sensor.run(), and call
# deinit() at the end, run on both; set IMG_STREAM_K230_API=2024 to emulate
# the older one.
try:
    from os import getenv
except ImportError:
    def getenv(name, default=None):
        return default

API = getenv("IMG_STREAM_K230_API") or "current"
if API not in ("current", "2024"):
    raise ValueError("IMG_STREAM_K230_API must be 'current' or '2024'")

CAM_DEV_ID_MAX = 3
CAM_CHN_ID_0 = 0
CAM_CHN_ID_1 = 1
CAM_CHN_ID_2 = 2
CAM_CHN_ID_MAX = 3
# Module ids for MediaManager.link() (mpp/sys_struct.py K_ID_VI, K_ID_VENC).
CAMERA_MOD_ID = 6
VIDEO_ENCODE_MOD_ID = 9
VENC_DEV_ID = 0
VENC_CHN_ID_0 = 0
VENC_CHN_ID_MAX = 4
VENC_PACK_CNT_MAX = 12

# dst -> src of every live MediaManager.link(): the emulated encoder pulls
# its frames from the sensor channel linked to it.
_links = {}


def ALIGN_UP(x, a):
    return (x + a - 1) // a * a


class _Link:
    def __init__(self, dst):
        self._dst = dst

    def __del__(self):
        _links.pop(self._dst, None)


class MediaManager:
    _is_inited = False

    @classmethod
    def init(cls, for_comress=True):
        if API == "current":
            print("deprecated function")
            return
        if cls._is_inited:
            raise AssertionError("The buffer has been initialized!!!\n"
                                 "This method can only be called once, please check your code!!!")
        cls._is_inited = True

    @classmethod
    def deinit(cls, force=False):
        if API == "current":
            print("deprecated function")
            return
        cls._is_inited = False

    @staticmethod
    def link(src, dst):
        for t in (src, dst):
            if not isinstance(t, tuple):
                raise TypeError("src is not a tuple" if t is src else "dst is not a tuple")
            if len(t) != 3:
                raise TypeError("src size shoule be 3" if t is src else "dst size shoule be 3")
        _links[dst] = src
        return _Link(dst)

    @classmethod
    def _config(cls, config=None):
        # The 2024 sensor reserves its buffers through here, and only
        # before init(); the current port has no such step.
        if API == "current":
            raise RuntimeError("deprecated function")
        if cls._is_inited:
            raise AssertionError("please run MediaManager._config() before MediaManager.init()")
        return True
