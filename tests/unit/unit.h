/* unit.h: what the unit tests share: the data directory, whole-file reads,
 * the facts.txt files that data/make_data.sh writes, and error assertions.
 *
 * Files are read into buffers of exactly their size, so that AddressSanitizer
 * reports a parser that reads even one byte past the bytes it was given. */
#ifndef SONDE_TESTS_UNIT_H
#define SONDE_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "goruntime/pclntab.h"

/* Set by unit_main from argv[1] (CMake passes tests/unit/data). */
extern const char *unit_data_dir;

typedef struct {
  uint8_t *bytes;
  size_t len;
} unit_blob;

/* Reads <data dir>/<rel>; fails the test when the file is missing. */
unit_blob unit_read(const char *rel);
/* 1 when <data dir>/<rel> exists. */
int unit_exists(const char *rel);
/* A malloc'd copy of exactly n bytes (n may be 0); zeroes when p is NULL. */
unit_blob unit_copy(const uint8_t *p, size_t n);
void unit_blob_free(unit_blob *b);

/* facts.txt: "key value" lines. Lookups fail the test when a key is absent. */
typedef struct {
  unit_blob file;
} unit_facts;

unit_facts unit_facts_load(const char *rel);
void unit_facts_free(unit_facts *f);
/* The value as a string in a static buffer (valid until the next call). */
const char *unit_fact(const unit_facts *f, const char *key);
uint64_t unit_fact_u64(const unit_facts *f, const char *key);
int unit_fact_has(const unit_facts *f, const char *key);

/* The .gopclntab of data/go<ver>/ opened as sonde opens it in a live
 * process: text from runtime.text, funcdata served from the extracted
 * sections (the callback refuses any range outside them). */
typedef struct {
  unit_facts facts;
  unit_blob pcln, funcdata;
  uint64_t pcln_addr, funcdata_addr, text, gofunc;
  int go_minor;
  pcln_table t;
} unit_pcln;

/* Fails the test when the table does not open. Do not copy *p afterwards. */
void unit_pcln_open(unit_pcln *p, const char *ver);
void unit_pcln_close(unit_pcln *p);
/* The pcln_bytes_fn installed by unit_pcln_open; ctx is the unit_pcln. */
const uint8_t *unit_pcln_bytes_at(void *ctx, uint64_t addr, size_t n);

/* Iterations for the mutation loops: `dflt`, or $SONDE_UNIT_FUZZ_ITERS for a
 * deeper run by hand (e.g. SONDE_UNIT_FUZZ_ITERS=100000 ./unit_pclntab data). */
int unit_fuzz_iterations(int dflt);

/* rc is `want`, se_code() agrees, and se_msg() is a specific message rather
 * than the generic description of the code. */
#define assert_se_error(rc, want) unit_assert_se_error((rc), (want), __FILE__, __LINE__)
void unit_assert_se_error(int rc, int want, const char *file, int line);

/* Runs the group with argv[1] as the data directory. */
int unit_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t n);
#define UNIT_MAIN(tests) \
  int main(int argc, char **argv) { return unit_main(argc, argv, __FILE__, tests, sizeof tests / sizeof tests[0]); }

#endif
