/* Encodes one raw frame N times with libjpeg-turbo's portable C path, for
 * counting instructions under qemu:
 * enc_turbo FILE WIDTH HEIGHT KIND N [Q] [OUT], KIND one of gray, rgb, yuv420p.
 *
 * Makes the calls TurboJPEG 2.1 makes with TJFLAG_ACCURATEDCT |
 * TJFLAG_NOREALLOC: tjCompress2 (gray, rgb) and tjCompressFromYUVPlanes
 * (yuv420p: planar Y, U, V, i.e. NV12 with its UV plane de-interleaved once
 * beforehand, outside the counted loop). One compressor object for all
 * encodes, output into one preallocated buffer, 4:2:0, islow DCT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeglib.h"

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*len);
    if (!buf || fread(buf, 1, *len, f) != *len) {
        fprintf(stderr, "%s: short read\n", path);
        exit(1);
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: enc_turbo FILE W H gray|rgb|yuv420p N [Q] [OUT]\n");
        return 2;
    }
    size_t len;
    unsigned char *data = slurp(argv[1], &len);
    int w = atoi(argv[2]), h = atoi(argv[3]), n = atoi(argv[5]);
    int q = argc > 6 ? atoi(argv[6]) : 65;
    const char *kind = argv[4];
    int gray = strcmp(kind, "gray") == 0, raw = strcmp(kind, "yuv420p") == 0;
    size_t need = (size_t)w * h * (gray ? 1 : raw ? 3 : 3);
    if (raw) {
        need = (size_t)w * h + 2 * (size_t)(w / 2) * (h / 2);
    }
    if (len < need || (raw && (h % 16 != 0))) {
        fprintf(stderr, "frame file too small or height not a multiple of 16\n");
        return 1;
    }

    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned long cap = (unsigned long)w * h * 3 + 65536, size = 0;
    unsigned char *dst = malloc(cap), *out = NULL;
    JSAMPROW *rows = malloc(sizeof(JSAMPROW) * (size_t)h);
    for (int y = 0; y < h && !raw; y++) {
        rows[y] = data + (size_t)y * w * (gray ? 1 : 3);
    }
    for (int i = 0; i < n; i++) {
        out = dst;
        size = cap;
        jpeg_mem_dest(&c, &out, &size);
        c.image_width = (JDIMENSION)w;
        c.image_height = (JDIMENSION)h;
        c.input_components = gray ? 1 : 3;
        c.in_color_space = gray ? JCS_GRAYSCALE : raw ? JCS_YCbCr : JCS_RGB;
        jpeg_set_defaults(&c);
        jpeg_set_quality(&c, q, TRUE);
        c.dct_method = JDCT_ISLOW;
        if (!gray) {
            jpeg_set_colorspace(&c, JCS_YCbCr);
            c.comp_info[0].h_samp_factor = 2;
            c.comp_info[0].v_samp_factor = 2;
            for (int k = 1; k < 3; k++) {
                c.comp_info[k].h_samp_factor = 1;
                c.comp_info[k].v_samp_factor = 1;
            }
        }
        c.raw_data_in = raw ? TRUE : FALSE;
        jpeg_start_compress(&c, TRUE);
        if (raw) {
            unsigned char *planes[3] = {data, data + (size_t)w * h,
                                        data + (size_t)w * h + (size_t)(w / 2) * (h / 2)};
            JSAMPROW yr[16], ur[8], vr[8];
            JSAMPARRAY img[3] = {yr, ur, vr};
            while (c.next_scanline < c.image_height) {
                JDIMENSION y0 = c.next_scanline;
                for (int k = 0; k < 16; k++) {
                    yr[k] = planes[0] + (size_t)(y0 + k) * w;
                }
                for (int k = 0; k < 8; k++) {
                    ur[k] = planes[1] + (size_t)(y0 / 2 + k) * (w / 2);
                    vr[k] = planes[2] + (size_t)(y0 / 2 + k) * (w / 2);
                }
                jpeg_write_raw_data(&c, img, 16);
            }
        } else {
            while (c.next_scanline < c.image_height) {
                jpeg_write_scanlines(&c, rows + c.next_scanline, c.image_height - c.next_scanline);
            }
        }
        jpeg_finish_compress(&c);
        if (out != dst) {
            fprintf(stderr, "output outgrew the preallocated buffer\n");
            return 1;
        }
    }
    if (argc > 7) {
        FILE *f = fopen(argv[7], "wb");
        if (!f || fwrite(dst, 1, size, f) != size || fclose(f) != 0) {
            perror(argv[7]);
            return 1;
        }
    }
    printf("%lu bytes\n", size);
    jpeg_destroy_compress(&c);
    return 0;
}
