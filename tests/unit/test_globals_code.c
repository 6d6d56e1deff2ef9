/* test_globals_code.c: gr_decode_rip_operands, how sonde finds
 * runtime.allglen and runtime.allgptr in a binary without a symbol table.
 *
 * Real code: runtime.forEachGRace cut from data/prog built by Go 1.19, 1.21
 * and 1.27, with and without -ldflags='-s -w' (data/code/go1.NN/, written by
 * data/make_code_data.sh), checked against `go tool nm` of the same build.
 * Hand-made code: one instruction form per test, each with the address the
 * CPU would compute, then garbage and random streams, which must give an
 * error or a count, never a crash or a write past `want`. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "goruntime/globals.h"

enum { MAXOPS = 8 };
static const uint64_t SENTINEL = 0x5e5e5e5e5e5e5e5eULL;

/* Decodes a malloc'd copy of exactly n bytes (so that ASan sees any read
 * past them) into out[0..want), after filling out[] with SENTINEL. */
static int decode(const uint8_t *code, size_t n, uint64_t addr, uint64_t out[MAXOPS], int want) {
  assert_true(want >= 0 && want <= MAXOPS);
  unit_blob b = unit_copy(code, n);
  for (int i = 0; i < MAXOPS; i++) out[i] = SENTINEL;
  se_clear();
  int rc = gr_decode_rip_operands(b.bytes, b.len, addr, out, want);
  unit_blob_free(&b);
  return rc;
}

/* Nothing written at or after out[from]. */
static void assert_untouched_from(const uint64_t out[MAXOPS], int from) {
  for (int i = from < 0 ? 0 : from; i < MAXOPS; i++)
    if (out[i] != SENTINEL) fail_msg("out[%d] was written (0x%llx)", i, (unsigned long long)out[i]);
}

static void put_le32(uint8_t *p, int32_t v) {
  uint32_t u = (uint32_t)v;
  p[0] = (uint8_t)u;
  p[1] = (uint8_t)(u >> 8);
  p[2] = (uint8_t)(u >> 16);
  p[3] = (uint8_t)(u >> 24);
}

/* ---- real code: runtime.forEachGRace --------------------------------------- */

typedef struct {
  unit_facts facts;
  unit_blob code;     /* foreachgrace.bin: the unstripped build */
  unit_blob stripped; /* foreachgrace-stripped.bin */
  uint64_t entry, allglen, allgptr;
  uint64_t s_entry, s_allglen, s_allgptr;
} fegr;

static void fegr_open(fegr *f, const char *ver) {
  char rel[128];
  memset(f, 0, sizeof *f);
  snprintf(rel, sizeof rel, "code/go%s/facts.txt", ver);
  f->facts = unit_facts_load(rel);
  snprintf(rel, sizeof rel, "code/go%s/foreachgrace.bin", ver);
  f->code = unit_read(rel);
  snprintf(rel, sizeof rel, "code/go%s/foreachgrace-stripped.bin", ver);
  f->stripped = unit_read(rel);
  f->entry = unit_fact_u64(&f->facts, "foreachgrace");
  f->allglen = unit_fact_u64(&f->facts, "allglen");
  f->allgptr = unit_fact_u64(&f->facts, "allgptr");
  f->s_entry = unit_fact_u64(&f->facts, "stripped_foreachgrace");
  f->s_allglen = unit_fact_u64(&f->facts, "stripped_allglen");
  f->s_allgptr = unit_fact_u64(&f->facts, "stripped_allgptr");
}

static void fegr_close(fegr *f) {
  unit_facts_free(&f->facts);
  unit_blob_free(&f->code);
  unit_blob_free(&f->stripped);
}

static void expect_allg_pair(const unit_blob *code, uint64_t entry, uint64_t allglen, uint64_t allgptr) {
  uint64_t out[MAXOPS];
  int rc = decode(code->bytes, code->len, entry, out, 2);
  if (rc != 2) fail_msg("decoded %d operands (%s), expected 2", rc, rc < 0 ? se_msg() : "");
  if (out[0] != allglen || out[1] != allgptr)
    fail_msg("operands 0x%llx 0x%llx, `go tool nm` says allglen 0x%llx allgptr 0x%llx", (unsigned long long)out[0],
             (unsigned long long)out[1], (unsigned long long)allglen, (unsigned long long)allgptr);
  assert_untouched_from(out, 2);
}

