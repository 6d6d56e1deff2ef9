/* heap.h: the Go heap as the runtime sees it, read from a stopped process.
 *
 * The spans of runtime.mheap_.allspans, each with its span class, element
 * size, object slots and allocated objects. The one thing to know: a span's
 * allocCount is exact for spans swept since the last GC (the runtime counts
 * each allocation and recounts the live objects when it sweeps); a span not
 * swept yet still counts the objects that GC found dead. gr_heap says how
 * many spans are in that state, so a reader can say how exact it is.
 * Mirrors runtime/mheap.go (mspan, mheap) and runtime/mgcsweep.go. */
#ifndef SONDE_GORUNTIME_HEAP_H
#define SONDE_GORUNTIME_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/u64map.h"
#include "goruntime/runtime.h"

/* runtime.mSpanState */
enum { GR_SPAN_DEAD = 0, GR_SPAN_INUSE = 1, GR_SPAN_MANUAL = 2 };
/* runtime.pageSize, and the number of small size classes (sizeclasses.go:
 * _NumSizeClasses is 68 in every supported version) */
enum { GR_PAGE_SIZE = 8192, GR_NUM_SIZE_CLASSES = 68 };
/* allspans longer than this is corrupt: 16M spans of at least 8 KiB each
 * would be a heap of at least 128 GiB. */
enum { GR_MAX_SPANS = 1 << 24 };
/* Heap arenas on linux/amd64 (malloc.go): 64 MiB each, arena i at
 * i * 64 MiB + arenaBaseOffset (0xffff800000000000, wrapping) */
#define GR_ARENA_BYTES (64ull << 20)
#define GR_ARENA_BASE_OFFSET 0xffff800000000000ull
enum { GR_MAX_ARENAS = 1 << 22 /* 256 TiB of heap */ };
/* Go 1.22+: a small object over this many bytes (heapBitsInSpan) that holds
 * pointers starts with an 8-byte allocation header, its *abi.Type
 * (runtime/mbitmap.go, internal/runtime/gc/malloc.go) */
enum { GR_MIN_SIZE_FOR_HEADER = 512, GR_HEADER_SIZE = 8 };
/* Type names longer than this are cut (with "...") */
enum { GR_MAX_TYPE_NAME = 1024 };

typedef struct {
  uint64_t base;      /* startAddr */
  uint64_t npages;
  uint64_t elemsize;  /* bytes per object; the whole span for a large object */
  uint64_t large_type; /* largeType (Go 1.22+): the object's type, 0 when unknown */
  uint64_t alloc_bits; /* allocBits: which slots the last sweep found live */
  uint32_t freeindex; /* slots below it are allocated (mspan.freeindex) */
  uint32_t nelems;    /* object slots */
  uint32_t nalloc;    /* allocCount: allocated objects */
  uint8_t sizeclass;  /* spanclass >> 1; 0 for a large object */
  bool noscan;        /* spanclass & 1: holds no pointers */
  bool swept;         /* swept since the last GC: nalloc is exact */
  bool cached;        /* held by a P's mcache */
  uint32_t nalloc_at_cache; /* allocCountBeforeCache: what the runtime's counters
                               know of a cached span (the rest is counted when
                               the P gives the span back) */
  uint64_t resident;  /* bytes of it in RAM (gr_heap_read_residency); GR_UNKNOWN before */
  uint64_t specials;  /* its first special record (finalizer, cleanup, weak handle, profile): 0 none */
} gr_span;

#define GR_UNKNOWN UINT64_MAX

/* A type the runtime records for heap objects. */
typedef struct {
  uint64_t addr;    /* its descriptor (*abi.Type) in the target */
  uint64_t size;    /* Size_: bytes of one value */
  const char *name; /* as reflect prints it ("*main.Node", "[]uint8"); NULL
                       when the descriptor lies outside the binary's types
                       (made at run time by reflect, or by the runtime for a
                       GC program) or cannot be read */
} gr_heap_type;

/* Objects of one type in one size class. */
typedef struct {
  uint32_t type;      /* index into gr_heap.types */
  uint8_t sizeclass;  /* 0: large objects */
  bool array;         /* the slot holds 2 or more values: the runtime records
                         the element type of a slice's backing array */
  uint64_t objects;
  uint64_t bytes;     /* their slots: elemsize each, the span for a large one */
} gr_heap_typed;

