#!/usr/bin/env bash
# A Debian trixie chroot holding the riscv64 cross toolchain (Rust from
# trixie-backports with rust-src for -Zbuild-std, gcc-riscv64-linux-gnu,
# qemu-user), and a way to run commands in it.
#
#   riscv-chroot.sh ensure         create the chroot unless it exists; print its path
#   riscv-chroot.sh path           print the path the chroot has (or would have)
#   riscv-chroot.sh run CMD...     ensure, then run CMD inside, in the current directory
#   riscv-chroot.sh versions       print the versions the chroot holds (one line)
#   riscv-chroot.sh refresh        build a new chroot from what the mirror serves now
#   riscv-chroot.sh candidates     show what the mirror offers now next to the minimums
#   riscv-chroot.sh prune          delete chroots of other package sets and interrupted builds
#   riscv-chroot.sh check-minimums ROOT   check ROOT's installed versions against MINIMUMS
#   riscv-chroot.sh install-extra PKG...  add packages one caller needs (bench: cmake)
#
# Why a chroot: no rustup target can be downloaded here, but Debian packages
# all of it. Why outside the clone: it is ~3 GB, and every fresh clone (CI)
# should reuse one copy.
#
# No exact versions: the Debian suite (backports above all) moves weekly and
# an old version vanishes from the mirror. The chroot takes what the suite
# serves; MINIMUMS states what the code needs, and a chroot below a minimum
# is refused with the package named. The directory name carries a hash of
# the package set, the minimums and SCRIPT_VERSION (never of versions), so a
# change of any of them builds a new chroot beside the old one.
#
# Refreshing: a cached chroot is used as it is until it is MAX_AGE_DAYS old;
# then `ensure` builds a new one beside it from what the mirror serves and
# swaps it in. If that fails (mirror down, a package gone), the old chroot
# stays in use with a warning, so a moving mirror never turns the suite red
# by itself. `refresh` does the same at once. `versions` (printed into the
# test log by tests/cross/run.sh) records what a run actually used.
#
# Environment: IMG_STREAM_CACHE (default /var/cache/img-stream) is the
# machine-wide cache; the chroot and a shared cargo home live there.
set -euo pipefail

# Bump when the way the chroot is built changes (not for pin changes).
SCRIPT_VERSION=1
SUITE=trixie

# Rust comes from backports: trixie main has 1.85, and jpeg-encoder 0.7 /
# heapless 0.9 need 1.87 (their rust-version). -t backports makes every
# package that backports carries (rustc, qemu-user) come from there.
PACKAGES=(rustc cargo rust-src gcc-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user make python3 ca-certificates)
# package>=minimum (Debian version order). qemu-user: 1:10.0 is the oldest the
# riscv64 checks (RVV with vlen=128, -one-insn-per-tb counting) passed with.
MINIMUMS=(
    "rustc>=1.87"
    "cargo>=1.87"
    "rust-src>=1.87"
    "qemu-user>=1:10.0"
)
MAX_AGE_DAYS=${IMG_STREAM_CHROOT_MAX_AGE_DAYS:-28}

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IMG_STREAM_CACHE:-/var/cache/img-stream}
KEY=$(printf '%s\n' "$SCRIPT_VERSION" "$SUITE" "${PACKAGES[@]}" "${MINIMUMS[@]}" | sha256sum | cut -c1-12)
ROOT="$CACHE/riscv-chroot-$KEY"
CARGO_CACHE="$CACHE/cargo-home"
# Where the host's CA bundle appears inside the chroot: the registry may sit
# behind a TLS proxy whose CA only the host's bundle has.
CHROOT_CA=/etc/ssl/img-stream-host-ca.crt
HOST_CA=${CARGO_HTTP_CAINFO:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}

die() {
    echo "riscv-chroot: $*" >&2
    exit 1
}

