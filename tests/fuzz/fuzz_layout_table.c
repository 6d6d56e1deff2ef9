/* fuzz_layout_table.c: the layout tables (host/goruntime/layout_table.c):
 * gr_layout_from_table, then gr_layout_check; and what gr_layout_emit_yaml
 * writes of a table that loaded must load back to the same layout.
 *
 * Input: a table's text, handed over as /proc/self/fd/N (a memfd). The Go
 * version the caller expects is the one the text names (`go: "1.NN"`), else
 * 1.27, so that both "right version" and "wrong version" are reached. */
#include "fuzz.h"

#include <string.h>

#include "base/error.h"
#include "goruntime/layout.h"

enum { SCAN = 4096 };

/* The minor version after the first `go: "1.`, else 27. */
static int expected_minor(const uint8_t *data, size_t size) {
  static const char key[] = "go: \"1.";
  size_t n = size < SCAN ? size : SCAN, kl = sizeof key - 1;
  for (size_t i = 0; i + kl < n; i++) {
    if (memcmp(data + i, key, kl)) continue;
    int minor = 0;
    for (size_t j = i + kl; j < n && j < i + kl + 3 && data[j] >= '0' && data[j] <= '9'; j++)
      minor = minor * 10 + (data[j] - '0');
    return minor;
  }
  return 27;
}

static bool same(const gr_layout *a, const gr_layout *b) {
  for (int i = 0; i < GRL_COUNT_; i++)
    if (a->off[i] != b->off[i] || (a->off[i] >= 0 && (a->fsize[i] != b->fsize[i] || strcmp(a->ftype[i], b->ftype[i]))))
      return false;
  return !memcmp(a->size, b->size, sizeof a->size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int minor = expected_minor(data, size);
  const char *path = fz_file(data, size);
  se_clear();
  gr_layout L;
  if (gr_layout_from_table(path, minor, &L) != 0) return 0;
  (void)gr_layout_check(&L);
  /* written back, it reads back the same */
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  FZ_CHECK(f, "open_memstream");
  int rc = gr_layout_emit_yaml(&L, "go1.fuzz", minor, f);
  fclose(f);
  FZ_CHECK(rc == 0, "gr_layout_emit_yaml: %s", se_msg());
  gr_layout back;
  rc = gr_layout_from_table(fz_file((const uint8_t *)text, len), minor, &back);
  FZ_CHECK(rc == 0, "a table gr_layout_emit_yaml wrote does not load: %s\n%s", se_msg(), text);
  FZ_CHECK(same(&L, &back), "a table gr_layout_emit_yaml wrote loads as another layout:\n%s", text);
  free(text);
  se_clear();
  return 0;
}
