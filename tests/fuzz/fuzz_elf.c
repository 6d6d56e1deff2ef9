/* fuzz_elf.c: a Go executable as sonde opens one (host/goruntime/runtime.h):
 * the ELF image (elfimage.c), the build info (buildinfo.c), the pclntab's
 * header, then what reading the runtime needs: the layout (DWARF, or the
 * checked-in table for the binary's Go version), the runtime globals (the
 * symbol table, or the code and data patterns of globals_code.c).
 *
 * Input: the file's bytes, handed over as /proc/self/fd/N (a memfd). The
 * layout tables are index/layouts (SONDE_LAYOUT_DIR, set once). */
#include "fuzz.h"

#include "base/error.h"
#include "goruntime/runtime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  setenv("SONDE_LAYOUT_DIR", SONDE_FUZZ_LAYOUTS, 1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fz_file(data, size);
  se_clear();
  gr_program p;
  int rc = gr_program_open(&p, path);
  /* what the image gives whether or not the build info and pclntab were good */
  for (size_t i = 0; i < p.img.nsecs; i++) {
    const gr_section *s = &p.img.secs[i];
    fz_touch(s->name);
    fz_touch_bytes(gr_image_section_bytes(&p.img, s), (size_t)s->size);
    fz_touch_bytes(gr_image_bytes_at(&p.img, s->addr, (size_t)s->size), (size_t)s->size);
  }
  for (size_t i = 0; i < p.img.nsegs; i++) {
    const gr_segment *g = &p.img.segs[i];
    fz_touch_bytes(gr_image_bytes_at(&p.img, g->vaddr, (size_t)g->filesz), (size_t)g->filesz);
  }
  if (rc == 0) {
    fz_touch(p.bi.go_version);
    fz_touch(p.bi.path);
    fz_touch(p.bi.mod_path);
    for (size_t i = 0; i < p.bi.nsettings; i++) {
      fz_touch(p.bi.settings[i].key);
      fz_touch(p.bi.settings[i].value);
    }
    fz_touch(bi_setting_get(&p.bi, "vcs.revision"));
    if (gr_program_load_runtime(&p) == 0) FZ_CHECK(p.globals.addr[GR_GLOBAL_ALLGLEN], "loaded without runtime.allglen");
  }
  gr_program_close(&p);
  se_clear();
  return 0;
}
