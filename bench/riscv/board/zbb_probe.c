/* Whether this core runs Zbb (RISC-V bit manipulation), asked of the core
 * itself: one `ctz`, written as its encoding so any assembler takes it.
 * Prints "zbb: yes ..." and exits 0 where the instruction works; a core
 * without Zbb traps it as an illegal instruction and the program dies
 * before printing. (issue 16: `make canmv` enables +zbb only for a core
 * known to have it.) */
#include <stdio.h>

int main(void) {
    unsigned long x = 40, n;
    /* ctz n, x: OP-IMM (0x13), funct3 1, imm 0x601. */
    __asm__ volatile(".insn i 0x13, 1, %0, %1, 0x601" : "=r"(n) : "r"(x));
    printf("zbb: yes (ctz(40) = %lu)\n", n);
    return n == 3 ? 0 : 1;
}
