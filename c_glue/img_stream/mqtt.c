// MQTT: publish() sends one frame through an MQTT client, as the bare JPEG (raw
// mode) or as protocol-v1 chunks (chunked mode).
//
// Rust (src/mqtt.rs) encodes and lays the bytes out in the reused pool and
// builds each PUBLISH packet there (core/src/mqtt.rs, with mqttrs); this file
// runs the loop, because calling Python must not happen under Rust frames.
//
// Two paths:
// - umqtt's own client (its publish() is umqtt.simple's or umqtt.robust's):
//   the packets go straight to client.sock through the stream protocol
//   (several in one write, up to IS_MQTT_BATCH_BYTES, on Linux), QoS 1
//   messages of a frame within a window of IS_MQTT_WINDOW before their PUBACKs
//   are read, packet ids from client.pid as umqtt numbers them, and
//   umqtt.robust's retry (reconnect(), then send again what was not
//   acknowledged). No Python object is made per frame.
// - any other client with publish(topic, msg, retain, qos): each message goes
//   to that publish() as one memoryview onto the pool; its semantics stay its own.
#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/objarray.h"
#include "py/objfun.h"
#include "py/objstr.h"
#include "py/stream.h"
#include "img_stream_shim.h"

// Chunked mode without chunk_size: small enough for brokers' usual per-message
// limits, large enough that per-message overhead does not dominate.
#define IS_MQTT_DEFAULT_CHUNK 16384

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

// Calls obj.name(arg) if obj has it (sock.settimeout, sock.setblocking).
static void call1_maybe(mp_obj_t obj, qstr name, mp_obj_t arg) {
    mp_obj_t call[3];
    mp_load_method_maybe(obj, name, call);
    if (call[0] != MP_OBJ_NULL) {
        call[2] = arg;
        mp_call_method_n_kw(1, 0, call);
    }
}

// client.sock, if the client has one (an attribute, not None); else MP_OBJ_NULL.
static mp_obj_t client_sock(mp_obj_t client) {
    mp_obj_t dest[2];
    mp_load_method_maybe(client, MP_QSTR_sock, dest);
    if (dest[0] == MP_OBJ_NULL || dest[1] != MP_OBJ_NULL || dest[0] == mp_const_none) {
        return MP_OBJ_NULL;
    }
    return dest[0];
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
        mp_obj_t sock = client_sock(client);
        if (sock != MP_OBJ_NULL) {
            mp_obj_t call[5];
            mp_load_method_maybe(sock, MP_QSTR_setsockopt, call);
            if (call[0] != MP_OBJ_NULL) {
                // IPPROTO_TCP and TCP_NODELAY: the same numbers on Linux and lwIP.
                call[2] = MP_OBJ_NEW_SMALL_INT(6);
                call[3] = MP_OBJ_NEW_SMALL_INT(1);
                call[4] = MP_OBJ_NEW_SMALL_INT(1);
                mp_call_method_n_kw(3, 0, call);
            }
            if (puback_timeout != mp_const_none) {
                call1_maybe(sock, MP_QSTR_settimeout, puback_timeout);
            }
        }
        nlr_pop();
    }
}

// Takes back prepare_qos1()'s timeout: blocking without one, as umqtt leaves
// its socket. On the unix port setblocking(True) keeps SO_RCVTIMEO, and a
// later wait_msg() raised ETIMEDOUT after puback_timeout; on CanMV's
// modsocket setblocking(True) is settimeout(None).
static void disarm_qos1(mp_obj_t sock, mp_obj_t puback_timeout) {
    if (sock != MP_OBJ_NULL && puback_timeout != mp_const_none) {
        call1_maybe(sock, MP_QSTR_settimeout, mp_const_none);
    }
}

// Defined (not static) in py/objclosure.c, declared in no header.
extern const mp_obj_type_t mp_type_closure;