static void check_foreachgrace_operands_are_allglen_then_allgptr(const char *ver) {
  fegr f;
  fegr_open(&f, ver);
  expect_allg_pair(&f.code, f.entry, f.allglen, f.allgptr);
  fegr_close(&f);
}

/* The stripped build's data sections sit elsewhere (.go.buildinfo records
 * the longer build flags), so its displacements differ from the unstripped
 * build's: the decoder must find the stripped build's own addresses. */
static void check_stripped_foreachgrace_operands_are_its_own_allglen_then_allgptr(const char *ver) {
  fegr f;
  fegr_open(&f, ver);
  assert_true(f.s_allglen != f.allglen); /* else this test would repeat the one above */
  expect_allg_pair(&f.stripped, f.s_entry, f.s_allglen, f.s_allgptr);
  fegr_close(&f);
}

/* The whole function decodes (its tail, the morestack call and the padding
 * up to the next function included) and loads no third runtime variable. */
static void check_foreachgrace_has_exactly_two_rip_operands(const char *ver) {
  fegr f;
  fegr_open(&f, ver);
  const unit_blob *b[] = {&f.code, &f.stripped};
  const uint64_t entry[] = {f.entry, f.s_entry};
  for (int k = 0; k < 2; k++) {
    uint64_t out[MAXOPS];
    int rc = decode(b[k]->bytes, b[k]->len, entry[k], out, MAXOPS);
    if (rc != 2) fail_msg("%s build: %d operands (%s), expected 2", k ? "stripped" : "unstripped", rc,
                          rc < 0 ? se_msg() : "");
    assert_untouched_from(out, 2);
  }
  fegr_close(&f);
}

/* want = 1: the first operand only, and nothing written after it. */
static void check_foreachgrace_want_one_gives_allglen_only(const char *ver) {
  fegr f;
  fegr_open(&f, ver);
  uint64_t out[MAXOPS];
  assert_int_equal(decode(f.code.bytes, f.code.len, f.entry, out, 1), 1);
  assert_int_equal(out[0], f.allglen);
  assert_untouched_from(out, 1);
  assert_int_equal(decode(f.code.bytes, f.code.len, f.entry, out, 0), 0);
  assert_untouched_from(out, 0);
  fegr_close(&f);
}

/* RIP-relative means position-dependent: the same bytes run at another
 * address (a PIE load bias) load variables moved by the same amount. */
static void check_foreachgrace_operands_move_with_the_load_address(const char *ver) {
  fegr f;
  fegr_open(&f, ver);
  const uint64_t bias[] = {0x1000, 0x555555554000ULL - 0x400000, 0x7f0000000000ULL};
  for (size_t i = 0; i < sizeof bias / sizeof bias[0]; i++)
    expect_allg_pair(&f.code, f.entry + bias[i], f.allglen + bias[i], f.allgptr + bias[i]);
  fegr_close(&f);
}

/* Every prefix of the function: an error or a count, and the operands found
 * are the right ones; from some length on both are found. */
static void check_foreachgrace_cut_at_every_length(const char *ver) {
  fegr f;
  fegr_open(&f, ver);
  int first_full = -1, errors = 0;
  for (size_t n = 0; n <= f.code.len; n++) {
    uint64_t out[MAXOPS];
    int rc = decode(f.code.bytes, n, f.entry, out, 2);
    if (rc < 0) {
      assert_se_error(rc, SE_NOTGO);
      errors++;
      assert_untouched_from(out, 2);
      if (first_full >= 0) fail_msg("cut at %zu bytes: error after %d bytes had decoded both", n, first_full);
      continue;
    }
    assert_true(rc <= 2);
    if (rc >= 1) assert_int_equal(out[0], f.allglen);
    if (rc == 2) assert_int_equal(out[1], f.allgptr);
    assert_untouched_from(out, rc);
    if (rc == 2 && first_full < 0) first_full = (int)n;
    if (rc < 2 && first_full >= 0) fail_msg("cut at %zu bytes: %d operands, %d bytes gave 2", n, rc, first_full);
  }
  assert_true(first_full > 0 && (size_t)first_full < f.code.len);
  assert_true(errors > 0); /* some cuts land inside an instruction */
  /* the second operand's instruction ends with its 4-byte displacement, the
   * one that resolves to allgptr */
  int32_t disp;
  memcpy(&disp, f.code.bytes + first_full - 4, 4);
  assert_int_equal(f.entry + (uint64_t)first_full + (uint64_t)(int64_t)disp, f.allgptr);
  fegr_close(&f);
}

