/* reach.c: which blocked goroutines can never be woken (reach.h).
 *
 * One mark pass over the target's memory, read in batches while it is
 * stopped. A parked goroutine is woken the moment the object holding its
 * primitive is marked (objects holding primitives are indexed), so the fixed
 * point takes one pass, not one per chain link. Mirrors runtime/mgc.go
 * (findMaybeRunnableGoroutines, isMaybeRunnable) and mgcmark.go. The
 * heap index and marking are in reach_mark.c, stacks in reach_stack.c, the
 * deadlock groups in reach_groups.c (reach_ctx.h). */
#include "goruntime/reach.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "goruntime/reach_ctx.h"

/* A parked goroutine whose primitive a root reaches: its stack is a root. */
void reach_wake(rctx *c, uint32_t gi) {
  if (c->r->verdict[gi] != GR_LEAK_LEAKED) return; /* LEAKED: still parked, so far */
  c->r->verdict[gi] = GR_LEAK_WOKEN;
  c->wakeq[c->nwakeq++] = gi; /* each goroutine once: its verdict is no longer LEAKED */
}

/* Marks from the roots to a fixed point: the stacks of the goroutines
 * woken so far, then the objects they mark, which may wake more. A stack
 * is never scanned from inside another's scan (mark -> wake): the scan
 * buffers (stack copy, frames) are one per analysis. */
static int mark_all(rctx *c) {
  int rc = 0;
  while (!rc && (c->nwakeq || c->nwork) && !c->over_budget) {
    while (!rc && c->nwakeq) rc = reach_scan_stack(c, &c->s->gs[c->wakeq[--c->nwakeq]], 0);
    if (!rc) rc = reach_drain(c);
  }
  return rc;
}

/* ---- the parked goroutines ---- */

static uint64_t wait_addr(const gr_waits *w, const gr_chanwait *cw) {
  return cw->kind == GR_WAIT_CHAN ? w->chans[cw->chan].addr : cw->sema;
}

/* Sorts every goroutine into roots and parked ones, indexes the objects
 * that hold primitives and the sudogs to mask. Waking waits for the roots.
 * The waits judged are those of waits.h gr_reason_class_of (mirroring
 * runtime/mgc.go isMaybeRunnable); a runtime semaphore lies in a global,
 * outside the heap, so its waiters are always counted as able to run. */
static int classify_all(rctx *c, const gr_waits *w, uint32_t *woken, size_t *nwoken) {
  gr_reach *r = c->r;
  for (size_t i = 0; i < c->s->n; i++) {
    const gr_goroutine *g = &c->s->gs[i];
    gr_reason_class k = g->status == GR_GWAITING || g->status == GR_GLEAKED
                            ? gr_reason_class_of(gr_wait_reason_of(c->p, g))
                            : GR_REASON_OTHER;
    uint32_t nc = i < w->n ? w->ncases[i] : 0;
    if (k == GR_REASON_OTHER) {
      r->verdict[i] = GR_LEAK_RUNS;
      continue;
    }
    if (k != GR_REASON_NEVER && nc == 0) {
      r->verdict[i] = GR_LEAK_UNKNOWN;
      r->nunknown++;
      continue;
    }
    r->nparked++;
    r->verdict[i] = GR_LEAK_LEAKED; /* until something wakes it */
    bool now = false;
    for (uint32_t k2 = 0; k2 < nc; k2++) {
      const gr_chanwait *cw = &w->cases[i][k2];
      uint64_t addr = wait_addr(w, cw), slot;
      uint32_t si;
      int rc;
      if (cw->sudog && (rc = u64map_put(&c->masks, cw->sudog, addr)) != 0) return rc;
      if (cw->sudog && object_at(c, cw->sudog, &si, &slot)) c->has_prim[si] |= SPAN_MASK;
      if (!addr) continue;
      if (!object_at(c, addr, &si, &slot)) { /* a global, or off the heap: reachable */
        now = true;
        continue;
      }
      const gr_span *s = &c->h->spans[si];
      uint64_t obj = s->base + slot * s->elemsize, first = 0;
      plink *n = realloc(c->pl, (c->npl + 1) * sizeof *n);
      if (!n) return se_set(SE_NOMEM, "out of memory for waits");
      c->pl = n;
      (void)u64map_get(&c->prim, obj, &first);
      c->pl[c->npl++] = (plink){(uint32_t)i, (uint32_t)first, addr};
      if ((rc = u64map_put(&c->prim, obj, c->npl)) != 0) return rc;
      c->has_prim[si] |= SPAN_PRIM;
    }
    gr_park_state ps = gr_roots_park_state(nc ? w->cases[i] : NULL, nc);
    if (ps == GR_PARK_UNDECIDED) r->verdict[i] = GR_LEAK_UNKNOWN, r->nundecided++; /* its stack: a root */
    else if (now || ps == GR_PARK_WAKING) woken[(*nwoken)++] = (uint32_t)i, r->nwaking += ps == GR_PARK_WAKING;
  }
  return 0;
}