// Which umqtt module a client's publish() comes from: 2 for umqtt.robust, 1 for
// umqtt.simple, 0 for anything else (then publish() is the client's to run).
// Decided by the defining module's __name__, so a frozen umqtt (the CanMV
// firmware freezes micropython-lib's) counts as well as one on the path.
static int umqtt_kind(mp_obj_t publish_fun) {
    if (mp_obj_get_type(publish_fun) == &mp_type_closure) {
        // robust.publish() calls super(), which makes it a closure over
        // __class__. py/objclosure.c keeps the struct private; its first
        // fields (base, then the function) are the same in MicroPython 1.25
        // and in the CanMV 1.21 fork (canmv-k230/micropython 0295137).
        const struct { mp_obj_base_t base; mp_obj_t fun; } *closure = MP_OBJ_TO_PTR(publish_fun);
        publish_fun = closure->fun;
    }
    if (!mp_obj_is_type(publish_fun, &mp_type_fun_bc)) {
        return 0;
    }
    const mp_obj_fun_bc_t *fun = MP_OBJ_TO_PTR(publish_fun);
    mp_map_elem_t *name = mp_map_lookup(&fun->context->module.globals->map,
        MP_OBJ_NEW_QSTR(MP_QSTR___name__), MP_MAP_LOOKUP);
    if (name == NULL || !mp_obj_is_str(name->value)) {
        return 0;
    }
    size_t len;
    const char *s = mp_obj_str_get_data(name->value, &len);
    if (len == 12 && memcmp(s, "umqtt.robust", 12) == 0) {
        return 2;
    }
    if (len == 12 && memcmp(s, "umqtt.simple", 12) == 0) {
        return 1;
    }
    return 0;
}

// client.sock, when it is a connected stream we can write and read ourselves
// (a socket, or a TLS stream over one); else MP_OBJ_NULL.
static mp_obj_t client_stream(mp_obj_t client) {
    mp_obj_t sock = client_sock(client);
    if (sock == MP_OBJ_NULL) {
        return MP_OBJ_NULL;
    }
    const mp_stream_p_t *p = MP_OBJ_TYPE_GET_SLOT_OR_NULL(mp_obj_get_type(sock), protocol);
    if (p == NULL || p->read == NULL || p->write == NULL) {
        return MP_OBJ_NULL;
    }
    return sock;
}

// Writes all of buf; 0 or an errno.
static int stream_write_all(mp_obj_t sock, const uint8_t *buf, size_t len) {
    int err;
    mp_uint_t n = mp_stream_rw(sock, (void *)buf, len, &err, MP_STREAM_RW_WRITE);
    if (n == len) {
        return 0;
    }
    return err != 0 ? err : MP_ECONNRESET;
}

// Reads exactly len bytes; 0 or an errno (end of stream: the broker closed,
// which umqtt reports as OSError(-1) and we as ECONNRESET).
static int stream_read_all(mp_obj_t sock, uint8_t *buf, size_t len) {
    int err;
    mp_uint_t n = mp_stream_rw(sock, buf, len, &err, MP_STREAM_RW_READ);
    if (n == len) {
        return 0;
    }
    return err != 0 ? err : MP_ECONNRESET;
}

// Hands one whole incoming PUBLISH (pkt[..total], parsed as *in) to
// client.cb(topic, msg) and acknowledges it at QoS 1, as umqtt's wait_msg()
// does. 0 or an errno.
static int deliver(mp_obj_t client, mp_obj_t sock, const uint8_t *pkt, const IsMqttIncoming *in,
    const uint8_t puback[4]) {
    mp_obj_t topic = mp_obj_new_bytes(pkt + in->topic_at, in->topic_len);
    mp_obj_t msg = mp_obj_new_bytes(pkt + in->payload_at, in->payload_len);
    mp_obj_t cb = mp_load_attr(client, MP_QSTR_cb);
    mp_call_function_2(cb, topic, msg);
    return in->pid != 0 ? stream_write_all(sock, puback, 4) : 0;
}

// The broker's bytes read but not yet handled: whole packets and the start
// of one more. Reads are budgeted (is_mqtt_read_budget) never to pass the
// last awaited PUBACK, so one read takes several PUBACKs when they are
// there, and what follows them stays in the socket, whole, for umqtt.
typedef struct {
    uint8_t buf[IS_MQTT_SMALL_PACKET + 4 * IS_MQTT_WINDOW];
    size_t len;
} is_mqtt_inbox_t;

