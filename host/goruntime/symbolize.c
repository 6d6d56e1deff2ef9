/* symbolize.c: mirrors runtime/traceback.go: traceback1/traceback2 (frame
 * limits), showframe/showfuncinfo, printcreatedby, printFuncName. */
#include "goruntime/symbolize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

enum {
  MAX_LOGICAL_PER_PC = 64,
  INNER_FRAMES = 50, /* tracebackInnerFrames (1.21+) */
  OUTER_FRAMES = 50, /* tracebackOuterFrames */
};

void gr_sym_init(gr_symbolizer *s, gr_program *p) {
  memset(s, 0, sizeof *s);
  s->p = p;
  u64map_init(&s->cache);
  u64map_init(&s->creators);
}

void gr_sym_free(gr_symbolizer *s) {
  u64map_free(&s->cache);
  u64map_free(&s->creators);
  free(s->pool);
  memset(s, 0, sizeof *s);
}

void gr_trace_free(gr_trace *t) {
  free(t->frames);
  memset(t, 0, sizeof *t);
}

static int push(gr_trace *t, const gr_frame *f) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    gr_frame *p = realloc(t->frames, cap * sizeof *p);
    if (!p) return se_set(SE_NOMEM, "out of memory");
    t->frames = p;
    t->cap = cap;
  }
  t->frames[t->n++] = *f;
  return 0;
}

static int pool_reserve(gr_symbolizer *s, size_t more) {
  if (s->npool + more <= s->cappool) return 0;
  size_t cap = s->cappool ? s->cappool * 2 : 1024;
  while (cap < s->npool + more) cap *= 2;
  gr_frame *p = realloc(s->pool, cap * sizeof *p);
  if (!p) return se_set(SE_NOMEM, "out of memory");
  s->pool = p;
  s->cappool = cap;
  return 0;
}

/* Logical frames of one physical frame, cached by (pc, trap). */
static int expand(gr_symbolizer *s, const gr_rawframe *rf, const gr_frame **out, size_t *n) {
  uint64_t key = rf->pc ^ ((rf->flags & GR_FRAME_TRAP) ? (1ULL << 63) : 0);
  uint64_t v;
  if (u64map_get(&s->cache, key, &v)) {
    *out = s->pool + (v >> 8);
    *n = (size_t)(v & 0xff);
    return 0;
  }
  const pcln_table *t = &s->p->pcln;
  pcln_func f;
  pcln_frame lf[MAX_LOGICAL_PER_PC];
  int cnt;
  if (pcln_find(t, rf->pc, &f) != 0) {
    se_clear();
    cnt = 0;
  } else {
    /* unwinder.symPC: a return address is looked up at pc-1 */
    uint64_t sympc = (!(rf->flags & GR_FRAME_TRAP) && rf->pc > f.entry) ? rf->pc - 1 : rf->pc;
    cnt = pcln_expand(t, &f, sympc, lf, MAX_LOGICAL_PER_PC);
    if (cnt < 0) cnt = 0;
  }
  int rc = pool_reserve(s, (size_t)cnt);
  if (rc) return rc;
  size_t at = s->npool;
  for (int i = 0; i < cnt; i++)
    s->pool[at + (size_t)i] = (gr_frame){lf[i].func, lf[i].file, lf[i].line, rf->pc, f.entry, lf[i].funcid, lf[i].inlined};
  s->npool += (size_t)cnt;
  rc = u64map_put(&s->cache, key, (uint64_t)at << 8 | (uint64_t)cnt);
  if (rc) return rc;
  *out = s->pool + at;
  *n = (size_t)cnt;
  return 0;
}

static bool is_exported_runtime(const char *name) {
  return !strncmp(name, "runtime.", 8) && name[8] >= 'A' && name[8] <= 'Z';
}

/* showfuncinfo at GOTRACEBACK level 1. */
static bool showfuncinfo(const pcln_table *t, const char *name, uint8_t funcid, bool first, uint8_t callee) {
  if (pcln_is_special(t, funcid, PCLN_FID_WRAPPER) && !pcln_is_special(t, callee, PCLN_FID_GOPANIC) &&
      !pcln_is_special(t, callee, PCLN_FID_SIGPANIC) && !pcln_is_special(t, callee, PCLN_FID_PANICWRAP))
    return false;
  if (pcln_is_special(t, funcid, PCLN_FID_RUNFINALIZERS) || pcln_is_special(t, funcid, PCLN_FID_RUNCLEANUPS))
    return true;
  if (!strcmp(name, "runtime.gopanic") && !first) return true;
  return strchr(name, '.') && (strncmp(name, "runtime.", 8) != 0 || is_exported_runtime(name));
}

