/* libjpeg-turbo's time on a board, for the frames that
 * python/examples/k230/measure_encode.py dumped (its dump_dir argument),
 * printed in that script's line format so img_stream's and libjpeg-turbo's
 * figures for the same frame can be posted side by side:
 *
 *   turbo_measure FILE W H LAYOUT QUALITY FRAMES NAME...
 *
 * LAYOUT: nv12 (the camera's YUV420SP), rgb565 (little-endian words),
 * rgb888, bgr888 or gray. Each encode makes the calls TurboJPEG makes for
 * TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC (turbo_encode.h, the calls the
 * riscv64 counting bench makes): 4:2:0, islow DCT, one compressor, a
 * preallocated output buffer. What libjpeg-turbo cannot take as it is gets
 * converted once, before the timer: NV12's interleaved UV plane into U and
 * V planes, RGB565 into RGB888 with the bit replication img_stream uses,
 * BGR into RGB. Built for the K230 by bench/riscv/board/build.sh, against
 * upstream libjpeg-turbo with its RVV SIMD (docs/CANMV.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness.h"
#include "../turbo_encode.h"

static double now_us(void) {
    struct timespec t;
    /* CanMV's own port reads CLOCK_REALTIME (port/core/mphalport.c);
     * MONOTONIC where the kernel has it. */
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) {
        clock_gettime(CLOCK_REALTIME, &t);
    }
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* The frame in a layout libjpeg-turbo takes; *kind is set to it. */
static unsigned char *to_turbo(const char *layout, const unsigned char *src, size_t len, int w,
                               int h, int *kind) {
    size_t px = (size_t)w * h;
    unsigned char *dst = malloc(3 * px + 1);
    if (!dst) {
        return NULL;
    }
    if (strcmp(layout, "nv12") == 0 && len >= px + px / 2) {
        size_t q = (size_t)(w / 2) * (h / 2);
        memcpy(dst, src, px);
        for (size_t i = 0; i < q; i++) {
            dst[px + i] = src[px + 2 * i];
            dst[px + q + i] = src[px + 2 * i + 1];
        }
        *kind = TURBO_YUV420P;
    } else if (strcmp(layout, "rgb565") == 0 && len >= 2 * px) {
        for (size_t i = 0; i < px; i++) {
            unsigned v = src[2 * i] | (unsigned)src[2 * i + 1] << 8;
            unsigned r = v >> 11, g = (v >> 5) & 63, b = v & 31;
            dst[3 * i] = (unsigned char)(r << 3 | r >> 2);
            dst[3 * i + 1] = (unsigned char)(g << 2 | g >> 4);
            dst[3 * i + 2] = (unsigned char)(b << 3 | b >> 2);
        }
        *kind = TURBO_RGB;
    } else if ((strcmp(layout, "rgb888") == 0 || strcmp(layout, "bgr888") == 0) && len >= 3 * px) {
        int bgr = layout[0] == 'b';
        for (size_t i = 0; i < px; i++) {
            dst[3 * i] = src[3 * i + (bgr ? 2 : 0)];
            dst[3 * i + 1] = src[3 * i + 1];
            dst[3 * i + 2] = src[3 * i + (bgr ? 0 : 2)];
        }
        *kind = TURBO_RGB;
    } else if (strcmp(layout, "gray") == 0 && len >= px) {
        memcpy(dst, src, px);
        *kind = TURBO_GRAY;
    } else {
        free(dst);
        return NULL;
    }
    return dst;
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: turbo_measure FILE W H nv12|rgb565|rgb888|bgr888|gray QUALITY "
                        "FRAMES NAME...\n");
        return 2;
    }
    size_t len;
    unsigned char *raw = slurp(argv[1], &len);
    int w = atoi(argv[2]), h = atoi(argv[3]), q = atoi(argv[5]), frames = atoi(argv[6]);
    int kind = -1;
    unsigned char *data = to_turbo(argv[4], raw, len, w, h, &kind);
    if (!data || w <= 0 || h <= 0 || frames <= 0 || (kind == TURBO_YUV420P && h % 16 != 0)) {
        fprintf(stderr, "turbo_measure: %s is not a %dx%d %s frame (or a bad argument)\n", argv[1],
                w, h, argv[4]);
        return 1;
    }
    char name[64] = "";
    for (int i = 7; i < argc; i++) {
        strncat(name, argv[i], sizeof name - strlen(name) - 2);
        if (i + 1 < argc) {
            strcat(name, " ");
        }
    }

    struct turbo t;
    if (!turbo_init(&t, kind, data, w, h)) {
        fprintf(stderr, "turbo_measure: out of memory\n");
        return 1;
    }
    /* One encode before the timer: libjpeg-turbo's first call sets up its
     * tables, as img_stream's first does not need to. */
    unsigned long size = turbo_encode(&t, q);
    double t0 = now_us();
    for (int i = 0; i < frames && size; i++) {
        size = turbo_encode(&t, q);
    }
    double us = now_us() - t0;
    if (size == 0) {
        fprintf(stderr, "turbo_measure: output outgrew the buffer\n");
        return 1;
    }
    printf("%-18s %-10s %7.2f ms %6.1f fps %7lu B\n", name, "turbo-rvv", us / frames / 1000,
           frames * 1e6 / (us > 1 ? us : 1), size);
    jpeg_destroy_compress(&t.c);
    return 0;
}
