// Turning Python objects into IsFrame: the Frame type, CanMV-style image
// objects (duck typing), and already-encoded JPEG bytes.
#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/objstr.h"
#include "img_stream_shim.h"

#if IMG_STREAM_CANMV
// CanMV K230 firmware: take image.Image objects by their C struct, zero-copy.
#include "py/nlr.h"
#include "py_image.h"
#endif

// imlib's pixfmt words, what image.format() returns on CanMV (flags, id,
// sub-format and bytes per pixel packed into 32 bits; Canaan's canmv_k230
// port/omv/imlib/imlib.h at 738f17f, see docs/CANMV.md). The duck-typed path
// accepts them beside img_stream's own codes; with IMG_STREAM_CANMV the
// firmware's header checks every value below at compile time.
#define IS_IMLIB_GRAYSCALE 0x08020001u
#define IS_IMLIB_RGB565 0x0C030002u
#define IS_IMLIB_RGB888 0x0C090003u
#define IS_IMLIB_BGR888 0x0C090103u
#define IS_IMLIB_RGBP888 0x0C090203u
#define IS_IMLIB_YUV420 0x1C0A0023u
#define IS_IMLIB_JPEG 0x06060000u

#if IMG_STREAM_CANMV
_Static_assert(IS_IMLIB_GRAYSCALE == PIXFORMAT_GRAYSCALE, "imlib GRAYSCALE");
_Static_assert(IS_IMLIB_RGB565 == PIXFORMAT_RGB565, "imlib RGB565");
_Static_assert(IS_IMLIB_RGB888 == PIXFORMAT_RGB888, "imlib RGB888");
_Static_assert(IS_IMLIB_BGR888 == PIXFORMAT_BGR888, "imlib BGR888");
_Static_assert(IS_IMLIB_RGBP888 == PIXFORMAT_RGBP888, "imlib RGBP888");
_Static_assert(IS_IMLIB_YUV420 == PIXFORMAT_YUV420, "imlib YUV420");
_Static_assert(IS_IMLIB_JPEG == PIXFORMAT_JPEG, "imlib JPEG");
#endif

static const struct {
    uint32_t imlib;
    uint8_t format;
} imlib_formats[] = {
    { IS_IMLIB_GRAYSCALE, IS_FMT_GRAYSCALE }, // also the Y plane of Sensor.GRAYSCALE frames
    { IS_IMLIB_RGB565, IS_FMT_RGB565 }, // native (little-endian) words
    { IS_IMLIB_RGB888, IS_FMT_RGB888 }, // bytes R, G, B
    { IS_IMLIB_BGR888, IS_FMT_BGR888 },
    { IS_IMLIB_RGBP888, IS_FMT_RGBP888 }, // three w*h planes
    { IS_IMLIB_YUV420, IS_FMT_NV12 }, // the sensor's YUV420SP: Y, then interleaved UV
    { IS_IMLIB_JPEG, IS_FMT_JPEG }, // compressed (e.g. by VENC): passes through
};

// img_stream's code for an imlib pixfmt word, or 0 if img_stream has none
// (binary, Bayer, YUV422, YVU420, ARGB, PNG).
static mp_int_t from_imlib(mp_uint_t pixfmt) {
    for (size_t i = 0; i < MP_ARRAY_SIZE(imlib_formats); i++) {
        if (imlib_formats[i].imlib == pixfmt) {
            return imlib_formats[i].format;
        }
    }
    return 0;
}

// Fills `f` from an object's parts; Rust checks every one of them (format
// code, size, stride, the shape against the buffer) and raises nothing.
static void raw_frame(IsFrame *f, const mp_buffer_info_t *bi, mp_int_t w, mp_int_t h,
    mp_int_t format, mp_int_t stride) {
    IsOutcome out = {0};
    int32_t st = is_frame_from_parts(f, bi->buf, bi->len, w, h, format, stride, &out);
    if (st != IS_OK) {
        is_raise_status(st, &out);
    }
}

// --- img_stream.Frame -------------------------------------------------------

