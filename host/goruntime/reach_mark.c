/* reach_mark.c: the leak analysis's heap index and mark work list
 * (reach_ctx.h): which object an address falls in, the objects marked, and
 * the batched reads that scan them. Mirrors runtime/mgcmark.go. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "goruntime/reach_ctx.h"

/* ---- the heap index ---- */

int reach_index_heap(rctx *c) {
  const gr_heap *h = c->h;
  c->lo = UINT64_MAX;
  uint64_t nbits = 0;
  for (size_t i = 0; i < h->n; i++) {
    const gr_span *s = &h->spans[i];
    if (s->base < c->lo) c->lo = s->base;
    if (s->base + s->npages * GR_PAGE_SIZE > c->hi) c->hi = s->base + s->npages * GR_PAGE_SIZE;
    nbits += s->nelems;
  }
  if (!h->n) return 0;
  c->arena0 = c->lo / GR_ARENA_BYTES;
  uint64_t na = (c->hi - 1) / GR_ARENA_BYTES - c->arena0 + 1;
  if (na > MAX_ARENA_RANGE)
    return se_set(SE_CORRUPT, "the heap's spans lie %llu arenas apart: more than sonde indexes",
                  (unsigned long long)na);
  c->narenas = (size_t)na;
  c->pages = calloc(c->narenas, sizeof *c->pages);
  c->bitoff = malloc((h->n + 1) * sizeof *c->bitoff);
  c->allocb = calloc(h->n, sizeof *c->allocb);
  c->has_prim = calloc(h->n, 1);
  c->spanbuf = calloc(h->n, sizeof *c->spanbuf);
  c->marks = calloc((size_t)(nbits / 8 + 1), 1);
  c->seen = calloc((size_t)(nbits / 8 + 1), 1);
  if (!c->pages || !c->bitoff || !c->allocb || !c->has_prim || !c->spanbuf || !c->marks || !c->seen)
    return se_set(SE_NOMEM, "out of memory indexing %zu heap spans", h->n);
  uint64_t off = 0;
  for (size_t i = 0; i < h->n; i++) {
    const gr_span *s = &h->spans[i];
    c->bitoff[i] = off;
    off += s->nelems;
    for (uint64_t pg = 0; pg < s->npages; pg++) {
      uint64_t a = s->base + pg * GR_PAGE_SIZE;
      size_t ai = (size_t)(a / GR_ARENA_BYTES - c->arena0);
      if (!c->pages[ai] && !(c->pages[ai] = calloc(PAGES_PER_ARENA, sizeof **c->pages)))
        return se_set(SE_NOMEM, "out of memory indexing the heap");
      c->pages[ai][(a % GR_ARENA_BYTES) / GR_PAGE_SIZE] = (uint32_t)i + 1;
    }
  }
  return 0;
}

/* Alloc bits of the spans with free slots: one batched read. */
int reach_read_alloc_bits(rctx *c) {
  const gr_heap *h = c->h;
  tgt_iov *iov = malloc(BATCH_IOV * sizeof *iov);
  size_t *which = malloc(BATCH_IOV * sizeof *which);
  int rc = iov && which ? 0 : se_set(SE_NOMEM, "out of memory");
  size_t n = 0;
  for (size_t i = 0; i <= h->n && !rc; i++) {
    if (i < h->n) {
      const gr_span *s = &h->spans[i];
      if (s->freeindex >= s->nelems || !s->alloc_bits) continue;
      if (!(c->allocb[i] = malloc(s->nelems / 8 + 1))) {
        rc = se_set(SE_NOMEM, "out of memory for alloc bits");
        break;
      }
      which[n] = i;
      iov[n++] = (tgt_iov){s->alloc_bits, c->allocb[i], s->nelems / 8 + 1, false};
    }
    if (n == BATCH_IOV || (i == h->n && n)) {
      if ((rc = tgt_mem_readv(c->p->mem, iov, n)) != 0) break;
      for (size_t k = 0; k < n; k++)
        if (!iov[k].ok) { /* unknown: every slot counts as allocated */
          free(c->allocb[which[k]]);
          c->allocb[which[k]] = NULL;
        }
      n = 0;
    }
  }
  free(iov);
  free(which);
  return rc;
}

/* ---- the work list ---- */

