// A model of the image parts of CanMV's imlib.h (Canaan's canmv_k230,
// port/omv/imlib/imlib.h at 738f17f), written from the facts recorded in
// docs/CANMV.md, not copied: the pixfmt word (flags, id, sub-format, bytes
// per pixel) in a union with its bitfields, the `size` field that only
// compressed images set, and image_t's field order. canmv_layout.c checks
// the same offsets and values against this model and the real header.
#ifndef IMG_STREAM_MODEL_IMLIB_H
#define IMG_STREAM_MODEL_IMLIB_H
#include <stddef.h>
#include <stdint.h>
#include "py/obj.h"

// Bits 24..28 of a pixfmt word.
#define PIXFORMAT_FLAGS_Y (1u << 28) // YUV
#define PIXFORMAT_FLAGS_M (1u << 27) // mutable
#define PIXFORMAT_FLAGS_C (1u << 26) // colour
#define PIXFORMAT_FLAGS_J (1u << 25) // compressed
#define PIXFORMAT_FLAGS_R (1u << 24) // Bayer

// id << 16 | sub-format << 8 | bytes per pixel (YUV420: 2 << 4 | 3, i.e. 3/2).
#define MODEL_PIXFMT(flags, id, sub, bpp) ((flags) | ((id) << 16) | ((sub) << 8) | (bpp))

typedef enum {
    PIXFORMAT_INVALID = 0,
    PIXFORMAT_BINARY = MODEL_PIXFMT(PIXFORMAT_FLAGS_M, 1u, 0u, 0u),
    PIXFORMAT_GRAYSCALE = MODEL_PIXFMT(PIXFORMAT_FLAGS_M, 2u, 0u, 1u),
    PIXFORMAT_RGB565 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_M, 3u, 0u, 2u),
    PIXFORMAT_BAYER_BGGR = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_R, 4u, 0u, 1u),
    PIXFORMAT_YUV422 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_Y | PIXFORMAT_FLAGS_M, 5u, 0u, 2u),
    PIXFORMAT_JPEG = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_J, 6u, 0u, 0u),
    PIXFORMAT_PNG = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_J, 7u, 0u, 0u),
    PIXFORMAT_ARGB8888 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_M, 8u, 0u, 4u),
    PIXFORMAT_RGB888 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_M, 9u, 0u, 3u),
    PIXFORMAT_BGR888 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_M, 9u, 1u, 3u),
    PIXFORMAT_RGBP888 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_M, 9u, 2u, 3u),
    PIXFORMAT_BGRP888 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_M, 9u, 3u, 3u),
    PIXFORMAT_YUV420 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_Y | PIXFORMAT_FLAGS_M, 10u, 0u, 0x23u),
    PIXFORMAT_YVU420 = MODEL_PIXFMT(PIXFORMAT_FLAGS_C | PIXFORMAT_FLAGS_Y | PIXFORMAT_FLAGS_M, 10u, 1u, 0x23u),
} pixformat_t;

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the model, like the K230, is little-endian"
#endif

// Allocation kinds of image.Image(alloc=...): sensor frames are ALLOC_VB.
enum { ALLOC_MPGC, ALLOC_HEAP, ALLOC_MMZ, ALLOC_VB, ALLOC_REF, ALLOC_MAX };

typedef struct image {
    int32_t w;
    int32_t h;
    struct {
        union {
            struct {
                uint32_t bpp : 8;
                uint32_t subfmt_id : 8;
                uint32_t pixfmt_id : 8;
                uint32_t is_bayer : 1;
                uint32_t is_compressed : 1;
                uint32_t is_color : 1;
                uint32_t is_mutable : 1;
                uint32_t is_yuv : 1;
                uint32_t : 3;
            };
            uint32_t pixfmt;
        };
        uint32_t size; // compressed images only: 0 for sensor frames
    };
    union {
        uint8_t *pixels;
        uint8_t *data;
    };
    uint64_t phy_addr;
    mp_obj_t ref_obj;
    uint8_t alloc_type;
    uint8_t cache;
    uint32_t pool_id;
} image_t;

// Bytes of pixel data: from w, h and the format for raw images, `size` for
// compressed ones, 0 for formats it does not know.
size_t image_size(image_t *ptr);
#endif
