/* test_pclntab.c: the PC-line table parser.
 *
 * Real tables: the .gopclntab of data/prog built by Go 1.19 (40-byte _func),
 * 1.21 (44-byte _func, funcdata in .rodata) and 1.27 (funcdata inside
 * .gopclntab), checked against what `go tool nm`, `go tool objdump` and
 * .debug_frame say about the same binary (data/go1.NN/facts.txt).
 * Hand-made tables: a minimal two-function table built below, to test each
 * decoding rule and each corruption on its own. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "goruntime/pclntab.h"

enum { PCDATA_INLTREEINDEX = 2 }; /* runtime/symtab.go: abi.PCDATA_InlTreeIndex */

static int find_ok(const pcln_table *t, uint64_t pc, pcln_func *f) {
  se_clear();
  int rc = pcln_find(t, pc, f);
  if (rc) print_error("pcln_find(0x%llx): %s\n", (unsigned long long)pc, se_msg());
  return rc == 0;
}

/* ---- real tables ---------------------------------------------------------- */

static void check_layout_matches_version(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  assert_int_equal(p.t.go118, p.go_minor < 20);
  assert_int_equal(p.t.func_size, p.go_minor < 20 ? 40 : 44);
  assert_true(p.t.nfunc > 500); /* the runtime alone has more */
  assert_true(p.t.nfiles > 10);
  /* pcHeader.textStart: the link-time text address up to Go 1.25, then 0 */
  assert_int_equal(pcln_header_text(&p.t), p.go_minor <= 25 ? p.text : 0);
  unit_pcln_close(&p);
}

static void check_finds_main_main(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  uint64_t entry = unit_fact_u64(&p.facts, "main_main"), work = unit_fact_u64(&p.facts, "main_work");
  pcln_func f;
  assert_true(find_ok(&p.t, entry, &f));
  assert_int_equal(f.entry, entry);
  assert_string_equal(pcln_name(&p.t, &f), "main.main");
  uint64_t inside = unit_fact_u64(&p.facts, "work_ret");
  pcln_func g;
  assert_true(find_ok(&p.t, inside, &g));
  assert_int_equal(g.entry, entry);
  assert_int_equal(g.off, f.off);
  assert_true(f.end > inside);
  /* the byte before main.main belongs to main.work, which ends at main.main */
  assert_true(find_ok(&p.t, entry - 1, &g));
  assert_string_equal(pcln_name(&p.t, &g), "main.work");
  assert_int_equal(g.entry, work);
  assert_int_equal(g.end, entry);
  /* by name, as sonde finds runtime functions at start-up */
  assert_int_equal(pcln_find_name(&p.t, "main.main", &g), 0);
  assert_int_equal(g.entry, entry);
  se_clear();
  assert_se_error(pcln_find_name(&p.t, "main.nosuch", &g), SE_NOTGO);
  se_clear();
  assert_se_error(pcln_find_name(&p.t, "main.mai", &g), SE_NOTGO);
  unit_pcln_close(&p);
}

static void check_file_and_line_of_every_main_main_instruction(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  uint64_t entry = unit_fact_u64(&p.facts, "main_main");
  char main_file[1024];
  snprintf(main_file, sizeof main_file, "%s", unit_fact(&p.facts, "main_file"));
  pcln_func f;
  assert_true(find_ok(&p.t, entry, &f));
  const char *file;
  int32_t line;
  assert_true(pcln_fileline(&p.t, &f, entry, &file, &line));
  assert_string_equal(file, main_file);
  assert_int_equal(line, (int32_t)unit_fact_u64(&p.facts, "func_main_line"));

  /* objdump's line for every instruction (data/go1.NN/main_main.lines) */
  char rel[64];
  snprintf(rel, sizeof rel, "go%s/main_main.lines", ver);
  unit_blob lines = unit_read(rel);
  unit_blob z = unit_copy(NULL, lines.len + 1);
  memcpy(z.bytes, lines.bytes, lines.len);
  int n = 0;
  for (char *s = (char *)z.bytes, *save = NULL, *tok; (tok = strtok_r(s, "\n", &save)); s = NULL) {
    unsigned long long pc;
    int want;
    assert_int_equal(sscanf(tok, "%llx %d", &pc, &want), 2);
    pcln_func g;
    assert_true(find_ok(&p.t, pc, &g));
    assert_int_equal(g.entry, entry);
    assert_true(pcln_fileline(&p.t, &g, pc, &file, &line));
    assert_string_equal(file, main_file);
    if (line != want) fail_msg("pc 0x%llx: line %d, objdump says %d", pc, (int)line, want);
    n++;
  }
  assert_true(n > 10);
  unit_blob_free(&z);
  unit_blob_free(&lines);
  unit_pcln_close(&p);
}

/* .debug_frame's CFA is SP + pcsp delta + 8 on amd64. */
static void check_sp_delta_matches_debug_frame(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  static const struct {
    const char *pc, *cfa;
  } at[] = {{"work_ret", "work_ret_cfa"}, {"inline_pc", "inline_pc_cfa"}, {"rtmain_ret", "rtmain_ret_cfa"}};
  pcln_func f;
  int32_t d = -1;
  uint64_t entry = unit_fact_u64(&p.facts, "main_main");
  assert_true(find_ok(&p.t, entry, &f));
  assert_true(pcln_spdelta(&p.t, &f, entry, &d));
  assert_int_equal(d, 0); /* nothing pushed yet at a function's entry */
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    uint64_t pc = unit_fact_u64(&p.facts, at[i].pc);
    int64_t cfa = (int64_t)unit_fact_u64(&p.facts, at[i].cfa);
    assert_true(find_ok(&p.t, pc, &f));
    d = -1;
    assert_true(pcln_spdelta(&p.t, &f, pc, &d));
    if (d != cfa - 8) fail_msg("%s: sp delta %d, .debug_frame says CFA = SP+%lld", at[i].pc, (int)d, (long long)cfa);
  }
  unit_pcln_close(&p);
}

