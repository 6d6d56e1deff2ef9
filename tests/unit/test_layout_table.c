/* test_layout_table.c: the layout tables for binaries without DWARF
 * (index/layouts/go1.NN.yaml, read by gr_layout_from_table and written by
 * gr_layout_emit_yaml).
 *
 * Real tables: every checked-in table loads for its version, passes the
 * contract, agrees with docs/go-runtime.md section 2 and survives an
 * emit/load round trip. Hand-made tables: edits of a real table written to
 * temporary files, each breaking one rule; every refusal must name the file
 * (and the line, where there is one). Takes the data directory as argv[1]
 * and the tables' directory as argv[2]. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "goruntime/layout.h"

static const char *g_layouts_dir = SONDE_LAYOUTS_DIR;

/* ---- helpers -------------------------------------------------------------- */

static void table_path(char *out, size_t cap, int minor) {
  int n = snprintf(out, cap, "%s/go1.%d.yaml", g_layouts_dir, minor);
  if (n < 0 || (size_t)n >= cap) fail_msg("path too long");
}

/* The whole of a checked-in table, NUL-terminated (malloc'd). */
static char *table_text(int minor) {
  char path[4096];
  table_path(path, sizeof path, minor);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  char *z = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&z, &n);
  assert_non_null(m);
  char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, k, m);
  fclose(f);
  fclose(m);
  return z;
}

/* text with the (only) line containing `needle` replaced by `with` (a whole
 * line without its newline), or removed when `with` is NULL. malloc'd. */
static char *edit_line(const char *text, const char *needle, const char *with) {
  const char *hit = strstr(text, needle);
  if (!hit) {
    fail_msg("no line contains \"%s\"", needle);
    return NULL; /* not reached (cmocka's _fail is not declared noreturn, and -O2 warns without this) */
  }
  if (strstr(hit + 1, needle)) fail_msg("more than one line contains \"%s\"", needle);
  const char *bol = hit, *eol = strchr(hit, '\n');
  while (bol > text && bol[-1] != '\n') bol--;
  eol = eol ? eol + 1 : hit + strlen(hit);
  char *z = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&z, &n);
  assert_non_null(m);
  fwrite(text, 1, (size_t)(bol - text), m);
  if (with) fprintf(m, "%s\n", with);
  fputs(eol, m);
  fclose(m);
  return z;
}

/* 1-based number of the line containing `needle`. */
static int line_of(const char *text, const char *needle) {
  const char *hit = strstr(text, needle);
  if (!hit) fail_msg("no line contains \"%s\"", needle);
  int line = 1;
  for (const char *p = text; p < hit; p++) line += *p == '\n';
  return line;
}

