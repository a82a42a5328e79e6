"""Shared fixtures for the host-side (CPython) tests: paths to the built
interpreter and receiver, and a helper to run MicroPython scripts."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MICROPYTHON = pathlib.Path(os.environ.get("MICROPYTHON", ROOT / "build" / "micropython"))
IMG_STREAM_BIN = pathlib.Path(os.environ.get("IMG_STREAM_BIN", ROOT / "target" / "host" / "img-stream"))
# build/umqtt: umqtt.simple/robust from PyPI (scripts/fetch-umqtt.sh, part of `make`).
# python/unix_port: the firmware's ssl over 1.25's tls (MicroPython only).
MICROPYPATH = f"{ROOT / 'python'}:{ROOT / 'python' / 'unix_port'}:{ROOT / 'tests' / 'micropython'}:{ROOT / 'build' / 'umqtt'}:.frozen"


def pytest_sessionstart(session):
    """Every program the tests run is there, or the run stops at once naming
    the Debian package to install (tests/tools.txt, which install-deps.sh reads)."""
    import shutil
    missing = []
    for line in (ROOT / "tests" / "tools.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            command, package = line.split()
            if not (shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")):
                missing.append(f"{command} (Debian package {package})")
    if missing:
        pytest.exit("missing programs: " + ", ".join(missing)
                    + "; `bash scripts/install-deps.sh test` installs them", returncode=4)


def run_micropython(script, *args, timeout=300, check=True, cwd=None, env=None):
    """Runs a MicroPython script file (or source text) with the built port."""
    e = dict(os.environ, MICROPYPATH=MICROPYPATH)
    if env:
        e.update(env)
    if isinstance(script, str) and "\n" in script:
        cmd = [str(MICROPYTHON), "-X", "heapsize=64M", "-c", script, *map(str, args)]
    else:
        cmd = [str(MICROPYTHON), "-X", "heapsize=64M", str(script), *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=e)
    if check and p.returncode != 0:
        raise AssertionError(f"micropython failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def stop_processes(*procs):
    """Ends processes a test started: SIGTERM, then SIGKILL after 10 s."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def free_port():
    """A free TCP port on 127.0.0.1 (for servers that cannot report their own)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def umqtt():
    """umqtt from PyPI, as `make` fetches it (a no-op when already there)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "fetch-umqtt.sh"), str(ROOT / "build" / "umqtt")],
                   check=True, capture_output=True, timeout=120)


@pytest.fixture
def broker(tmp_path, umqtt):
    """A private Mosquitto (tests/host/mosquitto.py), stopped after the test."""
    from mosquitto import Broker
    b = Broker(tmp_path)
    yield b
    b.stop()


@pytest.fixture(scope="session")
def micropython():
    if not MICROPYTHON.exists():
        pytest.fail(f"{MICROPYTHON} is missing: run `make` first")
    return MICROPYTHON
