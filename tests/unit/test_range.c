/* test_range.c: host/plugins/range: Go, kernel and sonde versions, and the
 * version ranges a plugin index states compatibility with. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "plugins/range.h"

static rng_version ver(const char *s) {
  rng_version v;
  se_clear();
  if (rng_version_parse(s, &v) != 0) fail_msg("rng_version_parse(\"%s\"): %s", s, se_msg());
  return v;
}

static rng_range range(const char *s) {
  rng_range r;
  se_clear();
  if (rng_parse(s, &r) != 0) fail_msg("rng_parse(\"%s\"): %s", s, se_msg());
  return r;
}

static void assert_contains(const char *r, const char *v, bool want) {
  rng_range rr = range(r);
  rng_version vv = ver(v);
  if (rng_contains(&rr, &vv) != want)
    fail_msg("range \"%s\" %s %s, expected the opposite", r, want ? "excludes" : "includes", v);
}

/* ---- versions ------------------------------------------------------------ */

static void test_version_parse_accepts_go_kernel_and_prerelease_forms(void **state) {
  (void)state;
  static const struct {
    const char *text;
    uint32_t v[3];
  } cases[] = {
      {"1.21", {1, 21, 0}},
      {"1.21.3", {1, 21, 3}},
      {"go1.21.3", {1, 21, 3}},
      {"go1.27rc1", {1, 27, 0}},
      {"go1.22beta2", {1, 22, 0}},
      {"go1.22.0 X:nocoverageredesign", {1, 22, 0}},
      {"6.1.0-18-amd64", {6, 1, 0}},
      {"6.18.44-fc-v669", {6, 18, 44}},
      {"4.19.0", {4, 19, 0}},
      {"5.15.0-1034-azure", {5, 15, 0}},
      {"5", {5, 0, 0}},
      {"0.1.0", {0, 1, 0}},
      {"1000000.1000000.1000000", {1000000, 1000000, 1000000}},
      {"007.08", {7, 8, 0}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rng_version v = ver(cases[i].text);
    for (int j = 0; j < 3; j++)
      if (v.v[j] != cases[i].v[j])
        fail_msg("\"%s\" parsed as %u.%u.%u, expected %u.%u.%u", cases[i].text, v.v[0], v.v[1], v.v[2], cases[i].v[0],
                 cases[i].v[1], cases[i].v[2]);
  }
}

static void test_version_parse_rejects_with_message_naming_the_text(void **state) {
  (void)state;
  static const struct {
    const char *text, *why;
  } cases[] = {
      {"", "starts with a number"},
      {"go", "starts with a number"},
      {"gox1.2", "starts with a number"},
      {"abc", "starts with a number"},
      {"v1.21", "starts with a number"},
      {" 1.21", "starts with a number"},
      {"-1", "starts with a number"},
      {".1", "starts with a number"},
      {"1.", "empty component"},
      {"1..2", "empty component"},
      {"1.21.", "empty component"},
      {"1.2.3.4", "at most three components"},
      {"1000001", "larger than 1000000"},
      {"1.99999999999999999999", "larger than 1000000"},
      {"6.1.4294967296", "larger than 1000000"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rng_version v = {{9, 9, 9}};
    se_clear();
    assert_se_error(rng_version_parse(cases[i].text, &v), SE_CONFIG);
    if (!strstr(se_msg(), cases[i].why))
      fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].text, se_msg(), cases[i].why);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", cases[i].text);
    if (!strstr(se_msg(), quoted)) fail_msg("\"%s\": message \"%s\" does not name the text", cases[i].text, se_msg());
  }
  rng_version v;
  assert_se_error(rng_version_parse(NULL, &v), SE_CONFIG);
}

static void test_version_compare_is_numeric_not_lexical(void **state) {
  (void)state;
  rng_version a = ver("1.9"), b = ver("1.10"), c = ver("1.21"), d = ver("1.21.0"), e = ver("2.0"), f = ver("1.99.99");
  assert_true(rng_version_cmp(&a, &b) < 0);
  assert_true(rng_version_cmp(&b, &a) > 0);
  assert_int_equal(rng_version_cmp(&c, &d), 0);
  assert_true(rng_version_cmp(&e, &f) > 0);
  rng_version k1 = ver("4.9.337"), k2 = ver("4.14.1");
  assert_true(rng_version_cmp(&k1, &k2) < 0);
}