static void check_expands_inlined_add_into_main(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  uint64_t pc = unit_fact_u64(&p.facts, "inline_pc");
  char main_file[1024];
  snprintf(main_file, sizeof main_file, "%s", unit_fact(&p.facts, "main_file"));
  pcln_func f;
  assert_true(find_ok(&p.t, pc, &f));
  assert_true(pcln_pcdata(&p.t, &f, PCDATA_INLTREEINDEX, pc) >= 0);
  pcln_frame fr[8];
  memset(fr, 0, sizeof fr);
  int n = pcln_expand(&p.t, &f, pc, fr, 8);
  assert_int_equal(n, 2);
  assert_string_equal(fr[0].func, "main.add");
  assert_true(fr[0].inlined);
  assert_int_equal(fr[0].funcid, 0); /* funcID_normal, from the inline tree record */
  assert_string_equal(fr[0].file, main_file);
  assert_int_equal(fr[0].line, (int32_t)unit_fact_u64(&p.facts, "inlined_body_line"));
  assert_string_equal(fr[1].func, "main.main");
  assert_false(fr[1].inlined);
  assert_string_equal(fr[1].file, main_file);
  assert_int_equal(fr[1].line, (int32_t)unit_fact_u64(&p.facts, "callsite_line"));

  /* the second inlined call: the caller's line comes from the tree's
   * parentPc, which differs from the first call's */
  uint64_t pc2 = unit_fact_u64(&p.facts, "inline2_pc");
  assert_true(find_ok(&p.t, pc2, &f));
  memset(fr, 0, sizeof fr);
  assert_int_equal(pcln_expand(&p.t, &f, pc2, fr, 8), 2);
  assert_string_equal(fr[0].func, "main.add");
  assert_int_equal(fr[0].line, (int32_t)unit_fact_u64(&p.facts, "inlined_body_line"));
  assert_string_equal(fr[1].func, "main.main");
  assert_int_equal(fr[1].line, (int32_t)unit_fact_u64(&p.facts, "callsite2_line"));

  /* room for one frame: the physical function, never a half-expanded stack */
  memset(fr, 0, sizeof fr);
  assert_int_equal(pcln_expand(&p.t, &f, pc, fr, 1), 1);
  assert_string_equal(fr[0].func, "main.main");
  assert_int_equal(pcln_expand(&p.t, &f, pc, fr, 0), 0);

  /* a pc with no inlining expands to itself */
  uint64_t call = unit_fact_u64(&p.facts, "work_ret") - 1;
  assert_int_equal(pcln_pcdata(&p.t, &f, PCDATA_INLTREEINDEX, call), -1);
  assert_int_equal(pcln_expand(&p.t, &f, call, fr, 8), 1);
  assert_string_equal(fr[0].func, "main.main");
  assert_int_equal(fr[0].line, (int32_t)unit_fact_u64(&p.facts, "calls_work_line"));
  unit_pcln_close(&p);
}

/* Without funcdata (gofunc unknown) there is no inline tree to read: the
 * physical function is reported at the pc's line. */
static void check_without_funcdata_reports_physical_frame_only(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  pcln_set_funcdata(&p.t, 0, NULL, NULL);
  uint64_t pc = unit_fact_u64(&p.facts, "inline_pc");
  pcln_func f;
  assert_true(find_ok(&p.t, pc, &f));
  pcln_frame fr[4];
  assert_int_equal(pcln_expand(&p.t, &f, pc, fr, 4), 1);
  assert_string_equal(fr[0].func, "main.main");
  assert_false(fr[0].inlined);
  assert_int_equal(fr[0].line, (int32_t)unit_fact_u64(&p.facts, "inlined_body_line"));
  /* gofunc known but no way to read it */
  pcln_set_funcdata(&p.t, p.gofunc, NULL, NULL);
  assert_int_equal(pcln_expand(&p.t, &f, pc, fr, 4), 1);
  assert_string_equal(fr[0].func, "main.main");
  /* and a callback that has no bytes for the tree degrades the same way */
  pcln_set_funcdata(&p.t, 0x10, unit_pcln_bytes_at, &p);
  assert_int_equal(pcln_expand(&p.t, &f, pc, fr, 4), 1);
  assert_string_equal(fr[0].func, "main.main");
  unit_pcln_close(&p);
}

static void check_pc_outside_text_is_not_found(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  pcln_func f, last;
  assert_int_equal(pcln_func_at(&p.t, p.t.nfunc - 1, &last), 0);
  const uint64_t outside[] = {0, p.text - 1, last.end, last.end + 0x1000, UINT64_MAX};
  for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
    se_clear();
    assert_se_error(pcln_find(&p.t, outside[i], &f), SE_CORRUPT);
  }
  assert_true(find_ok(&p.t, last.end - 1, &f));
  assert_int_equal(f.entry, last.entry);
  se_clear();
  assert_se_error(pcln_func_at(&p.t, p.t.nfunc, &f), SE_CORRUPT);
  /* before the text address is known nothing is found */
  pcln_set_text(&p.t, 0);
  se_clear();
  assert_int_not_equal(pcln_find(&p.t, unit_fact_u64(&p.facts, "main_main"), &f), 0);
  unit_pcln_close(&p);
}

static void check_every_function_has_a_name_and_is_found_by_its_entry(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  uint64_t prev_end = 0;
  int saw_main = 0;
  for (uint64_t i = 0; i < p.t.nfunc; i++) {
    pcln_func f, g;
    assert_int_equal(pcln_func_at(&p.t, i, &f), 0);
    const char *name = pcln_name(&p.t, &f);
    assert_non_null(name);
    assert_true(name[0] != '\0');
    assert_true(f.entry < f.end);
    if (i == 0) assert_int_equal(f.entry, p.text);
    else assert_int_equal(f.entry, prev_end); /* functab entries tile the text */
    prev_end = f.end;
    assert_true(find_ok(&p.t, f.entry, &g));
    assert_int_equal(g.off, f.off);
    assert_true(find_ok(&p.t, f.end - 1, &g));
    assert_int_equal(g.off, f.off);
    saw_main += !strcmp(name, "main.main");
  }
  assert_int_equal(saw_main, 1);
  unit_pcln_close(&p);
}