// Handles the next packet from the broker as umqtt.simple's wait_msg() does,
// reading as needed while `awaited` PUBACKs are still to come (with our ACKs
// asked to go out at once, if `quick`: see quickack()): a PUBACK's id
// goes to *acked; a message for the client's subscriptions goes to
// client.cb(topic, msg) (and is acknowledged at QoS 1); anything else is
// skipped whole. 0 or an errno (MP_EIO: bytes that are no MQTT packet).
static bool quickack(mp_obj_t sock);
static int read_packet(mp_obj_t client, mp_obj_t sock, is_mqtt_inbox_t *box, uint32_t awaited,
    bool quick, uint16_t *acked) {
    *acked = 0;
    size_t total = 0;
    for (;;) {
        if (box->len > 0 && is_mqtt_packet_len(box->buf, box->len, &total) != IS_OK) {
            return MP_EIO;
        }
        if (total != 0 && (total <= box->len || total > sizeof(box->buf))) {
            break;
        }
        size_t want;
        if (is_mqtt_read_budget(box->buf, box->len, awaited, sizeof(box->buf) - box->len, &want) != IS_OK
            || want == 0) {
            return MP_EIO;
        }
        if (quick) {
            quickack(sock);
        }
        int err;
        mp_uint_t n = mp_stream_rw(sock, box->buf + box->len, want, &err,
            MP_STREAM_RW_READ | MP_STREAM_RW_ONCE);
        if (n == 0) {
            // End of stream: the broker closed, which umqtt reports as
            // OSError(-1) and we as ECONNRESET.
            return err != 0 ? err : MP_ECONNRESET;
        }
        box->len += n;
    }
    IsMqttIncoming in;
    uint8_t puback[4];
    if (total <= box->len) {
        if (is_mqtt_parse(box->buf, total, &in, &puback) != IS_OK) {
            return MP_EIO;
        }
        int err = 0;
        if (in.kind == IS_MQTT_IN_PUBACK) {
            *acked = in.pid;
        } else if (in.kind == IS_MQTT_IN_PUBLISH) {
            err = deliver(client, sock, box->buf, &in, puback);
        }
        box->len -= total;
        memmove(box->buf, box->buf + total, box->len);
        return err;
    }
    // A larger packet: a message for the client (rare while publishing). The
    // buffer grows with the bytes that arrive, not with what the length
    // field claims; its rest is read exactly, so nothing after it is taken.
    vstr_t v;
    vstr_init(&v, 256);
    vstr_add_strn(&v, (const char *)box->buf, box->len);
    box->len = 0;
    while (v.len < total) {
        size_t step = MIN(total - v.len, 4096);
        int err = stream_read_all(sock, (uint8_t *)vstr_add_len(&v, step), step);
        if (err != 0) {
            vstr_clear(&v);
            return err;
        }
    }
    int err = 0;
    if (is_mqtt_parse((const uint8_t *)v.buf, total, &in, &puback) != IS_OK) {
        err = MP_EIO;
    } else if (in.kind == IS_MQTT_IN_PUBLISH) {
        err = deliver(client, sock, (const uint8_t *)v.buf, &in, puback);
    }
    vstr_clear(&v);
    return err;
}

