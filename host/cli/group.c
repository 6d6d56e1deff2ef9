/* group.c: --group: goroutines with the same state and the same stack
 * (raw PCs, so identical call sites) and the same creation site become one
 * entry. Shared by the text and JSON writers. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "cli/cli.h"

static uint64_t key_hash(const gr_goroutine *g) {
  uint64_t h = 1469598103934665603ULL;
#define MIX(v)                   \
  do {                           \
    h ^= (uint64_t)(v);          \
    h *= 1099511628211ULL;       \
  } while (0)
  MIX(g->status);
  MIX(g->waitreason);
  MIX(g->lockedm != 0);
  MIX(g->gopc);
  MIX(g->nframes);
  for (uint32_t i = 0; i < g->nframes; i++) {
    MIX(g->frames[i].pc);
    MIX(g->frames[i].flags);
  }
#undef MIX
  return h;
}

static bool same_key(const gr_goroutine *a, const gr_goroutine *b) {
  if (a->status != b->status || a->waitreason != b->waitreason || (a->lockedm != 0) != (b->lockedm != 0) ||
      a->gopc != b->gopc || a->nframes != b->nframes)
    return false;
  return !memcmp(a->frames, b->frames, a->nframes * sizeof *a->frames);
}

typedef struct {
  uint64_t h;
  size_t idx;
} hidx;

static int cmp_hidx(const void *x, const void *y) {
  const hidx *a = x, *b = y;
  if (a->h != b->h) return a->h < b->h ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_group(const void *x, const void *y) {
  const cli_group *a = x, *b = y;
  if (a->n != b->n) return a->n > b->n ? -1 : 1;
  return a->members[0] < b->members[0] ? -1 : a->members[0] > b->members[0];
}

int cli_make_groups(const ses_target *t, cli_groups *out) {
  size_t n = t->snap.n;
  memset(out, 0, sizeof *out);
  hidx *hs = malloc((n ? n : 1) * sizeof *hs);
  bool *used = calloc(n ? n : 1, 1);
  out->members = malloc((n ? n : 1) * sizeof *out->members);
  out->g = malloc((n ? n : 1) * sizeof *out->g);
  if (!hs || !used || !out->members || !out->g) {
    free(hs);
    free(used);
    cli_free_groups(out);
    return se_set(SE_NOMEM, "out of memory grouping goroutines");
  }
  for (size_t i = 0; i < n; i++) hs[i] = (hidx){key_hash(&t->snap.gs[i]), i};
  qsort(hs, n, sizeof *hs, cmp_hidx);
  /* Equal hashes are adjacent; within a run, split by the exact key. */
  size_t nm = 0;
  for (size_t i = 0; i < n; i++) {
    if (used[i]) continue;
    cli_group *g = &out->g[out->n++];
    g->members = out->members + nm;
    g->n = 0;
    for (size_t j = i; j < n && hs[j].h == hs[i].h; j++) {
      if (used[j] || !same_key(&t->snap.gs[hs[i].idx], &t->snap.gs[hs[j].idx])) continue;
      used[j] = true;
      g->members[g->n++] = hs[j].idx;
    }
    nm += g->n;
  }
  free(used);
  free(hs);
  qsort(out->g, out->n, sizeof *out->g, cmp_group);
  return 0;
}

void cli_free_groups(cli_groups *gs) {
  free(gs->g);
  free(gs->members);
  memset(gs, 0, sizeof *gs);
}
