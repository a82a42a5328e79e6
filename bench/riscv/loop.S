# Calibrates the counter: exactly 2004 instructions from _start to exit
# (li, 1000 x (addi, bnez), li, li, ecall).
.globl _start
_start:
    li t0, 1000
1:  addi t0, t0, -1
    bnez t0, 1b
    li a0, 0
    li a7, 93
    ecall
