/* globals.c: runtime globals from .symtab, in one pass over the table. */
#include "goruntime/globals.h"

#include <gelf.h>
#include <libelf.h>
#include <string.h>

#include "base/error.h"

static const struct {
  const char *sym;
  int required;
} k_globals[GR_GLOBAL_COUNT_] = {
#define GR_GLOBAL_ROW_(id, sym, req) {sym, req},
    GR_GLOBALS(GR_GLOBAL_ROW_)
#undef GR_GLOBAL_ROW_
};

const char *gr_global_name(gr_global g) { return k_globals[g].sym; }

int gr_globals_from_symtab(const gr_image *img, gr_globals *out) {
  memset(out, 0, sizeof *out);
  out->source = "symbol table";
  Elf *elf = img->elf;
  for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize) continue;
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d) continue;
    size_t n = sh.sh_size / sh.sh_entsize;
    for (size_t i = 0; i < n; i++) {
      GElf_Sym sym;
      if (!gelf_getsym(d, (int)i, &sym)) break;
      const char *s = elf_strptr(elf, sh.sh_link, sym.st_name);
      if (!s || strncmp(s, "runtime.", 8) != 0) continue;
      for (int g = 0; g < GR_GLOBAL_COUNT_; g++)
        if (!out->addr[g] && !strcmp(s, k_globals[g].sym)) {
          out->addr[g] = sym.st_value;
          out->size[g] = sym.st_size;
        }
    }
  }
  for (int g = 0; g < GR_GLOBAL_COUNT_; g++)
    if (k_globals[g].required && !out->addr[g])
      return se_set(SE_NOTGO,
                    "cannot find the runtime variable %s: %s has no symbol table (built with -ldflags=-s); "
                    "reading stripped binaries is not supported yet",
                    k_globals[g].sym, img->path);
  return 0;
}