#define FEGR_VERSIONS(X) X(119, "1.19") X(121, "1.21") X(127, "1.27")
#define FEGR_TESTS(tag, ver)                                                                       \
  static void test_foreachgrace_operands_are_allglen_then_allgptr_go##tag(void **s) {              \
    (void)s;                                                                                       \
    check_foreachgrace_operands_are_allglen_then_allgptr(ver);                                     \
  }                                                                                                \
  static void test_stripped_foreachgrace_operands_are_its_own_allglen_then_allgptr_go##tag(void **s) { \
    (void)s;                                                                                       \
    check_stripped_foreachgrace_operands_are_its_own_allglen_then_allgptr(ver);                    \
  }                                                                                                \
  static void test_foreachgrace_has_exactly_two_rip_operands_go##tag(void **s) {                   \
    (void)s;                                                                                       \
    check_foreachgrace_has_exactly_two_rip_operands(ver);                                          \
  }                                                                                                \
  static void test_foreachgrace_want_one_gives_allglen_only_go##tag(void **s) {                    \
    (void)s;                                                                                       \
    check_foreachgrace_want_one_gives_allglen_only(ver);                                           \
  }                                                                                                \
  static void test_foreachgrace_operands_move_with_the_load_address_go##tag(void **s) {            \
    (void)s;                                                                                       \
    check_foreachgrace_operands_move_with_the_load_address(ver);                                   \
  }                                                                                                \
  static void test_foreachgrace_cut_at_every_length_gives_an_error_or_the_right_prefix_go##tag(void **s) { \
    (void)s;                                                                                       \
    check_foreachgrace_cut_at_every_length(ver);                                                   \
  }
FEGR_VERSIONS(FEGR_TESTS)

/* ---- hand-made instructions ------------------------------------------------ */

enum { AT = 0x401000 };

/* One instruction with a RIP-relative operand: its target is the address
 * of the next instruction plus the displacement. */
typedef struct {
  const char *what;
  uint8_t pre[4]; /* opcode and ModRM, before the displacement */
  size_t npre;
  uint8_t imm[4]; /* after the displacement */
  size_t nimm;
} rip_form;

static void expect_rip_forms(const rip_form *k, size_t nk) {
  const int32_t disps[] = {0, 1, 0x12345, -16, INT32_MAX, INT32_MIN};
  for (size_t f = 0; f < nk; f++)
    for (size_t i = 0; i < sizeof disps / sizeof disps[0]; i++) {
      uint8_t buf[16];
      memcpy(buf, k[f].pre, k[f].npre);
      put_le32(buf + k[f].npre, disps[i]);
      memcpy(buf + k[f].npre + 4, k[f].imm, k[f].nimm);
      size_t n = k[f].npre + 4 + k[f].nimm;
      uint64_t out[MAXOPS];
      int rc = decode(buf, n, AT, out, 2);
      if (rc != 1) fail_msg("%s, disp %d: %d operands (%s), expected 1", k[f].what, (int)disps[i], rc,
                            rc < 0 ? se_msg() : "");
      uint64_t want = (uint64_t)AT + n + (uint64_t)(int64_t)disps[i];
      if (out[0] != want)
        fail_msg("%s, disp %d: 0x%llx, expected 0x%llx", k[f].what, (int)disps[i], (unsigned long long)out[0],
                 (unsigned long long)want);
      assert_untouched_from(out, 1);
    }
}
#define EXPECT_RIP_FORMS(k) expect_rip_forms((k), sizeof(k) / sizeof((k)[0]))

