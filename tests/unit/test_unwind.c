/* test_unwind.c: gr_unwind over hand-built stacks and real pclntabs.
 *
 * The stacks are laid out the way Go's amd64 frames are: a frame of pcsp
 * delta d at pc has its return address at SP+d, and the caller's SP is the
 * slot above it. The deltas come from .debug_frame (facts.txt: CFA = SP+d+8),
 * not from the pclntab under test; every other word is poison. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "goruntime/unwind.h"

static const uint64_t BASE = 0xc000040000ULL; /* where a goroutine stack might be */
static const uint64_t POISON = 0x5a5a5a5a5a5a5a5aULL;
enum { MAXW = 256 };

typedef struct {
  uint64_t words[MAXW];
  size_t len;       /* bytes used from BASE */
  uint64_t slot[8]; /* address of each frame's return address */
} stackbuf;

typedef struct {
  uint64_t pc;
  int64_t delta; /* pcsp delta at pc */
} hop;

/* Frame i runs at pc hops[i].pc; its return address is hops[i+1].pc, and
 * the last frame returns to last_ret. */
static void lay_out(stackbuf *s, const hop *h, size_t n, uint64_t last_ret) {
  for (size_t i = 0; i < MAXW; i++) s->words[i] = POISON;
  uint64_t sp = BASE;
  for (size_t i = 0; i < n; i++) {
    uint64_t slot = sp + (uint64_t)h[i].delta;
    assert_true((slot - BASE) / 8 < MAXW);
    s->words[(slot - BASE) / 8] = i + 1 < n ? h[i + 1].pc : last_ret;
    s->slot[i] = slot;
    sp = slot + 8;
  }
  s->len = sp - BASE;
}

static void set_word(stackbuf *s, uint64_t addr, uint64_t v) { s->words[(addr - BASE) / 8] = v; }

typedef struct {
  gr_rawframe fr[32];
  size_t n;
  gr_unwind_end end;
} unwound;

/* Unwinds over an exact-size copy of the first `len` bytes (ASan watches). */
static unwound run(const unit_pcln *p, const stackbuf *s, size_t len, uint64_t pc, uint64_t sp, int trap, size_t max) {
  unit_blob copy = unit_copy((const uint8_t *)s->words, len);
  gr_stackcopy stk = {copy.bytes, BASE, len};
  unwound u;
  memset(&u, 0, sizeof u);
  assert_true(max <= 32);
  u.end = (gr_unwind_end)-1;
  u.n = gr_unwind(&p->t, NULL, &stk, pc, sp, trap, u.fr, max, &u.end);
  unit_blob_free(&copy);
  return u;
}

#define ASSERT_END(u, want)                                                                                \
  do {                                                                                                     \
    if ((u).end != (want))                                                                                 \
      fail_msg("unwind ended \"%s\" after %zu frames, expected \"%s\"", gr_unwind_end_str((u).end), (u).n, \
               gr_unwind_end_str(want));                                                                   \
  } while (0)

static const char *name_at(const unit_pcln *p, uint64_t pc) {
  pcln_func f;
  if (pcln_find(&p->t, pc, &f)) return "?";
  const char *n = pcln_name(&p->t, &f);
  return n ? n : "?";
}

/* main.work (at its entry) <- main.main <- runtime.main <- runtime.goexit */
typedef struct {
  unit_pcln p;
  stackbuf s;
  hop h[3];
  uint64_t goexit_ret;
} chain;

static void chain_make(chain *c, const char *ver) {
  unit_pcln_open(&c->p, ver);
  const unit_facts *f = &c->p.facts;
  c->h[0] = (hop){unit_fact_u64(f, "main_work"), 0};
  c->h[1] = (hop){unit_fact_u64(f, "work_ret"), (int64_t)unit_fact_u64(f, "work_ret_cfa") - 8};
  c->h[2] = (hop){unit_fact_u64(f, "rtmain_ret"), (int64_t)unit_fact_u64(f, "rtmain_ret_cfa") - 8};
  c->goexit_ret = unit_fact_u64(f, "goexit") + 1; /* runtime/proc.go newproc1: goexit + PCQuantum */
  lay_out(&c->s, c->h, 3, c->goexit_ret);
}

