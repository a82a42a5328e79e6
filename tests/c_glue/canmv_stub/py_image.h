// A stand-in for CanMV's py_image.h/imlib.h with only what img_stream's
// adapter uses, so the IMG_STREAM_CANMV path is compiled in every test run.
// The names follow the firmware (OpenMV-derived imlib); the values need not.
#ifndef IMG_STREAM_TEST_PY_IMAGE_H
#define IMG_STREAM_TEST_PY_IMAGE_H
#include <stdint.h>
#include "py/obj.h"

typedef enum {
    PIXFORMAT_INVALID = 0,
    PIXFORMAT_BINARY,
    PIXFORMAT_GRAYSCALE,
    PIXFORMAT_RGB565,
    PIXFORMAT_RGB888,
    PIXFORMAT_BGR888,
    PIXFORMAT_RGBP888,
    PIXFORMAT_BGRP888,
    PIXFORMAT_YUV420,
    PIXFORMAT_YVU420,
    PIXFORMAT_ARGB8888,
    PIXFORMAT_JPEG,
} pixformat_t;

typedef struct image {
    int32_t w;
    int32_t h;
    pixformat_t pixfmt;
    uint32_t size;
    uint8_t *data;
} image_t;

extern const mp_obj_type_t py_image_type;
void *py_image_cobj(mp_obj_t img_obj);
#endif