static mp_obj_t frame_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_buf, ARG_width, ARG_height, ARG_format, ARG_stride };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_buf, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_width, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_height, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_format, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_stride, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_buffer_info_t bi;
    mp_get_buffer_raise(args[ARG_buf].u_obj, &bi, MP_BUFFER_READ);
    IsFrame f;
    raw_frame(&f, &bi, args[ARG_width].u_int, args[ARG_height].u_int,
        args[ARG_format].u_int, args[ARG_stride].u_int);

    is_frame_obj_t *self = mp_obj_malloc(is_frame_obj_t, type);
    self->buf = args[ARG_buf].u_obj;
    self->width = f.width;
    self->height = f.height;
    self->stride = f.stride;
    self->format = f.format;
    return MP_OBJ_FROM_PTR(self);
}

static void frame_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return; // read-only
    }
    is_frame_obj_t *self = MP_OBJ_TO_PTR(self_in);
    switch (attr) {
        case MP_QSTR_width:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->width);
            break;
        case MP_QSTR_height:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->height);
            break;
        case MP_QSTR_format:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->format);
            break;
        case MP_QSTR_stride:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->stride);
            break;
        case MP_QSTR_buffer:
            dest[0] = self->buf;
            break;
        default:
            break;
    }
}

static void frame_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    is_frame_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t n;
    const uint8_t *name = is_format_name(self->format, &n);
    mp_printf(print, "<Frame %ux%u %.*s>", (unsigned)self->width, (unsigned)self->height,
        (int)n, (const char *)name);
}

static mp_int_t frame_get_buffer(mp_obj_t self_in, mp_buffer_info_t *bufinfo, mp_uint_t flags) {
    is_frame_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_get_buffer(self->buf, bufinfo, flags) ? 0 : 1;
}

MP_DEFINE_CONST_OBJ_TYPE(
    is_frame_type,
    MP_QSTR_Frame,
    MP_TYPE_FLAG_NONE,
    make_new, frame_make_new,
    print, frame_print,
    attr, frame_attr,
    buffer, frame_get_buffer
    );

// --- any image --------------------------------------------------------------

// Calls obj.name() and returns an int, or raises TypeError naming the method.
static mp_int_t call_int_method(mp_obj_t obj, qstr name) {
    mp_obj_t dest[2];
    mp_load_method_maybe(obj, name, dest);
    if (dest[0] == MP_OBJ_NULL) {
        mp_raise_msg_varg(&mp_type_TypeError,
            MP_ERROR_TEXT("image object has no %q() method"), name);
    }
    mp_obj_t r = mp_call_method_n_kw(0, 0, dest);
    if (!mp_obj_is_int(r)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%q() must return an int"), name);
    }
    return mp_obj_get_int(r);
}

#if IMG_STREAM_CANMV
// The firmware's image.Image, or NULL. Its type (py_image_type) is static in
// py_image.c and so cannot be named here: the type's name picks candidates
// cheaply and py_image_cobj(), which raises TypeError for any other type,
// decides. A Python class that happens to be called Image falls through to
// duck typing.
static image_t *canmv_cobj(mp_obj_t obj) {
    if (!mp_obj_is_obj(obj) || mp_obj_get_type(obj)->name != MP_QSTR_Image) {
        return NULL;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        image_t *img = py_image_cobj(obj);
        nlr_pop();
        return img;
    }
    return NULL;
}

// Maps an imlib image_t to an IsFrame. Sensor frames wrap a cached mmap of
// the video buffer: no copy is made here either. Their `size` field is 0
// (it is only meant for compressed images), so the length comes from
// image_size(), as the firmware's own buffer protocol does.
static void canmv_image(image_t *img, IsFrame *out) {
    mp_int_t fmt = from_imlib(img->pixfmt);
    if (fmt == 0) {
        mp_raise_msg_varg(&mp_type_ValueError,
            MP_ERROR_TEXT("image pixel format 0x%08x is not supported by img_stream"), (unsigned)img->pixfmt);
    }
    if (img->data == NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("image has no pixel buffer"));
    }
    mp_buffer_info_t bi = { .buf = img->data, .len = image_size(img), .typecode = 'B' };
    raw_frame(out, &bi, img->w, img->h, fmt, 0);
}
#endif

