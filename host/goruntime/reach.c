/* reach.c: which blocked goroutines can never be woken (reach.h).
 *
 * One mark pass over the target's memory, read in batches while it is
 * stopped. A parked goroutine is woken the moment the object holding its
 * primitive is marked (objects holding primitives are indexed), so the fixed
 * point takes one pass, not one per chain link. Mirrors runtime/mgc.go
 * (findMaybeRunnableGoroutines, isMaybeRunnable) and mgcmark.go. */
#include "goruntime/reach.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/u64map.h"
#include "goruntime/roots.h"
#include "goruntime/unwind.h"

enum {
  CHUNK = 64 << 10,    /* bytes of one work item: stacks and large objects are split */
  BATCH_IOV = 1024,    /* items per batched read */
  BATCH_BYTES = 8 << 20,
  PAGES_PER_ARENA = (int)(GR_ARENA_BYTES / GR_PAGE_SIZE),
  MAX_ARENA_RANGE = 1 << 20, /* 64 TiB between the lowest and highest span */
  /* the deadlock-group search: memory only leaked goroutines reach */
  GROUP_MAX_NODES = 1 << 23,
  GROUP_MAX_EDGES = 1 << 25,
  GROUP_MAX_STEPS = 1 << 27,
  MAX_REACHES = 4096, /* primitives listed per leaked goroutine */
  MAX_SPECIALS = 1 << 22, /* special records followed in all */
  SPECIAL_WORDS = 8,      /* words of a special record read as roots */
  MAX_STACK_FRAMES = 1 << 14, /* frames read precisely per stack; the rest conservatively */
  MAX_STACK_OBJECTS = 1 << 12,
  THREAD_STACK_READ = 64 << 10, /* bytes of a thread's g0 or signal stack read from its sp */
  /* internal/abi/symtab.go */
  PCDATA_STACKMAPINDEX = 1,
  FUNCDATA_ARGSPOINTERMAPS = 0,
  FUNCDATA_LOCALSPOINTERMAPS = 1,
  FUNCDATA_STACKOBJECTS = 2
};

/* How to scan a frame at one pc, relative to its sp (runtime/stkframe.go
 * getStackMap): the live pointer words of its locals [varp - 8 * nlocals,
 * varp) and of its arguments [argp, argp + 8 * nargs), and its stack
 * objects (address-taken locals, scanned whole). `precise` false: scan the
 * frame and its arguments word by word. */
typedef struct {
  bool precise;
  uint32_t frame;              /* bytes from sp to fp (past the return address) */
  uint32_t varp, argp;         /* offsets from sp */
  int32_t nlocals, nargs;      /* bits */
  int32_t args_bytes;          /* _func.args, for the conservative case (0 when unknown) */
  const uint8_t *locals, *args; /* bitmaps, in the binary's funcdata */
  uint64_t objs;               /* FUNCDATA_StackObjects: records (16 bytes each) */
  uint32_t nobjs;
} frame_map;

/* Where a parked goroutine's primitive lives: a heap object, linked to the
 * other waiters on objects of the same start. */
typedef struct {
  uint32_t g;    /* snapshot index of the waiter */
  uint32_t next; /* next link on the same object, + 1 */
  uint64_t wait; /* the wait's address (hchan, semaphore, notifyList) */
} plink;

typedef struct {
  uint64_t addr;
  uint32_t len;
  uint32_t src;  /* group phase: the node whose memory this is */
  uint32_t span; /* a small object: its span (read whole); NO_SPAN otherwise */
  bool obj;      /* starts an object: its sudog masks apply */
} item;

enum { NO_SPAN = UINT32_MAX, SPAN_READ_MAX = 1 << 20 /* small-object spans read whole up to this */ };
/* has_prim bits, per span */
enum { SPAN_PRIM = 1, SPAN_MASK = 2 };

typedef struct {
  uint32_t from, to;
} edge;

typedef enum { PH_MARK, PH_GROUP } phase;

