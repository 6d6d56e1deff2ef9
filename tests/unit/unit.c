/* unit.c: behind unit.h. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"

const char *unit_data_dir = SONDE_UNIT_DATA;

static void path_of(char *out, size_t cap, const char *rel) {
  int n = snprintf(out, cap, "%s/%s", unit_data_dir, rel);
  if (n < 0 || (size_t)n >= cap) fail_msg("path too long: %s/%s", unit_data_dir, rel);
}

int unit_exists(const char *rel) {
  char path[4096];
  struct stat st;
  path_of(path, sizeof path, rel);
  return stat(path, &st) == 0;
}

unit_blob unit_copy(const uint8_t *p, size_t n) {
  unit_blob b = {malloc(n ? n : 1), n};
  assert_non_null(b.bytes);
  if (n && p) memcpy(b.bytes, p, n);
  else if (n) memset(b.bytes, 0, n);
  return b;
}

unit_blob unit_read(const char *rel) {
  char path[4096];
  path_of(path, sizeof path, rel);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s (regenerate with tests/unit/data/make_data.sh)", path);
  struct stat st;
  if (fstat(fileno(f), &st) != 0) fail_msg("cannot stat %s", path);
  unit_blob b = {malloc(st.st_size ? (size_t)st.st_size : 1), (size_t)st.st_size};
  assert_non_null(b.bytes);
  if (fread(b.bytes, 1, b.len, f) != b.len) fail_msg("cannot read %s", path);
  fclose(f);
  return b;
}

void unit_blob_free(unit_blob *b) {
  free(b->bytes);
  b->bytes = NULL;
  b->len = 0;
}

unit_facts unit_facts_load(const char *rel) {
  unit_facts f = {unit_read(rel)};
  return f;
}

void unit_facts_free(unit_facts *f) { unit_blob_free(&f->file); }

/* The value of `key`, or NULL. */
static const char *find_fact(const unit_facts *f, const char *key, size_t *len) {
  const char *p = (const char *)f->file.bytes, *end = p + f->file.len;
  size_t kl = strlen(key);
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) nl = end;
    if ((size_t)(nl - p) > kl && !memcmp(p, key, kl) && p[kl] == ' ') {
      *len = (size_t)(nl - p) - kl - 1;
      return p + kl + 1;
    }
    p = nl + 1;
  }
  return NULL;
}

int unit_fact_has(const unit_facts *f, const char *key) {
  size_t len;
  return find_fact(f, key, &len) != NULL;
}

const char *unit_fact(const unit_facts *f, const char *key) {
  static char buf[4096];
  size_t len;
  const char *v = find_fact(f, key, &len);
  if (!v) fail_msg("facts.txt has no \"%s\" (regenerate with tests/unit/data/make_data.sh)", key);
  if (len >= sizeof buf) fail_msg("fact %s is too long", key);
  memcpy(buf, v, len);
  buf[len] = '\0';
  return buf;
}

uint64_t unit_fact_u64(const unit_facts *f, const char *key) {
  const char *v = unit_fact(f, key);
  char *end;
  unsigned long long n = strtoull(v, &end, 0);
  if (end == v || *end) fail_msg("fact %s = \"%s\" is not a number", key, v);
  return (uint64_t)n;
}

const uint8_t *unit_pcln_bytes_at(void *ctx, uint64_t addr, size_t n) {
  const unit_pcln *p = ctx;
  const struct {
    uint64_t addr;
    const unit_blob *b;
  } regions[] = {{p->pcln_addr, &p->pcln}, {p->funcdata_addr, &p->funcdata}};
  for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
    const unit_blob *b = regions[i].b;
    if (b->bytes && addr >= regions[i].addr && addr - regions[i].addr <= b->len &&
        n <= b->len - (addr - regions[i].addr))
      return b->bytes + (addr - regions[i].addr);
  }
  return NULL;
}

void unit_pcln_open(unit_pcln *p, const char *ver) {
  char rel[128];
  memset(p, 0, sizeof *p);
  snprintf(rel, sizeof rel, "go%s/facts.txt", ver);
  p->facts = unit_facts_load(rel);
  snprintf(rel, sizeof rel, "go%s/gopclntab.bin", ver);
  p->pcln = unit_read(rel);
  p->pcln_addr = unit_fact_u64(&p->facts, "pclntab_addr");
  if (unit_fact_has(&p->facts, "funcdata_addr")) {
    snprintf(rel, sizeof rel, "go%s/funcdata.bin", ver);
    p->funcdata = unit_read(rel);
    p->funcdata_addr = unit_fact_u64(&p->facts, "funcdata_addr");
  }
  p->text = unit_fact_u64(&p->facts, "text");
  p->gofunc = unit_fact_u64(&p->facts, "gofunc");
  int major = 0;
  if (sscanf(unit_fact(&p->facts, "go_version"), "go%d.%d", &major, &p->go_minor) != 2)
    fail_msg("bad go_version in facts");
  se_clear();
  if (pcln_open(&p->t, p->pcln.bytes, p->pcln.len) != 0) fail_msg("pcln_open(go%s): %s", ver, se_msg());
  pcln_set_text(&p->t, p->text);
  pcln_set_funcdata(&p->t, p->gofunc, unit_pcln_bytes_at, p);
}

void unit_pcln_close(unit_pcln *p) {
  unit_facts_free(&p->facts);
  unit_blob_free(&p->pcln);
  unit_blob_free(&p->funcdata);
}

int unit_fuzz_iterations(int dflt) {
  const char *e = getenv("SONDE_UNIT_FUZZ_ITERS");
  int n = e ? atoi(e) : 0;
  return n > 0 ? n : dflt;
}

void unit_assert_se_error(int rc, int want, const char *file, int line) {
  if (rc != want) {
    print_error("returned %d (%s), expected %d (%s); message: %s\n", rc, se_name(rc), want, se_name(want),
                se_msg());
    _fail(file, line);
  }
  if (se_code() != want) {
    print_error("se_code() is %s, expected %s\n", se_name(se_code()), se_name(want));
    _fail(file, line);
  }
  if (!strcmp(se_msg(), se_desc(want))) {
    print_error("no specific message for %s: se_msg() is the generic \"%s\"\n", se_name(want), se_msg());
    _fail(file, line);
  }
}

int unit_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t n) {
  if (argc > 1) unit_data_dir = argv[1];
  return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}
