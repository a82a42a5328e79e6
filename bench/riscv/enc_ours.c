/* Encodes one raw frame N times with img_stream's staticlib, for counting
 * instructions under qemu: enc_ours FILE WIDTH HEIGHT FORMAT ENGINE N [Q] [OUT].
 * FORMAT is img_stream's code (1 gray, 2 rgb565, 4 rgb888, 8 nv12); ENGINE 1
 * is jpeg-encoder, 2 img_stream's own encoder. 4:2:0 always. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "img_stream_core.h"

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: enc_ours FILE W H FORMAT ENGINE N [Q] [OUT]\n");
        return 2;
    }
    size_t len;
    unsigned char *data = slurp(argv[1], &len);
    IsFrame frame = {data, len, (uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]), 0,
                     (uint8_t)atoi(argv[4])};
    IsEncodeOptions opt = {argc > 7 ? atoi(argv[7]) : 65, 420, atoi(argv[5])};
    int n = atoi(argv[6]);
    size_t cap = (size_t)frame.width * frame.height * 3 + 65536;
    unsigned char *dst = malloc(cap);
    IsOutcome out = {0};
    for (int i = 0; i < n; i++) {
        int rc = is_encode_into(&frame, &opt, dst, cap, &out);
        if (rc != IS_OK) {
            fprintf(stderr, "is_encode_into: status %d\n", rc);
            return 1;
        }
    }
    if (argc > 8) {
        spit(argv[8], dst, out.len);
    }
    printf("%zu bytes\n", out.len);
    return 0;
}
