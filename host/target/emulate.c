/* emulate.c: decoding and applying the instructions of emulate.h.
 * Encodings from the Intel SDM vol. 2 (ModRM/SIB, 64-bit addressing). */
#include "target/emulate.h"

#include <string.h>

#include "base/text.h"

static int32_t le32s(const uint8_t *p) { return (int32_t)sonde_le32(p); }

/* ModRM at p[0] (with REX bits): a register (mod 11) or a memory operand.
 * Returns the bytes ModRM, SIB and displacement take, 0 when short. */
static size_t modrm(const uint8_t *p, size_t n, uint8_t rex, tgt_insn *i, bool *is_reg) {
  if (n < 1) return 0;
  uint8_t mod = p[0] >> 6, reg = (p[0] >> 3) & 7, rm = p[0] & 7;
  i->reg = (uint8_t)(reg | (rex & 4 ? 8 : 0));
  *is_reg = mod == 3;
  if (mod == 3) {
    i->rm = (uint8_t)(rm | (rex & 1 ? 8 : 0));
    return 1;
  }
  size_t used = 1;
  if (rm == 4) { /* SIB */
    if (n < 2) return 0;
    uint8_t sib = p[1], base = sib & 7, index = (uint8_t)(((sib >> 3) & 7) | (rex & 2 ? 8 : 0));
    used = 2;
    i->scale = (uint8_t)(1u << (sib >> 6));
    i->has_index = index != 4; /* rsp cannot be an index; r12 can */
    i->index = index;
    if (base == 5 && mod == 0) { /* no base, disp32 */
      i->has_base = false;
      if (n < used + 4) return 0;
      i->disp = le32s(p + used);
      return used + 4;
    }
    i->has_base = true;
    i->base = (uint8_t)(base | (rex & 1 ? 8 : 0));
  } else if (rm == 5 && mod == 0) { /* rip + disp32 */
    if (n < 5) return 0;
    i->rip_rel = true;
    i->disp = le32s(p + 1);
    return 5;
  } else {
    i->has_base = true;
    i->base = (uint8_t)(rm | (rex & 1 ? 8 : 0));
  }
  if (mod == 1) {
    if (n < used + 1) return 0;
    i->disp = (int8_t)p[used];
    return used + 1;
  }
  if (mod == 2) {
    if (n < used + 4) return 0;
    i->disp = le32s(p + used);
    return used + 4;
  }
  return used;
}

bool tgt_insn_decode(const uint8_t *c, size_t n, tgt_insn *i) {
  memset(i, 0, sizeof *i);
  if (n < 1) return false;
  uint8_t rex = (c[0] & 0xf0) == 0x40 ? c[0] : 0;
  size_t at = rex ? 1 : 0;
  if (n <= at) return false;
  uint8_t op = c[at++];
  i->wide = (rex & 8) != 0;
  bool is_reg;
  size_t m;
  if (op >= 0xb8 && op <= 0xbf) { /* mov r, imm32 / imm64 */
    i->kind = TGT_INSN_MOV_IMM;
    i->reg = (uint8_t)((op - 0xb8) | (rex & 1 ? 8 : 0));
    size_t w = i->wide ? 8 : 4;
    if (n < at + w) return false;
    i->imm = 0;
    for (size_t k = 0; k < w; k++) i->imm |= (uint64_t)c[at + k] << (8 * k);
    i->len = (uint8_t)(at + w);
    return true;
  }
  switch (op) {
    case 0x3b: /* cmp r, r/m */
      if (!i->wide || !(m = modrm(c + at, n - at, rex, i, &is_reg))) return false;
      i->kind = is_reg ? TGT_INSN_CMP_REG : TGT_INSN_CMP_MEM;
      break;
    case 0x8d: /* lea r, m */
      if (!(m = modrm(c + at, n - at, rex, i, &is_reg)) || is_reg) return false;
      i->kind = TGT_INSN_LEA;
      break;
    case 0x89: /* mov r/m, r */
    case 0x8b: /* mov r, r/m */
      if (!(m = modrm(c + at, n - at, rex, i, &is_reg)) || !is_reg) return false;
      i->kind = TGT_INSN_MOV_REG;
      if (op == 0x89) { /* destination is rm */
        uint8_t t = i->reg;
        i->reg = i->rm;
        i->rm = t;
      }
      break;
    case 0xc7: /* mov r/m, imm32 (sign-extended with REX.W) */
      if (!(m = modrm(c + at, n - at, rex, i, &is_reg)) || !is_reg || (c[at] >> 3 & 7) != 0) return false;
      if (n < at + m + 4) return false;
      i->kind = TGT_INSN_MOV_IMM;
      i->reg = i->rm;
      i->imm = i->wide ? (uint64_t)(int64_t)le32s(c + at + m) : (uint32_t)le32s(c + at + m);
      i->len = (uint8_t)(at + m + 4);
      return true;
    case 0x31: /* xor r/m, r */
    case 0x33: /* xor r, r/m */
      if (!(m = modrm(c + at, n - at, rex, i, &is_reg)) || !is_reg || i->reg != i->rm) return false;
      i->kind = TGT_INSN_XOR_SELF;
      break;
    default: return false;
  }
  i->len = (uint8_t)(at + m);
  return true;
}

