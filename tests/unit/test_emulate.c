/* test_emulate.c: host/target/emulate: the instructions sonde moves a
 * thread past without running them. Decoding is checked on the encodings
 * Go emits (bytes cut from go tool objdump of real binaries); cmp's flags
 * are checked against the CPU's own, computed here with inline asm. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "target/emulate.h"

typedef struct {
  uint64_t addr, value;
} word;

static bool read_fixed(void *ctx, uint64_t addr, uint64_t *out) {
  const word *w = ctx;
  if (addr != w->addr) return false;
  *out = w->value;
  return true;
}

static tgt_insn decode(const uint8_t *c, size_t n) {
  tgt_insn i;
  if (!tgt_insn_decode(c, n, &i)) fail_msg("declined an instruction it should emulate (first byte %02x)", c[0]);
  return i;
}

static struct user_regs_struct regs(void) {
  struct user_regs_struct r;
  memset(&r, 0, sizeof r);
  r.rax = 0x1111;
  r.rcx = 0x2222;
  r.rdx = 0x3333;
  r.rbx = 0x4444;
  r.rsp = 0xc000123f00;
  r.r14 = 0xc000001a40;
  r.r12 = 0x5555;
  r.eflags = 0x202;
  return r;
}

static void test_go_stack_check_compares_rsp_with_stackguard0(void **state) {
  (void)state;
  static const uint8_t c[] = {0x49, 0x3b, 0x66, 0x10}; /* cmp rsp, [r14+0x10] */
  tgt_insn i = decode(c, sizeof c);
  assert_int_equal(i.len, 4);
  assert_int_equal(i.kind, TGT_INSN_CMP_MEM);
  struct user_regs_struct r = regs();
  word guard = {r.r14 + 0x10, r.rsp - 0x1000}; /* plenty of stack: rsp above the guard */
  assert_true(tgt_insn_apply(&i, 0x4a71e0, &r, read_fixed, &guard));
  assert_int_equal(r.rip, 0x4a71e4);
  assert_int_equal(r.eflags & 0x41, 0); /* CF=0 ZF=0: jbe morestack not taken */
  r = regs();
  guard.value = r.rsp + 8; /* below the guard: must grow */
  assert_true(tgt_insn_apply(&i, 0x4a71e0, &r, read_fixed, &guard));
  assert_int_equal(r.eflags & 0x1, 0x1);
  r = regs();
  guard.addr = 0; /* the read fails: nothing changes */
  assert_false(tgt_insn_apply(&i, 0x4a71e0, &r, read_fixed, &guard));
  assert_int_equal(r.rip, 0);
}

static void test_lea_every_addressing_form(void **state) {
  (void)state;
  struct user_regs_struct r;
  /* lea r12, [rsp-0x28] (big frames) */
  static const uint8_t a[] = {0x4c, 0x8d, 0x64, 0x24, 0xd8};
  tgt_insn i = decode(a, sizeof a);
  r = regs();
  assert_int_equal(i.len, 5);
  assert_true(tgt_insn_apply(&i, 0x1000, &r, NULL, NULL));
  assert_int_equal(r.r12, 0xc000123f00 - 0x28);
  assert_int_equal(r.rip, 0x1005);
  /* lea r12, [rsp-0x1000] */
  static const uint8_t b[] = {0x4c, 0x8d, 0xa4, 0x24, 0x00, 0xf0, 0xff, 0xff};
  i = decode(b, sizeof b);
  r = regs();
  assert_int_equal(i.len, 8);
  assert_true(tgt_insn_apply(&i, 0x1000, &r, NULL, NULL));
  assert_int_equal(r.r12, 0xc000123f00 - 0x1000);
  /* lea rax, [rax+rax*2] (a frameless leaf) */
  static const uint8_t c[] = {0x48, 0x8d, 0x04, 0x40};
  i = decode(c, sizeof c);
  r = regs();
  assert_int_equal(i.len, 4);
  assert_true(tgt_insn_apply(&i, 0x1000, &r, NULL, NULL));
  assert_int_equal(r.rax, 0x1111 * 3);
  /* lea rax, [rip+0x10] */
  static const uint8_t d[] = {0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00};
  i = decode(d, sizeof d);
  r = regs();
  assert_true(tgt_insn_apply(&i, 0x1000, &r, NULL, NULL));
  assert_int_equal(r.rax, 0x1000 + 7 + 0x10);
  /* lea edx, [rcx+rbx*8+0x7fffffff]: 32-bit, zero-extended */
  static const uint8_t e[] = {0x8d, 0x94, 0xd9, 0xff, 0xff, 0xff, 0x7f};
  i = decode(e, sizeof e);
  r = regs();
  assert_int_equal(i.len, 7);
  assert_true(tgt_insn_apply(&i, 0x1000, &r, NULL, NULL));
  assert_int_equal(r.rdx, (0x2222 + 0x4444 * 8 + 0x7fffffffull) & 0xffffffffu);
  /* lea rax, [r12+r13*1]: r12 as a base needs a SIB, r13 is an index */
  static const uint8_t f[] = {0x4b, 0x8d, 0x04, 0x2c};
  i = decode(f, sizeof f);
  r = regs();
  r.r13 = 7;
  assert_true(tgt_insn_apply(&i, 0x1000, &r, NULL, NULL));
  assert_int_equal(r.rax, 0x5555 + 7);
}