static void test_movq_rip_to_register_is_the_next_instruction_plus_displacement(void **state) {
  (void)state;
  static const rip_form k[] = {
      {"MOVQ x(SB), CX (forEachGRace's first load)", {0x48, 0x8b, 0x0d}, 3, {0}, 0},
      {"MOVQ x(SB), BX (its second)", {0x48, 0x8b, 0x1d}, 3, {0}, 0},
      {"MOVQ x(SB), R8 (REX.R)", {0x4c, 0x8b, 0x05}, 3, {0}, 0},
      {"MOVL x(SB), AX (no REX)", {0x8b, 0x05}, 2, {0}, 0},
  };
  EXPECT_RIP_FORMS(k);
}

static void test_leaq_rip_gives_the_address_it_computes(void **state) {
  (void)state;
  static const rip_form k[] = {
      {"LEAQ x(SB), AX", {0x48, 0x8d, 0x05}, 3, {0}, 0},
      {"LEAQ x(SB), R15", {0x4c, 0x8d, 0x3d}, 3, {0}, 0},
  };
  EXPECT_RIP_FORMS(k);
}

/* The displacement counts from the end of the whole instruction, immediate
 * included: a decoder that stops at the displacement is off by its size. */
static void test_rip_operand_with_immediate_counts_from_the_instruction_end(void **state) {
  (void)state;
  static const rip_form k[] = {
      {"CMPL $0, runtime.writeBarrier(SB)", {0x83, 0x3d}, 2, {0x00}, 1},
      {"CMPB $0, x(SB)", {0x80, 0x3d}, 2, {0x00}, 1},
      {"MOVQ $0x04030201, x(SB)", {0x48, 0xc7, 0x05}, 3, {1, 2, 3, 4}, 4},
      {"MOVW $0x0201, x(SB)", {0x66, 0xc7, 0x05}, 3, {1, 2}, 2},
  };
  EXPECT_RIP_FORMS(k);
}

/* The runtime's memmove and friends load constants with SSE and AVX. */
static void test_vector_loads_from_rip_are_counted(void **state) {
  (void)state;
  static const rip_form k[] = {
      {"MOVUPS x(SB), X0", {0x0f, 0x10, 0x05}, 3, {0}, 0},
      {"MOVDQU x(SB), X1 (F3 prefix)", {0xf3, 0x0f, 0x6f, 0x0d}, 4, {0}, 0},
      {"VMOVDQU x(SB), X0 (VEX)", {0xc5, 0xfa, 0x6f, 0x05}, 4, {0}, 0},
      {"PSHUFD $0x1b, x(SB), X0", {0x66, 0x0f, 0x70, 0x05}, 4, {0x1b}, 1},
  };
  EXPECT_RIP_FORMS(k);
}

/* An indirect call or jump through a RIP-relative slot loads the slot. */
static void test_call_through_rip_slot_counts_the_slot(void **state) {
  (void)state;
  static const rip_form k[] = {
      {"CALL *x(SB)", {0xff, 0x15}, 2, {0}, 0},
      {"JMP *x(SB)", {0xff, 0x25}, 2, {0}, 0},
  };
  EXPECT_RIP_FORMS(k);
}

static void test_non_rip_operands_are_not_counted(void **state) {
  (void)state;
  static const struct {
    const char *what;
    uint8_t b[12];
    size_t n;
  } k[] = {
      {"MOVQ 8(SP), CX", {0x48, 0x8b, 0x4c, 0x24, 0x08}, 5},
      {"MOVQ (AX), CX", {0x48, 0x8b, 0x08}, 3},
      {"MOVQ 0(BX)(DX*8), SI", {0x48, 0x8b, 0x34, 0xd3}, 4},
      /* ModRM mod=00 rm=100 with SIB base=101: an absolute [disp32], the
       * encoding that is RIP-relative without the SIB byte */
      {"MOVQ 0x1234, CX (absolute)", {0x48, 0x8b, 0x0c, 0x25, 0x34, 0x12, 0x00, 0x00}, 8},
      {"CALL rel32", {0xe8, 0x10, 0x00, 0x00, 0x00}, 5},
      {"JMP rel8", {0xeb, 0x30}, 2},
      {"MOVQ $imm32, AX", {0x48, 0xc7, 0xc0, 0x01, 0x02, 0x03, 0x04}, 7},
      {"CMPQ SP, 0x10(R14)", {0x49, 0x3b, 0x66, 0x10}, 4},
      {"PUSHQ BP", {0x55}, 1},
      {"NOP", {0x90}, 1},
      {"UD2", {0x0f, 0x0b}, 2},
      {"INT3", {0xcc}, 1},
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    uint64_t out[MAXOPS];
    int rc = decode(k[i].b, k[i].n, AT, out, 2);
    if (rc != 0) fail_msg("%s: returned %d (%s), expected 0", k[i].what, rc, rc < 0 ? se_msg() : "");
    assert_untouched_from(out, 0);
  }
}