/* A temporary file holding `text`; delete it with unlink(path). */
static void write_temp(char path[64], const char *text) {
  snprintf(path, 64, "/tmp/sonde-unit-layout-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) fail_msg("mkstemp failed");
  FILE *f = fdopen(fd, "wb");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

/* Loads `text` as the table for Go 1.minor. The path is left in path_out
 * for message checks; the file is gone on return. */
static int load_text(const char *text, int minor, gr_layout *L, char path_out[64]) {
  write_temp(path_out, text);
  se_clear();
  int rc = gr_layout_from_table(path_out, minor, L);
  unlink(path_out);
  return rc;
}

static void assert_msg_has(const char *part) {
  if (!strstr(se_msg(), part)) fail_msg("message \"%s\" does not contain \"%s\"", se_msg(), part);
}

/* Loading `text` fails with `code`, naming the file and, when line > 0,
 * "file:line:". */
static void expect_refused(const char *what, const char *text, int minor, int code, int line, const char *part) {
  gr_layout L;
  char path[64];
  int rc = load_text(text, minor, &L, path);
  if (rc != code) print_error("%s:\n", what);
  assert_se_error(rc, code);
  assert_msg_has(path);
  char at[96] = "";
  if (line > 0) snprintf(at, sizeof at, "%s:%d:", path, line);
  if (!strstr(se_msg(), at) || (part && !strstr(se_msg(), part)))
    fail_msg("%s: message \"%s\" does not contain \"%s\" and \"%s\"", what, se_msg(), at, part ? part : "");
}

static void load_ok(const char *path, int minor, gr_layout *L) {
  se_clear();
  int rc = gr_layout_from_table(path, minor, L);
  if (rc) fail_msg("gr_layout_from_table(%s, %d): %s", path, minor, se_msg());
}

static void load_text_ok(const char *text, int minor, gr_layout *L) {
  char path[64];
  int rc = load_text(text, minor, L, path);
  if (rc) fail_msg("loading an edited go1.%d.yaml: %s", minor, se_msg());
}

static void assert_same_layout(const gr_layout *a, const gr_layout *b) {
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = gr_layout_spec((gr_field)i);
    if (a->off[i] != b->off[i] || (a->off[i] >= 0 && (a->fsize[i] != b->fsize[i] || strcmp(a->ftype[i], b->ftype[i]))))
      fail_msg("%s.%s: offset %lld size %llu type \"%s\" became offset %lld size %llu type \"%s\"", s->st, s->path,
               (long long)a->off[i], (unsigned long long)a->fsize[i], a->ftype[i], (long long)b->off[i],
               (unsigned long long)b->fsize[i], b->ftype[i]);
  }
  for (int i = 0; i < GRL_SIZE_COUNT_; i++)
    if (a->size[i] != b->size[i])
      fail_msg("size of %s: %llu became %llu", gr_layout_size_struct((gr_size)i), (unsigned long long)a->size[i],
               (unsigned long long)b->size[i]);
}

/* ---- the checked-in tables ------------------------------------------------- */

#define TABLE_VERSIONS(X) X(19) X(21) X(22) X(23) X(24) X(25) X(26) X(27)

static void check_table_loads_and_passes_the_contract(int minor) {
  char path[4096];
  table_path(path, sizeof path, minor);
  gr_layout L;
  load_ok(path, minor, &L);
  assert_string_equal(L.source, "layout table");
  se_clear();
  if (gr_layout_check(&L)) fail_msg("go1.%d.yaml: %s", minor, se_msg());
  /* every field of the contract is in the table, present or marked absent,
   * so the table says something about each */
  char *text = table_text(minor);
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = gr_layout_spec((gr_field)i);
    char entry[160];
    snprintf(entry, sizeof entry, "{struct: \"%s\", field: \"%s\",", s->st, s->path);
    if (!strstr(text, entry)) fail_msg("go1.%d.yaml has no entry for %s.%s", minor, s->st, s->path);
  }
  free(text);
}

/* A table is only for its own version: another version's goid is elsewhere. */
static void check_table_refuses_other_versions(int minor) {
  char path[4096];
  table_path(path, sizeof path, minor);
  gr_layout L;
  const int others[] = {minor - 1, minor + 1, 0, 100};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
    se_clear();
    assert_se_error(gr_layout_from_table(path, others[i], &L), SE_CORRUPT);
    assert_msg_has(path);
    char want[32];
    snprintf(want, sizeof want, "expected 1.%d", others[i]);
    assert_msg_has(want);
  }
}

/* The generator's own words, from the table's header: "... with go1.21.13." */
static void generator_version(const char *text, char *out, size_t cap) {
  const char *p = strstr(text, "reference build with ");
  if (!p) fail_msg("the table's header does not name the Go that generated it");
  p += strlen("reference build with ");
  size_t n = strcspn(p, "\n");
  if (n == 0 || p[n - 1] != '.' || n >= cap) fail_msg("unexpected header: %.*s", (int)n, p);
  snprintf(out, cap, "%.*s", (int)(n - 1), p);
}

/* Load, emit, load again: the same layout; and the emitted text is the
 * checked-in file byte for byte (the tables are generated, never edited). */
static void check_table_round_trips_through_emit(int minor) {
  char path[4096];
  table_path(path, sizeof path, minor);
  gr_layout a, b;
  load_ok(path, minor, &a);
  char *orig = table_text(minor);
  char gover[64];
  generator_version(orig, gover, sizeof gover);

  char *z = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&z, &n);
  assert_non_null(m);
  se_clear();
  assert_int_equal(gr_layout_emit_yaml(&a, gover, minor, m), 0);
  fclose(m);
  load_text_ok(z, minor, &b);
  assert_same_layout(&a, &b);
  if (strcmp(z, orig)) fail_msg("emitting go1.%d.yaml does not reproduce it:\n%s", minor, z);
  free(z);
  free(orig);
}

#define TABLE_TESTS(minor)                                                                    \
  static void test_layout_table_go1_##minor##_loads_and_passes_the_contract(void **s) {       \
    (void)s;                                                                                  \
    check_table_loads_and_passes_the_contract(minor);                                         \
  }                                                                                           \
  static void test_layout_table_go1_##minor##_refuses_other_versions(void **s) {              \
    (void)s;                                                                                  \
    check_table_refuses_other_versions(minor);                                                \
  }                                                                                           \
  static void test_layout_table_go1_##minor##_round_trips_through_emit(void **s) {            \
    (void)s;                                                                                  \
    check_table_round_trips_through_emit(minor);                                              \
  }
