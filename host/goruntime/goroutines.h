/* goroutines.h: a snapshot of every goroutine of a stopped Go process.
 *
 * gr_snapshot_take reads, while the process is stopped, only raw facts:
 * each g's fields and its stack unwound to return PCs. Symbolizing and
 * printing happen after the process runs again (symbolize.c), which keeps
 * the stop short. All snapshot data lives in the snapshot's arena. */
#ifndef SONDE_GORUNTIME_GOROUTINES_H
#define SONDE_GORUNTIME_GOROUTINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "goruntime/runtime.h"
#include "goruntime/unwind.h"
#include "target/ptrace.h"

/* runtime2.go: g.atomicstatus values */
enum {
  GR_GIDLE = 0, GR_GRUNNABLE = 1, GR_GRUNNING = 2, GR_GSYSCALL = 3, GR_GWAITING = 4,
  GR_GDEAD = 6, GR_GCOPYSTACK = 8, GR_GPREEMPTED = 9, GR_GLEAKED = 10, GR_GDEADEXTRA = 11,
  GR_GSCAN = 0x1000,
};

/* A pprof label; Go strings may hold any bytes, so lengths are explicit. */
typedef struct {
  const char *key, *value;
  uint32_t klen, vlen;
} gr_label;

typedef struct {
  uint64_t addr; /* address of the g */
  uint64_t goid, parent_goid;
  uint32_t status; /* without the scan bit */
  bool scan;
  bool system;     /* what runtime.isSystemGoroutine says */
  uint8_t waitreason;
  int64_t waitsince;
  uint64_t gopc, startpc, lockedm, m;
  uint64_t stack_lo, stack_hi; /* g.stack: the stack the goroutine owns now */
  uint64_t sp;       /* where its live stack starts: [sp, stack_hi) holds every
                        frame (stack_lo for a running g whose thread is off
                        its stack, as on a signal stack); 0 when unknown */
  uint64_t pc;       /* where unwinding starts, with sp; 0 when [sp, stack_hi)
                        can only be read word by word */
  bool trap;         /* pc was interrupted (a running g's registers) */
  uint64_t waiting;  /* g.waiting: its sudogs while blocked on channels, 0 otherwise */
  int32_t tid;      /* thread running it (status running), else 0 */
  gr_rawframe *frames;
  uint32_t nframes;
  gr_unwind_end end;
  gr_label *labels; /* pprof labels (Go 1.24+), in the runtime's order */
  uint32_t nlabels;
} gr_goroutine;

typedef struct {
  arena a;
  gr_goroutine *gs;
  size_t n;
  size_t nallgs;      /* len(allgs), dead ones included */
  int64_t nanotime;   /* CLOCK_MONOTONIC at the snapshot, for wait durations */
  uint64_t stack_bytes_read;
  /* The resolved model (symbolize.h: gr_sym_resolve), made once after the
   * stop; freed with the snapshot. NULL until then. */
  void *model;
  void (*model_free)(void *model);
} gr_snapshot;

typedef struct {
  bool include_system;
  bool skip_stacks; /* states only (sonde info) */
} gr_snapshot_opts;

/* Reads all goroutines. `sess` gives thread registers for running ones. */
int gr_snapshot_take(gr_program *p, tgt_session *sess, const gr_snapshot_opts *o, gr_snapshot *out);
/* A snapshot of one goroutine: the g at gaddr, its stack unwound from
 * (pc, sp) as interrupted there (a thread stopped at a breakpoint, running
 * it on thread tid). Only that thread needs to be stopped. */
int gr_snapshot_one(gr_program *p, uint64_t gaddr, int32_t tid, uint64_t pc, uint64_t sp, gr_snapshot *out);
void gr_snapshot_free(gr_snapshot *s);


/* Text of a status as Go prints it in a traceback header ("chan receive",
 * "running", ...), without suffixes. */
const char *gr_status_text(const gr_program *p, const gr_goroutine *g);
const char *gr_status_name(uint32_t status);
/* The wait reason as the target spells it; "" unless waiting (or leaked). */
const char *gr_wait_reason_of(const gr_program *p, const gr_goroutine *g);
/* Whole minutes g has waited, as Go prints ", N minutes"; 0 when not waiting. */
int64_t gr_wait_minutes(const gr_snapshot *s, const gr_goroutine *g);

#endif