/* forEachGRace's shape in miniature: frame set-up, the two loads with a
 * non-RIP store between them, then a third RIP load. */
static const uint8_t k_stream[] = {
    0x55,                                     /* +0  PUSHQ BP */
    0x48, 0x89, 0xe5,                         /* +1  MOVQ SP, BP */
    0x48, 0x8b, 0x0d, 0x00, 0x10, 0x00, 0x00, /* +4  MOVQ +0x1000(RIP), CX  -> AT+11+0x1000 */
    0x48, 0x89, 0x4c, 0x24, 0x10,             /* +11 MOVQ CX, 0x10(SP) */
    0x48, 0x8b, 0x1d, 0xf0, 0xff, 0xff, 0xff, /* +16 MOVQ -0x10(RIP), BX   -> AT+23-0x10 */
    0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00, /* +23 LEAQ 0(RIP), AX       -> AT+30 */
    0xc3,                                     /* +30 RET */
};

static void test_operands_are_returned_in_code_order(void **state) {
  (void)state;
  uint64_t out[MAXOPS];
  assert_int_equal(decode(k_stream, sizeof k_stream, AT, out, 3), 3);
  assert_int_equal(out[0], AT + 11 + 0x1000);
  assert_int_equal(out[1], AT + 23 - 0x10);
  assert_int_equal(out[2], AT + 30);
  assert_untouched_from(out, 3);
}

static void test_want_limits_how_many_are_written(void **state) {
  (void)state;
  uint64_t out[MAXOPS];
  for (int want = 0; want <= 3; want++) {
    assert_int_equal(decode(k_stream, sizeof k_stream, AT, out, want), want);
    assert_untouched_from(out, want);
  }
}

static void test_want_more_than_present_gives_how_many_there_are(void **state) {
  (void)state;
  uint64_t out[MAXOPS];
  assert_int_equal(decode(k_stream, sizeof k_stream, AT, out, MAXOPS), 3);
  assert_int_equal(out[2], AT + 30);
  assert_untouched_from(out, 3);
  /* a single LEAQ asked for four */
  static const uint8_t leaq[] = {0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00};
  assert_int_equal(decode(leaq, sizeof leaq, AT, out, 4), 1);
  assert_int_equal(out[0], AT + 7 + 0x10);
  assert_untouched_from(out, 1);
}

static void test_zero_length_code_has_no_operands(void **state) {
  (void)state;
  uint64_t out[MAXOPS];
  assert_int_equal(decode(NULL, 0, AT, out, 2), 0);
  assert_untouched_from(out, 0);
}

/* "SE_NOTGO when an instruction cannot be decoded before" `want` are found;
 * the message says where. */
static void expect_undecodable(const char *what, const uint8_t *b, size_t n, int want, const char *where) {
  uint64_t out[MAXOPS];
  int rc = decode(b, n, AT, out, want);
  if (rc != SE_NOTGO) print_error("%s:\n", what);
  assert_se_error(rc, SE_NOTGO);
  if (!strstr(se_msg(), where)) fail_msg("%s: message \"%s\" does not say %s", what, se_msg(), where);
  assert_untouched_from(out, want);
}

