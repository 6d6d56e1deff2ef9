/* fuzz_config.c: sonde.ini (host/plugins/config.h): cfg_load_buffer (our
 * line reader in front of inih, the [host] checks), then what sonde asks of
 * a loaded file: cfg_get, cfg_check_sections, cfg_host_settings.
 *
 * Input: the file's text. The name is absolute, so relative paths in the
 * file resolve without the working directory. Warnings are counted, never
 * printed. */
#include "fuzz.h"

#include <string.h>

#include "base/error.h"
#include "plugins/config.h"

static void on_warning(void *payload, const char *msg) {
  size_t *n = payload;
  FZ_CHECK(msg && msg[0], "an empty warning");
  fz_touch(msg);
  ++*n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  se_clear();
  cfg_config c;
  size_t warnings = 0;
  int rc = cfg_load_buffer(&c, "/tmp/sonde-fuzz/sonde.ini", (const char *)data, size, on_warning, &warnings);
  if (rc == 0) {
    for (size_t i = 0; i < c.n; i++) {
      const cfg_entry *e = &c.e[i];
      FZ_CHECK(e->line >= 1, "entry %zu has line %d", i, e->line);
      const cfg_entry *g = cfg_get(&c, e->section, e->key);
      FZ_CHECK(g, "cfg_get(%s, %s) finds no entry", e->section, e->key);
      fz_touch(e->value);
    }
    static const char *const names[] = {"stackdiff", "memwatch", "goroutine-graph"};
    cfg_check_sections(&c, names, sizeof names / sizeof *names, on_warning, &warnings);
    static const cfg_host_defaults d = {.plugin_dir = "/usr/lib/sonde/plugins", .index = "/usr/share/sonde/plugins.yaml",
                                        .output_dir = NULL, .allow_unsafe_permissions = false};
    cfg_host h;
    if (cfg_host_settings(&h, &c, &d) == 0) {
      fz_touch(h.plugin_dir.value);
      fz_touch(h.index.value);
      fz_touch(h.output_dir.value);
      cfg_host_free(&h);
    }
  }
  cfg_free(&c);
  se_clear();
  return 0;
}
