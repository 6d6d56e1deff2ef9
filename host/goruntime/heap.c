/* heap.c: the spans of the Go heap (heap.h).
 *
 * mheap_.allspans is an array of *mspan, read at once; the mspans are read
 * in batches with one process_vm_readv each. Everything read is bounded:
 * the array's length by GR_MAX_SPANS and its capacity, a span's fields by
 * what the runtime can hold (nelems * elemsize within the span). A span
 * that breaks a bound is counted as unreadable, never trusted. */
#include "goruntime/heap.h"

#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "base/error.h"
#include "target/proc.h"

enum { BATCH = 4096 };

static uint64_t rd_uint(const uint8_t *b, int64_t off, uint64_t size) { return sonde_le(b + off, (size_t)size); }

static int read_residency(pid_t pid, gr_heap *h);

static int by_base(const void *a, const void *b) {
  uint64_t x = ((const gr_span *)a)->base, y = ((const gr_span *)b)->base;
  return x < y ? -1 : x > y;
}

int gr_heap_supported(const gr_program *p) {
  static const gr_field need[] = {GRL_MH_ALLSPANS, GRL_MH_SWEEPGEN,   GRL_MS_STARTADDR, GRL_MS_NPAGES, GRL_MS_NELEMS,
                                  GRL_MS_SWEEPGEN, GRL_MS_ALLOCCOUNT, GRL_MS_SPANCLASS, GRL_MS_STATE,  GRL_MS_ELEMSIZE};
  const gr_layout *L = &p->layout;
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
    if (L->off[need[i]] < 0) {
      const gr_field_spec *s = gr_layout_spec(need[i]);
      return se_set(SE_NOTGO, "the heap model needs %s.%s, which this binary's runtime (%s) does not have", s->st,
                    s->path, p->bi.go_version);
    }
  }
  if (!GR_SIZE(L, SZ_MSPAN)) return se_set(SE_NOTGO, "the size of runtime.mspan is unknown for %s", p->bi.go_version);
  if (!p->globals.addr[GR_GLOBAL_MHEAP])
    return se_set(SE_NOTGO, "cannot find runtime.mheap_ in %s (%s): %s", p->img.path, p->globals.source,
                  p->globals.addr[GR_GLOBAL_ALLGLEN] && !strcmp(p->globals.source, "symbol table")
                      ? "the symbol table does not list it"
                      : "runtime.gcSweep and runtime.(*mcache).allocLarge do not load it as in Go 1.19-1.27");
  return 0;
}

