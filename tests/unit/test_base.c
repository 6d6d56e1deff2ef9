/* test_base.c: host/base: error codes and messages, the JSON writer, the
 * u64 hash map, the arena and the string buffer. */
#include "unit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/json.h"
#include "base/strbuf.h"
#include "base/text.h"
#include "base/u64map.h"

/* The huge-allocation test asks for 64 TiB on purpose: under ASan, malloc
 * must return NULL for it (as glibc does) instead of aborting the test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* ---- error.h ------------------------------------------------------------ */

/* README "Exit codes": the statuses users and scripts rely on. */
static const struct {
  int code;
  const char *name;
  int status;
} k_documented[] = {
    {SE_OK, "SE_OK", 0},           {SE_ERR, "SE_ERR", 1},         {SE_USAGE, "SE_USAGE", 2},
    {SE_NOPROC, "SE_NOPROC", 3},   {SE_PERM, "SE_PERM", 4},       {SE_NOTGO, "SE_NOTGO", 5},
    {SE_TRACED, "SE_TRACED", 6},   {SE_EXITED, "SE_EXITED", 7},   {SE_CORRUPT, "SE_CORRUPT", 8},
    {SE_IO, "SE_IO", 9},           {SE_NOMEM, "SE_NOMEM", 10},    {SE_CONFIG, "SE_CONFIG", 11},
    {SE_PLUGIN, "SE_PLUGIN", 12},
};

static void test_error_exit_statuses_match_readme_and_are_distinct(void **state) {
  (void)state;
  size_t n = sizeof k_documented / sizeof k_documented[0];
  assert_int_equal(n, SE_COUNT_);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(se_exit_status(k_documented[i].code), k_documented[i].status);
    assert_string_equal(se_name(k_documented[i].code), k_documented[i].name);
    assert_true(strlen(se_desc(k_documented[i].code)) > 0);
    if (k_documented[i].code != SE_OK) assert_true(k_documented[i].code < 0);
    for (size_t j = 0; j < i; j++) {
      assert_int_not_equal(k_documented[i].code, k_documented[j].code);
      assert_int_not_equal(se_exit_status(k_documented[i].code), se_exit_status(k_documented[j].code));
    }
  }
}

static void test_error_unknown_code_reports_internal_error(void **state) {
  (void)state;
  assert_int_equal(se_exit_status(-99), 1);
  assert_int_equal(se_exit_status(7), 1);
  assert_string_equal(se_name(-(int)SE_COUNT_), "SE_ERR");
}

static void test_error_set_records_code_and_formatted_message(void **state) {
  (void)state;
  se_clear();
  assert_int_equal(se_code(), SE_OK);
  assert_string_equal(se_msg(), "success");
  int rc = se_set(SE_NOPROC, "no process %d", 4242);
  assert_int_equal(rc, SE_NOPROC);
  assert_int_equal(se_code(), SE_NOPROC);
  assert_string_equal(se_msg(), "no process 4242");
  se_clear();
  assert_int_equal(se_code(), SE_OK);
}

static void test_error_set_with_empty_message_falls_back_to_description(void **state) {
  (void)state;
  se_set(SE_PERM, "%s", "");
  assert_string_equal(se_msg(), se_desc(SE_PERM));
  se_clear();
}

static void test_error_wrap_prepends_context_and_can_change_code(void **state) {
  (void)state;
  se_set(SE_EXITED, "process 12 exited");
  int rc = se_wrap(SE_CORRUPT, "reading allgs at 0x%x", 0x10);
  assert_int_equal(rc, SE_CORRUPT);
  assert_int_equal(se_code(), SE_CORRUPT);
  assert_string_equal(se_msg(), "reading allgs at 0x10: process 12 exited");
  se_wrap(SE_CORRUPT, "outer");
  assert_string_equal(se_msg(), "outer: reading allgs at 0x10: process 12 exited");
  se_clear();
}

