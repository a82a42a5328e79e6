#!/usr/bin/env bash
# Installs what building and testing img_stream needs, idempotently: Debian
# packages (only those missing) and Python packages for the host-side tests.
# Usage: install-deps.sh [build|test|bench]...
set -euo pipefail

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(build)

# build: compilers and the tools the build scripts call (apt-get source needs
# dpkg-dev; the unix port links libffi, found by pkg-config, and mbedTLS for
# its ssl module; python3 runs scripts/*.py, pip finds umqtt and curl
# fetches it).
apt_pkgs=(build-essential xz-utils dpkg-dev pkg-config libffi-dev libmbedtls-dev curl ca-certificates python3 python3-pip)
pip_pkgs=()
for w in "${want[@]}"; do
    case "$w" in
        build) ;;
        # test: the programs in tests/tools.txt (brokers, decoders, the browser,
        # debootstrap for the riscv64 chroot), and libturbojpeg0-dev because
        # `cargo test --workspace` links the bench crate.
        test) mapfile -t tools < <(awk '!/^#/ && NF == 2 {print $2}' "$(dirname "$0")/../tests/tools.txt" | sort -u)
              apt_pkgs+=("${tools[@]}" libturbojpeg0-dev)
              pip_pkgs+=(pytest pillow numpy paho-mqtt prometheus-client) ;;
        bench) apt_pkgs+=(libturbojpeg0-dev valgrind)
               pip_pkgs+=(pillow numpy) ;;
        *) echo "install-deps: unknown set $w" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: apt-get install ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian's mosquitto and prometheus packages start system services (on
    # 1883 and 9090); the tests run their own on free ports and need none.
    for svc in mosquitto prometheus; do
        if printf '%s\n' "${missing[@]}" | grep -qx "$svc"; then
            (command -v systemctl >/dev/null && $SUDO systemctl stop "$svc" 2>/dev/null) || true
            (command -v service >/dev/null && $SUDO service "$svc" stop >/dev/null 2>&1) || true
        fi
    done
fi

if [ ${#pip_pkgs[@]} -gt 0 ]; then
    # pip itself is idempotent, but asking it costs seconds: check first.
    need=()
    for p in "${pip_pkgs[@]}"; do
        mod=$p
        case "$p" in pillow) mod=PIL ;; paho-mqtt) mod=paho.mqtt ;; prometheus-client) mod=prometheus_client ;; esac
        python3 -c "import $mod" 2>/dev/null || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        echo "install-deps: pip install ${need[*]}"
        # Debian's own python3 is "externally managed" (PEP 668) and refuses
        # pip installs; these are test tools on a build machine, so say so.
        pip_opts=()
        python3 -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))' &&
            pip_opts+=(--break-system-packages)
        python3 -m pip install -q --disable-pip-version-check "${pip_opts[@]}" "${need[@]}"
    fi
fi
