/* graph.c: who waits on what, as a graph of groups (gg.h).
 *
 * Goroutines that look alike (the same state and wait reason, the same
 * stack, the same leak verdict and cycle, waiting on the same shared
 * primitives) are one node with a count and sample ids, so 100,000
 * goroutines still draw as a readable graph. A primitive (channel, lock,
 * Cond) is a node of its own when two goroutines meet at it (two wait on
 * it, or one waits and another holds it); a group whose goroutines each wait
 * on a channel of their own shows them as one "N x chan T (one each)" node.
 * Edges: waits on (group -> primitive), holds (leaked group -> primitive it
 * reaches), created by (group -> its creators' group). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/util.h>

#include "gg.h"

enum { MAX_PARENT_EDGES = 8, KEY_MAX = 512 };

/* ---- primitives ---- */

typedef struct {
  uint64_t addr;
  uint32_t gi, wi; /* one waiter: its kind and channel details */
} pwait;

static int cmp_pwait(const void *a, const void *b) {
  const pwait *x = a, *y = b;
  return x->addr != y->addr ? (x->addr < y->addr ? -1 : 1) : (x->gi > y->gi) - (x->gi < y->gi);
}

/* The primitive index of addr (binary search over the sorted distinct addrs). */
static long prim_of(const gg_graph *gr, uint64_t addr) {
  size_t lo = 0, hi = gr->nprims;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (gr->prims[mid].addr < addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < gr->nprims && gr->prims[lo].addr == addr ? (long)lo : -1;
}

/* What a semaphore belongs to, from its waiter's reason. */
static const char *sema_what(const char *reason) {
  if (!strncmp(reason, "sync.RWMutex", 12)) return "sync.RWMutex";
  if (!strncmp(reason, "sync.Mutex", 10)) return "sync.Mutex";
  if (!strncmp(reason, "sync.WaitGroup", 14)) return "sync.WaitGroup";
  return "semaphore";
}

static int build_prims(gg_graph *gr, const gg_model *m, const bool *keep) {
  size_t n = 0;
  for (size_t i = 0; i < m->n; i++)
    if (keep[i]) n += m->gs[i].nwaits;
  pwait *pw = malloc((n ? n : 1) * sizeof *pw);
  if (!pw) return -1;
  n = 0;
  for (size_t i = 0; i < m->n; i++)
    for (uint32_t k = 0; keep[i] && k < m->gs[i].nwaits; k++) pw[n++] = (pwait){m->gs[i].waits[k].addr, (uint32_t)i, k};
  qsort(pw, n, sizeof *pw, cmp_pwait);
  gr->prims = calloc(n ? n : 1, sizeof *gr->prims);
  if (!gr->prims) {
    free(pw);
    return -1;
  }
  for (size_t k = 0; k < n; k++) {
    if (!gr->nprims || gr->prims[gr->nprims - 1].addr != pw[k].addr) {
      const gg_goroutine *g = &m->gs[pw[k].gi];
      const sonde_wait *w = &g->waits[pw[k].wi];
      gg_prim *p = &gr->prims[gr->nprims++];
      p->addr = w->addr;
      p->wait = w;
      p->what = w->kind == SONDE_WAIT_CHAN ? "chan" : w->kind == SONDE_WAIT_COND ? "sync.Cond" : sema_what(g->reason);
    }
    gg_prim *p = &gr->prims[gr->nprims - 1];
    if (k == 0 || pw[k - 1].addr != pw[k].addr || pw[k - 1].gi != pw[k].gi) p->nwaiters++;
  }
  free(pw);
  /* shared: two waiters, or reached by a goroutine (one could wake another) */
  for (size_t i = 0; i < gr->nprims; i++) gr->prims[i].shared = gr->prims[i].nwaiters > 1;
  for (size_t i = 0; i < m->n; i++)
    for (uint32_t k = 0; keep[i] && k < m->gs[i].nreaches; k++) {
      long p = prim_of(gr, m->gs[i].reaches[k]);
      if (p >= 0) gr->prims[p].shared = true;
    }
  return 0;
}

/* ---- groups ---- */

static uint64_t fnv(uint64_t h, const char *s) {
  for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull;
}

/* qsort has no context argument in C11: the arrays being compared */
static char *const *g_keys;
static const gg_model *g_model;

static int cmp_by_key(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  int c = strcmp(g_keys[x], g_keys[y]);
  return c ? c : (x > y) - (x < y);
}

static int cmp_by_id(const void *a, const void *b) {
  int64_t x = g_model->gs[*(const uint32_t *)a].id, y = g_model->gs[*(const uint32_t *)b].id;
  return (x > y) - (x < y);
}

/* The index of goroutine id, -1 when not in the snapshot. */
static long index_of_id(const gg_graph *gr, int64_t id) {
  size_t lo = 0, hi = gr->m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (gr->m->gs[gr->by_id[mid]].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < gr->m->n && gr->m->gs[gr->by_id[lo]].id == id ? (long)gr->by_id[lo] : -1;
}

/* Goroutines alike share a key: state, reason, verdict, cycle, stack,
 * shared primitives (by address) and own ones (by kind and type). */
static char *group_key(const gg_graph *gr, const gg_goroutine *g) {
  char buf[KEY_MAX];
  uint64_t sig = 14695981039346656037ull;
  for (uint32_t k = 0; k < g->nframes; k++) sig = fnv(sig, g->frames[k].function);
  int n = snprintf(buf, sizeof buf, "%s|%s|%" PRIu32 "|%d|%" PRIu32 "|%" PRIu32 "|%016" PRIx64, g->status, g->reason,
                   g->leak, g->ignored, g->group, g->system, sig);
  for (uint32_t k = 0; k < g->nwaits && n > 0 && (size_t)n < sizeof buf; k++) {
    const sonde_wait *w = &g->waits[k];
    long p = prim_of(gr, w->addr);
    if (p >= 0 && gr->prims[p].shared)
      n += snprintf(buf + n, sizeof buf - (size_t)n, "|P%ld", p);
    else
      n += snprintf(buf + n, sizeof buf - (size_t)n, "|own:%" PRIu32 ":%s:%" PRIu32 ":%" PRIu32, w->kind,
                    w->elem_type ? w->elem_type : "?", w->dir, w->select);
  }
  return strdup(buf);
}

int gg_graph_build(gg_graph *gr, const gg_model *m, const bool *keep) {
  memset(gr, 0, sizeof *gr);
  gr->m = m;
  if (build_prims(gr, m, keep) != 0) return -1;
  uint32_t *order = malloc((m->n ? m->n : 1) * sizeof *order);
  char **keys = calloc(m->n ? m->n : 1, sizeof *keys);
  gr->group_of = malloc((m->n ? m->n : 1) * sizeof *gr->group_of);
  gr->groups = calloc(m->n ? m->n : 1, sizeof *gr->groups);
  gr->members = malloc((m->n ? m->n : 1) * sizeof *gr->members);
  gr->by_id = malloc((m->n ? m->n : 1) * sizeof *gr->by_id);
  int rc = order && keys && gr->group_of && gr->groups && gr->members && gr->by_id ? 0 : -1;
  size_t n = 0;
  for (size_t i = 0; i < m->n && !rc; i++) {
    gr->group_of[i] = -1;
    if (!keep[i]) continue;
    if (!(keys[i] = group_key(gr, &m->gs[i]))) rc = -1;
    order[n++] = (uint32_t)i;
  }
  if (!rc) {
    for (size_t i = 0; i < m->n; i++) gr->by_id[i] = (uint32_t)i;
    g_model = m;
    qsort(gr->by_id, m->n, sizeof *gr->by_id, cmp_by_id);
    g_keys = keys;
    qsort(order, n, sizeof *order, cmp_by_key);
    g_keys = NULL;
    for (size_t k = 0; k < n; k++) {
      if (!k || strcmp(keys[order[k]], keys[order[k - 1]])) gr->groups[gr->ngroups++] = (gg_group){.first = (uint32_t)k};
      gg_group *grp = &gr->groups[gr->ngroups - 1];
      grp->count++;
      gr->members[k] = order[k];
      gr->group_of[order[k]] = (long)gr->ngroups - 1;
    }
  }
  for (size_t i = 0; i < m->n; i++) free(keys[i]);
  free(keys);
  free(order);
  return rc;
}

void gg_graph_free(gg_graph *gr) {
  free(gr->prims);
  free(gr->groups);
  free(gr->members);
  free(gr->group_of);
  free(gr->by_id);
  memset(gr, 0, sizeof *gr);
}

const gg_goroutine *gg_group_first(const gg_graph *gr, size_t gi) {
  return &gr->m->gs[gr->members[gr->groups[gi].first]];
}

/* The first frame of the program itself (package main, or a module path
 * with a dot: "github.com/..."), else the top frame. */
const gg_frame *gg_user_frame(const gg_goroutine *g) {
  for (uint32_t k = 0; k < g->nframes; k++) {
    const char *f = g->frames[k].function;
    if (!f) continue;
    const char *slash = strchr(f, '/'), *dot = strchr(f, '.');
    if (!strncmp(f, "main.", 5) || (slash && dot && dot < slash)) return &g->frames[k];
  }
  return g->nframes ? &g->frames[0] : NULL;
}

/* ---- DOT ---- */

static void dot_str(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    if (*s == '\n')
      fputs("\\n", f);
    else
      fputc(*s, f);
  }
}

static const char *state_of(const gg_goroutine *g) { return g->reason && g->reason[0] ? g->reason : g->status; }

static bool leaked(const gg_goroutine *g) { return gg_reported_leak(g); }

static void prim_label(FILE *f, const gg_prim *p, size_t own_count) {
  const sonde_wait *w = p->wait;
  if (own_count) fprintf(f, "%zu x ", own_count);
  if (w->kind == SONDE_WAIT_CHAN) {
    fputs("chan ", f);
    dot_str(f, w->elem_type ? w->elem_type : "?");
    if (own_count)
      fputs("\\n(one each)", f);
    else
      fprintf(f, "\\ncap %" PRIu64 ", len %" PRIu64 "%s\\n0x%" PRIx64, w->cap, w->len, w->closed ? ", closed" : "",
              p->addr);
  } else {
    dot_str(f, p->what);
    if (own_count)
      fputs("\\n(one each)", f);
    else
      fprintf(f, "\\n0x%" PRIx64, p->addr);
  }
}

static void group_label(FILE *f, const gg_graph *gr, size_t gi, size_t samples) {
  const gg_group *grp = &gr->groups[gi];
  const gg_goroutine *g = gg_group_first(gr, gi);
  if (leaked(g)) fputs("LEAKED\\n", f);
  fprintf(f, "%zu goroutine%s [", grp->count, grp->count == 1 ? "" : "s");
  dot_str(f, state_of(g));
  fputs("]\\n", f);
  const gg_frame *u = gg_user_frame(g);
  if (u) {
    dot_str(f, u->function);
    fputs("\\n", f);
    const char *file = u->file ? strrchr(u->file, '/') : NULL;
    dot_str(f, file ? file + 1 : u->file);
    fprintf(f, ":%" PRIu32 "\\n", u->line);
  }
  fputs("ids ", f);
  for (size_t k = 0; k < grp->count && k < samples; k++)
    fprintf(f, "%s%" PRId64, k ? ", " : "", gr->m->gs[gr->members[grp->first + k]].id);
  if (grp->count > samples) fprintf(f, ", ... (%zu more)", grp->count - samples);
}

static void dot_group(FILE *f, const gg_graph *gr, size_t gi, size_t samples) {
  const gg_goroutine *g = gg_group_first(gr, gi);
  const char *fill = leaked(g)                                                   ? "#f4c7c3"
                     : !strcmp(g->status, "running") || !strcmp(g->status, "runnable") ? "#d9ead3"
                     : !strcmp(g->status, "syscall")                                  ? "#cfe2f3"
                                                                                      : "#eeeeee";
  fprintf(f, "  g%zu [shape=box, style=\"rounded,filled\", fillcolor=\"%s\"%s, label=\"", gi, fill,
          leaked(g) ? ", color=\"#cc0000\", penwidth=2" : "");
  group_label(f, gr, gi, samples);
  fputs("\"];\n", f);
}

void gg_graph_dot(FILE *f, const gg_graph *gr, size_t samples) {
  const gg_model *m = gr->m;
  fprintf(f, "// sonde goroutine-graph: pid %" PRId32 ", %s; render with: dot -Tsvg -o graph.svg graph.dot\n",
          m->target.pid, m->target.go_version ? m->target.go_version : "");
  fputs("digraph goroutines {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
        "  edge [fontname=\"Helvetica\", fontsize=9];\n",
        f);
  uint32_t ncycles = 0;
  for (size_t gi = 0; gi < gr->ngroups; gi++)
    if (gg_group_first(gr, gi)->group > ncycles) ncycles = gg_group_first(gr, gi)->group;
  /* deadlock cycles: a red cluster each, with the primitives they wait on */
  for (uint32_t c = 1; c <= ncycles; c++) {
    fprintf(f, "  subgraph cluster_cycle%" PRIu32 " {\n    label=\"deadlock cycle %" PRIu32
               "\";\n    color=\"#cc0000\"; fontcolor=\"#cc0000\"; style=dashed;\n",
            c, c);
    for (size_t gi = 0; gi < gr->ngroups; gi++) {
      const gg_goroutine *g = gg_group_first(gr, gi);
      if (g->group != c) continue;
      fputs("  ", f);
      dot_group(f, gr, gi, samples);
      for (uint32_t k = 0; k < g->nwaits; k++) {
        long p = prim_of(gr, g->waits[k].addr);
        if (p >= 0 && gr->prims[p].shared) fprintf(f, "    p%ld;\n", p);
      }
    }
    fputs("  }\n", f);
  }
  for (size_t gi = 0; gi < gr->ngroups; gi++)
    if (!gg_group_first(gr, gi)->group) dot_group(f, gr, gi, samples);
  /* shared primitives */
  for (size_t p = 0; p < gr->nprims; p++) {
    if (!gr->prims[p].shared) continue;
    fprintf(f, "  p%zu [shape=%s, style=filled, fillcolor=\"#fff2cc\", label=\"", p,
            gr->prims[p].wait->kind == SONDE_WAIT_CHAN ? "cds" : "octagon");
    prim_label(f, &gr->prims[p], 0);
    fputs("\"];\n", f);
  }
  /* waits-on, and own primitives */
  for (size_t gi = 0; gi < gr->ngroups; gi++) {
    const gg_goroutine *g = gg_group_first(gr, gi);
    const char *color = leaked(g) ? "#cc0000" : "#444444";
    for (uint32_t k = 0; k < g->nwaits; k++) {
      const sonde_wait *w = &g->waits[k];
      long p = prim_of(gr, w->addr);
      if (p < 0) continue;
      char dir[32] = "";
      if (w->kind == SONDE_WAIT_CHAN)
        snprintf(dir, sizeof dir, "%s%s", w->select ? "select " : "", gg_dir_name(w->dir));
      if (gr->prims[p].shared) {
        fprintf(f, "  g%zu -> p%ld [label=\"%s\", color=\"%s\"];\n", gi, p, dir[0] ? dir : "waits", color);
      } else {
        fprintf(f, "  g%zu_own%" PRIu32 " [shape=%s, style=\"filled,dashed\", fillcolor=\"#fff2cc\", label=\"", gi, k,
                w->kind == SONDE_WAIT_CHAN ? "cds" : "octagon");
        prim_label(f, &gr->prims[p], gr->groups[gi].count > 1 ? gr->groups[gi].count : 0);
        fprintf(f, "\"];\n  g%zu -> g%zu_own%" PRIu32 " [label=\"%s\", color=\"%s\"];\n", gi, gi, k,
                dir[0] ? dir : "waits", color);
      }
    }
    if (g->nwaits == 0 && g->reason && strstr(g->reason, "(nil chan)"))
      fprintf(f, "  g%zu_nil [shape=plaintext, label=\"nil channel\"];\n  g%zu -> g%zu_nil [color=\"%s\"];\n", gi, gi,
              gi, color);
  }
  /* holds: what a leaked group reaches that another leaked goroutine waits on */
  for (size_t gi = 0; gi < gr->ngroups; gi++) {
    const gg_goroutine *g = gg_group_first(gr, gi);
    for (uint32_t k = 0; k < g->nreaches; k++) {
      long p = prim_of(gr, g->reaches[k]);
      if (p >= 0 && gr->prims[p].shared)
        fprintf(f, "  g%zu -> p%ld [label=\"holds\", style=dotted, color=\"#cc0000\"];\n", gi, p);
    }
  }
  /* created by: to the groups of the members' creators (a few per group) */
  for (size_t gi = 0; gi < gr->ngroups; gi++) {
    long seen[MAX_PARENT_EDGES];
    size_t ns = 0;
    const gg_group *grp = &gr->groups[gi];
    for (size_t k = 0; k < grp->count && ns < MAX_PARENT_EDGES; k++) {
      int64_t parent = m->gs[gr->members[grp->first + k]].parent_id;
      long pi = parent > 0 ? index_of_id(gr, parent) : -1, pg = pi >= 0 ? gr->group_of[pi] : -1;
      bool dup = pg < 0 || (size_t)pg == gi;
      for (size_t s = 0; s < ns && !dup; s++) dup = seen[s] == pg;
      if (dup) continue;
      seen[ns++] = pg;
      fprintf(f, "  g%zu -> g%ld [label=\"created by\", style=dashed, color=\"#999999\", fontcolor=\"#999999\"];\n",
              gi, pg);
    }
  }
  fputs("}\n", f);
}

/* ---- JSON ---- */

void gg_graph_json(FILE *f, const gg_graph *gr) {
  const gg_model *m = gr->m;
  fprintf(f, "{\"pid\": %" PRId32 ", \"go_version\": ", m->target.pid);
  sonde_json_string(f, m->target.go_version);
  fputs(",\n \"groups\": [", f);
  for (size_t gi = 0; gi < gr->ngroups; gi++) {
    const gg_group *grp = &gr->groups[gi];
    const gg_goroutine *g = gg_group_first(gr, gi);
    fprintf(f, "%s\n  {\"id\": %zu, \"count\": %zu, \"status\": ", gi ? "," : "", gi, grp->count);
    sonde_json_string(f, g->status);
    fputs(", \"wait_reason\": ", f);
    sonde_json_string(f, g->reason);
    fprintf(f, ", \"leaked\": %s, \"cycle\": ", leaked(g) ? "true" : "false");
    if (g->group) fprintf(f, "%" PRIu32, g->group);
    else fputs("null", f);
    fprintf(f, ", \"system\": %s, \"waits_for\": \"%s\", \"ids\": [", g->system ? "true" : "false", gg_waits_for(g));
    for (size_t k = 0; k < grp->count; k++) fprintf(f, "%s%" PRId64, k ? ", " : "", m->gs[gr->members[grp->first + k]].id);
    fputs("], \"frames\": [", f);
    for (uint32_t k = 0; k < g->nframes; k++) {
      fputs(k ? ", " : "", f);
      sonde_json_string(f, g->frames[k].function);
    }
    fputs("],\n   \"waits\": [", f);
    for (uint32_t k = 0; k < g->nwaits; k++) {
      const sonde_wait *w = &g->waits[k];
      long p = prim_of(gr, w->addr);
      fprintf(f, "%s{\"primitive\": ", k ? ", " : "");
      if (p >= 0 && gr->prims[p].shared) fprintf(f, "%ld", p);
      else fputs("null", f);
      fprintf(f, ", \"kind\": \"%s\"", gg_wait_kind_name(w->kind));
      if (w->kind == SONDE_WAIT_CHAN)
        fprintf(f, ", \"dir\": \"%s\", \"select\": %s, \"elem_type\": ", gg_dir_name(w->dir), w->select ? "true" : "false");
      if (w->kind == SONDE_WAIT_CHAN) sonde_json_string(f, w->elem_type);
      fputc('}', f);
    }
    fputs("], \"holds\": [", f);
    const char *sep = "";
    for (uint32_t k = 0; k < g->nreaches; k++) {
      long p = prim_of(gr, g->reaches[k]);
      if (p < 0) continue;
      fprintf(f, "%s%ld", sep, p);
      sep = ", ";
    }
    fputs("]}", f);
  }
  fputs("],\n \"primitives\": [", f);
  const char *sep = "";
  for (size_t p = 0; p < gr->nprims; p++) {
    const gg_prim *pr = &gr->prims[p];
    if (!pr->shared) continue;
    fprintf(f, "%s\n  {\"id\": %zu, \"kind\": \"%s\", \"what\": ", sep, p, gg_wait_kind_name(pr->wait->kind));
    sep = ",";
    sonde_json_string(f, pr->what);
    fprintf(f, ", \"addr\": %" PRIu64 ", \"waiters\": %zu", pr->addr, pr->nwaiters);
    if (pr->wait->kind == SONDE_WAIT_CHAN) {
      fputs(", \"elem_type\": ", f);
      sonde_json_string(f, pr->wait->elem_type);
      fprintf(f, ", \"cap\": %" PRIu64 ", \"len\": %" PRIu64 ", \"closed\": %s", pr->wait->cap, pr->wait->len,
              pr->wait->closed ? "true" : "false");
    }
    fputc('}', f);
  }
  fputs("]}\n", f);
}
