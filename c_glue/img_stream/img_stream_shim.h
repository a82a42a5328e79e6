// Internal interfaces between the shim's C files. Only c_glue/ touches
// MicroPython objects; Rust sees the plain structs of img_stream_core.h.
#ifndef IMG_STREAM_SHIM_H
#define IMG_STREAM_SHIM_H

#include "py/obj.h"
#include "img_stream_core.h"

// A firmware build drops img_stream_config.h next to these files (see
// scripts/canmv-install.sh) to switch on board-specific code such as the
// CanMV image adapter (IMG_STREAM_CANMV).
#if defined(__has_include)
#if __has_include("img_stream_config.h")
#include "img_stream_config.h"
#endif
#endif

// Pixel-format codes (IS_FMT_*), engines, header lengths and limits all come
// from img_stream_core.h, generated from the Rust side: nothing is restated
// here.

// img_stream.Frame: a zero-copy view of raw pixels in a buffer object.
typedef struct _is_frame_obj_t {
    mp_obj_base_t base;
    mp_obj_t buf;       // keeps the pixels alive (GC-visible)
    uint32_t width;
    uint32_t height;
    size_t stride;
    uint8_t format;
} is_frame_obj_t;

extern const mp_obj_type_t is_frame_type;

// Turns a Frame, a CanMV-style image object or JPEG bytes into an IsFrame.
// Raises TypeError/ValueError for anything else. The IsFrame borrows the
// buffer of the returned object: keep that object reachable by the GC (in a
// struct on the C stack, such as is_opening_t.keep) while it is used.
mp_obj_t is_source_get(mp_obj_t img, IsFrame *out);

// Raises the Python exception that matches a Rust status (status.c): the one
// map from statuses to exceptions.
NORETURN void is_raise_status(int32_t status, const IsOutcome *out);

// img_stream.BufferTooSmall (a ValueError): the caller's output buffer cannot
// hold the result (IS_ERR_OUTPUT_TOO_SMALL). Callers catch it by type.
extern const mp_obj_type_t mp_type_BufferTooSmall;

// A MicroPython stream seen as an IsWriter. `exc` holds an exception the
// stream raised (re-raised by is_writer_check once Rust has returned). With
// `nonblocking` set (TcpSender), EAGAIN is reported as IS_WRITE_WOULD_BLOCK
// instead of an error.
typedef struct _is_stream_ctx_t {
    mp_obj_t stream;
    mp_obj_t exc;
    bool nonblocking;
} is_stream_ctx_t;

// Prepares `w` to write to `stream` (anything with the stream protocol or a
// write() method). Raises TypeError if it has neither.
void is_writer_init(IsWriter *w, is_stream_ctx_t *ctx, mp_obj_t stream);

// After a Rust call that wrote through a writer: re-raises what the stream
// raised, or the error the status stands for.
void is_writer_check(int32_t status, const is_stream_ctx_t *ctx, const IsOutcome *out);

#define IS_DEFAULT_QUALITY 65
#define IS_DEFAULT_SUBSAMPLING 420

// The argument rows every encoding entry point shares. Keyword-only, so they
// may stand anywhere after the positional rows; the enum must name them in
// this order (is_open reads them as one run): ARG_quality, ARG_subsampling,
// ARG_engine. quality is an int or an img_stream.RateControl.
#define IS_ENCODE_ARGS \
    { MP_QSTR_quality, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = MP_OBJ_NEW_SMALL_INT(IS_DEFAULT_QUALITY)} }, \
    { MP_QSTR_subsampling, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_DEFAULT_SUBSAMPLING} }, \
    { MP_QSTR_engine, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = IS_ENGINE_AUTO} }

// The rows of the framed transports' header fields, in this order:
// ARG_seq, ARG_timestamp_us.
#define IS_HEADER_ARGS \
    { MP_QSTR_seq, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} }, \
    { MP_QSTR_timestamp_us, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} }

