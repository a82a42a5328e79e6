// The per-stream policy objects: img_stream.RateControl (passed as
// quality=rc wherever a quality goes) and img_stream.SkipSame (skip_same=).
// Each holds its Rust state block inline (src/rate.rs): the GC owns the
// memory, Rust borrows it for one call, nothing is allocated per frame.
// This file parses arguments and reads numbers back; the policies are
// core/src/rate.rs and core/src/signature.rs.
#include "py/runtime.h"
#include "img_stream_shim.h"

// A number of seconds (int or float) as an integer count of `unit`ths;
// negative stays negative so that Rust refuses it.
static int64_t scaled_arg(mp_obj_t o, int64_t unit) {
    #if MICROPY_PY_BUILTINS_FLOAT
    if (mp_obj_is_float(o)) {
        mp_float_t f = mp_obj_get_float(o);
        // NaN and anything beyond int64 become -1: refused.
        if (!(f > -1e15 && f < 1e15)) {
            return -1;
        }
        return (int64_t)(f * (mp_float_t)unit + (f < 0 ? -0.5 : 0.5));
    }
    #endif
    return (int64_t)mp_obj_get_int(o) * unit;
}

// An optional non-negative count: None (not given) is 0, negative is -1.
static int64_t count_arg(mp_obj_t o) {
    if (o == mp_const_none) {
        return 0;
    }
    mp_int_t v = mp_obj_get_int(o);
    return v < 0 ? -1 : (int64_t)v;
}

// --- RateControl ---------------------------------------------------------------

// RateControl(*, target_bytes=None, max_kbps=None, fps=None, min_quality=20,
//             max_quality=90)
static mp_obj_t rate_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_target_bytes, ARG_max_kbps, ARG_fps, ARG_min_quality, ARG_max_quality };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_target_bytes, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_max_kbps, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_fps, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_min_quality, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 20} },
        { MP_QSTR_max_quality, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 90} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_obj_t fps = args[ARG_fps].u_obj;
    int64_t fps_milli = fps == mp_const_none ? 0 : scaled_arg(fps, 1000);
    IsRateConfig cfg = {
        .target_bytes = count_arg(args[ARG_target_bytes].u_obj),
        .max_kbps = count_arg(args[ARG_max_kbps].u_obj),
        // fps=0 is as wrong as a negative one.
        .fps_milli = fps != mp_const_none && fps_milli <= 0 ? -1 : fps_milli,
        .min_quality = (int32_t)MIN(MAX(args[ARG_min_quality].u_int, -1), 1000),
        .max_quality = (int32_t)MIN(MAX(args[ARG_max_quality].u_int, -1), 1000),
    };
    is_rate_obj_t *self = mp_obj_malloc(is_rate_obj_t, type);
    int32_t st = is_rate_init(&self->state, &cfg);
    if (st != IS_OK) {
        is_raise_status(st, NULL);
    }
    return MP_OBJ_FROM_PTR(self);
}

static void rate_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return; // read-only
    }
    is_rate_obj_t *self = MP_OBJ_TO_PTR(self_in);
    IsRateInfo i;
    is_rate_info(&self->state, &i);
    switch (attr) {
        case MP_QSTR_quality:
            dest[0] = MP_OBJ_NEW_SMALL_INT(i.quality);
            break;
        case MP_QSTR_last_bytes:
            dest[0] = mp_obj_new_int_from_uint(i.last_bytes);
            break;
        case MP_QSTR_frames:
            dest[0] = mp_obj_new_int_from_uint(i.frames);
            break;
        case MP_QSTR_retries:
            dest[0] = mp_obj_new_int_from_uint(i.retries);
            break;
        case MP_QSTR_over_cap:
            dest[0] = mp_obj_new_int_from_uint(i.over_cap);
            break;
        case MP_QSTR_budget:
            dest[0] = mp_obj_new_int_from_uint(i.budget);
            break;
        default:
            break;
    }
}

MP_DEFINE_CONST_OBJ_TYPE(
    is_rate_type,
    MP_QSTR_RateControl,
    MP_TYPE_FLAG_NONE,
    make_new, rate_make_new,
    attr, rate_attr
    );

// --- SkipSame --------------------------------------------------------------------

// SkipSame(*, keepalive_s=2, threshold=2)
static mp_obj_t same_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_keepalive_s, ARG_threshold };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_keepalive_s, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = MP_OBJ_NEW_SMALL_INT(2)} },
        { MP_QSTR_threshold, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 2} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    is_same_obj_t *self = mp_obj_malloc(is_same_obj_t, type);
    mp_int_t threshold = args[ARG_threshold].u_int;
    int32_t st = is_same_init(&self->state, scaled_arg(args[ARG_keepalive_s].u_obj, 1000000),
        (int32_t)MIN(MAX(threshold, -1), 1000));
    if (st != IS_OK) {
        is_raise_status(st, NULL);
    }
    return MP_OBJ_FROM_PTR(self);
}

static void same_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return; // read-only
    }
    is_same_obj_t *self = MP_OBJ_TO_PTR(self_in);
    IsSameInfo i;
    is_same_info(&self->state, &i);
    switch (attr) {
        case MP_QSTR_sent:
            dest[0] = mp_obj_new_int_from_uint(i.sent);
            break;
        case MP_QSTR_skipped:
            dest[0] = mp_obj_new_int_from_uint(i.skipped);
            break;
        case MP_QSTR_keepalives:
            dest[0] = mp_obj_new_int_from_uint(i.keepalives);
            break;
        default:
            break;
    }
}

MP_DEFINE_CONST_OBJ_TYPE(
    is_same_type,
    MP_QSTR_SkipSame,
    MP_TYPE_FLAG_NONE,
    make_new, same_make_new,
    attr, same_attr
    );

bool is_open_skip(is_opening_t *op, mp_obj_t skip_same) {
    op->same = NULL;
    if (skip_same == mp_const_none) {
        return true;
    }
    if (!mp_obj_is_type(skip_same, &is_same_type)) {
        mp_raise_TypeError(MP_ERROR_TEXT("skip_same must be an img_stream.SkipSame or None"));
    }
    is_same_obj_t *s = MP_OBJ_TO_PTR(skip_same);
    if (!is_same_decide(&s->state, &op->frame, is_time_us())) {
        return false;
    }
    op->same = &s->state;
    op->same_owner = skip_same;
    return true;
}
