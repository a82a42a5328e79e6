// The one map from a Rust status (IS_* in img_stream_core.h) to the Python
// exception it stands for. The numbers in the messages are the Rust side's
// own limits, read from the generated header: nothing here re-checks them.
#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/objexcept.h"
#include "img_stream_shim.h"

MP_DEFINE_EXCEPTION(BufferTooSmall, ValueError)

NORETURN void is_raise_status(int32_t status, const IsOutcome *out) {
    switch (status) {
        case IS_ERR_BAD_SIZE:
            mp_raise_ValueError(MP_ERROR_TEXT("width and height must be 1..65535"));
        case IS_ERR_ODD_WIDTH:
            mp_raise_ValueError(MP_ERROR_TEXT("width must be even for this pixel format"));
        case IS_ERR_ODD_HEIGHT:
            mp_raise_ValueError(MP_ERROR_TEXT("height must be even for this pixel format"));
        case IS_ERR_BAD_STRIDE:
            mp_raise_ValueError(MP_ERROR_TEXT("stride must be 0 (packed) or at least one row of pixels"));
        case IS_ERR_FRAME_TOO_SMALL:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("buffer too small for the frame: need %u bytes"), (unsigned)out->needed);
        case IS_ERR_BAD_FORMAT:
            mp_raise_ValueError(MP_ERROR_TEXT("unknown pixel format"));
        case IS_ERR_BAD_QUALITY:
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("quality must be %d..%d"),
                IS_QUALITY_MIN, IS_QUALITY_MAX);
        case IS_ERR_BAD_SUBSAMPLING:
            mp_raise_ValueError(MP_ERROR_TEXT("subsampling must be 444, 422 or 420"));
        case IS_ERR_BAD_ENGINE:
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("engine must be %d (auto), %d or %d"),
                IS_ENGINE_AUTO, IS_ENGINE_JPEG_ENCODER, IS_ENGINE_FAST);
        case IS_ERR_OUTPUT_TOO_SMALL:
            mp_raise_msg_varg(&mp_type_BufferTooSmall,
                MP_ERROR_TEXT("output buffer too small: need %u bytes"), (unsigned)out->needed);
        case IS_ERR_OVER_LIMIT:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("frame needs %u bytes, over the buffer limit (see set_buffer_limit)"),
                (unsigned)out->needed);
        case IS_ERR_NO_MEMORY:
            mp_raise_msg(&mp_type_MemoryError, MP_ERROR_TEXT("img_stream: out of memory"));
        case IS_ERR_OS:
            mp_raise_OSError(out->os_error);
        case IS_ERR_BUSY:
            mp_raise_OSError(MP_EBUSY);
        case IS_ERR_BAD_JPEG:
            mp_raise_ValueError(MP_ERROR_TEXT("JPEG has no readable SOF marker"));
        case IS_ERR_STALLED:
            mp_raise_OSError(MP_EIO);
        case IS_ERR_BAD_BOUNDARY:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("boundary must be 1..%u of A-Z a-z 0-9 '()+_,-./:=?"),
                (unsigned)IS_MJPEG_BOUNDARY_MAX);
        case IS_ERR_BAD_HEADER_VALUE:
            mp_raise_ValueError(MP_ERROR_TEXT("allow_origin must not contain control characters"));
        case IS_ERR_TOO_MANY_CHUNKS:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("frame needs more than %u chunks: chunk_size must be >= %u"),
                (unsigned)IS_CHUNK_MAX_COUNT, (unsigned)out->needed);
        case IS_ERR_CHUNK_TOO_SMALL:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("chunk_size must be > %u, the chunk header's size"),
                (unsigned)IS_CHUNK_HEADER_LEN);
        case IS_ERR_MQTT_TOO_LARGE:
            mp_raise_ValueError(MP_ERROR_TEXT("frame too large for one MQTT message: use chunked=True"));
        case IS_ERR_MQTT_CHUNK_TOO_LARGE:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("chunk_size too large for one MQTT message (umqtt: < %u bytes)"),
                (unsigned)IS_MQTT_UMQTT_LIMIT);
        case IS_ERR_BAD_TOPIC:
            mp_raise_ValueError(MP_ERROR_TEXT("topic must be 1..65535 bytes of UTF-8"));
        case IS_ERR_MQTT_PROTOCOL:
            mp_raise_OSError(MP_EIO);
        case IS_ERR_BAD_MTU:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("mtu must be %u..%u (chunk and frame headers take %u)"),
                (unsigned)IS_UDP_MIN_MTU, (unsigned)IS_UDP_MAX_MTU, (unsigned)IS_UDP_MIN_MTU);
        case IS_ERR_TOO_MANY_DATAGRAMS:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("frame of %u bytes needs more than %u datagrams: raise mtu"),
                (unsigned)out->needed, (unsigned)IS_CHUNK_MAX_COUNT);
        case IS_ERR_STALE:
            mp_raise_ValueError(MP_ERROR_TEXT(
                "Encoded frame is gone: the buffer was used for another frame since encode()"));
        case IS_ERR_RATE_NO_TARGET:
            mp_raise_ValueError(MP_ERROR_TEXT("RateControl needs target_bytes or max_kbps"));
        case IS_ERR_RATE_QUALITY:
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("min_quality and max_quality must be %d..%d, min <= max"),
                IS_QUALITY_MIN, IS_QUALITY_MAX);
        case IS_ERR_RATE_FPS:
            mp_raise_ValueError(MP_ERROR_TEXT("fps must be > 0 or None"));
        case IS_ERR_RATE_VALUE:
            mp_raise_ValueError(MP_ERROR_TEXT(
                "target_bytes, max_kbps, keepalive_s and threshold must be >= 0 (and fit 32 bits)"));
        default:
            mp_raise_msg_varg(&mp_type_RuntimeError, MP_ERROR_TEXT("img_stream: status %d"), (int)status);
    }
}