TABLE_VERSIONS(TABLE_TESTS)

/* docs/go-runtime.md section 2 (runtime.g, gobuf: sched.bp
 * is sched + 48 up to 1.24, + 40 from 1.25), the runtime.m table and the
 * runtime.moduledata table, 1.21 to 1.27: the notes were written from the
 * runtime sources and DWARF independently of the tables. */
static void test_layout_tables_agree_with_go_runtime_notes(void **state) {
  (void)state;
  static const struct {
    gr_field f; /* GRL_COUNT_ for a struct size */
    gr_size sz;
    const char *what;
    int64_t v[7]; /* 1.21 .. 1.27; -1: absent */
  } k[] = {
      {GRL_COUNT_, GRL_SZ_G, "sizeof(runtime.g)", {408, 424, 432, 440, 440, 456, 456}},
      {GRL_G_STACK_LO, 0, "g.stack.lo", {0, 0, 0, 0, 0, 0, 0}},
      {GRL_G_M, 0, "g.m", {48, 48, 48, 48, 48, 48, 48}},
      {GRL_G_SCHED_SP, 0, "g.sched.sp", {56, 56, 56, 56, 56, 56, 56}},
      {GRL_G_SCHED_PC, 0, "g.sched.pc", {64, 64, 64, 64, 64, 64, 64}},
      {GRL_G_SCHED_BP, 0, "g.sched.bp", {104, 104, 104, 104, 96, 96, 96}},
      {GRL_G_SYSCALLSP, 0, "g.syscallsp", {112, 112, 112, 112, 104, 104, 104}},
      {GRL_G_SYSCALLPC, 0, "g.syscallpc", {120, 120, 120, 120, 112, 112, 112}},
      {GRL_G_ATOMICSTATUS, 0, "g.atomicstatus", {144, 144, 152, 152, 144, 144, 144}},
      {GRL_G_GOID, 0, "g.goid", {152, 152, 160, 160, 152, 152, 152}},
      {GRL_G_WAITSINCE, 0, "g.waitsince", {168, 168, 176, 176, 168, 168, 168}},
      {GRL_G_WAITREASON, 0, "g.waitreason", {176, 176, 184, 184, 176, 176, 176}},
      {GRL_G_LOCKEDM, 0, "g.lockedm", {208, 208, 216, 216, 208, 208, 208}},
      {GRL_G_PARENTGOID, 0, "g.parentGoid", {272, 272, 280, 280, 272, 280, 280}},
      {GRL_G_GOPC, 0, "g.gopc", {280, 280, 288, 288, 280, 288, 288}},
      {GRL_G_STARTPC, 0, "g.startpc", {296, 296, 304, 304, 296, 304, 304}},
      {GRL_G_RUNNINGCLEANUPS, 0, "g.runningCleanups", {-1, -1, -1, -1, 218, 220, 220}},
      {GRL_G_LABELS, 0, "g.labels", {344, 344, 352, 352, 344, 352, 352}},
      {GRL_COUNT_, GRL_SZ_M, "sizeof(runtime.m)", {1008, 2024, 1760, 1808, 1816, 1824, 1832}},
      {GRL_M_PROCID, 0, "m.procid", {72, 72, 72, 72, 64, 64, 64}},
      {GRL_M_CURG, 0, "m.curg", {192, 192, 192, 192, 184, 184, 184}},
      {GRL_M_VDSOSP, 0, "m.vdsoSP", {808, 1120, 856, 880, 896, 896, 896}},
      {GRL_M_VDSOPC, 0, "m.vdsoPC", {816, 1128, 864, 888, 904, 904, 904}},
      {GRL_COUNT_, GRL_SZ_MODULEDATA, "sizeof(runtime.moduledata)", {592, 592, 584, 584, 584, 592, 568}},
      {GRL_MD_PCHEADER, 0, "moduledata.pcHeader", {0, 0, 0, 0, 0, 0, 0}},
      {GRL_MD_MINPC, 0, "moduledata.minpc", {160, 160, 160, 160, 160, 160, 160}},
      {GRL_MD_MAXPC, 0, "moduledata.maxpc", {168, 168, 168, 168, 168, 168, 168}},
      {GRL_MD_TEXT, 0, "moduledata.text", {176, 176, 176, 176, 176, 176, 176}},
      {GRL_MD_GOFUNC, 0, "moduledata.gofunc", {320, 320, 320, 320, 320, 320, 344}},
      {GRL_MD_NEXT, 0, "moduledata.next", {584, 584, 576, 576, 576, 584, 560}},
  };
  int bad = 0;
  for (int minor = 21; minor <= 27; minor++) {
    char path[4096];
    table_path(path, sizeof path, minor);
    gr_layout L;
    load_ok(path, minor, &L);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
      int64_t got = k[i].f == GRL_COUNT_ ? (int64_t)L.size[k[i].sz] : L.off[k[i].f];
      if (got != k[i].v[minor - 21]) {
        print_error("go1.%d.yaml: %s is %lld, docs/go-runtime.md says %lld\n", minor, k[i].what, (long long)got,
                    (long long)k[i].v[minor - 21]);
        bad++;
      }
    }
    /* docs/go-runtime.md section 2: atomicstatus moved from runtime/internal/atomic to internal/runtime/atomic in 1.23 */
    assert_string_equal(L.ftype[GRL_G_ATOMICSTATUS],
                        minor < 23 ? "runtime/internal/atomic.Uint32" : "internal/runtime/atomic.Uint32");
    assert_string_equal(L.ftype[GRL_G_GOID], "uint64");
    assert_int_equal(GR_HAS(&L, DBG_TRACEBACKLABELS), minor >= 26);
  }
  if (bad) fail_msg("%d values differ from docs/go-runtime.md section 2", bad);
}