bool gr_heap_parse_span(const gr_layout *L, const uint8_t *b, uint32_t heap_sweepgen, gr_span *out, uint8_t *state) {
  *state = b[GR_OFF(L, MS_STATE)];
  memset(out, 0, sizeof *out);
  out->base = rd_uint(b, GR_OFF(L, MS_STARTADDR), 8);
  out->npages = rd_uint(b, GR_OFF(L, MS_NPAGES), 8);
  out->elemsize = rd_uint(b, GR_OFF(L, MS_ELEMSIZE), 8);
  uint64_t nelems = rd_uint(b, GR_OFF(L, MS_NELEMS), L->fsize[GRL_MS_NELEMS]);
  out->nalloc = (uint32_t)rd_uint(b, GR_OFF(L, MS_ALLOCCOUNT), 2);
  uint8_t sc = b[GR_OFF(L, MS_SPANCLASS)];
  out->sizeclass = sc >> 1;
  out->noscan = sc & 1;
  if (GR_HAS(L, MS_LARGETYPE)) out->large_type = rd_uint(b, GR_OFF(L, MS_LARGETYPE), 8);
  if (GR_HAS(L, MS_ALLOCBITS)) out->alloc_bits = rd_uint(b, GR_OFF(L, MS_ALLOCBITS), 8);
  if (GR_HAS(L, MS_SPECIALS)) out->specials = rd_uint(b, GR_OFF(L, MS_SPECIALS), 8);
  /* mirrors runtime/mbitmap.go (*mspan).isFree: every slot below freeindex
   * is allocated. Not freeIndexForScan: malloc.go stops updating it while
   * the GC marks (it allocates black then), so objects made during a mark
   * phase lie above it, and a leak check taken then missed a live context
   * holding the channel a goroutine waited on (issue 23). The larger of the
   * two, when the layout has both. */
  uint32_t fi = 0, fis = 0;
  if (GR_HAS(L, MS_FREEINDEX)) fi = (uint32_t)rd_uint(b, GR_OFF(L, MS_FREEINDEX), L->fsize[GRL_MS_FREEINDEX]);
  if (GR_HAS(L, MS_FREEINDEXFORSCAN))
    fis = (uint32_t)rd_uint(b, GR_OFF(L, MS_FREEINDEXFORSCAN), L->fsize[GRL_MS_FREEINDEXFORSCAN]);
  /* mheap.go, mspan.sweepgen: h->sweepgen is "swept and ready", +3 "swept
   * and then cached"; -2, -1 and +1 all mean not swept yet */
  uint32_t sg = (uint32_t)rd_uint(b, GR_OFF(L, MS_SWEEPGEN), 4);
  out->swept = sg == heap_sweepgen || sg == heap_sweepgen + 3;
  out->cached = sg == heap_sweepgen + 3;
  /* sweepgen - 1: being swept. mgcsweep.go (*sweepLocked).sweep zeroes
   * freeindex before it makes the mark bits the alloc bits: stopped in
   * between, the span says its objects made since the last sweep are free.
   * While a sweep runs, every slot counts as allocated (issue 23). */
  if (sg == heap_sweepgen - 1) fi = fis = UINT32_MAX;
  out->freeindex = fi > fis ? fi : fis;
  if (GR_HAS(L, MS_ALLOCCOUNTBEFORECACHE))
    out->nalloc_at_cache = (uint32_t)rd_uint(b, GR_OFF(L, MS_ALLOCCOUNTBEFORECACHE), 2);
  if (*state != GR_SPAN_INUSE) return true;
  /* a span of the heap: within the address space, its objects within it */
  uint64_t bytes = out->npages * GR_PAGE_SIZE;
  if (!out->npages || out->npages > (1ull << 35) / GR_PAGE_SIZE || out->base + bytes < out->base) return false;
  if (!out->elemsize || nelems > 0xffffffffull || (uint64_t)out->nalloc > nelems ||
      out->sizeclass >= GR_NUM_SIZE_CLASSES)
    return false;
  if (nelems && out->elemsize > bytes / nelems) return false;
  out->nelems = (uint32_t)nelems;
  if (out->freeindex > nelems) out->freeindex = (uint32_t)nelems;
  return true;
}

/* memstats.heapStats.stats[3], summed: alloc and free counts per size
 * class, large allocations, and the bytes in heap, stack and workbuf spans. */
typedef struct {
  int64_t inheap, instacks, inworkbufs;
  uint64_t large_alloc, large_count, small_count[GR_NUM_SIZE_CLASSES];
} rtstats;

