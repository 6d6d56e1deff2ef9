/* fuzz_dwarf_layout.c: the DWARF layout source (host/goruntime/layout_dwarf.c)
 * and the contract check after it (gr_layout_check).
 *
 * Input: an ELF file (libdw reads it through the image's descriptor), handed
 * over as /proc/self/fd/N (a memfd). Seeds: small executables whose DWARF
 * tests/fuzz/make_corpus.py writes from index/layouts. */
#include "fuzz.h"

#include <string.h>

#include "base/error.h"
#include "goruntime/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fz_file(data, size);
  se_clear();
  gr_image img;
  if (gr_image_open(path, &img) != 0) return 0;
  gr_layout L;
  if (gr_layout_from_dwarf(&img, &L) == 0) {
    for (int i = 0; i < GRL_COUNT_; i++)
      FZ_CHECK(memchr(L.ftype[i], '\0', sizeof L.ftype[i]), "field %d's type name is not terminated", i);
    (void)gr_layout_check(&L);
  }
  gr_image_close(&img);
  se_clear();
  return 0;
}