static int append_item(item **a, size_t *n, size_t *cap, item it) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 4096;
    item *g = realloc(*a, nc * sizeof *g);
    if (!g) return se_set(SE_NOMEM, "out of memory for the mark work list");
    *a = g;
    *cap = nc;
  }
  (*a)[(*n)++] = it;
  return 0;
}

int reach_push(rctx *c, uint64_t addr, uint64_t len, uint32_t src, bool obj) {
  int rc = 0;
  for (uint64_t off = 0; off < len && !rc; off += CHUNK) {
    uint64_t l = len - off < CHUNK ? len - off : CHUNK;
    rc = append_item(&c->work, &c->nwork, &c->capwork, (item){addr + off, (uint32_t)l, src, NO_SPAN, obj && off == 0});
  }
  return rc;
}

/* An object of span si to scan: from the span's bytes when this batch read
 * them, else on the work list (small objects read with their whole span). */
int reach_push_obj(rctx *c, uint32_t si, uint64_t obj, uint32_t src) {
  const gr_span *s = &c->h->spans[si];
  if (s->nelems <= 1 || s->npages * GR_PAGE_SIZE > SPAN_READ_MAX) return reach_push(c, obj, s->elemsize, src, true);
  item it = {obj, (uint32_t)s->elemsize, src, si, true};
  if (c->spanbuf[si]) return append_item(&c->local, &c->nlocal, &c->caplocal, it);
  return append_item(&c->work, &c->nwork, &c->capwork, it);
}

/* ---- marking ---- */

int reach_mark(rctx *c, uint64_t v, uint32_t src) {
  uint32_t si;
  uint64_t slot;
  if (!object_at(c, v, &si, &slot)) return 0;
  const gr_span *s = &c->h->spans[si];
  uint64_t b = c->bitoff[si] + slot, obj = s->base + slot * s->elemsize;
  int rc = 0;
  if (c->ph == PH_GROUP) { /* memory no root reaches, from a leaked goroutine */
    if (bit(c->marks, b)) return 0;
    uint32_t id;
    uint64_t known;
    if (bit(c->seen, b)) {
      if (!u64map_get(&c->node, obj, &known)) return 0;
      id = (uint32_t)known;
    } else {
      set_bit(c->seen, b);
      if ((rc = reach_node_add(c, obj, &id)) != 0 || c->over_budget) return rc;
      if (!s->noscan && (rc = reach_push_obj(c, si, obj, id)) != 0) return rc;
    }
    if (c->nedges == c->capedges) {
      size_t cap = c->capedges ? c->capedges * 2 : 4096;
      if (cap > GROUP_MAX_EDGES) {
        c->over_budget = true;
        return 0;
      }
      edge *n = realloc(c->edges, cap * sizeof *n);
      if (!n) return se_set(SE_NOMEM, "out of memory for the deadlock search");
      c->edges = n;
      c->capedges = cap;
    }
    c->edges[c->nedges++] = (edge){src, id};
    return 0;
  }
  if (bit(c->marks, b)) return 0;
  set_bit(c->marks, b);
  c->r->objects_marked++;
  uint64_t first;
  if ((c->has_prim[si] & SPAN_PRIM) && u64map_get(&c->prim, obj, &first))
    for (uint32_t l = (uint32_t)first; l; l = c->pl[l - 1].next) reach_wake(c, c->pl[l - 1].g);
  if (!rc && !s->noscan) rc = reach_push_obj(c, si, obj, 0);
  return rc;
}

/* Whether [lo, hi) looks like a goroutine stack: 2 KiB to 1 GiB in whole
 * 2 KiB steps, its base outside every heap object. */
static bool stack_like(const rctx *c, uint64_t lo, uint64_t hi) {
  uint32_t si;
  uint64_t slot;
  return hi > lo && hi - lo >= 2048 && hi - lo <= (1ull << 30) && (hi - lo) % 2048 == 0 && !object_at(c, lo, &si, &slot);
}