static int read_rtstats(gr_program *p, uint64_t ms, rtstats *out, bool *ok) {
  const gr_layout *L = &p->layout;
  *ok = false;
  static const gr_field need[] = {GRL_MST_HEAPSTATS,       GRL_HSD_INHEAP,     GRL_HSD_INSTACKS,
                                  GRL_HSD_INWORKBUFS,      GRL_HSD_LARGEALLOC, GRL_HSD_LARGEALLOCCOUNT,
                                  GRL_HSD_SMALLALLOCCOUNT, GRL_HSD_LARGEFREE,  GRL_HSD_LARGEFREECOUNT,
                                  GRL_HSD_SMALLFREECOUNT};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
    if (L->off[need[i]] < 0) return 0;
  uint64_t dsz = GR_SIZE(L, SZ_HEAPSTATSDELTA);
  if (!dsz || dsz > 4096 || L->fsize[GRL_MST_HEAPSTATS] != 3 * dsz) return 0;
  uint8_t buf[3 * 4096];
  int rc = tgt_mem_read(p->mem, ms + (uint64_t)GR_OFF(L, MST_HEAPSTATS), buf, (size_t)(3 * dsz));
  if (rc) return rc;
  memset(out, 0, sizeof *out);
  for (int g = 0; g < 3; g++) {
    const uint8_t *d = buf + g * dsz;
    out->inheap += (int64_t)rd_uint(d, GR_OFF(L, HSD_INHEAP), 8);
    out->instacks += (int64_t)rd_uint(d, GR_OFF(L, HSD_INSTACKS), 8);
    out->inworkbufs += (int64_t)rd_uint(d, GR_OFF(L, HSD_INWORKBUFS), 8);
    out->large_alloc += rd_uint(d, GR_OFF(L, HSD_LARGEALLOC), 8) - rd_uint(d, GR_OFF(L, HSD_LARGEFREE), 8);
    out->large_count += rd_uint(d, GR_OFF(L, HSD_LARGEALLOCCOUNT), 8) - rd_uint(d, GR_OFF(L, HSD_LARGEFREECOUNT), 8);
    for (int c = 0; c < GR_NUM_SIZE_CLASSES; c++)
      out->small_count[c] += /* abi: [68]uint64, 8 bytes a class */
          rd_uint(d, GR_OFF(L, HSD_SMALLALLOCCOUNT) + 8 * c, 8) - rd_uint(d, GR_OFF(L, HSD_SMALLFREECOUNT) + 8 * c, 8);
  }
  *ok = true;
  return 0;
}

/* The runtime's live objects and bytes from its counters, as ReadMemStats
 * computes them after flushing the mcaches (mcache.go, refill): what a P
 * allocates from a span it caches is counted when it gives the span back,
 * so it is added here. */
static void rt_totals(gr_heap *h, const rtstats *r) {
  uint64_t elem[GR_NUM_SIZE_CLASSES] = {0};
  int64_t uncounted[GR_NUM_SIZE_CLASSES] = {0};
  for (size_t i = 0; i < h->n; i++) {
    const gr_span *s = &h->spans[i];
    elem[s->sizeclass] = s->elemsize;
    if (s->cached && s->sizeclass) uncounted[s->sizeclass] += (int64_t)s->nalloc - s->nalloc_at_cache;
  }
  h->has_rtstats = true;
  h->rt_inheap = r->inheap;
  h->rt_instacks = r->instacks;
  h->rt_inworkbufs = r->inworkbufs;
  h->rt_objects = (int64_t)r->large_count;
  h->rt_bytes = (int64_t)r->large_alloc;
  for (int c = 1; c < GR_NUM_SIZE_CLASSES; c++) {
    int64_t live = (int64_t)r->small_count[c] + uncounted[c];
    h->rt_objects += live;
    h->rt_bytes += live * (int64_t)elem[c];
  }
}

/* mheap_.heapArenas (allArenas before Go 1.25): the index of every mapped
 * arena, turned into bases. */
