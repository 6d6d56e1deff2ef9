/* test_buildinfo.c: bi_parse on the .go.buildinfo sections of real binaries
 * built by every supported toolchain, checked against `go version -m` of the
 * same binary (data/go1.NN/buildinfo.golden), and on corrupt variants. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "goruntime/buildinfo.h"

enum { HDR = 32 }; /* magic[14], ptrsize, flags, 16 bytes of unused pointers */

/* Go's binary.Uvarint, written here from its spec to find where the strings
 * end; 0 on error. */
static size_t test_uvarint(const uint8_t *p, size_t n, uint64_t *out) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && i < 10; i++) {
    v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (p[i] < 0x80) {
      *out = v;
      return i + 1;
    }
  }
  return 0;
}

static size_t put_uvarint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  for (; v >= 0x80; v >>= 7) p[n++] = (uint8_t)(v | 0x80);
  p[n++] = (uint8_t)v;
  return n;
}

/* Offset just past the modinfo string of a well-formed blob at offset 0. */
static size_t strings_end(const unit_blob *b) {
  size_t at = HDR;
  for (int i = 0; i < 2; i++) {
    uint64_t len = 0;
    size_t used = test_uvarint(b->bytes + at, b->len - at, &len);
    assert_true(used > 0);
    at += used + (size_t)len;
  }
  assert_true(at <= b->len);
  return at;
}

/* The golden file's fields: "\t<kind>\t<a>[\t<b>[\t<c>]]". */
typedef struct {
  char kind[16];
  char f[3][2048];
  int nf;
} golden_line;

static void copy_field(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) fail_msg("golden field too long: %s", src);
  memcpy(dst, src, n + 1);
}

static int golden_next(FILE *g, golden_line *out) {
  static char line[8192];
  if (!fgets(line, sizeof line, g)) return 0;
  line[strcspn(line, "\n")] = '\0';
  memset(out, 0, sizeof *out);
  char *p = line;
  if (*p == '\t') p++;
  char *tab = strchr(p, '\t');
  if (!tab) return 1;
  *tab = '\0';
  copy_field(out->kind, sizeof out->kind, p);
  p = tab + 1;
  for (out->nf = 0; out->nf < 3; out->nf++) {
    tab = strchr(p, '\t');
    if (tab) *tab = '\0';
    copy_field(out->f[out->nf], sizeof out->f[0], p);
    if (!tab) {
      out->nf++;
      break;
    }
    p = tab + 1;
  }
  return 1;
}

static const char *or_empty(const char *s) { return s ? s : ""; }

