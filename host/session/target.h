/* target.h: a process (or an executable not yet running), read in one
 * short stop and let go on every path: what every command that reads a
 * target goes through.
 *
 * Order matters for the target's safety: everything that can be learnt
 * from the executable file is learnt before the process is stopped; the
 * stop covers only the reads; signals that would end sonde wait until the
 * target runs again (signals.h); detach happens on every path. Then the
 * model is resolved (goruntime/symbolize.h) with the target running. */
#ifndef SONDE_SESSION_TARGET_H
#define SONDE_SESSION_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

#include "goruntime/goroutines.h"
#include "goruntime/heap.h"
#include "goruntime/reach.h"
#include "goruntime/runtime.h"
#include "goruntime/waits.h"
#include "target/mem.h"
#include "target/proc.h"
#include "target/ptrace.h"

/* A stopped-and-released view of one process. */
typedef struct {
  pid_t pid;
  tgt_procinfo info;
  gr_program prog;
  tgt_mem mem;
  gr_snapshot snap;
  size_t nthreads;
  double stop_ms, attach_ms; /* how long the target was stopped; how long stopping took */
  bool bound;                /* mem open and prog bound: a later stop reuses both */
  bool all_frames;           /* the model shows runtime frames (--all-frames) */
  double resolve_ms;         /* resolving the model, after the stop */
} ses_target;

/* Opens the program of pid (refusing non-Go targets before any stop), stops
 * it, takes a snapshot, and lets it run again, on every path. */
int ses_snapshot(pid_t pid, const gr_snapshot_opts *o, ses_target *out);
/* The same in two steps: reading the executable (no stop), then the stop. */
int ses_open_target(pid_t pid, ses_target *out);
int ses_capture(ses_target *t, const gr_snapshot_opts *o);
/* The stop with any reader: what runs while the target is stopped and
 * bound (t->prog, t->mem ready), on the same every-path release. */
typedef int (*ses_reader)(ses_target *t, tgt_session *sess, void *payload);
int ses_capture_with(ses_target *t, ses_reader read, void *payload);
/* The reader that reads the heap during the stop (gr_heap_read): payload is
 * a ses_heap_req. gr_heap_settle after the stop, by the caller. */
typedef struct {
  gr_heap *heap;
  bool types;
} ses_heap_req;
int ses_read_heap(ses_target *t, tgt_session *sess, void *req);
/* A reader for ses_capture_with: the goroutines (so), then what else the
 * request names, in one stop: the heap (with types when `types`), what each
 * goroutine waits on, the leak verdicts (which need the other two). */
typedef struct {
  gr_snapshot_opts so;
  gr_snapshot *snap; /* where the goroutines go; NULL: t->snap */
  gr_heap *heap; /* NULL: not read */
  bool types;
  gr_waits *waits;
  gr_reach *reach;
  uint64_t reach_ns; /* out: how long the leak analysis took */
} ses_stop_req;
int ses_read_stop(ses_target *t, tgt_session *sess, void *req);
/* The request for what a plugin command declares it reads (flags:
 * SONDE_CMD_NEEDS_*; LEAKS implies the heap, the waits and the runtime's
 * own goroutines): into heap, waits and reach, the caller's, each left
 * NULL in *out when not needed. Refused (an error, nothing stopped) when
 * this binary's heap or waits cannot be read. */
int ses_stop_req_for(const gr_program *p, uint32_t flags, gr_heap *heap, gr_waits *waits, gr_reach *reach,
                     ses_stop_req *out);
/* An executable not yet running (sonde exec): t->pid stays 0. */
int ses_open_file(const char *path, ses_target *t);
void ses_target_free(ses_target *t);

#endif
