/* trace.h: staying attached: software breakpoints and the event loop of a
 * running, traced process.
 *
 * A breakpoint is an int3 byte written over the first byte of an
 * instruction, through /proc/PID/mem (which may write read-only text, and
 * works while threads run). The loop is all-stop: a thread that hits a
 * breakpoint is reported alone; the caller stops every other thread
 * (tgt_trace_stop_all) before anything that needs a still process, and on
 * resume the hitting thread steps over the original instruction alone
 * before the int3 goes back in. A hit that needs nothing (a condition that
 * does not match) is passed with tgt_trace_pass, without stopping anyone
 * else where the instruction can be emulated. Signals the target receives (Go's SIGURG, SIGPROF, SIGPIPE, ...)
 * are handed straight back without stopping anyone.
 *
 * The one thing to know: the original bytes are kept in a static table, so
 * tgt_bp_emergency_remove (async-signal-safe) can take every breakpoint out
 * from a crash handler. sonde never leaves an int3 behind. */
#ifndef SONDE_TARGET_TRACE_H
#define SONDE_TARGET_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "target/ptrace.h"

enum { TGT_MAX_BREAKPOINTS = 256 };

/* Opens /proc/PID/mem for writing; call once after tgt_attach. */
int tgt_bp_open(pid_t pid);
/* Inserts an int3 at addr (idempotent). */
int tgt_bp_insert(uint64_t addr);
/* Restores the original byte at addr. */
int tgt_bp_remove(uint64_t addr);
bool tgt_bp_is(uint64_t addr);
/* Whether addr holds, or held, a breakpoint this run (async-signal-safe). */
bool tgt_bp_was(uint64_t addr);
size_t tgt_bp_count(void);
/* Removes every breakpoint and closes the file. */
int tgt_bp_remove_all(void);
/* The process is gone: drops the table without writing. */
void tgt_bp_forget(void);
/* The same from a signal handler: restores the bytes, nothing else. */
void tgt_bp_emergency_remove(void);

typedef enum {
  TGT_EV_BREAKPOINT, /* thread `tid` hit the breakpoint at `addr`; only it is stopped */
  TGT_EV_EXITED,     /* the process exited (status) or was killed (signal) */
  TGT_EV_EXEC,       /* the process called exec: its breakpoints are gone with its image */
  TGT_EV_INTERRUPTED /* tgt_trace_wait returned because *stop became true */
} tgt_event_kind;

typedef struct {
  tgt_event_kind kind;
  pid_t tid;
  uint64_t addr;
  struct user_regs_struct regs; /* the hitting thread's, rip at addr */
  int exit_status, exit_signal;
  uint64_t signals_passed; /* signals handed back to the target meanwhile */
} tgt_event;

/* Lets every stopped thread run (with the signal it was stopped for). */
int tgt_trace_resume(tgt_session *s);
/* Waits for the next event that needs sonde; handles clone, thread exit and
 * signals itself. Returns early with TGT_EV_INTERRUPTED when *stop is set
 * (by a signal handler: waitpid is interrupted, the handler must be
 * installed without SA_RESTART). */
int tgt_trace_wait(tgt_session *s, volatile int *stop, tgt_event *ev);
/* A word of the target's memory the caller has just read (known->addr 0:
 * none): emulation uses it instead of reading it again. */
typedef struct {
  uint64_t addr, value;
} tgt_word;

/* Lets thread tid, stopped at the breakpoint addr with registers regs, go
 * on past it, the breakpoint staying in. Where the instruction is one sonde
 * emulates (a Go function's stack check), only tid is touched: no other
 * thread stops and none can run past the breakpoint unseen. Otherwise every
 * thread is stopped while tid steps, and *stopped_all says so. */
int tgt_trace_pass(tgt_session *s, pid_t tid, uint64_t addr, const struct user_regs_struct *regs,
                   const tgt_word *known, bool *stopped_all);
/* Stops every thread (all-stop); a thread that hits a breakpoint meanwhile is
 * rewound to hit it again later. */
int tgt_trace_stop_all(tgt_session *s);
/* Before detaching: stops every thread, consumes any int3 trap still queued
 * on one, and takes every breakpoint out. The caller then detaches. */
int tgt_trace_release(tgt_session *s);
/* Moves thread tid past the original instruction at the breakpoint addr:
 * by emulation where it can, else by stepping it alone with the int3 out
 * and putting the int3 back. Every thread must be stopped. */
int tgt_trace_step_over(tgt_session *s, pid_t tid, uint64_t addr);

#endif
