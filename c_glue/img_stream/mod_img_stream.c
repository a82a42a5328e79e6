// img_stream: send camera frames over sockets, MQTT, HTTP and UDP.
//
// This file is the module's Python surface: argument tables, the module
// state (sequence counter, camera id) and the calls into the Rust core
// (img_stream_core.h). Object-to-buffer conversion is in img_source.c, the
// stream write callback in stream_writer.c.
#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"
#include "py/objint.h"
#include "img_stream_shim.h"

// Module state: plain integers, nothing the GC would need to see.
static uint32_t next_seq;
static uint16_t camera_id;

uint32_t is_peek_seq(void) {
    return next_seq;
}

void is_restore_seq(uint32_t seq) {
    next_seq = seq;
}


IsEncodeOptions is_options_from(mp_int_t quality, mp_int_t subsampling, mp_int_t engine) {
    IsEncodeOptions o = {
        .quality = (int32_t)quality,
        .subsampling = (int32_t)subsampling,
        .engine = (int32_t)engine,
    };
    if (quality < 1 || quality > 100) {
        mp_raise_ValueError(MP_ERROR_TEXT("quality must be 1..100"));
    }
    if (subsampling != 444 && subsampling != 422 && subsampling != 420) {
        mp_raise_ValueError(MP_ERROR_TEXT("subsampling must be 444, 422 or 420"));
    }
    if (engine < 0 || engine > 2) {
        mp_raise_ValueError(MP_ERROR_TEXT("engine must be 0 (auto), 1 or 2"));
    }
    return o;
}

