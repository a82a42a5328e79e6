#!/bin/sh
# Runs inside the riscv64 chroot for scripts/bench_riscv.sh:
#   inner.sh build WORK TURBO_SRC OURS_SCALAR_A OURS_RVV_A OURS_ZBB_A
#   inner.sh upstream WORK SRC BUILD
#       builds upstream libjpeg-turbo (SRC) with its CMake into BUILD (its
#       default Release build, static, SIMD on) and links WORK/enc_turbo_upstream
#   inner.sh count WORK TAG BINARY ARGS...
#       writes the retired-instruction count to WORK/TAG.count and the
#       program's output to WORK/TAG.out
#   inner.sh vcount WORK TAG BINARY ARGS...
#       the same for a vector build, and also its m1-equivalent count
#       (bench/riscv/m1eq.py) to WORK/TAG.m1eq
set -eu
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
cmd=$1
work=$2
CC=riscv64-linux-gnu-gcc

case "$cmd" in
build)
    src=$3
    # Library files a compressor needs (CMake's JPEG_SOURCES minus the
    # decompressor, arithmetic coding and colour quantisers) and the no-SIMD
    # dispatch stubs, which is what WITH_SIMD=0 compiles.
    files="jcapimin jcapistd jccoefct jccolor jcdctmgr jchuff jcicc jcinit jcmainct
        jcmarker jcmaster jcomapi jcparam jcphuff jcprepct jcsample jdatadst jerror
        jfdctflt jfdctfst jfdctint jutils jmemmgr jmemnobs jsimd_none"
    sed 's/@COPYRIGHT_YEAR@/1991-2022/' "$src/jversion.h.in" >"$work/jversion.h"
    for variant in scalar rvv; do
        march=rv64gc
        [ "$variant" = rvv ] && march=rv64gcv
        # -O2: how Debian builds libjpeg-turbo. GCC 14 vectorises at -O2
        # (cheap cost model) when the ISA has V.
        flags="-march=$march -mabi=lp64d -O2"
        mkdir -p "$work/turbo-$variant"
        objs=""
        for f in $files; do
            $CC $flags -I"$here/turbo-config" -I"$work" -I"$src" -c "$src/$f.c" \
                -o "$work/turbo-$variant/$f.o"
            objs="$objs $work/turbo-$variant/$f.o"
        done
        $CC $flags -static -I"$here/turbo-config" -I"$src" "$here/enc_turbo.c" $objs \
            -o "$work/enc_turbo_$variant"
    done
    $CC -march=rv64gc -O2 -static -I"$project/c_glue/img_stream" "$here/enc_ours.c" \
        "$project/c_glue/img_stream/host_hooks.c" -lm -lgcc "$4" -o "$work/enc_ours_scalar"
    $CC -march=rv64gcv -O2 -static -I"$project/c_glue/img_stream" "$here/enc_ours.c" \
        "$project/c_glue/img_stream/host_hooks.c" -lm -lgcc "$5" -o "$work/enc_ours_rvv"
    $CC -march=rv64gc_zbb -O2 -static -I"$project/c_glue/img_stream" "$here/enc_ours.c" \
        "$project/c_glue/img_stream/host_hooks.c" -lm -lgcc "$6" -o "$work/enc_ours_zbb"
    $CC -nostdlib -static "$here/loop.S" -o "$work/loop"
    $CC -march=rv64gcv -nostdlib -static "$here/loop_v.S" -o "$work/loop_v"
    ;;
upstream)
    src=$3
    build=$4
    command -v cmake >/dev/null || {
        echo "inner.sh: cmake is not in the riscv64 chroot (scripts/riscv-chroot.sh PACKAGES)" >&2
        exit 1
    }
    if [ ! -f "$build/libjpeg.a" ]; then
        # What a distribution's cross build does: its CMake, Release (the
        # default), static; SIMD is on by default and chosen at run time
        # (jpeg_simd_cpu_support() asks the kernel, here qemu, for V).
        cmake -S "$src" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$here/riscv64-gcc.cmake" \
            -DENABLE_SHARED=0 -DWITH_TURBOJPEG=0 -DWITH_TOOLS=0 -DWITH_TESTS=0 >"$build.log" 2>&1 &&
            make -C "$build" -j2 jpeg-static >>"$build.log" 2>&1 ||
            { cat "$build.log" >&2; exit 1; }
        grep -q 'SIMD extensions: RISCV64' "$build.log" ||
            { echo "inner.sh: upstream libjpeg-turbo was built without its RVV SIMD" >&2; exit 1; }
    fi
    # Harness code for the scalar rv64gc ISA: only the library's own RVV
    # files are compiled with V (as its CMake does).
    $CC -march=rv64gc -O2 -static -I"$build" -I"$src/src" "$here/enc_turbo.c" "$build/libjpeg.a" \
        -o "$work/enc_turbo_upstream"
    ;;
count | vcount)
    tag=$3
    shift 3
    fifo="$work/$tag.fifo"
    rm -f "$fifo"
    mkfifo "$fifo"
    # One translation block per instruction and no chaining: every executed
    # instruction writes exactly one "Trace" line to the log.
    if [ "$cmd" = vcount ]; then
        python3 "$here/m1eq.py" "$1" riscv64-linux-gnu-objdump <"$fifo" >"$work/$tag.both" &
    else
        grep -c '^Trace' <"$fifo" >"$work/$tag.count" &
    fi
    reader=$!
    status=0
    qemu-riscv64 -cpu rv64,v=true,vlen=128 -one-insn-per-tb -d exec,nochain -D "$fifo" "$@" \
        >"$work/$tag.out" || status=$?
    # If qemu died before opening the log, the reader still waits for a
    # writer: open and close one (read-write, so this never blocks itself).
    if [ "$status" -ne 0 ]; then
        exec 3<>"$fifo"
        exec 3>&-
    fi
    wait "$reader" || true
    [ "$status" -eq 0 ] || { echo "inner.sh: $tag: exit status $status" >&2; exit 1; }
    rm -f "$fifo"
    if [ "$cmd" = vcount ]; then
        read -r instr m1eq <"$work/$tag.both"
        echo "$instr" >"$work/$tag.count"
        echo "$m1eq" >"$work/$tag.m1eq"
    fi
    ;;
*)
    echo "usage: inner.sh build|upstream|count|vcount ..." >&2
    exit 2
    ;;
esac