static int read_arenas(gr_program *p, uint64_t h, gr_heap *out) {
  const gr_layout *L = &p->layout;
  if (!GR_HAS(L, MH_ALLARENAS)) return 0;
  uint64_t sl[3];
  int rc = tgt_mem_read(p->mem, h + (uint64_t)GR_OFF(L, MH_ALLARENAS), sl, sizeof sl);
  if (rc) return se_wrap(rc, "reading runtime.mheap_.heapArenas");
  if (sl[1] > sl[2] || sl[1] > GR_MAX_ARENAS || (sl[1] && !sl[0]))
    return se_set(SE_CORRUPT, "runtime.mheap_.heapArenas has length %llu and capacity %llu: not a heap sonde can read",
                  (unsigned long long)sl[1], (unsigned long long)sl[2]);
  if (!sl[1]) return 0;
  if (!(out->arenas = malloc((size_t)sl[1] * sizeof *out->arenas)))
    return se_set(SE_NOMEM, "out of memory for %llu arenas", (unsigned long long)sl[1]);
  if ((rc = tgt_mem_read(p->mem, sl[0], out->arenas, (size_t)sl[1] * sizeof *out->arenas)) != 0)
    return se_wrap(rc, "reading runtime.mheap_.heapArenas (%llu arenas)", (unsigned long long)sl[1]);
  out->narenas = (size_t)sl[1];
  for (size_t i = 0; i < out->narenas; i++) out->arenas[i] = out->arenas[i] * GR_ARENA_BYTES + GR_ARENA_BASE_OFFSET;
  return 0;
}

int gr_heap_take(gr_program *p, gr_heap *out) {
  memset(out, 0, sizeof *out);
  int rc = gr_heap_supported(p);
  if (rc) return rc;
  const gr_layout *L = &p->layout;
  uint64_t h = gr_rt(p, p->globals.addr[GR_GLOBAL_MHEAP]);
  uint64_t sl[3];
  uint32_t sweepgen;
  if ((rc = tgt_mem_read(p->mem, h + (uint64_t)GR_OFF(L, MH_ALLSPANS), sl, sizeof sl)) != 0 ||
      (rc = tgt_mem_read(p->mem, h + (uint64_t)GR_OFF(L, MH_SWEEPGEN), &sweepgen, sizeof sweepgen)) != 0)
    return se_wrap(rc, "reading runtime.mheap_ at 0x%llx", (unsigned long long)h);
  uint64_t n = sl[1];
  if (n > sl[2] || n > GR_MAX_SPANS || (n && !sl[0]))
    return se_set(SE_CORRUPT, "runtime.mheap_.allspans has length %llu and capacity %llu: not a heap sonde can read",
                  (unsigned long long)n, (unsigned long long)sl[2]);
  out->sweepgen = sweepgen;
  out->nallspans = (size_t)n;
  out->resident = GR_UNKNOWN;
  uint64_t ms = p->globals.addr[GR_GLOBAL_MEMSTATS];
  if (ms && GR_HAS(L, MST_NUMGC) && GR_HAS(L, MST_LAST_GC_UNIX)) {
    ms = gr_rt(p, ms);
    tgt_iov v[2] = {{ms + (uint64_t)GR_OFF(L, MST_NUMGC), &out->numgc, 4, false},
                    {ms + (uint64_t)GR_OFF(L, MST_LAST_GC_UNIX), &out->last_gc_unix, 8, false}};
    if ((rc = tgt_mem_readv(p->mem, v, 2)) != 0) return rc;
    out->has_memstats = v[0].ok && v[1].ok;
  }
  if ((rc = read_arenas(p, h, out)) != 0) {
    gr_heap_free(out);
    return rc;
  }
  rtstats rts;
  bool have_rts = false;
  if (ms && GR_HAS(L, MST_NUMGC) && (rc = read_rtstats(p, ms, &rts, &have_rts)) != 0) {
    se_clear(); /* a cross-check, never a reason to fail */
    rc = 0;
  }
  if (!n) return 0;

  size_t ssz = (size_t)GR_SIZE(L, SZ_MSPAN);
  uint64_t *ptrs = malloc((size_t)n * sizeof *ptrs);
  uint8_t *buf = malloc(BATCH * ssz);
  tgt_iov *iov = malloc(BATCH * sizeof *iov);
  out->spans = malloc((size_t)n * sizeof *out->spans);
  if (!ptrs || !buf || !iov || !out->spans) {
    rc = se_set(SE_NOMEM, "out of memory for %llu spans", (unsigned long long)n);
    goto done;
  }
  if ((rc = tgt_mem_read(p->mem, sl[0], ptrs, (size_t)n * sizeof *ptrs)) != 0) {
    rc = se_wrap(rc, "reading runtime.mheap_.allspans (%llu spans)", (unsigned long long)n);
    goto done;
  }
  for (size_t base = 0; base < n; base += BATCH) {
    size_t k = n - base < BATCH ? (size_t)(n - base) : BATCH;
    for (size_t i = 0; i < k; i++)
      iov[i] = (tgt_iov){ptrs[base + i], buf + i * ssz, ssz, false};
    if ((rc = tgt_mem_readv(p->mem, iov, k)) != 0) goto done;
    for (size_t i = 0; i < k; i++) {
      uint8_t state;
      gr_span sp;
      if (!iov[i].ok || !ptrs[base + i] || !gr_heap_parse_span(L, buf + i * ssz, sweepgen, &sp, &state)) {
        out->nunreadable++;
        continue;
      }
      sp.resident = GR_UNKNOWN;
      if (state == GR_SPAN_MANUAL) {
        out->nmanual++;
        out->manual_bytes += sp.npages * GR_PAGE_SIZE;
      } else if (state == GR_SPAN_INUSE) {
        if (!sp.swept) out->nunswept++;
        out->spans[out->n++] = sp;
      }
    }
  }
  if (have_rts) rt_totals(out, &rts);
done:
  free(ptrs);
  free(buf);
  free(iov);
  if (rc) gr_heap_free(out);
  return rc;
}