// encode(img, *, quality=65, subsampling=420, engine=0) -> bytes
static mp_obj_t is_encode(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_img, ARG_quality, ARG_subsampling, ARG_engine };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_quality, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_DEFAULT_QUALITY} },
        { MP_QSTR_subsampling, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_DEFAULT_SUBSAMPLING} },
        { MP_QSTR_engine, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_obj_t img = args[ARG_img].u_obj;
    IsEncodeOptions o = is_options_from(args[ARG_quality].u_int, args[ARG_subsampling].u_int,
        args[ARG_engine].u_int);
    IsFrame f;
    is_source_get(img, &f);
    if (f.format == IS_FMT_JPEG && mp_obj_is_type(img, &mp_type_bytes)) {
        return img; // already a JPEG in an immutable object: pass it through
    }
    const uint8_t *jpeg = NULL;
    IsOutcome out = {0};
    int32_t st = is_pool_encode(&f, &o, &jpeg, &out);
    if (st != IS_OK) {
        is_raise_status(st, &out);
    }
    return mp_obj_new_bytes(jpeg, out.len);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(is_encode_obj, 1, is_encode);

// encode_into(img, buf, *, quality=65, subsampling=420, engine=0) -> int
static mp_obj_t is_encode_into_fn(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_img, ARG_buf, ARG_quality, ARG_subsampling, ARG_engine };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_buf, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_quality, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_DEFAULT_QUALITY} },
        { MP_QSTR_subsampling, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_DEFAULT_SUBSAMPLING} },
        { MP_QSTR_engine, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    IsEncodeOptions o = is_options_from(args[ARG_quality].u_int, args[ARG_subsampling].u_int,
        args[ARG_engine].u_int);
    IsFrame f;
    is_source_get(args[ARG_img].u_obj, &f);
    mp_buffer_info_t dst;
    mp_get_buffer_raise(args[ARG_buf].u_obj, &dst, MP_BUFFER_WRITE);
    IsOutcome out = {0};
    int32_t st = is_encode_into(&f, &o, dst.buf, dst.len, &out);
    if (st != IS_OK) {
        is_raise_status(st, &out);
    }
    return MP_OBJ_NEW_SMALL_INT(out.len);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(is_encode_into_obj, 2, is_encode_into_fn);

// Sequence number and timestamp for the next frame, from kwargs or defaults.
void is_frame_meta(IsFrameMeta *meta, mp_obj_t seq, mp_obj_t timestamp_us) {
    if (seq == mp_const_none) {
        meta->seq = next_seq++;
    } else {
        meta->seq = (uint32_t)mp_obj_get_int_truncated(seq);
        next_seq = meta->seq + 1;
    }
    if (timestamp_us == mp_const_none) {
        meta->timestamp_us = is_time_us();
    } else {
        #if MICROPY_LONGINT_IMPL != MICROPY_LONGINT_IMPL_NONE
        if (!mp_obj_is_small_int(timestamp_us)) {
            uint8_t b[8];
            mp_obj_int_to_bytes_impl(timestamp_us, false, sizeof(b), b);
            uint64_t t = 0;
            for (int i = 7; i >= 0; i--) {
                t = (t << 8) | b[i];
            }
            meta->timestamp_us = t;
        } else
        #endif
        {
            meta->timestamp_us = (uint64_t)mp_obj_get_int(timestamp_us);
        }
    }
    meta->camera_id = camera_id;
}

// send_tcp(sock, img, *, quality=65, seq=None, timestamp_us=None, subsampling=420) -> int
static mp_obj_t is_send_tcp(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sock, ARG_img, ARG_quality, ARG_seq, ARG_timestamp_us, ARG_subsampling, ARG_engine };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_sock, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_quality, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_DEFAULT_QUALITY} },
        { MP_QSTR_seq, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_timestamp_us, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_subsampling, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_DEFAULT_SUBSAMPLING} },
        { MP_QSTR_engine, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    IsEncodeOptions o = is_options_from(args[ARG_quality].u_int, args[ARG_subsampling].u_int,
        args[ARG_engine].u_int);
    IsWriter w;
    is_stream_ctx_t ctx;
    is_writer_init(&w, &ctx, args[ARG_sock].u_obj);
    IsFrame f;
    ctx.keep = is_source_get(args[ARG_img].u_obj, &f);
    IsFrameMeta meta;
    uint32_t saved_seq = is_peek_seq();
    is_frame_meta(&meta, args[ARG_seq].u_obj, args[ARG_timestamp_us].u_obj);
    IsOutcome out = {0};
    int32_t st = is_send_frame(&w, &f, &o, &meta, &out);
    if (st != IS_OK && out.len == 0) {
        // Nothing went out: the next frame may reuse this sequence number.
        is_restore_seq(saved_seq);
    }
    is_writer_check(st, &ctx, &out);
    return MP_OBJ_NEW_SMALL_INT(out.len);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(is_send_tcp_obj, 2, is_send_tcp);

// buffer_info() -> dict(capacity, limit, encodes, grows)
static mp_obj_t is_buffer_info(void) {
    IsPoolInfo info;
    int32_t st = is_pool_info(&info);
    if (st != IS_OK) {
        is_raise_status(st, NULL);
    }
    mp_obj_t d = mp_obj_new_dict(4);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_capacity), mp_obj_new_int_from_uint(info.capacity));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_limit), mp_obj_new_int_from_uint(info.limit));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_encodes), mp_obj_new_int_from_uint(info.encodes));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_grows), mp_obj_new_int_from_uint(info.grows));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(is_buffer_info_obj, is_buffer_info);

