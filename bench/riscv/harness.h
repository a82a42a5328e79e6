/* File helpers shared by the counting harnesses (enc_ours.c, enc_turbo.c)
 * and the board driver (board/turbo_measure.c): read a whole file, write a
 * buffer to one. Both exit with a message on failure. */
#ifndef IMG_STREAM_BENCH_HARNESS_H
#define IMG_STREAM_BENCH_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*len ? *len : 1);
    if (!buf || fread(buf, 1, *len, f) != *len) {
        fprintf(stderr, "%s: short read\n", path);
        exit(1);
    }
    fclose(f);
    return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

#endif
