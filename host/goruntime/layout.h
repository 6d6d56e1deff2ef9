/* layout.h: where the fields of the Go runtime's structs are.
 *
 * Callers name fields (GR_OFF(L, G_GOID)), never offsets. The list below is
 * the contract between sonde and the Go runtime: every field sonde reads,
 * with the size and type it must have. A source (DWARF today; per-version
 * tables for stripped binaries later) fills a gr_layout, and gr_layout_check
 * verifies it against the contract, so a Go release that moves, resizes or
 * drops a field is caught before anything is read. */
#ifndef SONDE_GORUNTIME_LAYOUT_H
#define SONDE_GORUNTIME_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include <stdio.h>

#include "goruntime/elfimage.h"

enum { LF_REQ = 0, LF_OPT = 1 };

/* Alternatives ('|') in a struct name or a field path are tried in turn:
 * the runtime renames a few structs and fields across versions. */
#define GR_TYPE_STRUCT "internal/abi.Type|runtime._type"
/* A contract size for an aggregate whose size changes across versions (an
 * array of a struct that grows): any size passes. */
#define GR_ANY_SIZE UINT64_MAX
/* One pprof label {key, value string}: runtime/pprof.label until Go 1.25,
 * internal/runtime/pprof/label.Label from 1.26 */
#define GR_LABEL_STRUCT "runtime/pprof.label|internal/runtime/pprof/label.Label"

/* X(id, struct, field path, size (0: an unsigned integer whose width changed
 * across Go versions, 1, 2, 4 or 8 bytes, read at the width found), accepted type names
 * A struct named "@runtime.x" means the (unnamed) type of variable runtime.x; a struct of
 * another package the runtime shares memory with (sync.Cond, runtime/pprof.labelMap) is
 * named as DWARF names it, and is optional: only programs that use it have it. ('|'-separated;
 * matched on the name's end, so a package move inside the runtime is fine),
 * LF_REQ or LF_OPT with the versions that have it) */
