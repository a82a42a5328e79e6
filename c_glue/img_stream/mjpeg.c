// mjpeg transport: not written yet.
#include "py/runtime.h"
#include "img_stream_shim.h"

static mp_obj_t is_send_mjpeg(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    mp_raise_NotImplementedError(MP_ERROR_TEXT("send_mjpeg is not available yet"));
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_send_mjpeg_obj, 1, is_send_mjpeg);

static mp_obj_t is_mjpeg_head(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    mp_raise_NotImplementedError(MP_ERROR_TEXT("mjpeg_head is not available yet"));
}
MP_DEFINE_CONST_FUN_OBJ_KW(is_mjpeg_head_obj, 1, is_mjpeg_head);
