// send_tcp: one protocol-v1 frame (header and JPEG) written to a stream, as
// every other transport has its own file. The Rust side is src/tcp.rs; the
// stream's write callback is stream_writer.c's.
#include "py/runtime.h"
#include "img_stream_shim.h"

// send_tcp(sock, img, *, quality=65, seq=None, timestamp_us=None, subsampling=420,
//          engine=0, skip_same=None) -> int (0: skipped as unchanged)
static mp_obj_t is_send_tcp(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sock, ARG_img, ARG_quality, ARG_subsampling, ARG_engine, ARG_seq, ARG_timestamp_us,
           ARG_skip_same };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_sock, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        IS_ENCODE_ARGS,
        IS_HEADER_ARGS,
        IS_SKIP_ARG,
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    IsWriter w;
    is_stream_ctx_t ctx;
    is_writer_init(&w, &ctx, args[ARG_sock].u_obj);
    is_opening_t op;
    if (!is_open(&op, &args[ARG_quality], args[ARG_img].u_obj, args[ARG_skip_same].u_obj)) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    is_open_header(&op, &args[ARG_seq]);
    IsOutcome out = {0};
    int32_t st = is_send_frame(&w, &op.frame, &op.options, &op.header, &out);
    is_close_header(&op, st, out.len);
    is_writer_check(st, &ctx, &out);
    return MP_OBJ_NEW_SMALL_INT(out.len);
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_send_tcp_obj, 2, is_send_tcp);