#define GR_LAYOUT_FIELDS(X)                                                                    \
  X(G_STACK_LO, "runtime.g", "stack.lo", 8, "uintptr", LF_REQ)                                 \
  X(G_STACK_HI, "runtime.g", "stack.hi", 8, "uintptr", LF_REQ)                                 \
  X(G_STACKGUARD0, "runtime.g", "stackguard0", 8, "uintptr", LF_REQ)                           \
  X(G_M, "runtime.g", "m", 8, "*runtime.m", LF_REQ)                                            \
  X(G_SCHED_SP, "runtime.g", "sched.sp", 8, "uintptr", LF_REQ)                                 \
  X(G_SCHED_PC, "runtime.g", "sched.pc", 8, "uintptr", LF_REQ)                                 \
  X(G_SCHED_BP, "runtime.g", "sched.bp", 8, "uintptr", LF_REQ)                                 \
  X(G_SYSCALLSP, "runtime.g", "syscallsp", 8, "uintptr", LF_REQ)                               \
  X(G_SYSCALLPC, "runtime.g", "syscallpc", 8, "uintptr", LF_REQ)                               \
  X(G_ATOMICSTATUS, "runtime.g", "atomicstatus", 4, "uint32|atomic.Uint32", LF_REQ)            \
  X(G_GOID, "runtime.g", "goid", 8, "uint64|int64", LF_REQ)                                    \
  X(G_WAITSINCE, "runtime.g", "waitsince", 8, "int64", LF_REQ)                                 \
  X(G_WAITREASON, "runtime.g", "waitreason", 1, "runtime.waitReason", LF_REQ)                  \
  X(G_LOCKEDM, "runtime.g", "lockedm", 8, "runtime.muintptr", LF_REQ)                          \
  X(G_PARENTGOID, "runtime.g", "parentGoid", 8, "uint64", LF_OPT /* 1.21+ */)                  \
  X(G_GOPC, "runtime.g", "gopc", 8, "uintptr", LF_REQ)                                         \
  X(G_STARTPC, "runtime.g", "startpc", 8, "uintptr", LF_REQ)                                   \
  X(G_RUNNINGCLEANUPS, "runtime.g", "runningCleanups", 1, "atomic.Bool", LF_OPT /* 1.25+ */)   \
  X(G_LABELS, "runtime.g", "labels", 8, "unsafe.Pointer", LF_REQ)                              \
  /* what g.labels points at (goroutines.c), 1.24+: a runtime/pprof.labelMap, \
   * its first field a slice of {key, value string}; the element is         \
   * internal/runtime/pprof/label.Label from 1.26. Only in programs that     \
   * import runtime/pprof */                                                 \
  X(LBL_LIST, "runtime/pprof.labelMap", "LabelSet.list|Set.List", 24,                          \
    "[]runtime/pprof.label|[]internal/runtime/pprof/label.Label", LF_OPT /* 1.24+ */)          \
  X(LBL_KEY, GR_LABEL_STRUCT, "key|Key", 16, "string", LF_OPT)                                 \
  X(LBL_VALUE, GR_LABEL_STRUCT, "value|Value", 16, "string", LF_OPT)                           \
  X(G_WAITING, "runtime.g", "waiting", 8, "*runtime.sudog", LF_OPT)                            \
  X(M_PROCID, "runtime.m", "procid", 8, "uint64", LF_REQ)                                      \
  X(M_CURG, "runtime.m", "curg", 8, "*runtime.g", LF_REQ)                                      \
  X(M_VDSOSP, "runtime.m", "vdsoSP", 8, "uintptr", LF_REQ)                                     \
  X(M_VDSOPC, "runtime.m", "vdsoPC", 8, "uintptr", LF_REQ)                                     \
  X(MD_PCHEADER, "runtime.moduledata", "pcHeader", 8, "*runtime.pcHeader", LF_REQ)             \
  X(MD_FUNCNAMETAB, "runtime.moduledata", "funcnametab", 24, "[]uint8", LF_REQ)                \
  X(MD_TEXT, "runtime.moduledata", "text", 8, "uintptr", LF_REQ)                               \
  X(MD_MINPC, "runtime.moduledata", "minpc", 8, "uintptr", LF_REQ)                             \
  X(MD_MAXPC, "runtime.moduledata", "maxpc", 8, "uintptr", LF_REQ)                             \
  X(MD_GOFUNC, "runtime.moduledata", "gofunc", 8, "uintptr", LF_REQ)                           \
  X(MD_NEXT, "runtime.moduledata", "next", 8, "*runtime.moduledata", LF_REQ)                   \
  X(MD_TYPES, "runtime.moduledata", "types", 8, "uintptr", LF_OPT)                             \
  X(MD_ETYPES, "runtime.moduledata", "etypes", 8, "uintptr", LF_OPT)                           \
  X(DBG_TRACEBACKLABELS, "@runtime.debug", "tracebacklabels", 4, "atomic.Int32", LF_OPT /* 1.26+ */)  \
  /* the heap (heap.c). Optional here: a Go release that moves one breaks  \
   * the heap model, which names the field, never the goroutine view */    \
  X(MH_ALLSPANS, "runtime.mheap", "allspans", 24, "[]*runtime.mspan", LF_OPT)                  \
  X(MH_SWEEPGEN, "runtime.mheap", "sweepgen", 4, "uint32", LF_OPT)                             \
  X(MH_ALLARENAS, "runtime.mheap", "heapArenas|allArenas", 24, "[]runtime.arenaIdx", LF_OPT /* renamed in 1.25 */) \
  X(MS_STARTADDR, "runtime.mspan", "startAddr", 8, "uintptr", LF_OPT)                          \
  X(MS_NPAGES, "runtime.mspan", "npages", 8, "uintptr", LF_OPT)                                \
  X(MS_FREEINDEX, "runtime.mspan", "freeindex", 0, "uintptr|uint16", LF_OPT /* 2 bytes 1.22+ */) \
  X(MS_NELEMS, "runtime.mspan", "nelems", 0, "uintptr|uint16", LF_OPT /* 2 bytes 1.22+ */)     \
  X(MS_ALLOCBITS, "runtime.mspan", "allocBits", 8, "*runtime.gcBits", LF_OPT)                  \
  X(MS_SWEEPGEN, "runtime.mspan", "sweepgen", 4, "uint32", LF_OPT)                             \
  X(MS_ALLOCCOUNT, "runtime.mspan", "allocCount", 2, "uint16", LF_OPT)                         \
  X(MS_SPANCLASS, "runtime.mspan", "spanclass", 1, "runtime.spanClass", LF_OPT)                \
  X(MS_STATE, "runtime.mspan", "state", 1, "runtime.mSpanStateBox", LF_OPT)                    \
  X(MS_ELEMSIZE, "runtime.mspan", "elemsize", 8, "uintptr", LF_OPT)                            \
  X(MS_LARGETYPE, "runtime.mspan", "largeType", 8, "*runtime._type|abi.Type", LF_OPT /* 1.22+ */) \
  X(MST_NUMGC, "runtime.mstats", "numgc", 4, "uint32", LF_OPT)                                 \
  X(MST_LAST_GC_UNIX, "runtime.mstats", "last_gc_unix", 8, "uint64", LF_OPT)                   \
  /* the runtime's own heap accounting: heapStats.stats[3], summed (mstats.go, \
   * consistentHeapStats.unsafeRead) */                                        \
  X(MST_HEAPSTATS, "runtime.mstats", "heapStats.stats", GR_ANY_SIZE, "[3]runtime.heapStatsDelta", LF_OPT) \
  X(HSD_INHEAP, "runtime.heapStatsDelta", "inHeap", 8, "int64", LF_OPT)                        \
  X(HSD_INSTACKS, "runtime.heapStatsDelta", "inStacks", 8, "int64", LF_OPT)                    \
  X(HSD_INWORKBUFS, "runtime.heapStatsDelta", "inWorkBufs", 8, "int64", LF_OPT)                \
  X(HSD_LARGEALLOC, "runtime.heapStatsDelta", "largeAlloc", 8, "uint64|uintptr", LF_OPT)       \
  X(HSD_LARGEALLOCCOUNT, "runtime.heapStatsDelta", "largeAllocCount", 8, "uint64|uintptr", LF_OPT) \
  X(HSD_SMALLALLOCCOUNT, "runtime.heapStatsDelta", "smallAllocCount", 544, "[68]uint64|[68]uintptr", LF_OPT) \
  X(HSD_LARGEFREE, "runtime.heapStatsDelta", "largeFree", 8, "uint64|uintptr", LF_OPT)         \
  X(HSD_LARGEFREECOUNT, "runtime.heapStatsDelta", "largeFreeCount", 8, "uint64|uintptr", LF_OPT) \
  X(HSD_SMALLFREECOUNT, "runtime.heapStatsDelta", "smallFreeCount", 544, "[68]uint64|[68]uintptr", LF_OPT) \
  X(MS_ALLOCCOUNTBEFORECACHE, "runtime.mspan", "allocCountBeforeCache", 2, "uint16", LF_OPT)    \
  X(MS_FREEINDEXFORSCAN, "runtime.mspan", "freeIndexForScan", 0, "uintptr|uint16", LF_OPT /* 1.20+ */) \
  /* objects with finalizers, cleanups, weak handles (reach.c: roots) */   \
  X(MS_SPECIALS, "runtime.mspan", "specials", 8, "*runtime.special", LF_OPT)                  \
  X(SP_NEXT, "runtime.special", "next", 8, "*runtime.special", LF_OPT)                         \
  X(SP_OFFSET, "runtime.special", "offset", 0, "uint16|uintptr", LF_OPT /* 8 bytes 1.24+ */)     \
  /* what a goroutine waits on (waits.c): its sudogs and their channels.   \
   * sudog.c is a maybeTraceableChan in 1.26+: the address is its vu */    \
  X(SG_WAITLINK, "runtime.sudog", "waitlink", 8, "*runtime.sudog", LF_OPT)                     \
  X(SG_ISSELECT, "runtime.sudog", "isSelect", 1, "bool", LF_OPT)                               \
  X(SG_C, "runtime.sudog", "c.maybeTraceablePtr.vu|c", 8, "uintptr|*runtime.hchan", LF_OPT)                      \
  X(SG_NEXT, "runtime.sudog", "next", 8, "*runtime.sudog", LF_OPT)                             \
  X(SG_PREV, "runtime.sudog", "prev", 8, "*runtime.sudog", LF_OPT)                             \
  X(SG_G, "runtime.sudog", "g", 8, "*runtime.g", LF_OPT)                                       \
  X(SG_ELEM, "runtime.sudog", "elem.vu|elem", 8, "uintptr|unsafe.Pointer", LF_OPT)             \
  X(SR_TREAP, "runtime.semaRoot", "treap", 8, "*runtime.sudog", LF_OPT)                        \
  /* sync.Cond waiters (waits.c): runtime/sema.go notifyList, which        \
   * sync.Cond's notify field is (sync/cond.go). Both types exist only in  \
   * programs that use sync.Cond */                                        \
  X(NL_HEAD, "runtime.notifyList", "head", 8, "*runtime.sudog", LF_OPT)                        \
  X(COND_NOTIFY, "sync.Cond", "notify", GR_ANY_SIZE, "sync.notifyList", LF_OPT)                \
  X(HC_QCOUNT, "runtime.hchan", "qcount", 8, "uint", LF_OPT)                                   \
  X(HC_DATAQSIZ, "runtime.hchan", "dataqsiz", 8, "uint", LF_OPT)                               \
  X(HC_CLOSED, "runtime.hchan", "closed", 4, "uint32", LF_OPT)                                 \
  X(HC_ELEMTYPE, "runtime.hchan", "elemtype", 8, "*runtime._type|abi.Type", LF_OPT)            \
  X(HC_RECVQ, "runtime.hchan", "recvq.first", 8, "*runtime.sudog", LF_OPT)                     \
  X(HC_SENDQ, "runtime.hchan", "sendq.first", 8, "*runtime.sudog", LF_OPT)                     \
  /* type descriptors (heap.c names objects' types): runtime._type until  \
   * Go 1.20, internal/abi.Type from 1.21, the same fields renamed */      \
  X(TY_SIZE, GR_TYPE_STRUCT, "Size_|size", 8, "uintptr", LF_OPT)                                \
  X(TY_PTRBYTES, GR_TYPE_STRUCT, "PtrBytes|ptrdata", 8, "uintptr", LF_OPT)                      \
  X(TY_TFLAG, GR_TYPE_STRUCT, "TFlag|tflag", 1, "abi.TFlag|runtime.tflag", LF_OPT)              \
  X(TY_STR, GR_TYPE_STRUCT, "Str|str", 4, "abi.NameOff|runtime.nameOff", LF_OPT)