static void check_real_frames_reach_goexit(const char *ver) {
  chain c;
  chain_make(&c, ver);
  unwound u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_COMPLETE);
  assert_int_equal(u.n, 4);
  const uint64_t want[4] = {c.h[0].pc, c.h[1].pc, c.h[2].pc, c.goexit_ret};
  static const char *names[4] = {"main.work", "main.main", "runtime.main", "runtime.goexit"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(u.fr[i].pc, want[i]);
    assert_int_equal(u.fr[i].flags, 0);
    assert_string_equal(name_at(&c.p, u.fr[i].pc), names[i]);
  }
  /* an interrupted first frame is marked; its callers are return addresses */
  u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE, 1, 32);
  assert_int_equal(u.n, 4);
  assert_int_equal(u.fr[0].flags, GR_FRAME_TRAP);
  assert_int_equal(u.fr[1].flags, 0);
  unit_pcln_close(&c.p);
}

static void check_stack_cut_before_a_return_address_is_bad_stack(const char *ver) {
  chain c;
  chain_make(&c, ver);
  unwound u = run(&c.p, &c.s, c.s.slot[2] - BASE, c.h[0].pc, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_BAD_STACK);
  assert_int_equal(u.n, 3);
  u = run(&c.p, &c.s, c.s.slot[1] - BASE + 4, c.h[0].pc, BASE, 0, 32); /* half a word */
  ASSERT_END(u, GR_UNWIND_BAD_STACK);
  assert_int_equal(u.n, 2);
  u = run(&c.p, &c.s, 0, c.h[0].pc, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_BAD_STACK);
  assert_int_equal(u.n, 1);
  /* an SP below the copy */
  u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE - 8, 0, 32);
  ASSERT_END(u, GR_UNWIND_BAD_STACK);
  assert_int_equal(u.n, 1);
  /* an SP so high that SP + delta wraps around */
  u = run(&c.p, &c.s, c.s.len, c.h[1].pc, UINT64_MAX - 8, 0, 32);
  ASSERT_END(u, GR_UNWIND_BAD_STACK);
  assert_int_equal(u.n, 1);
  unit_pcln_close(&c.p);
}

static void check_pc_outside_text_is_unknown_pc(const char *ver) {
  chain c;
  chain_make(&c, ver);
  set_word(&c.s, c.s.slot[1], 0x1000);
  unwound u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_UNKNOWN_PC);
  assert_int_equal(u.n, 2);
  set_word(&c.s, c.s.slot[1], POISON);
  u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_UNKNOWN_PC);
  assert_int_equal(u.n, 2);
  u = run(&c.p, &c.s, c.s.len, c.p.text - 1, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_UNKNOWN_PC);
  assert_int_equal(u.n, 0);
  unit_pcln_close(&c.p);
}

static void check_frame_limit_truncates(const char *ver) {
  chain c;
  chain_make(&c, ver);
  unwound u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE, 0, 2);
  ASSERT_END(u, GR_UNWIND_TRUNCATED);
  assert_int_equal(u.n, 2);
  assert_int_equal(u.fr[1].pc, c.h[1].pc);
  u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE, 0, 0);
  ASSERT_END(u, GR_UNWIND_TRUNCATED);
  assert_int_equal(u.n, 0);
  u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE, 0, 4); /* exactly enough */
  ASSERT_END(u, GR_UNWIND_COMPLETE);
  assert_int_equal(u.n, 4);
  unit_pcln_close(&c.p);
}

static void check_zero_return_address_completes(const char *ver) {
  chain c;
  chain_make(&c, ver);
  set_word(&c.s, c.s.slot[1], 0);
  unwound u = run(&c.p, &c.s, c.s.len, c.h[0].pc, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_COMPLETE);
  assert_int_equal(u.n, 2);
  unit_pcln_close(&c.p);
}

/* A call through a nil func value: pc is 0 and the return address is at SP
 * (runtime/traceback.go: unwinder.initAt). */
static void check_nil_func_call_pops_the_return_address(const char *ver) {
  chain c;
  chain_make(&c, ver);
  unwound u = run(&c.p, &c.s, c.s.len, 0, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_COMPLETE);
  assert_int_equal(u.n, 3);
  assert_int_equal(u.fr[0].pc, c.h[1].pc);
  assert_int_equal(u.fr[2].pc, c.goexit_ret);
  u = run(&c.p, &c.s, 4, 0, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_BAD_STACK);
  assert_int_equal(u.n, 0);
  unit_pcln_close(&c.p);
}

/* sigpanic was injected by the signal handler: the frame below it was
 * interrupted at a pc that is not a return address (symbolized at pc). */
