// img_stream: send camera frames over sockets, MQTT, HTTP and UDP.
//
// This file is the module's Python surface: the module state (sequence
// counter, camera id), the opening every encoding entry point shares
// (is_open, is_open_header; is_open_skip is in rate.c beside SkipSame), encode/encode_into and the buffer calls, and the
// globals table. Object-to-buffer conversion is in img_source.c, the stream
// write callback in stream_writer.c, status-to-exception in status.c, and
// each transport in its own file (tcp.c, tcp_sender.c, udp.c, mqtt.c, mjpeg.c).
#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"
#include "py/objint.h"
#include "img_stream_shim.h"

// Module state: plain integers, nothing the GC would need to see.
static uint32_t next_seq;
static uint16_t camera_id;

// An option as the ABI's int32_t. One outside that range becomes `bad`, a
// value Rust refuses for the same reason (a plain cast could wrap into a
// valid one).
static int32_t option_i32(mp_int_t v, int32_t bad) {
    return (mp_int_t)(int32_t)v == v ? (int32_t)v : bad;
}

bool is_open(is_opening_t *op, const mp_arg_val_t *encode_args, mp_obj_t img, mp_obj_t skip_same) {
    mp_obj_t quality = encode_args[0].u_obj;
    op->options = (IsEncodeOptions) {
        .subsampling = option_i32(encode_args[1].u_int, 0),
        .engine = option_i32(encode_args[2].u_int, -1),
        .rate = NULL,
    };
    op->rate_owner = MP_OBJ_NULL;
    op->same = NULL;
    if (mp_obj_is_type(quality, &is_rate_type)) {
        // The controller picks the quality as it encodes; its current one
        // is checked now like any other.
        is_rate_obj_t *rc = MP_OBJ_TO_PTR(quality);
        IsRateInfo info;
        is_rate_info(&rc->state, &info);
        op->options.quality = info.quality;
        op->options.rate = &rc->state;
        op->options.now_us = is_time_us();
        op->rate_owner = quality;
    } else {
        // As MP_ARG_INT parsed it before RateControl existed.
        op->options.quality = option_i32(mp_obj_get_int(quality), 0);
    }
    IsOutcome out = {0};
    int32_t st = is_options_check(&op->options);
    if (st != IS_OK) {
        is_raise_status(st, &out);
    }
    op->keep = is_source_get(img, &op->frame);
    op->saved_seq = next_seq;
    return skip_same == MP_OBJ_NULL || is_open_skip(op, skip_same);
}

void is_open_header(is_opening_t *op, const mp_arg_val_t *header_args) {
    mp_obj_t seq = header_args[0].u_obj;
    mp_obj_t timestamp_us = header_args[1].u_obj;
    op->saved_seq = next_seq;
    if (seq == mp_const_none) {
        op->header.seq = next_seq++;
    } else {
        op->header.seq = (uint32_t)mp_obj_get_int_truncated(seq);
        next_seq = op->header.seq + 1;
    }
    op->header.timestamp_us = timestamp_us == mp_const_none
        ? is_time_us() : is_u64_arg(timestamp_us, MP_QSTR_timestamp_us);
    op->header.camera_id = camera_id;
}

void is_close_header(const is_opening_t *op, int32_t status, size_t sent) {
    if (status != IS_OK && sent == 0) {
        // Nothing went out: the next frame may reuse this sequence number.
        next_seq = op->saved_seq;
    }
    if (status != IS_OK && op->same != NULL) {
        is_same_forget(op->same);
    }
}

uint64_t is_u64_arg(mp_obj_t o, qstr name) {
    #if MICROPY_LONGINT_IMPL != MICROPY_LONGINT_IMPL_NONE
    if (mp_obj_is_int(o) && !mp_obj_is_small_int(o)) {
        // One byte more than a u64: a value that needs it does not fit.
        uint8_t b[9];
        if (mp_obj_int_sign(o) >= 0) {
            mp_obj_int_to_bytes_impl(o, false, sizeof(b), b);
        }
        if (mp_obj_int_sign(o) < 0 || b[8] != 0) {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%q must be an int 0..2**64-1"), name);
        }
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | b[i];
        }
        return v;
    }
    #endif
    mp_int_t v = mp_obj_get_int(o);
    if (v < 0) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%q must be an int 0..2**64-1"), name);
    }
    return (uint64_t)v;
}