static void test_error_wrap_of_long_messages_is_cut_not_overflowed(void **state) {
  (void)state;
  char big[2000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  se_set(SE_IO, "%s", big);
  assert_int_equal(strlen(se_msg()), 1023); /* the buffer is 1024 bytes */
  se_wrap(SE_IO, "%s", big);                /* prefix longer than the message buffer too */
  const char *m = se_msg();
  assert_int_equal(strlen(m), 1023);
  assert_int_equal(m[0], 'a');
  for (int i = 0; i < 10; i++) se_wrap(SE_IO, "ctx%d", i);
  assert_true(strlen(se_msg()) <= 1023);
  assert_memory_equal(se_msg(), "ctx9: ctx8: ", 12);
  se_clear();
}

/* ---- json.h ------------------------------------------------------------- */

typedef struct {
  strbuf sb;
  json_w w;
} jout;

static void jinit(jout *j) {
  sb_init(&j->sb);
  json_init(&j->w, &j->sb);
}

/* The document written so far, NUL-terminated; frees on the next jinit. */
static const char *jtext(jout *j) {
  assert_false(j->sb.failed);
  return j->sb.len ? j->sb.data : "";
}

static void assert_json_string(const char *in, size_t n, const char *want) {
  jout j;
  jinit(&j);
  json_strn(&j.w, in, n);
  assert_string_equal(jtext(&j), want);
  sb_free(&j.sb);
}
#define JSTR(lit, want) assert_json_string(lit, sizeof(lit) - 1, want)

static void test_json_escapes_quotes_backslashes_and_control_chars(void **state) {
  (void)state;
  JSTR("plain", "\"plain\"");
  JSTR("say \"hi\"", "\"say \\\"hi\\\"\"");
  JSTR("C:\\go", "\"C:\\\\go\"");
  JSTR("a\nb\tc\rd", "\"a\\u000ab\\u0009c\\u000dd\"");
  JSTR("\x01\x1f", "\"\\u0001\\u001f\"");
  JSTR("nul\0in", "\"nul\\u0000in\"");
  JSTR("\x7f/", "\"\x7f/\""); /* DEL and '/' need no escape */
  JSTR("", "\"\"");
}

static void test_json_passes_valid_utf8_through(void **state) {
  (void)state;
  JSTR("caf\xc3\xa9", "\"caf\xc3\xa9\"");                 /* 2 bytes */
  JSTR("\xe2\x82\xac", "\"\xe2\x82\xac\"");               /* 3 bytes: euro */
  JSTR("\xf0\x9d\x84\x9e", "\"\xf0\x9d\x84\x9e\"");       /* 4 bytes: U+1D11E */
  JSTR("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");       /* U+10FFFF, the last code point */
  JSTR("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");               /* U+FFFD itself */
}

#define FFFD "\xef\xbf\xbd"
static void test_json_replaces_invalid_utf8_with_u_fffd(void **state) {
  (void)state;
  JSTR("a\xff" "b", "\"a" FFFD "b\"");
  JSTR("\x80", "\"" FFFD "\"");                                  /* lone continuation byte */
  JSTR("\xc0\xaf", "\"" FFFD FFFD "\"");                         /* overlong '/' */
  JSTR("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");                /* overlong, 3 bytes */
  JSTR("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");                /* UTF-16 surrogate D800 */
  JSTR("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");       /* above U+10FFFF */
  JSTR("\xf8\x88\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD FFFD "\""); /* 5-byte form */
  JSTR("x\xe2\x82", "\"x" FFFD FFFD "\"");                       /* truncated at the end */
  JSTR("\xe2\x82z", "\"" FFFD FFFD "z\"");                       /* cut by an ASCII byte */
  JSTR("\xc3\"", "\"" FFFD "\\\"\"");                            /* the quote is still escaped */
}

static void test_json_string_stops_at_given_length(void **state) {
  (void)state;
  /* a 3-byte sequence cut by the length must not be read past it */
  unit_blob b = unit_copy((const uint8_t *)"\xe2\x82", 2);
  assert_json_string((const char *)b.bytes, 2, "\"" FFFD FFFD "\"");
  unit_blob_free(&b);
}

static void test_json_commas_between_members_and_elements_at_every_level(void **state) {
  (void)state;
  jout j;
  jinit(&j);
  json_obj_begin(&j.w);
  json_key(&j.w, "a");
  json_u64(&j.w, 1);
  json_key(&j.w, "b");
  json_arr_begin(&j.w);
  json_u64(&j.w, 1);
  json_i64(&j.w, -2);
  json_obj_begin(&j.w);
  json_key(&j.w, "c");
  json_null(&j.w);
  json_obj_end(&j.w);
  json_arr_begin(&j.w);
  json_arr_end(&j.w);
  json_bool(&j.w, true);
  json_arr_end(&j.w);
  json_key(&j.w, "d");
  json_obj_begin(&j.w);
  json_obj_end(&j.w);
  json_key(&j.w, "e");
  json_str(&j.w, NULL);
  json_key(&j.w, "f\"");
  json_str(&j.w, "g");
  json_obj_end(&j.w);
  assert_string_equal(jtext(&j), "{\"a\":1,\"b\":[1,-2,{\"c\":null},[],true],\"d\":{},\"e\":null,\"f\\\"\":\"g\"}");
  sb_free(&j.sb);
}

static void test_json_nested_empty_and_nonempty_arrays(void **state) {
  (void)state;
  jout j;
  jinit(&j);
  json_arr_begin(&j.w);
  json_arr_begin(&j.w);
  json_arr_end(&j.w);
  json_arr_begin(&j.w);
  json_bool(&j.w, false);
  json_arr_end(&j.w);
  json_arr_end(&j.w);
  assert_string_equal(jtext(&j), "[[],[false]]");
  sb_free(&j.sb);
}

static void test_json_integers_at_their_limits(void **state) {
  (void)state;
  jout j;
  jinit(&j);
  json_arr_begin(&j.w);
  json_u64(&j.w, 0);
  json_u64(&j.w, UINT64_MAX);
  json_i64(&j.w, INT64_MIN);
  json_i64(&j.w, INT64_MAX);
  json_i64(&j.w, 0);
  json_arr_end(&j.w);
  assert_string_equal(jtext(&j), "[0,18446744073709551615,-9223372036854775808,9223372036854775807,0]");
  sb_free(&j.sb);
}

static void test_json_nesting_to_max_depth_keeps_commas(void **state) {
  (void)state;
  jout j;
  jinit(&j);
  strbuf want;
  sb_init(&want);
  for (int i = 0; i < JSON_MAX_DEPTH; i++) {
    json_arr_begin(&j.w);
    json_u64(&j.w, (uint64_t)i);
    sb_printf(&want, "%s[%d", i ? "," : "", i);
  }
  json_arr_end(&j.w);
  sb_putc(&want, ']');
  for (int i = 1; i < JSON_MAX_DEPTH; i++) {
    json_u64(&j.w, 7); /* a sibling after a closed array needs a comma */
    json_arr_end(&j.w);
    sb_puts(&want, ",7]");
  }
  assert_int_equal(j.w.depth, 0);
  assert_string_equal(jtext(&j), want.data);
  sb_free(&want);
  sb_free(&j.sb);
}

/* ---- u64map.h ----------------------------------------------------------- */

static void test_u64map_get_on_empty_map_finds_nothing(void **state) {
  (void)state;
  u64map m;
  u64map_init(&m);
  uint64_t v = 123;
  assert_false(u64map_get(&m, 1, &v));
  assert_int_equal(v, 123);
  u64map_free(&m);
}

static void test_u64map_put_get_and_overwrite(void **state) {
  (void)state;
  u64map m;
  u64map_init(&m);
  assert_int_equal(u64map_put(&m, 0x401000, 7), 0);
  assert_int_equal(u64map_put(&m, UINT64_MAX, 8), 0);
  uint64_t v;
  assert_true(u64map_get(&m, 0x401000, &v));
  assert_int_equal(v, 7);
  assert_true(u64map_get(&m, UINT64_MAX, &v));
  assert_int_equal(v, 8);
  assert_false(u64map_get(&m, 0x401001, &v));
  assert_int_equal(u64map_put(&m, 0x401000, 9), 0);
  assert_true(u64map_get(&m, 0x401000, &v));
  assert_int_equal(v, 9);
  assert_int_equal(m.len, 2);
  u64map_free(&m);
  assert_false(u64map_get(&m, 0x401000, &v));
}

static void test_u64map_grows_and_keeps_every_entry(void **state) {
  (void)state;
  u64map m;
  u64map_init(&m);
  enum { N = 100000 };
  /* PCs 16 apart collide in the low bits, like real function entries */
  for (uint64_t i = 1; i <= N; i++) assert_int_equal(u64map_put(&m, 0x400000 + 16 * i, i * 3), 0);
  assert_int_equal(m.len, N);
  assert_true(m.cap >= 2 * (size_t)N);
  assert_int_equal(m.cap & (m.cap - 1), 0);
  for (uint64_t i = 1; i <= N; i++) {
    uint64_t v = 0;
    assert_true(u64map_get(&m, 0x400000 + 16 * i, &v));
    assert_int_equal(v, i * 3);
  }
  uint64_t v;
  assert_false(u64map_get(&m, 0x400000 + 16 * (N + 1), &v));
  assert_false(u64map_get(&m, 0x400008, &v));
  /* overwriting every key leaves the size alone */
  for (uint64_t i = 1; i <= N; i++) assert_int_equal(u64map_put(&m, 0x400000 + 16 * i, i), 0);
  assert_int_equal(m.len, N);
  assert_true(u64map_get(&m, 0x400000 + 16 * 777, &v));
  assert_int_equal(v, 777);
  u64map_free(&m);
}

/* ---- arena.h ------------------------------------------------------------ */

static void test_arena_allocations_are_16_byte_aligned_and_disjoint(void **state) {
  (void)state;
  arena a;
  arena_init(&a);
  unsigned char *prev = NULL;
  size_t prev_n = 0;
  for (size_t n = 0; n < 3000; n++) {
    unsigned char *p = arena_alloc(&a, n % 97);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    memset(p, 0xab, n % 97); /* ASan checks the block really holds n bytes */
    if (prev && p > prev) assert_true(p >= prev + prev_n);
    prev = p;
    prev_n = n % 97;
  }
  /* a block bigger than the current one: still aligned and usable */
  unsigned char *big = arena_alloc(&a, 5 * 1024 * 1024 + 3);
  assert_non_null(big);
  assert_int_equal((uintptr_t)big % 16, 0);
  memset(big, 1, 5 * 1024 * 1024 + 3);
  arena_free(&a);
  assert_null(a.head);
}

static void test_arena_zero_size_gets_distinct_pointers(void **state) {
  (void)state;
  arena a;
  arena_init(&a);
  void *p = arena_alloc(&a, 0), *q = arena_alloc(&a, 0);
  assert_non_null(p);
  assert_non_null(q);
  assert_ptr_not_equal(p, q);
  arena_free(&a);
}

static void test_arena_huge_allocation_returns_null_and_arena_stays_usable(void **state) {
  (void)state;
  arena a;
  arena_init(&a);
  assert_null(arena_alloc(&a, SIZE_MAX));
  assert_null(arena_alloc(&a, SIZE_MAX - 15)); /* rounding up to 16 would wrap */
  assert_null(arena_alloc(&a, SIZE_MAX / 2 + 1));
  assert_null(arena_alloc(&a, (size_t)1 << 46)); /* 64 TiB: malloc fails */
  assert_null(arena_calloc(&a, SIZE_MAX / 8 + 1, 8)); /* count * size overflows */
  assert_null(arena_calloc(&a, 3, SIZE_MAX / 2));
  char *s = arena_strndup(&a, "goroutine 1", 9);
  assert_non_null(s);
  assert_string_equal(s, "goroutine");
  arena_free(&a);
}

static void test_arena_calloc_zeroes_and_strndup_terminates(void **state) {
  (void)state;
  arena a;
  arena_init(&a);
  unsigned char *dirty = arena_alloc(&a, 64);
  memset(dirty, 0xff, 64);
  uint64_t *z = arena_calloc(&a, 100, sizeof *z);
  assert_non_null(z);
  for (int i = 0; i < 100; i++) assert_int_equal(z[i], 0);
  char *s = arena_strndup(&a, "main.main\0junk", 14);
  assert_memory_equal(s, "main.main\0junk\0", 15);
  assert_true(a.total >= 64 + 800 + 15);
  arena_free(&a);
  assert_int_equal(a.total, 0);
}

/* ---- strbuf.h ----------------------------------------------------------- */

static void test_strbuf_formats_numbers_and_long_printf(void **state) {
  (void)state;
  strbuf b;
  sb_init(&b);
  sb_put_u64(&b, 0);
  sb_putc(&b, ' ');
  sb_put_u64(&b, UINT64_MAX);
  sb_putc(&b, ' ');
  sb_put_hex(&b, 0);
  sb_putc(&b, ' ');
  sb_put_hex(&b, 0x7ffd1234abcdULL);
  sb_putc(&b, ' ');
  sb_put_hex(&b, UINT64_MAX);
  const char *nums = "0 18446744073709551615 0x0 0x7ffd1234abcd 0xffffffffffffffff";
  assert_string_equal(b.data, nums);
  char big[600];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  sb_printf(&b, "<%s>", big); /* longer than the 256-byte fast path */
  assert_int_equal(b.len, strlen(nums) + 1 + 599 + 1);
  assert_int_equal(b.data[strlen(nums)], '<');
  assert_int_equal(b.data[b.len - 1], '>');
  assert_int_equal(b.data[b.len], '\0');
  assert_false(b.failed);
  sb_free(&b);
}

/* ---- text.h: the helpers host and plugin SDK share ---- */

static void test_utf8_len_accepts_well_formed_and_refuses_the_rest(void **state) {
  (void)state;
  static const struct {
    const char *bytes;
    size_t n, want;
  } cases[] = {
      {"a", 1, 1},           {"\xc3\xa9", 2, 2},        {"\xe2\x82\xac", 3, 3}, {"\xf0\x9f\x98\x80", 4, 4},
      {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF */
      {"\xc0\xaf", 2, 0},     /* overlong '/' */
      {"\xc1\xbf", 2, 0},     {"\xe0\x80\xaf", 3, 0}, /* overlong */
      {"\xed\xa0\x80", 3, 0}, /* surrogate U+D800 */
      {"\xf4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
      {"\xf5\x80\x80\x80", 4, 0}, {"\x80", 1, 0}, /* lone continuation */
      {"\xe2\x82", 2, 0},     /* truncated: n says two bytes */
      {"\xe2\x28\xa1", 3, 0}, /* bad continuation */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    unit_blob b = unit_copy((const uint8_t *)cases[i].bytes, cases[i].n); /* exactly n bytes: ASan sees a read past */
    assert_int_equal(sonde_utf8_len(b.bytes, cases[i].n), cases[i].want);
    free(b.bytes);
  }
  assert_int_equal(sonde_utf8_len((const unsigned char *)"", 0), 0);
}

static void test_utf8_decode_as_go_decoderune(void **state) {
  (void)state;
  size_t n;
  assert_int_equal(sonde_utf8_decode((const unsigned char *)"\xe2\x82\xac", 3, &n), 0x20ac);
  assert_int_equal(n, 3);
  assert_int_equal(sonde_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &n), 0xfffd);
  assert_int_equal(n, 1); /* an ill-formed byte is one rune */
  assert_int_equal(sonde_utf8_decode((const unsigned char *)"z", 1, &n), 'z');
  assert_int_equal(n, 1);
}

static void test_parse_bool_any_case_and_nothing_else(void **state) {
  (void)state;
  static const char *const yes[] = {"yes", "Yes", "TRUE", "on", "On", "1"};
  static const char *const no[] = {"no", "NO", "False", "off", "0"};
  static const char *const bad[] = {"", "y", "2", "yes ", " no", "truth", "0x0", "null"};
  int v;
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    v = -7;
    assert_int_equal(sonde_parse_bool(yes[i], &v), 0);
    assert_int_equal(v, 1);
  }
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    v = -7;
    assert_int_equal(sonde_parse_bool(no[i], &v), 0);
    assert_int_equal(v, 0);
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    v = -7;
    assert_int_equal(sonde_parse_bool(bad[i], &v), -1);
    assert_int_equal(v, -7);
  }
  assert_int_equal(sonde_parse_bool(NULL, &v), -1);
}

