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

#include "harness.h"
#include "turbo_encode.h"

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: enc_turbo FILE W H gray|rgb|yuv420p N [Q] [OUT]\n");
        return 2;
    }
    size_t len;
    unsigned char *data = slurp(argv[1], &len);
    int w = atoi(argv[2]), h = atoi(argv[3]), n = atoi(argv[5]);
    int q = argc > 6 ? atoi(argv[6]) : 65;
    int kind = turbo_kind(argv[4]);
    if (kind < 0 || len < turbo_frame_len(kind, w, h) || (kind == TURBO_YUV420P && h % 16 != 0)) {
        fprintf(stderr, "unknown kind, frame file too small or height not a multiple of 16\n");
        return 1;
    }

    struct turbo t;
    if (!turbo_init(&t, kind, data, w, h)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    unsigned long size = 0;
    for (int i = 0; i < n; i++) {
        size = turbo_encode(&t, q);
        if (size == 0) {
            fprintf(stderr, "output outgrew the preallocated buffer\n");
            return 1;
        }
    }
    if (argc > 7) {
        spit(argv[7], t.dst, size);
    }
    printf("%lu bytes\n", size);
    jpeg_destroy_compress(&t.c);
    return 0;
}