static void test_register_moves_and_immediates(void **state) {
  (void)state;
  struct user_regs_struct r;
  static const uint8_t movq[] = {0x48, 0x89, 0xc1}; /* mov rcx, rax */
  tgt_insn i = decode(movq, sizeof movq);
  r = regs();
  r.rax = 0xffffffff00000001ull;
  assert_true(tgt_insn_apply(&i, 0, &r, NULL, NULL));
  assert_int_equal(r.rcx, 0xffffffff00000001ull);
  assert_int_equal(r.rip, 3);
  static const uint8_t movl[] = {0x8b, 0xc8}; /* mov ecx, eax: zero-extends */
  i = decode(movl, sizeof movl);
  r = regs();
  r.rax = 0xffffffff00000001ull;
  assert_true(tgt_insn_apply(&i, 0, &r, NULL, NULL));
  assert_int_equal(r.rcx, 1);
  static const uint8_t movr15[] = {0x4d, 0x89, 0xfe}; /* mov r14, r15 */
  i = decode(movr15, sizeof movr15);
  r = regs();
  r.r15 = 42;
  assert_true(tgt_insn_apply(&i, 0, &r, NULL, NULL));
  assert_int_equal(r.r14, 42);
  static const uint8_t imm32[] = {0xb9, 0x01, 0x00, 0x00, 0x00}; /* mov ecx, 1 */
  i = decode(imm32, sizeof imm32);
  r = regs();
  assert_true(tgt_insn_apply(&i, 0, &r, NULL, NULL));
  assert_int_equal(r.rcx, 1);
  assert_int_equal(r.rip, 5);
  static const uint8_t imm64[] = {0x49, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8}; /* movabs r11, imm64 */
  i = decode(imm64, sizeof imm64);
  r = regs();
  assert_true(tgt_insn_apply(&i, 0, &r, NULL, NULL));
  assert_int_equal(r.r11, 0x0807060504030201ull);
  assert_int_equal(r.rip, 10);
  static const uint8_t c7[] = {0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff}; /* mov rax, -1 */
  i = decode(c7, sizeof c7);
  r = regs();
  assert_true(tgt_insn_apply(&i, 0, &r, NULL, NULL));
  assert_int_equal(r.rax, UINT64_MAX);
  static const uint8_t xorl[] = {0x31, 0xd2}; /* xor edx, edx */
  i = decode(xorl, sizeof xorl);
  r = regs();
  r.eflags = 0x202 | 0x1 | 0x80 | 0x800;
  assert_true(tgt_insn_apply(&i, 0, &r, NULL, NULL));
  assert_int_equal(r.rdx, 0);
  assert_int_equal(r.eflags & 0x8c5, 0x44); /* ZF PF set; CF SF OF clear */
}

static void test_declines_what_it_cannot_emulate(void **state) {
  (void)state;
  static const struct {
    uint8_t b[8];
    size_t n;
    const char *what;
  } no[] = {
      {{0x55}, 1, "push rbp (writes memory)"},
      {{0x48, 0x83, 0xec, 0x18}, 4, "sub rsp, 0x18"},
      {{0x66, 0x89, 0xc1}, 3, "mov cx, ax (operand-size prefix)"},
      {{0x0f, 0x1f, 0x00}, 3, "nop (two-byte opcode)"},
      {{0x48, 0x89, 0x44, 0x24, 0x08}, 5, "mov [rsp+8], rax (a store)"},
      {{0x48, 0x8d, 0xc0}, 3, "lea with a register operand (invalid)"},
      {{0x31, 0xc1}, 2, "xor ecx, eax (not the zeroing idiom)"},
      {{0x49, 0x3b, 0x66}, 3, "a cut-off cmp"},
      {{0x48, 0xb8, 1, 2, 3}, 5, "a cut-off movabs"},
      {{0xcc}, 1, "int3"},
  };
  for (size_t k = 0; k < sizeof no / sizeof no[0]; k++) {
    tgt_insn i;
    if (tgt_insn_decode(no[k].b, no[k].n, &i)) fail_msg("emulates %s", no[k].what);
  }
}

/* The CPU's own flags for cmp a, b. */
static uint64_t native_cmp(uint64_t a, uint64_t b) {
  uint64_t f;
  __asm__ volatile("cmp %2, %1\n\tpushfq\n\tpopq %0" : "=r"(f) : "r"(a), "r"(b) : "cc");
  return f;
}

static void test_cmp_flags_match_the_cpu(void **state) {
  (void)state;
  static const uint64_t edge[] = {0, 1, 2, 0xf, 0x10, 0x7f, 0x80, 0xff, 0x7fffffffffffffffull, 0x8000000000000000ull,
                                  0xffffffffffffffffull, 0xc000123f00, 0xc000123f08};
  uint64_t x = 0x9e3779b97f4a7c15ull;
  const uint64_t mask = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x800;
  for (size_t k = 0; k < 20000; k++) {
    uint64_t a, b;
    if (k < 13 * 13) {
      a = edge[k / 13];
      b = edge[k % 13];
    } else {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      a = x;
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = (k & 1) ? x : a + (x & 0xff) - 0x80; /* near values too */
    }
    uint64_t want = native_cmp(a, b) & mask, got = tgt_cmp_flags(0x202, a, b) & mask;
    if (want != got) fail_msg("cmp 0x%llx, 0x%llx: flags 0x%llx, the CPU says 0x%llx", (unsigned long long)a,
                              (unsigned long long)b, (unsigned long long)got, (unsigned long long)want);
  }
  assert_int_equal(tgt_cmp_flags(0x202, 1, 2) & 0x202, 0x202); /* other flags kept */
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_go_stack_check_compares_rsp_with_stackguard0),
    cmocka_unit_test(test_lea_every_addressing_form),
    cmocka_unit_test(test_register_moves_and_immediates),
    cmocka_unit_test(test_declines_what_it_cannot_emulate),
    cmocka_unit_test(test_cmp_flags_match_the_cpu),
};

UNIT_MAIN(tests)