/* X(id, struct, LF_REQ or LF_OPT) : struct sizes sonde needs. An optional
 * size may be unknown (0): its struct is not in every program */
#define GR_LAYOUT_SIZES(X)  \
  X(SZ_G, "runtime.g", LF_REQ)      \
  X(SZ_M, "runtime.m", LF_REQ)      \
  X(SZ_MODULEDATA, "runtime.moduledata", LF_REQ) \
  X(SZ_MSPAN, "runtime.mspan", LF_REQ)  \
  X(SZ_TYPE, GR_TYPE_STRUCT, LF_REQ) \
  X(SZ_HEAPSTATSDELTA, "runtime.heapStatsDelta", LF_REQ) \
  X(SZ_SUDOG, "runtime.sudog", LF_REQ) \
  X(SZ_HCHAN, "runtime.hchan", LF_REQ) \
  X(SZ_SEMTABLE, "@runtime.semtable", LF_REQ) \
  X(SZ_LABEL, GR_LABEL_STRUCT, LF_OPT)

typedef enum {
#define GR_FIELD_ENUM_(id, st, path, size, types, flags) GRL_##id,
  GR_LAYOUT_FIELDS(GR_FIELD_ENUM_)
#undef GR_FIELD_ENUM_
  GRL_COUNT_
} gr_field;

