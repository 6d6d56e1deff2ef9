/* test_symbolize.c: the resolved model (host/goruntime/symbolize.c) on
 * synthetic snapshots over a real pclntab (data/go1.NN, the same binary
 * test_pclntab reads): frames as Go prints them, inlined frames expanded,
 * runtime frames hidden unless asked for, creators resolved, each distinct
 * stack resolved once, each pc looked up once, and the model freed with its
 * snapshot (AddressSanitizer's leak check). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goruntime/symbolize.h"

typedef struct {
  unit_pcln up;
  gr_program prog;
} fixture;

static void fixture_open(fixture *f, const char *ver) {
  memset(f, 0, sizeof *f);
  unit_pcln_open(&f->up, ver);
  f->prog.pcln = f->up.t; /* the table's byte callback points at f->up, which stays put */
  f->prog.bi.go_minor = f->up.go_minor;
  f->prog.style.elide_inner_outer = f->up.go_minor >= 21;
  f->prog.style.max_physical_frames = f->up.go_minor >= 21 ? 0 : 100;
  f->prog.style.created_by_goroutine = f->up.go_minor >= 21;
}

static void fixture_close(fixture *f) {
  gr_sym_drop(&f->prog);
  unit_pcln_close(&f->up);
}

/* n goroutines, goid first_goid.., each with the given raw frames and gopc. */
static void snap_of(gr_snapshot *s, size_t n, uint64_t first_goid, const gr_rawframe *frames, uint32_t nframes,
                    uint64_t gopc) {
  memset(s, 0, sizeof *s);
  arena_init(&s->a);
  s->gs = arena_calloc(&s->a, n, sizeof *s->gs);
  assert_non_null(s->gs);
  s->n = n;
  for (size_t i = 0; i < n; i++) {
    gr_goroutine *g = &s->gs[i];
    g->goid = first_goid + i;
    g->gopc = gopc;
    g->frames = arena_calloc(&s->a, nframes ? nframes : 1, sizeof *g->frames);
    assert_non_null(g->frames);
    memcpy(g->frames, frames, nframes * sizeof *frames);
    g->nframes = nframes;
  }
}

static void test_resolves_frames_as_go_prints_them(void **state) {
  (void)state;
  fixture f;
  fixture_open(&f, "1.27");
  const unit_facts *F = &f.up.facts;
  gr_rawframe fr[] = {{unit_fact_u64(F, "work_ret"), 0}, {unit_fact_u64(F, "rtmain_ret"), 0}};
  gr_snapshot s;
  snap_of(&s, 1, 7, fr, 2, unit_fact_u64(F, "main_main") + 1);
  assert_null(gr_trace_of(&s, 0)); /* nothing before the resolve */
  assert_int_equal(gr_sym_resolve(&f.prog, &s, false), 0);
  const gr_trace *t = gr_trace_of(&s, 0);
  assert_non_null(t);
  /* work_ret returns into main.main; runtime.main is hidden by default */
  assert_true(t->n >= 1);
  assert_string_equal(t->frames[0].func, "main.main");
  assert_string_equal(t->frames[0].print, "main.main");
  for (size_t i = 0; i < t->n; i++) assert_true(strncmp(t->frames[i].func, "runtime.", 8) != 0);
  assert_true(t->has_creator);
  assert_string_equal(t->creator.func, "main.main");
  assert_null(gr_trace_of(&s, 1)); /* out of range */
  gr_snapshot_free(&s);
  fixture_close(&f);
}

static void test_inlined_frames_are_expanded(void **state) {
  (void)state;
  fixture f;
  fixture_open(&f, "1.27");
  const unit_facts *F = &f.up.facts;
  gr_rawframe fr[] = {{unit_fact_u64(F, "inline_pc"), GR_FRAME_TRAP}};
  gr_snapshot s;
  snap_of(&s, 1, 9, fr, 1, 0);
  assert_int_equal(gr_sym_resolve(&f.prog, &s, false), 0);
  const gr_trace *t = gr_trace_of(&s, 0);
  assert_int_equal(t->n, 2);
  assert_string_equal(t->frames[0].func, "main.add");
  assert_true(t->frames[0].inlined);
  assert_int_equal(t->frames[0].line, (int32_t)unit_fact_u64(F, "inlined_body_line"));
  assert_string_equal(t->frames[1].func, "main.main");
  assert_false(t->frames[1].inlined);
  assert_int_equal(t->frames[1].line, (int32_t)unit_fact_u64(F, "callsite_line"));
  assert_false(t->has_creator); /* gopc 0 */
  gr_snapshot_free(&s);
  fixture_close(&f);
}

/* 10,000 goroutines on one stack: one trace, two pcs looked up; goroutine 1
 * differs (it shows no creator), so it gets a trace of its own. */
