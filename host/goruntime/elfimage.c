/* elfimage.c: libelf for headers and the symbol table, mmap for bytes. */
#include "goruntime/elfimage.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

enum { MAX_SECTIONS = 4096, MAX_SEGMENTS = 256 };

static bool fits(uint64_t off, uint64_t n, size_t size) { return off <= size && n <= size - off; }

int gr_image_open(const char *path, gr_image *img) {
  memset(img, 0, sizeof *img);
  img->fd = -1;
  int rc = 0;
  if (elf_version(EV_CURRENT) == EV_NONE) return se_set(SE_ERR, "libelf: %s", elf_errmsg(-1));
  img->path = strdup(path);
  img->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (img->fd < 0) {
    rc = errno == ENOENT ? se_set(SE_IO, "%s: no such file", path)
                         : se_set(errno == EACCES ? SE_PERM : SE_IO, "cannot open %s: %s", path, strerror(errno));
    goto fail;
  }
  struct stat st;
  if (fstat(img->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = se_set(SE_IO, "%s is not a regular file", path);
    goto fail;
  }
  img->size = (size_t)st.st_size;
  if (img->size < 64) {
    rc = se_set(SE_NOTGO, "%s is not an ELF executable (%zu bytes)", path, img->size);
    goto fail;
  }
  void *m = mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, img->fd, 0);
  if (m == MAP_FAILED) {
    rc = se_set(SE_IO, "cannot map %s: %s", path, strerror(errno));
    goto fail;
  }
  img->map = m;
  Elf *elf = elf_memory((char *)img->map, img->size);
  img->elf = elf;
  GElf_Ehdr eh;
  if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
    rc = se_set(SE_NOTGO, "%s is not an ELF file, so not a Go program for Linux", path);
    goto fail;
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
    rc = se_set(SE_NOTGO, "%s is not an x86-64 ELF executable; sonde supports linux/amd64", path);
    goto fail;
  }
  img->is_dyn = eh.e_type == ET_DYN;
  img->entry = eh.e_entry;

  size_t nph = 0;
  if (elf_getphdrnum(elf, &nph) != 0 || nph > MAX_SEGMENTS) nph = 0;
  img->segs = calloc(nph ? nph : 1, sizeof *img->segs);
  img->first_vaddr = UINT64_MAX;
  for (size_t i = 0; i < nph; i++) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf, (int)i, &ph)) continue;
    if (ph.p_type == PT_INTERP) img->has_interp = true;
    if (ph.p_type != PT_LOAD) continue;
    if (!fits(ph.p_offset, ph.p_filesz, img->size)) continue;
    gr_segment *sg = &img->segs[img->nsegs++];
    sg->vaddr = ph.p_vaddr;
    sg->memsz = ph.p_memsz;
    sg->offset = ph.p_offset;
    sg->filesz = ph.p_filesz;
    sg->flags = ph.p_flags;
    if (ph.p_vaddr < img->first_vaddr) img->first_vaddr = ph.p_vaddr;
  }
  if (img->nsegs == 0) {
    rc = se_set(SE_NOTGO, "%s has no loadable segments", path);
    goto fail;
  }

  size_t shstrndx, nsec = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0 || elf_getshdrnum(elf, &nsec) != 0 || nsec > MAX_SECTIONS)
    nsec = 0;
  img->secs = calloc(nsec ? nsec : 1, sizeof *img->secs);
  for (Elf_Scn *scn = NULL; nsec && (scn = elf_nextscn(elf, scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
    if (!name) continue;
    if (sh.sh_type != SHT_NOBITS && !fits(sh.sh_offset, sh.sh_size, img->size)) continue;
    gr_section *s = &img->secs[img->nsecs++];
    s->name = name;
    s->addr = sh.sh_addr;
    s->size = sh.sh_size;
    s->offset = sh.sh_offset;
    s->type = sh.sh_type;
    s->flags = sh.sh_flags;
    if (sh.sh_type == SHT_SYMTAB) img->has_symtab = true;
    if (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")) img->has_dwarf = true;
  }
  return 0;
fail:
  gr_image_close(img);
  return rc;
}

void gr_image_close(gr_image *img) {
  if (img->elf) elf_end(img->elf);
  if (img->map) munmap((void *)img->map, img->size);
  if (img->fd >= 0) close(img->fd);
  free(img->secs);
  free(img->segs);
  free(img->path);
  memset(img, 0, sizeof *img);
  img->fd = -1;
}

const gr_section *gr_image_section(const gr_image *img, const char *name) {
  for (size_t i = 0; i < img->nsecs; i++)
    if (!strcmp(img->secs[i].name, name)) return &img->secs[i];
  return NULL;
}

const gr_section *gr_image_gopclntab(const gr_image *img) {
  const gr_section *s = gr_image_section(img, ".gopclntab");
  return s ? s : gr_image_section(img, ".data.rel.ro.gopclntab");
}

const uint8_t *gr_image_section_bytes(const gr_image *img, const gr_section *s) {
  if (!s || s->type == SHT_NOBITS || !fits(s->offset, s->size, img->size)) return NULL;
  return img->map + s->offset;
}

const uint8_t *gr_image_bytes_at(const gr_image *img, uint64_t addr, size_t n) {
  for (size_t i = 0; i < img->nsegs; i++) {
    const gr_segment *sg = &img->segs[i];
    if (addr >= sg->vaddr && addr - sg->vaddr <= sg->filesz && n <= sg->filesz - (addr - sg->vaddr))
      return img->map + sg->offset + (addr - sg->vaddr);
  }
  return NULL;
}
