/* ptrace.h: stopping every thread of a process and letting it go again.
 *
 * tgt_attach seizes every thread (PTRACE_SEIZE + PTRACE_INTERRUPT, with
 * PTRACE_O_TRACECLONE so threads born during the attach are caught) and
 * returns once all are stopped; tgt_detach lets them all run again, handing
 * back any signal that arrived while they were stopped. All ptrace calls must
 * come from the thread that attached: sonde is single-threaded.
 *
 * One session may be active at a time; tgt_emergency_detach() is
 * async-signal-safe so that a crash handler can release the target. */
#ifndef SONDE_TARGET_PTRACE_H
#define SONDE_TARGET_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <time.h>

typedef struct {
  pid_t tid;
  int pending_sig; /* delivered back at detach */
  bool seized, stopped;
  bool past_int3;  /* stopped with rip just past a breakpoint's int3, not yet
                      rewound (trace.c): rewind before it runs or is read */
} tgt_thread;

enum { TGT_GONE_RING = 64 };

typedef struct {
  pid_t pid;
  tgt_thread *threads;
  size_t nthreads, cap;
  /* threads whose exit was reported before their creator's clone event:
   * that late event must not bring them back */
  pid_t gone[TGT_GONE_RING];
  unsigned ngone;
  /* an execve seen by any wait, not yet handed out as TGT_EV_EXEC */
  bool exec_pending;
  /* the process's end, once a wait reported it */
  bool ended;
  int exit_status, exit_signal;
  bool attached;
  struct timespec t_attach, t_all_stopped, t_detached; /* CLOCK_MONOTONIC */
} tgt_session;

int tgt_attach(pid_t pid, tgt_session *out);
/* The session's thread table (trace.c shares it). */
tgt_thread *tgt_thread_find(tgt_session *s, pid_t tid);
tgt_thread *tgt_thread_add(tgt_session *s, pid_t tid);
void tgt_thread_remove(tgt_session *s, pid_t tid);
/* Threads seized and not (yet) seen stopped. */
size_t tgt_threads_running(const tgt_session *s);
/* A wait reported tid's end (status st): drops it, remembers it when it was
 * not known yet (so that its creator's late clone event does not bring it
 * back), and keeps the process's exit status when tid is the process. */
void tgt_thread_exited(tgt_session *s, pid_t tid, int st);
/* parent reported PTRACE_EVENT_CLONE: adds the new thread, unless it has
 * already come and gone. */
void tgt_thread_cloned(tgt_session *s, pid_t parent);
/* For a loop waiting for every thread to stop, waited_ms into the wait:
 * after 50 ms drops threads /proc no longer has; after 5 s, an error naming
 * the threads still running and their state. */
int tgt_threads_wait_check(tgt_session *s, double waited_ms);
/* Always safe to call; frees the session. Returns the first error seen. */
int tgt_detach(tgt_session *s);
/* The thread's registers; rip as if at the breakpoint when it stopped
 * just past one (past_int3). */
int tgt_getregs(tgt_session *s, pid_t tid, struct user_regs_struct *out);
/* Writes the rewind of a thread stopped just past an int3 (past_int3). */
int tgt_thread_rewind(tgt_thread *t);
bool tgt_has_thread(const tgt_session *s, pid_t tid);
void tgt_emergency_detach(void);

/* Why this process may not be traced, as a message naming what applies:
 * another tracer, another user, Yama's ptrace_scope, a container. Returns
 * SE_TRACED or SE_PERM. */
int tgt_permission_error(pid_t pid);


#endif
