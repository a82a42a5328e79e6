#!/usr/bin/env bash
# Prints the versions of the tools a test or bench run used, one per line,
# so a log says what it ran with (Debian suites move; nothing is pinned).
#   tool-versions.sh [MICROPYTHON]
set -uo pipefail
v() { # v NAME CMD...: the first line CMD prints, or "not installed"
    local out
    out=$("${@:2}" 2>&1 | head -n 1) || true
    printf '%-12s %s\n' "$1" "${out:-not installed}"
}
deb() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
echo "== versions"
v rustc rustc --version
v cargo cargo --version
v gcc gcc --version
v python3 python3 --version
v pytest python3 -m pytest --version
[ -n "${1:-}" ] && [ -x "$1" ] && v micropython "$1" -c 'import sys; print(sys.implementation.name, sys.version)'
printf '%-12s %s\n' mosquitto "$(deb mosquitto)" chromium "$(deb chromium)" ffmpeg "$(deb ffmpeg)" \
    turbojpeg "$(deb libturbojpeg0-dev)" valgrind "$(deb valgrind)"
