/* ptrace.c: seize, interrupt and wait for every thread; detach.
 *
 * A thread can report several kinds of stop after PTRACE_INTERRUPT: the
 * interrupt's own PTRACE_EVENT_STOP, a clone event, or a signal-delivery-stop
 * for a signal that was already pending (Go sends SIGURG for preemption all
 * the time). Any of these leaves the thread stopped; a signal we swallowed is
 * re-injected by PTRACE_DETACH so the program never loses it. */
#include "target/ptrace.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sys.h"
#include "target/proc.h"
#include "target/trace.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

enum { STOP_TIMEOUT_MS = 5000, PRUNE_AFTER_MS = 50, MAX_THREADS = 1 << 20 };

/* The active session, for tgt_emergency_detach (signal handlers). */
static tgt_session *volatile g_active;

tgt_thread *tgt_thread_find(tgt_session *s, pid_t tid) {
  for (size_t i = 0; i < s->nthreads; i++)
    if (s->threads[i].tid == tid) return &s->threads[i];
  return NULL;
}

bool tgt_has_thread(const tgt_session *s, pid_t tid) { return tgt_thread_find((tgt_session *)s, tid) != NULL; }

tgt_thread *tgt_thread_add(tgt_session *s, pid_t tid) {
  tgt_thread *t = tgt_thread_find(s, tid);
  if (t) return t;
  if (s->nthreads == s->cap) {
    if (s->cap >= MAX_THREADS) return NULL;
    size_t cap = s->cap ? s->cap * 2 : 64;
    tgt_thread *p = realloc(s->threads, cap * sizeof *p);
    if (!p) return NULL;
    s->threads = p;
    s->cap = cap;
  }
  t = &s->threads[s->nthreads++];
  memset(t, 0, sizeof *t);
  t->tid = tid;
  return t;
}

void tgt_thread_remove(tgt_session *s, pid_t tid) {
  for (size_t i = 0; i < s->nthreads; i++)
    if (s->threads[i].tid == tid) {
      s->threads[i] = s->threads[--s->nthreads];
      return;
    }
}

int tgt_permission_error(pid_t pid) {
  /* A process on its way out refuses ptrace and hides /proc/PID/exe too. */
  if (tgt_proc_dying(pid, pid)) return se_set(SE_EXITED, "process %d exited while sonde was attaching", (int)pid);
  tgt_procinfo pi;
  char who[128];
  tgt_proc_describe(pid, who, sizeof who);
  se_clear();
  if (tgt_proc_info(pid, &pi) == 0 && pi.tracer != 0) {
    char tracer[128];
    tgt_proc_describe(pi.tracer, tracer, sizeof tracer);
    return se_set(SE_TRACED,
                  "%s is already traced by %s; a process can have only one debugger. "
                  "Detach that debugger (or end it) and run sonde again",
                  who, tracer);
  }
  se_clear();
  uid_t me = geteuid();
  if (me != 0 && tgt_proc_info(pid, &pi) == 0 && pi.uid != me)
    return se_set(SE_PERM,
                  "not allowed to attach to %s: it belongs to uid %u and you are uid %u. "
                  "Run sonde as that user, or as root (or with CAP_SYS_PTRACE)",
                  who, (unsigned)pi.uid, (unsigned)me);
  se_clear();
  int scope = tgt_proc_ptrace_scope();
  if (scope >= 1 && me != 0)
    return se_set(SE_PERM,
                  "not allowed to attach to %s: /proc/sys/kernel/yama/ptrace_scope is %d, which lets only "
                  "a parent trace its children. Run sonde with CAP_SYS_PTRACE (e.g. sudo), or lower the "
                  "setting: echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope",
                  who, scope);
  if (scope == 3)
    return se_set(SE_PERM,
                  "not allowed to attach to %s: /proc/sys/kernel/yama/ptrace_scope is 3 (ptrace disabled "
                  "until reboot)",
                  who);
  return se_set(SE_PERM,
                "not allowed to attach to %s (ptrace: %s). In a container, the process needs "
                "CAP_SYS_PTRACE (docker run --cap-add=SYS_PTRACE) and a seccomp profile that allows ptrace",
                who, strerror(EPERM));
}

/* Seizes every thread listed in /proc not yet known. *added counts new ones. */
static int seize_new_threads(tgt_session *s, size_t *added) {
  pid_t *tids;
  size_t n;
  *added = 0;
  int rc = tgt_proc_threads(s->pid, &tids, &n);
  if (rc) return rc;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (tgt_thread_find(s, tids[i])) continue;
    tgt_thread *t = tgt_thread_add(s, tids[i]);
    if (!t) {
      rc = se_set(SE_NOMEM, "too many threads in process %d", (int)s->pid);
      break;
    }
    if (ptrace(PTRACE_SEIZE, tids[i], 0, (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)) != 0) {
      int e = errno;
      if (e == ESRCH) { /* the thread exited between the listing and now */
        tgt_thread_remove(s, tids[i]);
        continue;
      }
      if (e == EPERM && s->nthreads > 1) {
        /* Already ours: auto-attached through a clone event we have not
         * read yet. It will report its own stop. */
        t->seized = true;
        continue;
      }
      tgt_thread_remove(s, tids[i]);
      if (e == EPERM && tgt_proc_dying(s->pid, tids[i]))
        rc = se_set(SE_EXITED, "process %d exited while sonde was attaching", (int)s->pid);
      else
        rc = (e == EPERM) ? tgt_permission_error(s->pid)
                          : se_set(SE_ERR, "ptrace(PTRACE_SEIZE, %d): %s", (int)tids[i], strerror(e));
      break;
    }
    t->seized = true;
    (*added)++;
    if (ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) != 0 && errno != ESRCH)
      rc = se_set(SE_ERR, "ptrace(PTRACE_INTERRUPT, %d): %s", (int)tids[i], strerror(errno));
  }
  free(tids);
  return rc;
}