/* ---- roots ---- */

/* Objects with specials (mirrors runtime/mgcmark.go markrootSpans): a
 * finalizer keeps what its object references alive (not the object), and
 * its function; a cleanup its function and argument; a weak handle its
 * handle. sonde does not tell the kinds apart (their numbers change across
 * versions): every special's object contents and record words are roots.
 * That keeps more alive than the runtime does, never less. */
static int push_specials(rctx *c) {
  const gr_layout *L = &c->p->layout;
  if (!GR_HAS(L, MS_SPECIALS) || !GR_HAS(L, SP_NEXT) || !GR_HAS(L, SP_OFFSET)) return 0;
  size_t seen = 0;
  int rc = 0;
  for (size_t i = 0; i < c->h->n && !rc; i++) {
    const gr_span *s = &c->h->spans[i];
    for (uint64_t sp = s->specials; sp && !rc;) {
      uint64_t w[SPECIAL_WORDS] = {0};
      size_t nw = SPECIAL_WORDS; /* records are 3 to 8 words: near the end of a mapping, read fewer */
      while (nw >= 3 && tgt_mem_read(c->p->mem, sp, w, nw * 8) != 0) {
        se_clear();
        nw--;
      }
      if (++seen > MAX_SPECIALS || nw < 3 || (uint64_t)GR_OFF(L, SP_NEXT) + 8 > nw * 8 ||
          (uint64_t)GR_OFF(L, SP_OFFSET) + L->fsize[GRL_SP_OFFSET] > nw * 8) {
        if (!c->r->incomplete[0])
          snprintf(c->r->incomplete, sizeof c->r->incomplete, "the finalizers and cleanups of span 0x%llx could not be read",
                   (unsigned long long)s->base);
        return 0;
      }
      uint64_t off = 0;
      memcpy(&off, (const uint8_t *)w + GR_OFF(L, SP_OFFSET), (size_t)L->fsize[GRL_SP_OFFSET]);
      for (size_t k = 0; k < nw && !rc; k++)
        if (w[k] >= c->lo && w[k] < c->hi) rc = reach_mark(c, w[k], 0);
      if (!rc && !s->noscan && off < s->npages * GR_PAGE_SIZE) {
        uint64_t slot = s->base + off / s->elemsize * s->elemsize;
        rc = reach_push(c, slot, s->elemsize, 0, true);
      }
      memcpy(&sp, (const uint8_t *)w + GR_OFF(L, SP_NEXT), 8);
    }
  }
  return rc;
}

static int push_roots(rctx *c, tgt_session *sess) {
  static const char *const secs[] = {".data", ".bss"};
  int rc = 0;
  for (size_t i = 0; i < 2 && !rc; i++) {
    const gr_section *sec = gr_image_section(&c->p->img, secs[i]);
    if (!sec || !sec->size) continue;
    uint64_t a = gr_rt(c->p, sec->addr) & ~7ull;
    c->r->root_bytes += sec->size;
    rc = reach_push(c, a, (sec->size + 7) & ~7ull, 0, false);
  }
  for (size_t i = 0; i < c->s->n && !rc; i++)
    if (c->r->verdict[i] == GR_LEAK_RUNS || c->r->verdict[i] == GR_LEAK_UNKNOWN) rc = reach_scan_stack(c, &c->s->gs[i], 0);
  gr_thread_roots tr = {0}; /* the threads' registers (roots.h) */
  if (!rc) rc = gr_roots_threads(sess, &tr);
  for (size_t k = 0; k < tr.nwords && !rc; k++)
    if (tr.words[k] >= c->lo && tr.words[k] < c->hi) rc = reach_mark(c, tr.words[k], 0);
  for (size_t k = 0; k < tr.nat && !rc; k++) rc = reach_scan_thread(c, &tr.at[k]);
  gr_roots_free(&tr);
  return rc ? rc : push_specials(c);
}

