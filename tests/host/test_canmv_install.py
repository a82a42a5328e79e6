"""scripts/canmv-install.sh against a tree laid out like a synced
k230_rtos_sdk (<sdk>/src/canmv/port, <sdk>/src/canmv/micropython): the shim
lands where the port's make includes it on every build, links the archive
with no variable passed, and the board manifest freezes the helpers.

The port Makefile here keeps only the lines of Canaan's port/Makefile
(canmv_k230 at 738f17f) the hook depends on; py/py.mk is MicroPython's
own (build/mp, 1.25: the same user-module loop as the 1.21 fork's, which
scripts/canmv-check.sh exercises for real)."""
import shutil
import subprocess

import pytest

from conftest import ROOT

MP = ROOT / "build" / "mp" / "micropython"
INSTALL = ROOT / "scripts" / "canmv-install.sh"

# From port/Makefile: USER_C_MODULES hard-wired, py.mk included, the link
# flags in the port's order, and core/main.c touched on every build.
PORT_MAKEFILE = """\
BUILD = build
include ../micropython/py/mkenv.mk
USER_C_MODULES = 3rd-party/ulab
include $(TOP)/py/py.mk
LIB_LDFLAGS :=
LDFLAGS += -T link.lds --static
LDFLAGS += $(LDFLAGS_MOD) $(LDFLAGS_ARCH) $(LIB_LDFLAGS) $(LDFLAGS_EXTRA)
show: core/main.c
\t@echo "LDFLAGS=$(LDFLAGS)"
\t@echo "SRC=$(SRC_USERMOD_PATHFIX_C)"
\t@echo "CFLAGS=$(CFLAGS_USERMOD)"
.PHONY: .FORCE
.FORCE:
core/main.c: .FORCE
\t@touch $@
"""
BOARD_MANIFEST = 'require("umqtt.simple")\npackage("media", base_path="../builtin_py", opt=3)\n'


@pytest.fixture
def sdk(tmp_path):
    if not (MP / "py" / "py.mk").exists():
        pytest.fail(f"{MP} is missing: run `make` first")
    canmv = tmp_path / "k230_rtos_sdk" / "src" / "canmv"
    port = canmv / "port"
    for d in ("core", "boards/k230_canmv", "3rd-party/ulab/code", "modules"):
        (port / d).mkdir(parents=True)
    (port / "Makefile").write_text(PORT_MAKEFILE)
    (port / "core" / "main.c").write_text("int main(void) { return 0; }\n")
    (port / "boards" / "manifest.py").write_text(BOARD_MANIFEST)
    (port / "boards" / "k230_canmv" / "manifest.py").write_text('include("../manifest.py")\n')
    (port / "3rd-party" / "ulab" / "code" / "micropython.mk").write_text(
        "SRC_USERMOD_C += $(USERMOD_DIR)/ulab.c\n")
    (canmv / "micropython").symlink_to(MP)
    lib = tmp_path / "libimg_stream.a"
    lib.write_bytes(b"!<arch>\n")
    return tmp_path / "k230_rtos_sdk", lib


def show(port):
    """What the port's make would compile and link, as a root `make` runs it."""
    p = subprocess.run(["make", "-s", "-C", str(port), "show"], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def install(sdk_dir, lib):
    return subprocess.run(["bash", str(INSTALL), str(sdk_dir), str(lib)],
                          capture_output=True, text=True, check=True)


def test_every_port_build_links_the_archive_without_extra_variables(sdk):
    sdk_dir, lib = sdk
    port = sdk_dir / "src" / "canmv" / "port"
    before = show(port)
    assert "img_stream" not in before["LDFLAGS"] + before["SRC"]
    install(sdk_dir, lib)
    dest = port / "3rd-party" / "ulab" / "img_stream"
    for build in range(2):  # the port touches core/main.c: every build relinks
        v = show(port)
        # libc (musl's maths) and libm before the archive, as micropython.mk says.
        # (relative to the port directory, where the port's make runs)
        assert "-lc -lm -lgcc 3rd-party/ulab/img_stream/libimg_stream.a" in v["LDFLAGS"], (build, v["LDFLAGS"])
        srcs = set(v["SRC"].split())
        assert {f"img_stream/{c.name}" for c in (ROOT / "c_glue" / "img_stream").glob("*.c")} <= srcs
        assert "code/ulab.c" in srcs  # the port's own module is still there
    assert (dest / "libimg_stream.a").read_bytes() == lib.read_bytes()
    assert "#define IMG_STREAM_CANMV 1" in (dest / "img_stream_config.h").read_text()


def test_the_installed_shim_is_built_with_the_canmv_adapter(sdk):
    sdk_dir, lib = sdk
    install(sdk_dir, lib)
    dest = sdk_dir / "src" / "canmv" / "port" / "3rd-party" / "ulab" / "img_stream"
    # Preprocess img_source.c as the firmware would see it (model headers
    # standing in for the port's): the adapter's code must be there.
    cmd = ["gcc", "-E", "-std=gnu99", f"-I{MP}", f"-I{MP}/ports/unix", f"-I{MP}/ports/unix/variants/standard",
           f"-I{ROOT / 'build' / 'unix-x86'}", f"-I{ROOT / 'tests' / 'c_glue' / 'canmv_stub'}",
           f"-I{dest}", str(dest / "img_source.c")]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "py_image_cobj(obj)" in out and "image_size(img)" in out
    (dest / "img_stream_config.h").write_text("/* adapter off */\n")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "py_image_cobj(obj)" not in out


def test_board_manifest_freezes_the_helpers_once(sdk):
    sdk_dir, lib = sdk
    port = sdk_dir / "src" / "canmv" / "port"
    install(sdk_dir, lib)
    install(sdk_dir, lib)  # idempotent
    text = (port / "boards" / "manifest.py").read_text()
    assert text.startswith(BOARD_MANIFEST)
    assert text.count('include("../3rd-party/ulab/img_stream/manifest.py")') == 1
    ours = (port / "3rd-party" / "ulab" / "img_stream" / "manifest.py").read_text()
    assert 'module("img_stream_http.py", opt=3)' in ours and 'require("umqtt.robust")' in ours
    assert "freeze(" not in ours  # builtin_py's mpp/media are frozen by the board already
    assert (port / "3rd-party" / "ulab" / "img_stream" / "img_stream_http.py").read_bytes() == \
        (ROOT / "python" / "img_stream_http.py").read_bytes()


def test_old_layout_and_a_changed_hook_are_refused(sdk, tmp_path):
    sdk_dir, lib = sdk
    port = sdk_dir / "src" / "canmv" / "port"
    old = tmp_path / "canmv_k230"
    shutil.copytree(port, old / "port")
    r = subprocess.run(["bash", str(INSTALL), str(old), str(lib)], capture_output=True, text=True)
    assert r.returncode != 0 and "src/canmv/port" in r.stderr
    (port / "Makefile").write_text(PORT_MAKEFILE.replace("USER_C_MODULES = 3rd-party/ulab", "USER_C_MODULES ="))
    r = subprocess.run(["bash", str(INSTALL), str(sdk_dir), str(lib)], capture_output=True, text=True)
    assert r.returncode != 0 and "USER_C_MODULES" in r.stderr