/* docs/go-runtime.md section 2, from sync/cond.go, runtime/sema.go,
 * runtime/pprof/label.go and internal/runtime/pprof/label: the fields
 * outside the runtime's own structs, in every table. */
static void test_layout_tables_agree_on_sync_cond_and_pprof_labels(void **state) {
  (void)state;
  static const int minors[] = {19, 21, 22, 23, 24, 25, 26, 27};
  for (size_t i = 0; i < sizeof minors / sizeof minors[0]; i++) {
    int minor = minors[i];
    char path[4096];
    table_path(path, sizeof path, minor);
    gr_layout L;
    load_ok(path, minor, &L);
    assert_int_equal(GR_OFF(&L, MD_FUNCNAMETAB), 8);
    assert_int_equal(GR_OFF(&L, NL_HEAD), 16);
    assert_int_equal(GR_OFF(&L, COND_NOTIFY), 16);
    assert_int_equal(GR_OFF(&L, LBL_KEY), 0);
    assert_int_equal(GR_OFF(&L, LBL_VALUE), 16);
    assert_int_equal(GR_SIZE(&L, SZ_LABEL), 32);
    /* g.labels is a *labelMap struct from 1.24; a map before */
    assert_int_equal(GR_OFF(&L, LBL_LIST), minor >= 24 ? 0 : -1);
  }
}

/* Go 1.19 predates g.parentGoid (1.21) and g.runningCleanups (1.25); its
 * goid was an int64. */
static void test_layout_table_go1_19_has_no_parent_goid(void **state) {
  (void)state;
  char path[4096];
  table_path(path, sizeof path, 19);
  gr_layout L;
  load_ok(path, 19, &L);
  assert_false(GR_HAS(&L, G_PARENTGOID));
  assert_false(GR_HAS(&L, G_RUNNINGCLEANUPS));
  assert_false(GR_HAS(&L, DBG_TRACEBACKLABELS));
  assert_int_equal(GR_OFF(&L, G_GOID), 152);
  assert_string_equal(L.ftype[GRL_G_GOID], "int64");
  assert_int_equal(GR_SIZE(&L, SZ_G), 392);
}

/* A layout with every kind of entry (present with and without a type,
 * absent, optional) comes back identical. */
static void test_layout_emit_then_load_is_identity_for_a_made_up_layout(void **state) {
  (void)state;
  gr_layout a, b;
  gr_layout_init(&a);
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = gr_layout_spec((gr_field)i);
    if (i % 5 == 4) continue; /* absent */
    a.off[i] = 1000 + 8 * i;
    a.fsize[i] = s->size == GR_ANY_SIZE ? 3528 : s->size; /* an aggregate: the size found, as in a table */
    if (i % 3) snprintf(a.ftype[i], sizeof a.ftype[i], "pkg/path.Type%d", i);
  }
  a.off[GRL_G_STACK_LO] = 0; /* offset 0 is an offset, not "absent" */
  a.off[GRL_MD_NEXT] = 1 << 20; /* the largest accepted */
  for (int i = 0; i < GRL_SIZE_COUNT_; i++) a.size[i] = (uint64_t)1 << 24;
  char *z = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&z, &n);
  assert_non_null(m);
  se_clear();
  assert_int_equal(gr_layout_emit_yaml(&a, "go1.99.0", 99, m), 0);
  fclose(m);
  load_text_ok(z, 99, &b);
  assert_same_layout(&a, &b);
  assert_non_null(strstr(z, "go: \"1.99\"\n"));
  assert_non_null(strstr(z, "go1.99.0"));
  free(z);
}