static void check_frame_below_sigpanic_is_marked_trap(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  const unit_facts *f = &p.facts;
  hop h[3] = {{unit_fact_u64(f, "sigpanic"), 0},
              {unit_fact_u64(f, "inline_pc"), (int64_t)unit_fact_u64(f, "inline_pc_cfa") - 8},
              {unit_fact_u64(f, "rtmain_ret"), (int64_t)unit_fact_u64(f, "rtmain_ret_cfa") - 8}};
  stackbuf s;
  lay_out(&s, h, 3, unit_fact_u64(f, "goexit") + 1);
  unwound u = run(&p, &s, s.len, h[0].pc, BASE, 0, 32);
  ASSERT_END(u, GR_UNWIND_COMPLETE);
  assert_int_equal(u.n, 4);
  assert_string_equal(name_at(&p, u.fr[0].pc), "runtime.sigpanic");
  assert_int_equal(u.fr[0].flags, 0);
  assert_int_equal(u.fr[1].pc, h[1].pc);
  assert_int_equal(u.fr[1].flags, GR_FRAME_TRAP);
  assert_int_equal(u.fr[2].flags, 0);
  assert_int_equal(u.fr[3].flags, 0);
  unit_pcln_close(&p);
}

#define UNWIND_VERSIONS(X) X(119, "1.19") X(121, "1.21") X(127, "1.27")
#define UNWIND_TESTS(tag, ver)                                                                          \
  static void test_unwind_real_frames_reach_goexit_go##tag(void **s) { (void)s; check_real_frames_reach_goexit(ver); } \
  static void test_unwind_stack_cut_before_a_return_address_is_bad_stack_go##tag(void **s) {             \
    (void)s;                                                                                            \
    check_stack_cut_before_a_return_address_is_bad_stack(ver);                                          \
  }                                                                                                     \
  static void test_unwind_pc_outside_text_is_unknown_pc_go##tag(void **s) {                              \
    (void)s;                                                                                            \
    check_pc_outside_text_is_unknown_pc(ver);                                                           \
  }                                                                                                     \
  static void test_unwind_frame_limit_truncates_go##tag(void **s) { (void)s; check_frame_limit_truncates(ver); } \
  static void test_unwind_zero_return_address_completes_go##tag(void **s) {                             \
    (void)s;                                                                                            \
    check_zero_return_address_completes(ver);                                                           \
  }                                                                                                     \
  static void test_unwind_nil_func_call_pops_the_return_address_go##tag(void **s) {                     \
    (void)s;                                                                                            \
    check_nil_func_call_pops_the_return_address(ver);                                                   \
  }                                                                                                     \
  static void test_unwind_frame_below_sigpanic_is_marked_trap_go##tag(void **s) {                       \
    (void)s;                                                                                            \
    check_frame_below_sigpanic_is_marked_trap(ver);                                                     \
  }
UNWIND_VERSIONS(UNWIND_TESTS)

static void test_unwind_end_reasons_have_distinct_descriptions(void **state) {
  (void)state;
  const gr_unwind_end all[] = {GR_UNWIND_COMPLETE,   GR_UNWIND_TRUNCATED,  GR_UNWIND_SPWRITE,
                               GR_UNWIND_UNKNOWN_PC, GR_UNWIND_BAD_STACK, GR_UNWIND_STUCK};
  size_t n = sizeof all / sizeof all[0];
  for (size_t i = 0; i < n; i++) {
    assert_string_not_equal(gr_unwind_end_str(all[i]), "?");
    for (size_t j = 0; j < i; j++) assert_string_not_equal(gr_unwind_end_str(all[i]), gr_unwind_end_str(all[j]));
  }
}

static const struct CMUnitTest tests[] = {
#define UNWIND_ENTRIES(tag, ver)                                                   \
  cmocka_unit_test(test_unwind_real_frames_reach_goexit_go##tag),                  \
  cmocka_unit_test(test_unwind_stack_cut_before_a_return_address_is_bad_stack_go##tag), \
  cmocka_unit_test(test_unwind_pc_outside_text_is_unknown_pc_go##tag),             \
  cmocka_unit_test(test_unwind_frame_limit_truncates_go##tag),                     \
  cmocka_unit_test(test_unwind_zero_return_address_completes_go##tag),             \
  cmocka_unit_test(test_unwind_nil_func_call_pops_the_return_address_go##tag),     \
  cmocka_unit_test(test_unwind_frame_below_sigpanic_is_marked_trap_go##tag),
    UNWIND_VERSIONS(UNWIND_ENTRIES)
    cmocka_unit_test(test_unwind_end_reasons_have_distinct_descriptions),
};

UNIT_MAIN(tests)