static void check_special_functions_are_recognized(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  pcln_func f;
  /* newproc1 makes goexit+PCQuantum the bottom return address */
  assert_true(find_ok(&p.t, unit_fact_u64(&p.facts, "goexit") + 1, &f));
  assert_string_equal(pcln_name(&p.t, &f), "runtime.goexit");
  assert_true(pcln_flag(&p.t, &f) & PCLN_FLAG_TOPFRAME);

  assert_true(find_ok(&p.t, unit_fact_u64(&p.facts, "sigpanic"), &f));
  assert_string_equal(pcln_name(&p.t, &f), "runtime.sigpanic");
  assert_true(pcln_is_special(&p.t, pcln_funcid(&p.t, &f), PCLN_FID_SIGPANIC));
  assert_false(pcln_is_special(&p.t, pcln_funcid(&p.t, &f), PCLN_FID_GOPANIC));

  assert_true(find_ok(&p.t, unit_fact_u64(&p.facts, "rtmain_ret"), &f));
  assert_string_equal(pcln_name(&p.t, &f), "runtime.main");
  assert_true(pcln_is_special(&p.t, pcln_funcid(&p.t, &f), PCLN_FID_RUNTIME_MAIN));
  assert_false(pcln_flag(&p.t, &f) & PCLN_FLAG_TOPFRAME);

  assert_true(find_ok(&p.t, unit_fact_u64(&p.facts, "main_main"), &f));
  assert_int_equal(pcln_funcid(&p.t, &f), 0); /* funcID_normal */
  for (int k = 0; k < PCLN_FID_COUNT_; k++) assert_false(pcln_is_special(&p.t, 0, (pcln_special)k));
  /* these exist in every supported version */
  assert_true(p.t.special[PCLN_FID_GOPANIC] > 0);
  assert_true(p.t.special[PCLN_FID_WRAPPER] > 0);
  assert_true(p.t.special[PCLN_FID_ASYNCPREEMPT] > 0);
  unit_pcln_close(&p);
}

/* ---- mutations of real tables -------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

typedef struct {
  const uint8_t *lo;
  size_t n;
} span;

/* NULL, the placeholder "?", or a NUL-terminated string inside the table. */
static void assert_string_inside(const char *s, span tab) {
  if (!s || !strcmp(s, "?")) return;
  const uint8_t *u = (const uint8_t *)s;
  if (u < tab.lo || u >= tab.lo + tab.n || !memchr(u, 0, (size_t)(tab.lo + tab.n - u)))
    fail_msg("string %p is outside the table [%p, +%zu)", (const void *)s, (const void *)tab.lo, tab.n);
}

/* Inline-tree records of random bytes: the parser must cope with any funcid,
 * name offset and parent pc a corrupt binary could hold. */
static uint8_t g_noise[64];
static const uint8_t *noise_bytes(void *ctx, uint64_t addr, size_t n) {
  (void)ctx;
  (void)addr;
  if (n > sizeof g_noise) return NULL;
  for (size_t i = 0; i < sizeof g_noise; i++) g_noise[i] = (uint8_t)rnd();
  return g_noise;
}

/* Everything a caller may do with an opened table, on a corrupt one. */
static void exercise(const pcln_table *t, span tab, uint64_t pc) {
  pcln_func f;
  if (pcln_find(t, pc, &f) != 0) return;
  assert_true(f.off + t->func_size <= tab.n);
  assert_string_inside(pcln_name(t, &f), tab);
  (void)pcln_funcid(t, &f);
  (void)pcln_flag(t, &f);
  int32_t d;
  (void)pcln_spdelta(t, &f, pc, &d);
  const char *file = NULL;
  int32_t line;
  (void)pcln_fileline(t, &f, pc, &file, &line);
  assert_string_inside(file, tab);
  for (uint32_t id = 0; id < 4; id++) (void)pcln_pcdata(t, &f, id, pc);
  pcln_frame fr[16];
  int n = pcln_expand(t, &f, pc, fr, 16);
  assert_true(n >= 0 && n <= 16);
  for (int i = 0; i < n; i++) {
    assert_string_inside(fr[i].func, tab);
    assert_string_inside(fr[i].file, tab);
  }
}

static void check_mutated_tables_never_read_outside(const char *ver) {
  unit_pcln p;
  unit_pcln_open(&p, ver);
  rng_state = 0x243f6a8885a308d3ULL ^ (uint64_t)p.go_minor;
  const uint64_t pcs[] = {unit_fact_u64(&p.facts, "main_main"), unit_fact_u64(&p.facts, "inline_pc"),
                          unit_fact_u64(&p.facts, "work_ret"), unit_fact_u64(&p.facts, "rtmain_ret"),
                          unit_fact_u64(&p.facts, "sigpanic")};
  const pcln_table *good = &p.t;
  int opened = 0, refused = 0;
  int iters = unit_fuzz_iterations(2000);
  for (int iter = 0; iter < iters; iter++) {
    unit_blob m = unit_copy(p.pcln.bytes, p.pcln.len);
    size_t n = m.len;
    int kind = iter % 6;
    int k = 1 + (int)(rnd() % 8);
    for (int i = 0; i < k; i++) {
      size_t at;
      switch (kind) {
        case 0: at = (size_t)(rnd() % 72); break;                                      /* header */
        case 1: at = good->pcln_off + (size_t)(rnd() % (good->nfunc * 8 + 8)); break;  /* functab */
        case 2: at = good->pc_off + (size_t)(rnd() % good->pc_len); break;             /* pc tables */
        case 3: {                                                                       /* main.main's _func */
          pcln_func f;
          assert_int_equal(pcln_find(good, pcs[0], &f), 0);
          at = (f.off + (size_t)(rnd() % (good->func_size + 16))) % m.len;
          break;
        }
        default: at = (size_t)(rnd() % m.len); break;
      }
      m.bytes[at] = (kind == 1 && rnd() % 2) ? 0xff : (uint8_t)rnd();
    }
    if (kind == 5) n = 72 + (size_t)(rnd() % (m.len - 72)); /* cut short */
    unit_blob cut = unit_copy(m.bytes, n);
    unit_blob_free(&m);
    pcln_table t;
    se_clear();
    int rc = pcln_open(&t, cut.bytes, cut.len);
    if (rc != 0) {
      refused++;
      assert_true(rc == SE_CORRUPT || rc == SE_NOTGO);
      assert_true(strlen(se_msg()) > 0);
    } else {
      opened++;
      span tab = {cut.bytes, cut.len};
      pcln_set_text(&t, p.text);
      if (iter % 7 == 3) pcln_set_funcdata(&t, p.gofunc, noise_bytes, NULL);
      else pcln_set_funcdata(&t, p.gofunc, unit_pcln_bytes_at, &p);
      for (size_t i = 0; i < sizeof pcs / sizeof pcs[0]; i++) exercise(&t, tab, pcs[i]);
      for (int i = 0; i < 8; i++) exercise(&t, tab, p.text + rnd() % 0x100000);
      for (uint64_t i = 0; i < 4 && i < t.nfunc; i++) {
        pcln_func f;
        if (pcln_func_at(&t, t.nfunc - 1 - i, &f) == 0) assert_string_inside(pcln_name(&t, &f), tab);
      }
    }
    unit_blob_free(&cut);
  }
  assert_true(opened > 100 && refused > 100); /* both paths were exercised */
  unit_pcln_close(&p);
}