static void test_each_stack_once_each_pc_once(void **state) {
  (void)state;
  fixture f;
  fixture_open(&f, "1.27");
  const unit_facts *F = &f.up.facts;
  gr_rawframe fr[] = {{unit_fact_u64(F, "work_ret"), 0}, {unit_fact_u64(F, "rtmain_ret"), 0}};
  gr_snapshot s;
  snap_of(&s, 10000, 1, fr, 2, unit_fact_u64(F, "main_main") + 1);
  assert_int_equal(gr_sym_resolve(&f.prog, &s, false), 0);
  size_t ntraces, npcs;
  gr_sym_stats(&s, &ntraces, &npcs);
  assert_int_equal(ntraces, 2);
  assert_int_equal(npcs, 2);
  assert_false(gr_trace_of(&s, 0)->has_creator); /* goroutine 1 */
  assert_true(gr_trace_of(&s, 1)->has_creator);
  assert_ptr_equal(gr_trace_of(&s, 1), gr_trace_of(&s, 9999));
  assert_ptr_not_equal(gr_trace_of(&s, 0), gr_trace_of(&s, 1));
  /* a second snapshot of the same program looks nothing up again */
  gr_snapshot s2;
  snap_of(&s2, 3, 100, fr, 2, unit_fact_u64(F, "main_main") + 1);
  assert_int_equal(gr_sym_resolve(&f.prog, &s2, false), 0);
  gr_sym_stats(&s2, &ntraces, &npcs);
  assert_int_equal(ntraces, 1);
  assert_int_equal(npcs, 2);
  assert_string_equal(gr_trace_of(&s2, 2)->frames[0].func, "main.main");
  gr_snapshot_free(&s2);
  gr_snapshot_free(&s);
  fixture_close(&f);
}

/* Same frames, another pc in one frame: another trace. */
static void test_different_stacks_do_not_share_a_trace(void **state) {
  (void)state;
  fixture f;
  fixture_open(&f, "1.27");
  const unit_facts *F = &f.up.facts;
  gr_rawframe a[] = {{unit_fact_u64(F, "work_ret"), 0}, {unit_fact_u64(F, "rtmain_ret"), 0}};
  gr_snapshot s;
  snap_of(&s, 2, 10, a, 2, 0);
  s.gs[1].frames[0].pc = unit_fact_u64(F, "inline_pc");
  s.gs[1].frames[0].flags = GR_FRAME_TRAP;
  assert_int_equal(gr_sym_resolve(&f.prog, &s, false), 0);
  assert_ptr_not_equal(gr_trace_of(&s, 0), gr_trace_of(&s, 1));
  assert_string_equal(gr_trace_of(&s, 1)->frames[0].func, "main.add");
  gr_snapshot_free(&s);
  fixture_close(&f);
}

/* --all-frames: the same snapshot resolved again shows runtime frames;
 * resolving in the same mode twice keeps the model. */
static void test_all_frames_shows_runtime_frames(void **state) {
  (void)state;
  fixture f;
  fixture_open(&f, "1.27");
  const unit_facts *F = &f.up.facts;
  gr_rawframe fr[] = {{unit_fact_u64(F, "work_ret"), 0}, {unit_fact_u64(F, "rtmain_ret"), 0}};
  gr_snapshot s;
  snap_of(&s, 1, 7, fr, 2, 0);
  assert_int_equal(gr_sym_resolve(&f.prog, &s, false), 0);
  const gr_trace *t = gr_trace_of(&s, 0);
  size_t shown = t->n;
  assert_int_equal(gr_sym_resolve(&f.prog, &s, false), 0);
  assert_ptr_equal(gr_trace_of(&s, 0), t);
  assert_int_equal(gr_sym_resolve(&f.prog, &s, true), 0);
  t = gr_trace_of(&s, 0);
  assert_int_equal(t->n, shown + 1);
  assert_string_equal(t->frames[t->n - 1].func, "runtime.main");
  gr_snapshot_free(&s);
  fixture_close(&f);
}

/* A pc in no function: no frame, and the goroutine still resolves. */
static void test_unknown_pc_resolves_to_nothing(void **state) {
  (void)state;
  fixture f;
  fixture_open(&f, "1.27");
  gr_rawframe fr[] = {{0x10, 0}};
  gr_snapshot s;
  snap_of(&s, 1, 3, fr, 1, 0x10);
  assert_int_equal(gr_sym_resolve(&f.prog, &s, false), 0);
  const gr_trace *t = gr_trace_of(&s, 0);
  assert_non_null(t);
  assert_int_equal(t->n, 0);
  assert_false(t->has_creator);
  gr_snapshot_free(&s);
  fixture_close(&f);
}

static void test_print_name_as_go(void **state) {
  (void)state;
  char buf[128];
  assert_string_equal(gr_print_name("runtime.gopanic", buf, sizeof buf), "panic");
  assert_string_equal(gr_print_name("main.Map[go.shape.int,go.shape.string]", buf, sizeof buf), "main.Map[...]");
  assert_string_equal(gr_print_name("main.(*T[go.shape.int]).M", buf, sizeof buf), "main.(*T[...]).M");
  const char *plain = "main.main";
  assert_ptr_equal(gr_print_name(plain, buf, sizeof buf), plain);
}

static void test_empty_snapshot(void **state) {
  (void)state;
  fixture f;
  fixture_open(&f, "1.27");
  gr_snapshot s;
  memset(&s, 0, sizeof s);
  assert_int_equal(gr_sym_resolve(&f.prog, &s, false), 0);
  assert_null(gr_trace_of(&s, 0));
  gr_snapshot_free(&s);
  fixture_close(&f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_resolves_frames_as_go_prints_them),
    cmocka_unit_test(test_inlined_frames_are_expanded),
    cmocka_unit_test(test_each_stack_once_each_pc_once),
    cmocka_unit_test(test_different_stacks_do_not_share_a_trace),
    cmocka_unit_test(test_all_frames_shows_runtime_frames),
    cmocka_unit_test(test_unknown_pc_resolves_to_nothing),
    cmocka_unit_test(test_print_name_as_go),
    cmocka_unit_test(test_empty_snapshot),
};

UNIT_MAIN(tests)
