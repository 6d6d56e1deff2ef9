/* runtime.c: opening a Go program and binding it to a live process. */
#include "goruntime/runtime.h"
#include "goruntime/symbolize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "target/proc.h"

/* Finds the build info: the .go.buildinfo section, else writable segments. */
static int read_buildinfo(gr_program *p) {
  const gr_section *s = gr_image_section(&p->img, ".go.buildinfo");
  const uint8_t *b = gr_image_section_bytes(&p->img, s);
  if (b) return bi_parse(b, (size_t)s->size, &p->strings, &p->bi);
  for (size_t i = 0; i < p->img.nsegs; i++) {
    const gr_segment *sg = &p->img.segs[i];
    if (!(sg->flags & 2 /* PF_W */)) continue;
    if (bi_parse(p->img.map + sg->offset, (size_t)sg->filesz, &p->strings, &p->bi) == 0) return 0;
  }
  return se_set(SE_NOTGO, "%s is not a Go program (no Go build information)", p->img.path);
}

static const uint8_t *image_bytes(void *ctx, uint64_t addr, size_t n) {
  gr_program *p = ctx;
  return gr_image_bytes_at(&p->img, addr - p->bias, n);
}

int gr_program_open(gr_program *p, const char *path) {
  memset(p, 0, sizeof *p);
  arena_init(&p->strings);
  int rc = gr_image_open(path, &p->img);
  if (rc) return rc;
  if ((rc = read_buildinfo(p))) return rc;
  if (p->bi.go_major != 1 || p->bi.go_minor < 18)
    return se_set(SE_NOTGO, "%s was built by %s; sonde supports Go 1.18 and newer", path, p->bi.go_version);
  p->style.elide_inner_outer = p->bi.go_minor >= 21;
  p->style.max_physical_frames = p->bi.go_minor >= 21 ? 0 : 100;
  p->style.created_by_goroutine = p->bi.go_minor >= 21;
  p->style.labels_readable = p->bi.go_minor >= 24;
  p->style.labels_format = p->bi.go_minor >= 27 ? 127 : p->bi.go_minor == 26 ? 126 : 0;
  p->style.tracebacklabels_default = p->bi.go_minor >= 27 ? 1 : 0;

  const gr_section *s = gr_image_gopclntab(&p->img);
  const uint8_t *b = gr_image_section_bytes(&p->img, s);
  if (!b) return se_set(SE_NOTGO, "%s has no .gopclntab section", path);
  /* Parsed now, before any stop; the text address is set at bind time from
   * the live moduledata (pcHeader.textStart is 0 from Go 1.26 on). */
  rc = pcln_open(&p->pcln, b, (size_t)s->size);
  if (rc) return se_wrap(rc, "%s", path);

  return 0;
}

/* Directories that may hold go1.NN.yaml layout tables, in search order. */
static const char *layout_dirs(int i) {
  switch (i) {
    case 0: return getenv("SONDE_LAYOUT_DIR");
    case 1: return SONDE_LAYOUT_DIR_INSTALLED;
    case 2: return SONDE_LAYOUT_DIR_SOURCE; /* running from a build tree */
    default: return NULL;
  }
}

/* "1.19, 1.21-1.27"-style list of the tables found in dir. */
static void known_versions(const char *dir, char *out, size_t n) {
  out[0] = '\0';
  size_t used = 0;
  for (int minor = 1; minor < 100; minor++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/go1.%d.yaml", dir, minor);
    if (access(path, R_OK) != 0) continue;
    int w = snprintf(out + used, n - used, "%s1.%d", used ? ", " : "", minor);
    if (w < 0 || (size_t)w >= n - used) break;
    used += (size_t)w;
  }
}

static int load_layout_table(gr_program *p) {
  int minor = p->bi.go_minor;
  for (int i = 0; i < 3; i++) {
    const char *dir = layout_dirs(i);
    if (!dir || !*dir) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/go1.%d.yaml", dir, minor);
    if (access(path, R_OK) == 0) return gr_layout_from_table(path, minor, &p->layout);
  }
  for (int i = 0; i < 3; i++) {
    const char *dir = layout_dirs(i);
    char known[256];
    if (!dir || !*dir) continue;
    known_versions(dir, known, sizeof known);
    if (known[0])
      return se_set(SE_NOTGO,
                    "%s has no DWARF and sonde has no layout table for Go 1.%d (it has tables for Go %s, in %s). "
                    "Rebuild the program without -w, or add a table: scripts/gen-layouts.sh",
                    p->img.path, minor, known, dir);
  }
  return se_set(SE_NOTGO,
                "%s has no DWARF and no layout tables were found (looked in $SONDE_LAYOUT_DIR, %s and %s)",
                p->img.path, SONDE_LAYOUT_DIR_INSTALLED, SONDE_LAYOUT_DIR_SOURCE);
}

int gr_program_load_runtime(gr_program *p) {
  int rc = p->img.has_dwarf ? gr_layout_from_dwarf(&p->img, &p->layout) : load_layout_table(p);
  if (rc) return rc;
  if ((rc = gr_layout_check(&p->layout))) return rc;
  return p->img.has_symtab ? gr_globals_from_symtab(&p->img, &p->globals) : gr_globals_from_code(&p->img, &p->pcln, &p->layout, &p->globals);
}

void gr_program_close(gr_program *p) {
  gr_sym_drop(p);
  gr_image_close(&p->img);
  arena_free(&p->strings);
  memset(p, 0, sizeof *p);
}