// The row of the entry points that can skip unchanged frames (ARG_skip_same,
// read by is_open_skip).
#define IS_SKIP_ARG \
    { MP_QSTR_skip_same, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} }

// img_stream.RateControl and img_stream.SkipSame (rate.c): Rust state blocks
// on the GC heap, lent to Rust for one call at a time.
typedef struct _is_rate_obj_t {
    mp_obj_base_t base;
    IsRateState state;
} is_rate_obj_t;

typedef struct _is_same_obj_t {
    mp_obj_base_t base;
    IsSameState state;
} is_same_obj_t;

extern const mp_obj_type_t is_rate_type;
extern const mp_obj_type_t is_same_type;

// img_stream.Encoded (encoded.c): one frame's JPEG held in the module's pool,
// which every transport takes in place. is_encoded_as_frame fills `out` for
// it (raises ValueError when the pool no longer holds it).
typedef struct _is_encoded_obj_t {
    mp_obj_base_t base;
    IsHeld held;  // generation 0: nothing encoded yet
} is_encoded_obj_t;

extern const mp_obj_type_t is_encoded_type;
void is_encoded_as_frame(mp_obj_t enc, IsFrame *out);

// What an encoding entry point holds while it runs. On the C stack, so the
// GC sees `keep`, the owner of the frame's pixels.
typedef struct _is_opening_t {
    IsEncodeOptions options;
    IsFrame frame;
    mp_obj_t keep;
    mp_obj_t rate_owner;  // the RateControl behind options.rate, or NULL
    IsSameState *same;    // the SkipSame that let this frame through, or NULL
    mp_obj_t same_owner;
    IsHeaderFields header; // framed transports only (is_open_header)
    uint32_t saved_seq;   // the module's sequence number before this frame
} is_opening_t;

// The opening every encoding entry point shares: checks the options
// (`encode_args` is the IS_ENCODE_ARGS run) with the Rust core, turns `img`
// into a frame, then asks `skip_same` (the IS_SKIP_ARG value: a SkipSame or
// None). Returns false when the frame equals the last one sent and no
// keep-alive is due: the caller then returns without encoding (0, None for
// encode, False). Raises ValueError/TypeError. `skip_same` = MP_OBJ_NULL
// leaves the question to a later is_open_skip (TcpSender asks only about a
// frame that would go out now).
bool is_open(is_opening_t *op, const mp_arg_val_t *encode_args, mp_obj_t img, mp_obj_t skip_same);

// The skip_same question of is_open, asked later; raises TypeError for
// anything but a SkipSame or None.
bool is_open_skip(is_opening_t *op, mp_obj_t skip_same);

// For the framed transports: fills op->header from the IS_HEADER_ARGS run
// (seq from the argument or the module's counter, timestamp from the
// argument or the clock, the module's camera id).
void is_open_header(is_opening_t *op, const mp_arg_val_t *header_args);

// After the Rust call: when nothing went out (`sent` is 0 and the call
// failed), gives the sequence number back for the next frame; when the call
// failed, the SkipSame that let the frame through forgets it, so the next
// frame goes out.
void is_close_header(const is_opening_t *op, int32_t status, size_t sent);

// A non-negative int argument of up to 64 bits (timestamps); raises
// ValueError naming `name` otherwise.
uint64_t is_u64_arg(mp_obj_t o, qstr name);

// Transport entry points, one file each (tcp.c, mjpeg.c, udp.c, mqtt.c,
// tcp_sender.c).
extern const mp_obj_fun_builtin_var_t is_send_tcp_obj;
extern const mp_obj_fun_builtin_var_t is_send_mjpeg_obj;
extern const mp_obj_fun_builtin_var_t is_mjpeg_head_obj;
extern const mp_obj_fun_builtin_var_t is_send_udp_obj;
extern const mp_obj_fun_builtin_var_t is_publish_obj;
extern const mp_obj_type_t is_tcp_sender_type;

// A monotonic microsecond clock, 64-bit even where ticks_us wraps.
uint64_t is_time_us(void);

#endif