#define PCLN_VERSIONS(X) X(119, "1.19") X(121, "1.21") X(127, "1.27")
#define PCLN_TESTS(tag, ver)                                                                                \
  static void test_pclntab_layout_matches_version_go##tag(void **s) { (void)s; check_layout_matches_version(ver); } \
  static void test_pclntab_finds_main_main_go##tag(void **s) { (void)s; check_finds_main_main(ver); }            \
  static void test_pclntab_line_of_every_main_main_instruction_matches_objdump_go##tag(void **s) {             \
    (void)s;                                                                                                    \
    check_file_and_line_of_every_main_main_instruction(ver);                                                    \
  }                                                                                                             \
  static void test_pclntab_sp_delta_matches_debug_frame_go##tag(void **s) {                                    \
    (void)s;                                                                                                    \
    check_sp_delta_matches_debug_frame(ver);                                                                    \
  }                                                                                                             \
  static void test_pclntab_expands_inlined_add_into_main_go##tag(void **s) {                                   \
    (void)s;                                                                                                    \
    check_expands_inlined_add_into_main(ver);                                                                   \
  }                                                                                                             \
  static void test_pclntab_without_funcdata_reports_physical_frame_only_go##tag(void **s) {                    \
    (void)s;                                                                                                    \
    check_without_funcdata_reports_physical_frame_only(ver);                                                    \
  }                                                                                                             \
  static void test_pclntab_pc_outside_text_is_not_found_go##tag(void **s) {                                    \
    (void)s;                                                                                                    \
    check_pc_outside_text_is_not_found(ver);                                                                    \
  }                                                                                                             \
  static void test_pclntab_every_function_has_a_name_and_is_found_by_its_entry_go##tag(void **s) {             \
    (void)s;                                                                                                    \
    check_every_function_has_a_name_and_is_found_by_its_entry(ver);                                             \
  }                                                                                                             \
  static void test_pclntab_special_functions_are_recognized_go##tag(void **s) {                                \
    (void)s;                                                                                                    \
    check_special_functions_are_recognized(ver);                                                                \
  }                                                                                                             \
  static void test_pclntab_mutated_tables_never_read_outside_go##tag(void **s) {                               \
    (void)s;                                                                                                    \
    check_mutated_tables_never_read_outside(ver);                                                               \
  }
PCLN_VERSIONS(PCLN_TESTS)

/* ---- hand-made tables ----------------------------------------------------- */

/* A minimal Go 1.20+ table (runtime/symtab.go: pcHeader, _func):
 *   main.f [text+0x00, text+0x40)   main.g [text+0x40, text+0x80)
 * both in file "/src/f.go", sharing these pc-value tables:
 *   pcsp: 0 on [0,4), 8 on [4,0x40)   pcfile: 0   pcln: 10 on [0,0x10), 11 after
 * `extra` bytes are appended to the pc tables at offset syn->extra_off. */
enum { SYN_TEXT = 0x401000, HDR_SIZE = 72, FUNC_SIZE = 44 };

typedef struct {
  unit_blob b;
  size_t funcname_off, cu_off, file_off, pc_off, pcln_off, func_off[2];
  uint32_t extra_off, pcsp_off;
} synth;

typedef struct {
  uint8_t *p;
  size_t n, cap;
} wbuf;

static void put(wbuf *w, const void *p, size_t n) {
  assert_true(w->n + n <= w->cap);
  memcpy(w->p + w->n, p, n);
  w->n += n;
}
static void put32(wbuf *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  put(w, b, 4);
}
static void set32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static void set64(uint8_t *p, uint64_t v) {
  set32(p, (uint32_t)v);
  set32(p + 4, (uint32_t)(v >> 32));
}
static void put64(wbuf *w, uint64_t v) {
  uint8_t b[8];
  set64(b, v);
  put(w, b, 8);
}

static void put_func(wbuf *w, uint32_t entryoff, uint32_t nameoff, uint32_t pcsp, uint32_t pcfile, uint32_t pcln) {
  put32(w, entryoff);
  put32(w, nameoff);
  put32(w, 0); /* args */
  put32(w, 0); /* deferreturn */
  put32(w, pcsp);
  put32(w, pcfile);
  put32(w, pcln);
  put32(w, 0); /* npcdata */
  put32(w, 0); /* cuOffset */
  put32(w, 0); /* startLine */
  const uint8_t tail[4] = {0 /* funcID */, 0 /* flag */, 0, 0 /* nfuncdata */};
  put(w, tail, 4);
}