/* Type names come from the target's DWARF, where an anonymous struct's name
 * carries its field tags as Go string literals: double quotes and
 * backslashes. The emitted table must load back to the same names. */
static void test_layout_emit_then_load_keeps_type_names_with_quotes_and_backslashes(void **state) {
  (void)state;
  gr_layout a, b;
  char path[4096];
  table_path(path, sizeof path, 21);
  load_ok(path, 21, &a);
  snprintf(a.ftype[GRL_G_LABELS], sizeof a.ftype[0], "%s", "struct { A int \"json:\\\"a\\\"\" }");
  snprintf(a.ftype[GRL_G_GOPC], sizeof a.ftype[0], "%s", "struct { B int \"x:\\\\b\" }");
  char *z = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&z, &n);
  assert_non_null(m);
  se_clear();
  assert_int_equal(gr_layout_emit_yaml(&a, "go1.21.13", 21, m), 0);
  fclose(m);
  char tmp[64], wrote[200] = "";
  int rc = load_text(z, 21, &b, tmp);
  const char *l = strstr(z, "field: \"labels\"");
  if (l) snprintf(wrote, sizeof wrote, "%.*s", (int)strcspn(l, "\n"), l);
  free(z);
  if (rc) fail_msg("the emitted table does not load (%s); it wrote: %s", se_msg(), wrote);
  assert_same_layout(&a, &b);
}

static void test_layout_emit_to_an_unwritable_stream_is_an_io_error(void **state) {
  (void)state;
  gr_layout L;
  char path[4096];
  table_path(path, sizeof path, 21);
  load_ok(path, 21, &L);
  FILE *f = fopen(path, "rb"); /* read-only: every write fails */
  assert_non_null(f);
  se_clear();
  int rc = gr_layout_emit_yaml(&L, "go1.21.13", 21, f);
  fclose(f);
  assert_se_error(rc, SE_IO);
}

/* ---- refusals -------------------------------------------------------------- */

static void test_layout_table_missing_file_is_an_io_error_naming_it(void **state) {
  (void)state;
  gr_layout L;
  const char *path = "/nonexistent/sonde/index/layouts/go1.21.yaml";
  se_clear();
  assert_se_error(gr_layout_from_table(path, 21, &L), SE_IO);
  assert_msg_has(path);
  /* nothing half-filled is left behind */
  for (int i = 0; i < GRL_COUNT_; i++) assert_true(L.off[i] == -1);
}

/* A table that exists but cannot be read is an I/O error (SE_IO, "cannot
 * read a file", exit status 9), not a malformed table (SE_CORRUPT): a
 * directory where the table should be is the easy way to get a read error. */
static void test_layout_table_that_cannot_be_read_is_an_io_error(void **state) {
  (void)state;
  gr_layout L;
  se_clear();
  int rc = gr_layout_from_table(g_layouts_dir, 21, &L);
  assert_se_error(rc, SE_IO);
  assert_msg_has(g_layouts_dir);
}

static void test_layout_table_empty_file_is_refused_naming_it(void **state) {
  (void)state;
  expect_refused("an empty file", "", 21, SE_CORRUPT, 0, NULL);
  expect_refused("only a comment", "# only a comment\n", 21, SE_CORRUPT, 0, NULL);
}

static void test_layout_table_malformed_yaml_is_refused_naming_file_and_line(void **state) {
  (void)state;
  char *text = table_text(21);
  /* the flow mapping of goid's entry is never closed */
  char *bad = edit_line(text, "field: \"goid\"", "  - {struct: \"runtime.g\", field: \"goid\", offset: 152, size: 8");
  int line = line_of(bad, "field: \"goid\"");
  gr_layout L;
  char path[64];
  int rc = load_text(bad, 21, &L, path);
  assert_se_error(rc, SE_CORRUPT);
  assert_msg_has(path);
  assert_msg_has("not valid YAML");
  /* libyaml notices at the next line's "- {" (a flow mapping cannot hold a
   * block sequence entry): the goid line or just after it */
  char at1[96], at2[96];
  snprintf(at1, sizeof at1, "%s:%d:", path, line);
  snprintf(at2, sizeof at2, "%s:%d:", path, line + 1);
  if (!strstr(se_msg(), at1) && !strstr(se_msg(), at2))
    fail_msg("message \"%s\" names neither line %d nor %d", se_msg(), line, line + 1);
  free(bad);
  /* a tab where YAML forbids one */
  expect_refused("a tab as indentation", "go: \"1.21\"\nfields:\n\t- {}\n", 21, SE_CORRUPT, 3, "not valid YAML");
  free(text);
}

