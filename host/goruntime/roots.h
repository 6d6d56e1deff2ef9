/* roots.h: what the leak analysis (reach.c) must treat as able to run
 * because sonde stops the process at any instruction, not at the safe
 * points of the runtime's stop-the-world (issue 23).
 *
 * The runtime's own detector (mgc.go findGoroutineLeaks) decides during a
 * stop-the-world GC: every goroutine is at a safe point, no waker is
 * halfway through readying a waiter, no M is running scheduler or timer code
 * on its g0 stack. sonde's ptrace stop catches all of these in flight. */
#ifndef SONDE_GORUNTIME_ROOTS_H
#define SONDE_GORUNTIME_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "goruntime/goroutines.h"
#include "goruntime/runtime.h"
#include "goruntime/waits.h"
#include "target/ptrace.h"

typedef enum {
  GR_PARK_PARKED = 0,   /* every sudog still on its queue: judged by reachability */
  GR_PARK_WAKING = 1,   /* a sudog is off its queue: a waker dequeued it and
                           is readying the goroutine; it will run */
  GR_PARK_UNDECIDED = 2 /* a queue could not be read whole: sonde cannot tell */
} gr_park_state;

/* Where a parked goroutine is, from its waits (waits.h queued). */
gr_park_state gr_roots_park_state(const gr_chanwait *cases, uint32_t n);

typedef struct {
  int32_t tid;
  uint64_t pc, sp; /* where the thread is: on a goroutine's stack, or on its
                      M's g0 or signal stack running runtime code */
} gr_thread_at;

typedef struct {
  uint64_t *words; /* every thread's registers, word by word: what running code holds */
  size_t nwords;
  gr_thread_at *at; /* each thread whose registers were read */
  size_t nat;
} gr_thread_roots;

/* The threads' registers, word by word: what running code holds (a
 * thread whose registers cannot be read is skipped), and where each thread
 * is. Every register of every thread counts, of a thread stopped in a
 * system call too: counting only its call's arguments (Go's ABI keeps
 * nothing in a register across a call) brought false reports
 * (docs/goroutine-graph.md). A thread off every goroutine's stack is
 * running the runtime on its g0 or signal stack (the scheduler, timers, a
 * system-stack call): reach_stack.c reads the frames in use there, from its
 * sp up, through the stack maps, and not what lies past them: word by word,
 * the unused part of g0 and signal stacks holds stale pointers that hid
 * real leaks (tests/goroutine-graph leaks tests). Free with gr_roots_free.
 * 0 or SE_NOMEM. */
int gr_roots_threads(tgt_session *sess, gr_thread_roots *out);
void gr_roots_free(gr_thread_roots *r);

#endif