static void test_version_format_with_and_without_patch(void **state) {
  (void)state;
  char buf[32];
  rng_version v = {{1, 21, 3}}, z = {{1, 21, 0}};
  rng_version_format(&v, false, buf, sizeof buf);
  assert_string_equal(buf, "1.21.3");
  rng_version_format(&v, true, buf, sizeof buf);
  assert_string_equal(buf, "1.21.3");
  rng_version_format(&z, false, buf, sizeof buf);
  assert_string_equal(buf, "1.21");
  rng_version_format(&z, true, buf, sizeof buf);
  assert_string_equal(buf, "1.21.0");
  rng_version big = {{1000000, 1000000, 1000000}};
  rng_version_format(&big, true, buf, sizeof buf);
  assert_string_equal(buf, "1000000.1000000.1000000");
  /* A short buffer is cut and terminated; n == 0 writes nothing. */
  char small[4] = "xxx";
  rng_version_format(&v, true, small, sizeof small);
  assert_string_equal(small, "1.2");
  small[0] = 'q';
  rng_version_format(&v, true, small, 0);
  assert_int_equal(small[0], 'q');
}

/* ---- ranges ------------------------------------------------------------- */

static void test_range_contains_table(void **state) {
  (void)state;
  static const struct {
    const char *range, *version;
    bool want;
  } cases[] = {
      /* the usual Go window */
      {">=1.21, <1.28", "go1.20.14", false},
      {">=1.21, <1.28", "go1.21.0", true},
      {">=1.21, <1.28", "1.21", true},
      {">=1.21, <1.28", "go1.24.5", true},
      {">=1.21, <1.28", "go1.27.99", true},
      {">=1.21, <1.28", "go1.27rc1", true},
      {">=1.21, <1.28", "go1.28rc1", false},
      {">=1.21, <1.28", "2.0", false},
      /* any */
      {"*", "0.0.0", true},
      {"*", "1000000.1000000.1000000", true},
      {"  *  ", "1.2", true},
      /* exact, with all components written */
      {"==1.27.3", "1.27.3", true},
      {"==1.27.3", "1.27.4", false},
      {"==1.27.3", "1.27", false},
      {"1.27.0", "1.27", true},
      {"1.27.0", "1.27.1", false},
      /* != is the negation of == */
      {"!=1.22.0", "1.22.0", false},
      {"!=1.22.0", "1.22.1", true},
      {"!=1.22", "1.22.7", false},
      {"!=1.22", "1.21.9", true},
      /* < <= > >= fill missing components with 0 */
      {"<=1.27", "1.27.0", true},
      {"<=1.27", "1.27.3", false},
      {">1.27", "1.27.0", false},
      {">1.27", "1.27.1", true},
      {"<1", "0.9.9", true},
      {"<1", "1.0", false},
      {">=0.1, <1", "0.1.0", true},
      {">=0.1, <1", "0.0.9", false},
      /* numeric, not lexical */
      {">=1.9", "1.10", true},
      {"<1.10", "1.9.9", true},
      /* several conditions */
      {">=1.21, !=1.22, <1.28", "1.22.3", false},
      {">=1.21, !=1.22, <1.28", "1.23", true},
      {">1.0,<2.0,>=1.5,<=1.7,!=1.6,1", "1.5.5", true},
      {">1.0,<2.0,>=1.5,<=1.7,!=1.6,1", "1.6.1", false},
      /* versions in ranges take a go prefix too */
      {">=go1.21", "1.22", true},
      {"go1.21", "go1.21.13", true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_contains(cases[i].range, cases[i].version, cases[i].want);
}

static void test_range_excludes_upper_bound_go128(void **state) {
  (void)state;
  assert_contains(">=1.21, <1.28", "go1.28.0", false);
  assert_contains(">=1.21, <1.28", "go1.28", false);
  assert_contains(">=1.21, <1.28", "go1.28.1", false);
  assert_contains(">=1.21, <1.28", "go1.27.15", true);
}

static void test_range_includes_lower_bound_go121(void **state) {
  (void)state;
  assert_contains(">=1.21", "go1.21.0", true);
  assert_contains(">=1.21", "go1.20.99", false);
}

static void test_range_bare_or_eq_version_matches_whole_series(void **state) {
  (void)state;
  static const char *const ranges[] = {"1.27", "==1.27", "== 1.27", "go1.27"};
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    assert_contains(ranges[i], "go1.27.0", true);
    assert_contains(ranges[i], "go1.27.5", true);
    assert_contains(ranges[i], "go1.27rc1", true);
    assert_contains(ranges[i], "go1.26.9", false);
    assert_contains(ranges[i], "go1.28.0", false);
  }
  assert_contains("==1", "1.0.0", true);
  assert_contains("==1", "1.99.3", true);
  assert_contains("==1", "2.0", false);
  rng_range r = range("==1.27");
  assert_int_equal(r.n, 1);
  assert_int_equal(r.c[0].op, RNG_EQ);
  assert_int_equal(r.c[0].parts, 2);
}

static void test_range_hand_built_eq_compares_all_components(void **state) {
  (void)state;
  rng_range r = {.n = 1};
  r.c[0].op = RNG_EQ;
  r.c[0].ver = (rng_version){{1, 27, 0}};
  rng_version a = ver("1.27.0"), b = ver("1.27.5");
  assert_true(rng_contains(&r, &a));
  assert_false(rng_contains(&r, &b));
}

static void test_range_kernel_release_strings(void **state) {
  (void)state;
  assert_contains(">= 5.4", "5.4.0-150-generic", true);
  assert_contains(">= 5.4", "4.19.0-18-amd64", false);
  assert_contains(">= 5.4", "6.18.44-fc-v669", true);
  assert_contains(">=4.14", "4.14.336", true);
  assert_contains(">=4.14", "4.9.337", false);
  assert_contains(">=5.10, <6", "6.1.0-18-amd64", false);
  assert_contains(">=5.10, <6", "5.10.0-28-cloud-amd64", true);
}

static void test_range_whitespace_around_ops_and_commas(void **state) {
  (void)state;
  rng_range r = range("  >=  1.21 ,<1.28\t,\t!= 1.22  ");
  assert_int_equal(r.n, 3);
  assert_int_equal(r.c[0].op, RNG_GE);
  assert_int_equal(r.c[1].op, RNG_LT);
  assert_int_equal(r.c[2].op, RNG_NE);
  assert_int_equal(r.c[0].ver.v[1], 21);
  assert_int_equal(r.c[1].ver.v[1], 28);
  assert_int_equal(r.c[2].ver.v[1], 22);
}

static void test_range_parses_every_operator(void **state) {
  (void)state;
  static const struct {
    const char *text;
    rng_op op;
  } cases[] = {{"==1", RNG_EQ}, {"!=1", RNG_NE}, {"<1", RNG_LT}, {"<=1", RNG_LE},
               {">1", RNG_GT},  {">=1", RNG_GE}, {"1", RNG_EQ}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rng_range r = range(cases[i].text);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.c[0].op, cases[i].op);
    assert_int_equal(r.c[0].ver.v[0], 1);
  }
  rng_range any = range("*");
  assert_int_equal(any.n, 0);
}