/* The limits of base/yaml.h hold for layout tables too: an alias is refused
 * where it appears (never expanded), and so are nesting past what a table
 * uses, a value past 1 KiB, and a second document. */
static void test_layout_table_hostile_yaml_is_refused_where_it_starts(void **state) {
  (void)state;
  expect_refused("an anchor", "go: \"1.21\"\nfields: &f []\nsizes: *f\n", 21, SE_CORRUPT, 2,
                 "anchors and aliases are not allowed in a layout table");
  expect_refused("an alias", "go: \"1.21\"\nfields: []\nsizes: *f\n", 21, SE_CORRUPT, 3, "aliases are not allowed in a layout table");
  expect_refused("five levels", "go: \"1.21\"\nfields: [[[[1]]]]\n", 21, SE_CORRUPT, 2, "nested deeper than 4 levels");
  char big[1200 + 64];
  snprintf(big, sizeof big, "go: \"1.21\"\nx: \"%01100d\"\n", 0);
  expect_refused("a 1,100-byte value", big, 21, SE_CORRUPT, 2, "longer than the 1024-byte limit");
  expect_refused("two documents", "go: \"1.21\"\n---\ngo: \"1.21\"\n", 21, SE_CORRUPT, 2, "a second YAML document");
}

static void test_layout_table_for_another_version_is_refused(void **state) {
  (void)state;
  char *text = table_text(21);
  char *other = edit_line(text, "go: \"1.21\"", "go: \"1.22\"");
  expect_refused("go: 1.22", other, 21, SE_CORRUPT, 0, "Go 1.22, expected 1.21");
  free(other);
  /* no version at all */
  other = edit_line(text, "go: \"1.21\"", NULL);
  expect_refused("no go: line", other, 21, SE_CORRUPT, 0, "expected 1.21");
  free(other);
  /* a version that is not a scalar */
  other = edit_line(text, "go: \"1.21\"", "go: [1, 21]");
  expect_refused("go: [1, 21]", other, 21, SE_CORRUPT, 0, "expected 1.21");
  free(other);
  /* "1.2" is not "1.21", nor "1.210" */
  other = edit_line(text, "go: \"1.21\"", "go: \"1.2\"");
  expect_refused("go: 1.2", other, 21, SE_CORRUPT, 0, "expected 1.21");
  free(other);
  other = edit_line(text, "go: \"1.21\"", "go: \"1.210\"");
  expect_refused("go: 1.210", other, 21, SE_CORRUPT, 0, "expected 1.21");
  free(other);
  free(text);
}

static void test_layout_table_without_fields_or_sizes_is_refused(void **state) {
  (void)state;
  expect_refused("no fields", "go: \"1.21\"\nsizes:\n  - {struct: \"runtime.g\", size: 408}\n", 21, SE_CORRUPT, 0, "fields");
  char *text = table_text(21);
  /* cut everything from "sizes:" on */
  char *cut = strdup(text);
  assert_non_null(cut);
  char *s = strstr(cut, "sizes:");
  assert_non_null(s);
  *s = '\0';
  expect_refused("no sizes", cut, 21, SE_CORRUPT, 0, "sizes");
  /* lists that are not lists */
  char *mapping = edit_line(text, "fields:", "fields: {a: b}\nignored:");
  expect_refused("fields is a mapping", mapping, 21, SE_CORRUPT, 0, "fields");
  free(mapping);
  char *scalar = edit_line(text, "sizes:", "sizes: 408\nignored:");
  expect_refused("sizes is a scalar", scalar, 21, SE_CORRUPT, 0, "sizes");
  free(scalar);
  free(cut);
  free(text);
}

static void test_layout_table_field_entry_without_struct_or_field_is_refused_naming_the_line(void **state) {
  (void)state;
  char *text = table_text(21);
  static const char *bad[] = {
      "  - {field: \"goid\", offset: 152, size: 8, type: \"uint64\"}",
      "  - {struct: \"runtime.g\", offset: 152, size: 8, type: \"uint64\"}",
      "  - {struct: [\"runtime.g\"], field: \"goid\", offset: 152, size: 8, type: \"uint64\"}",
      "  - \"runtime.g.goid\"",
      "  - {}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *t = edit_line(text, "field: \"goid\"", bad[i]);
    int line = line_of(t, bad[i] + 4);
    expect_refused(bad[i], t, 21, SE_CORRUPT, line, "needs 'struct' and 'field'");
    free(t);
  }
  free(text);
}