/* Everything `go version -m` printed is what bi_parse found, in order. */
static void check_against_go_version_m(const char *ver) {
  char rel[64];
  snprintf(rel, sizeof rel, "go%s/buildinfo.bin", ver);
  unit_blob b = unit_read(rel);
  arena a;
  arena_init(&a);
  bi_info bi;
  se_clear();
  int rc = bi_parse(b.bytes, b.len, &a, &bi);
  if (rc) fail_msg("bi_parse(%s): %s", rel, se_msg());

  char path[4096];
  snprintf(path, sizeof path, "%s/go%s/buildinfo.golden", unit_data_dir, ver);
  FILE *g = fopen(path, "r");
  if (!g) fail_msg("cannot open %s", path);
  char first[256];
  assert_non_null(fgets(first, sizeof first, g));
  first[strcspn(first, "\n")] = '\0';
  assert_memory_equal(first, "prog: ", 6);
  assert_string_equal(bi.go_version, first + 6);
  int ma, mi, pa = 0;
  assert_true(sscanf(first + 6, "go%d.%d.%d", &ma, &mi, &pa) >= 2);
  assert_int_equal(bi.go_major, ma);
  assert_int_equal(bi.go_minor, mi);
  assert_int_equal(bi.go_patch, pa);
  char want_minor[16];
  snprintf(want_minor, sizeof want_minor, "1.%d", bi.go_minor);
  assert_string_equal(want_minor, ver);

  golden_line gl;
  size_t nsettings = 0, ndeps = 0;
  int saw_path = 0, saw_mod = 0;
  while (golden_next(g, &gl)) {
    if (!strcmp(gl.kind, "path")) {
      saw_path = 1;
      assert_string_equal(or_empty(bi.path), gl.f[0]);
    } else if (!strcmp(gl.kind, "mod")) {
      saw_mod = 1;
      assert_string_equal(or_empty(bi.mod_path), gl.f[0]);
      assert_string_equal(or_empty(bi.mod_version), gl.f[1]);
      assert_string_equal(or_empty(bi.mod_sum), gl.f[2]);
    } else if (!strcmp(gl.kind, "dep")) {
      ndeps++;
    } else if (!strcmp(gl.kind, "build")) {
      assert_true(nsettings < bi.nsettings);
      char kv[4096];
      snprintf(kv, sizeof kv, "%s=%s", bi.settings[nsettings].key, bi.settings[nsettings].value);
      assert_string_equal(kv, gl.f[0]);
      nsettings++;
    } else {
      fail_msg("unexpected line kind \"%s\" in %s", gl.kind, path);
    }
  }
  fclose(g);
  assert_true(saw_path && saw_mod);
  assert_int_equal(bi.nsettings, nsettings);
  assert_int_equal(bi.ndeps, ndeps);
  assert_true(nsettings >= 4);
  /* make_data.sh builds with these; the lookup helpers find them */
  assert_string_equal(or_empty(bi_setting_get(&bi, "GOARCH")), "amd64");
  assert_string_equal(or_empty(bi_setting_get(&bi, "CGO_ENABLED")), "0");
  assert_null(bi_setting_get(&bi, "GOARC"));
  assert_null(bi.vcs);
  assert_null(bi.vcs_revision);
  arena_free(&a);
  unit_blob_free(&b);
}

#define BI_VERSIONS(X) X(119, "1.19") X(121, "1.21") X(122, "1.22") X(123, "1.23") \
  X(124, "1.24") X(125, "1.25") X(126, "1.26") X(127, "1.27")
#define BI_TEST(tag, ver)                                               \
  static void test_buildinfo_matches_go_version_m_go##tag(void **state) { \
    (void)state;                                                          \
    check_against_go_version_m(ver);                                      \
  }
BI_VERSIONS(BI_TEST)

/* ---- bytes around the blob ---------------------------------------------- */

/* The blob found inside a bigger writable segment, at 16-byte alignment. */
static void test_buildinfo_found_inside_a_segment_at_16_byte_alignment(void **state) {
  (void)state;
  unit_blob b = unit_read("go1.21/buildinfo.bin");
  size_t pad = 4096 + 48;
  unit_blob seg = unit_copy(NULL, pad + b.len + 100);
  memcpy(seg.bytes + pad, b.bytes, b.len);
  arena a;
  arena_init(&a);
  bi_info bi;
  assert_int_equal(bi_parse(seg.bytes, seg.len, &a, &bi), 0);
  assert_string_equal(bi.path, "example.com/prog");
  assert_int_equal(bi.go_minor, 21);
  arena_free(&a);

  /* Go writes the blob 16-aligned and searches only there (debug/buildinfo) */
  memset(seg.bytes, 0, seg.len);
  memcpy(seg.bytes + pad + 8, b.bytes, b.len);
  se_clear();
  assert_se_error(bi_parse(seg.bytes, seg.len, &a, &bi), SE_NOTGO);
  arena_free(&a);
  unit_blob_free(&seg);
  unit_blob_free(&b);
}

static void test_buildinfo_truncated_anywhere_in_the_strings_is_corrupt(void **state) {
  (void)state;
  unit_blob full = unit_read("go1.27/buildinfo.bin");
  size_t end = strings_end(&full);
  arena a;
  arena_init(&a);
  bi_info bi;
  for (size_t n = 0; n <= full.len; n++) {
    unit_blob cut = unit_copy(full.bytes, n); /* exactly n bytes: ASan sees any overread */
    se_clear();
    int rc = bi_parse(cut.bytes, cut.len, &a, &bi);
    if (n < HDR) assert_se_error(rc, SE_NOTGO); /* not even a header: no blob here */
    else if (n < end) assert_se_error(rc, SE_CORRUPT);
    else assert_int_equal(rc, 0);
    arena_free(&a);
    unit_blob_free(&cut);
  }
  unit_blob_free(&full);
}

