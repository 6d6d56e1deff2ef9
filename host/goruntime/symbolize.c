/* symbolize.c: mirrors runtime/traceback.go: traceback1/traceback2 (frame
 * limits), showframe/showfuncinfo, printcreatedby, printFuncName. */
#include "goruntime/symbolize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
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
  arena_init(&s->names);
}

void gr_sym_free(gr_symbolizer *s) {
  u64map_free(&s->cache);
  u64map_free(&s->creators);
  free(s->pool);
  arena_free(&s->names);
  memset(s, 0, sizeof *s);
}

void gr_sym_drop(gr_program *p) {
  if (!p->sym) return;
  gr_sym_free(p->sym);
  free(p->sym);
  p->sym = NULL;
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

/* f->print: the name as Go prints it, kept in s->names when it differs. */
static int set_print(gr_symbolizer *s, gr_frame *f) {
  char buf[1024];
  const char *name = f->func ? gr_print_name(f->func, buf, sizeof buf) : NULL;
  f->print = name;
  if (name == buf && !(f->print = arena_strndup(&s->names, buf, strlen(buf)))) return se_set(SE_NOMEM, "out of memory");
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
  for (int i = 0; i < cnt; i++) {
    gr_frame *pf = &s->pool[at + (size_t)i];
    *pf = (gr_frame){lf[i].func, lf[i].file, NULL, lf[i].line, rf->pc, f.entry, lf[i].funcid, lf[i].inlined};
    if ((rc = set_print(s, pf))) return rc;
  }
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
        *c = (gr_frame){name, "?", NULL, 0, g->gopc, f.entry, fid, false};
        pcln_fileline(&s->p->pcln, &f, g->gopc > f.entry ? g->gopc - 1 : g->gopc, &c->file, &c->line);
        if ((rc = set_print(s, c))) return rc;
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

/* ---- the resolved model ------------------------------------------------ */

typedef struct {
  gr_symbolizer *sym; /* the program's */
  bool all_frames;
  gr_trace *traces;   /* distinct stacks */
  size_t ntraces, cap;
  size_t *rep;        /* a goroutine with traces[k]'s stack */
  uint32_t *trace_of; /* goroutine index -> traces index */
  size_t n;
  u64map byhash;      /* stack hash -> traces index + 1 (the first with that hash) */
} model;

static void model_free(void *v) {
  model *m = v;
  for (size_t k = 0; k < m->ntraces; k++) gr_trace_free(&m->traces[k]);
  free(m->traces);
  free(m->rep);
  free(m->trace_of);
  u64map_free(&m->byhash);
  free(m);
}

/* What a trace depends on: the raw frames, the creation pc, and whether it
 * is goroutine 1 (which shows no creator). */
static uint64_t stack_hash(const gr_goroutine *g) {
  uint64_t h = 1469598103934665603ULL;
#define MIX(v)          \
  do {                  \
    h ^= (uint64_t)(v); \
    h *= 1099511628211ULL; \
  } while (0)
  MIX(g->goid == 1);
  MIX(g->gopc);
  MIX(g->nframes);
  for (uint32_t i = 0; i < g->nframes; i++) {
    MIX(g->frames[i].pc);
    MIX(g->frames[i].flags);
  }
#undef MIX
  return h ? h : 1; /* u64map keys are never 0 */
}

static bool same_stack(const gr_goroutine *a, const gr_goroutine *b) {
  if ((a->goid == 1) != (b->goid == 1) || a->gopc != b->gopc || a->nframes != b->nframes) return false;
  for (uint32_t i = 0; i < a->nframes; i++)
    if (a->frames[i].pc != b->frames[i].pc || a->frames[i].flags != b->frames[i].flags) return false;
  return true;
}

/* The trace of s->gs[i]: an existing one with the same stack, or a new one. */
static int resolve_one(model *m, const gr_snapshot *s, size_t i) {
  const gr_goroutine *g = &s->gs[i];
  uint64_t h = stack_hash(g), v;
  if (u64map_get(&m->byhash, h, &v) && same_stack(&s->gs[m->rep[v - 1]], g)) {
    m->trace_of[i] = (uint32_t)(v - 1);
    return 0;
  }
  if (m->ntraces == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    gr_trace *t = realloc(m->traces, cap * sizeof *t);
    if (!t) return se_set(SE_NOMEM, "out of memory");
    m->traces = t;
    size_t *r = realloc(m->rep, cap * sizeof *r);
    if (!r) return se_set(SE_NOMEM, "out of memory");
    m->rep = r;
    m->cap = cap;
  }
  gr_trace *t = &m->traces[m->ntraces];
  memset(t, 0, sizeof *t);
  int rc = gr_symbolize(m->sym, g, m->all_frames, t);
  if (rc) {
    gr_trace_free(t);
    return rc;
  }
  /* gr_symbolize reuses a trace's buffer: shrink this one to what it holds */
  if (t->n && t->n < t->cap) {
    gr_frame *fit = realloc(t->frames, t->n * sizeof *fit);
    if (fit) t->frames = fit, t->cap = t->n;
  }
  m->rep[m->ntraces] = i;
  m->trace_of[i] = (uint32_t)m->ntraces;
  /* a hash already taken by a different stack: that stack keeps the slot */
  if (!u64map_get(&m->byhash, h, &v) && (rc = u64map_put(&m->byhash, h, m->ntraces + 1))) return rc;
  m->ntraces++;
  return 0;
}

int gr_sym_resolve(gr_program *p, gr_snapshot *s, bool all_frames) {
  model *old = s->model;
  if (old && old->all_frames == all_frames && old->n == s->n) return 0;
  if (s->n > UINT32_MAX) return se_set(SE_CORRUPT, "%zu goroutines: more than sonde resolves", s->n);
  if (!p->sym) {
    if (!(p->sym = malloc(sizeof *p->sym))) return se_set(SE_NOMEM, "out of memory");
    gr_sym_init(p->sym, p);
  }
  model *m = calloc(1, sizeof *m);
  if (!m) return se_set(SE_NOMEM, "out of memory");
  m->sym = p->sym;
  u64map_init(&m->byhash);
  m->all_frames = all_frames;
  m->n = s->n;
  m->trace_of = malloc((s->n ? s->n : 1) * sizeof *m->trace_of);
  int rc = m->trace_of ? 0 : se_set(SE_NOMEM, "out of memory");
  for (size_t i = 0; i < s->n && rc == 0; i++) rc = resolve_one(m, s, i);
  if (rc) {
    model_free(m);
    return rc;
  }
  if (old && s->model_free) s->model_free(old);
  s->model = m;
  s->model_free = model_free;
  return 0;
}

const gr_trace *gr_trace_of(const gr_snapshot *s, size_t i) {
  const model *m = s->model;
  if (!m || i >= m->n || s->model_free != model_free) return NULL;
  return &m->traces[m->trace_of[i]];
}

void gr_sym_stats(const gr_snapshot *s, size_t *ntraces, size_t *npcs) {
  const model *m = s->model;
  *ntraces = m ? m->ntraces : 0;
  *npcs = m ? m->sym->cache.len : 0;
}
