// A model of CanMV's py_image.h (port/omv/modules/py_image.h at 738f17f):
// the same declarations, and no py_image_type, which the firmware keeps
// static in py_image.c.
#ifndef IMG_STREAM_MODEL_PY_IMAGE_H
#define IMG_STREAM_MODEL_PY_IMAGE_H
#include "imlib.h"
mp_obj_t py_image_from_struct(image_t *img);
// The image_t inside an image object; raises TypeError for any other object.
void *py_image_cobj(mp_obj_t img_obj);
#endif