static void test_layout_table_non_numeric_offset_or_size_is_refused_naming_the_line(void **state) {
  (void)state;
  char *text = table_text(21);
  static const char *bad[] = {
      "offset: \"0x98\", size: 8", /* decimal only */
      "offset: abc, size: 8",
      "offset: \"\", size: 8",
      "offset: -8, size: 8",
      "offset: 152.0, size: 8",
      "offset: 152, size: eight",
      "size: 8",       /* no offset */
      "offset: 152",   /* no size */
      "offset: [152], size: 8",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char entry[200];
    snprintf(entry, sizeof entry, "  - {struct: \"runtime.g\", field: \"goid\", %s, type: \"uint64\"}", bad[i]);
    char *t = edit_line(text, "field: \"goid\"", entry);
    int line = line_of(t, "field: \"goid\"");
    expect_refused(bad[i], t, 21, SE_CORRUPT, line, "runtime.g.goid");
    free(t);
  }
  free(text);
}

/* No struct the runtime has is a megabyte: such an offset is corruption. */
static void test_layout_table_offset_above_the_bound_is_refused(void **state) {
  (void)state;
  char *text = table_text(21);
  static const char *bad[] = {"1048577", "4294967296", "18446744073709551615", "99999999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char entry[200];
    snprintf(entry, sizeof entry, "  - {struct: \"runtime.g\", field: \"goid\", offset: %s, size: 8, type: \"uint64\"}",
             bad[i]);
    char *t = edit_line(text, "field: \"goid\"", entry);
    expect_refused(bad[i], t, 21, SE_CORRUPT, line_of(t, "field: \"goid\""), "runtime.g.goid");
    free(t);
    snprintf(entry, sizeof entry, "  - {struct: \"runtime.g\", field: \"goid\", offset: 152, size: %s, type: \"uint64\"}",
             bad[i]);
    t = edit_line(text, "field: \"goid\"", entry);
    expect_refused(bad[i], t, 21, SE_CORRUPT, line_of(t, "field: \"goid\""), "runtime.g.goid");
    free(t);
  }
  /* the bound itself is accepted (and then the contract judges the layout) */
  char *t = edit_line(text, "field: \"goid\"",
                      "  - {struct: \"runtime.g\", field: \"goid\", offset: 1048576, size: 8, type: \"uint64\"}");
  gr_layout L;
  load_text_ok(t, 21, &L);
  assert_int_equal(GR_OFF(&L, G_GOID), 1 << 20);
  free(t);
  free(text);
}

