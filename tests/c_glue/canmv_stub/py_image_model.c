// A model of CanMV's `image` module for the unix port, to run img_stream's
// CanMV adapter (c_glue/img_stream/img_source.c with IMG_STREAM_CANMV) on a
// PC. It models what the adapter depends on, as read in Canaan's canmv_k230
// at 738f17f (docs/CANMV.md):
// - py_image_type has internal linkage (static in port/omv/modules/py_image.c);
//   `image.Image` is a function that builds an image, not the type;
// - py_image_cobj() raises TypeError for an object of any other type;
// - image_size() (port/omv/imlib/imlib.c) derives raw lengths from w, h and
//   the format, and only compressed images use `size`; a frame made the
//   way sensor.snapshot() makes one (alloc=ALLOC_VB) has size == 0;
// - the buffer protocol and bytearray() expose image_size() bytes.
// Model-only: alloc=ALLOC_REF with data= stands for ALLOC_VB's physical
// mapping (a PC has no video buffers), and a JPEG made from data= gets
// size = len(data), as the firmware's compress() and VENC packets do.
#include <string.h>

#include "py/runtime.h"
#include "py_image.h"

size_t image_size(image_t *ptr) {
    switch (ptr->pixfmt_id) {
        case 1: // binary: rows of 32-bit words
            return (size_t)((ptr->w + 31) / 32) * 4 * (size_t)ptr->h;
        case 2: case 3: case 4: case 5: case 8: case 9:
            return (size_t)ptr->w * (size_t)ptr->h * ptr->bpp;
        case 10: // YUV420 semi-planar
            return (size_t)ptr->w * (size_t)ptr->h * 3 / 2;
        case 6: case 7:
            return ptr->size;
        default:
            return 0;
    }
}

typedef struct _py_image_obj_t {
    mp_obj_base_t base;
    image_t _cobj;
} py_image_obj_t;

static const mp_obj_type_t py_image_type;

void *py_image_cobj(mp_obj_t img_obj) {
    if (!mp_obj_is_type(img_obj, &py_image_type)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("Can't convert %s to %s"),
            mp_obj_get_type_str(img_obj), "Image");
    }
    return &((py_image_obj_t *)MP_OBJ_TO_PTR(img_obj))->_cobj;
}

mp_obj_t py_image_from_struct(image_t *img) {
    py_image_obj_t *o = mp_obj_malloc(py_image_obj_t, &py_image_type);
    o->_cobj = *img;
    return MP_OBJ_FROM_PTR(o);
}

static mp_obj_t py_image_width(mp_obj_t self) {
    return mp_obj_new_int(((image_t *)py_image_cobj(self))->w);
}
static MP_DEFINE_CONST_FUN_OBJ_1(py_image_width_obj, py_image_width);

static mp_obj_t py_image_height(mp_obj_t self) {
    return mp_obj_new_int(((image_t *)py_image_cobj(self))->h);
}
static MP_DEFINE_CONST_FUN_OBJ_1(py_image_height_obj, py_image_height);

static mp_obj_t py_image_format(mp_obj_t self) {
    return mp_obj_new_int(((image_t *)py_image_cobj(self))->pixfmt);
}
static MP_DEFINE_CONST_FUN_OBJ_1(py_image_format_obj, py_image_format);

static mp_obj_t py_image_size(mp_obj_t self) {
    return mp_obj_new_int(image_size(py_image_cobj(self)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(py_image_size_obj, py_image_size);

static mp_obj_t py_image_bytearray(mp_obj_t self) {
    image_t *img = py_image_cobj(self);
    return mp_obj_new_bytearray_by_ref(image_size(img), img->data);
}
static MP_DEFINE_CONST_FUN_OBJ_1(py_image_bytearray_obj, py_image_bytearray);

static mp_int_t py_image_get_buffer(mp_obj_t self, mp_buffer_info_t *bufinfo, mp_uint_t flags) {
    image_t *img = py_image_cobj(self);
    if (flags != MP_BUFFER_READ) {
        return 1; // images are read-only through the buffer protocol
    }
    bufinfo->buf = img->data;
    bufinfo->len = image_size(img);
    bufinfo->typecode = 'b';
    return 0;
}

static const mp_rom_map_elem_t py_image_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_width), MP_ROM_PTR(&py_image_width_obj) },
    { MP_ROM_QSTR(MP_QSTR_height), MP_ROM_PTR(&py_image_height_obj) },
    { MP_ROM_QSTR(MP_QSTR_format), MP_ROM_PTR(&py_image_format_obj) },
    { MP_ROM_QSTR(MP_QSTR_size), MP_ROM_PTR(&py_image_size_obj) },
    { MP_ROM_QSTR(MP_QSTR_bytearray), MP_ROM_PTR(&py_image_bytearray_obj) },
};
static MP_DEFINE_CONST_DICT(py_image_locals_dict, py_image_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    py_image_type,
    MP_QSTR_Image,
    MP_TYPE_FLAG_NONE,
    buffer, py_image_get_buffer,
    locals_dict, &py_image_locals_dict
    );