static unsigned long long *gpr(struct user_regs_struct *r, int n) {
  switch (n) {
    case 0: return &r->rax;
    case 1: return &r->rcx;
    case 2: return &r->rdx;
    case 3: return &r->rbx;
    case 4: return &r->rsp;
    case 5: return &r->rbp;
    case 6: return &r->rsi;
    case 7: return &r->rdi;
    case 8: return &r->r8;
    case 9: return &r->r9;
    case 10: return &r->r10;
    case 11: return &r->r11;
    case 12: return &r->r12;
    case 13: return &r->r13;
    case 14: return &r->r14;
    default: return &r->r15;
  }
}

uint64_t tgt_cmp_flags(uint64_t flags, uint64_t a, uint64_t b) {
  uint64_t r = a - b;
  flags &= ~(uint64_t)(0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x800);
  if (a < b) flags |= 0x1;                                   /* CF */
  if (!__builtin_parity((unsigned)(r & 0xff))) flags |= 0x4; /* PF: an even number of ones */
  if ((a ^ b ^ r) & 0x10) flags |= 0x10;                     /* AF */
  if (r == 0) flags |= 0x40;                                 /* ZF */
  if (r >> 63) flags |= 0x80;                                /* SF */
  if (((a ^ b) & (a ^ r)) >> 63) flags |= 0x800;             /* OF */
  return flags;
}

bool tgt_insn_apply(const tgt_insn *i, uint64_t pc, struct user_regs_struct *r, tgt_read64_fn read, void *ctx) {
  uint64_t next = pc + i->len, ea = 0;
  if (i->kind == TGT_INSN_CMP_MEM || i->kind == TGT_INSN_LEA) {
    if (i->rip_rel) ea = next;
    if (i->has_base) ea += *gpr(r, i->base);
    if (i->has_index) ea += *gpr(r, i->index) * i->scale;
    ea += (uint64_t)(int64_t)i->disp;
  }
  switch (i->kind) {
    case TGT_INSN_CMP_MEM: {
      uint64_t m;
      if (!read || !read(ctx, ea, &m)) return false;
      r->eflags = tgt_cmp_flags(r->eflags, *gpr(r, i->reg), m);
      break;
    }
    case TGT_INSN_CMP_REG: r->eflags = tgt_cmp_flags(r->eflags, *gpr(r, i->reg), *gpr(r, i->rm)); break;
    case TGT_INSN_LEA: *gpr(r, i->reg) = i->wide ? ea : (ea & 0xffffffffu); break;
    case TGT_INSN_MOV_REG: {
      uint64_t v = *gpr(r, i->rm);
      *gpr(r, i->reg) = i->wide ? v : (v & 0xffffffffu); /* a 32-bit write zero-extends */
      break;
    }
    case TGT_INSN_MOV_IMM: *gpr(r, i->reg) = i->imm; break;
    case TGT_INSN_XOR_SELF:
      *gpr(r, i->reg) = 0;
      /* OF, CF, SF cleared; ZF, PF set; AF undefined (kept) */
      r->eflags = (r->eflags & ~(uint64_t)(0x1 | 0x80 | 0x800)) | 0x40 | 0x4;
      break;
  }
  r->rip = next;
  return true;
}