# A private mount namespace for "$@": mounts made inside vanish with it. Inside
# a chroot (make fresh-check builds this chroot inside one) "/" is no mount
# point, and unshare cannot make it private ("cannot change root filesystem
# propagation"); the mounts it inherits there are already private (the
# enclosing namespace made them so), so it keeps their propagation as it is.
private_ns() {
    local propagation=private
    mountpoint -q / || propagation=unchanged
    unshare --mount --propagation "$propagation" -- "$@"
}

# The Debian mirror comes from the machine's own apt configuration.
find_mirror() {
    bash "$(dirname "${BASH_SOURCE[0]}")/debian-mirror.sh" || die "no Debian mirror found in /etc/apt"
}

sources_lines() {
    local mirror=$1 keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    echo "deb [signed-by=$keyring] $mirror $SUITE main"
    echo "deb [signed-by=$keyring] $mirror $SUITE-backports main"
}

# Runs "$@" chrooted into $1 inside a private mount namespace: the bind mounts
# exist only for this command and vanish with it, even when it is killed; the
# trap also unmounts them explicitly on every normal or failing exit.
run_in() {
    local root=$1
    shift
    [ -d "$root" ] || die "no chroot at $root"
    mkdir -p "$CARGO_CACHE"
    private_ns "${BASH_SOURCE[0]}" __inner "$root" "$PWD" "$@"
}

