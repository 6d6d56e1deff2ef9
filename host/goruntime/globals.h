/* globals.h: addresses of the runtime's global variables.
 *
 * Callers name globals (GR_GLOBAL_ALLGS), never addresses. Today the source is
 * the ELF symbol table; a binary built with -s has none, and a later source
 * (instruction decoding, docs/go-runtime.md section 3) plugs in here. */
#ifndef SONDE_GORUNTIME_GLOBALS_H
#define SONDE_GORUNTIME_GLOBALS_H

#include <stdint.h>

#include "goruntime/elfimage.h"
#include "goruntime/layout.h"
#include "goruntime/pclntab.h"

/* X(id, symbol, required). allglen/allgptr are the pair the runtime's own
 * lock-free readers use (forEachGRace); they mirror allgs. */
#define GR_GLOBALS(X)                                     \
  X(ALLGLEN, "runtime.allglen", 1)                        \
  X(ALLGPTR, "runtime.allgptr", 1)                        \
  X(ALLGS, "runtime.allgs", 0 /* the slice allglen/allgptr mirror: bounds allglen */) \
  X(FIRSTMODULEDATA, "runtime.firstmoduledata", 1)        \
  X(WAITREASONSTRINGS, "runtime.waitReasonStrings", 1)   \
  X(DEBUG, "runtime.debug", 0 /* GODEBUG settings; read for tracebacklabels */) \
  X(MHEAP, "runtime.mheap_", 0 /* the heap (heap.c) */)                \
  X(MEMSTATS, "runtime.memstats", 0 /* the runtime's heap accounting (heap.c) */) \
  X(SEMTABLE, "runtime.semtable", 0 /* semaphore waiters (waits.c) */)

typedef enum {
#define GR_GLOBAL_ENUM_(id, sym, req) GR_GLOBAL_##id,
  GR_GLOBALS(GR_GLOBAL_ENUM_)
#undef GR_GLOBAL_ENUM_
  GR_GLOBAL_COUNT_
} gr_global;

typedef struct {
  uint64_t addr[GR_GLOBAL_COUNT_]; /* link-time address; 0 when unknown */
  uint64_t size[GR_GLOBAL_COUNT_];
  const char *source;
} gr_globals;

/* Looks every global up in the symbol table; the message names the first
 * required global it could not find. */
int gr_globals_from_symtab(const gr_image *img, gr_globals *out);
const char *gr_global_name(gr_global g);

/* The source for binaries without a symbol table (-ldflags=-s): moduledata
 * from .go.module (1.26+) or a pcHeader-pointer scan; allglen/allgptr from
 * the RIP-relative operands of runtime.forEachGRace; waitReasonStrings from
 * a data pattern; mheap_ (optional) from runtime.gcSweep, checked against
 * runtime.(*mcache).allocLarge; memstats (optional) from
 * runtime.(*mcache).releaseAll; semtable (optional) from runtime.semrelease1. Every candidate is validated; one that fails is an error
 * naming the global, never a guess. (globals_code.c) */
int gr_globals_from_code(const gr_image *img, const pcln_table *t, const gr_layout *L, gr_globals *out);

/* The first `want` RIP-relative memory operands of the code at [code,
 * code+len), which runs at `addr`: their absolute addresses into out.
 * Returns how many it found (0..want), or SE_NOTGO when an instruction
 * cannot be decoded before that. Pure: bytes in, addresses out. */
int gr_decode_rip_operands(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, int want);

#endif