typedef enum {
#define GR_SIZE_ENUM_(id, st, flags) GRL_##id,
  GR_LAYOUT_SIZES(GR_SIZE_ENUM_)
#undef GR_SIZE_ENUM_
  GRL_SIZE_COUNT_
} gr_size;

typedef struct {
  int64_t off[GRL_COUNT_];       /* -1: absent */
  uint64_t fsize[GRL_COUNT_];    /* byte size of the field's type as found */
  char ftype[GRL_COUNT_][64];    /* type name as found */
  uint64_t size[GRL_SIZE_COUNT_];
  const char *source;            /* "DWARF", ... */
} gr_layout;

#define GR_OFF(L, id) ((L)->off[GRL_##id])
/* A field's size as found matches the contract's (size 0: 1, 2, 4 or 8). */
bool gr_layout_size_ok(gr_field f, uint64_t found);
#define GR_HAS(L, id) ((L)->off[GRL_##id] >= 0)
#define GR_SIZE(L, id) ((L)->size[GRL_##id])

typedef struct {
  const char *st, *path, *types;
  uint64_t size;
  int flags;
} gr_field_spec;

const gr_field_spec *gr_layout_spec(gr_field f);
const char *gr_layout_size_struct(gr_size s);
/* LF_REQ or LF_OPT: whether the size of s may be unknown */
int gr_layout_size_flags(gr_size s);
void gr_layout_init(gr_layout *L);

/* Every required field present, every present field of the expected size
 * and type. The message names each violation. */
int gr_layout_check(const gr_layout *L);

/* The DWARF source (layout_dwarf.c). SE_NOTGO when the binary has no DWARF. */
int gr_layout_from_dwarf(const gr_image *img, gr_layout *out);

/* The table source (layout_table.c): index/layouts/go1.NN.yaml for Go 1.minor. */
int gr_layout_from_table(const char *path, int minor, gr_layout *out);
/* Writes L as such a table. */
int gr_layout_emit_yaml(const gr_layout *L, const char *go_version, int minor, FILE *f);

#endif