// set_buffer_limit(n): cap the reusable encode buffer at n bytes.
static mp_obj_t is_set_buffer_limit(mp_obj_t n_in) {
    mp_int_t n = mp_obj_get_int(n_in);
    if (n < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("limit must be >= 0"));
    }
    int32_t st = is_pool_set_limit((size_t)n);
    if (st != IS_OK) {
        is_raise_status(st, NULL);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(is_set_buffer_limit_obj, is_set_buffer_limit);

// release_buffer(): free the encode buffer now (it grows again on demand).
static mp_obj_t is_release_buffer(void) {
    int32_t st = is_pool_release();
    if (st != IS_OK) {
        is_raise_status(st, NULL);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(is_release_buffer_obj, is_release_buffer);

// set_camera_id(n): the id carried in every frame header (0..65535).
static mp_obj_t is_set_camera_id(mp_obj_t id_in) {
    mp_int_t id = mp_obj_get_int(id_in);
    if (id < 0 || id > 0xffff) {
        mp_raise_ValueError(MP_ERROR_TEXT("camera id must be 0..65535"));
    }
    camera_id = (uint16_t)id;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(is_set_camera_id_obj, is_set_camera_id);

// crc32(data) -> int: the wire CRC (zlib's CRC-32), for receivers in MicroPython.
static mp_obj_t is_crc32_fn(mp_obj_t data_in) {
    mp_buffer_info_t bi;
    mp_get_buffer_raise(data_in, &bi, MP_BUFFER_READ);
    return mp_obj_new_int_from_uint(is_crc32(bi.buf, bi.len));
}
static MP_DEFINE_CONST_FUN_OBJ_1(is_crc32_obj, is_crc32_fn);

static const mp_rom_map_elem_t img_stream_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_img_stream) },
    { MP_ROM_QSTR(MP_QSTR_Frame), MP_ROM_PTR(&is_frame_type) },
    { MP_ROM_QSTR(MP_QSTR_encode), MP_ROM_PTR(&is_encode_obj) },
    { MP_ROM_QSTR(MP_QSTR_encode_into), MP_ROM_PTR(&is_encode_into_obj) },
    { MP_ROM_QSTR(MP_QSTR_send_mjpeg), MP_ROM_PTR(&is_send_mjpeg_obj) },
    { MP_ROM_QSTR(MP_QSTR_mjpeg_head), MP_ROM_PTR(&is_mjpeg_head_obj) },
    { MP_ROM_QSTR(MP_QSTR_send_udp), MP_ROM_PTR(&is_send_udp_obj) },
    { MP_ROM_QSTR(MP_QSTR_publish), MP_ROM_PTR(&is_publish_obj) },
        { MP_ROM_QSTR(MP_QSTR_send_tcp), MP_ROM_PTR(&is_send_tcp_obj) },
    { MP_ROM_QSTR(MP_QSTR_crc32), MP_ROM_PTR(&is_crc32_obj) },
    { MP_ROM_QSTR(MP_QSTR_buffer_info), MP_ROM_PTR(&is_buffer_info_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_buffer_limit), MP_ROM_PTR(&is_set_buffer_limit_obj) },
    { MP_ROM_QSTR(MP_QSTR_release_buffer), MP_ROM_PTR(&is_release_buffer_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_camera_id), MP_ROM_PTR(&is_set_camera_id_obj) },
    { MP_ROM_QSTR(MP_QSTR_GRAYSCALE), MP_ROM_INT(IS_FMT_GRAYSCALE) },
    { MP_ROM_QSTR(MP_QSTR_RGB565), MP_ROM_INT(IS_FMT_RGB565) },
    { MP_ROM_QSTR(MP_QSTR_RGB565_SWAPPED), MP_ROM_INT(IS_FMT_RGB565_SWAPPED) },
    { MP_ROM_QSTR(MP_QSTR_RGB888), MP_ROM_INT(IS_FMT_RGB888) },
    { MP_ROM_QSTR(MP_QSTR_BGR888), MP_ROM_INT(IS_FMT_BGR888) },
    { MP_ROM_QSTR(MP_QSTR_RGBP888), MP_ROM_INT(IS_FMT_RGBP888) },
    { MP_ROM_QSTR(MP_QSTR_YUV422), MP_ROM_INT(IS_FMT_YUV422) },
    { MP_ROM_QSTR(MP_QSTR_NV12), MP_ROM_INT(IS_FMT_NV12) },
    { MP_ROM_QSTR(MP_QSTR_JPEG), MP_ROM_INT(IS_FMT_JPEG) },
    { MP_ROM_QSTR(MP_QSTR_ENGINE_AUTO), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR_ENGINE_JPEG_ENCODER), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR_ENGINE_FAST), MP_ROM_INT(2) },
};
static MP_DEFINE_CONST_DICT(img_stream_module_globals, img_stream_module_globals_table);

const mp_obj_module_t img_stream_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&img_stream_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_img_stream, img_stream_user_cmodule);