/* A blob: the header from a real binary, then the given bytes. */
static unit_blob blob_with(const uint8_t *tail, size_t n) {
  unit_blob real = unit_read("go1.27/buildinfo.bin");
  unit_blob b = unit_copy(NULL, HDR + n);
  memcpy(b.bytes, real.bytes, HDR);
  if (n) memcpy(b.bytes + HDR, tail, n);
  unit_blob_free(&real);
  return b;
}

static void expect_parse_error(const uint8_t *tail, size_t n, int want) {
  unit_blob b = blob_with(tail, n);
  arena a;
  arena_init(&a);
  bi_info bi;
  se_clear();
  int rc = bi_parse(b.bytes, b.len, &a, &bi);
  arena_free(&a); /* before asserting: a failure must not also leak */
  unit_blob_free(&b);
  assert_se_error(rc, want);
}
#define EXPECT_PARSE_ERROR(lit, want) expect_parse_error((const uint8_t *)(lit), sizeof(lit) - 1, want)

static void test_buildinfo_absurd_string_lengths_are_corrupt(void **state) {
  (void)state;
  /* 2^64-1 */
  EXPECT_PARSE_ERROR("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01go1.21", SE_CORRUPT);
  /* 2^40: fits in 64 bits, far past the end */
  EXPECT_PARSE_ERROR("\x80\x80\x80\x80\x80\x20go1.21", SE_CORRUPT);
  /* one byte more than there is */
  EXPECT_PARSE_ERROR("\x07go1.21", SE_CORRUPT);
  /* the version is fine, the modinfo length is absurd */
  EXPECT_PARSE_ERROR("\x06go1.21\xff\xff\xff\xff\x0f", SE_CORRUPT);
  /* a varint that never ends */
  EXPECT_PARSE_ERROR("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", SE_CORRUPT);
  /* nothing after the header */
  EXPECT_PARSE_ERROR("", SE_CORRUPT);
}

/* binary.Uvarint rejects a 10th byte above 1 (the value would not fit in 64
 * bits); accepting it wraps the length to a small, plausible number. */
static void test_buildinfo_overflowing_varint_length_is_corrupt(void **state) {
  (void)state;
  /* 6 + 2*2^63 (mod 2^64 that is 6, the length of "go1.21") */
  EXPECT_PARSE_ERROR("\x86\x80\x80\x80\x80\x80\x80\x80\x80\x02go1.21\x00", SE_CORRUPT);
}

/* Header flags and pointer size, each changed in a real blob. */
static void expect_header_error(size_t at, uint8_t value, int want, const char *msg_part) {
  unit_blob b = unit_read("go1.27/buildinfo.bin");
  b.bytes[at] = value;
  arena a;
  arena_init(&a);
  bi_info bi;
  se_clear();
  int rc = bi_parse(b.bytes, b.len, &a, &bi);
  arena_free(&a);
  unit_blob_free(&b);
  assert_se_error(rc, want);
  if (msg_part && !strstr(se_msg(), msg_part)) fail_msg("message \"%s\" does not mention \"%s\"", se_msg(), msg_part);
}

static void test_buildinfo_missing_magic_is_not_go(void **state) {
  (void)state;
  expect_header_error(0, 0x00, SE_NOTGO, "not a Go program");
  expect_header_error(13, ';', SE_NOTGO, NULL); /* "Go buildinf;" */
}

static void test_buildinfo_pre_go118_pointer_format_is_not_supported(void **state) {
  (void)state;
  expect_header_error(15, 0x00, SE_NOTGO, "1.18"); /* flags without "inline strings" */
}

static void test_buildinfo_big_endian_is_not_supported(void **state) {
  (void)state;
  expect_header_error(15, 0x03, SE_NOTGO, "big-endian");
}

static void test_buildinfo_pointer_size_other_than_8_is_not_supported(void **state) {
  (void)state;
  expect_header_error(14, 4, SE_NOTGO, "4-byte pointers");
  expect_header_error(14, 0, SE_NOTGO, NULL);
  expect_header_error(14, 0xff, SE_NOTGO, NULL);
}

