// img_stream.Encoded: encode a frame once, send it by every transport.
//
//     jpg = img_stream.Encoded()            # once; reused for every frame
//     if jpg.encode(img, quality=rc, skip_same=same):
//         img_stream.send_tcp(sock, jpg)    # header in the headroom, in place
//         img_stream.publish(client, jpg)   # the pool's bytes, no copy
//         server.push(jpg)                  # copied once into its part buffer
//
// The JPEG stays in the module's pool (src/pool.rs); the object only keeps the
// pool's generation and the length, so nothing is allocated per frame and a
// stale object (the pool was used for another frame since) is refused with
// ValueError instead of sending the wrong bytes. There is no buffer protocol:
// a memoryview would keep a raw pointer into memory the pool may move;
// tobytes() makes a copy when one is wanted.
#include "py/runtime.h"
#include "img_stream_shim.h"

static mp_obj_t encoded_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 0, false);
    is_encoded_obj_t *self = mp_obj_malloc(is_encoded_obj_t, type);
    self->held = (IsHeld) {0};
    return MP_OBJ_FROM_PTR(self);
}

// Where the held JPEG is now; raises ValueError when it is gone.
static const uint8_t *held_bytes(is_encoded_obj_t *self) {
    const uint8_t *p = NULL;
    int32_t st = self->held.generation == 0 ? IS_ERR_STALE : is_pool_held(&self->held, &p);
    if (st != IS_OK) {
        is_raise_status(st, NULL);
    }
    return p;
}

void is_encoded_as_frame(mp_obj_t enc, IsFrame *out) {
    is_encoded_obj_t *self = MP_OBJ_TO_PTR(enc);
    held_bytes(self); // refuse a stale one now, before any transport starts
    *out = (IsFrame) {
        .data = NULL,
        .len = self->held.len,
        .width = self->held.width,
        .height = self->held.height,
        .format = IS_FMT_JPEG,
        .held = self->held.generation,
    };
}

// encode(img, *, quality=65, subsampling=420, engine=0, skip_same=None) -> bool
static mp_obj_t encoded_encode(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_self, ARG_img, ARG_quality, ARG_subsampling, ARG_engine, ARG_skip_same };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_self, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        IS_ENCODE_ARGS,
        IS_SKIP_ARG,
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    is_encoded_obj_t *self = MP_OBJ_TO_PTR(args[ARG_self].u_obj);
    is_opening_t op;
    if (!is_open(&op, &args[ARG_quality], args[ARG_img].u_obj, args[ARG_skip_same].u_obj)) {
        return mp_const_false;
    }
    IsOutcome out = {0};
    IsHeld held;
    int32_t st = is_pool_hold(&op.frame, &op.options, &held, &out);
    if (st != IS_OK) {
        is_close_header(&op, st, 0);
        is_raise_status(st, &out);
    }
    self->held = held;
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(encoded_encode_obj, 2, encoded_encode);

// tobytes() -> bytes: a copy of the JPEG (allocates; the transports need none).
static mp_obj_t encoded_tobytes(mp_obj_t self_in) {
    is_encoded_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bytes(held_bytes(self), self->held.len);
}
static MP_DEFINE_CONST_FUN_OBJ_1(encoded_tobytes_obj, encoded_tobytes);

static mp_obj_t encoded_unary_op(mp_unary_op_t op, mp_obj_t self_in) {
    is_encoded_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (op == MP_UNARY_OP_LEN) {
        held_bytes(self);
        return MP_OBJ_NEW_SMALL_INT(self->held.len);
    }
    return MP_OBJ_NULL; // op not supported
}

static void encoded_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return; // read-only
    }
    is_encoded_obj_t *self = MP_OBJ_TO_PTR(self_in);
    switch (attr) {
        case MP_QSTR_width:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->held.width);
            break;
        case MP_QSTR_height:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->held.height);
            break;
        case MP_QSTR_valid: {
            const uint8_t *p = NULL;
            dest[0] = mp_obj_new_bool(self->held.generation != 0 && is_pool_held(&self->held, &p) == IS_OK);
            break;
        }
        case MP_QSTR_encode:
            dest[0] = MP_OBJ_FROM_PTR(&encoded_encode_obj);
            dest[1] = self_in;
            break;
        case MP_QSTR_tobytes:
            dest[0] = MP_OBJ_FROM_PTR(&encoded_tobytes_obj);
            dest[1] = self_in;
            break;
        default:
            break;
    }
}

MP_DEFINE_CONST_OBJ_TYPE(
    is_encoded_type,
    MP_QSTR_Encoded,
    MP_TYPE_FLAG_NONE,
    make_new, encoded_make_new,
    unary_op, encoded_unary_op,
    attr, encoded_attr
    );