mp_obj_t is_source_get(mp_obj_t img, IsFrame *out) {
    mp_buffer_info_t bi;
    if (mp_obj_is_type(img, &is_frame_type)) {
        is_frame_obj_t *f = MP_OBJ_TO_PTR(img);
        mp_get_buffer_raise(f->buf, &bi, MP_BUFFER_READ);
        // Re-check: the buffer object may have shrunk since the Frame was made.
        raw_frame(out, &bi, f->width, f->height, f->format, f->stride);
        return f->buf;
    }
    if (mp_obj_is_type(img, &is_encoded_type)) {
        is_encoded_as_frame(img, out);
        return img;
    }
    #if IMG_STREAM_CANMV
    image_t *cimg = canmv_cobj(img);
    if (cimg != NULL) {
        canmv_image(cimg, out);
        return img;
    }
    #endif
    // Plain bytes-like objects: only an encoded JPEG makes sense.
    if (mp_obj_is_str_or_bytes(img) || mp_obj_is_type(img, &mp_type_bytearray)
        || mp_obj_is_type(img, &mp_type_memoryview)) {
        mp_get_buffer_raise(img, &bi, MP_BUFFER_READ);
        if (bi.len < 2 || ((const uint8_t *)bi.buf)[0] != 0xFF || ((const uint8_t *)bi.buf)[1] != 0xD8) {
            mp_raise_TypeError(MP_ERROR_TEXT(
                "bytes must be a JPEG (start with FF D8); wrap raw pixels in img_stream.Frame"));
        }
        raw_frame(out, &bi, 0, 0, IS_FMT_JPEG, 0); // dimensions: the JPEG's SOF
        return img;
    }
    // CanMV-style image: width(), height(), format() and the buffer protocol.
    mp_obj_t dest[2];
    mp_load_method_maybe(img, MP_QSTR_width, dest);
    if (dest[0] == MP_OBJ_NULL) {
        mp_raise_TypeError(MP_ERROR_TEXT(
            "expected an img_stream.Frame, an image object or JPEG bytes"));
    }
    mp_int_t w = call_int_method(img, MP_QSTR_width);
    mp_int_t h = call_int_method(img, MP_QSTR_height);
    mp_int_t fmt = call_int_method(img, MP_QSTR_format);
    // CanMV's image.format() words, beside img_stream's own codes (no imlib
    // word is a small number); anything else goes to Rust, which refuses it.
    mp_int_t mapped = from_imlib((mp_uint_t)fmt);
    fmt = mapped ? mapped : fmt;
    mp_obj_t owner = img;
    if (!mp_get_buffer(img, &bi, MP_BUFFER_READ)) {
        // Python classes cannot offer the buffer protocol; CanMV images and
        // our emulation both have bytearray(), a zero-copy view.
        mp_load_method_maybe(img, MP_QSTR_bytearray, dest);
        if (dest[0] == MP_OBJ_NULL) {
            mp_raise_TypeError(MP_ERROR_TEXT(
                "image object needs the buffer protocol or a bytearray() method"));
        }
        owner = mp_call_method_n_kw(0, 0, dest);
        mp_get_buffer_raise(owner, &bi, MP_BUFFER_READ);
    }
    // Optional `stride` (attribute or method): bytes per row, 0 = packed.
    mp_int_t stride = 0;
    mp_load_method_maybe(img, MP_QSTR_stride, dest);
    if (dest[0] != MP_OBJ_NULL) {
        mp_obj_t s = dest[1] == MP_OBJ_NULL ? dest[0] : mp_call_method_n_kw(0, 0, dest);
        stride = mp_obj_get_int(s);
    }
    raw_frame(out, &bi, w, h, fmt, stride);
    return owner;
}
