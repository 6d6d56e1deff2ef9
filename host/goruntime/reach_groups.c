/* reach_groups.c: the deadlock groups among leaked goroutines: the memory
 * only leaked goroutines reach, as a graph, and its cycles (Tarjan), so that
 * each leaked goroutine names what it waits on and who else could wake it
 * (reach_ctx.h). */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "goruntime/reach_ctx.h"

/* ---- deadlock groups ---- */

int reach_node_add(rctx *c, uint64_t obj, uint32_t *id) {
  *id = 0;
  if (c->nnodes >= GROUP_MAX_NODES) {
    c->over_budget = true;
    return 0;
  }
  if (c->nnodes == c->capnodes) {
    size_t cap = c->capnodes ? c->capnodes * 2 : 4096;
    uint64_t *n = realloc(c->node_obj, cap * sizeof *n);
    if (!n) return se_set(SE_NOMEM, "out of memory for the deadlock search");
    c->node_obj = n;
    c->capnodes = cap;
  }
  *id = (uint32_t)c->nnodes;
  c->node_obj[c->nnodes++] = obj;
  return obj ? u64map_put(&c->node, obj, *id) : 0;
}

static int cmp_edge(const void *a, const void *b) {
  const edge *x = a, *y = b;
  return x->from != y->from ? (x->from < y->from ? -1 : 1) : (x->to > y->to) - (x->to < y->to);
}

/* Tarjan's strongly connected components, iteratively (a chain of 100,000
 * goroutines must not overflow the C stack). */
int gr_reach_cycles(const uint32_t *woff, const uint32_t *wadj, size_t n, uint32_t *cycle, size_t *ncycles) {
  uint32_t *index = calloc(n + 1, sizeof *index), *low = malloc((n + 1) * sizeof *low);
  uint32_t *stk = malloc((n + 1) * sizeof *stk), *cs = malloc((n + 1) * sizeof *cs), *it = malloc((n + 1) * sizeof *it);
  uint8_t *on = calloc(n + 1, 1);
  int rc = index && low && stk && cs && it && on ? 0 : se_set(SE_NOMEM, "out of memory for the deadlock search");
  uint32_t next = 1;
  *ncycles = 0;
  for (size_t v = 0; v < n; v++) cycle[v] = 0;
  size_t sp = 0;
  for (size_t v0 = 0; v0 < n && !rc; v0++) {
    if (index[v0]) continue;
    size_t csp = 0;
    cs[csp++] = (uint32_t)v0;
    index[v0] = low[v0] = next++;
    it[v0] = woff[v0];
    stk[sp++] = (uint32_t)v0;
    on[v0] = 1;
    while (csp) {
      uint32_t v = cs[csp - 1];
      if (it[v] < woff[v + 1]) {
        uint32_t u = wadj[it[v]++];
        if (!index[u]) {
          index[u] = low[u] = next++;
          it[u] = woff[u];
          stk[sp++] = u;
          on[u] = 1;
          cs[csp++] = u;
        } else if (on[u] && index[u] < low[v]) {
          low[v] = index[u];
        }
        continue;
      }
      csp--;
      if (csp && low[v] < low[cs[csp - 1]]) low[cs[csp - 1]] = low[v];
      if (low[v] != index[v]) continue;
      size_t start = sp;
      while (stk[start - 1] != v) start--;
      start--;
      if (sp - start >= 2) { /* a cycle: goroutines that only each other could wake */
        ++*ncycles;
        for (size_t k = start; k < sp; k++) cycle[stk[k]] = (uint32_t)*ncycles;
      }
      for (size_t k = start; k < sp; k++) on[stk[k]] = 0;
      sp = start;
    }
  }
  free(index);
  free(low);
  free(stk);
  free(cs);
  free(it);
  free(on);
  return rc;
}

/* What each leaked goroutine reaches through memory no root reaches; who
 * could wake whom; the cycles. */