// encode(img, *, quality=65, subsampling=420, engine=0, skip_same=None) -> bytes | None
static mp_obj_t is_encode(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_img, ARG_quality, ARG_subsampling, ARG_engine, ARG_skip_same };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        IS_ENCODE_ARGS,
        IS_SKIP_ARG,
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_obj_t img = args[ARG_img].u_obj;
    is_opening_t op;
    if (!is_open(&op, &args[ARG_quality], img, args[ARG_skip_same].u_obj)) {
        return mp_const_none;
    }
    if (op.frame.format == IS_FMT_JPEG && mp_obj_is_type(img, &mp_type_bytes)) {
        return img; // already a JPEG in an immutable object: pass it through
    }
    const uint8_t *jpeg = NULL;
    IsOutcome out = {0};
    int32_t st = is_pool_encode(&op.frame, &op.options, &jpeg, &out);
    if (st != IS_OK) {
        is_close_header(&op, st, 0);
        is_raise_status(st, &out);
    }
    return mp_obj_new_bytes(jpeg, out.len);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(is_encode_obj, 1, is_encode);

// encode_into(img, buf, *, quality=65, subsampling=420, engine=0, skip_same=None) -> int
static mp_obj_t is_encode_into_fn(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_img, ARG_buf, ARG_quality, ARG_subsampling, ARG_engine, ARG_skip_same };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_buf, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        IS_ENCODE_ARGS,
        IS_SKIP_ARG,
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_buffer_info_t dst;
    mp_get_buffer_raise(args[ARG_buf].u_obj, &dst, MP_BUFFER_WRITE);
    is_opening_t op;
    if (!is_open(&op, &args[ARG_quality], args[ARG_img].u_obj, args[ARG_skip_same].u_obj)) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    IsOutcome out = {0};
    int32_t st = is_encode_into(&op.frame, &op.options, dst.buf, dst.len, &out);
    if (st != IS_OK) {
        is_close_header(&op, st, 0);
        is_raise_status(st, &out);
    }
    return MP_OBJ_NEW_SMALL_INT(out.len);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(is_encode_into_obj, 2, is_encode_into_fn);

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
    { MP_ROM_QSTR(MP_QSTR_RateControl), MP_ROM_PTR(&is_rate_type) },
    { MP_ROM_QSTR(MP_QSTR_SkipSame), MP_ROM_PTR(&is_same_type) },
    { MP_ROM_QSTR(MP_QSTR_Encoded), MP_ROM_PTR(&is_encoded_type) },
    { MP_ROM_QSTR(MP_QSTR_encode), MP_ROM_PTR(&is_encode_obj) },
    { MP_ROM_QSTR(MP_QSTR_encode_into), MP_ROM_PTR(&is_encode_into_obj) },
    { MP_ROM_QSTR(MP_QSTR_send_mjpeg), MP_ROM_PTR(&is_send_mjpeg_obj) },
    { MP_ROM_QSTR(MP_QSTR_mjpeg_head), MP_ROM_PTR(&is_mjpeg_head_obj) },
    { MP_ROM_QSTR(MP_QSTR_send_udp), MP_ROM_PTR(&is_send_udp_obj) },
    { MP_ROM_QSTR(MP_QSTR_publish), MP_ROM_PTR(&is_publish_obj) },
    { MP_ROM_QSTR(MP_QSTR_send_tcp), MP_ROM_PTR(&is_send_tcp_obj) },
    { MP_ROM_QSTR(MP_QSTR_TcpSender), MP_ROM_PTR(&is_tcp_sender_type) },
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
    { MP_ROM_QSTR(MP_QSTR_ENGINE_AUTO), MP_ROM_INT(IS_ENGINE_AUTO) },
    { MP_ROM_QSTR(MP_QSTR_ENGINE_JPEG_ENCODER), MP_ROM_INT(IS_ENGINE_JPEG_ENCODER) },
    { MP_ROM_QSTR(MP_QSTR_ENGINE_FAST), MP_ROM_INT(IS_ENGINE_FAST) },
    // Limits, for callers that lay out buffers (img_stream_http.py).
    { MP_ROM_QSTR(MP_QSTR_FRAME_HEADER_LEN), MP_ROM_INT(IS_FRAME_HEADER_LEN) },
    { MP_ROM_QSTR(MP_QSTR_CHUNK_HEADER_LEN), MP_ROM_INT(IS_CHUNK_HEADER_LEN) },
    { MP_ROM_QSTR(MP_QSTR_MJPEG_PART_HEAD_MAX), MP_ROM_INT(IS_MJPEG_PART_HEAD_MAX) },
    { MP_ROM_QSTR(MP_QSTR_UDP_MIN_MTU), MP_ROM_INT(IS_UDP_MIN_MTU) },
    { MP_ROM_QSTR(MP_QSTR_UDP_MAX_MTU), MP_ROM_INT(IS_UDP_MAX_MTU) },
    { MP_ROM_QSTR(MP_QSTR_BufferTooSmall), MP_ROM_PTR(&mp_type_BufferTooSmall) },
};
static MP_DEFINE_CONST_DICT(img_stream_module_globals, img_stream_module_globals_table);

const mp_obj_module_t img_stream_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&img_stream_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_img_stream, img_stream_user_cmodule);
