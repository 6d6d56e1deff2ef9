/* fuzz_index.c: the plugin index (host/plugins/index.h): idx_load_buffer
 * with its schema checks, every entry's verdict, idx_find; and idx_write's
 * promise that what it writes loads back to the same entries.
 *
 * Input: the index's text. idx_load_file differs only in how it gets the
 * bytes (and idx_load_trusted in the ownership checks before). */
#include "fuzz.h"

#include <string.h>

#include "base/error.h"
#include "plugins/index.h"

static const char k_name[] = "/tmp/sonde-fuzz/plugins.yaml";

static bool same_str(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static bool same_entry(const idx_entry *a, const idx_entry *b) {
  return same_str(a->name, b->name) && same_str(a->file, b->file) && same_str(a->version, b->version) &&
         same_str(a->description, b->description) && same_str(a->sha256, b->sha256) &&
         a->abi_major == b->abi_major && a->abi_minor == b->abi_minor && same_str(a->go_text, b->go_text) &&
         same_str(a->kernel_text, b->kernel_text) && same_str(a->host_text, b->host_text);
}

static idx_env s_env[2];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  /* a host with a target attached, and one without */
  for (int i = 0; i < 2; i++) {
    if (rng_version_parse("0.1.0", &s_env[i].host) || rng_version_parse("6.1.0-18-amd64", &s_env[i].kernel) ||
        rng_version_parse("go1.27.3", &s_env[i].go))
      abort();
    s_env[i].have_go = i == 0;
    s_env[i].abi_major = 1;
    s_env[i].abi_minor = 5;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  se_clear();
  idx_index ix;
  if (idx_load_buffer(k_name, (const char *)data, size, &ix) != 0) {
    FZ_CHECK(!ix.n && !ix.e, "a refused index left %zu entries", ix.n);
    idx_free(&ix);
    return 0;
  }
  bool all_valid = true;
  for (size_t i = 0; i < ix.n; i++) {
    const idx_entry *e = &ix.e[i];
    char why[512];
    for (int k = 0; k < 2; k++) {
      bool ok = idx_verdict(e, &s_env[k], why, sizeof why);
      FZ_CHECK(!ok || !e->error, "entry %zu has an error but may load: %s", i, e->error);
      FZ_CHECK(ok || why[0], "entry %zu may not load and no reason is given", i);
    }
    fz_touch(e->error);
    fz_touch(e->description);
    all_valid = all_valid && !e->error;
    if (e->name) FZ_CHECK(idx_find(&ix, e->name), "idx_find(\"%s\") finds no entry", e->name);
  }
  /* written back, it loads as the same entries */
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  FZ_CHECK(f, "open_memstream");
  int rc = idx_write(f, &ix);
  fclose(f);
  FZ_CHECK(rc == 0 || !all_valid, "idx_write refused an index of valid entries: %s", se_msg());
  if (rc == 0) {
    idx_index back;
    rc = idx_load_buffer(k_name, text, len, &back);
    FZ_CHECK(rc == 0, "an index idx_write wrote does not load: %s\n%s", se_msg(), text);
    FZ_CHECK(back.n == ix.n, "an index of %zu entries written loads as %zu:\n%s", ix.n, back.n, text);
    for (size_t i = 0; i < ix.n; i++)
      FZ_CHECK(same_entry(&ix.e[i], &back.e[i]) && !back.e[i].error, "entry %zu does not load back the same: %s\n%s",
               i, back.e[i].error ? back.e[i].error : "", text);
    idx_free(&back);
  }
  free(text);
  idx_free(&ix);
  se_clear();
  return 0;
}