const char *gr_waitreason(const gr_program *p, uint8_t wr) {
  if (wr < p->nwaitreasons && p->waitreason[wr]) return p->waitreason[wr];
  return "";
}

enum { MAX_WAITREASON_LEN = 256 };

static int read_waitreasons(gr_program *p) {
  uint64_t addr = gr_rt(p, p->globals.addr[GR_GLOBAL_WAITREASONSTRINGS]);
  size_t n = (size_t)(p->globals.size[GR_GLOBAL_WAITREASONSTRINGS] / 16);
  if (n == 0 || n > GR_MAX_WAITREASONS)
    return se_set(SE_CORRUPT, "runtime.waitReasonStrings has %zu entries", n);
  uint64_t hdr[GR_MAX_WAITREASONS * 2];
  int rc = tgt_mem_read(p->mem, addr, hdr, n * 16);
  if (rc) return se_wrap(rc, "reading runtime.waitReasonStrings");
  for (size_t i = 0; i < n; i++) {
    uint64_t sp = hdr[2 * i], sl = hdr[2 * i + 1];
    char buf[MAX_WAITREASON_LEN];
    if (sl == 0) {
      p->waitreason[i] = "";
    } else if (sl < MAX_WAITREASON_LEN && tgt_mem_read(p->mem, sp, buf, (size_t)sl) == 0) {
      p->waitreason[i] = arena_strndup(&p->strings, buf, (size_t)sl);
    } else {
      se_clear();
      p->waitreason[i] = "?";
    }
  }
  p->nwaitreasons = n;
  return 0;
}

/* The last "key=N" in a GODEBUG-style list, or -1. */
static int godebug_value(const char *list, const char *key) {
  int v = -1;
  size_t kl = strlen(key);
  for (const char *q = list; q && *q;) {
    const char *comma = strchr(q, ',');
    size_t len = comma ? (size_t)(comma - q) : strlen(q);
    if (len > kl && !strncmp(q, key, kl) && q[kl] == '=') v = atoi(q + kl + 1);
    q = comma ? comma + 1 : NULL;
  }
  return v;
}

/* Does the target print pprof labels in tracebacks (Go 1.26+)? The
 * runtime's own runtime.debug.tracebacklabels when we can find it; else
 * computed as the runtime computes it (runtime1.go parsedebugvars): the
 * toolchain's default, then the binary's DefaultGODEBUG, then the GODEBUG
 * the process started with, later settings winning. */
static bool read_tracebacklabels(gr_program *p, pid_t pid) {
  if (!p->style.labels_format) return false;
  if (p->globals.addr[GR_GLOBAL_DEBUG] && GR_HAS(&p->layout, DBG_TRACEBACKLABELS)) {
    int32_t v = 0;
    uint64_t at = gr_rt(p, p->globals.addr[GR_GLOBAL_DEBUG]) + (uint64_t)GR_OFF(&p->layout, DBG_TRACEBACKLABELS);
    if (tgt_mem_read(p->mem, at, &v, sizeof v) == 0) return v == 1;
    se_clear();
  }
  int v = p->style.tracebacklabels_default;
  int d = godebug_value(bi_setting_get(&p->bi, "DefaultGODEBUG"), "tracebacklabels");
  if (d >= 0) v = d;
  char env[4096];
  if (tgt_proc_getenv(pid, "GODEBUG", env, sizeof env) == 0) {
    int e = godebug_value(env, "tracebacklabels");
    if (e >= 0) v = e;
  }
  se_clear();
  return v == 1;
}

int gr_program_bind(gr_program *p, pid_t pid, const char *mapped_path, tgt_mem *mem) {
  p->bias = 0;
  if (p->img.is_dyn) {
    int rc = tgt_proc_load_bias(pid, mapped_path, p->img.first_vaddr, &p->bias);
    if (rc) return rc;
  }
  int rc;
  p->mem = mem;
  /* moduledata: text and gofunc as the running program sees them */
  uint64_t md = gr_rt(p, p->globals.addr[GR_GLOBAL_FIRSTMODULEDATA]);
  uint64_t text, gofunc;
  if ((rc = tgt_mem_read_u64(mem, md + (uint64_t)GR_OFF(&p->layout, MD_TEXT), &text)) ||
      (rc = tgt_mem_read_u64(mem, md + (uint64_t)GR_OFF(&p->layout, MD_GOFUNC), &gofunc)))
    return se_wrap(rc, "reading runtime.firstmoduledata");
  p->md_text = text;
  p->md_gofunc = gofunc;
  p->md_types = p->md_etypes = 0;
  uint64_t types, etypes;
  if (GR_HAS(&p->layout, MD_TYPES) && GR_HAS(&p->layout, MD_ETYPES) &&
      !tgt_mem_read_u64(mem, md + (uint64_t)GR_OFF(&p->layout, MD_TYPES), &types) &&
      !tgt_mem_read_u64(mem, md + (uint64_t)GR_OFF(&p->layout, MD_ETYPES), &etypes) && types < etypes &&
      etypes - types < (1ull << 32)) {
    p->md_types = types; /* nameOff is an int32 from here */
    p->md_etypes = etypes;
  }
  se_clear();
  pcln_set_text(&p->pcln, text);
  pcln_set_funcdata(&p->pcln, gofunc, image_bytes, p);
  p->tracebacklabels = read_tracebacklabels(p, pid);
  return read_waitreasons(p);
}
