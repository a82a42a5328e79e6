/* One libjpeg-turbo compression made with the calls TurboJPEG makes for
 * TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC: tjCompress2's (gray, rgb) or
 * tjCompressFromYUVPlanes's (yuv420p: planar Y, U, V), into a preallocated
 * buffer, 4:2:0 (gray: one component), islow DCT. Shared by the counting
 * harness (enc_turbo.c) and the board driver (board/turbo_measure.c). */
#ifndef IMG_STREAM_BENCH_TURBO_ENCODE_H
#define IMG_STREAM_BENCH_TURBO_ENCODE_H

#include <stdio.h>
#include <stdlib.h>
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

/* A compressor with its output buffer and input row pointers, made once
 * for any number of encodes of one frame (TurboJPEG keeps one compressor
 * too; it makes row pointers per call, but that is not what is compared). */
struct turbo {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    int kind, w, h;
    unsigned char *data, *dst;
    unsigned long cap;
    JSAMPROW *rows;
};

/* Sets `t` up for `data`, a W x H frame of `kind` (yuv420p: H a multiple of
 * 16); 0 if out of memory. */
static int turbo_init(struct turbo *t, int kind, unsigned char *data, int w, int h) {
    t->c.err = jpeg_std_error(&t->err);
    jpeg_create_compress(&t->c);
    t->kind = kind, t->w = w, t->h = h, t->data = data;
    t->cap = (unsigned long)w * h * 3 + 65536;
    t->dst = malloc(t->cap);
    t->rows = malloc(sizeof(JSAMPROW) * (size_t)h);
    for (int y = 0; y < h && kind != TURBO_YUV420P && t->rows; y++) {
        t->rows[y] = data + (size_t)y * w * (kind == TURBO_GRAY ? 1 : 3);
    }
    return t->dst && t->rows;
}

/* One encode at quality `q` into `t->dst`: the JPEG's size, or 0 if it did
 * not fit. */
static unsigned long turbo_encode(struct turbo *t, int q) {
    struct jpeg_compress_struct *c = &t->c;
    int w = t->w, h = t->h, gray = t->kind == TURBO_GRAY, raw = t->kind == TURBO_YUV420P;
    unsigned char *data = t->data, *out = t->dst;
    unsigned long size = t->cap;
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
            jpeg_write_scanlines(c, t->rows + c->next_scanline, c->image_height - c->next_scanline);
        }
    }
    jpeg_finish_compress(c);
    return out == t->dst ? size : 0;
}

#endif