static void test_range_accepts_eight_conditions_refuses_nine(void **state) {
  (void)state;
  rng_range r = range(">=1,>=1,>=1,>=1,>=1,>=1,>=1,<2");
  assert_int_equal(r.n, RNG_MAX_CONDS);
  se_clear();
  assert_se_error(rng_parse(">=1,>=1,>=1,>=1,>=1,>=1,>=1,>=1,<2", &r), SE_CONFIG);
  assert_non_null(strstr(se_msg(), "more than 8 conditions"));
  assert_int_equal(r.n, 0);
}

static void test_range_rejects_with_message_and_syntax(void **state) {
  (void)state;
  static const struct {
    const char *text, *why;
  } cases[] = {
      {"", "the range is empty"},
      {"  \t ", "the range is empty"},
      {"~>1.2", "unknown operator '~>'"},
      {"=1.2", "unknown operator '='"},
      {"=>1.2", "unknown operator '=>'"},
      {"^1.2", "unknown operator '^'"},
      {"latest", "unknown operator 'latest'"},
      {">=1.21,", "trailing comma"},
      {">=1.21, ", "trailing comma"},
      {",>=1.21", "leading comma"},
      {">=1.21,,<1.28", "empty condition between two commas"},
      {">=", "missing its version"},
      {">= ", "missing its version"},
      {">=1.21, <", "missing its version"},
      {">=x", "starts with a number"},
      {">=1..2", "empty component"},
      {">=1.2.3.4", "at most three components"},
      {"<1.28rc1", "unexpected \"rc1\" after version 1.28"},
      {">=1.21 <1.28", "unexpected \" <1.28\" after version 1.21"},
      {"5.4-generic", "unexpected \"-generic\""},
      {"*, <1.2", "cannot be combined"},
      {"<1.2, *", "cannot be combined"},
      {"**", "cannot be combined"},
      {">=10000000", "larger than 1000000"},
      {">=1.2.33333333333333333333333333333333333333333333333333333333333333333", "too long"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rng_range r;
    memset(&r, 0xAB, sizeof r);
    se_clear();
    assert_se_error(rng_parse(cases[i].text, &r), SE_CONFIG);
    if (!strstr(se_msg(), cases[i].why))
      fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].text, se_msg(), cases[i].why);
    if (!strstr(se_msg(), "expected \"*\" or comma-separated conditions such as \">=1.21, <1.28\""))
      fail_msg("\"%s\": message \"%s\" does not show the syntax", cases[i].text, se_msg());
    if (!strstr(se_msg(), "bad version range \""))
      fail_msg("\"%s\": message \"%s\" does not quote the range", cases[i].text, se_msg());
    assert_int_equal(r.n, 0);
  }
  rng_range r;
  assert_se_error(rng_parse(NULL, &r), SE_CONFIG);
}

