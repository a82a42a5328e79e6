# Prints one line per encode (format, size, quality, subsampling, engine:
# length and CRC-32 of the JPEG) for a fixed set of synthetic frames.
# tests/cross/same_bytes.sh runs it on the x86 and the riscv64 interpreter
# and requires identical output: the board must produce the bytes x86 does.
import img_stream
from synthetic_camera import SyntheticCamera, FORMAT_NAMES

FORMATS = (
    img_stream.GRAYSCALE, img_stream.RGB565, img_stream.RGB565_SWAPPED, img_stream.RGB888,
    img_stream.BGR888, img_stream.RGBP888, img_stream.YUV422, img_stream.NV12,
)
ENGINES = (img_stream.ENGINE_JPEG_ENCODER, img_stream.ENGINE_FAST)

for w, h in ((64, 48), (322, 242)):
    for fmt in FORMATS:
        img = SyntheticCamera(w, h, fmt).snapshot()
        for quality in (30, 65, 95):
            for ss in (444, 422, 420):
                for engine in ENGINES:
                    j = img_stream.encode(img, quality=quality, subsampling=ss, engine=engine)
                    print(FORMAT_NAMES[fmt], w, h, quality, ss, engine, len(j), img_stream.crc32(j))