static void test_truncated_instruction_is_an_error_naming_its_offset(void **state) {
  (void)state;
  static const uint8_t cut[] = {0x48, 0x8b, 0x0d, 0x01, 0x02};
  expect_undecodable("MOVQ x(SB), CX cut after 2 displacement bytes", cut, sizeof cut, 2, "+0x0");
  static const uint8_t only_rex[] = {0x48};
  expect_undecodable("a REX prefix alone", only_rex, sizeof only_rex, 1, "+0x0");
  /* after a complete instruction: the offset is the cut one's */
  static const uint8_t after_nop[] = {0x90, 0x48, 0x8b, 0x0d, 0x01, 0x02};
  expect_undecodable("NOP, then a cut MOVQ", after_nop, sizeof after_nop, 1, "+0x1");
  /* an immediate cut off after a complete displacement */
  static const uint8_t no_imm[] = {0x48, 0xc7, 0x05, 0, 0, 0, 0, 1, 2};
  expect_undecodable("MOVQ $imm32, x(SB) with 2 immediate bytes", no_imm, sizeof no_imm, 1, "+0x0");
}

static void test_truncation_after_the_wanted_operands_is_not_reached(void **state) {
  (void)state;
  /* LEAQ, then a cut MOVQ: one operand is there before the cut */
  static const uint8_t b[] = {0x48, 0x8d, 0x05, 0x00, 0x01, 0x00, 0x00, 0x48, 0x8b, 0x0d, 0x01, 0x02};
  uint64_t out[MAXOPS];
  assert_int_equal(decode(b, sizeof b, AT, out, 1), 1);
  assert_int_equal(out[0], AT + 7 + 0x100);
  assert_untouched_from(out, 1);
  expect_undecodable("LEAQ, then a cut MOVQ, want 2", b, sizeof b, 2, "+0x7");
}

static void test_invalid_opcodes_are_an_error_not_a_guess(void **state) {
  (void)state;
  static const struct {
    const char *what;
    uint8_t b[20];
    size_t n;
    const char *where;
  } k[] = {
      {"PUSH ES (invalid in 64-bit mode)", {0x06}, 1, "+0x0"},
      {"SALC (invalid in 64-bit mode)", {0xd6}, 1, "+0x0"},
      {"0F 04 (undefined)", {0x0f, 0x04}, 2, "+0x0"},
      {"AAA (invalid in 64-bit mode) after a MOVQ", {0x48, 0x89, 0xe5, 0x37}, 4, "+0x3"},
      {"16 operand-size prefixes (longer than 15 bytes)",
       {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90},
       17,
       "+0x0"},
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) expect_undecodable(k[i].what, k[i].b, k[i].n, 2, k[i].where);
}

/* ---- random streams -------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* What every call must satisfy: an error with a specific message, or a
 * count in [0, want] with nothing written past it. */
static int checked(const uint8_t *b, size_t n, uint64_t addr, uint64_t out[MAXOPS], int want) {
  int rc = decode(b, n, addr, out, want);
  if (rc < 0) {
    assert_se_error(rc, SE_NOTGO);
    assert_untouched_from(out, want);
  } else {
    assert_true(rc <= want);
    assert_untouched_from(out, rc);
  }
  return rc;
}

/* Asking for fewer never disagrees with asking for more: the same first
 * operands, or an error only where the longer walk also failed. */
static void check_prefix_consistency(const uint8_t *b, size_t n, uint64_t addr) {
  uint64_t full[MAXOPS], part[MAXOPS];
  int rf = checked(b, n, addr, full, MAXOPS);
  for (int w = 0; w < MAXOPS; w++) {
    int rp = checked(b, n, addr, part, w);
    if (rf >= 0) {
      assert_int_equal(rp, rf < w ? rf : w);
      for (int i = 0; i < rp; i++) assert_int_equal(part[i], full[i]);
    } else if (rp >= 0) {
      assert_int_equal(rp, w); /* stopped before the instruction that failed */
    }
  }
}

