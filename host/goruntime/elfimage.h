/* elfimage.h: the executable file of a Go program: sections, loadable
 * segments and (when present) the symbol table, over one read-only mmap.
 *
 * Addresses here are link-time addresses; add the load bias for a PIE.
 * Symbols are read by globals.c, in one pass for all it needs.
 * The image never trusts the file: section and segment ranges are checked
 * against the file size when the image is opened. */
#ifndef SONDE_GORUNTIME_ELFIMAGE_H
#define SONDE_GORUNTIME_ELFIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *name;
  uint64_t addr, size, offset;
  uint32_t type;
  uint64_t flags;
} gr_section;

typedef struct {
  uint64_t vaddr, memsz, offset, filesz;
  uint32_t flags; /* PF_R/PF_W/PF_X */
} gr_segment;

typedef struct gr_image {
  char *path;
  int fd;
  const uint8_t *map;
  size_t size;
  void *elf; /* Elf * (libelf), kept opaque so callers need not include libelf */
  gr_section *secs;
  size_t nsecs;
  gr_segment *segs;
  size_t nsegs;
  bool is_dyn;           /* ET_DYN: position independent */
  bool has_symtab, has_dwarf;
  uint64_t first_vaddr;  /* lowest PT_LOAD vaddr */
  uint64_t entry;        /* e_entry: the first instruction after the dynamic loader */
  bool has_interp;       /* PT_INTERP: a dynamic loader runs before entry */
} gr_image;

int gr_image_open(const char *path, gr_image *out);
void gr_image_close(gr_image *img);
const gr_section *gr_image_section(const gr_image *img, const char *name);
/* The Go pclntab section: .gopclntab, or .data.rel.ro.gopclntab in PIE
 * builds before Go 1.26; NULL when neither exists. */
const gr_section *gr_image_gopclntab(const gr_image *img);
/* File bytes backing [addr, addr+n) (link-time address), or NULL. */
const uint8_t *gr_image_bytes_at(const gr_image *img, uint64_t addr, size_t n);
/* Section contents, or NULL for NOBITS / out-of-file. */
const uint8_t *gr_image_section_bytes(const gr_image *img, const gr_section *s);

#endif
