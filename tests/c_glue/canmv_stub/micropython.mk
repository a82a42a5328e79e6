# The CanMV image model as a user C module, for tests/c_glue/model_test.sh:
# it also switches on img_stream's CanMV adapter for every module of the
# build and puts the model's imlib.h/py_image.h on the include path.
CANMV_MODEL_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(CANMV_MODEL_DIR)/py_image_model.c
CFLAGS_USERMOD += -I$(CANMV_MODEL_DIR) -DIMG_STREAM_CANMV=1