size_t tgt_threads_running(const tgt_session *s) {
  size_t n = 0;
  for (size_t i = 0; i < s->nthreads; i++) n += s->threads[i].seized && !s->threads[i].stopped;
  return n;
}

void tgt_thread_exited(tgt_session *s, pid_t tid, int st) {
  if (!tgt_thread_find(s, tid)) s->gone[s->ngone++ % TGT_GONE_RING] = tid;
  tgt_thread_remove(s, tid);
  if (tid == s->pid) {
    s->ended = true;
    s->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    s->exit_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  }
}

static bool gone_already(const tgt_session *s, pid_t tid) {
  unsigned n = s->ngone < TGT_GONE_RING ? s->ngone : TGT_GONE_RING;
  for (unsigned i = 0; i < n; i++)
    if (s->gone[i] == tid) return true;
  return false;
}

void tgt_thread_cloned(tgt_session *s, pid_t parent) {
  unsigned long child = 0;
  if (ptrace(PTRACE_GETEVENTMSG, parent, 0, &child) != 0 || !child || gone_already(s, (pid_t)child)) return;
  tgt_thread *c = tgt_thread_add(s, (pid_t)child);
  if (c) c->seized = true; /* it reports its own first stop */
}

/* Threads that no longer exist at all, not even as a zombie to be reaped: a
 * safety net for an exit sonde never saw reported. */
static void prune_vanished(tgt_session *s) {
  for (size_t i = s->nthreads; i-- > 0;) {
    if (s->threads[i].stopped) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d", (int)s->pid, (int)s->threads[i].tid);
    if (access(path, F_OK) != 0 && errno == ENOENT) tgt_thread_remove(s, s->threads[i].tid);
  }
}

int tgt_threads_wait_check(tgt_session *s, double waited_ms) {
  if (waited_ms > PRUNE_AFTER_MS) prune_vanished(s);
  if (waited_ms <= STOP_TIMEOUT_MS || tgt_threads_running(s) == 0) return 0;
  char list[256] = "";
  size_t used = 0;
  for (size_t i = 0; i < s->nthreads && used < sizeof list - 32; i++) {
    const tgt_thread *t = &s->threads[i];
    if (!t->seized || t->stopped) continue;
    char state = '?';
    unsigned long long flags;
    if (tgt_proc_thread_stat(s->pid, t->tid, &state, &flags) != 0) se_clear();
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%d (state %c)", used ? ", " : "", (int)t->tid, state);
  }
  return se_set(SE_ERR, "threads of process %d did not stop within %d ms: %s; state D is uninterruptible sleep: try "
                "again in a moment", (int)s->pid, STOP_TIMEOUT_MS, list);
}