static void test_random_bytes_give_an_error_or_a_count_never_a_crash(void **state) {
  (void)state;
  /* bytes that make RIP-relative forms, prefixes and escapes likely */
  static const uint8_t hot[] = {0x48, 0x4c, 0x8b, 0x8d, 0x0d, 0x05, 0x1d, 0x3d, 0x66, 0x67, 0x0f, 0xf2, 0xf3, 0xc4, 0xc5, 0x62};
  rng_state = 0x9e3779b97f4a7c15ULL;
  int iters = unit_fuzz_iterations(4000), errors = 0, found = 0;
  for (int it = 0; it < iters; it++) {
    uint8_t b[48];
    size_t n = (size_t)(rnd() % (sizeof b + 1));
    for (size_t i = 0; i < n; i++) b[i] = (rnd() % 3) ? (uint8_t)rnd() : hot[rnd() % sizeof hot];
    uint64_t addr = (it % 4 == 0) ? rnd() : AT + (rnd() % 0x100000);
    uint64_t out[MAXOPS];
    int rc = checked(b, n, addr, out, (int)(rnd() % (MAXOPS + 1)));
    errors += rc < 0;
    found += rc > 0;
    if (it % 8 == 0) check_prefix_consistency(b, n, addr);
    /* position dependence: the same bytes elsewhere give shifted targets
     * (0x67 would make them 32-bit EIP-relative, which wraps; Go never emits it) */
    if (it % 8 == 1 && rc > 0 && !memchr(b, 0x67, n)) {
      uint64_t moved[MAXOPS], delta = rnd() & 0xffffffffffffULL;
      assert_int_equal(checked(b, n, addr + delta, moved, rc), rc);
      for (int i = 0; i < rc; i++) assert_int_equal(moved[i], out[i] + delta);
    }
  }
  assert_true(errors > iters / 20 && found > iters / 50); /* both outcomes were exercised */
}

/* Random streams of known instructions, with the targets computed here from
 * the encoding: an oracle that does not share the decoder. */
static void test_random_instruction_streams_give_the_encoded_targets(void **state) {
  (void)state;
  static const struct {
    uint8_t pre[4];
    size_t npre;
    int rip;   /* followed by a disp32 */
    size_t nimm; /* immediate bytes after the displacement */
  } k[] = {
      {{0x48, 0x8b, 0x0d}, 3, 1, 0}, /* MOVQ x(SB), CX */
      {{0x48, 0x8d, 0x05}, 3, 1, 0}, /* LEAQ x(SB), AX */
      {{0x83, 0x3d}, 2, 1, 1},       /* CMPL $imm8, x(SB) */
      {{0x48, 0xc7, 0x05}, 3, 1, 4}, /* MOVQ $imm32, x(SB) */
      {{0xff, 0x15}, 2, 1, 0},       /* CALL *x(SB) */
      {{0x48, 0x8b, 0x4c}, 3, 0, 2}, /* MOVQ disp8(SP), CX: SIB 0x24 + disp8 as the "immediate" */
      {{0x49, 0x3b, 0x66}, 3, 0, 1}, /* CMPQ SP, disp8(R14) */
      {{0xe8}, 1, 0, 4},             /* CALL rel32 */
      {{0x55}, 1, 0, 0},             /* PUSHQ BP */
      {{0x90}, 1, 0, 0},             /* NOP */
      {{0x31, 0xd2}, 2, 0, 0},       /* XORL DX, DX */
  };
  rng_state = 0x243f6a8885a308d3ULL;
  int iters = unit_fuzz_iterations(3000);
  for (int it = 0; it < iters; it++) {
    uint8_t b[16 * 11];
    uint64_t want[16];
    size_t n = 0;
    int nwant = 0, ninsn = 1 + (int)(rnd() % 16);
    uint64_t addr = AT + (rnd() % 0x1000000);
    for (int i = 0; i < ninsn; i++) {
      size_t j = (size_t)(rnd() % (sizeof k / sizeof k[0]));
      memcpy(b + n, k[j].pre, k[j].npre);
      n += k[j].npre;
      int32_t disp = (int32_t)(uint32_t)rnd();
      if (k[j].rip) {
        put_le32(b + n, disp);
        n += 4;
      }
      for (size_t m = 0; m < k[j].nimm; m++) b[n++] = (uint8_t)rnd();
      if (j == 5) b[n - 2] = 0x24; /* the SIB byte of 8(SP) */
      if (k[j].rip) want[nwant++] = addr + n + (uint64_t)(int64_t)disp;
    }
    uint64_t out[MAXOPS];
    int w = nwant < MAXOPS ? nwant : MAXOPS;
    int rc = checked(b, n, addr, out, MAXOPS);
    if (rc != w) fail_msg("iteration %d: %d operands (%s), the stream has %d", it, rc, rc < 0 ? se_msg() : "", nwant);
    for (int i = 0; i < w; i++) assert_int_equal(out[i], want[i]);
    /* cut inside the stream: an error or a prefix of the targets */
    size_t cut = (size_t)(rnd() % (n + 1));
    rc = checked(b, cut, addr, out, MAXOPS);
    for (int i = 0; i < rc; i++) assert_int_equal(out[i], want[i]);
  }
}

