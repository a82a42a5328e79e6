// img_stream.TcpSender: latest-frame-wins sending over a non-blocking
// socket. The state machine (the sender's own buffer, the frame in flight,
// the counters) is Rust's (src/tcp_sender.rs); this file owns the Python
// object, drives the socket non-blocking and bounds its send buffer.
#include "py/runtime.h"
#include "py/mperrno.h"
#include "img_stream_shim.h"

// SO_SNDBUF goes to the socket's setsockopt unchanged on the unix port and
// on CanMV (extmod/modsocket.c hands level and option to the stack), so the
// values are the platform's own, where it has the header.
#if defined(__has_include)
#if __has_include(<sys/socket.h>)
#include <sys/socket.h>
#endif
#endif

#define IS_DEFAULT_SNDBUF 8192

typedef struct _is_tcp_sender_obj_t {
    mp_obj_base_t base;
    mp_obj_t sock;
    IsTcpSender *rs;    // Rust state (host malloc, not the GC heap); NULL once closed
    mp_int_t sndbuf;    // the SO_SNDBUF asked for and accepted, or -1
} is_tcp_sender_obj_t;

// Calls sock.<name>(args...), catching what it raises; true when it returned.
static bool try_call(mp_obj_t sock, qstr name, size_t n, const mp_obj_t *args) {
    mp_obj_t dest[2 + 3];
    mp_load_method_maybe(sock, name, dest);
    if (dest[0] == MP_OBJ_NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        dest[2 + i] = args[i];
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_method_n_kw(n, 0, dest);
        nlr_pop();
        return true;
    }
    return false;
}

// Bounds what the kernel may queue unsent: Linux grows the send buffer to
// megabytes, seconds of video on a slow link. A stack that refuses the
// option (lwIP sizes it at build time) leaves sndbuf at -1.
static mp_int_t bound_sndbuf(mp_obj_t sock, mp_int_t bytes) {
    #if defined(SOL_SOCKET) && defined(SO_SNDBUF)
    if (bytes > 0) {
        mp_obj_t a[3] = {
            MP_OBJ_NEW_SMALL_INT(SOL_SOCKET), MP_OBJ_NEW_SMALL_INT(SO_SNDBUF), mp_obj_new_int(bytes)
        };
        if (try_call(sock, MP_QSTR_setsockopt, 3, a)) {
            return bytes;
        }
    }
    #endif
    (void)sock;
    (void)bytes;
    return -1;
}

// TcpSender(sock, *, sndbuf=8192)
static mp_obj_t tcp_sender_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_sock, ARG_sndbuf };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_sock, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_sndbuf, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_DEFAULT_SNDBUF} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_obj_t sock = args[ARG_sock].u_obj;
    IsWriter w;
    is_stream_ctx_t ctx;
    is_writer_init(&w, &ctx, sock); // TypeError for anything without write()
    mp_obj_t off = mp_const_false;
    if (!try_call(sock, MP_QSTR_setblocking, 1, &off)) {
        mp_raise_TypeError(MP_ERROR_TEXT("TcpSender needs a socket with setblocking()"));
    }
    #ifdef mp_obj_malloc_with_finaliser
    is_tcp_sender_obj_t *self = mp_obj_malloc_with_finaliser(is_tcp_sender_obj_t, type);
    #else
    is_tcp_sender_obj_t *self = m_new_obj_with_finaliser(is_tcp_sender_obj_t);
    self->base.type = type;
    #endif
    self->sock = sock;
    self->sndbuf = bound_sndbuf(sock, args[ARG_sndbuf].u_int);
    self->rs = is_tcp_sender_new();
    return MP_OBJ_FROM_PTR(self);
}

static is_tcp_sender_obj_t *open_sender(mp_obj_t self_in) {
    is_tcp_sender_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->rs == NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("TcpSender is closed"));
    }
    return self;
}

// The sender's socket as a writer that reports EAGAIN instead of waiting.
static void nonblocking_writer(is_tcp_sender_obj_t *self, IsWriter *w, is_stream_ctx_t *ctx) {
    is_writer_init(w, ctx, self->sock);
    ctx->nonblocking = true;
}

// Raises what the socket raised (OSError with its errno), or
// OSError(ENOTCONN) once a failure mid-frame has left the stream unusable.
static void check(int32_t st, is_stream_ctx_t *ctx, IsOutcome *out) {
    if (st == IS_ERR_BROKEN_STREAM) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    is_writer_check(st, ctx, out);
}

