#!/usr/bin/env bash
# The riscv64 view of `make bench`: retired instructions per pixel of our
# encoders, of libjpeg-turbo's portable C path and of upstream libjpeg-turbo
# with its hand-written RVV SIMD, all cross-built for riscv64 and run under
# the same qemu-riscv64, with and without RVV; vector builds are also counted
# "m1-equivalent" (bench/riscv/m1eq.py: each RVV instruction weighted by the
# register-group size it works on).
#
#   bench_riscv.sh [--write]
#
# Prints a markdown section; --write also puts it into docs/BENCHMARKS.md
# between `<!-- riscv:begin -->` and `<!-- riscv:end -->` (another size than
# 320x240: its own section, `riscv-WxH`).
# Environment: RISCV_BENCH_SIZE (320x240), RISCV_BENCH_JOBS (2 parallel qemu
# runs), RISCV_BENCH_TARGET_DIR (target/riscv-bench), RISCV_BENCH_TURBO_GIT
# (a git directory of libjpeg-turbo/libjpeg-turbo, main branch; default: where
# this workplace's fetch puts it).
#
# Counting: Debian's qemu-user has no TCG plugins, so each run uses
# `qemu-riscv64 -one-insn-per-tb -d exec,nochain`: one translation block per
# instruction, no block chaining, so every executed instruction logs exactly
# one "Trace" line (streamed through a FIFO into `grep -c`, nothing stored).
# A calibration program with a known count (bench/riscv/loop.S, 2004) must
# come out exact first. Per encode = count(2 encodes) - count(1 encode): the
# start-up, file reading and first-call effects cancel, and qemu is
# deterministic, so one difference is the whole measurement.
#
# Builds, all inside the chroot of scripts/riscv-chroot.sh (cached under
# build/riscv-bench and the target dir):
# - libimg_stream.a for riscv64gc-unknown-linux-gnu twice, as
#   scripts/cross-build.sh does, plain, with RUSTFLAGS=-Ctarget-feature=+zbb
#   and with +v;
#   bench/riscv/enc_ours.c drives it through `is_encode_into`;
# - libjpeg-turbo 2.1.5 (Debian trixie's source package, fetched with a
#   private apt configuration) compressor files compiled directly with
#   riscv64-linux-gnu-gcc -O2 and jsimd_none.c (= WITH_SIMD=0; 2.1 has no
#   RISC-V SIMD anyway), once for rv64gc and once for rv64gcv (GCC's
#   auto-vectoriser); bench/riscv/enc_turbo.c drives it.
# - upstream libjpeg-turbo (main, with simd/riscv64/): its source exported
#   from RISCV_BENCH_TURBO_GIT at that tree's HEAD into build/riscv-bench/
#   turbo-upstream with the commit recorded, built once with its own CMake
#   (Release, static, SIMD on, chosen at run time), the same harness linked
#   to it. Without the git tree and without a cached build, that column is
#   skipped with a message saying how to get it.
set -euo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$PROJECT"
WRITE=0
[ "${1:-}" = --write ] && WRITE=1
SIZE=${RISCV_BENCH_SIZE:-320x240}
SECTION=riscv
[ "$SIZE" = 320x240 ] || SECTION=riscv-$SIZE
export RISCV_BENCH_SECTION=$SECTION
W=${SIZE%x*}
H=${SIZE#*x}
JOBS=${RISCV_BENCH_JOBS:-2}
TARGET_DIR=${RISCV_BENCH_TARGET_DIR:-$PROJECT/target/riscv-bench}
CACHE=$PROJECT/build/riscv-bench
TURBO_VERSION=2.1.5
TURBO_ORIG=libjpeg-turbo_$TURBO_VERSION.orig.tar.gz
TURBO_SHA256=254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c
TURBO_SRC=$CACHE/src/libjpeg-turbo-$TURBO_VERSION
UPSTREAM_GIT=${RISCV_BENCH_TURBO_GIT:-/work/.mirror/libjpeg-turbo+libjpeg-turbo/repo}
UPSTREAM=$CACHE/turbo-upstream
TRIPLE=riscv64gc-unknown-linux-gnu
PHOTO=tests/data/photos/coffee.png
chroot_run() { bash scripts/riscv-chroot.sh run "$@"; }
die() {
    echo "bench_riscv: $*" >&2
    exit 1
}

started=$(date -u +%s)
bash scripts/riscv-chroot.sh ensure >/dev/null

# libjpeg-turbo's source: Debian's orig tarball, verified, cached.
fetch_turbo() {
    local apt=$CACHE/apt mirror
    mirror=$(bash scripts/debian-mirror.sh) || die "no Debian mirror found in /etc/apt"
    mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$CACHE/dl"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
        >"$apt/sources.list"
    local opts=(
        -o "Dir::Etc::SourceList=$apt/sources.list"
        -o "Dir::Etc::SourceParts=/nonexistent"
        -o "Dir::State::Lists=$apt/lists"
        -o "Dir::Cache::Archives=$apt/archives"
        -o "APT::Sandbox::User=root"
    )
    apt-get "${opts[@]}" -qq update
    # Only the orig tarball is needed (checked below); apt may complain about
    # the other files of the source package.
    (cd "$CACHE/dl" && apt-get "${opts[@]}" -qq source --download-only libjpeg-turbo) || true
}
if [ ! -f "$TURBO_SRC/.unpacked" ]; then
    if ! echo "$TURBO_SHA256  $CACHE/dl/$TURBO_ORIG" | sha256sum -c --quiet - >/dev/null 2>&1; then
        fetch_turbo
    fi
    echo "$TURBO_SHA256  $CACHE/dl/$TURBO_ORIG" | sha256sum -c --quiet - ||
        die "$TURBO_ORIG missing or not the expected file"
    rm -rf "$TURBO_SRC"
    mkdir -p "$CACHE/src"
    tar -xzf "$CACHE/dl/$TURBO_ORIG" -C "$CACHE/src"
    touch "$TURBO_SRC/.unpacked"
fi

# Upstream libjpeg-turbo: exported once per commit; the build is cached beside it.
upstream_commit=""
if head=$(git --git-dir="$UPSTREAM_GIT" rev-parse --verify -q 'HEAD^{commit}' 2>/dev/null); then
    if [ "$(cat "$UPSTREAM/commit" 2>/dev/null)" != "$head" ]; then
        rm -rf "$UPSTREAM"
        mkdir -p "$UPSTREAM/src"
        git --git-dir="$UPSTREAM_GIT" archive "$head" | tar -x -C "$UPSTREAM/src"
        echo "$head" >"$UPSTREAM/commit"
    fi
fi
if [ -f "$UPSTREAM/commit" ]; then
    upstream_commit=$(cat "$UPSTREAM/commit")
else
    echo "bench_riscv: no upstream libjpeg-turbo at $UPSTREAM_GIT: skipping the turbo-rvv column." >&2
    echo "bench_riscv: to add it, clone the public repository libjpeg-turbo/libjpeg-turbo (main branch)" >&2
    echo "bench_riscv: and set RISCV_BENCH_TURBO_GIT to its .git directory." >&2
fi

# Our staticlib, scalar, with Zbb (bit manipulation: single-instruction
# leading/trailing zero counts) and with RVV; core and alloc rebuilt with it.
for variant in scalar zbb rvv; do
    flags=""
    [ "$variant" = zbb ] && flags="-Ctarget-feature=+zbb"
    [ "$variant" = rvv ] && flags="-Ctarget-feature=+v"
    echo "bench_riscv: building libimg_stream.a ($variant)" >&2
    # (rustc warns that `v` is an unstable target feature: kept in the log.)
    mkdir -p "$CACHE"
    chroot_run env RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$TARGET_DIR/$variant" RUSTFLAGS="$flags" \
        cargo build --quiet --locked --release -p img_stream -Zbuild-std=core,alloc \
        --target "$TRIPLE" >"$CACHE/cargo-$variant.log" 2>&1 ||
        { cat "$CACHE/cargo-$variant.log" >&2; die "staticlib build ($variant) failed"; }
done

WORK=$CACHE/work
rm -rf "$WORK"
mkdir -p "$WORK"
echo "bench_riscv: building the harnesses and libjpeg-turbo" >&2
chroot_run sh bench/riscv/inner.sh build "$WORK" "$TURBO_SRC" \
    "$TARGET_DIR/scalar/$TRIPLE/release/libimg_stream.a" \
    "$TARGET_DIR/rvv/$TRIPLE/release/libimg_stream.a" \
    "$TARGET_DIR/zbb/$TRIPLE/release/libimg_stream.a"
if [ -n "$upstream_commit" ]; then
    # Upstream builds with CMake, which only this bench needs in the chroot.
    bash scripts/riscv-chroot.sh install-extra cmake
    echo "bench_riscv: building upstream libjpeg-turbo ${upstream_commit:0:7} (once per commit)" >&2
    if ! chroot_run sh bench/riscv/inner.sh upstream "$WORK" "$UPSTREAM/src" "$UPSTREAM/build"; then
        echo "bench_riscv: upstream libjpeg-turbo did not build (above): skipping the turbo-rvv column" >&2
        upstream_commit=""
    fi
fi
python3 bench/riscv/frames.py "$PHOTO" "$W" "$H" "$WORK"

chroot_run sh bench/riscv/inner.sh count "$WORK" calibrate "$WORK/loop"
[ "$(cat "$WORK/calibrate.count")" = 2004 ] ||
    die "the counter is off: calibration loop counted $(cat "$WORK/calibrate.count"), expected 2004"
chroot_run sh bench/riscv/inner.sh vcount "$WORK" calibrate_v "$WORK/loop_v"
[ "$(cat "$WORK/calibrate_v.count") $(cat "$WORK/calibrate_v.m1eq")" = "1607 3107.0" ] ||
    die "the m1-equivalent counter is off: bench/riscv/loop_v.S counted" \
        "$(cat "$WORK/calibrate_v.count") $(cat "$WORK/calibrate_v.m1eq"), expected 1607 3107.0"

# format | our file, format code | libjpeg-turbo's file, kind
FORMATS=(
    "GRAYSCALE gray.raw 1 gray.raw gray"
    "RGB565 rgb565.raw 2 rgb565x.rgb rgb"
    "RGB888 rgb888.raw 4 rgb888.raw rgb"
    "NV12 nv12.raw 8 nv12.yuv yuv420p"
)
jobs=$WORK/jobs.txt
: >"$jobs"
for row in "${FORMATS[@]}"; do
    read -r name ours code theirs kind <<<"$row"
    for n in 1 2; do
        [ -z "$upstream_commit" ] ||
            echo "$name.turborvv.$n vcount $WORK/enc_turbo_upstream $WORK/$theirs $W $H $kind $n 65 $WORK/$name.turborvv.$n.jpg" >>"$jobs"
        echo "$name.fast.$n count $WORK/enc_ours_scalar $WORK/$ours $W $H $code 2 $n 65 $WORK/$name.fast.$n.jpg" >>"$jobs"
        echo "$name.fastzbb.$n count $WORK/enc_ours_zbb $WORK/$ours $W $H $code 2 $n 65 $WORK/$name.fastzbb.$n.jpg" >>"$jobs"
        echo "$name.fastv.$n vcount $WORK/enc_ours_rvv $WORK/$ours $W $H $code 2 $n 65 $WORK/$name.fastv.$n.jpg" >>"$jobs"
        echo "$name.generic.$n count $WORK/enc_ours_scalar $WORK/$ours $W $H $code 1 $n 65 $WORK/$name.generic.$n.jpg" >>"$jobs"
        echo "$name.turbo.$n count $WORK/enc_turbo_scalar $WORK/$theirs $W $H $kind $n 65 $WORK/$name.turbo.$n.jpg" >>"$jobs"
        echo "$name.turbov.$n vcount $WORK/enc_turbo_rvv $WORK/$theirs $W $H $kind $n 65 $WORK/$name.turbov.$n.jpg" >>"$jobs"
    done
done
echo "bench_riscv: $(wc -l <"$jobs") counted runs, $JOBS at a time (a few minutes)" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# shellcheck disable=SC2016
# Each line: TAG count|vcount BINARY ARGS...
xargs -P "$JOBS" -L 1 sh -c 'tag=$0 how=$1; shift; bash scripts/riscv-chroot.sh run sh bench/riscv/inner.sh "$how" "'"$WORK"'" "$tag" "$@"' <"$jobs"
took=$(($(date -u +%s) - started))

versions=$(chroot_run sh -c 'qemu-riscv64 --version | head -1; rustc --version; riscv64-linux-gnu-gcc --version | head -1')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "(not a git checkout)")
[ -z "$(git status --porcelain -- core src 2>/dev/null)" ] || commit="$commit + uncommitted changes in core/ or src/"

section=$(python3 bench/riscv/report.py "$WORK" "$W" "$H" "$took" "$commit" "$load_before" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$versions" "$upstream_commit")
echo "$section"
cat "$WORK/lines.txt"
if [ "$WRITE" = 1 ]; then
    python3 scripts/put_section.py docs/BENCHMARKS.md "$SECTION" "$section"
    echo "bench_riscv: docs/BENCHMARKS.md updated" >&2
fi
