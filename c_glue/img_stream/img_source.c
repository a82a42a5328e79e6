// Turning Python objects into IsFrame: the Frame type, CanMV-style image
// objects (duck typing), and already-encoded JPEG bytes.
#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/objstr.h"
#include "img_stream_shim.h"

#if IMG_STREAM_CANMV
// CanMV K230 firmware: take image.Image objects by their C struct, zero-copy.
#include "py_image.h"
#endif

static const char *const format_names[] = {
    "?", "GRAYSCALE", "RGB565", "RGB565_SWAPPED", "RGB888", "BGR888",
    "RGBP888", "YUV422", "NV12", "JPEG",
};

static void check_format(mp_int_t format) {
    if (format < IS_FMT_GRAYSCALE || format > IS_FMT_JPEG) {
        mp_raise_msg_varg(&mp_type_ValueError,
            MP_ERROR_TEXT("unknown pixel format %d"), (int)format);
    }
}

// Fills `f` for raw pixels, validating the shape against the buffer.
static void raw_frame(IsFrame *f, const mp_buffer_info_t *bi, mp_int_t w, mp_int_t h,
    mp_int_t format, mp_int_t stride) {
    check_format(format);
    if (format == IS_FMT_JPEG) {
        // Dimensions come from the JPEG's own SOF marker.
        f->data = bi->buf;
        f->len = bi->len;
        f->width = 0;
        f->height = 0;
        f->stride = 0;
        f->format = IS_FMT_JPEG;
        return;
    }
    if (w <= 0 || h <= 0 || w > 65535 || h > 65535) {
        mp_raise_msg_varg(&mp_type_ValueError,
            MP_ERROR_TEXT("bad size %dx%d: width and height must be 1..65535"), (int)w, (int)h);
    }
    if (stride < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("stride must be >= 0"));
    }
    f->data = bi->buf;
    f->len = bi->len;
    f->width = (uint32_t)w;
    f->height = (uint32_t)h;
    f->stride = (size_t)stride;
    f->format = (uint8_t)format;
    IsOutcome out = {0};
    int32_t st = is_frame_check(f, &out);
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
    mp_printf(print, "<Frame %ux%u %s>", (unsigned)self->width, (unsigned)self->height,
        format_names[self->format]);
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
// Maps an imlib image_t (OpenMV-derived, as CanMV ships it) to an IsFrame.
// Frames from the sensor wrap video buffers: no copy is made here either.
static void canmv_image(mp_obj_t obj, IsFrame *out) {
    image_t *img = py_image_cobj(obj);
    mp_int_t fmt;
    switch (img->pixfmt) {
        case PIXFORMAT_GRAYSCALE:
            fmt = IS_FMT_GRAYSCALE;
            break;
        case PIXFORMAT_RGB565:
            fmt = IS_FMT_RGB565; // imlib keeps native (little-endian) words
            break;
        case PIXFORMAT_RGB888:
            fmt = IS_FMT_RGB888;
            break;
        case PIXFORMAT_BGR888:
            fmt = IS_FMT_BGR888;
            break;
        case PIXFORMAT_RGBP888:
            fmt = IS_FMT_RGBP888;
            break;
        case PIXFORMAT_YUV420:
            fmt = IS_FMT_NV12; // the sensor's YUV420SP: Y plane + interleaved UV
            break;
        case PIXFORMAT_JPEG:
            fmt = IS_FMT_JPEG; // compressed (e.g. by the hardware encoder): passes through
            break;
        default:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("image pixel format %d is not supported by img_stream"), (int)img->pixfmt);
    }
    mp_buffer_info_t bi = { .buf = img->data, .len = img->size, .typecode = 'B' };
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
    #if IMG_STREAM_CANMV
    if (mp_obj_is_type(img, &py_image_type)) {
        canmv_image(img, out);
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
        raw_frame(out, &bi, 0, 0, IS_FMT_JPEG, 0);
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