// image.Image(w, h, format, *, alloc=ALLOC_REF, data=buf): the image starts
// zeroed (`image_t image = {}` in the firmware), so `size` stays 0 for raw
// formats.
static mp_obj_t py_image_load_image(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args) {
    enum { ARG_w, ARG_h, ARG_format, ARG_alloc, ARG_data };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_w, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_h, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_format, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_alloc, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = ALLOC_REF} },
        { MP_QSTR_data, MP_ARG_KW_ONLY | MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, args, kw_args, MP_ARRAY_SIZE(allowed), allowed, a);
    if (a[ARG_alloc].u_int != ALLOC_REF) {
        mp_raise_ValueError(MP_ERROR_TEXT("the model supports alloc=ALLOC_REF only"));
    }
    image_t image = {0};
    image.w = a[ARG_w].u_int;
    image.h = a[ARG_h].u_int;
    image.pixfmt = (uint32_t)a[ARG_format].u_int;
    mp_buffer_info_t bi;
    mp_get_buffer_raise(a[ARG_data].u_obj, &bi, MP_BUFFER_READ);
    if (image.is_compressed) {
        image.size = bi.len;
    }
    if (image_size(&image) == 0 || image_size(&image) > bi.len) {
        mp_raise_ValueError(MP_ERROR_TEXT("Not enough data"));
    }
    image.alloc_type = ALLOC_REF;
    image.ref_obj = a[ARG_data].u_obj;
    image.data = bi.buf;
    return py_image_from_struct(&image);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(py_image_load_image_obj, 3, py_image_load_image);

static const mp_rom_map_elem_t image_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_image) },
    { MP_ROM_QSTR(MP_QSTR_Image), MP_ROM_PTR(&py_image_load_image_obj) },
    { MP_ROM_QSTR(MP_QSTR_ALLOC_REF), MP_ROM_INT(ALLOC_REF) },
    { MP_ROM_QSTR(MP_QSTR_ALLOC_VB), MP_ROM_INT(ALLOC_VB) },
    { MP_ROM_QSTR(MP_QSTR_BINARY), MP_ROM_INT(PIXFORMAT_BINARY) },
    { MP_ROM_QSTR(MP_QSTR_GRAYSCALE), MP_ROM_INT(PIXFORMAT_GRAYSCALE) },
    { MP_ROM_QSTR(MP_QSTR_RGB565), MP_ROM_INT(PIXFORMAT_RGB565) },
    { MP_ROM_QSTR(MP_QSTR_BAYER), MP_ROM_INT(PIXFORMAT_BAYER_BGGR) },
    { MP_ROM_QSTR(MP_QSTR_YUV422), MP_ROM_INT(PIXFORMAT_YUV422) },
    { MP_ROM_QSTR(MP_QSTR_JPEG), MP_ROM_INT(PIXFORMAT_JPEG) },
    { MP_ROM_QSTR(MP_QSTR_PNG), MP_ROM_INT(PIXFORMAT_PNG) },
    { MP_ROM_QSTR(MP_QSTR_ARGB8888), MP_ROM_INT(PIXFORMAT_ARGB8888) },
    { MP_ROM_QSTR(MP_QSTR_RGB888), MP_ROM_INT(PIXFORMAT_RGB888) },
    { MP_ROM_QSTR(MP_QSTR_BGR888), MP_ROM_INT(PIXFORMAT_BGR888) },
    { MP_ROM_QSTR(MP_QSTR_RGBP888), MP_ROM_INT(PIXFORMAT_RGBP888) },
    { MP_ROM_QSTR(MP_QSTR_YUV420), MP_ROM_INT(PIXFORMAT_YUV420) },
    { MP_ROM_QSTR(MP_QSTR_YVU420), MP_ROM_INT(PIXFORMAT_YVU420) },
};
static MP_DEFINE_CONST_DICT(image_module_globals, image_module_globals_table);

const mp_obj_module_t image_model_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&image_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_image, image_model_module);