// Asks for our ACKs to go out at once (Linux TCP_QUICKACK, 12; it lasts only
// a while, so it is set before every wait). Why: a broker with Nagle's
// algorithm on (Mosquitto's default, set_tcp_nodelay false) holds each small
// packet (a PUBACK) while an earlier one is unacknowledged, and Linux delays
// the ACK of a reply it cannot piggyback (~40 ms): with several PUBLISHes in
// flight that was one 40 ms stall per frame. False where the socket does not
// take the option: a TLS stream (no setsockopt), or a stack that raises for it
// (remembered, not asked again).
//
// Linux only: elsewhere option 12 is nothing we have read up on (MicroPython's
// modlwip prints a warning for an unknown option instead of raising), so a
// board gets the window of 1. The CanMV firmware is built with a linux-musl
// toolchain (__linux__ is defined) but runs RT-Smart, whose stack was not
// measured: its build (IMG_STREAM_CANMV) counts as not Linux.
static bool quickack_unsupported;
static bool quickack(mp_obj_t sock) {
    #if !defined(__linux__) || IMG_STREAM_CANMV
    quickack_unsupported = true;
    #endif
    if (quickack_unsupported) {
        return false;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t call[5];
        mp_load_method_maybe(sock, MP_QSTR_setsockopt, call);
        if (call[0] == MP_OBJ_NULL) {
            // No setsockopt here (a TLS stream): this socket only.
            nlr_pop();
            return false;
        } else {
            call[2] = MP_OBJ_NEW_SMALL_INT(6);  // IPPROTO_TCP
            call[3] = MP_OBJ_NEW_SMALL_INT(12); // TCP_QUICKACK
            call[4] = MP_OBJ_NEW_SMALL_INT(1);
            mp_call_method_n_kw(3, 0, call);
        }
        nlr_pop();
    } else {
        quickack_unsupported = true;
    }
    return !quickack_unsupported;
}

// What the direct path needs across its retries.
typedef struct {
    mp_obj_t client;
    const IsMqttPlan *plan;
    const uint8_t *topic;
    size_t topic_len;
    bool retain;
    mp_int_t qos;
    mp_obj_t puback_timeout;
    bool robust;
} is_mqtt_direct_t;

// One attempt on the client's current connection: sends messages *next.. and,
// at QoS 1, collects PUBACKs until every message from *base on is
// acknowledged, at most IS_MQTT_WINDOW unacknowledged at once. *base is the
// first message not yet done (acknowledged, or at QoS 0 written). 0 or an errno.
static int direct_attempt(const is_mqtt_direct_t *d, volatile uint32_t *base) {
    mp_obj_t sock = client_stream(d->client);
    if (sock == MP_OBJ_NULL) {
        return MP_ENOTCONN;
    }
    bool qos1 = d->qos == 1;
    if (qos1) {
        prepare_qos1(d->client, d->puback_timeout);
    }
    uint16_t pids[IS_MQTT_WINDOW];
    bool acked[IS_MQTT_WINDOW];
    is_mqtt_inbox_t box = { .len = 0 };
    uint32_t next = *base, count = d->plan->count;
    // Pipelining needs our ACKs on time (see quickack()); without them one
    // message at a time, as umqtt does, is faster.
    uint32_t window = qos1 && quickack(sock) ? IS_MQTT_WINDOW : 1;
    while (*base < count) {
        while (next < count && (!qos1 || next - *base < window)) {
            // As many messages as the window and the plan's batch allow, in
            // one write.
            uint32_t n = MIN(d->plan->batch, count - next);
            if (qos1) {
                n = MIN(n, window - (next - *base));
            }
            uint16_t batch_pids[IS_MQTT_WINDOW];
            for (uint32_t k = 0; qos1 && k < n; k++) {
                // umqtt.simple: self.pid += 1 per QoS 1 message.
                uint16_t pid = is_mqtt_next_pid(mp_obj_get_int(mp_load_attr(d->client, MP_QSTR_pid)));
                mp_store_attr(d->client, MP_QSTR_pid, MP_OBJ_NEW_SMALL_INT(pid));
                batch_pids[k] = pid;
                pids[(next + k) % IS_MQTT_WINDOW] = pid;
                acked[(next + k) % IS_MQTT_WINDOW] = false;
            }
            const uint8_t *pkt;
            size_t len;
            int32_t st = is_mqtt_packets(d->plan, next, n, qos1 ? batch_pids : NULL, d->topic,
                d->topic_len, d->retain, &pkt, &len);
            if (st == IS_ERR_BAD_TOPIC) {
                is_raise_status(st, NULL);
            }
            if (st != IS_OK) {
                // The pool changed under us (another thread encoded).
                mp_raise_msg(&mp_type_RuntimeError,
                    MP_ERROR_TEXT("img_stream buffer was reused during publish"));
            }
            int err = stream_write_all(sock, pkt, len);
            if (err != 0) {
                return err;
            }
            next += n;
            if (!qos1) {
                *base = next;
            }
        }
        if (*base >= count) {
            break;
        }
        uint32_t awaited = 0;
        for (uint32_t j = *base; j < next; j++) {
            awaited += !acked[j % IS_MQTT_WINDOW];
        }
        uint16_t pid;
        int err = read_packet(d->client, sock, &box, awaited, window > 1, &pid);
        if (err != 0) {
            return err;
        }
        for (uint32_t j = *base; pid != 0 && j < next; j++) {
            if (pids[j % IS_MQTT_WINDOW] == pid) {
                acked[j % IS_MQTT_WINDOW] = true;
                break;
            }
        }
        while (*base < next && acked[*base % IS_MQTT_WINDOW]) {
            (*base)++;
        }
    }
    if (qos1 && d->puback_timeout != mp_const_none) {
        disarm_qos1(sock, d->puback_timeout);
    } else if (qos1) {
        // As umqtt's wait_msg() leaves it after a PUBACK.
        call1_maybe(sock, MP_QSTR_setblocking, mp_const_true);
    }
    return 0;
}

