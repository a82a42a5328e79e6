/* One libjpeg-turbo compression made with the calls TurboJPEG makes for
 * TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC: tjCompress2's (gray, rgb) or
 * tjCompressFromYUVPlanes's (yuv420p: planar Y, U, V), into a preallocated
 * buffer, 4:2:0 (gray: one component), islow DCT. Shared by the counting
 * harness (enc_turbo.c) and the board driver (board/turbo_measure.c). */
#ifndef IMG_STREAM_BENCH_TURBO_ENCODE_H
#define IMG_STREAM_BENCH_TURBO_ENCODE_H

#include <stdio.h>
#include <string.h>

#include "jpeglib.h"

enum { TURBO_GRAY, TURBO_RGB, TURBO_YUV420P };

/* TURBO_* for "gray", "rgb" or "yuv420p"; -1 for anything else. */
static int turbo_kind(const char *name) {
    return strcmp(name, "gray") == 0      ? TURBO_GRAY
           : strcmp(name, "rgb") == 0     ? TURBO_RGB
           : strcmp(name, "yuv420p") == 0 ? TURBO_YUV420P
                                          : -1;
}

/* Bytes of a W x H frame of `kind`. */
static size_t turbo_frame_len(int kind, int w, int h) {
    if (kind == TURBO_YUV420P) {
        return (size_t)w * h + 2 * (size_t)(w / 2) * (h / 2);
    }
    return (size_t)w * h * (kind == TURBO_GRAY ? 1 : 3);
}

/* Encodes `data` (W x H, `kind`; yuv420p needs H a multiple of 16) with the
 * compressor `c` into `dst` (`cap` bytes). `rows` holds H row pointers for
 * gray and rgb (made once by the caller: TurboJPEG makes them per call, but
 * that is not what is compared). Returns the JPEG's size, or 0 if it did not
 * fit into `dst`. */
static unsigned long turbo_encode(struct jpeg_compress_struct *c, int kind, unsigned char *data,
                                  JSAMPROW *rows, int w, int h, int q, unsigned char *dst,
                                  unsigned long cap) {
    int gray = kind == TURBO_GRAY, raw = kind == TURBO_YUV420P;
    unsigned char *out = dst;
    unsigned long size = cap;
    jpeg_mem_dest(c, &out, &size);
    c->image_width = (JDIMENSION)w;
    c->image_height = (JDIMENSION)h;
    c->input_components = gray ? 1 : 3;
    c->in_color_space = gray ? JCS_GRAYSCALE : raw ? JCS_YCbCr : JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, q, TRUE);
    c->dct_method = JDCT_ISLOW;
    if (!gray) {
        jpeg_set_colorspace(c, JCS_YCbCr);
        c->comp_info[0].h_samp_factor = 2;
        c->comp_info[0].v_samp_factor = 2;
        for (int k = 1; k < 3; k++) {
            c->comp_info[k].h_samp_factor = 1;
            c->comp_info[k].v_samp_factor = 1;
        }
    }
    c->raw_data_in = raw ? TRUE : FALSE;
    jpeg_start_compress(c, TRUE);
    if (raw) {
        unsigned char *planes[3] = {data, data + (size_t)w * h,
                                    data + (size_t)w * h + (size_t)(w / 2) * (h / 2)};
        JSAMPROW yr[16], ur[8], vr[8];
        JSAMPARRAY img[3] = {yr, ur, vr};
        while (c->next_scanline < c->image_height) {
            JDIMENSION y0 = c->next_scanline;
            for (int k = 0; k < 16; k++) {
                yr[k] = planes[0] + (size_t)(y0 + k) * w;
            }
            for (int k = 0; k < 8; k++) {
                ur[k] = planes[1] + (size_t)(y0 / 2 + k) * (w / 2);
                vr[k] = planes[2] + (size_t)(y0 / 2 + k) * (w / 2);
            }
            jpeg_write_raw_data(c, img, 16);
        }
    } else {
        while (c->next_scanline < c->image_height) {
            jpeg_write_scanlines(c, rows + c->next_scanline, c->image_height - c->next_scanline);
        }
    }
    jpeg_finish_compress(c);
    return out == dst ? size : 0;
}

#endif
