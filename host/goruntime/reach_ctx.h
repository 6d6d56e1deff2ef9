/* reach_ctx.h: what the parts of the leak analysis share (reach.h): the
 * analysis context, the heap index's lookups and the functions one part
 * calls in another. Internal to host/goruntime/reach*.c.
 *   reach.c         the parked goroutines, the roots, the verdict
 *   reach_mark.c    the heap index and the mark work list
 *   reach_stack.c   stacks and thread frames, through the stack maps
 *   reach_groups.c  the deadlock groups among leaked goroutines */
#ifndef SONDE_GORUNTIME_REACH_CTX_H
#define SONDE_GORUNTIME_REACH_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/u64map.h"
#include "goruntime/reach.h"
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

/* reach_mark.c */
int reach_index_heap(rctx *c);
int reach_read_alloc_bits(rctx *c);
int reach_push(rctx *c, uint64_t addr, uint64_t len, uint32_t src, bool obj);
int reach_push_obj(rctx *c, uint32_t si, uint64_t obj, uint32_t src);
/* Marks the object v points into, if any: in the mark phase it wakes the
 * goroutines parked on it and queues its scan; in the group phase it adds
 * an edge from node src. */
int reach_mark(rctx *c, uint64_t v, uint32_t src);
/* Scans until the work list is empty. */
int reach_drain(rctx *c);
/* reach_stack.c */
int reach_scan_stack(rctx *c, const gr_goroutine *g, uint32_t src);
int reach_scan_thread(rctx *c, const gr_thread_at *t);
/* reach.c */
void reach_wake(rctx *c, uint32_t gi);
/* reach_groups.c */
int reach_node_add(rctx *c, uint64_t obj, uint32_t *id);
int reach_find_groups(rctx *c);

#endif
