// udp transport: not written yet.
#include "py/runtime.h"
#include "img_stream_shim.h"

static mp_obj_t is_send_udp(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    mp_raise_NotImplementedError(MP_ERROR_TEXT("send_udp is not available yet"));
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_send_udp_obj, 1, is_send_udp);