static void test_parse_u64_digits_only_with_a_limit(void **state) {
  (void)state;
  uint64_t v = 0;
  assert_int_equal(sonde_parse_u64("0", 10, &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(sonde_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(sonde_parse_u64("18446744073709551616", UINT64_MAX, &v), -1); /* overflow */
  assert_int_equal(sonde_parse_u64("11", 10, &v), -1);                            /* over the limit */
  static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "١"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_int_equal(sonde_parse_u64(bad[i], UINT64_MAX, &v), -1);
  assert_int_equal(sonde_parse_u64(NULL, 1, &v), -1);
}

static void test_le_loads_unaligned_bytes(void **state) {
  (void)state;
  unsigned char b[11] = {0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};
  assert_int_equal(sonde_le16(b + 1), 0x0201);
  assert_int_equal(sonde_le32(b + 1), 0x04030201u);
  assert_true(sonde_le64(b + 1) == 0x0807060504030201ull);
  assert_true(sonde_le(b + 1, 3) == 0x030201);
  assert_true(sonde_le(b + 1, 0) == 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_exit_statuses_match_readme_and_are_distinct),
    cmocka_unit_test(test_error_unknown_code_reports_internal_error),
    cmocka_unit_test(test_error_set_records_code_and_formatted_message),
    cmocka_unit_test(test_error_set_with_empty_message_falls_back_to_description),
    cmocka_unit_test(test_error_wrap_prepends_context_and_can_change_code),
    cmocka_unit_test(test_error_wrap_of_long_messages_is_cut_not_overflowed),
    cmocka_unit_test(test_json_escapes_quotes_backslashes_and_control_chars),
    cmocka_unit_test(test_json_passes_valid_utf8_through),
    cmocka_unit_test(test_json_replaces_invalid_utf8_with_u_fffd),
    cmocka_unit_test(test_json_string_stops_at_given_length),
    cmocka_unit_test(test_json_commas_between_members_and_elements_at_every_level),
    cmocka_unit_test(test_json_nested_empty_and_nonempty_arrays),
    cmocka_unit_test(test_json_integers_at_their_limits),
    cmocka_unit_test(test_json_nesting_to_max_depth_keeps_commas),
    cmocka_unit_test(test_u64map_get_on_empty_map_finds_nothing),
    cmocka_unit_test(test_u64map_put_get_and_overwrite),
    cmocka_unit_test(test_u64map_grows_and_keeps_every_entry),
    cmocka_unit_test(test_arena_allocations_are_16_byte_aligned_and_disjoint),
    cmocka_unit_test(test_arena_zero_size_gets_distinct_pointers),
    cmocka_unit_test(test_arena_huge_allocation_returns_null_and_arena_stays_usable),
    cmocka_unit_test(test_arena_calloc_zeroes_and_strndup_terminates),
    cmocka_unit_test(test_strbuf_formats_numbers_and_long_printf),
    cmocka_unit_test(test_utf8_len_accepts_well_formed_and_refuses_the_rest),
    cmocka_unit_test(test_utf8_decode_as_go_decoderune),
    cmocka_unit_test(test_parse_bool_any_case_and_nothing_else),
    cmocka_unit_test(test_parse_u64_digits_only_with_a_limit),
    cmocka_unit_test(test_le_loads_unaligned_bytes),
};

UNIT_MAIN(tests)
