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

#include "goruntime/runtime.h"

/* runtime.mSpanState */
enum { GR_SPAN_DEAD = 0, GR_SPAN_INUSE = 1, GR_SPAN_MANUAL = 2 };
/* runtime.pageSize, and the number of small size classes (sizeclasses.go:
 * _NumSizeClasses is 68 in every supported version) */
enum { GR_PAGE_SIZE = 8192, GR_NUM_SIZE_CLASSES = 68 };
/* allspans longer than this is corrupt: 16M spans of at least 8 KiB each
 * would be a heap of at least 128 GiB. */
enum { GR_MAX_SPANS = 1 << 24 };

typedef struct {
  uint64_t base;      /* startAddr */
  uint64_t npages;
  uint64_t elemsize;  /* bytes per object; the whole span for a large object */
  uint64_t large_type; /* largeType (Go 1.22+): the object's type, 0 when unknown */
  uint32_t nelems;    /* object slots */
  uint32_t nalloc;    /* allocCount: allocated objects */
  uint8_t sizeclass;  /* spanclass >> 1; 0 for a large object */
  bool noscan;        /* spanclass & 1: holds no pointers */
  bool swept;         /* swept since the last GC: nalloc is exact */
} gr_span;

typedef struct {
  gr_span *spans;       /* spans of the Go heap (mSpanInUse), in allspans order */
  size_t n;
  size_t nallspans;     /* len(mheap_.allspans): every span ever created */
  size_t nmanual;       /* mSpanManual: goroutine stacks and other runtime memory */
  uint64_t manual_bytes;
  size_t nunreadable;   /* spans whose mspan could not be read (skipped) */
  size_t nunswept;      /* in-use spans not swept since the last GC */
  uint32_t sweepgen;    /* mheap_.sweepgen */
} gr_heap;

/* Whether this binary's layout and globals allow reading the heap; an
 * error naming what is missing when not. */
int gr_heap_supported(const gr_program *p);
/* Reads every span. The process must be stopped; p bound to it. */
int gr_heap_take(gr_program *p, gr_heap *out);
void gr_heap_free(gr_heap *h);
/* One mspan's bytes (GR_SIZE(L, SZ_MSPAN) of them) into out, with its
 * mSpanState in *state. False when an in-use span cannot be one: no pages,
 * more pages than 32 GiB, objects that do not fit in it, more allocated than
 * slots, an unknown size class. Pure: bytes in, span out. */
bool gr_heap_parse_span(const gr_layout *L, const uint8_t *b, uint32_t heap_sweepgen, gr_span *out, uint8_t *state);

#endif
