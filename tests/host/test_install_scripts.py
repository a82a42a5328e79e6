"""The install scripts take whatever version a moving Debian suite serves, as
long as it meets the stated minimum, and name the package when it does not.

scripts/riscv-chroot.sh check-minimums reads a root's dpkg database; here the
database is made up, so versions the mirror has never served (next year's,
last year's) can be tried without any mirror.
"""
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "riscv-chroot.sh"


def fake_root(tmp_path, versions):
    admin = tmp_path / "var" / "lib" / "dpkg"
    admin.mkdir(parents=True)
    (admin / "status").write_text("".join(
        f"Package: {pkg}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {ver}\n"
        "Maintainer: nobody\nDescription: made up\n\n"
        for pkg, ver in versions.items()))
    return tmp_path


def check(root):
    return subprocess.run(["bash", str(SCRIPT), "check-minimums", str(root)],
                          capture_output=True, text=True, timeout=30)


NEWER = {"rustc": "1.99.0+dfsg1-1~bpo13+1", "cargo": "1.99.0+dfsg1-1~bpo13+1",
         "rust-src": "1.99.0+dfsg1-1~bpo13+1", "qemu-user": "1:12.0.1+ds-1"}


def test_any_version_at_or_above_the_minimum_is_accepted(tmp_path):
    for versions in (NEWER, dict(NEWER, rustc="1.87.0+dfsg1-1", cargo="1.87.0+dfsg1-1",
                                 **{"rust-src": "1.87.0+dfsg1-1", "qemu-user": "1:10.0.2+ds-1"})):
        root = fake_root(tmp_path / versions["rustc"], versions)
        r = check(root)
        assert r.returncode == 0, r.stderr
        assert "meets the minimums" in r.stdout


def test_a_version_below_the_minimum_is_refused_naming_the_package(tmp_path):
    r = check(fake_root(tmp_path, dict(NEWER, rustc="1.85.0+dfsg1-1")))
    assert r.returncode != 0
    assert "rustc 1.85.0+dfsg1-1 is older than the minimum 1.87" in r.stderr
    assert "cargo" not in r.stderr.replace("riscv-chroot", "")


def test_a_missing_package_is_refused_naming_it(tmp_path):
    versions = dict(NEWER)
    del versions["qemu-user"]
    r = check(fake_root(tmp_path, versions))
    assert r.returncode != 0
    assert "qemu-user is not installed" in r.stderr


def test_no_exact_versions_in_install_scripts():
    """Exact pins ("pkg=1.2.3") on a moving suite break within a week; a
    minimum is written "pkg>=1.2" (riscv-chroot.sh's MINIMUMS)."""
    import re
    pin = re.compile(r'"[a-z0-9.+-]+=[0-9][^" ]*"')
    offenders = [f"{path.name}:{n}: {line.strip()}"
                 for path in [ROOT / "Makefile", *ROOT.glob("mk/*.mk"), *ROOT.glob("scripts/*.sh")]
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pin.search(line)]
    assert not offenders, offenders
    # The check itself sees a pin (the old form of riscv-chroot.sh's list)
    # and not a minimum.
    assert pin.search('    "rustc=1.96.1+dfsg1-2~bpo13+1"')
    assert not pin.search('    "rustc>=1.87"')