void gr_heap_free(gr_heap *h) {
  free(h->spans);
  free(h->arenas);
  free(h->types);
  free(h->typed);
  free(h->row_names);
  u64map_free(&h->type_index);
  arena_free(&h->names);
  memset(h, 0, sizeof *h);
}

int gr_heap_read(gr_program *p, bool types, gr_heap *out) {
  int rc = gr_heap_take(p, out);
  if (rc == 0 && types) rc = gr_heap_read_types(p, out);
  if (rc) gr_heap_free(out);
  return rc;
}

void gr_heap_settle(pid_t pid, gr_heap *h) {
  if (h->n) qsort(h->spans, h->n, sizeof *h->spans, by_base);
  if (read_residency(pid, h) != 0) se_clear(); /* shown as unknown */
}

static int read_residency(pid_t pid, gr_heap *h) {
  if (!h->n) {
    h->resident = 0;
    return 0;
  }
  uint64_t *base = malloc(h->n * sizeof *base), *len = malloc(h->n * sizeof *len), *res = malloc(h->n * sizeof *res);
  int rc = 0;
  if (!base || !len || !res) rc = se_set(SE_NOMEM, "out of memory for the residency of %zu spans", h->n);
  for (size_t i = 0; !rc && i < h->n; i++) {
    base[i] = h->spans[i].base;
    len[i] = h->spans[i].npages * GR_PAGE_SIZE;
  }
  if (!rc) rc = tgt_proc_resident(pid, base, len, h->n, res);
  if (!rc) {
    h->resident = 0;
    for (size_t i = 0; i < h->n; i++)
      h->resident += h->spans[i].resident = res[i];
  }
  free(base);
  free(len);
  free(res);
  return rc;
}

const gr_span *gr_heap_find(const gr_heap *h, uint64_t addr, uint64_t *obj) {
  size_t lo = 0, hi = h->n;
  while (lo < hi) { /* the first span starting above addr */
    size_t mid = lo + (hi - lo) / 2;
    if (h->spans[mid].base <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (!lo) return NULL;
  const gr_span *s = &h->spans[lo - 1];
  uint64_t off = addr - s->base;
  if (off >= s->npages * GR_PAGE_SIZE) return NULL;
  if (s->nelems && off / s->elemsize >= s->nelems) return NULL; /* the tail no slot uses */
  if (obj) *obj = s->base + off / s->elemsize * s->elemsize;
  return s;
}