/* One pass of traceback2 over the physical frames: appends shown frames. */
static int collect(gr_symbolizer *s, const gr_goroutine *g, size_t nphys, bool show_all, gr_trace *t) {
  uint8_t callee = 0;
  for (size_t i = 0; i < nphys; i++) {
    const gr_frame *lf;
    size_t n;
    int rc = expand(s, &g->frames[i], &lf, &n);
    if (rc) return rc;
    for (size_t k = 0; k < n; k++) {
      uint8_t prev = callee;
      callee = lf[k].funcid;
      if (!show_all && !showfuncinfo(&s->p->pcln, lf[k].func, lf[k].funcid, t->n == 0, prev)) continue;
      if ((rc = push(t, &lf[k]))) return rc;
    }
  }
  return 0;
}

int gr_symbolize(gr_symbolizer *s, const gr_goroutine *g, bool all_frames, gr_trace *t) {
  const gr_tbstyle *st = &s->p->style;
  t->n = 0;
  t->elide_at = t->elided = 0;
  t->elided_tail = false;
  t->has_creator = false;
  /* Go 1.19's gentraceback walks at most 100 physical frames but returns
   * the number it printed, and prints the marker only when that is 100. */
  size_t nphys = g->nframes;
  if (st->max_physical_frames && nphys > (size_t)st->max_physical_frames) nphys = (size_t)st->max_physical_frames;
  int rc = collect(s, g, nphys, all_frames, t);
  /* traceback1: if hiding runtime frames leaves nothing, show them all */
  if (rc == 0 && t->n == 0 && !all_frames) rc = collect(s, g, nphys, true, t);
  if (rc) return rc;
  if (st->max_physical_frames && t->n == (size_t)st->max_physical_frames) t->elided_tail = true;
  if (st->elide_inner_outer && t->n > INNER_FRAMES + OUTER_FRAMES) {
    size_t drop = t->n - INNER_FRAMES - OUTER_FRAMES;
    memmove(t->frames + INNER_FRAMES, t->frames + INNER_FRAMES + drop, OUTER_FRAMES * sizeof *t->frames);
    t->n = INNER_FRAMES + OUTER_FRAMES;
    t->elide_at = INNER_FRAMES;
    t->elided = drop;
  }
  /* printcreatedby: not for goroutine 1, and only if showframe shows it */
  if (g->goid == 1 || !g->gopc) return 0;
  uint64_t v;
  if (!u64map_get(&s->creators, g->gopc + 1, &v)) {
    v = 0;
    pcln_func f;
    if (pcln_find(&s->p->pcln, g->gopc, &f) == 0) {
      const char *name = pcln_name(&s->p->pcln, &f);
      uint8_t fid = pcln_funcid(&s->p->pcln, &f);
      if (name && (all_frames || showfuncinfo(&s->p->pcln, name, fid, false, 0))) {
        if ((rc = pool_reserve(s, 1))) return rc;
        gr_frame *c = &s->pool[s->npool];
        *c = (gr_frame){name, "?", 0, g->gopc, f.entry, fid, false};
        pcln_fileline(&s->p->pcln, &f, g->gopc > f.entry ? g->gopc - 1 : g->gopc, &c->file, &c->line);
        v = ++s->npool; /* index + 1 */
      }
    }
    se_clear();
    /* all_frames changes the answer: do not cache across modes */
    if (!all_frames && (rc = u64map_put(&s->creators, g->gopc + 1, v))) return rc;
  }
  if (v) {
    t->has_creator = true;
    t->creator = s->pool[v - 1];
  }
  return 0;
}

const char *gr_print_name(const char *name, char *out, size_t n) {
  /* funcNamePiecesForPrint: the shape between the first '[' and the last ']' */
  const char *i = strchr(name, '[');
  bool panic = name[0] == 'r' && !strcmp(name, "runtime.gopanic");
  if (!i && !panic) return name;
  if (panic) {
    snprintf(out, n, "panic");
    return out;
  }
  const char *j = strrchr(name, ']');
  if (!j || j <= i) return name;
  snprintf(out, n, "%.*s[...]%s", (int)(i - name), name, j + 1);
  return out;
}