/* The real function with bytes flipped: whatever the decoder makes of it. */
static void test_mutated_foreachgrace_gives_an_error_or_a_count(void **state) {
  (void)state;
  static const char *vers[] = {"1.19", "1.21", "1.27"};
  rng_state = 0xb7e151628aed2a6bULL;
  int iters = unit_fuzz_iterations(3000);
  for (size_t v = 0; v < sizeof vers / sizeof vers[0]; v++) {
    fegr f;
    fegr_open(&f, vers[v]);
    for (int it = 0; it < iters / 3; it++) {
      unit_blob m = unit_copy(f.code.bytes, f.code.len);
      int k = 1 + (int)(rnd() % 6);
      for (int i = 0; i < k; i++) m.bytes[rnd() % m.len] = (uint8_t)rnd();
      uint64_t out[MAXOPS];
      (void)checked(m.bytes, (size_t)(rnd() % (m.len + 1)), f.entry, out, (int)(rnd() % (MAXOPS + 1)));
      unit_blob_free(&m);
    }
    fegr_close(&f);
  }
}

static const struct CMUnitTest tests[] = {
#define FEGR_ENTRIES(tag, ver)                                                               \
  cmocka_unit_test(test_foreachgrace_operands_are_allglen_then_allgptr_go##tag),              \
  cmocka_unit_test(test_stripped_foreachgrace_operands_are_its_own_allglen_then_allgptr_go##tag), \
  cmocka_unit_test(test_foreachgrace_has_exactly_two_rip_operands_go##tag),                   \
  cmocka_unit_test(test_foreachgrace_want_one_gives_allglen_only_go##tag),                    \
  cmocka_unit_test(test_foreachgrace_operands_move_with_the_load_address_go##tag),            \
  cmocka_unit_test(test_foreachgrace_cut_at_every_length_gives_an_error_or_the_right_prefix_go##tag),
    FEGR_VERSIONS(FEGR_ENTRIES)
    cmocka_unit_test(test_movq_rip_to_register_is_the_next_instruction_plus_displacement),
    cmocka_unit_test(test_leaq_rip_gives_the_address_it_computes),
    cmocka_unit_test(test_rip_operand_with_immediate_counts_from_the_instruction_end),
    cmocka_unit_test(test_vector_loads_from_rip_are_counted),
    cmocka_unit_test(test_call_through_rip_slot_counts_the_slot),
    cmocka_unit_test(test_non_rip_operands_are_not_counted),
    cmocka_unit_test(test_operands_are_returned_in_code_order),
    cmocka_unit_test(test_want_limits_how_many_are_written),
    cmocka_unit_test(test_want_more_than_present_gives_how_many_there_are),
    cmocka_unit_test(test_zero_length_code_has_no_operands),
    cmocka_unit_test(test_truncated_instruction_is_an_error_naming_its_offset),
    cmocka_unit_test(test_truncation_after_the_wanted_operands_is_not_reached),
    cmocka_unit_test(test_invalid_opcodes_are_an_error_not_a_guess),
    cmocka_unit_test(test_random_bytes_give_an_error_or_a_count_never_a_crash),
    cmocka_unit_test(test_random_instruction_streams_give_the_encoded_targets),
    cmocka_unit_test(test_mutated_foreachgrace_gives_an_error_or_a_count),
};

UNIT_MAIN(tests)