static void test_buildinfo_unparsable_version_is_not_go(void **state) {
  (void)state;
  EXPECT_PARSE_ERROR("\x05hello\x00", SE_NOTGO);
  EXPECT_PARSE_ERROR("\x00\x00", SE_NOTGO);
  EXPECT_PARSE_ERROR("\x10" "devel go1.27-abc\x00", SE_NOTGO);
}

/* A binary built outside module mode has empty modinfo; debug/buildinfo
 * accepts it and so must sonde: the version is still known. */
static void test_buildinfo_empty_modinfo_gives_version_only(void **state) {
  (void)state;
  unit_blob b = blob_with((const uint8_t *)"\x08go1.22.5\x00", 10);
  arena a;
  arena_init(&a);
  bi_info bi;
  assert_int_equal(bi_parse(b.bytes, b.len, &a, &bi), 0);
  assert_string_equal(bi.go_version, "go1.22.5");
  assert_int_equal(bi.go_minor, 22);
  assert_int_equal(bi.go_patch, 5);
  assert_null(bi.path);
  assert_null(bi.mod_path);
  assert_int_equal(bi.nsettings, 0);
  assert_int_equal(bi.ndeps, 0);
  arena_free(&a);
  unit_blob_free(&b);
}

/* Odd lines in the modinfo text: skipped or kept, never a crash. */
static void test_buildinfo_odd_modinfo_lines_are_tolerated(void **state) {
  (void)state;
  static const char mod[] =
      "path\tx.org/y\n"
      "\n"
      "junk without tabs\n"
      "build\tNOEQUALS\n"
      "build\t-ldflags=\"-s -w\"\n"
      "build\tvcs=git\n"
      "build\tvcs.revision=0123abcd\n"
      "dep\ta.org/b\tv1.0.0\th1:xyz=\n"
      "dep\tc.org/d\tv2.0.0\n"
      "mod\n"
      "build\tlast=no-newline";
  /* no sentinels around it (they are stripped only when present) */
  uint8_t tail[512];
  size_t n = 0;
  tail[n++] = 6;
  memcpy(tail + n, "go1.24", 6);
  n += 6;
  n += put_uvarint(tail + n, sizeof mod - 1);
  memcpy(tail + n, mod, sizeof mod - 1);
  n += sizeof mod - 1;
  unit_blob b = blob_with(tail, n);
  arena a;
  arena_init(&a);
  bi_info bi;
  assert_int_equal(bi_parse(b.bytes, b.len, &a, &bi), 0);
  assert_string_equal(bi.path, "x.org/y");
  assert_null(bi.mod_path);
  assert_int_equal(bi.ndeps, 2);
  assert_int_equal(bi.nsettings, 5);
  assert_string_equal(bi.settings[0].key, "NOEQUALS");
  assert_string_equal(bi.settings[0].value, "");
  assert_string_equal(bi_setting_get(&bi, "-ldflags"), "\"-s -w\"");
  assert_string_equal(bi.vcs, "git");
  assert_string_equal(bi.vcs_revision, "0123abcd");
  assert_null(bi.vcs_time);
  assert_string_equal(bi_setting_get(&bi, "last"), "no-newline");
  arena_free(&a);
  unit_blob_free(&b);
}