static synth synth_build(const uint8_t *extra, size_t extra_len) {
  static uint8_t tmp[4096];
  wbuf w = {tmp, 0, sizeof tmp};
  synth s;
  memset(&s, 0, sizeof s);
  put32(&w, 0xfffffff1u);
  const uint8_t arch[4] = {0, 0, 1 /* minLC */, 8 /* ptrSize */};
  put(&w, arch, 4);
  put64(&w, 2); /* nfunc */
  put64(&w, 1); /* nfiles */
  put64(&w, SYN_TEXT);
  size_t offs_at = w.n;
  for (int i = 0; i < 5; i++) put64(&w, 0);
  assert_int_equal(w.n, HDR_SIZE);

  s.funcname_off = w.n;
  put(&w, "main.f\0main.g\0", 14);
  s.cu_off = w.n;
  put32(&w, 0);
  s.file_off = w.n;
  put(&w, "/src/f.go\0", 10);
  s.pc_off = w.n;
  static const uint8_t pctab[] = {
      0x00,                         /* offset 0 means "no table" */
      0x02, 0x04, 0x10, 0x3c, 0x00, /* pcsp at 1 */
      0x02, 0x40, 0x00,             /* pcfile at 6 */
      0x16, 0x10, 0x02, 0x30, 0x00, /* pcln at 9 */
  };
  put(&w, pctab, sizeof pctab);
  s.pcsp_off = 1;
  s.extra_off = (uint32_t)sizeof pctab;
  if (extra_len) put(&w, extra, extra_len);
  s.pcln_off = w.n;
  put32(&w, 0x00);
  put32(&w, 24);
  put32(&w, 0x40);
  put32(&w, 24 + FUNC_SIZE);
  put32(&w, 0x80);
  put32(&w, 0);
  s.func_off[0] = w.n;
  put_func(&w, 0x00, 0, 1, 6, 9);
  s.func_off[1] = w.n;
  put_func(&w, 0x40, 7, 1, 6, 9);

  const size_t offs[5] = {s.funcname_off, s.cu_off, s.file_off, s.pc_off, s.pcln_off};
  for (int i = 0; i < 5; i++) set64(tmp + offs_at + 8 * (size_t)i, offs[i]);
  s.b = unit_copy(tmp, w.n);
  return s;
}

static void synth_open(synth *s, pcln_table *t) {
  se_clear();
  if (pcln_open(t, s->b.bytes, s->b.len) != 0) fail_msg("pcln_open(synthetic): %s", se_msg());
  pcln_set_text(t, SYN_TEXT);
}

static void test_pclntab_hand_made_table_lookups(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  pcln_table t;
  synth_open(&s, &t);
  assert_int_equal(t.nfunc, 2);
  assert_false(t.go118);
  assert_int_equal(pcln_header_text(&t), SYN_TEXT);
  pcln_func f;
  const char *file;
  int32_t line, d;

  assert_true(find_ok(&t, SYN_TEXT + 0x0f, &f));
  assert_string_equal(pcln_name(&t, &f), "main.f");
  assert_int_equal(f.entry, SYN_TEXT);
  assert_int_equal(f.end, SYN_TEXT + 0x40);
  assert_true(pcln_fileline(&t, &f, SYN_TEXT + 0x0f, &file, &line));
  assert_string_equal(file, "/src/f.go");
  assert_int_equal(line, 10);
  assert_true(pcln_fileline(&t, &f, SYN_TEXT + 0x10, &file, &line));
  assert_int_equal(line, 11);
  assert_true(pcln_spdelta(&t, &f, SYN_TEXT + 3, &d));
  assert_int_equal(d, 0);
  assert_true(pcln_spdelta(&t, &f, SYN_TEXT + 4, &d));
  assert_int_equal(d, 8);
  assert_int_equal(pcln_pcdata(&t, &f, 0, SYN_TEXT), -1); /* npcdata is 0 */

  assert_true(find_ok(&t, SYN_TEXT + 0x40, &f));
  assert_string_equal(pcln_name(&t, &f), "main.g");
  assert_true(find_ok(&t, SYN_TEXT + 0x7f, &f));
  assert_string_equal(pcln_name(&t, &f), "main.g");
  pcln_frame fr[2];
  assert_int_equal(pcln_expand(&t, &f, SYN_TEXT + 0x50, fr, 2), 1);
  assert_string_equal(fr[0].func, "main.g");
  assert_int_equal(fr[0].line, 11);

  se_clear();
  assert_se_error(pcln_find(&t, SYN_TEXT + 0x80, &f), SE_CORRUPT);
  se_clear();
  assert_se_error(pcln_find(&t, SYN_TEXT - 1, &f), SE_CORRUPT);
  for (int k = 0; k < PCLN_FID_COUNT_; k++) assert_int_equal(t.special[k], -1);
  unit_blob_free(&s.b);
}

/* Opens a modified copy; returns pcln_open's result. */
static int open_modified(const synth *s, size_t size, pcln_table *t) {
  unit_blob c = unit_copy(s->b.bytes, size);
  se_clear();
  int rc = pcln_open(t, c.bytes, c.len);
  unit_blob_free(&c);
  return rc;
}

static void test_pclntab_truncated_header_is_corrupt(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  pcln_table t;
  assert_se_error(open_modified(&s, 0, &t), SE_CORRUPT);
  assert_se_error(open_modified(&s, 8, &t), SE_CORRUPT);
  assert_se_error(open_modified(&s, HDR_SIZE - 1, &t), SE_CORRUPT);
  /* a header whose sub-tables run past the cut */
  assert_se_error(open_modified(&s, HDR_SIZE, &t), SE_CORRUPT);
  assert_se_error(open_modified(&s, s.pcln_off - 1, &t), SE_CORRUPT);
  unit_blob_free(&s.b);
}

static void test_pclntab_wrong_magic_is_not_go(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  pcln_table t;
  const uint32_t magics[] = {0xfffffffau /* Go 1.16 */, 0xfffffffbu /* Go 1.2 */, 0, 0xf1ffffffu /* byte-swapped */};
  for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
    set32(s.b.bytes, magics[i]);
    assert_se_error(open_modified(&s, s.b.len, &t), SE_NOTGO);
  }
  unit_blob_free(&s.b);
}

static void test_pclntab_header_for_another_architecture_is_corrupt(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  pcln_table t;
  s.b.bytes[7] = 4; /* ptrSize */
  assert_se_error(open_modified(&s, s.b.len, &t), SE_CORRUPT);
  s.b.bytes[7] = 8;
  s.b.bytes[6] = 4; /* minLC of arm64 */
  assert_se_error(open_modified(&s, s.b.len, &t), SE_CORRUPT);
  unit_blob_free(&s.b);
}

