/* runtime.h: one Go program as sonde sees it: its executable (build info,
 * pclntab, layouts, globals) and, when attached, its live memory.
 *
 * gr_program_open reads only the file, so a non-Go or unsupported target is
 * rejected before the process is ever stopped. gr_program_bind then reads the
 * few live values that depend on where the program was loaded (moduledata,
 * the wait-reason strings). */
#ifndef SONDE_GORUNTIME_RUNTIME_H
#define SONDE_GORUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/arena.h"
#include "goruntime/buildinfo.h"
#include "goruntime/elfimage.h"
#include "goruntime/globals.h"
#include "goruntime/layout.h"
#include "goruntime/pclntab.h"
#include "target/mem.h"

enum { GR_MAX_WAITREASONS = 256 };

/* Go's traceback conventions differ by version: data, chosen once. */
typedef struct {
  bool elide_inner_outer;  /* 1.21+: first 50 + "...N frames elided..." + last 50 */
  int max_physical_frames; /* 1.19: 100 physical frames, then "...additional frames elided..." */
  bool created_by_goroutine; /* 1.21+: "created by F in goroutine N" */
  bool labels_readable;      /* 1.24+: g.labels points at a {[]{key, value string}} */
  int tracebacklabels_default; /* runtime1.go dbgvars default: 0 in 1.26, 1 in 1.27 */
  int labels_format;         /* how the header shows pprof labels: 0 never (<= 1.25),
                                126: " labels:{"k": "v"}" inside [...], always quoted,
                                127: " {k: v}" after [...], quoted when needed */
} gr_tbstyle;

typedef struct {
  gr_image img;
  arena strings; /* build info and wait reasons */
  bi_info bi;
  gr_layout layout;
  gr_globals globals;
  pcln_table pcln;
  gr_tbstyle style;
  uint64_t bias; /* load bias (PIE); 0 otherwise */
  /* live */
  tgt_mem *mem;
  uint64_t md_text, md_gofunc; /* from the live firstmoduledata */
  uint64_t md_types, md_etypes; /* its type descriptors; 0 when the layout lacks them */
  const char *waitreason[GR_MAX_WAITREASONS];
  size_t nwaitreasons;
  bool tracebacklabels; /* the target's GODEBUG tracebacklabels=1 (1.26+) */
  /* symbolize.c's caches (pc -> frames, creators), made on first use and
   * kept for the program's life: a session looks each pc up once. */
  struct gr_symbolizer *sym;
} gr_program;

/* Opens the executable at path (for a process: /proc/PID/exe): build info
 * and pclntab, which every Go binary has, stripped or not. */
int gr_program_open(gr_program *p, const char *path);
/* Loads what reading a live runtime needs: struct layouts and the addresses
 * of runtime globals. Fails with a message naming what is missing. */
int gr_program_load_runtime(gr_program *p);
void gr_program_close(gr_program *p);
/* Binds a stopped process: the load bias from /proc/PID/maps (where the file
 * is mapped under `mapped_path`), then moduledata and wait reasons from
 * memory. */
int gr_program_bind(gr_program *p, pid_t pid, const char *mapped_path, tgt_mem *mem);
/* Address translation for a PIE: link-time -> runtime. */
static inline uint64_t gr_rt(const gr_program *p, uint64_t link) { return link + p->bias; }
/* The wait reason's text as the target spells it, "" for none. */
const char *gr_waitreason(const gr_program *p, uint8_t wr);

#endif
