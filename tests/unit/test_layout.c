/* test_layout.c: gr_layout_check, the gate between a layout source (DWARF)
 * and every read of a runtime struct. A layout that breaks the contract must
 * be refused with SE_NOTGO and a message naming the field. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "goruntime/layout.h"

/* A layout that satisfies the contract: every field, required or optional,
 * at a distinct offset with its size and its first accepted type name,
 * written the way DWARF names it (package path included). */
static void complete_layout(gr_layout *L) {
  gr_layout_init(L);
  L->source = "test";
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = gr_layout_spec((gr_field)i);
    L->off[i] = 8 * i;
    /* size 0: a width that changed across versions; GR_ANY_SIZE: an aggregate */
    L->fsize[i] = s->size == GR_ANY_SIZE ? 24 : s->size ? s->size : 8;
    size_t n = strcspn(s->types, "|");
    snprintf(L->ftype[i], sizeof L->ftype[i], "%.*s", (int)n, s->types);
  }
  /* each struct just holds its fields */
  for (int k = 0; k < GRL_SIZE_COUNT_; k++) {
    L->size[k] = 400 + 8 * (uint64_t)k;
    for (int i = 0; i < GRL_COUNT_; i++)
      if (!strcmp(gr_layout_spec((gr_field)i)->st, gr_layout_size_struct((gr_size)k)) &&
          (uint64_t)L->off[i] + L->fsize[i] > L->size[k])
        L->size[k] = (uint64_t)L->off[i] + L->fsize[i];
  }
}

static void assert_refused_naming(const gr_layout *L, const char *part) {
  se_clear();
  assert_se_error(gr_layout_check(L), SE_NOTGO);
  if (!strstr(se_msg(), part)) fail_msg("message \"%s\" does not name \"%s\"", se_msg(), part);
}

static void test_layout_complete_and_correct_passes(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  se_clear();
  assert_int_equal(gr_layout_check(&L), 0);
}

/* The packages whose structs the contract may name: the runtime's, and the
 * few whose structs the runtime shares memory with (sync.Cond's notifyList,
 * the pprof labels a g points at). */
static bool known_package(const char *st) {
  static const char *const k[] = {"runtime.", "internal/abi.", "sync.", "runtime/pprof.",
                                  "internal/runtime/pprof/label."};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
    if (!strncmp(st, k[i], strlen(k[i]))) return true;
  return false;
}

static void test_layout_spec_rows_are_well_formed(void **state) {
  (void)state;
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = gr_layout_spec((gr_field)i);
    assert_non_null(s->st);
    /* "runtime.x" is a struct type; "@runtime.x" the type of variable
     * runtime.x; "a|b" alternatives, each of a known package */
    const char *st = s->st[0] == '@' ? s->st + 1 : s->st;
    if (!known_package(st)) fail_msg("%s: not a struct of the runtime's packages", s->st);
    for (const char *bar = strchr(st, '|'); bar; bar = strchr(bar + 1, '|'))
      if (!known_package(bar + 1)) fail_msg("%s: not a struct of the runtime's packages", s->st);
    assert_true(strlen(s->path) > 0);
    assert_true(strlen(s->types) > 0);
    /* 0: an unsigned integer whose width changed across versions; 16: a
     * string header; 24: a slice header; 544: [68]uint64, a counter per
     * size class; GR_ANY_SIZE: an aggregate */
    assert_true(s->size == 0 || s->size == 1 || s->size == 2 || s->size == 4 || s->size == 8 || s->size == 16 ||
                s->size == 24 || s->size == 544 || s->size == GR_ANY_SIZE);
    assert_true(s->flags == LF_REQ || s->flags == LF_OPT);
  }
  assert_string_equal(gr_layout_size_struct(GRL_SZ_G), "runtime.g");
  for (int k = 0; k < GRL_SIZE_COUNT_; k++)
    assert_true(gr_layout_size_flags((gr_size)k) == LF_REQ || gr_layout_size_flags((gr_size)k) == LF_OPT);
}

/* runtime.mspan.nelems was a uintptr before Go 1.22 and is a uint16 since:
 * either width passes, anything else is refused naming the field. */
static void test_layout_field_of_changing_width_takes_2_or_8_bytes_only(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  L.fsize[GRL_MS_NELEMS] = 2;
  se_clear();
  assert_int_equal(gr_layout_check(&L), 0);
  assert_true(gr_layout_size_ok(GRL_MS_NELEMS, 8) && gr_layout_size_ok(GRL_MS_NELEMS, 2));
  L.fsize[GRL_MS_NELEMS] = 3;
  assert_refused_naming(&L, "runtime.mspan.nelems is 3 bytes, expected 1, 2, 4 or 8");
  assert_false(gr_layout_size_ok(GRL_G_GOID, 4));
}

static void test_layout_missing_required_field_is_refused_and_named(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  L.off[GRL_G_GOID] = -1;
  assert_refused_naming(&L, "runtime.g.goid is missing");
  complete_layout(&L);
  L.off[GRL_MD_PCHEADER] = -1;
  assert_refused_naming(&L, "runtime.moduledata.pcHeader");
}