static void test_layout_table_bad_size_entry_is_refused_naming_the_line(void **state) {
  (void)state;
  char *text = table_text(21);
  static const char *bad[] = {
      "  - {struct: \"runtime.g\"}",
      "  - {struct: \"runtime.g\", size: big}",
      "  - {size: 408}",
      "  - {struct: \"runtime.g\", size: 16777217}", /* above 1<<24 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *t = edit_line(text, "{struct: \"runtime.g\", size: 408}", bad[i]);
    expect_refused(bad[i], t, 21, SE_CORRUPT, line_of(t, bad[i] + 4), "a size entry needs");
    free(t);
  }
  free(text);
}

/* A table from a newer generator may list fields this sonde does not read;
 * they are skipped whatever they hold. */
static void test_layout_table_unknown_fields_and_structs_are_ignored(void **state) {
  (void)state;
  char path[4096];
  table_path(path, sizeof path, 21);
  gr_layout want, got;
  load_ok(path, 21, &want);
  char *text = table_text(21);
  char *t = edit_line(text, "field: \"goid\"",
                      "  - {struct: \"runtime.g\", field: \"goid\", offset: 152, size: 8, type: \"uint64\"}\n"
                      "  - {struct: \"runtime.g\", field: \"schedlink\", offset: 160, size: 8, type: \"runtime.guintptr\"}\n"
                      "  - {struct: \"runtime.g\", field: \"future\", offset: not-a-number}\n"
                      "  - {struct: \"runtime.p\", field: \"goid\", offset: 152, size: 8}");
  char *t2 = edit_line(t, "{struct: \"runtime.m\", size:",
                       "  - {struct: \"runtime.m\", size: 1008}\n  - {struct: \"runtime.p\", size: 9000}");
  load_text_ok(t2, 21, &got);
  assert_same_layout(&want, &got);
  se_clear();
  assert_int_equal(gr_layout_check(&got), 0);
  free(t2);
  free(t);
  free(text);
}

/* The table reader takes what is there; the contract check then refuses a
 * table that lacks a required field, naming it. */
static void test_layout_table_missing_required_field_loads_but_fails_the_contract(void **state) {
  (void)state;
  char *text = table_text(21);
  char *t = edit_line(text, "field: \"goid\"", NULL);
  gr_layout L;
  load_text_ok(t, 21, &L);
  assert_false(GR_HAS(&L, G_GOID));
  se_clear();
  assert_se_error(gr_layout_check(&L), SE_NOTGO);
  assert_msg_has("runtime.g.goid is missing");
  assert_msg_has("layout table");
  free(t);
  /* marked absent: the same */
  t = edit_line(text, "field: \"goid\"", "  - {struct: \"runtime.g\", field: \"goid\", absent: true}");
  load_text_ok(t, 21, &L);
  se_clear();
  assert_se_error(gr_layout_check(&L), SE_NOTGO);
  assert_msg_has("runtime.g.goid is missing");
  free(t);
  /* a struct size missing */
  t = edit_line(text, "{struct: \"runtime.m\", size:", NULL);
  load_text_ok(t, 21, &L);
  se_clear();
  assert_se_error(gr_layout_check(&L), SE_NOTGO);
  assert_msg_has("size of runtime.m unknown");
  free(t);
  /* a field with the wrong size or type, as a hand edit might leave it */
  t = edit_line(text, "field: \"goid\"", "  - {struct: \"runtime.g\", field: \"goid\", offset: 152, size: 4, type: \"uint32\"}");
  load_text_ok(t, 21, &L);
  se_clear();
  assert_se_error(gr_layout_check(&L), SE_NOTGO);
  assert_msg_has("runtime.g.goid is 4 bytes, expected 8");
  free(t);
  free(text);
}

static const struct CMUnitTest tests[] = {
#define TABLE_ENTRIES(minor)                                                       \
  cmocka_unit_test(test_layout_table_go1_##minor##_loads_and_passes_the_contract), \
  cmocka_unit_test(test_layout_table_go1_##minor##_refuses_other_versions),        \
  cmocka_unit_test(test_layout_table_go1_##minor##_round_trips_through_emit),
    TABLE_VERSIONS(TABLE_ENTRIES)
    cmocka_unit_test(test_layout_tables_agree_with_go_runtime_notes),
    cmocka_unit_test(test_layout_table_go1_19_has_no_parent_goid),
    cmocka_unit_test(test_layout_tables_agree_on_sync_cond_and_pprof_labels),
    cmocka_unit_test(test_layout_emit_then_load_is_identity_for_a_made_up_layout),
    cmocka_unit_test(test_layout_emit_then_load_keeps_type_names_with_quotes_and_backslashes),
    cmocka_unit_test(test_layout_emit_to_an_unwritable_stream_is_an_io_error),
    cmocka_unit_test(test_layout_table_missing_file_is_an_io_error_naming_it),
    cmocka_unit_test(test_layout_table_that_cannot_be_read_is_an_io_error),
    cmocka_unit_test(test_layout_table_empty_file_is_refused_naming_it),
    cmocka_unit_test(test_layout_table_malformed_yaml_is_refused_naming_file_and_line),
    cmocka_unit_test(test_layout_table_hostile_yaml_is_refused_where_it_starts),
    cmocka_unit_test(test_layout_table_for_another_version_is_refused),
    cmocka_unit_test(test_layout_table_without_fields_or_sizes_is_refused),
    cmocka_unit_test(test_layout_table_field_entry_without_struct_or_field_is_refused_naming_the_line),
    cmocka_unit_test(test_layout_table_non_numeric_offset_or_size_is_refused_naming_the_line),
    cmocka_unit_test(test_layout_table_offset_above_the_bound_is_refused),
    cmocka_unit_test(test_layout_table_bad_size_entry_is_refused_naming_the_line),
    cmocka_unit_test(test_layout_table_unknown_fields_and_structs_are_ignored),
    cmocka_unit_test(test_layout_table_missing_required_field_loads_but_fails_the_contract),
};

/* argv[1]: the unit-test data directory (unused here), argv[2]: index/layouts. */
int main(int argc, char **argv) {
  if (argc > 2) g_layouts_dir = argv[2];
  return unit_main(argc, argv, __FILE__, tests, sizeof tests / sizeof tests[0]);
}
