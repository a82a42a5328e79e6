// MQTT: publish() hands one frame to an MQTT client's own publish() (umqtt.simple,
// umqtt.robust, or anything with publish(topic, msg, retain, qos)), as the bare
// JPEG (raw mode) or as protocol-v1 chunks (chunked mode).
//
// Rust (src/mqtt.rs) encodes and lays the bytes out in the reused pool; this file
// runs the publish loop, because calling Python must not happen under Rust
// frames. Every message is one memoryview onto the pool, re-pointed for each
// chunk: no payload is copied into a Python object, and the client's semantics
// (QoS 1 waiting for PUBACK, umqtt.robust's reconnect-and-retry, its exceptions)
// stay exactly the client's.
#include <string.h>

#include "py/runtime.h"
#include "py/objarray.h"
#include "py/objstr.h"
#include "img_stream_shim.h"

// Chunked mode without chunk_size: small enough for brokers' usual per-message
// limits, large enough that per-message overhead does not dominate.
#define IS_MQTT_DEFAULT_CHUNK 16384
// umqtt.simple encodes at most 3 remaining-length bytes: a PUBLISH body
// (2 + topic + [2 for the packet id] + payload) must stay below this.
#define IS_MQTT_UMQTT_LIMIT 2097152

// The default topic: b"img_stream/<client_id>/frame".
static mp_obj_t default_topic(mp_obj_t client) {
    mp_obj_t dest[2];
    mp_load_method_maybe(client, MP_QSTR_client_id, dest);
    if (dest[0] == MP_OBJ_NULL || dest[1] != MP_OBJ_NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("client has no client_id: pass topic="));
    }
    size_t id_len;
    const char *id = mp_obj_str_get_data(dest[0], &id_len);
    static const char prefix[] = "img_stream/";
    static const char suffix[] = "/frame";
    vstr_t v;
    vstr_init(&v, sizeof(prefix) + id_len + sizeof(suffix));
    vstr_add_strn(&v, prefix, sizeof(prefix) - 1);
    vstr_add_strn(&v, id, id_len);
    vstr_add_strn(&v, suffix, sizeof(suffix) - 1);
    return mp_obj_new_bytes_from_vstr(&v);
}

// Sets TCP_NODELAY on client.sock, if it has one that takes it. umqtt writes a
// PUBLISH in several small writes; with Nagle's algorithm the last ones wait for
// the broker's delayed ACK (~40 ms on Linux) before the broker can PUBACK, so
// QoS 1 would crawl at ~25 messages/s. Any failure is ignored: the option only
// changes speed.
//
// It also arms the PUBACK timeout: umqtt's wait_msg() reads the reply's first
// byte with the socket as it finds it (and only then switches back to
// blocking), so a timeout set here makes a missing PUBACK raise
// OSError(ETIMEDOUT) from the client, where umqtt.robust's retry sees it.
static void prepare_qos1(mp_obj_t client, mp_obj_t puback_timeout) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t sock[2];
        mp_load_method_maybe(client, MP_QSTR_sock, sock);
        if (sock[0] != MP_OBJ_NULL && sock[1] == MP_OBJ_NULL && sock[0] != mp_const_none) {
            mp_obj_t call[5];
            mp_load_method_maybe(sock[0], MP_QSTR_setsockopt, call);
            if (call[0] != MP_OBJ_NULL) {
                // IPPROTO_TCP and TCP_NODELAY: the same numbers on Linux and lwIP.
                call[2] = MP_OBJ_NEW_SMALL_INT(6);
                call[3] = MP_OBJ_NEW_SMALL_INT(1);
                call[4] = MP_OBJ_NEW_SMALL_INT(1);
                mp_call_method_n_kw(3, 0, call);
            }
            if (puback_timeout != mp_const_none) {
                mp_load_method_maybe(sock[0], MP_QSTR_settimeout, call);
                if (call[0] != MP_OBJ_NULL) {
                    call[2] = puback_timeout;
                    mp_call_method_n_kw(1, 0, call);
                }
            }
        }
        nlr_pop();
    }
}

static NORETURN void raise_too_large(void) {
    mp_raise_ValueError(MP_ERROR_TEXT("frame too large for one MQTT message: use chunked=True"));
}