inner() {
    local root=$1 cwd=$2
    shift 2
    # Global, not local: the EXIT trap runs after this function has returned.
    MOUNTED=()
    cleanup() {
        local i
        for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
            umount -l "${MOUNTED[$i]}" 2>/dev/null || true
        done
    }
    trap cleanup EXIT
    bind() { # bind SRC DEST_IN_ROOT [file]
        local dest="$root$2"
        if [ "${3:-}" = file ]; then
            mkdir -p "$(dirname "$dest")"
            [ -e "$dest" ] || : >"$dest"
        else
            mkdir -p "$dest"
        fi
        mount --bind "$1" "$dest"
        MOUNTED+=("$dest")
    }
    mkdir -p "$root/proc" "$root/dev"
    mount -t proc proc "$root/proc"
    MOUNTED+=("$root/proc")
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    MOUNTED+=("$root/dev")
    bind /etc/resolv.conf /etc/resolv.conf file
    bind "$HOST_CA" "$CHROOT_CA" file
    bind "$PROJECT" "$PROJECT"
    bind "$CARGO_CACHE" /var/cache/img-stream-cargo
    # Start from a clean environment so the host's PATH or rustup settings
    # cannot leak in; callers pass variables with `env VAR=value CMD`.
    # Default to the project directory when the caller's is not visible inside.
    case "$cwd" in "$PROJECT" | "$PROJECT"/*) ;; *) cwd=$PROJECT ;; esac
    local status=0
    chroot "$root" /usr/bin/env -i \
        HOME=/root \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 \
        TERM="${TERM:-dumb}" \
        CARGO_HOME=/var/cache/img-stream-cargo \
        CARGO_HTTP_CAINFO="$CHROOT_CA" \
        SSL_CERT_FILE="$CHROOT_CA" \
        DEBIAN_FRONTEND=noninteractive \
        /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "$@" || status=$?
    return "$status"
}

create() {
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null ||
        die "debootstrap is missing and could not be installed"
    local mirror tmp
    mirror=$(find_mirror)
    # Same file system as the final directory, so the rename is atomic; a
    # half-built tree keeps its .tmp name and is never taken for a finished one.
    tmp=$(mktemp -d "$ROOT.tmp.XXXXXX")
    echo "riscv-chroot: creating $ROOT (a few minutes, ~3 GB)" >&2
    # In its own mount namespace: the /proc and /sys debootstrap mounts in the
    # target cannot outlive it on the host if it is interrupted.
    private_ns debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >"$tmp.log" 2>&1 ||
        die "debootstrap failed, see $tmp.log"
    sources_lines "$mirror" >"$tmp/etc/apt/sources.list"
    # Never start services inside the chroot during package installation.
    printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
    chmod +x "$tmp/usr/sbin/policy-rc.d"
    # -t: the packages' own dependencies (libstd-rust-dev, ...) must come
    # from backports too.
    run_in "$tmp" apt-get -qq update >>"$tmp.log" 2>&1 || die "apt-get update failed, see $tmp.log"
    if ! run_in "$tmp" apt-get install -y -qq --no-install-recommends \
        -t "$SUITE-backports" "${PACKAGES[@]}" >>"$tmp.log" 2>&1; then
        die "installing ${PACKAGES[*]} failed, see $tmp.log"
    fi
    run_in "$tmp" apt-get clean
    rm -f "$tmp/usr/sbin/policy-rc.d"
    check_minimums "$tmp"
    {
        echo "script $SCRIPT_VERSION"
        echo "suite $SUITE"
        echo "created $(date -u +%F)"
        installed_versions "$tmp"
    } >"$tmp/.img-stream-chroot"
    rm -f "$tmp.log"
    echo "$tmp"
}

# "pkg=version" for every package of the set, as installed in root $1.
installed_versions() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        printf '%s=%s\n' "$pkg" "$(dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Version}' "$pkg" 2>/dev/null)"
    done
}

# Fails, naming the package, when root $1 holds a version below a minimum.
check_minimums() {
    local entry pkg min have bad=0
    for entry in "${MINIMUMS[@]}"; do
        pkg=${entry%%>=*}
        min=${entry#*>=}
        have=$(dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Version}' "$pkg" 2>/dev/null || true)
        if [ -z "$have" ]; then
            echo "riscv-chroot: $pkg is not installed (need >= $min)" >&2
            bad=1
        elif ! dpkg --compare-versions "$have" ge "$min"; then
            echo "riscv-chroot: $pkg $have is older than the minimum $min (the mirror's $SUITE-backports must serve a newer one)" >&2
            bad=1
        fi
    done
    [ "$bad" = 0 ] || die "the chroot at $1 does not meet the minimums"
}

age_days() {
    local created
    created=$(awk '$1 == "created" {print $2}' "$ROOT/.img-stream-chroot" 2>/dev/null)
    [ -n "$created" ] || { echo 9999; return; }
    echo $((($(date -u +%s) - $(date -u -d "$created" +%s)) / 86400))
}

# Builds a new chroot from what the mirror serves and swaps it in; the old
# one (if any) is renamed .retired-* and deleted at the next swap or prune.
# With $1 = keep-old, a failed build leaves the old chroot in use.
build_and_swap() {
    local new stale
    # Leftovers of interrupted runs (we hold the lock: nobody else is building).
    for stale in "$ROOT".tmp.*; do
        [ ! -e "$stale" ] || rm -rf "$stale"
    done
    if ! new=$(create); then
        if [ "${1:-}" = keep-old ] && [ -f "$ROOT/.img-stream-chroot" ]; then
            echo "riscv-chroot: refresh failed; keeping the chroot from $(awk '$1 == "created" {print $2}' "$ROOT/.img-stream-chroot")" >&2
            return 0
        fi
        return 1
    fi
    for stale in "$ROOT".retired-*; do
        [ ! -e "$stale" ] || rm -rf "$stale"
    done
    [ ! -e "$ROOT" ] || mv -T "$ROOT" "$ROOT.retired-$(date -u +%Y%m%d%H%M%S)"
    mv -T "$new" "$ROOT"
    echo "riscv-chroot: ready: $ROOT ($(versions_line))" >&2
}

versions_line() {
    grep -v -e '^script ' -e '^suite ' "$ROOT/.img-stream-chroot" | tr '\n' ' ' | sed 's/ $//'
}

lock() {
    [ "$(id -u)" = 0 ] || die "building the chroot needs root"
    mkdir -p "$CACHE"
    # One builder at a time; a second caller waits and then finds it done.
    exec 9>"$CACHE/riscv-chroot.lock"
    flock 9
}

ensure() {
    if [ -f "$ROOT/.img-stream-chroot" ] && [ "$(age_days)" -lt "$MAX_AGE_DAYS" ]; then
        return 0
    fi
    lock
    if [ ! -f "$ROOT/.img-stream-chroot" ]; then
        build_and_swap
    elif [ "$(age_days)" -ge "$MAX_AGE_DAYS" ]; then
        echo "riscv-chroot: the chroot is $(age_days) days old (>= $MAX_AGE_DAYS): refreshing" >&2
        build_and_swap keep-old
    fi
    exec 9>&-
}

candidates() {
    local apt mirror
    apt=$(mktemp -d)
    trap 'rm -rf "$apt"' RETURN
    mirror=$(find_mirror)
    mkdir -p "$apt/lists/partial" "$apt/cache"
    sources_lines "$mirror" >"$apt/sources.list"
    local opts=(
        -o "Dir::Etc::SourceList=$apt/sources.list"
        -o "Dir::Etc::SourceParts=$apt/none"
        -o "Dir::Etc::Preferences=$apt/none"
        -o "Dir::Etc::PreferencesParts=$apt/none"
        -o "Dir::State::Lists=$apt/lists"
        -o "Dir::State::Status=/dev/null"
        -o "Dir::Cache=$apt/cache"
        -o "APT::Sandbox::User=root"
    )
    mkdir -p "$apt/none"
    apt-get "${opts[@]}" -qq update
    local pkg min entry
    for pkg in "${PACKAGES[@]}"; do
        min=any
        for entry in "${MINIMUMS[@]}"; do [ "${entry%%>=*}" = "$pkg" ] && min=">= ${entry#*>=}"; done
        printf '%-24s needs %-12s newest %s\n' "$pkg" "$min" \
            "$(apt-cache "${opts[@]}" madison "$pkg" | awk -F'|' 'NR == 1 {gsub(/ /, "", $2); print $2}')"
    done
}

case "${1:-}" in
ensure)
    ensure
    echo "$ROOT"
    ;;
path) echo "$ROOT" ;;
run)
    shift
    [ $# -gt 0 ] || die "usage: $0 run CMD..."
    ensure
    run_in "$ROOT" "$@"
    ;;
versions)
    ensure
    versions_line
    echo
    ;;
refresh)
    lock
    build_and_swap
    ;;
candidates) candidates ;;
install-extra)
    # install-extra PKG...: packages only some callers need (make bench:
    # cmake for upstream libjpeg-turbo), put into the chroot when missing.
    # Not part of the package set or its cache key; a refreshed chroot gets
    # them again from the next caller.
    shift
    [ $# -gt 0 ] || die "usage: $0 install-extra PKG..."
    ensure
    lock
    extra=()
    for pkg in "$@"; do
        dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}' "$pkg" 2>/dev/null |
            grep -q "install ok installed" || extra+=("$pkg")
    done
    if [ ${#extra[@]} -gt 0 ]; then
        echo "riscv-chroot: installing ${extra[*]} into $ROOT" >&2
        run_in "$ROOT" apt-get -qq update >/dev/null
        run_in "$ROOT" apt-get install -y -qq --no-install-recommends -t "$SUITE-backports" "${extra[@]}" >/dev/null ||
            die "installing ${extra[*]} failed"
        run_in "$ROOT" apt-get clean
    fi
    ;;
check-minimums)
    # check-minimums ROOT: the minimum check alone, on any root's dpkg
    # database (tests/host/test_install_scripts.py feeds it made-up versions).
    check_minimums "${2:?usage: $0 check-minimums ROOT}"
    echo "riscv-chroot: $2 meets the minimums"
    ;;
prune)
    mkdir -p "$CACHE"
    exec 9>"$CACHE/riscv-chroot.lock"
    flock 9
    for dir in "$CACHE"/riscv-chroot-*; do
        [ "$dir" = "$ROOT" ] || [ ! -e "$dir" ] || { echo "riscv-chroot: removing $dir" >&2; rm -rf "$dir"; }
    done
    ;;
__inner)
    shift
    inner "$@"
    ;;
*) die "usage: $0 ensure|path|run CMD...|versions|refresh|candidates|prune|install-extra PKG...|check-minimums ROOT" ;;
esac
