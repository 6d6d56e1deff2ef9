/* unwind.h: one goroutine's stack, unwound with the pclntab's SP-delta
 * table over a copy of its stack bytes.
 *
 * Pure: it reads only the bytes it is given, so the target may already be
 * running again, and a corrupt stack ends the walk with a reason instead of a
 * wild read. Mirrors runtime/traceback.go: unwinder.initAt, resolveInternal
 * and next, for amd64 (no link register). */
#ifndef SONDE_GORUNTIME_UNWIND_H
#define SONDE_GORUNTIME_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "base/u64map.h"
#include "goruntime/pclntab.h"

enum {
  GR_FRAME_TRAP = 1, /* symbolize at pc, not pc-1 (interrupted or injected call) */
};

typedef struct {
  uint64_t pc;
  uint32_t flags;
} gr_rawframe;

typedef enum {
  GR_UNWIND_COMPLETE,   /* reached a TopFrame function (goexit) or lr == 0 */
  GR_UNWIND_TRUNCATED,  /* hit the frame limit */
  GR_UNWIND_SPWRITE,    /* a function that rewrites SP: cannot go further */
  GR_UNWIND_UNKNOWN_PC, /* a pc outside Go text */
  GR_UNWIND_BAD_STACK,  /* a return address outside the copied stack */
  GR_UNWIND_STUCK,      /* the next frame equals this one */
} gr_unwind_end;

typedef struct {
  const uint8_t *bytes; /* copy of the stack from `base` */
  uint64_t base;        /* address of bytes[0] */
  size_t len;
} gr_stackcopy;

/* `trap` of gr_unwind_sp, with GR_UNWIND_TRAP: walk on past an innermost
 * function that writes SP (runtime.systemstack, mcall, morestack) with its
 * SP delta, as if it did not. Go's traceback stops there; the leak
 * analysis must not, because the frames below are in use: a thread on g0
 * inside systemstack's already-on-g0 check (no SP written yet) has its
 * caller's frames above it (issue 23: runOneTimer's timer and closure).
 * After an SP write the walk reads what lies above the new SP, which can
 * only mark more (reach_stack.c). */
enum { GR_UNWIND_TRAP = 1, GR_UNWIND_PAST_SPWRITE = 2 };

/* Unwinds from (pc, sp); `trap` (GR_UNWIND_TRAP, or 1) says the first pc
 * was interrupted rather than a return address. Writes at most max frames; returns the count.
 * `cache` (may be NULL) remembers what each pc's function says (SP delta,
 * flags, FuncID): goroutines share a few hundred pcs, so a snapshot of
 * 100,000 stacks decodes each table once instead of 100,000 times. */
size_t gr_unwind(const pcln_table *t, u64map *cache, const gr_stackcopy *stk, uint64_t pc, uint64_t sp, int trap,
                 gr_rawframe *out, size_t max, gr_unwind_end *end);
/* The same, also writing each frame's sp to sps[i] (and, past the last
 * frame, where the next would start to sps[n] when the walk could go on:
 * sps has room for max + 1). */
size_t gr_unwind_sp(const pcln_table *t, u64map *cache, const gr_stackcopy *stk, uint64_t pc, uint64_t sp, int trap,
                    gr_rawframe *out, uint64_t *sps, size_t max, gr_unwind_end *end);

const char *gr_unwind_end_str(gr_unwind_end e);

#endif