typedef struct {
  gr_program *p;
  const gr_snapshot *s;
  const gr_heap *h;
  gr_reach *r;
  phase ph;
  /* page index: arena -> page -> span + 1 */
  uint64_t lo, hi, arena0;
  size_t narenas;
  uint32_t **pages;
  /* per span: the first of its slots' bits; alloc bits (NULL: every slot
   * below freeindex, the rest free... see allocated()) */
  uint64_t *bitoff;
  uint8_t *marks, *seen;
  uint8_t **allocb;
  uint8_t *has_prim; /* per span: some object in it holds a primitive */
  u64map prim;       /* object start -> first plink + 1 */
  plink *pl;
  size_t npl;
  u64map masks; /* sudog -> the primitive address its c/elem names */
  item *work;
  size_t nwork, capwork;
  /* Spans read in the current batch (spanbuf[i] their bytes, else NULL):
   * an object marked inside one is scanned from there at once (local),
   * so that a list running through a span costs one read, not one each. */
  uint8_t **spanbuf;
  item *local;
  size_t nlocal, caplocal;
  /* group phase */
  u64map node; /* object start -> node id */
  uint64_t *node_obj;
  size_t nnodes, capnodes;
  edge *edges;
  size_t nedges, capedges;
  bool over_budget;
  size_t nunreadable;
  uint64_t g_elem; /* the slot size of runtime.g objects; 0 when unknown */
  /* precise stacks */
  u64map pcs;       /* unwinder's cache */
  u64map maps;      /* pc + 1 -> index in fmaps + 1 */
  frame_map *fmaps;
  size_t nfmaps, capfmaps;
  gr_rawframe *frames;
  uint64_t *sps;
  uint8_t *stack;   /* one stack's copy */
  uint32_t *wakeq;  /* woken goroutines whose stacks are still to scan */
  size_t nwakeq;
  size_t capstack;
} rctx;

/* ---- the heap index ---- */