int reach_find_groups(rctx *c) {
  gr_reach *r = c->r;
  c->ph = PH_GROUP;
  uint32_t *lg = malloc((r->n + 1) * sizeof *lg); /* node id -> snapshot index */
  int rc = lg ? 0 : se_set(SE_NOMEM, "out of memory for the deadlock search");
  size_t nl = 0;
  for (size_t i = 0; i < r->n && !rc; i++) { /* nodes 0 .. nl-1: the leaked goroutines */
    if (r->verdict[i] != GR_LEAK_LEAKED && r->verdict[i] != GR_LEAK_IDLE_MAIN) continue;
    uint32_t id;
    lg[nl++] = (uint32_t)i;
    rc = reach_node_add(c, 0, &id);
  }
  for (size_t k = 0; k < nl && !rc; k++) rc = reach_scan_stack(c, &c->s->gs[lg[k]], (uint32_t)k);
  if (!rc) rc = reach_drain(c);
  uint32_t *off = NULL, *adj = NULL, *stamp = NULL, *woff = NULL, *wadj = NULL, *queue = NULL, *pstamp = NULL;
  size_t nw = 0, capw = 0;
  if (rc || c->over_budget) goto out;
  /* CSR adjacency of the node graph */
  if (c->nedges) qsort(c->edges, c->nedges, sizeof *c->edges, cmp_edge); /* edges is NULL when empty */
  off = calloc(c->nnodes + 1, sizeof *off);
  adj = malloc((c->nedges + 1) * sizeof *adj);
  stamp = calloc(c->nnodes + 1, sizeof *stamp);
  queue = malloc((c->nnodes + 1) * sizeof *queue);
  pstamp = calloc(c->npl + 1, sizeof *pstamp);
  woff = calloc(nl + 1, sizeof *woff);
  if (!off || !adj || !stamp || !queue || !pstamp || !woff) {
    rc = se_set(SE_NOMEM, "out of memory for the deadlock search");
    goto out;
  }
  for (size_t e = 0; e < c->nedges; e++) {
    off[c->edges[e].from + 1]++;
    adj[e] = c->edges[e].to;
  }
  for (size_t v = 0; v < c->nnodes; v++) off[v + 1] += off[v];
  /* snapshot index -> leaked node id, for the wake edges */
  uint32_t *gnode = malloc((r->n + 1) * sizeof *gnode);
  if (!gnode) {
    rc = se_set(SE_NOMEM, "out of memory for the deadlock search");
    goto out;
  }
  for (size_t i = 0; i < r->n; i++) gnode[i] = UINT32_MAX;
  for (size_t k = 0; k < nl; k++) gnode[lg[k]] = (uint32_t)k;
  uint64_t steps = 0;
  for (size_t k = 0; k < nl && !rc; k++) {
    woff[k] = (uint32_t)nw;
    size_t qh = 0, qt = 0;
    queue[qt++] = (uint32_t)k;
    stamp[k] = (uint32_t)k + 1;
    uint64_t reach[64], *rs = reach;
    uint32_t nreach = 0, capr = 64;
    while (qh < qt && !rc) {
      uint32_t v = queue[qh++];
      if (++steps > GROUP_MAX_STEPS) {
        c->over_budget = true;
        break;
      }
      uint64_t first;
      if (v >= nl && u64map_get(&c->prim, c->node_obj[v], &first))
        for (uint32_t l = (uint32_t)first; l; l = c->pl[l - 1].next) {
          const plink *pl = &c->pl[l - 1];
          uint32_t to = gnode[pl->g];
          if (to == UINT32_MAX || to == k || pstamp[l - 1] == k + 1) continue;
          pstamp[l - 1] = (uint32_t)k + 1;
          if (nw == capw) { /* wake edge k -> to */
            capw = capw ? capw * 2 : 1024;
            uint32_t *nwd = realloc(wadj, capw * sizeof *nwd);
            if (!nwd) {
              rc = se_set(SE_NOMEM, "out of memory for the deadlock search");
              break;
            }
            wadj = nwd;
          }
          wadj[nw++] = to;
          if (nreach == MAX_REACHES) continue;
          if (nreach == capr) {
            uint64_t *more = arena_alloc(&r->a, capr * 2 * sizeof *more);
            if (!more) {
              rc = se_set(SE_NOMEM, "out of memory for the deadlock search");
              break;
            }
            memcpy(more, rs, nreach * sizeof *rs);
            rs = more;
            capr *= 2;
          }
          rs[nreach++] = pl->wait;
        }
      for (uint32_t e = off[v]; e < off[v + 1]; e++)
        if (stamp[adj[e]] != k + 1) {
          stamp[adj[e]] = (uint32_t)k + 1;
          queue[qt++] = adj[e];
        }
    }
    if (nreach && !rc) {
      uint64_t *keep = arena_alloc(&r->a, nreach * sizeof *keep);
      if (!keep) rc = se_set(SE_NOMEM, "out of memory for the deadlock search");
      else {
        memcpy(keep, rs, nreach * sizeof *rs);
        r->reaches[lg[k]] = keep;
        r->nreaches[lg[k]] = nreach;
      }
    }
  }
  woff[nl] = (uint32_t)nw;
  free(gnode);
  uint32_t *cyc = !rc && !c->over_budget ? malloc((nl + 1) * sizeof *cyc) : NULL;
  if (!rc && !c->over_budget && !cyc) rc = se_set(SE_NOMEM, "out of memory for the deadlock search");
  if (cyc && (rc = gr_reach_cycles(woff, wadj, nl, cyc, &r->ngroups)) == 0)
    for (size_t k = 0; k < nl; k++) r->group[lg[k]] = cyc[k];
  free(cyc);
out:
  r->groups_complete = !c->over_budget;
  free(lg);
  free(off);
  free(adj);
  free(stamp);
  free(queue);
  free(pstamp);
  free(woff);
  free(wadj);
  return rc;
}
