/* emulate.h: the few x86-64 instructions sonde moves a thread past without
 * running them.
 *
 * A breakpoint's int3 covers the first byte of an instruction. To let a
 * thread go on without stopping every other thread (which stepping the
 * original instruction with the int3 out would need, or another thread
 * could run past the spot unseen), sonde computes what the instruction
 * would have done. Only instructions whose whole effect is on registers
 * and flags qualify, and only the ones that start Go functions and leaves:
 *
 *   cmp r64, r/m64   (3b /r; Go's stack check: cmp rsp, [r14+0x10])
 *   lea r, m         (8d /r, any addressing, RIP-relative too)
 *   mov r, r         (89 /r, 8b /r between registers)
 *   mov r, imm       (b8+r imm32/imm64; c7 /0 imm32 to a register)
 *   xor r, r         (31 /r, 33 /r, the same register: the zeroing idiom)
 *
 * Anything else, including any prefix other than REX, is declined: the
 * caller steps it instead. Pure: memory is read through a callback. */
#ifndef SONDE_TARGET_EMULATE_H
#define SONDE_TARGET_EMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

typedef enum { TGT_INSN_CMP_MEM, TGT_INSN_CMP_REG, TGT_INSN_LEA, TGT_INSN_MOV_REG, TGT_INSN_MOV_IMM,
               TGT_INSN_XOR_SELF } tgt_insn_kind;

typedef struct {
  tgt_insn_kind kind;
  uint8_t len;   /* bytes, prefix included */
  uint8_t reg;   /* the register operand: destination, or cmp's left side */
  uint8_t rm;    /* a register operand's number (mod 11) */
  bool wide;     /* REX.W: 64-bit operands */
  /* a memory operand: base + index * scale + disp (or rip-relative) */
  bool has_base, has_index, rip_rel;
  uint8_t base, index, scale;
  int32_t disp;
  uint64_t imm;
} tgt_insn;

/* Decodes the instruction at code[0..n); false when it is not one of the
 * above (or n is too short for it). */
bool tgt_insn_decode(const uint8_t *code, size_t n, tgt_insn *out);

typedef bool (*tgt_read64_fn)(void *ctx, uint64_t addr, uint64_t *out);

/* Applies i, at address pc, to r: registers, flags, and rip past it.
 * False (r untouched) when a memory read fails. */
bool tgt_insn_apply(const tgt_insn *i, uint64_t pc, struct user_regs_struct *r, tgt_read64_fn read, void *ctx);

/* The flags of `cmp a, b` (a - b), 64-bit: CF PF AF ZF SF OF, the others kept. */
uint64_t tgt_cmp_flags(uint64_t flags, uint64_t a, uint64_t b);

#endif