static void test_pclntab_nfunc_larger_than_the_table_is_corrupt(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  pcln_table t;
  size_t pcln_len = s.b.len - s.pcln_off;
  const uint64_t bad[] = {0, pcln_len / 8, pcln_len, 1ULL << 40, UINT64_MAX};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    set64(s.b.bytes + 8, bad[i]);
    assert_se_error(open_modified(&s, s.b.len, &t), SE_CORRUPT);
  }
  unit_blob_free(&s.b);
}

/* The function table is the last sub-table; when its offset leaves fewer
 * than 8 bytes, not even one functab entry fits, whatever nfunc says. */
static void test_pclntab_function_table_with_no_room_is_corrupt(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  pcln_table t;
  int rc[8];
  for (size_t left = 0; left < 8; left++) {
    set64(s.b.bytes + 8, 1); /* nfunc */
    set64(s.b.bytes + 32 + 8 * 4, s.b.len - left);
    rc[left] = open_modified(&s, s.b.len, &t);
  }
  unit_blob_free(&s.b);
  for (size_t left = 0; left < 8; left++)
    if (rc[left] != SE_CORRUPT)
      fail_msg("pcln_open accepted nfunc=1 with a %zu-byte function table (rc %d); with a large nfunc it "
               "would then walk nfunc entries in learn_special_ids",
               left, rc[left]);
}

static void test_pclntab_sub_table_offsets_out_of_order_or_past_the_end_are_corrupt(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  pcln_table t;
  const size_t real[5] = {s.funcname_off, s.cu_off, s.file_off, s.pc_off, s.pcln_off};
  const struct {
    int which;
    uint64_t value;
  } bad[] = {
      {0, HDR_SIZE - 1},        /* funcname table inside the header */
      {1, s.funcname_off - 1},  /* cu before funcname */
      {2, s.cu_off - 1},        /* file before cu */
      {3, s.file_off - 1},      /* pc before file */
      {4, s.pc_off - 1},        /* pcln before pc */
      {4, s.b.len + 1},         /* past the end */
      {2, UINT64_MAX},          /* far past the end */
      {0, (uint64_t)1 << 63},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    for (int k = 0; k < 5; k++) set64(s.b.bytes + 32 + 8 * (size_t)k, real[k]);
    set64(s.b.bytes + 32 + 8 * (size_t)bad[i].which, bad[i].value);
    assert_se_error(open_modified(&s, s.b.len, &t), SE_CORRUPT);
  }
  unit_blob_free(&s.b);
}

static void test_pclntab_funcoff_past_the_end_is_corrupt_for_that_function_only(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  size_t pcln_len = s.b.len - s.pcln_off;
  const uint32_t bad[] = {0xffffffffu, (uint32_t)pcln_len, (uint32_t)pcln_len - FUNC_SIZE + 1};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    set32(s.b.bytes + s.pcln_off + 4, bad[i]); /* functab[0].funcoff */
    pcln_table t;
    synth_open(&s, &t);
    pcln_func f;
    se_clear();
    assert_se_error(pcln_find(&t, SYN_TEXT, &f), SE_CORRUPT);
    assert_se_error(pcln_func_at(&t, 0, &f), SE_CORRUPT);
    assert_true(find_ok(&t, SYN_TEXT + 0x40, &f));
    assert_string_equal(pcln_name(&t, &f), "main.g");
  }
  unit_blob_free(&s.b);
}

static void test_pclntab_names_and_files_must_end_inside_their_tables(void **state) {
  (void)state;
  synth s = synth_build(NULL, 0);
  pcln_table t;
  pcln_func f;
  const char *file;
  int32_t line;
  /* main.g's name loses its NUL: it would run into the cu table */
  s.b.bytes[s.cu_off - 1] = 'x';
  synth_open(&s, &t);
  assert_true(find_ok(&t, SYN_TEXT + 0x40, &f));
  assert_null(pcln_name(&t, &f));
  pcln_frame fr[1];
  assert_int_equal(pcln_expand(&t, &f, SYN_TEXT + 0x40, fr, 1), 1);
  assert_string_equal(fr[0].func, "?");
  s.b.bytes[s.cu_off - 1] = '\0';
  /* name offsets at and past the end of the name table */
  set32(s.b.bytes + s.func_off[1] + 4, (uint32_t)(s.cu_off - s.funcname_off));
  synth_open(&s, &t);
  assert_true(find_ok(&t, SYN_TEXT + 0x40, &f));
  assert_null(pcln_name(&t, &f));
  set32(s.b.bytes + s.func_off[1] + 4, 0xffffffffu);
  synth_open(&s, &t);
  assert_true(find_ok(&t, SYN_TEXT + 0x40, &f));
  assert_null(pcln_name(&t, &f));
  set32(s.b.bytes + s.func_off[1] + 4, 7);
  /* the file name loses its NUL: it would run into the pc tables */
  s.b.bytes[s.pc_off - 1] = 'x';
  synth_open(&s, &t);
  assert_true(find_ok(&t, SYN_TEXT, &f));
  assert_false(pcln_fileline(&t, &f, SYN_TEXT, &file, &line));
  assert_string_equal(file, "?");
  s.b.bytes[s.pc_off - 1] = '\0';
  /* a cu offset past the cu table */
  set32(s.b.bytes + s.func_off[0] + 32, 1000);
  synth_open(&s, &t);
  assert_true(find_ok(&t, SYN_TEXT, &f));
  assert_false(pcln_fileline(&t, &f, SYN_TEXT, &file, &line));
  assert_string_equal(file, "?");
  /* a pcsp offset past the pc tables */
  set32(s.b.bytes + s.func_off[0] + 16, (uint32_t)(s.pcln_off - s.pc_off));
  synth_open(&s, &t);
  assert_true(find_ok(&t, SYN_TEXT, &f));
  int32_t d;
  assert_false(pcln_spdelta(&t, &f, SYN_TEXT, &d));
  unit_blob_free(&s.b);
}

/* ---- pc-value tables and varints ------------------------------------------ */

typedef struct {
  synth s;
  pcln_table t;
  uint32_t off;
} pcv;

