# riscv64 (the K230's ISA): cross toolchain, staticlib, MicroPython under qemu.
# Included by the top-level Makefile, whose test-riscv64 steps rebuild the x86
# interpreter (which the riscv64 one must agree with byte for byte) and the
# receiver (which the riscv64 "board" streams to) first, so the comparison is
# between builds of the same source.
#
#   make cross-toolchain   Debian trixie chroot with Rust, riscv64 gcc, qemu
#                          (cached machine-wide: $IMG_STREAM_CACHE, default
#                          /var/cache/img-stream; first time ~1-2 min, ~2 GB)
#   make cross-lib         target/riscv/<triple>/release/libimg_stream.a for
#                          riscv64gc-unknown-linux-{gnu,musl} and -none-elf
#   make cross-micropython build/micropython-rv64 (+ -qemu launcher)
#   (the checks themselves are make test-riscv64 and test-riscv64-host,
#   defined with the other test steps in the top-level Makefile)
#
# Each step is an idempotent script with its own up-to-date logic (cargo,
# the port's make), so the targets are phony and cheap to repeat.

.PHONY: cross-toolchain cross-lib cross-micropython cross-prune

cross-toolchain:
	bash scripts/riscv-chroot.sh ensure >/dev/null

cross-lib: cross-toolchain
	bash scripts/cross-build.sh

cross-micropython: cross-lib
	bash scripts/cross-micropython.sh

# Deletes chroots of other package sets and retired ones (each is ~2 GB).
cross-prune:
	bash scripts/riscv-chroot.sh prune