/* Handles one wait status. Returns 0, or SE_EXITED when the whole process is gone. */
static int on_wait_status(tgt_session *s, pid_t tid, int st) {
  if (WIFEXITED(st) || WIFSIGNALED(st)) {
    tgt_thread_exited(s, tid, st);
    if (tid == s->pid)
      return se_set(SE_EXITED, "process %d exited while sonde was attaching (%s %d)", (int)s->pid,
                    WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return 0;
  }
  if (!WIFSTOPPED(st)) return 0;
  tgt_thread *t = tgt_thread_add(s, tid); /* a new thread may report before its parent's clone event */
  if (!t) return se_set(SE_NOMEM, "too many threads in process %d", (int)s->pid);
  t->seized = true;
  t->stopped = true;
  int event = st >> 16;
  int sig = WSTOPSIG(st);
  if (event == PTRACE_EVENT_CLONE) {
    tgt_thread_cloned(s, tid);
  } else if (event == 0 && sig != SIGTRAP) {
    /* signal-delivery-stop: hand the signal back at detach, so that the
     * program sees it exactly as if sonde had not been there. */
    t->pending_sig = sig;
  }
  return 0;
}

static int wait_all_stopped(tgt_session *s) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  unsigned spins = 0;
  while (tgt_threads_running(s) > 0) {
    int st;
    pid_t tid = waitpid(-1, &st, __WALL | WNOHANG);
    if (tid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) return se_set(SE_EXITED, "process %d exited while sonde was attaching", (int)s->pid);
      return se_set(SE_ERR, "waitpid: %s", strerror(errno));
    }
    if (tid > 0) {
      int rc = on_wait_status(s, tid, st);
      if (rc) return rc;
      spins = 0;
      continue;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (spins % 64 == 63) { /* now and then, not at every yield */
      int rc = tgt_threads_wait_check(s, sys_ms_between(&start, &now));
      if (rc) return rc;
    }
    /* Most threads stop within microseconds: yield first, then sleep briefly. */
    if (++spins < 64) {
      sched_yield();
    } else {
      struct timespec ts = {0, 50 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  return 0;
}

int tgt_attach(pid_t pid, tgt_session *s) {
  memset(s, 0, sizeof *s);
  s->pid = pid;
  tgt_procinfo pi;
  int rc = tgt_proc_info(pid, &pi);
  if (rc) return rc;
  if (pi.tracer != 0) return tgt_permission_error(pid);
  if (pid == getpid()) return se_set(SE_USAGE, "sonde cannot attach to itself");

  clock_gettime(CLOCK_MONOTONIC, &s->t_attach);
  g_active = s;
  s->attached = true;
  /* Seize until a pass over /proc/PID/task finds no new thread; threads
   * cloned by seized threads are auto-attached by PTRACE_O_TRACECLONE. */
  for (int pass = 0; pass < 100; pass++) {
    size_t added;
    rc = seize_new_threads(s, &added);
    if (rc) goto fail;
    if (s->nthreads == 0) {
      rc = se_set(SE_EXITED, "process %d exited while sonde was attaching", (int)pid);
      goto fail;
    }
    rc = wait_all_stopped(s);
    if (rc) goto fail;
    if (added == 0) break;
  }
  clock_gettime(CLOCK_MONOTONIC, &s->t_all_stopped);
  return 0;
fail: {
  se_kept k;
  se_keep(&k);
  tgt_detach(s);
  return se_restore(&k);
}
}

int tgt_getregs(tgt_session *s, pid_t tid, struct user_regs_struct *out) {
  tgt_thread *t = tgt_thread_find(s, tid);
  if (!t || !t->stopped) return se_set(SE_ERR, "thread %d is not stopped by sonde", (int)tid);
  if (ptrace(PTRACE_GETREGS, tid, 0, out) != 0)
    return se_set(SE_ERR, "ptrace(PTRACE_GETREGS, %d): %s", (int)tid, strerror(errno));
  if (t->past_int3) out->rip -= 1;
  return 0;
}

int tgt_thread_rewind(tgt_thread *t) {
  if (!t->past_int3) return 0;
  struct user_regs_struct r;
  int ok = ptrace(PTRACE_GETREGS, t->tid, 0, &r) == 0;
  if (ok) {
    r.rip -= 1;
    ok = ptrace(PTRACE_SETREGS, t->tid, 0, &r) == 0;
  }
  if (!ok && errno != ESRCH) /* ESRCH: the thread is gone, nothing to rewind */
    return se_set(SE_ERR, "cannot rewind thread %d to its breakpoint: %s", (int)t->tid, strerror(errno));
  t->past_int3 = false;
  return 0;
}

int tgt_detach(tgt_session *s) {
  int rc = 0;
  if (s->attached) {
    /* A thread seized but not yet stopped cannot be detached; give it a
     * moment to report (it was interrupted), then detach everyone. */
    if (tgt_threads_running(s) > 0) {
      se_clear();
      (void)wait_all_stopped(s);
    }
    for (size_t i = 0; i < s->nthreads; i++) {
      tgt_thread *t = &s->threads[i];
      if (!t->seized) continue;
      int r = tgt_thread_rewind(t);
      if (r && !rc) rc = r;
      if (ptrace(PTRACE_DETACH, t->tid, 0, (void *)(long)t->pending_sig) != 0 && errno != ESRCH && !rc)
        rc = se_set(SE_ERR, "ptrace(PTRACE_DETACH, %d): %s", (int)t->tid, strerror(errno));
    }
    clock_gettime(CLOCK_MONOTONIC, &s->t_detached);
  }
  if (g_active == s) g_active = NULL; /* another session's detach leaves the crash release armed */
  s->attached = false;
  free(s->threads);
  s->threads = NULL;
  s->nthreads = s->cap = 0;
  return rc;
}

void tgt_emergency_detach(void) {
  tgt_session *s = g_active;
  if (!s || !s->attached) return;
  tgt_bp_emergency_remove();
  /* A thread stopped just after an int3 would resume mid-instruction: rewind it. */
  for (size_t i = 0; i < s->nthreads; i++) {
    struct user_regs_struct r;
    if (s->threads[i].seized && ptrace(PTRACE_GETREGS, s->threads[i].tid, 0, &r) == 0 &&
        tgt_bp_was(r.rip - 1)) {
      r.rip -= 1;
      ptrace(PTRACE_SETREGS, s->threads[i].tid, 0, &r);
    }
  }
  for (size_t i = 0; i < s->nthreads; i++)
    if (s->threads[i].seized)
      ptrace(PTRACE_DETACH, s->threads[i].tid, 0, (void *)(long)s->threads[i].pending_sig);
  s->attached = false;
  g_active = NULL;
}