static int scan(rctx *c, const item *it, const uint64_t *w) {
  uint64_t masked = 0;
  bool mask = it->obj && c->masks.len && (it->span == NO_SPAN || (c->has_prim[it->span] & SPAN_MASK)) &&
              u64map_get(&c->masks, it->addr, &masked);
  /* A g's stack.hi is one past its stack, and may be the first object of the
   * heap span that follows: a uintptr the runtime never follows. In a slot
   * the size of a g whose stack bounds look like a stack (allgs, and the
   * g0 and signal gs of threads, which no list here names), skip both. */
  size_t skip_lo = SIZE_MAX, skip_hi = SIZE_MAX;
  const gr_layout *L = &c->p->layout;
  if (it->obj && c->g_elem && it->len == c->g_elem) {
    size_t a = (size_t)GR_OFF(L, G_STACK_LO) / 8, b = (size_t)GR_OFF(L, G_STACK_HI) / 8;
    if (b < it->len / 8 && stack_like(c, w[a], w[b])) skip_lo = a, skip_hi = b;
  }
  int rc = 0;
  for (size_t i = 0; i < it->len / 8 && !rc; i++) {
    uint64_t v = w[i];
    if (v < c->lo || v >= c->hi || (mask && v == masked) || i == skip_lo || i == skip_hi) continue;
    rc = reach_mark(c, v, it->src);
  }
  return rc;
}

/* Scans item it from data, then every object it marked inside a span of
 * this batch, from the span's bytes. */
static int scan_here(rctx *c, const item *it, const uint8_t *data) {
  int rc = scan(c, it, (const uint64_t *)data);
  while (!rc && c->nlocal) {
    item l = c->local[--c->nlocal];
    const gr_span *s = &c->h->spans[l.span];
    if (c->ph == PH_MARK) c->r->bytes_scanned += l.len;
    rc = scan(c, &l, (const uint64_t *)(c->spanbuf[l.span] + (l.addr - s->base)));
  }
  return rc;
}

/* Scans until the work list is empty, reading in batches: stacks, globals
 * and large objects as they are; small objects with their whole span. */
int reach_drain(rctx *c) {
  item *batch = malloc(BATCH_IOV * sizeof *batch);
  tgt_iov *iov = malloc(BATCH_IOV * sizeof *iov);
  uint32_t *spans = malloc(BATCH_IOV * sizeof *spans), *iov_of = malloc(BATCH_IOV * sizeof *iov_of);
  uint8_t *buf = malloc(BATCH_BYTES);
  int rc = batch && iov && spans && iov_of && buf ? 0 : se_set(SE_NOMEM, "out of memory for the mark buffers");
  while (c->nwork && !rc && !c->over_budget) {
    size_t n = 0, niov = 0, nspans = 0, used = 0;
    while (c->nwork && n < BATCH_IOV && niov < BATCH_IOV) {
      item it = c->work[c->nwork - 1];
      if (it.span != NO_SPAN && c->spanbuf[it.span]) { /* its span is in this batch already */
        batch[n] = it;
        iov_of[n++] = UINT32_MAX;
        c->nwork--;
        continue;
      }
      const gr_span *s = it.span != NO_SPAN ? &c->h->spans[it.span] : NULL;
      uint64_t len = s ? s->npages * GR_PAGE_SIZE : it.len;
      if (used + len > BATCH_BYTES && n) break;
      c->nwork--;
      iov[niov] = (tgt_iov){s ? s->base : it.addr, buf + used, (size_t)len, false};
      if (s) {
        c->spanbuf[it.span] = buf + used;
        spans[nspans++] = it.span;
      }
      used += len;
      batch[n] = it;
      iov_of[n++] = (uint32_t)niov++;
    }
    if ((rc = tgt_mem_readv(c->p->mem, iov, niov)) != 0) break;
    for (size_t k = 0; k < niov; k++) /* a span that could not be read: its objects cannot be scanned */
      if (!iov[k].ok)
        for (size_t i = 0; i < nspans; i++)
          if (c->spanbuf[spans[i]] == iov[k].dst) c->spanbuf[spans[i]] = NULL;
    for (size_t i = 0; i < n && !rc; i++) {
      const item *it = &batch[i];
      const uint8_t *data;
      if (it->span != NO_SPAN) {
        data = c->spanbuf[it->span] ? c->spanbuf[it->span] + (it->addr - c->h->spans[it->span].base) : NULL;
      } else {
        data = iov[iov_of[i]].ok ? iov[iov_of[i]].dst : NULL;
      }
      if (!data) {
        c->nunreadable++;
        continue;
      }
      if (c->ph == PH_MARK) c->r->bytes_scanned += it->len;
      rc = scan_here(c, it, data);
    }
    for (size_t i = 0; i < nspans; i++) c->spanbuf[spans[i]] = NULL;
    c->nlocal = 0;
  }
  free(batch);
  free(iov);
  free(spans);
  free(iov_of);
  free(buf);
  return rc;
}
