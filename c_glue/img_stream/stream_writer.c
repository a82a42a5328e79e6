// The write callback Rust calls to send bytes. It is the only place where
// MicroPython code runs "under" Rust frames, so it catches every exception
// with nlr_push: a longjmp across Rust frames would be undefined behaviour.
#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/stream.h"
#include "py/mphal.h"
#include "img_stream_shim.h"

// The native stream protocol of `o`, or NULL. (mp_get_stream() assumes the
// slot exists: on an int or a plain class it would read garbage.)
static const mp_stream_p_t *native_stream(mp_obj_t o) {
    const mp_obj_type_t *type = mp_obj_get_type(o);
    if (!MP_OBJ_TYPE_HAS_SLOT(type, protocol)) {
        return NULL;
    }
    return MP_OBJ_TYPE_GET_SLOT(type, protocol);
}

static int32_t stream_write(void *ctx_in, const uint8_t *buf, size_t len, size_t *written) {
    // volatile: the handler reads it after the longjmp (see is_publish).
    is_stream_ctx_t *volatile ctx = ctx_in;
    *written = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        int32_t result = 0;
        const mp_stream_p_t *proto = native_stream(ctx->stream);
        if (proto != NULL && proto->write != NULL) {
            int err = 0;
            mp_uint_t n = proto->write(ctx->stream, buf, len, &err);
            if (n == MP_STREAM_ERROR && ctx->nonblocking && mp_is_nonblocking_error(err)) {
                result = IS_WRITE_WOULD_BLOCK;
            } else if (n == MP_STREAM_ERROR) {
                result = err > 0 ? err : MP_EIO;
            } else {
                *written = n;
            }
        } else {
            // A Python-level stream: call its write() with a view, no copy.
            mp_obj_t dest[3];
            mp_load_method(ctx->stream, MP_QSTR_write, dest);
            dest[2] = mp_obj_new_memoryview('B', len, (void *)buf);
            mp_obj_t r = mp_call_method_n_kw(1, 0, dest);
            if (r == mp_const_none && ctx->nonblocking) {
                // A non-blocking stream's write() returns None when full.
                result = IS_WRITE_WOULD_BLOCK;
            } else {
                *written = (r == mp_const_none) ? len : (size_t)mp_obj_get_int(r);
            }
        }
        nlr_pop();
        return result;
    } else {
        ctx->exc = MP_OBJ_FROM_PTR(nlr.ret_val);
        return IS_WRITE_RAISED;
    }
}

void is_writer_init(IsWriter *w, is_stream_ctx_t *ctx, mp_obj_t stream) {
    ctx->stream = stream;
    ctx->exc = MP_OBJ_NULL;
    ctx->nonblocking = false;
    const mp_stream_p_t *proto = native_stream(stream);
    if (proto == NULL || proto->write == NULL) {
        mp_obj_t dest[2];
        mp_load_method_maybe(stream, MP_QSTR_write, dest);
        if (dest[0] == MP_OBJ_NULL) {
            mp_raise_TypeError(MP_ERROR_TEXT("expected a socket or stream with write()"));
        }
    }
    w->write = stream_write;
    w->ctx = ctx;
}

void is_writer_check(int32_t status, const is_stream_ctx_t *ctx, const IsOutcome *out) {
    if (status == IS_ERR_EXCEPTION && ctx->exc != MP_OBJ_NULL) {
        nlr_raise(ctx->exc);
    }
    if (status != IS_OK) {
        is_raise_status(status, out);
    }
}

uint64_t is_time_us(void) {
    #if MP_SSIZE_MAX > 0xffffffff
    return (uint64_t)mp_hal_ticks_us();
    #else
    // ticks_us wraps every ~71 minutes on 32-bit ports: extend it.
    static uint32_t last;
    static uint64_t high;
    uint32_t now = (uint32_t)mp_hal_ticks_us();
    if (now < last) {
        high += (uint64_t)1 << 32;
    }
    last = now;
    return high | now;
    #endif
}