static int index_heap(rctx *c) {
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
static int read_alloc_bits(rctx *c) {
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

/* mirrors runtime/mbitmap.go (*mspan).isFree: below freeIndexForScan every
 * slot is allocated; above, the alloc bits say. */
static inline bool allocated(const rctx *c, size_t si, const gr_span *s, uint64_t idx) {
  if (idx < s->freeindex || !c->allocb[si]) return true;
  return (c->allocb[si][idx / 8] >> (idx % 8)) & 1;
}

/* The allocated object holding v: its span and slot. */
static inline bool object_at(const rctx *c, uint64_t v, uint32_t *si, uint64_t *slot) {
  if (v < c->lo || v >= c->hi) return false;
  const uint32_t *pg = c->pages[v / GR_ARENA_BYTES - c->arena0];
  if (!pg) return false;
  uint32_t x = pg[(v % GR_ARENA_BYTES) / GR_PAGE_SIZE];
  if (!x) return false;
  const gr_span *s = &c->h->spans[x - 1];
  uint64_t idx = s->elemsize ? (v - s->base) / s->elemsize : 0;
  if (idx >= s->nelems || !allocated(c, x - 1, s, idx)) return false;
  *si = x - 1;
  *slot = idx;
  return true;
}

static inline bool bit(const uint8_t *b, uint64_t i) { return (b[i / 8] >> (i % 8)) & 1; }
static inline void set_bit(uint8_t *b, uint64_t i) { b[i / 8] |= (uint8_t)(1u << (i % 8)); }

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

static int push(rctx *c, uint64_t addr, uint64_t len, uint32_t src, bool obj) {
  int rc = 0;
  for (uint64_t off = 0; off < len && !rc; off += CHUNK) {
    uint64_t l = len - off < CHUNK ? len - off : CHUNK;
    rc = append_item(&c->work, &c->nwork, &c->capwork, (item){addr + off, (uint32_t)l, src, NO_SPAN, obj && off == 0});
  }
  return rc;
}

/* An object of span si to scan: from the span's bytes when this batch read
 * them, else on the work list (small objects read with their whole span). */
static int push_obj(rctx *c, uint32_t si, uint64_t obj, uint32_t src) {
  const gr_span *s = &c->h->spans[si];
  if (s->nelems <= 1 || s->npages * GR_PAGE_SIZE > SPAN_READ_MAX) return push(c, obj, s->elemsize, src, true);
  item it = {obj, (uint32_t)s->elemsize, src, si, true};
  if (c->spanbuf[si]) return append_item(&c->local, &c->nlocal, &c->caplocal, it);
  return append_item(&c->work, &c->nwork, &c->capwork, it);
}

static int mark(rctx *c, uint64_t v, uint32_t src);
static int drain(rctx *c);

/* The stack map of a frame at pc: one bitmap of a runtime.stackmap
 * {n, nbit int32; bytedata}, entry idx. */
static bool stackmap_at(const pcln_table *t, uint64_t addr, int32_t idx, int32_t *nbit, const uint8_t **bits) {
  const uint8_t *h = addr && t->bytes_at ? t->bytes_at(t->bytes_ctx, addr, 8) : NULL;
  if (!h) return false;
  int32_t n, nb;
  memcpy(&n, h, 4);
  memcpy(&nb, h + 4, 4);
  if (n <= 0 || nb < 0 || nb > (1 << 24) || idx < 0 || idx >= n) return false;
  size_t row = ((size_t)nb + 7) / 8;
  *nbit = nb;
  *bits = nb ? t->bytes_at(t->bytes_ctx, addr + 8 + (uint64_t)idx * row, row) : h;
  return *bits != NULL;
}

/* mirrors runtime/stkframe.go getStackMap and traceback.go's frame setup
 * (amd64: fp = sp + spdelta + 8; varp = fp - 8, less 8 more for the saved
 * frame pointer when the frame has room; argp = fp). */
static frame_map compute_map(const pcln_table *t, uint64_t pc) {
  frame_map m = {0};
  pcln_func f;
  int32_t spdelta;
  if (pcln_find(t, pc, &f) != 0 || !pcln_spdelta(t, &f, pc, &spdelta) || spdelta < 0 || spdelta > (1 << 26)) {
    se_clear();
    return m;
  }
  int32_t args = pcln_args(t, &f);
  m.frame = (uint32_t)spdelta + 8;
  m.args_bytes = args > 0 && args < (1 << 20) ? args : 0;
  uint8_t fid = pcln_funcid(t, &f);
  if (args == PCLN_ARGS_UNKNOWN || args < 0 || pcln_is_special(t, fid, PCLN_FID_ASYNCPREEMPT) ||
      pcln_is_special(t, fid, PCLN_FID_SIGPANIC) || pcln_is_special(t, fid, PCLN_FID_DEBUGCALLV2))
    return m; /* reflect and assembly frames, and frames that saved registers: conservative */
  int32_t idx = -1;
  if (pc != f.entry) idx = pcln_pcdata(t, &f, PCDATA_STACKMAPINDEX, pc - 1);
  if (idx == -1) idx = 0;
  m.varp = (uint32_t)spdelta > 0 ? (uint32_t)spdelta - 8 : (uint32_t)spdelta;
  m.argp = m.frame;
  if (m.varp > 0 && !stackmap_at(t, pcln_funcdata(t, &f, FUNCDATA_LOCALSPOINTERMAPS), idx, &m.nlocals, &m.locals))
    return m;
  if ((uint32_t)m.nlocals * 8 > m.varp) return m;
  if (args > 0 && !stackmap_at(t, pcln_funcdata(t, &f, FUNCDATA_ARGSPOINTERMAPS), idx, &m.nargs, &m.args)) return m;
  if (m.nargs * 8 > args) m.nargs = args / 8;
  uint64_t objs = pcln_funcdata(t, &f, FUNCDATA_STACKOBJECTS);
  if (objs) {
    const uint8_t *p = t->bytes_at ? t->bytes_at(t->bytes_ctx, objs, 8) : NULL;
    uint64_t n;
    if (!p) return m;
    memcpy(&n, p, 8);
    if (n > MAX_STACK_OBJECTS || (n && !t->bytes_at(t->bytes_ctx, objs + 8, (size_t)n * 16))) return m;
    m.objs = objs + 8;
    m.nobjs = (uint32_t)n;
  }
  m.precise = true;
  return m;
}

static const frame_map *map_of(rctx *c, uint64_t pc, frame_map *tmp) {
  uint64_t v;
  if (u64map_get(&c->maps, pc + 1, &v)) return &c->fmaps[v - 1];
  *tmp = compute_map(&c->p->pcln, pc);
  if (c->nfmaps == c->capfmaps) {
    size_t cap = c->capfmaps ? c->capfmaps * 2 : 256;
    frame_map *n = realloc(c->fmaps, cap * sizeof *n);
    if (!n) return tmp; /* a full cache only costs speed */
    c->fmaps = n;
    c->capfmaps = cap;
  }
  c->fmaps[c->nfmaps++] = *tmp;
  if (u64map_put(&c->maps, pc + 1, c->nfmaps) != 0) {
    se_clear();
    c->nfmaps--;
    return tmp;
  }
  return &c->fmaps[c->nfmaps - 1];
}

/* Marks what the words [from, to) of the stack copy (based at sp) point to. */
static int scan_words(rctx *c, const uint8_t *stk, uint64_t sp, size_t len, uint64_t from, uint64_t to, uint32_t src) {
  if (from < sp) from = sp;
  if (to > sp + len) to = sp + len;
  int rc = 0;
  for (uint64_t a = (from + 7) & ~7ull; a + 8 <= to && !rc; a += 8) {
    uint64_t v;
    memcpy(&v, stk + (a - sp), 8);
    if (v >= c->lo && v < c->hi) rc = mark(c, v, src);
  }
  return rc;
}

static int scan_bits(rctx *c, const uint8_t *stk, uint64_t sp, size_t len, uint64_t base, const uint8_t *bits,
                     int32_t nbit, uint32_t src) {
  int rc = 0;
  for (int32_t i = 0; i < nbit && !rc; i++)
    if ((bits[i / 8] >> (i % 8)) & 1) rc = scan_words(c, stk, sp, len, base + (uint64_t)i * 8, base + (uint64_t)i * 8 + 8, src);
  return rc;
}

/* The frames of a stack copy (based at sp) from (pc, sp), through the
 * compiler's stack maps (mirrors runtime/mgcmark.go scanstack,
 * scanframeworker): only the live pointer slots of each frame. A frame
 * without usable maps and an interrupted frame (its registers were saved,
 * sigpanic, asyncPreempt) are scanned word by word. *done: where the last
 * frame understood ends; *complete: the walk reached the stack's top. */
static int scan_frames(rctx *c, const uint8_t *stk, uint64_t sp, size_t len, uint64_t pc, bool trap, uint32_t src,
                       uint64_t *done, bool *complete) {
  gr_stackcopy copy = {stk, sp, len};
  gr_unwind_end end;
  size_t n = gr_unwind_sp(&c->p->pcln, &c->pcs, &copy, pc, sp, trap, c->frames, c->sps, MAX_STACK_FRAMES, &end);
  int rc = 0;
  *done = sp;
  for (size_t i = 0; i < n && !rc; i++) {
    frame_map tmp;
    const frame_map *m = map_of(c, c->frames[i].pc, &tmp);
    uint64_t fsp = c->sps[i], fp = fsp + m->frame;
    if (!m->precise || (c->frames[i].flags & GR_FRAME_TRAP) || !m->frame) {
      rc = scan_words(c, stk, sp, len, fsp, fp + (uint64_t)m->args_bytes, src);
    } else {
      uint64_t varp = fsp + m->varp, argp = fsp + m->argp;
      if (m->nlocals) rc = scan_bits(c, stk, sp, len, varp - 8 * (uint64_t)m->nlocals, m->locals, m->nlocals, src);
      if (!rc && m->nargs) rc = scan_bits(c, stk, sp, len, argp, m->args, m->nargs, src);
      const uint8_t *recs = m->nobjs ? c->p->pcln.bytes_at(c->p->pcln.bytes_ctx, m->objs, (size_t)m->nobjs * 16) : NULL;
      for (uint32_t k = 0; recs && k < m->nobjs && !rc; k++) { /* stack objects, whole */
        int32_t off, size;
        memcpy(&off, recs + 16 * k, 4);
        memcpy(&size, recs + 16 * k + 4, 4);
        uint64_t base = off < 0 ? varp - (uint64_t)(-(int64_t)off) : argp + (uint64_t)off;
        if (size > 0) rc = scan_words(c, stk, sp, len, base, base + (uint64_t)size, src);
      }
    }
    *done = fp;
  }
  *complete = end == GR_UNWIND_COMPLETE && n;
  return rc;
}

/* A goroutine's stack, frame by frame (scan_frames); whatever lies past
 * the last frame the unwinder reaches is scanned word by word. */
static int scan_stack(rctx *c, const gr_goroutine *g, uint32_t src) {
  size_t len = (size_t)(g->stack_hi - g->sp);
  bool sane = g->sp && g->sp <= g->stack_hi && len <= (1u << 30);
  if (sane && len > c->capstack) {
    uint8_t *n = realloc(c->stack, len);
    if (!n) return se_set(SE_NOMEM, "out of memory for a %zu-byte stack", len);
    c->stack = n;
    c->capstack = len;
  }
  if (!sane || tgt_mem_read(c->p->mem, g->sp, c->stack, len) != 0) {
    se_clear();
    if (c->ph == PH_MARK && !c->r->incomplete[0])
      snprintf(c->r->incomplete, sizeof c->r->incomplete, "the stack of goroutine %llu could not be read",
               (unsigned long long)g->goid);
    return 0;
  }
  if (c->ph == PH_MARK) c->r->root_bytes += len;
  const uint8_t *stk = c->stack;
  uint64_t sp = g->sp, done = sp;
  bool complete = false;
  if (!g->pc || !c->frames) return scan_words(c, stk, sp, len, sp, sp + len, src);
  int rc = scan_frames(c, stk, sp, len, g->pc, g->trap, src, &done, &complete);
  /* past the last frame understood: word by word */
  if (!rc && !complete) rc = scan_words(c, stk, sp, len, done, sp + len, src);
  return rc;
}

/* A thread off every goroutine's stack runs the runtime on its M's g0 or
 * signal stack: the scheduler, timers (a timer being run or moved in a P's
 * heap is held only there), a system-stack call. The runtime's detector
 * never sees this (it decides in a stop-the-world, where no M is inside
 * such code); sonde, stopping anywhere, must count what those frames hold.
 * Only the frames in use, from sp up, through the stack maps: the rest of
 * g0 and signal stacks, read word by word, holds stale pointers that hid
 * real leaks. sonde does not know where that stack ends (g0 stacks are 16
 * KiB, signal stacks 32 KiB, m0's g0 is the main thread's stack): it reads
 * up to THREAD_STACK_READ bytes from sp, less near the end of a mapping. */
static int scan_thread(rctx *c, const gr_thread_at *t) {
  for (size_t i = 0; i < c->s->n; i++) { /* on a goroutine's stack: that stack is read already */
    const gr_goroutine *g = &c->s->gs[i];
    if (t->sp >= g->stack_lo && t->sp < g->stack_hi) return 0;
  }
  if (!t->pc || !t->sp || !c->frames || pcln_find(&c->p->pcln, t->pc, &(pcln_func){0}) != 0) {
    se_clear(); /* not in Go code (a C library, the vDSO): nothing sonde can read precisely */
    return 0;
  }
  if (c->capstack < THREAD_STACK_READ) {
    uint8_t *n = realloc(c->stack, THREAD_STACK_READ);
    if (!n) return se_set(SE_NOMEM, "out of memory for a thread's stack");
    c->stack = n;
    c->capstack = THREAD_STACK_READ;
  }
  size_t len = THREAD_STACK_READ;
  while (len >= 4096 && tgt_mem_read(c->p->mem, t->sp, c->stack, len) != 0) {
    se_clear();
    len /= 2;
  }
  if (len < 4096) return 0; /* unreadable: its registers are still roots */
  uint64_t done;
  bool complete;
  if (c->ph == PH_MARK) c->r->root_bytes += len;
  return scan_frames(c, c->stack, t->sp, len, t->pc, true, 0, &done, &complete);
}

/* A parked goroutine whose primitive a root reaches: its stack is a root. */
static void wake(rctx *c, uint32_t gi) {
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
    while (!rc && c->nwakeq) rc = scan_stack(c, &c->s->gs[c->wakeq[--c->nwakeq]], 0);
    if (!rc) rc = drain(c);
  }
  return rc;
}

/* ---- marking ---- */

static int node_add(rctx *c, uint64_t obj, uint32_t *id);

static int mark(rctx *c, uint64_t v, uint32_t src) {
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
      if ((rc = node_add(c, obj, &id)) != 0 || c->over_budget) return rc;
      if (!s->noscan && (rc = push_obj(c, si, obj, id)) != 0) return rc;
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
    for (uint32_t l = (uint32_t)first; l; l = c->pl[l - 1].next) wake(c, c->pl[l - 1].g);
  if (!rc && !s->noscan) rc = push_obj(c, si, obj, 0);
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
    rc = mark(c, v, it->src);
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
static int drain(rctx *c) {
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

/* ---- the parked goroutines ---- */

typedef enum { W_NONE, W_NEVER, W_CHAN, W_SYNC } wait_class;

/* The waits the runtime's detector judges (waits.h gr_reason_class_of,
 * mirroring runtime/mgc.go isMaybeRunnable). A runtime semaphore lies in a
 * global, outside the heap, so its waiters are always counted as able to
 * run. */
static wait_class classify(const char *reason) {
  switch (gr_reason_class_of(reason)) {
    case GR_REASON_NEVER: return W_NEVER;
    case GR_REASON_CHAN_SEND:
    case GR_REASON_CHAN_RECV:
    case GR_REASON_SELECT: return W_CHAN;
    case GR_REASON_SEMA:
    case GR_REASON_COND: return W_SYNC;
    case GR_REASON_OTHER: break;
  }
  return W_NONE;
}

static uint64_t wait_addr(const gr_waits *w, const gr_chanwait *cw) {
  return cw->kind == GR_WAIT_CHAN ? w->chans[cw->chan].addr : cw->sema;
}

/* Sorts every goroutine into roots and parked ones, indexes the objects
 * that hold primitives and the sudogs to mask. Waking waits for the roots. */
static int classify_all(rctx *c, const gr_waits *w, uint32_t *woken, size_t *nwoken) {
  gr_reach *r = c->r;
  for (size_t i = 0; i < c->s->n; i++) {
    const gr_goroutine *g = &c->s->gs[i];
    wait_class k = g->status == GR_GWAITING || g->status == GR_GLEAKED ? classify(gr_wait_reason_of(c->p, g)) : W_NONE;
    uint32_t nc = i < w->n ? w->ncases[i] : 0;
    if (k == W_NONE) {
      r->verdict[i] = GR_LEAK_RUNS;
      continue;
    }
    if (k != W_NEVER && nc == 0) {
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
        if (w[k] >= c->lo && w[k] < c->hi) rc = mark(c, w[k], 0);
      if (!rc && !s->noscan && off < s->npages * GR_PAGE_SIZE) {
        uint64_t slot = s->base + off / s->elemsize * s->elemsize;
        rc = push(c, slot, s->elemsize, 0, true);
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
    rc = push(c, a, (sec->size + 7) & ~7ull, 0, false);
  }
  for (size_t i = 0; i < c->s->n && !rc; i++)
    if (c->r->verdict[i] == GR_LEAK_RUNS || c->r->verdict[i] == GR_LEAK_UNKNOWN) rc = scan_stack(c, &c->s->gs[i], 0);
  gr_thread_roots tr = {0}; /* the threads' registers (roots.h) */
  if (!rc) rc = gr_roots_threads(c->p, sess, &tr);
  for (size_t k = 0; k < tr.nwords && !rc; k++)
    if (tr.words[k] >= c->lo && tr.words[k] < c->hi) rc = mark(c, tr.words[k], 0);
  for (size_t k = 0; k < tr.nat && !rc; k++) rc = scan_thread(c, &tr.at[k]);
  gr_roots_free(&tr);
  return rc ? rc : push_specials(c);
}

/* ---- deadlock groups ---- */

static int node_add(rctx *c, uint64_t obj, uint32_t *id) {
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
static int find_groups(rctx *c) {
  gr_reach *r = c->r;
  c->ph = PH_GROUP;
  uint32_t *lg = malloc((r->n + 1) * sizeof *lg); /* node id -> snapshot index */
  int rc = lg ? 0 : se_set(SE_NOMEM, "out of memory for the deadlock search");
  size_t nl = 0;
  for (size_t i = 0; i < r->n && !rc; i++) { /* nodes 0 .. nl-1: the leaked goroutines */
    if (r->verdict[i] != GR_LEAK_LEAKED && r->verdict[i] != GR_LEAK_IDLE_MAIN) continue;
    uint32_t id;
    lg[nl++] = (uint32_t)i;
    rc = node_add(c, 0, &id);
  }
  for (size_t k = 0; k < nl && !rc; k++) rc = scan_stack(c, &c->s->gs[lg[k]], (uint32_t)k);
  if (!rc) rc = drain(c);
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
  if (!rc) rc = index_heap(&c);
  if (!rc) rc = read_alloc_bits(&c);
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
  for (size_t i = 0; i < nwoken && !rc; i++) wake(&c, woken[i]);
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
  if (r->nleaked) rc = find_groups(&c);
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