static void test_layout_missing_optional_field_passes(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  L.off[GRL_G_PARENTGOID] = -1;     /* Go 1.21+ */
  L.off[GRL_G_RUNNINGCLEANUPS] = -1; /* Go 1.25+ */
  se_clear();
  assert_int_equal(gr_layout_check(&L), 0);
}

static void test_layout_wrong_size_is_refused_and_named(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  L.fsize[GRL_G_ATOMICSTATUS] = 8;
  assert_refused_naming(&L, "runtime.g.atomicstatus is 8 bytes, expected 4");
  /* an optional field, when present, must still have its size */
  complete_layout(&L);
  L.fsize[GRL_G_PARENTGOID] = 4;
  assert_refused_naming(&L, "runtime.g.parentGoid");
}

static void test_layout_field_past_the_end_of_its_struct_is_refused_and_named(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  /* a table with goid far outside a 400-byte g would read someone else's memory */
  L.off[GRL_G_GOID] = 1 << 20;
  assert_refused_naming(&L, "runtime.g.goid at offset 1048576 runs past the end of the 400-byte struct");
  /* the last byte inside still fits */
  complete_layout(&L);
  L.off[GRL_G_GOID] = (int64_t)L.size[GRL_SZ_G] - 8;
  se_clear();
  assert_int_equal(gr_layout_check(&L), 0);
}

static void test_layout_wrong_type_name_is_refused_and_named(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  snprintf(L.ftype[GRL_M_CURG], sizeof L.ftype[0], "*runtime.p");
  assert_refused_naming(&L, "runtime.m.curg has type *runtime.p");
  /* a name that merely ends like the expected one is another type */
  complete_layout(&L);
  snprintf(L.ftype[GRL_G_STACK_LO], sizeof L.ftype[0], "myuintptr");
  assert_refused_naming(&L, "runtime.g.stack.lo");
}

static void test_layout_type_names_match_across_package_moves(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  /* runtime/internal/atomic moved to internal/runtime/atomic in Go 1.23 */
  snprintf(L.ftype[GRL_G_ATOMICSTATUS], sizeof L.ftype[0], "runtime/internal/atomic.Uint32");
  snprintf(L.ftype[GRL_G_RUNNINGCLEANUPS], sizeof L.ftype[0], "internal/runtime/atomic.Bool");
  snprintf(L.ftype[GRL_G_GOID], sizeof L.ftype[0], "int64"); /* the second alternative */
  se_clear();
  assert_int_equal(gr_layout_check(&L), 0);
}

static void test_layout_unknown_struct_size_is_refused_and_named(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  L.size[GRL_SZ_M] = 0;
  assert_refused_naming(&L, "size of runtime.m unknown");
}

/* A pprof label exists only in programs that import runtime/pprof: its size
 * may be unknown; a struct every program has may not. */
static void test_layout_unknown_optional_struct_size_passes(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  L.size[GRL_SZ_LABEL] = 0;
  L.off[GRL_LBL_LIST] = L.off[GRL_LBL_KEY] = L.off[GRL_LBL_VALUE] = -1;
  se_clear();
  assert_int_equal(gr_layout_check(&L), 0);
  assert_int_equal(gr_layout_size_flags(GRL_SZ_LABEL), LF_OPT);
  assert_int_equal(gr_layout_size_flags(GRL_SZ_SUDOG), LF_REQ);
}

static void test_layout_every_violation_is_reported(void **state) {
  (void)state;
  gr_layout L;
  complete_layout(&L);
  L.off[GRL_G_GOID] = -1;
  L.fsize[GRL_M_PROCID] = 4;
  snprintf(L.ftype[GRL_MD_TEXT], sizeof L.ftype[0], "int");
  assert_refused_naming(&L, "runtime.g.goid");
  assert_non_null(strstr(se_msg(), "runtime.m.procid"));
  assert_non_null(strstr(se_msg(), "runtime.moduledata.text"));
  assert_non_null(strstr(se_msg(), "(test)")); /* the source is named */
  /* an empty layout: every required field missing; the message is cut, not overflowed */
  gr_layout_init(&L);
  assert_refused_naming(&L, "runtime.g.stack.lo is missing");
  assert_true(strlen(se_msg()) < 1024);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_layout_complete_and_correct_passes),
    cmocka_unit_test(test_layout_spec_rows_are_well_formed),
    cmocka_unit_test(test_layout_field_of_changing_width_takes_2_or_8_bytes_only),
    cmocka_unit_test(test_layout_missing_required_field_is_refused_and_named),
    cmocka_unit_test(test_layout_missing_optional_field_passes),
    cmocka_unit_test(test_layout_wrong_size_is_refused_and_named),
    cmocka_unit_test(test_layout_field_past_the_end_of_its_struct_is_refused_and_named),
    cmocka_unit_test(test_layout_wrong_type_name_is_refused_and_named),
    cmocka_unit_test(test_layout_type_names_match_across_package_moves),
    cmocka_unit_test(test_layout_unknown_struct_size_is_refused_and_named),
    cmocka_unit_test(test_layout_unknown_optional_struct_size_passes),
    cmocka_unit_test(test_layout_every_violation_is_reported),
};

UNIT_MAIN(tests)