static pcv pcv_from(const uint8_t *tab, size_t n) {
  pcv v;
  v.s = synth_build(tab, n);
  synth_open(&v.s, &v.t);
  v.off = v.s.extra_off;
  return v;
}
static int32_t value_at(const pcv *v, uint64_t entry, uint64_t pc, bool *ok) {
  return pcln_pcvalue(&v->t, v->off, entry, pc, ok);
}

#define ASSERT_VALUE(v, entry, pc, want)                 \
  do {                                                   \
    bool ok_ = false;                                    \
    int32_t got_ = value_at(&(v), (entry), (pc), &ok_);  \
    assert_true(ok_);                                    \
    assert_int_equal(got_, (want));                      \
  } while (0)
#define ASSERT_NOT_COVERED(v, entry, pc)                \
  do {                                                  \
    bool ok_ = true;                                    \
    int32_t got_ = value_at(&(v), (entry), (pc), &ok_); \
    assert_false(ok_);                                  \
    assert_int_equal(got_, -1);                         \
  } while (0)

enum { E = 0x1000 }; /* entry pc for the hand-made tables */

static void pcv_free(pcv *v) { unit_blob_free(&v->s.b); }

static void test_pcvalue_first_value_delta_zero_is_legal(void **state) {
  (void)state;
  /* values start at -1 (runtime.pcvalue): a first delta of 0 means -1,
   * as in every PCDATA_InlTreeIndex table that starts outside inlining */
  static const uint8_t tab[] = {0x00, 0x04, 0x02, 0x04, 0x00};
  pcv v = pcv_from(tab, sizeof tab);
  ASSERT_VALUE(v, E, E, -1);
  ASSERT_VALUE(v, E, E + 3, -1);
  ASSERT_VALUE(v, E, E + 4, 0);
  ASSERT_VALUE(v, E, E + 7, 0);
  ASSERT_NOT_COVERED(v, E, E + 8);
  pcv_free(&v);
}

static void test_pcvalue_zigzag_deltas_go_up_and_down(void **state) {
  (void)state;
  /* +25, -8, -1 (zigzag: 50, 15, 1) */
  static const uint8_t tab[] = {0x32, 0x02, 0x0f, 0x02, 0x01, 0x02, 0x00};
  pcv v = pcv_from(tab, sizeof tab);
  ASSERT_VALUE(v, E, E + 0, 24);
  ASSERT_VALUE(v, E, E + 1, 24);
  ASSERT_VALUE(v, E, E + 2, 16);
  ASSERT_VALUE(v, E, E + 4, 15);
  ASSERT_VALUE(v, E, E + 5, 15);
  ASSERT_NOT_COVERED(v, E, E + 6);
  pcv_free(&v);
}

static void test_pcvalue_multi_byte_deltas(void **state) {
  (void)state;
  /* value +1000 (zigzag 2000 = d0 0f), pc delta 200 (c8 01) */
  static const uint8_t tab[] = {0xd0, 0x0f, 0xc8, 0x01, 0x00};
  pcv v = pcv_from(tab, sizeof tab);
  ASSERT_VALUE(v, E, E, 999);
  ASSERT_VALUE(v, E, E + 199, 999);
  ASSERT_NOT_COVERED(v, E, E + 200);
  pcv_free(&v);
}

static void test_pcvalue_table_ends_at_zero_value_delta_after_first_pair(void **state) {
  (void)state;
  /* after the first pair a value delta of 0 ends the table, even if bytes follow */
  static const uint8_t tab[] = {0x02, 0x04, 0x00, 0x04, 0x02, 0x04};
  pcv v = pcv_from(tab, sizeof tab);
  ASSERT_VALUE(v, E, E + 3, 0);
  ASSERT_NOT_COVERED(v, E, E + 4);
  ASSERT_NOT_COVERED(v, E, E + 9);
  pcv_free(&v);
  /* ...but not while pc is still at entry (runtime.step's `first` is pc == entry) */
  static const uint8_t tab2[] = {0x02, 0x00, 0x00, 0x04, 0x00};
  v = pcv_from(tab2, sizeof tab2);
  ASSERT_VALUE(v, E, E, 0);
  ASSERT_VALUE(v, E, E + 3, 0);
  ASSERT_NOT_COVERED(v, E, E + 4);
  pcv_free(&v);
}

static void test_pcvalue_pc_past_the_table_is_not_covered(void **state) {
  (void)state;
  static const uint8_t tab[] = {0x02, 0x10, 0x00};
  pcv v = pcv_from(tab, sizeof tab);
  ASSERT_VALUE(v, E, E + 0xf, 0);
  ASSERT_NOT_COVERED(v, E, E + 0x10);
  ASSERT_NOT_COVERED(v, E, UINT64_MAX);
  pcv_free(&v);
}

static void test_pcvalue_pc_before_entry_is_not_covered(void **state) {
  (void)state;
  static const uint8_t tab[] = {0x02, 0x10, 0x00};
  pcv v = pcv_from(tab, sizeof tab);
  ASSERT_VALUE(v, E, E, 0);
  bool ok_before = true, ok_zero = true;
  int32_t before = value_at(&v, E, E - 1, &ok_before), zero = value_at(&v, E, 0, &ok_zero);
  pcv_free(&v);
  if (ok_before || ok_zero)
    fail_msg("pc below entry reported as covered: pc E-1 -> ok=%d value %d; pc 0 -> ok=%d value %d", ok_before,
             (int)before, ok_zero, (int)zero);
}