typedef struct {
  gr_span *spans;       /* spans of the Go heap (mSpanInUse), by address
                           once settled (gr_heap_settle), else allspans order */
  size_t n;
  size_t nallspans;     /* len(mheap_.allspans): every span ever created */
  size_t nmanual;       /* mSpanManual: goroutine stacks and other runtime memory */
  uint64_t manual_bytes;
  size_t nunreadable;   /* spans whose mspan could not be read (skipped) */
  size_t nunswept;      /* in-use spans not swept since the last GC */
  uint32_t sweepgen;    /* mheap_.sweepgen */
  uint64_t *arenas;     /* the base of every mapped heap arena (mheap_.heapArenas, allArenas before Go 1.25), in order */
  size_t narenas;
  /* the runtime's own accounting (runtime.memstats), when sonde finds it */
  bool has_memstats;
  uint32_t numgc;       /* GC cycles completed */
  uint64_t last_gc_unix; /* when the last one ended, ns since 1970 */
  uint64_t resident;    /* bytes of the heap's spans in RAM; GR_UNKNOWN until read */
  /* memstats.heapStats, summed over its three generations as ReadMemStats
   * does (the world is stopped): the runtime's own view, to check sonde's */
  bool has_rtstats;
  int64_t rt_inheap;    /* bytes of in-use heap spans (MemStats.HeapInuse) */
  int64_t rt_instacks, rt_inworkbufs;
  int64_t rt_objects;   /* allocated minus freed, plus what Ps allocated from
                           the spans they cache (counted when they give them
                           back): MemStats.HeapObjects */
  int64_t rt_bytes;     /* the same in bytes: MemStats.HeapAlloc */
  /* types (gr_heap_read_types) */
  bool has_types;       /* the runtime records types: Go 1.22+ */
  gr_heap_type *types;
  size_t ntypes;
  gr_heap_typed *typed; /* by (type, size class, array), most bytes first */
  const char **row_names; /* gr_heap_row_name of each typed row */
  u64map type_index;    /* type descriptor address -> index in types + 1 */
  size_t ntyped;
  uint64_t typed_objects, typed_bytes;
  uint64_t nbadheaders; /* headers that point at no readable type */
  arena names;
} gr_heap;

/* Whether this binary's layout and globals allow reading the heap; an
 * error naming what is missing when not. */
int gr_heap_supported(const gr_program *p);
/* Reads every span. The process must be stopped; p bound to it. */
int gr_heap_take(gr_program *p, gr_heap *out);
void gr_heap_free(gr_heap *h);
/* After gr_heap_take, in the same stop: the type of every object whose
 * type the runtime records (Go 1.22+): the allocation header of small
 * objects over 512 bytes that hold pointers, a large span's largeType.
 * Needs moduledata.types to name them. A no-op (has_types false) before
 * Go 1.22. Reads one word per such object. */
int gr_heap_read_types(gr_program *p, gr_heap *h);
/* How a row's objects read: "T", "[]T" for an array (what the runtime
 * records for a slice's backing array is its element type), or
 * "(type 0x...)" for a type without a name. Into dst, cut to n. */
void gr_heap_row_name(const gr_heap *h, const gr_heap_typed *r, char *dst, size_t n);
/* What every reader of the heap wants in one stop: gr_heap_take, then the
 * types (when `types`). Then, once the process runs again, gr_heap_settle. */
int gr_heap_read(gr_program *p, bool types, gr_heap *out);
/* The type whose descriptor is at addr, NULL when the heap has none there. */
const gr_heap_type *gr_heap_type_at(const gr_heap *h, uint64_t addr);
/* What needs no stop, done after it so that the stop stays short: sorts
 * the spans by address (gr_heap_find needs that) and reads each span's
 * resident bytes and h->resident from /proc/PID/pagemap (present pages;
 * left GR_UNKNOWN, not an error, when pagemap cannot be read). */
void gr_heap_settle(pid_t pid, gr_heap *h);
/* The span that holds addr, or NULL; *obj gets the object's start. */
const gr_span *gr_heap_find(const gr_heap *h, uint64_t addr, uint64_t *obj);
/* Where the name of the type descriptor at addr (its bytes in desc) is:
 * moduledata.types + its Str nameOff. False when the descriptor is not one
 * of the binary's own (made at run time) or the offset leaves the types. */
bool gr_type_name_addr(const gr_program *p, const uint8_t *desc, uint64_t addr, uint64_t *at);
/* Decodes an abi.Name at b (n bytes readable): flags byte, uvarint length,
 * bytes. The name into dst (cut at GR_MAX_TYPE_NAME with "..."), without its
 * leading '*' when extra_star. False when b holds no name. Pure. */
bool gr_heap_decode_name(const uint8_t *b, size_t n, bool extra_star, char *dst, size_t dstn, size_t *need);
/* One mspan's bytes (GR_SIZE(L, SZ_MSPAN) of them) into out, with its
 * mSpanState in *state. False when an in-use span cannot be one: no pages,
 * more pages than 32 GiB, objects that do not fit in it, more allocated than
 * slots, an unknown size class. Pure: bytes in, span out. */
bool gr_heap_parse_span(const gr_layout *L, const uint8_t *b, uint32_t heap_sweepgen, gr_span *out, uint8_t *state);

#endif
