#!/usr/bin/env bash
# The clean-room check (make fresh-check): clones HEAD into a new Debian 12
# root that has nothing installed by hand and runs the README's two commands
# there, `make run` and `make test`, printing their summaries.
#
#   fresh-check.sh            (as root; takes ~20-30 minutes, ~8 GB while it runs)
#   FRESH_KEEP=1 fresh-check.sh   keep the root afterwards (path printed) to look inside
#
# The root: `debootstrap --variant=minbase bookworm` (amd64) from this
# machine's own apt mirror and apt configuration, plus what the README
# assumes a new machine has besides the Rust toolchain: git and make. The
# host's Rust toolchain (rustup's toolchains and its proxies) is bind-mounted
# read-only; CARGO_HOME inside is new and empty, so every crate is fetched
# again. /proc, /sys and /dev are mounted; the host's CA bundle is visible
# (the registries may sit behind a TLS proxy only it trusts). Everything else
# (Debian packages, pip packages, MicroPython's source, umqtt, the riscv64
# chroot, which `make test` builds inside this root) comes from the project's
# own files. Nothing committed after HEAD or left uncommitted is seen.
#
# Everything runs in a private mount namespace, so no mount outlives the
# check, and the root is deleted at the end (unless FRESH_KEEP=1).
set -euo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUITE=bookworm
RUSTUP_HOME_HOST=${RUSTUP_HOME:-$HOME/.rustup}
CARGO_BIN_HOST=$(dirname "$(command -v cargo)")
HOST_CA=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
LOG=$PROJECT/build/fresh-check.log

die() {
    echo "fresh-check: $*" >&2
    exit 1
}

if [ "${1:-}" = __inner ]; then
    root=$2
    mount -t proc proc "$root/proc"
    mount -t sysfs -o ro sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    mkdir -p "$root/opt/rust/rustup" "$root/opt/rust/bin"
    mount --bind "$RUSTUP_HOME_HOST" "$root/opt/rust/rustup"
    mount -o remount,bind,ro "$root/opt/rust/rustup"
    mount --bind "$CARGO_BIN_HOST" "$root/opt/rust/bin"
    mount -o remount,bind,ro "$root/opt/rust/bin"
    # A clean environment: nothing of the host's PATH, pyenv or caches.
    ca=/etc/ssl/host-ca.crt
    run() {
        chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
            PATH=/opt/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            RUSTUP_HOME=/opt/rust/rustup RUSTUP_AUTO_INSTALL=0 CARGO_HOME=/root/.cargo \
            SSL_CERT_FILE=$ca CARGO_HTTP_CAINFO=$ca PIP_CERT=$ca REQUESTS_CA_BUNDLE=$ca \
            GIT_SSL_CAINFO=$ca CURL_CA_BUNDLE=$ca DEBIAN_FRONTEND=noninteractive \
            /bin/bash -c "$1"
    }
    echo "== fresh-check: the new machine's baseline (git, make)"
    run 'apt-get -qq update && apt-get install -y -qq --no-install-recommends git make ca-certificates >/dev/null'
    run 'cargo --version && rustc --version && git --version && make --version | head -1'
    status=0
    echo "== fresh-check: make run"
    run 'cd /root/img_stream && make run' >"$root/make-run.log" 2>&1 || status=1
    tail -n 15 "$root/make-run.log"
    echo "== fresh-check: make test"
    run 'cd /root/img_stream && make test' >"$root/make-test.log" 2>&1 || status=1
    sed -n '/^== versions/,$p' "$root/make-test.log"
    cp "$root/make-run.log" "$root/make-test.log" "$(dirname "$LOG")/" 2>/dev/null || true
    # The demo's own logs (boards, broker, hub) and the test steps' logs.
    rm -rf "$(dirname "$LOG")/fresh-check-out"
    mkdir -p "$(dirname "$LOG")/fresh-check-out"
    cp -a "$root/root/img_stream/out" "$root/root/img_stream/build/test-results" \
        "$(dirname "$LOG")/fresh-check-out/" 2>/dev/null || true
    exit $status
fi

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; } ||
    die "debootstrap is missing and could not be installed"
[ -d "$RUSTUP_HOME_HOST/toolchains" ] || die "no rustup toolchain at $RUSTUP_HOME_HOST"
mkdir -p "$PROJECT/build"

root=$(mktemp -d /var/tmp/img-stream-fresh.XXXXXX)
# mktemp makes it 0700: as the root's "/", that locks out every service user
# (Mosquitto, once it drops to its own user, could not read /etc/hosts.allow
# and refused every client). A machine's / is 0755.
chmod 755 "$root"
cleanup() {
    if [ "${FRESH_KEEP:-0}" = 1 ]; then
        echo "fresh-check: kept $root" >&2
    elif findmnt -rn -o TARGET | grep -q "^$root"; then
        echo "fresh-check: $root still has mounts; not deleting it" >&2
    else
        rm -rf "$root"
    fi
}
trap cleanup EXIT

{
    echo "fresh-check: $(date -u '+%F %T') HEAD $(git -C "$PROJECT" rev-parse --short HEAD) in $root"
    mirror=$(bash "$PROJECT/scripts/debian-mirror.sh")
    echo "== fresh-check: debootstrap $SUITE from $mirror"
    unshare --mount --propagation private -- \
        debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
        { tail -20 "$root.debootstrap.log"; die "debootstrap failed"; }
    rm -f "$root.debootstrap.log"
    # The machine's own apt configuration (mirror, suites, options), its DNS,
    # hosts file and CA bundle.
    rm -f "$root/etc/apt/sources.list"
    cp -a /etc/apt/sources.list* "$root/etc/apt/" 2>/dev/null || true
    cp -a /etc/apt/apt.conf.d/. "$root/etc/apt/apt.conf.d/"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # Every machine has localhost in /etc/hosts; debootstrap writes none.
    cp /etc/hosts "$root/etc/hosts"
    mkdir -p "$root/etc/ssl"
    cp "$HOST_CA" "$root/etc/ssl/host-ca.crt"
    # No services start inside the root while packages install.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod +x "$root/usr/sbin/policy-rc.d"
    git clone -q --no-hardlinks "$PROJECT" "$root/root/img_stream"
    git -C "$root/root/img_stream" checkout -q "$(git -C "$PROJECT" rev-parse HEAD)"
    unshare --mount --propagation private -- "${BASH_SOURCE[0]}" __inner "$root"
} 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] && echo "fresh-check: passed" | tee -a "$LOG" || echo "fresh-check: FAILED (full logs: build/make-run.log, build/make-test.log, build/fresh-check-out/)" | tee -a "$LOG"
exit "$status"
