// HTTP MJPEG: send_mjpeg() writes one multipart part to a stream, and
// mjpeg_head() formats the response head or a part head for callers that
// write parts themselves (the non-blocking server in img_stream_http.py).
// Formatting and encoding are in Rust (src/mjpeg.rs).
#include <string.h>

#include "py/runtime.h"
#include "img_stream_shim.h"

#define IS_MJPEG_DEFAULT_BOUNDARY "img_stream"
#define IS_MJPEG_DEFAULT_ORIGIN "*"

// A str/bytes argument, or `dflt` when it was not given.
static void text_arg(mp_obj_t obj, const char *dflt, const uint8_t **p, size_t *len) {
    if (obj == MP_OBJ_NULL) {
        *p = (const uint8_t *)dflt;
        *len = strlen(dflt);
        return;
    }
    if (obj == mp_const_none) {
        *p = NULL;
        *len = 0;
        return;
    }
    mp_buffer_info_t bi;
    mp_get_buffer_raise(obj, &bi, MP_BUFFER_READ);
    *p = bi.buf;
    *len = bi.len;
}

// The capture time for X-Timestamp: the caller's (µs) or now.
static uint64_t timestamp_arg(mp_obj_t t) {
    return t == mp_const_none ? is_time_us() : is_u64_arg(t, MP_QSTR_timestamp_us);
}

// send_mjpeg(sock, img, *, quality=65, subsampling=420, engine=0,
//            boundary="img_stream", timestamp_us=None, skip_same=None) -> int
//            (0: skipped as unchanged)
static mp_obj_t is_send_mjpeg(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sock, ARG_img, ARG_quality, ARG_subsampling, ARG_engine, ARG_boundary, ARG_timestamp_us,
           ARG_skip_same };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_sock, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        IS_ENCODE_ARGS,
        { MP_QSTR_boundary, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_timestamp_us, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        IS_SKIP_ARG,
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    const uint8_t *boundary;
    size_t boundary_len;
    text_arg(args[ARG_boundary].u_obj, IS_MJPEG_DEFAULT_BOUNDARY, &boundary, &boundary_len);
    uint64_t ts = timestamp_arg(args[ARG_timestamp_us].u_obj);
    IsWriter w;
    is_stream_ctx_t ctx;
    is_writer_init(&w, &ctx, args[ARG_sock].u_obj);
    is_opening_t op;
    if (!is_open(&op, &args[ARG_quality], args[ARG_img].u_obj, args[ARG_skip_same].u_obj)) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    IsOutcome out = {0};
    int32_t st = is_send_mjpeg_part(&w, &op.frame, &op.options, boundary, boundary_len, ts, &out);
    is_close_header(&op, st, out.len);
    is_writer_check(st, &ctx, &out);
    return MP_OBJ_NEW_SMALL_INT(out.len);
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_send_mjpeg_obj, 2, is_send_mjpeg);

// Formats the response head (length < 0) or a part head into dst/cap.
static int32_t format_head(mp_int_t length, const uint8_t *boundary, size_t boundary_len,
    const uint8_t *origin, size_t origin_len, uint64_t ts, uint8_t *dst, size_t cap, IsOutcome *out) {
    if (length < 0) {
        return is_mjpeg_response_head(boundary, boundary_len, origin, origin_len, dst, cap, out);
    }
    return is_mjpeg_part_head((size_t)length, ts, dst, cap, out);
}

// mjpeg_head(length=None, *, boundary="img_stream", timestamp_us=None,
//            allow_origin="*", into=None) -> bytes | int
//
// length None: the HTTP response head, ending with the first boundary line.
// length n:    the head of a part carrying an n-byte JPEG.
// into:        a writable buffer; the head is written at its *end*, so that
//              it sits right in front of a JPEG placed after it; returns
//              the head's length. Without it, returns the head as bytes.
static mp_obj_t is_mjpeg_head(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_length, ARG_boundary, ARG_timestamp_us, ARG_allow_origin, ARG_into };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_length, MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_boundary, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_timestamp_us, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_allow_origin, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_into, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_int_t length = -1;
    if (args[ARG_length].u_obj != mp_const_none) {
        length = mp_obj_get_int(args[ARG_length].u_obj);
        if (length < 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("length must be >= 0"));
        }
    }
    const uint8_t *boundary, *origin;
    size_t boundary_len, origin_len;
    text_arg(args[ARG_boundary].u_obj, IS_MJPEG_DEFAULT_BOUNDARY, &boundary, &boundary_len);
    text_arg(args[ARG_allow_origin].u_obj, IS_MJPEG_DEFAULT_ORIGIN, &origin, &origin_len);
    uint64_t ts = length < 0 ? 0 : timestamp_arg(args[ARG_timestamp_us].u_obj);

    // A first call with no room validates the arguments and sizes the head.
    IsOutcome out = {0};
    int32_t st = format_head(length, boundary, boundary_len, origin, origin_len, ts, NULL, 0, &out);
    if (st != IS_ERR_OUTPUT_TOO_SMALL) {
        is_raise_status(st, &out);
    }
    size_t n = out.needed;
    out = (IsOutcome) {0};
    if (args[ARG_into].u_obj != mp_const_none) {
        mp_buffer_info_t bi;
        mp_get_buffer_raise(args[ARG_into].u_obj, &bi, MP_BUFFER_WRITE);
        if (bi.len < n) {
            mp_raise_msg_varg(&mp_type_BufferTooSmall,
                MP_ERROR_TEXT("into is too small: need %u bytes"), (unsigned)n);
        }
        st = format_head(length, boundary, boundary_len, origin, origin_len, ts,
            (uint8_t *)bi.buf + bi.len - n, n, &out);
        if (st != IS_OK) {
            is_raise_status(st, &out);
        }
        return MP_OBJ_NEW_SMALL_INT(out.len);
    }
    vstr_t v;
    vstr_init_len(&v, n);
    st = format_head(length, boundary, boundary_len, origin, origin_len, ts, (uint8_t *)v.buf, n, &out);
    if (st != IS_OK) {
        is_raise_status(st, &out);
    }
    return mp_obj_new_bytes_from_vstr(&v);
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_mjpeg_head_obj, 0, is_mjpeg_head);
