# Calibrates the m1-equivalent counter (bench/riscv/m1eq.py): 1607 instructions
# (li, li, la = 2, 100 x 16, li, li, ecall) and 3107 m1-equivalents
# (the same outside the loop, 100 x 31 inside: the weights are on the right).
.globl _start
_start:
    li t0, 100
    li a1, 16
    la a2, buf
1:  vsetvli t1, a1, e8, m2, ta, ma     # 1
    vle8.v v2, (a2)                    # 2: EMUL 2
    vwaddu.vv v4, v2, v2               # 4: widening, 2 x LMUL
    vsetvli t1, a1, e16, m4, ta, ma    # 1
    vnsrl.wi v4, v8, 0                 # 8: narrowing, 2 x LMUL
    vle8.v v4, (a2)                    # 2: EMUL = 8 / 16 x 4
    vsetvli t1, a1, e8, m1, ta, ma     # 1
    vlseg3e8.v v8, (a2)                # 3: 3 fields x EMUL 1
    vmv2r.v v2, v4                     # 2: whole registers
    vsetvli t1, a1, e8, mf2, ta, ma    # 1
    vadd.vv v1, v2, v3                 # 1: fractional
    vwaddu.vv v2, v1, v1               # 1: 2 x 1/2
    vmand.mm v0, v1, v2                # 1: mask
    vmv.x.s t2, v1                     # 1: one element
    addi t0, t0, -1                    # 1
    bnez t0, 1b                        # 1
    li a0, 0
    li a7, 93
    ecall
.bss
buf: .zero 64
