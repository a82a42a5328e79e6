# MicroPython user C module (make-based ports): the C shim plus the Rust
# staticlib. IMG_STREAM_LIB may point at a cross-built archive.
IMG_STREAM_DIR := $(USERMOD_DIR)
# A firmware install (scripts/canmv-install.sh) leaves its settings here.
-include $(IMG_STREAM_DIR)/img_stream_board.mk
IMG_STREAM_LIB ?= $(IMG_STREAM_DIR)/../../target/release/libimg_stream.a
IMG_STREAM_LIBC ?=

SRC_USERMOD_C += $(IMG_STREAM_DIR)/mod_img_stream.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/status.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/tcp.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/tcp_sender.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/img_source.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/stream_writer.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/host_hooks.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/mjpeg.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/udp.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/mqtt.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/rate.c
SRC_USERMOD_C += $(IMG_STREAM_DIR)/encoded.c
# The unix port already builds with -Wall -Wextra -Werror; tests/c_glue/compile_check.sh
# also compiles these files alone with CanMV's flags.
CFLAGS_USERMOD += -I$(IMG_STREAM_DIR)

# libm (and libgcc) first: the Rust archive's compiler_builtins exports weak
# floor/fmod/sqrt... that would otherwise replace libm's for all of MicroPython.
LDFLAGS_USERMOD += $(IMG_STREAM_LIBC) -lm -lgcc $(IMG_STREAM_LIB)
