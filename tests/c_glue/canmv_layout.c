// The image_t facts img_stream's CanMV adapter relies on, as compile-time
// checks: scripts/canmv-check.sh compiles this against the firmware's real
// imlib.h, tests/c_glue/model_test.sh against the model in canmv_stub/, so
// the model cannot drift from the firmware unnoticed (the pixfmt values are
// checked in img_source.c itself). Values: docs/CANMV.md.
#include <stddef.h>
#include "py_image.h"

#define LAYOUT(cond) _Static_assert(cond, #cond)

// LP64 (riscv64 lp64d, x86-64): pointers and mp_obj_t are 8 bytes.
LAYOUT(offsetof(image_t, w) == 0);
LAYOUT(offsetof(image_t, h) == 4);
LAYOUT(offsetof(image_t, pixfmt) == 8);
LAYOUT(offsetof(image_t, size) == 12);
LAYOUT(offsetof(image_t, data) == 16);
LAYOUT(offsetof(image_t, pixels) == 16);
LAYOUT(offsetof(image_t, phy_addr) == 24);
LAYOUT(offsetof(image_t, ref_obj) == 32);
LAYOUT(offsetof(image_t, alloc_type) == 40);
LAYOUT(offsetof(image_t, cache) == 41);
LAYOUT(offsetof(image_t, pool_id) == 44);
LAYOUT(sizeof(image_t) == 48);

LAYOUT(ALLOC_VB == 3);
LAYOUT(ALLOC_REF == 4);
