# Compiles img_stream's C shim as the CanMV K230 firmware would, with the
# MicroPython fork's own make rules (py.mk + mkrules.mk: qstr, module, root
# pointer and compressed-text headers) and the CFLAGS of the port's Makefile
# (Canaan's canmv_k230 port/Makefile at 738f17f). Driven by canmv-check.sh,
# inside the riscv64 chroot; not a firmware build: only the objects it names.
# Variables: MP (fork), PORT (port, img_stream installed by canmv-install.sh),
# STUBS (stubbed SDK headers), W (work dir).
TOP := $(MP)
BUILD := $(W)/build
# The port's Makefile sets this before mkrules.mk: MP_ERROR_TEXT becomes a
# compressed-text pointer type, which is what the shim has to compile with.
MICROPY_ROM_TEXT_COMPRESSION := 1
CROSS_COMPILE := riscv64-linux-gnu-
# As port/Makefile sets it: py.mk then includes ulab's and img_stream's
# micropython.mk (the install hook).
USER_C_MODULES := $(PORT)/3rd-party/ulab

include $(TOP)/py/mkenv.mk
include $(TOP)/py/py.mk
# extmod/ is left out: the port overlays parts of it with SDK drivers that
# are not here. Symbols the shim takes from extmod must then be found in the
# port's or the fork's sources (canmv-check.sh).

# The port's include list, minus SDK library paths (LIB_CFLAGS) the shim
# never reaches; $(SDK_SRC_ROOT_DIR)/include is the stub directory.
INC += -I$(PORT) -I$(BUILD) -I$(STUBS) -I$(PORT)/boards/k230_canmv
INC += $(addprefix -I$(PORT)/,include include/core include/machine include/mpp include/omv \
	omv omv/alloc omv/boards/canmv omv/common omv/imlib omv/modules)
INC += -I$(TOP) -I$(TOP)/py -I$(TOP)/shared/readline

# port/Makefile's compiler settings, less CDEF (version strings) and the
# mbedtls config define, which the shim never reads.
COPT := -Os -fdata-sections -ffunction-sections
CWARN := -Wall -Werror -Wno-int-conversion
CFLAGS += $(INC) -g -gdwarf-2
CFLAGS += -fopenmp -march=rv64imafdcv -mabi=lp64d -mcmodel=medany
CFLAGS += -std=gnu99 $(COPT) $(CWARN) -Wno-array-bounds -DMICROPY_FREETYPE=1

# port/Makefile leaves py/modgc.o out (mp_modules/overlay_modgc.c replaces
# it); the other core objects serve as the symbol inventory.
PY_O := $(filter-out $(BUILD)/py/modgc.o,$(PY_O))
SRC_QSTR := $(filter-out py/modgc.c $(TOP)/py/modgc.c,$(SRC_QSTR))
# The root pointers py/runtime.c initialises are declared in these two.
SRC_QSTR += $(TOP)/extmod/vfs.c $(TOP)/extmod/os_dupterm.c

USERMOD_O := $(addprefix $(BUILD)/, $(SRC_USERMOD_PATHFIX_C:.c=.o))
SHIM_O := $(filter $(BUILD)/img_stream/%,$(USERMOD_O))
CORE_O := $(filter-out $(USERMOD_O),$(PY_O))
OBJ := $(PY_O) $(BUILD)/canmv_layout.o
$(BUILD)/canmv_layout.o: $(W)/canmv_layout.c
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

.PHONY: shim core
shim: $(SHIM_O) $(BUILD)/canmv_layout.o
	@echo "canmv-check: compiled $(words $(SHIM_O)) shim files with the firmware's CFLAGS"
	@printf '%s\n' $(SHIM_O) > $(BUILD)/shim-objects.txt
core: $(CORE_O)
	@printf '%s\n' $(CORE_O) > $(BUILD)/core-objects.txt

include $(TOP)/py/mkrules.mk