// publish(client, img, *, topic=None, quality=65, qos=0, retain=False, chunked=False,
//         chunk_size=None, subsampling=420, engine=0, seq=None, timestamp_us=None,
//         puback_timeout=5, skip_same=None) -> int (0: skipped as unchanged)
static mp_obj_t is_publish(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum {
        ARG_client, ARG_img, ARG_topic, ARG_quality, ARG_subsampling, ARG_engine, ARG_seq,
        ARG_timestamp_us, ARG_qos, ARG_retain, ARG_chunked, ARG_chunk_size, ARG_puback_timeout,
        ARG_skip_same
    };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_client, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_img, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_topic, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        IS_ENCODE_ARGS,
        IS_HEADER_ARGS,
        { MP_QSTR_qos, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_retain, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_chunked, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_chunk_size, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_puback_timeout, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = MP_OBJ_NEW_SMALL_INT(5)} },
        IS_SKIP_ARG,
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_obj_t client = args[ARG_client].u_obj;
    mp_obj_t puback_timeout = args[ARG_puback_timeout].u_obj;
    #if MICROPY_PY_BUILTINS_FLOAT
    if (puback_timeout != mp_const_none && !(mp_obj_get_float(puback_timeout) > 0)) {
    #else
    if (puback_timeout != mp_const_none && mp_obj_get_int(puback_timeout) <= 0) {
    #endif
        mp_raise_ValueError(MP_ERROR_TEXT("puback_timeout must be > 0 seconds, or None"));
    }
    mp_obj_t method[2];
    mp_load_method_maybe(client, MP_QSTR_publish, method);
    if (method[0] == MP_OBJ_NULL) {
        mp_raise_TypeError(MP_ERROR_TEXT("expected an MQTT client with publish(topic, msg, retain, qos)"));
    }
    mp_int_t qos = args[ARG_qos].u_int;
    if (qos != 0 && qos != 1) {
        mp_raise_ValueError(MP_ERROR_TEXT("qos must be 0 or 1"));
    }
    bool chunked = args[ARG_chunked].u_bool;
    mp_int_t chunk_size = 0;
    if (args[ARG_chunk_size].u_obj != mp_const_none) {
        chunk_size = mp_obj_get_int(args[ARG_chunk_size].u_obj);
        if (chunk_size < 1) {
            mp_raise_ValueError(MP_ERROR_TEXT("chunk_size must be > 0"));
        }
    } else if (chunked) {
        chunk_size = IS_MQTT_DEFAULT_CHUNK;
    }
    mp_obj_t topic = args[ARG_topic].u_obj;
    if (topic == mp_const_none) {
        topic = default_topic(client);
    }
    mp_buffer_info_t topic_buf;
    mp_get_buffer_raise(topic, &topic_buf, MP_BUFFER_READ);
    // Everything but the payload in umqtt's size check.
    size_t overhead = 2 + topic_buf.len + (qos > 0 ? 2 : 0);
    // umqtt's limit is the client's, so it is checked here; the chunk
    // header's size is Rust's (IS_ERR_CHUNK_TOO_SMALL).
    if (chunked && (size_t)chunk_size + overhead >= IS_MQTT_UMQTT_LIMIT) {
        mp_raise_ValueError(MP_ERROR_TEXT("chunk_size too large for one MQTT message (umqtt: < 2 MiB)"));
    }

    // On the C stack where the GC sees the frame's owner; only read back
    // (saved_seq) after the nlr handler below, never changed after nlr_push.
    is_opening_t op;
    is_open(&op, &args[ARG_quality], args[ARG_img].u_obj);
    if (!is_open_skip(&op, args[ARG_skip_same].u_obj)) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    is_open_header(&op, &args[ARG_seq]);
    IsMqttPlan plan;
    IsOutcome out = {0};
    int32_t st = is_mqtt_prepare(&op.frame, &op.options, &op.header,
        chunked ? (size_t)chunk_size : 0, &plan, &out);
    if (st != IS_OK) {
        is_close_header(&op, st, 0);
        is_raise_status(st, &out);
    }
    if (!chunked && (plan.len + overhead >= IS_MQTT_UMQTT_LIMIT
                     || (chunk_size > 0 && plan.len > (size_t)chunk_size))) {
        is_close_header(&op, IS_ERR_OVER_LIMIT, 0);
        raise_too_large();
    }

    // One view for every message, re-pointed before each publish. The client
    // only reads it during its call (umqtt writes it with sock.write).
    mp_obj_t view = mp_obj_new_memoryview('B', 0, NULL);
    mp_obj_array_t *volatile mv = MP_OBJ_TO_PTR(view);
    mp_obj_t retain = mp_obj_new_bool(args[ARG_retain].u_bool);
    mp_obj_t qos_obj = MP_OBJ_NEW_SMALL_INT(qos);
    size_t sent = 0;
    volatile uint32_t i = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        for (i = 0; i < plan.count; i++) {
            const uint8_t *msg = plan.data;
            size_t len = plan.len;
            if (plan.chunked) {
                st = is_mqtt_chunk(&plan, i, &msg, &len);
                if (st != IS_OK) {
                    // The pool changed under us (another thread encoded).
                    mp_raise_msg(&mp_type_RuntimeError,
                        MP_ERROR_TEXT("img_stream buffer was reused during publish"));
                }
            }
            if (qos == 1) {
                // Per message: umqtt.robust may have reconnected on a new socket.
                prepare_qos1(client, puback_timeout);
            }
            mv->items = (void *)msg;
            mv->len = len;
            mv->free = 0;
            mp_obj_t call[6] = { method[0], method[1], topic, view, retain, qos_obj };
            if (method[1] == MP_OBJ_NULL) {
                // A plain function attribute: no self.
                mp_call_function_n_kw(call[0], 4, 0, &call[2]);
            } else {
                mp_call_method_n_kw(4, 0, call);
            }
            sent += len;
        }
        nlr_pop();
    } else {
        // Leave nothing pointing into the pool behind, then re-raise as is.
        mv->items = NULL;
        mv->len = 0;
        // Nothing published yet: the next frame may reuse the number.
        is_close_header(&op, IS_ERR_EXCEPTION, i);
        nlr_jump(nlr.ret_val);
    }
    mv->items = NULL;
    mv->len = 0;
    return mp_obj_new_int_from_uint(sent);
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_publish_obj, 2, is_publish);
