/* reach.h: which blocked goroutines can never be woken (issue 8).
 *
 * The criterion of the runtime's own leak detector (Go 1.26+: mgc.go
 * findGoroutineLeaks, isMaybeRunnable), computed from outside in the stop
 * that read the goroutines, their waits and the heap, with no help from the
 * target. A goroutine parked on a channel, a select, a nil channel,
 * select{}, or a sync primitive (Mutex, RWMutex, WaitGroup, Cond; older Go's
 * plain semaphores) is leaked when no goroutine that can still run can reach
 * that primitive:
 *  - roots: the binary's writable data (.data, .bss), every thread's
 *    registers, the stacks of the goroutines not parked on a primitive
 *    (running, runnable, in a system call, asleep, in network I/O, ...),
 *    and what objects with finalizers, cleanups or weak handles hold;
 *  - stacks are read precisely, frame by frame through the compiler's stack
 *    maps (the live pointer slots only), as the runtime's GC reads them; a
 *    frame without usable maps, an interrupted frame, and what lies past the
 *    last frame unwound are read word by word;
 *  - marking follows every aligned word of a heap object that points into an
 *    allocated object of an in-use heap span (conservative: an integer that
 *    looks like a pointer keeps more alive, never less), except the words of
 *    a parked goroutine's own sudogs that name its primitive (the runtime
 *    hides those too: setSyncObjectsUntraceable) and a g's stack bounds;
 *  - sonde stops at any instruction, not at a safe point (roots.h): a
 *    parked goroutine a waker has already taken off its wait queue is a
 *    root, one whose queue cannot be read is undecided (never leaked);
 *  - a parked goroutine whose primitive gets marked, or lies outside the heap
 *    (a global), may be woken: its stack becomes a root, to a fixed point.
 * What is left is leaked. When a root cannot be read whole, nothing is
 * called leaked: a goroutine that could still be woken is never reported.
 * Deadlock groups: the leaked goroutines that only each other could wake,
 * the strongly connected components of "G reaches (through memory no root
 * reaches) a primitive G' waits on". */
#ifndef SONDE_GORUNTIME_REACH_H
#define SONDE_GORUNTIME_REACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "goruntime/goroutines.h"
#include "goruntime/heap.h"
#include "goruntime/runtime.h"
#include "goruntime/waits.h"
#include "target/ptrace.h"

typedef enum {
  GR_LEAK_RUNS = 0,    /* not parked on a primitive: a root */
  GR_LEAK_WOKEN = 1,   /* parked on a primitive that a root reaches */
  GR_LEAK_UNKNOWN = 2, /* parked on a primitive sonde could not identify:
                          counted as able to run */
  GR_LEAK_LEAKED = 3,  /* parked for good */
  GR_LEAK_IDLE_MAIN = 4 /* goroutine 1 in select{}: parked for good by design,
                           not reported (as the runtime does) */
} gr_leak_verdict;

typedef struct {
  arena a;
  size_t n;              /* goroutines of the snapshot */
  uint8_t *verdict;      /* per goroutine: gr_leak_verdict */
  uint32_t *group;       /* per goroutine: its deadlock group, 1-based; 0 none */
  size_t ngroups;
  /* per goroutine, leaked ones only: the primitives (their wait addresses,
   * as gr_chanwait names them) of other leaked goroutines it reaches */
  uint64_t **reaches;
  uint32_t *nreaches;
  size_t nparked, nleaked, nunknown;
  size_t nwaking;    /* parked, but off their wait queue: being woken (roots.h) */
  size_t nundecided; /* parked, but their queue could not be read whole: not
                        called leaked (counted apart from nunknown) */
  bool complete;          /* every root was read: verdicts stand */
  bool groups_complete;   /* the group search stayed within its budget */
  char incomplete[256];   /* why not, when !complete */
  uint64_t objects_marked, bytes_scanned, root_bytes;
} gr_reach;

/* The verdicts, in the stop that read s, w and h (the same stop; h need not
 * be settled). s must include the runtime's own goroutines (they are roots
 * too). sess gives the threads' registers. */
int gr_reach_take(gr_program *p, tgt_session *sess, const gr_snapshot *s, const gr_waits *w, const gr_heap *h,
                  gr_reach *out);
void gr_reach_free(gr_reach *r);
/* The cycles of a graph of n nodes (node v's successors are
 * adj[off[v] .. off[v+1])): its strongly connected components of two nodes
 * or more, numbered from 1 into cycle[v] (0: in none), *ncycles of them.
 * Pure; iterative, for graphs of any depth. 0 or SE_NOMEM. */
int gr_reach_cycles(const uint32_t *off, const uint32_t *adj, size_t n, uint32_t *cycle, size_t *ncycles);

#endif