// Pushes the frame in flight; returns the bytes still unsent.
static size_t pump(is_tcp_sender_obj_t *self, bool skip) {
    IsWriter w;
    is_stream_ctx_t ctx;
    nonblocking_writer(self, &w, &ctx);
    IsOutcome out = {0};
    check(is_tcp_sender_pump(self->rs, &w, skip, &out), &ctx, &out);
    return out.len;
}

// send(img, *, quality=65, subsampling=420, engine=0, seq=None,
//      timestamp_us=None, skip_same=None) -> bool
static mp_obj_t tcp_sender_send(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_self, ARG_img, ARG_quality, ARG_subsampling, ARG_engine, ARG_seq, ARG_timestamp_us,
           ARG_skip_same };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_self, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        IS_ENCODE_ARGS,
        IS_HEADER_ARGS,
        IS_SKIP_ARG,
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    is_tcp_sender_obj_t *self = open_sender(args[ARG_self].u_obj);
    // Bad options or a bad image raise before anything is written.
    is_opening_t op;
    is_open(&op, &args[ARG_quality], args[ARG_img].u_obj, MP_OBJ_NULL);
    if (pump(self, true) > 0) {
        return mp_const_false; // the previous frame is still going out
    }
    // Only a frame that would go out now is compared with the last one sent
    // (an unchanged one is counted by the SkipSame, not in `skipped`).
    if (!is_open_skip(&op, args[ARG_skip_same].u_obj)) {
        return mp_const_false;
    }
    IsWriter w;
    is_stream_ctx_t ctx;
    nonblocking_writer(self, &w, &ctx);
    is_open_header(&op, &args[ARG_seq]);
    IsOutcome out = {0};
    int32_t st = is_tcp_sender_start(self->rs, &w, &op.frame, &op.options, &op.header, &out);
    is_close_header(&op, st, out.len);
    check(st, &ctx, &out);
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(tcp_sender_send_obj, 2, tcp_sender_send);

// pump() -> int: pushes the frame in flight without taking a new image (for
// the end of a stream, or a loop with nothing new); the bytes still unsent.
static mp_obj_t tcp_sender_pump(mp_obj_t self_in) {
    return mp_obj_new_int_from_uint(pump(open_sender(self_in), false));
}
static MP_DEFINE_CONST_FUN_OBJ_1(tcp_sender_pump_obj, tcp_sender_pump);

static mp_obj_t tcp_sender_stats(mp_obj_t self_in) {
    is_tcp_sender_obj_t *self = open_sender(self_in);
    IsSenderStats s;
    is_tcp_sender_stats(self->rs, &s);
    mp_obj_t d = mp_obj_new_dict(5);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_sent), mp_obj_new_int_from_ull(s.sent));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_skipped), mp_obj_new_int_from_ull(s.skipped));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_bytes), mp_obj_new_int_from_ull(s.bytes));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_in_flight), mp_obj_new_int_from_uint(s.in_flight));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_sndbuf),
        self->sndbuf < 0 ? mp_const_none : mp_obj_new_int(self->sndbuf));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tcp_sender_stats_obj, tcp_sender_stats);

// close(): frees the sender's buffer now (also done by the finaliser). The
// socket stays the caller's.
static mp_obj_t tcp_sender_close(mp_obj_t self_in) {
    is_tcp_sender_obj_t *self = MP_OBJ_TO_PTR(self_in);
    is_tcp_sender_free(self->rs);
    self->rs = NULL;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tcp_sender_close_obj, tcp_sender_close);

// tx.skipped: the counter scripts read most, without building a dict.
static void tcp_sender_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] == MP_OBJ_NULL && attr == MP_QSTR_skipped) {
        IsSenderStats s;
        is_tcp_sender_stats(open_sender(self_in)->rs, &s);
        dest[0] = mp_obj_new_int_from_ull(s.skipped);
        return;
    }
    dest[1] = MP_OBJ_SENTINEL; // continue lookup in locals_dict
}

static const mp_rom_map_elem_t tcp_sender_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&tcp_sender_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_pump), MP_ROM_PTR(&tcp_sender_pump_obj) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&tcp_sender_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&tcp_sender_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&tcp_sender_close_obj) },
};
static MP_DEFINE_CONST_DICT(tcp_sender_locals, tcp_sender_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    is_tcp_sender_type,
    MP_QSTR_TcpSender,
    MP_TYPE_FLAG_NONE,
    make_new, tcp_sender_make_new,
    attr, tcp_sender_attr,
    locals_dict, &tcp_sender_locals
    );
