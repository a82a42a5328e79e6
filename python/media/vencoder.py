# Emulated media.vencoder: the K230's hardware video encoder (VENC) as
# port/builtin_py/media/vencoder.py drives it (canmv_k230 at 738f17f), for
# MJPEG only. A sensor channel is bound to an encoder channel with
# MediaManager.link(sensor.bind_info()["src"], (VIDEO_ENCODE_MOD_ID,
# VENC_DEV_ID, chn)); GetStream() then fills a StreamData with the address
# and length of each packet, which scripts read in place with
# uctypes.bytearray_at(), until ReleaseStream(). Here img_stream's own
# encoder stands in for the hardware (quality = mjpeg_quality_factor; the
# VENC's q_factor scale is not IJG's), writing into one fixed packet buffer
# per channel sized as the board's output pool (w*h*3/4, 4 KiB aligned).
import uctypes

import img_stream
from media.media import ALIGN_UP, VENC_CHN_ID_MAX, VENC_PACK_CNT_MAX, VIDEO_ENCODE_MOD_ID, VENC_DEV_ID, _links
from media.sensor import Sensor

K_PT_JPEG = 26
K_PT_H264 = 96
K_PT_H265 = 265
K_VENC_P_FRAME = 1
K_VENC_I_FRAME = 2
K_VENC_HEADER = 3
VENC_ALIGN_4K = 0x1000


class ChnAttrStr:
    def __init__(self, payloadType, profile, picWidth, picHeight, bit_rate=4000, gopLen=30, src_frame_rate=30,
                 dst_frame_rate=30, mjpeg_quality_factor=45):
        self.payload_type = payloadType
        self.profile = profile
        self.pic_width = picWidth
        self.pic_height = picHeight
        self.gop_len = gopLen
        self.bit_rate = bit_rate
        self.src_frame_rate = src_frame_rate
        self.dst_frame_rate = dst_frame_rate
        self.mjpeg_quality_factor = mjpeg_quality_factor


class StreamData:
    def __init__(self):
        self.data = [0] * VENC_PACK_CNT_MAX
        self.phy_addr = [0] * VENC_PACK_CNT_MAX
        self.data_size = [0] * VENC_PACK_CNT_MAX
        self.stream_type = [0] * VENC_PACK_CNT_MAX
        self.pts = [0] * VENC_PACK_CNT_MAX
        self.pack_cnt = 0


def _check_chn(chn, what):
    if chn > VENC_CHN_ID_MAX - 1:
        raise ValueError("venc %s, chn id: " % what, chn, " out of range 0 ~ 3")


class Encoder:
    PAYLOAD_TYPE_H264 = K_PT_H264
    PAYLOAD_TYPE_H265 = K_PT_H265
    PAYLOAD_TYPE_JPEG = K_PT_JPEG
    H264_PROFILE_BASELINE = 1
    H264_PROFILE_MAIN = 2
    H264_PROFILE_HIGH = 3
    H265_PROFILE_MAIN = 4
    STREAM_TYPE_HEADER = K_VENC_HEADER
    STREAM_TYPE_I = K_VENC_I_FRAME
    STREAM_TYPE_P = K_VENC_P_FRAME

    def __init__(self):
        self._pool = {}
        self._chn = {}
        self._held = {}

    def SetOutBufs(self, chn, buf_num, width, height):
        _check_chn(chn, "create")
        if buf_num and width and height:
            self._pool[chn] = bytearray(ALIGN_UP(width * height * 3 // 4, VENC_ALIGN_4K))

    def Create(self, chn, chnAttr):
        _check_chn(chn, "create")
        if chnAttr.payload_type != K_PT_JPEG:
            raise NotImplementedError("the emulated VENC encodes MJPEG only")
        if chn not in self._pool:
            raise OSError("mpi venc create chn failed.")  # no output buffers (SetOutBufs)
        self._chn[chn] = [chnAttr, False, 0]

    def Start(self, chn):
        _check_chn(chn, "Start")
        if chn not in self._chn:
            raise OSError("mpi venc start failed.")
        self._chn[chn][1] = True

    def GetStream(self, chn, streamData, timeout=-1):
        _check_chn(chn, "GetStream")
        st = self._chn.get(chn)
        src = _links.get((VIDEO_ENCODE_MOD_ID, VENC_DEV_ID, chn))
        sensor = Sensor._devs[src[1]] if src else None
        got = sensor._bound_frame(src[2]) if st and st[1] and sensor else None
        if got is None or self._held.get(chn):
            raise OSError("mpi venc get stream failed.")
        pixels, w, h, fmt = got
        out = self._pool[chn]
        n = img_stream.encode_into(img_stream.Frame(pixels, w, h, fmt), out,
                                   quality=st[0].mjpeg_quality_factor)
        streamData.pack_cnt = 1
        streamData.data[0] = uctypes.addressof(out)
        streamData.phy_addr[0] = streamData.data[0]
        streamData.data_size[0] = n
        streamData.stream_type[0] = K_VENC_I_FRAME
        streamData.pts[0] = st[2]
        st[2] += 1
        self._held[chn] = True
        return 0

    def ReleaseStream(self, chn, streamData):
        _check_chn(chn, "ReleaseStream")
        if not self._held.get(chn):
            raise OSError("mpi venc release stream failed.")
        self._held[chn] = False

    def Stop(self, chn):
        _check_chn(chn, "Stop")
        if chn in self._chn:
            self._chn[chn][1] = False

    def Destroy(self, chn):
        _check_chn(chn, "Destroy")
        self._chn.pop(chn, None)
        self._pool.pop(chn, None)
