// send_udp: one frame as protocol-v1 chunk datagrams (the Rust side is
// src/udp.rs). This file supplies the two callbacks Rust calls while it
// sends: one datagram out, and the clock that paces them. Both run Python
// code under Rust frames, so both catch every exception with nlr_push.
//
// Two ways out, neither allocating per datagram:
// - addr=None: the socket is connected; its stream write sends one datagram
//   per call (stream_writer.c's callback).
// - addr given: sock.sendto(view, addr), with `view` a memoryview that lives
//   in this call's C frame and is re-pointed at each datagram. A Python-level
//   sendto (not a native socket) could keep its argument, and a view points
//   into the reused buffer, so it gets a bytes copy of each datagram instead.
#include "py/runtime.h"
#include "py/objarray.h"
#include "py/mphal.h"
#include "img_stream_shim.h"

typedef struct _udp_ctx_t {
    is_stream_ctx_t s;      // first: the clock callback takes either context
    mp_obj_t call[4];       // sendto, self, view, addr
    mp_obj_array_t view;    // re-pointed at each datagram (native sockets)
    bool native;
} udp_ctx_t;

static int32_t udp_sendto(void *ctx_in, const uint8_t *buf, size_t len, size_t *written) {
    udp_ctx_t *ctx = ctx_in;
    *written = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t args[4] = { ctx->call[0], ctx->call[1], MP_OBJ_NULL, ctx->call[3] };
        if (ctx->native) {
            ctx->view.items = (void *)buf;
            ctx->view.len = len;
            args[2] = MP_OBJ_FROM_PTR(&ctx->view);
        } else {
            args[2] = mp_obj_new_bytes(buf, len);
        }
        mp_obj_t r = mp_call_method_n_kw(2, 0, args);
        mp_int_t n = (r == mp_const_none) ? (mp_int_t)len : mp_obj_get_int(r);
        *written = n < 0 ? 0 : (size_t)n;
        nlr_pop();
        return 0;
    } else {
        ctx->s.exc = MP_OBJ_FROM_PTR(nlr.ret_val);
        return -1;
    }
}

// When the next paced datagram may start (is_time_us clock; 0: at once).
// Module-wide, like the Wi-Fi queue pacing protects; a plain integer.
static uint64_t udp_next_us;

// Waits shorter than this are spun: a sleep's wake-up latency (≈60 µs on
// Linux) would be most of a typical inter-datagram gap.
#define UDP_SPIN_US 1000

static int32_t udp_clock(void *ctx_in, uint64_t until_us, uint64_t *now_us) {
    is_stream_ctx_t *ctx = ctx_in;
    uint64_t now = is_time_us();
    if (now < until_us) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            if (until_us - now > UDP_SPIN_US) {
                mp_hal_delay_us((mp_uint_t)(until_us - now - UDP_SPIN_US / 2));
            }
            while ((now = is_time_us()) < until_us) {
            }
            nlr_pop();
        } else {
            ctx->exc = MP_OBJ_FROM_PTR(nlr.ret_val);
            return -1;
        }
    }
    *now_us = now;
    return 0;
}

// A non-negative int argument, or 0 for None; raises ValueError otherwise.
static uint32_t udp_u32_arg(mp_obj_t o, mp_rom_error_text_t msg) {
    if (o == mp_const_none) {
        return 0;
    }
    mp_int_t v = mp_obj_get_int(o);
    if (v <= 0 || (uint64_t)v > 0xffffffffu) {
        mp_raise_ValueError(msg);
    }
    return (uint32_t)v;
}

// send_udp(sock, addr, img, *, quality=65, mtu=1400, max_rate=None,
//          gap_us=None, seq=None, timestamp_us=None, subsampling=420, engine=0,
//          skip_same=None) -> int (0: skipped as unchanged)
static mp_obj_t is_send_udp_fn(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sock, ARG_addr, ARG_img, ARG_quality, ARG_subsampling, ARG_engine, ARG_seq,
           ARG_timestamp_us, ARG_mtu, ARG_max_rate, ARG_gap_us, ARG_skip_same };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_sock, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_addr, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        IS_ENCODE_ARGS,
        IS_HEADER_ARGS,
        { MP_QSTR_mtu, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 1400} },
        { MP_QSTR_max_rate, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_gap_us, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        IS_SKIP_ARG,
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    // Rust checks the mtu (IS_ERR_BAD_MTU); a negative one becomes too large.
    mp_int_t mtu = args[ARG_mtu].u_int;
    size_t mtu_arg = mtu < 0 ? SIZE_MAX : (size_t)mtu;
    IsPacing pacing = {
        .gap_us = udp_u32_arg(args[ARG_gap_us].u_obj, MP_ERROR_TEXT("gap_us must be a positive int or None")),
        .max_rate = udp_u32_arg(args[ARG_max_rate].u_obj, MP_ERROR_TEXT("max_rate must be a positive int or None")),
        .next_us = udp_next_us,
    };

    mp_obj_t sock = args[ARG_sock].u_obj;
    mp_obj_t addr = args[ARG_addr].u_obj;
    udp_ctx_t ctx;
    IsDatagramSender sender;
    if (addr == mp_const_none) {
        // Connected socket: one stream write is one datagram.
        IsWriter w;
        is_writer_init(&w, &ctx.s, sock);
        sender.send = w.write;
    } else {
        ctx.s.stream = sock;
        ctx.s.exc = MP_OBJ_NULL;
        mp_load_method_maybe(sock, MP_QSTR_sendto, ctx.call);
        if (ctx.call[0] == MP_OBJ_NULL) {
            mp_raise_TypeError(MP_ERROR_TEXT("expected a socket with sendto()"));
        }
        ctx.call[2] = mp_const_none;
        ctx.call[3] = addr;
        // Native sockets (stream protocol in C) do not keep the view.
        const mp_obj_type_t *type = mp_obj_get_type(sock);
        ctx.native = MP_OBJ_TYPE_HAS_SLOT(type, protocol);
        // Read-only 'B' view (no RW flag, offset 0), like mp_obj_new_memoryview.
        ctx.view.base.type = &mp_type_memoryview;
        ctx.view.typecode = 'B';
        ctx.view.free = 0;
        ctx.view.len = 0;
        ctx.view.items = NULL;
        sender.send = udp_sendto;
    }
    sender.clock = udp_clock;
    sender.ctx = &ctx;

    is_opening_t op;
    if (!is_open(&op, &args[ARG_quality], args[ARG_img].u_obj, args[ARG_skip_same].u_obj)) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    is_open_header(&op, &args[ARG_seq]);
    IsOutcome out = {0};
    int32_t st = is_send_udp(&sender, &op.frame, &op.options, &op.header, mtu_arg, &pacing, &out);
    udp_next_us = pacing.next_us;
    // The view pointed into the pool: leave nothing that could reach it.
    ctx.view.items = NULL;
    ctx.view.len = 0;
    is_close_header(&op, st, out.len);
    is_writer_check(st, &ctx.s, &out);
    return MP_OBJ_NEW_SMALL_INT(out.len);
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_send_udp_obj, 3, is_send_udp_fn);
