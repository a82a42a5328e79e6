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

// Pixel-format codes, shared with Rust (core/src/pixel.rs) and the wire.
#define IS_FMT_GRAYSCALE 1
#define IS_FMT_RGB565 2
#define IS_FMT_RGB565_SWAPPED 3
#define IS_FMT_RGB888 4
#define IS_FMT_BGR888 5
#define IS_FMT_RGBP888 6
#define IS_FMT_YUV422 7
#define IS_FMT_NV12 8
#define IS_FMT_JPEG 9

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
// struct on the C stack, such as is_stream_ctx_t.keep) while it is used.
mp_obj_t is_source_get(mp_obj_t img, IsFrame *out);

// Raises the Python exception that matches a Rust status.
NORETURN void is_raise_status(int32_t status, const IsOutcome *out);

// A MicroPython stream seen as an IsWriter. `exc` holds an exception the
// stream raised (re-raised by is_writer_check once Rust has returned).
typedef struct _is_stream_ctx_t {
    mp_obj_t stream;
    mp_obj_t exc;
    mp_obj_t keep; // owner of the frame's pixels, kept visible to the GC
} is_stream_ctx_t;

// Prepares `w` to write to `stream` (anything with the stream protocol or a
// write() method). Raises TypeError if it has neither.
void is_writer_init(IsWriter *w, is_stream_ctx_t *ctx, mp_obj_t stream);

// After a Rust call that wrote through a writer: re-raises what the stream
// raised, or the error the status stands for.
void is_writer_check(int32_t status, const is_stream_ctx_t *ctx, const IsOutcome *out);

#define IS_DEFAULT_QUALITY 65
#define IS_DEFAULT_SUBSAMPLING 420

// Validated encoder options (raises ValueError).
IsEncodeOptions is_options_from(mp_int_t quality, mp_int_t subsampling, mp_int_t engine);

// Fills seq (from `seq` or the module's counter), timestamp (from
// `timestamp_us` or the clock) and camera id for the next frame.
void is_frame_meta(IsFrameMeta *meta, mp_obj_t seq, mp_obj_t timestamp_us);

// The module's next sequence number, and putting it back when a frame was
// not sent at all.
uint32_t is_peek_seq(void);
void is_restore_seq(uint32_t seq);

// Transport entry points, one file each (mjpeg.c, udp.c, mqtt.c).
extern const mp_obj_fun_builtin_var_t is_send_mjpeg_obj;
extern const mp_obj_fun_builtin_var_t is_mjpeg_head_obj;
extern const mp_obj_fun_builtin_var_t is_send_udp_obj;
extern const mp_obj_fun_builtin_var_t is_publish_obj;

// A monotonic microsecond clock, 64-bit even where ticks_us wraps.
uint64_t is_time_us(void);

#endif