static void test_range_long_garbage_is_refused_with_bounded_message(void **state) {
  (void)state;
  char text[3000];
  memset(text, '~', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  rng_range r;
  se_clear();
  assert_se_error(rng_parse(text, &r), SE_CONFIG);
  assert_true(strlen(se_msg()) < 1024);
  memset(text, '9', sizeof text - 1);
  assert_se_error(rng_parse(text, &r), SE_CONFIG);
  for (size_t i = 0; i < sizeof text - 1; i++) text[i] = i % 2 ? ',' : '1';
  assert_se_error(rng_parse(text, &r), SE_CONFIG);
  assert_non_null(strstr(se_msg(), "more than 8 conditions"));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_version_parse_accepts_go_kernel_and_prerelease_forms),
    cmocka_unit_test(test_version_parse_rejects_with_message_naming_the_text),
    cmocka_unit_test(test_version_compare_is_numeric_not_lexical),
    cmocka_unit_test(test_version_format_with_and_without_patch),
    cmocka_unit_test(test_range_contains_table),
    cmocka_unit_test(test_range_excludes_upper_bound_go128),
    cmocka_unit_test(test_range_includes_lower_bound_go121),
    cmocka_unit_test(test_range_bare_or_eq_version_matches_whole_series),
    cmocka_unit_test(test_range_hand_built_eq_compares_all_components),
    cmocka_unit_test(test_range_kernel_release_strings),
    cmocka_unit_test(test_range_whitespace_around_ops_and_commas),
    cmocka_unit_test(test_range_parses_every_operator),
    cmocka_unit_test(test_range_accepts_eight_conditions_refuses_nine),
    cmocka_unit_test(test_range_rejects_with_message_and_syntax),
    cmocka_unit_test(test_range_long_garbage_is_refused_with_bounded_message),
};

UNIT_MAIN(tests)