static void test_pcvalue_truncated_or_missing_tables_are_not_covered(void **state) {
  (void)state;
  /* the extra bytes are the last of the pc tables: varints cut by the end */
  static const uint8_t cut_pc[] = {0x02, 0x84};
  pcv v = pcv_from(cut_pc, sizeof cut_pc);
  ASSERT_NOT_COVERED(v, E, E);
  pcv_free(&v);
  static const uint8_t no_pc[] = {0x02};
  v = pcv_from(no_pc, sizeof no_pc);
  ASSERT_NOT_COVERED(v, E, E);
  pcv_free(&v);
  static const uint8_t cut_value[] = {0x02, 0x04, 0xff};
  v = pcv_from(cut_value, sizeof cut_value);
  ASSERT_VALUE(v, E, E + 3, 0);
  ASSERT_NOT_COVERED(v, E, E + 4);
  pcv_free(&v);
  /* offset 0 is "no table"; offsets at or past the end of the pc tables */
  static const uint8_t ok[] = {0x02, 0x04, 0x00};
  v = pcv_from(ok, sizeof ok);
  bool b = true;
  assert_int_equal(pcln_pcvalue(&v.t, 0, E, E, &b), -1);
  assert_false(b);
  b = true;
  assert_int_equal(pcln_pcvalue(&v.t, (uint32_t)v.t.pc_len, E, E, &b), -1);
  assert_false(b);
  b = true;
  assert_int_equal(pcln_pcvalue(&v.t, UINT32_MAX, E, E, &b), -1);
  assert_false(b);
  pcv_free(&v);
}

/* int32 arithmetic wraps in Go; a table whose deltas overflow must not be
 * undefined behaviour here (UBSan aborts the whole binary: keep this last). */
static void test_pcvalue_overflowing_deltas_wrap_like_go(void **state) {
  (void)state;
  /* +0x7fffffff twice (zigzag 0xfffffffe) */
  static const uint8_t tab[] = {0xfe, 0xff, 0xff, 0xff, 0x0f, 0x01, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x00};
  pcv v = pcv_from(tab, sizeof tab);
  ASSERT_VALUE(v, E, E, 0x7ffffffe);
  ASSERT_VALUE(v, E, E + 1, -3); /* int32(-1 + 0x7fffffff + 0x7fffffff) */
  pcv_free(&v);
}

static void expect_uvarint(const uint8_t *bytes, size_t n, size_t want_used, uint32_t want) {
  unit_blob b = unit_copy(bytes, n); /* exactly n bytes */
  uint32_t v = 0xdeadbeef;
  size_t used = pcln_uvarint32(b.bytes, n, &v);
  assert_int_equal(used, want_used);
  if (want_used) assert_int_equal(v, want);
  unit_blob_free(&b);
}
#define UV(want_used, want, ...)                                           \
  do {                                                                     \
    static const uint8_t b_[] = {__VA_ARGS__};                             \
    expect_uvarint(b_, sizeof b_, (want_used), (want));                    \
  } while (0)

static void test_uvarint32_edge_cases(void **state) {
  (void)state;
  UV(1, 0, 0x00);
  UV(1, 127, 0x7f);
  UV(1, 5, 0x05, 0xff); /* stops at the first byte without the high bit */
  UV(2, 128, 0x80, 0x01);
  UV(2, 200, 0xc8, 0x01);
  UV(5, 0xffffffffu, 0xff, 0xff, 0xff, 0xff, 0x0f);
  UV(5, 1u << 28, 0x80, 0x80, 0x80, 0x80, 0x01);
  UV(0, 0, 0x80);                               /* truncated */
  UV(0, 0, 0xff, 0xff, 0xff, 0xff);             /* truncated at 4 bytes */
  UV(0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01); /* 6 bytes: too long for 32 bits */
  UV(0, 0, 0x80, 0x80, 0x80, 0x80, 0x80);
  uint32_t v;
  assert_int_equal(pcln_uvarint32((const uint8_t *)"", 0, &v), 0);
}

static const struct CMUnitTest tests[] = {
#define PCLN_ENTRIES(tag, ver)                                                          \
  cmocka_unit_test(test_pclntab_layout_matches_version_go##tag),                        \
  cmocka_unit_test(test_pclntab_finds_main_main_go##tag),                               \
  cmocka_unit_test(test_pclntab_line_of_every_main_main_instruction_matches_objdump_go##tag), \
  cmocka_unit_test(test_pclntab_sp_delta_matches_debug_frame_go##tag),                  \
  cmocka_unit_test(test_pclntab_expands_inlined_add_into_main_go##tag),                 \
  cmocka_unit_test(test_pclntab_without_funcdata_reports_physical_frame_only_go##tag),  \
  cmocka_unit_test(test_pclntab_pc_outside_text_is_not_found_go##tag),                  \
  cmocka_unit_test(test_pclntab_every_function_has_a_name_and_is_found_by_its_entry_go##tag), \
  cmocka_unit_test(test_pclntab_special_functions_are_recognized_go##tag),              \
  cmocka_unit_test(test_pclntab_mutated_tables_never_read_outside_go##tag),
    PCLN_VERSIONS(PCLN_ENTRIES)
    cmocka_unit_test(test_pclntab_hand_made_table_lookups),
    cmocka_unit_test(test_pclntab_truncated_header_is_corrupt),
    cmocka_unit_test(test_pclntab_wrong_magic_is_not_go),
    cmocka_unit_test(test_pclntab_header_for_another_architecture_is_corrupt),
    cmocka_unit_test(test_pclntab_nfunc_larger_than_the_table_is_corrupt),
    cmocka_unit_test(test_pclntab_function_table_with_no_room_is_corrupt),
    cmocka_unit_test(test_pclntab_sub_table_offsets_out_of_order_or_past_the_end_are_corrupt),
    cmocka_unit_test(test_pclntab_funcoff_past_the_end_is_corrupt_for_that_function_only),
    cmocka_unit_test(test_pclntab_names_and_files_must_end_inside_their_tables),
    cmocka_unit_test(test_pcvalue_first_value_delta_zero_is_legal),
    cmocka_unit_test(test_pcvalue_zigzag_deltas_go_up_and_down),
    cmocka_unit_test(test_pcvalue_multi_byte_deltas),
    cmocka_unit_test(test_pcvalue_table_ends_at_zero_value_delta_after_first_pair),
    cmocka_unit_test(test_pcvalue_pc_past_the_table_is_not_covered),
    cmocka_unit_test(test_pcvalue_pc_before_entry_is_not_covered),
    cmocka_unit_test(test_pcvalue_truncated_or_missing_tables_are_not_covered),
    cmocka_unit_test(test_uvarint32_edge_cases),
    cmocka_unit_test(test_pcvalue_overflowing_deltas_wrap_like_go),
};

UNIT_MAIN(tests)
