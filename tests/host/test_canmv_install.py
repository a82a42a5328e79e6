"""scripts/canmv-install.sh puts the shim into a CanMV tree's port/modules/
with the CanMV adapter switched on, and the copied files compile there
(against a stand-in py_image.h: the real one comes with the firmware)."""
import subprocess

from conftest import ROOT

MP = ROOT / "build" / "mp" / "micropython"
PORT_BUILD = ROOT / "build" / "unix-x86"


def test_install_into_a_canmv_tree_and_compile(tmp_path):
    port = tmp_path / "canmv_k230" / "port"
    (port / "modules").mkdir(parents=True)
    (port / "modules" / "modmedia.c").write_text("/* the firmware's own */\n")
    lib = tmp_path / "libimg_stream.a"
    lib.write_bytes(b"!<arch>\n")
    p = subprocess.run(["bash", str(ROOT / "scripts" / "canmv-install.sh"), str(tmp_path / "canmv_k230"), str(lib)],
                       capture_output=True, text=True, check=True)
    assert f'LDFLAGS_EXTRA="-lc -lm {lib}"' in p.stdout
    mods = port / "modules"
    names = sorted(f.name for f in mods.iterdir())
    assert "modmedia.c" in names and "img_stream_mod_img_stream.c" in names and "img_stream_core.h" in names
    assert "#define IMG_STREAM_CANMV 1" in (mods / "img_stream_config.h").read_text()
    # The adapter path must be what compiles there: remove the stand-in's
    # py_image_type and the compile must fail, proving the config was read.
    src = mods / "img_stream_img_source.c"
    cmd = ["gcc", "-std=gnu99", "-fsyntax-only", "-Wall", "-Werror", f"-I{MP}", f"-I{MP}/ports/unix",
           f"-I{MP}/ports/unix/variants/standard", f"-I{PORT_BUILD}",
           f"-I{ROOT / 'tests' / 'c_glue' / 'canmv_stub'}", str(src)]
    subprocess.run(cmd, check=True)
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "py_image.h").write_text("/* empty: no image_t */\n")
    cmd[-2] = f"-I{stub}"
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode != 0 and "image_t" in r.stderr