// The direct path: attempts until every message is done. A failure raises
// OSError from umqtt.simple's client; umqtt.robust's is logged, reconnected
// (client.reconnect(): connect(False) until it succeeds) and the messages not
// done are sent again, as robust.publish() retries super().publish().
static void publish_direct(const is_mqtt_direct_t *d, volatile uint32_t *base) {
    for (;;) {
        int err = direct_attempt(d, base);
        if (err == 0) {
            return;
        }
        mp_obj_t exc = mp_obj_new_exception_arg1(&mp_type_OSError, MP_OBJ_NEW_SMALL_INT(err));
        if (!d->robust) {
            nlr_raise(exc);
        }
        mp_obj_t call[4];
        mp_load_method_maybe(d->client, MP_QSTR_log, call);
        if (call[0] != MP_OBJ_NULL) {
            call[2] = mp_const_false;
            call[3] = exc;
            mp_call_method_n_kw(2, 0, call);
        }
        mp_load_method(d->client, MP_QSTR_reconnect, call);
        mp_call_method_n_kw(0, 0, call);
    }
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
    // umqtt's own publish(): write the packets ourselves.
    int kind = umqtt_kind(method[0]);
    bool direct = kind != 0 && client_stream(client) != MP_OBJ_NULL;
    mp_obj_t topic = args[ARG_topic].u_obj;
    mp_buffer_info_t topic_buf;
    char topic_space[96];
    vstr_t topic_v;
    if (topic == mp_const_none && direct) {
        // The default topic on the C stack: nothing made per frame.
        mp_obj_t id[2];
        mp_load_method_maybe(client, MP_QSTR_client_id, id);
        if (id[0] == MP_OBJ_NULL || id[1] != MP_OBJ_NULL) {
            mp_raise_ValueError(MP_ERROR_TEXT("client has no client_id: pass topic="));
        }
        mp_buffer_info_t id_buf;
        mp_get_buffer_raise(id[0], &id_buf, MP_BUFFER_READ);
        vstr_init_fixed_buf(&topic_v, sizeof(topic_space), topic_space);
        if (id_buf.len + 17 >= sizeof(topic_space)) {
            vstr_init(&topic_v, id_buf.len + 18); // a long client id: on the heap
        }
        vstr_add_str(&topic_v, "img_stream/");
        vstr_add_strn(&topic_v, id_buf.buf, id_buf.len);
        vstr_add_str(&topic_v, "/frame");
        topic_buf.buf = topic_v.buf;
        topic_buf.len = topic_v.len;
    } else {
        if (topic == mp_const_none) {
            topic = default_topic(client);
        }
        mp_get_buffer_raise(topic, &topic_buf, MP_BUFFER_READ);
    }
    int32_t st = is_mqtt_check_topic(topic_buf.buf, topic_buf.len);
    if (st != IS_OK) {
        is_raise_status(st, NULL);
    }
    // On the C stack where the GC sees the frame's owner; never changed
    // after nlr_push, and reached from the handler below only through
    // `handler_op`.
    is_opening_t op;
    if (!is_open(&op, &args[ARG_quality], args[ARG_img].u_obj, args[ARG_skip_same].u_obj)) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    is_open_header(&op, &args[ARG_seq]);
    IsMqttPlan plan;
    IsOutcome out = {0};
    // Message sizes (umqtt's limit, chunk_size) are checked in Rust.
    IsMqttPackets packets = {
        .wanted = direct, .topic_len = topic_buf.len, .qos1 = qos == 1,
        .max_message = chunked ? 0 : (size_t)chunk_size,
        // Several packets per write where QoS 1 is pipelined (quickack()).
        #if defined(__linux__) && !IMG_STREAM_CANMV
        .batch_bytes = IS_MQTT_BATCH_BYTES,
        #endif
    };
    st = is_mqtt_prepare(&op.frame, &op.options, &op.header,
        chunked ? (size_t)chunk_size : 0, &packets, &plan, &out);
    if (st != IS_OK) {
        is_close_header(&op, st, 0);
        is_raise_status(st, &out);
    }
    // Bytes of all messages: the JPEG, or the chunks with their headers.
    size_t sent = plan.len + (plan.chunked ? plan.count * IS_CHUNK_HEADER_LEN : 0);

    // Messages done (published, or acknowledged at QoS 1): for the seq.
    volatile uint32_t done = 0;
    // GCC does not know that nlr_push returns twice: once the path above is
    // done with a value it may reuse its spill slot, and after the longjmp
    // the handler would read another value's bytes there (it did: a garbage
    // &op, a wrong seq, a segfault). A volatile has a slot of its own.
    is_opening_t *volatile handler_op = &op;
    // The fallback's one view for every message, re-pointed before each
    // publish; the client only reads it during its call.
    mp_obj_array_t *volatile mv = NULL;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (direct) {
            is_mqtt_direct_t d = {
                .client = client, .plan = &plan, .topic = topic_buf.buf, .topic_len = topic_buf.len,
                .retain = args[ARG_retain].u_bool, .qos = qos, .puback_timeout = puback_timeout,
                .robust = kind == 2,
            };
            publish_direct(&d, &done);
        } else {
            mv = MP_OBJ_TO_PTR(mp_obj_new_memoryview('B', 0, NULL));
            mp_obj_t retain = mp_obj_new_bool(args[ARG_retain].u_bool);
            mp_obj_t qos_obj = MP_OBJ_NEW_SMALL_INT(qos);
            for (done = 0; done < plan.count; done++) {
                const uint8_t *msg = plan.data;
                size_t len = plan.len;
                if (plan.chunked) {
                    st = is_mqtt_chunk(&plan, done, &msg, &len);
                    if (st != IS_OK) {
                        // The pool changed under us (another thread encoded).
                        mp_raise_msg(&mp_type_RuntimeError,
                            MP_ERROR_TEXT("img_stream buffer was reused during publish"));
                    }
                }
                if (qos == 1) {
                    // Per message: the client may have reconnected on a new socket.
                    prepare_qos1(client, puback_timeout);
                }
                mv->items = (void *)msg;
                mv->len = len;
                mv->free = 0;
                mp_obj_t call[6] = { method[0], method[1], topic, MP_OBJ_FROM_PTR(mv), retain, qos_obj };
                if (method[1] == MP_OBJ_NULL) {
                    // A plain function attribute: no self.
                    mp_call_function_n_kw(call[0], 4, 0, &call[2]);
                } else {
                    mp_call_method_n_kw(4, 0, call);
                }
            }
            mv->items = NULL;
            mv->len = 0;
            if (qos == 1 && puback_timeout != mp_const_none) {
                disarm_qos1(client_sock(client), puback_timeout);
            }
        }
        nlr_pop();
    } else {
        // Leave nothing pointing into the pool behind, then re-raise as is.
        if (mv != NULL) {
            mv->items = NULL;
            mv->len = 0;
        }
        // Nothing published yet: the next frame may reuse the number.
        is_close_header(handler_op, IS_ERR_EXCEPTION, done);
        nlr_jump(nlr.ret_val);
    }
    return mp_obj_new_int_from_uint(sent);
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_publish_obj, 2, is_publish);