/* ---- the verdict ---- */

int gr_reach_take(gr_program *p, tgt_session *sess, const gr_snapshot *s, const gr_waits *w, const gr_heap *h,
                  gr_reach *r) {
  memset(r, 0, sizeof *r);
  arena_init(&r->a);
  rctx c = {.p = p, .s = s, .h = h, .r = r};
  u64map_init(&c.prim);
  u64map_init(&c.masks);
  u64map_init(&c.node);
  r->n = s->n;
  r->verdict = calloc(s->n + 1, 1);
  r->group = calloc(s->n + 1, sizeof *r->group);
  r->reaches = calloc(s->n + 1, sizeof *r->reaches);
  r->nreaches = calloc(s->n + 1, sizeof *r->nreaches);
  uint32_t *woken = malloc((s->n + 1) * sizeof *woken);
  c.wakeq = malloc((s->n + 1) * sizeof *c.wakeq);
  size_t nwoken = 0;
  int rc = r->verdict && r->group && r->reaches && r->nreaches && woken && c.wakeq ? 0 : se_set(SE_NOMEM, "out of memory");
  if (!rc) rc = reach_index_heap(&c);
  if (!rc) rc = reach_read_alloc_bits(&c);
  uint32_t gsi;
  uint64_t gslot;
  if (!rc && s->n && object_at(&c, s->gs[0].addr, &gsi, &gslot)) c.g_elem = h->spans[gsi].elemsize;
  u64map_init(&c.pcs);
  u64map_init(&c.maps);
  c.frames = malloc(MAX_STACK_FRAMES * sizeof *c.frames);
  c.sps = malloc((MAX_STACK_FRAMES + 1) * sizeof *c.sps); /* without them, stacks are read word by word */
  if (!c.frames || !c.sps) {
    free(c.frames);
    c.frames = NULL;
  }
  if (!rc) rc = classify_all(&c, w, woken, &nwoken);
  for (size_t i = 0; i < nwoken && !rc; i++) reach_wake(&c, woken[i]);
  if (!rc) rc = push_roots(&c, sess);
  if (!rc) rc = mark_all(&c);
  if (rc) goto out;
  if (c.nunreadable && !r->incomplete[0])
    snprintf(r->incomplete, sizeof r->incomplete, "%zu blocks of memory could not be read", c.nunreadable);
  if (w->nbroken && !r->incomplete[0])
    snprintf(r->incomplete, sizeof r->incomplete, "the waits of %zu goroutines could not be read whole", w->nbroken);
  r->complete = !r->incomplete[0];
  for (size_t i = 0; i < s->n; i++) {
    if (r->verdict[i] != GR_LEAK_LEAKED) continue;
    if (!r->complete) { /* a root we could not read might reach it */
      r->verdict[i] = GR_LEAK_UNKNOWN;
      r->nunknown++;
    } else if (s->gs[i].goid == 1 && !strcmp(gr_wait_reason_of(p, &s->gs[i]), "select (no cases)")) {
      r->verdict[i] = GR_LEAK_IDLE_MAIN; /* Go 1.27's mgc.go: "Do not report the main goroutine if it is waiting
                                        on select{}" (1.26 reports it; sonde follows 1.27 on every version) */
    } else {
      r->nleaked++;
    }
  }
  if (r->nleaked) rc = reach_find_groups(&c);
  else r->groups_complete = true;
out:
  free(woken);
  free(c.wakeq);
  for (size_t i = 0; c.pages && i < c.narenas; i++) free(c.pages[i]);
  free(c.pages);
  for (size_t i = 0; c.allocb && i < h->n; i++) free(c.allocb[i]);
  free(c.allocb);
  free(c.bitoff);
  free(c.marks);
  free(c.seen);
  free(c.has_prim);
  free(c.spanbuf);
  free(c.local);
  free(c.pl);
  free(c.work);
  free(c.node_obj);
  free(c.edges);
  free(c.frames);
  free(c.sps);
  free(c.stack);
  free(c.fmaps);
  u64map_free(&c.pcs);
  u64map_free(&c.maps);
  u64map_free(&c.prim);
  u64map_free(&c.masks);
  u64map_free(&c.node);
  if (rc) gr_reach_free(r);
  return rc;
}

void gr_reach_free(gr_reach *r) {
  free(r->verdict);
  free(r->group);
  free(r->reaches);
  free(r->nreaches);
  arena_free(&r->a);
  memset(r, 0, sizeof *r);
}