/* Deterministic mutations of a real blob: errors or a result, never a crash
 * or a read outside the bytes (ASan/UBSan). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_buildinfo_mutated_blobs_never_crash(void **state) {
  (void)state;
  unit_blob real = unit_read("go1.27/buildinfo.bin");
  size_t end = strings_end(&real);
  int ok = 0, failed = 0;
  int iters = unit_fuzz_iterations(2000);
  for (int iter = 0; iter < iters; iter++) {
    unit_blob m = unit_copy(real.bytes, real.len);
    int k = 1 + (int)(rnd() % 6);
    for (int i = 0; i < k; i++) {
      size_t at = (size_t)(rnd() % end);
      m.bytes[at] = (uint8_t)rnd();
    }
    size_t n = (iter % 5 == 0) ? (size_t)(rnd() % (m.len + 1)) : m.len;
    unit_blob cut = unit_copy(m.bytes, n);
    arena a;
    arena_init(&a);
    bi_info bi;
    se_clear();
    int rc = bi_parse(cut.bytes, cut.len, &a, &bi);
    if (rc == 0) {
      ok++;
      assert_non_null(bi.go_version);
      for (size_t i = 0; i < bi.nsettings; i++) {
        assert_non_null(bi.settings[i].key);
        assert_non_null(bi.settings[i].value);
      }
    } else {
      failed++;
      assert_true(rc == SE_CORRUPT || rc == SE_NOTGO);
      assert_true(strlen(se_msg()) > 0);
    }
    arena_free(&a);
    unit_blob_free(&cut);
    unit_blob_free(&m);
  }
  assert_true(ok > 0 && failed > 0); /* the mutations reach both outcomes */
  unit_blob_free(&real);
}

/* ---- bi_parse_version --------------------------------------------------- */

static void expect_version(const char *v, int rc_want, int ma, int mi, int pa) {
  int a = -1, b = -1, c = -1;
  int rc = bi_parse_version(v, &a, &b, &c);
  if ((rc == 0) != (rc_want == 0)) fail_msg("bi_parse_version(\"%s\") returned %d", v, rc);
  if (rc_want == 0) {
    assert_int_equal(a, ma);
    assert_int_equal(b, mi);
    assert_int_equal(c, pa);
  }
}

static void test_buildinfo_version_strings_as_go_writes_them(void **state) {
  (void)state;
  expect_version("go1.27.3", 0, 1, 27, 3);
  expect_version("go1.22", 0, 1, 22, 0);
  expect_version("go1.26.1 X:nogreenteagc", 0, 1, 26, 1);
  expect_version("go1.21rc2", 0, 1, 21, 0);
  expect_version("go1.19.13", 0, 1, 19, 13);
}

static void test_buildinfo_version_strings_that_are_not_versions(void **state) {
  (void)state;
  expect_version("", -1, 0, 0, 0);
  expect_version("go", -1, 0, 0, 0);
  expect_version("go1", -1, 0, 0, 0);
  expect_version("go1.", -1, 0, 0, 0);
  expect_version("gox.y", -1, 0, 0, 0);
  expect_version("devel go1.27-abcdef", -1, 0, 0, 0);
  expect_version("go1.-3", -1, 0, 0, 0);
  expect_version("go99999999999999999999.1", -1, 0, 0, 0);
  expect_version("go1.99999999999999999999", -1, 0, 0, 0);
}

static const struct CMUnitTest tests[] = {
#define BI_ENTRY(tag, ver) cmocka_unit_test(test_buildinfo_matches_go_version_m_go##tag),
    BI_VERSIONS(BI_ENTRY)
    cmocka_unit_test(test_buildinfo_found_inside_a_segment_at_16_byte_alignment),
    cmocka_unit_test(test_buildinfo_truncated_anywhere_in_the_strings_is_corrupt),
    cmocka_unit_test(test_buildinfo_absurd_string_lengths_are_corrupt),
    cmocka_unit_test(test_buildinfo_overflowing_varint_length_is_corrupt),
    cmocka_unit_test(test_buildinfo_missing_magic_is_not_go),
    cmocka_unit_test(test_buildinfo_pre_go118_pointer_format_is_not_supported),
    cmocka_unit_test(test_buildinfo_big_endian_is_not_supported),
    cmocka_unit_test(test_buildinfo_pointer_size_other_than_8_is_not_supported),
    cmocka_unit_test(test_buildinfo_unparsable_version_is_not_go),
    cmocka_unit_test(test_buildinfo_empty_modinfo_gives_version_only),
    cmocka_unit_test(test_buildinfo_odd_modinfo_lines_are_tolerated),
    cmocka_unit_test(test_buildinfo_mutated_blobs_never_crash),
    cmocka_unit_test(test_buildinfo_version_strings_as_go_writes_them),
    cmocka_unit_test(test_buildinfo_version_strings_that_are_not_versions),
};

UNIT_MAIN(tests)
