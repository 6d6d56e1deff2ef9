/* trace.c: software breakpoints and the all-stop event loop (trace.h).
 *
 * Every wait status is classified once (classify): a breakpoint hit is a
 * SIGTRAP whose siginfo says SI_KERNEL (int3) at a pc just past one of our
 * breakpoints; everything else that is a signal goes back to the target. A
 * thread seen at a breakpoint is rewound (rip = the breakpoint) at once, so
 * that no path, not even a crash of sonde, can let it resume in the middle
 * of an instruction. */
#include "target/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sys.h"
#include "target/emulate.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

enum { INT3 = 0xCC, MAX_STEP_TRIES = 64 };

/* ---- breakpoints: a static table, so a signal handler can undo them ------ */

typedef struct {
  uint64_t addr;
  uint8_t orig;
  bool emulated;  /* insn is the original instruction, and sonde can emulate it */
  tgt_insn insn;
  volatile sig_atomic_t inserted;
} bp_slot;

static bp_slot g_bp[TGT_MAX_BREAKPOINTS];
static volatile sig_atomic_t g_nbp;
static volatile int g_memfd = -1;

int tgt_bp_open(pid_t pid) {
  if (g_memfd >= 0) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return se_set(SE_PERM, "cannot open %s for breakpoints: %s", path, strerror(errno));
  g_memfd = fd;
  g_nbp = 0;
  return 0;
}

/* Reads a word through /proc/PID/mem, or takes the one the caller read. */
static bool read_word(void *ctx, uint64_t addr, uint64_t *out) {
  const tgt_word *known = ctx;
  if (known && known->addr && known->addr == addr) {
    *out = known->value;
    return true;
  }
  return pread(g_memfd, out, sizeof *out, (off_t)addr) == (ssize_t)sizeof *out;
}

static bp_slot *slot_of(uint64_t addr) {
  for (int i = 0; i < g_nbp; i++)
    if (g_bp[i].addr == addr) return &g_bp[i];
  return NULL;
}

bool tgt_bp_is(uint64_t addr) {
  bp_slot *b = slot_of(addr);
  return b && b->inserted;
}

bool tgt_bp_was(uint64_t addr) { return slot_of(addr) != NULL; }

size_t tgt_bp_count(void) {
  size_t n = 0;
  for (int i = 0; i < g_nbp; i++) n += g_bp[i].inserted != 0;
  return n;
}

/* SE_EXITED when the memory itself is gone (the process exited, or called
 * exec: the file stays bound to the old image, which no longer exists). */
static int poke(uint64_t addr, uint8_t byte) {
  ssize_t w = pwrite(g_memfd, &byte, 1, (off_t)addr);
  if (w == 1) return 0;
  /* /proc/PID/mem of an image that is gone (the process exited or called
   * exec) writes nothing and says so with 0, not with ESRCH */
  if (w == 0 || errno == ESRCH) return se_set(SE_EXITED, "the memory of the process is gone (it exited or called exec)");
  return se_set(SE_ERR, "cannot write the breakpoint byte at 0x%llx: %s", (unsigned long long)addr, strerror(errno));
}

int tgt_bp_insert(uint64_t addr) {
  if (g_memfd < 0) return se_set(SE_ERR, "breakpoints are not open");
  bp_slot *b = slot_of(addr);
  if (b && b->inserted) return 0;
  if (!b) {
    if (g_nbp >= TGT_MAX_BREAKPOINTS) return se_set(SE_USAGE, "more than %d breakpoints", TGT_MAX_BREAKPOINTS);
    uint8_t orig;
    if (pread(g_memfd, &orig, 1, (off_t)addr) != 1)
      return se_set(SE_CORRUPT, "cannot read the code at 0x%llx: %s", (unsigned long long)addr, strerror(errno));
    if (orig == INT3)
      return se_set(SE_ERR, "0x%llx already holds an int3: another debugger's breakpoint, or not the start of an "
                    "instruction", (unsigned long long)addr);
    b = &g_bp[g_nbp];
    memset(b, 0, sizeof *b);
    b->addr = addr;
    b->orig = orig;
    uint8_t code[16];
    ssize_t got = pread(g_memfd, code, sizeof code, (off_t)addr);
    b->emulated = got > 0 && tgt_insn_decode(code, (size_t)got, &b->insn);
    g_nbp = g_nbp + 1;
  }
  int rc = poke(addr, INT3);
  if (rc == 0) b->inserted = 1;
  return rc;
}

int tgt_bp_remove(uint64_t addr) {
  bp_slot *b = slot_of(addr);
  if (!b || !b->inserted) return 0;
  int rc = poke(addr, b->orig);
  if (rc == SE_EXITED) { /* nothing left to take it out of */
    se_clear();
    rc = 0;
  }
  if (rc == 0) b->inserted = 0;
  return rc;
}

int tgt_bp_remove_all(void) {
  int rc = 0;
  for (int i = 0; i < g_nbp; i++) {
    int r = tgt_bp_remove(g_bp[i].addr);
    if (r && !rc) rc = r;
  }
  if (g_memfd >= 0) close(g_memfd);
  g_memfd = -1;
  return rc;
}

void tgt_bp_forget(void) {
  for (int i = 0; i < g_nbp; i++) g_bp[i].inserted = 0;
  g_nbp = 0;
  if (g_memfd >= 0) close(g_memfd);
  g_memfd = -1;
}

void tgt_bp_emergency_remove(void) {
  if (g_memfd < 0) return;
  for (int i = 0; i < g_nbp; i++)
    if (g_bp[i].inserted && pwrite(g_memfd, &g_bp[i].orig, 1, (off_t)g_bp[i].addr) == 1) g_bp[i].inserted = 0;
}

/* ---- stops ------------------------------------------------------------------ */

typedef enum { ST_GONE, ST_PROCESS_EXIT, ST_EXEC, ST_HIT, ST_SIGNAL, ST_QUIET, ST_STEPPED } stop_kind;

/* If tid is stopped just past one of our int3s, rewinds it and says where.
 * With `regs` (the event loop, where no thread is being single-stepped) a
 * SIGTRAP with the pc just past an int3 sonde has in place is taken as that
 * int3 without asking for the siginfo: one system call less per hit. A
 * step's trap can land there too (after a one-byte instruction), which is
 * why the stepping paths, which pass no regs, always ask. */
static bool rewind_hit(tgt_thread *t, uint64_t *addr, struct user_regs_struct *regs) {
  siginfo_t si;
  struct user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) != 0) return false;
  bool sure = regs && tgt_bp_is(r.rip - 1);
  if (!sure && (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) != 0 || si.si_code != SI_KERNEL)) return false;
  if (!tgt_bp_was(r.rip - 1)) return false;
  r.rip -= 1;
  *addr = r.rip;
  if (regs) {
    /* The event loop: whoever lets this thread go writes its registers
     * anyway (an emulated instruction), or rewinds it first (cont, stepping,
     * detach, and the crash path, which rewinds any thread just past an
     * int3): one system call less per hit. */
    *regs = r;
    t->past_int3 = true;
    return true;
  }
  return ptrace(PTRACE_SETREGS, t->tid, 0, &r) == 0;
}

/* execve leaves one thread, with the process's id (ptrace(2), "execve(2)
 * under ptrace"): the others are gone, whether or not their deaths have
 * been reported yet. */
static void after_exec(tgt_session *s) {
  s->exec_pending = true;
  for (size_t i = s->nthreads; i-- > 0;)
    if (s->threads[i].tid != s->pid) tgt_thread_remove(s, s->threads[i].tid);
  tgt_thread *t = tgt_thread_add(s, s->pid);
  if (t) {
    t->seized = true;
    t->stopped = true;
    t->pending_sig = 0;
    t->past_int3 = false;
  }
}

/* Classifies one wait status and updates the thread table. For ST_SIGNAL,
 * *sig is the signal to hand back. */
static stop_kind classify(tgt_session *s, pid_t tid, int st, int *sig, uint64_t *addr,
                          struct user_regs_struct *regs) {
  *sig = 0;
  if (WIFEXITED(st) || WIFSIGNALED(st)) {
    tgt_thread_exited(s, tid, st);
    return tid == s->pid ? ST_PROCESS_EXIT : ST_GONE;
  }
  tgt_thread *t = tgt_thread_add(s, tid);
  if (!t) return ST_QUIET;
  t->seized = true;
  t->stopped = true;
  int event = st >> 16, stopsig = WSTOPSIG(st);
  if (event == PTRACE_EVENT_CLONE) {
    tgt_thread_cloned(s, tid);
    return ST_QUIET;
  }
  if (event == PTRACE_EVENT_EXEC) {
    after_exec(s);
    return ST_EXEC;
  }
  if (event != 0) return ST_QUIET; /* PTRACE_EVENT_STOP: an interrupt, a new thread, a group-stop */
  if (stopsig == SIGTRAP) {
    if (rewind_hit(t, addr, regs)) return ST_HIT;
    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 && si.si_code == TRAP_TRACE) return ST_STEPPED;
  }
  *sig = stopsig;
  return ST_SIGNAL;
}

static int cont(tgt_session *s, pid_t tid, int sig) {
  tgt_thread *t = tgt_thread_find(s, tid);
  if (t) {
    int rc = tgt_thread_rewind(t);
    if (rc) return rc;
  }
  if (ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig) != 0 && errno != ESRCH)
    return se_set(SE_ERR, "ptrace(PTRACE_CONT, %d): %s", (int)tid, strerror(errno));
  if (t) t->stopped = false;
  return 0;
}

int tgt_trace_resume(tgt_session *s) {
  for (size_t i = 0; i < s->nthreads; i++) {
    tgt_thread *t = &s->threads[i];
    if (!t->seized || !t->stopped) continue;
    int sig = t->pending_sig;
    t->pending_sig = 0;
    int rc = cont(s, t->tid, sig);
    if (rc) return rc;
  }
  return 0;
}

/* Every ptrace stop of a tracee sends its tracer SIGCHLD: with SIGCHLD
 * blocked, sigtimedwait sleeps exactly until the next report. */
static int stop_all_wait(tgt_session *s, const sigset_t *chld) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (tgt_threads_running(s) > 0) {
    int st;
    pid_t tid = waitpid(-1, &st, __WALL | WNOHANG);
    if (tid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) return se_set(SE_EXITED, "process %d exited", (int)s->pid);
      return se_set(SE_ERR, "waitpid: %s", strerror(errno));
    }
    if (tid == 0) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      double waited_ms = sys_ms_between(&start, &now);
      int rc = tgt_threads_wait_check(s, waited_ms);
      if (rc) return rc;
      if (tgt_threads_running(s) == 0) break;
      /* wake at the next report, or in 50 ms for the next check */
      struct timespec ts = {0, 50 * 1000 * 1000};
      sigtimedwait(chld, NULL, &ts);
      continue;
    }
    int sig;
    uint64_t addr;
    stop_kind k = classify(s, tid, st, &sig, &addr, NULL);
    if (k == ST_PROCESS_EXIT) return se_set(SE_EXITED, "process %d exited", (int)s->pid);
    if (k == ST_SIGNAL) {
      tgt_thread *t = tgt_thread_find(s, tid);
      if (t && !t->pending_sig) t->pending_sig = sig; /* handed back on resume */
      else if (t) cont(s, tid, sig); /* a second signal: let it through now, then stop it again */
      if (t && !t->stopped) ptrace(PTRACE_INTERRUPT, tid, 0, 0);
    }
    /* ST_HIT: rewound; it hits again after the resume. New threads: stopped
     * by their first report. */
  }
  return 0;
}

int tgt_trace_stop_all(tgt_session *s) {
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old);
  for (size_t i = 0; i < s->nthreads; i++)
    if (s->threads[i].seized && !s->threads[i].stopped) ptrace(PTRACE_INTERRUPT, s->threads[i].tid, 0, 0);
  int rc = stop_all_wait(s, &chld);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return rc;
}

int tgt_trace_wait(tgt_session *s, volatile int *stop, tgt_event *ev) {
  memset(ev, 0, sizeof *ev);
  if (s->exec_pending) { /* seen while stopping or stepping */
    s->exec_pending = false;
    ev->kind = TGT_EV_EXEC;
    ev->tid = s->pid;
    return 0;
  }
  for (;;) {
    if (*stop) {
      ev->kind = TGT_EV_INTERRUPTED;
      return 0;
    }
    int st;
    pid_t tid = waitpid(-1, &st, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) {
        ev->kind = TGT_EV_EXITED;
        return 0;
      }
      return se_set(SE_ERR, "waitpid: %s", strerror(errno));
    }
    int sig;
    uint64_t addr = 0;
    stop_kind k = classify(s, tid, st, &sig, &addr, &ev->regs);
    switch (k) {
      case ST_GONE: break;
      case ST_PROCESS_EXIT:
        ev->kind = TGT_EV_EXITED;
        ev->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        ev->exit_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        return 0;
      case ST_EXEC:
        s->exec_pending = false;
        ev->kind = TGT_EV_EXEC;
        ev->tid = s->pid;
        return 0;
      case ST_HIT:
        ev->kind = TGT_EV_BREAKPOINT;
        ev->tid = tid;
        ev->addr = addr;
        return 0;
      case ST_SIGNAL: {
        ev->signals_passed++;
        int rc = cont(s, tid, sig);
        if (rc) return rc;
        break;
      }
      case ST_QUIET:
      case ST_STEPPED: {
        int rc = cont(s, tid, 0);
        if (rc) return rc;
        break;
      }
    }
  }
}

/* Moves a thread stopped at a breakpoint past its instruction by
 * emulation; false when the instruction is not one sonde emulates. */
static bool emulate_past(tgt_session *s, pid_t tid, uint64_t addr, const struct user_regs_struct *at,
                         const tgt_word *known) {
  bp_slot *b = slot_of(addr);
  tgt_thread *t = tgt_thread_find(s, tid);
  struct user_regs_struct r;
  if (!b || !b->emulated || !t) return false;
  if (at) r = *at; /* as rewound */
  else if (tgt_getregs(s, tid, &r) != 0) return se_clear(), false;
  if (r.rip != addr || !tgt_insn_apply(&b->insn, addr, &r, read_word, (void *)known)) return false;
  if (ptrace(PTRACE_SETREGS, tid, 0, &r) != 0) return false;
  t->past_int3 = false;
  return true;
}

int tgt_trace_pass(tgt_session *s, pid_t tid, uint64_t addr, const struct user_regs_struct *regs,
                   const tgt_word *known, bool *stopped_all) {
  *stopped_all = false;
  if (emulate_past(s, tid, addr, regs, known)) return cont(s, tid, 0);
  *stopped_all = true;
  int rc = tgt_trace_stop_all(s);
  if (rc == 0) rc = tgt_trace_step_over(s, tid, addr);
  if (rc == 0) rc = tgt_trace_resume(s);
  return rc;
}

int tgt_trace_step_over(tgt_session *s, pid_t tid, uint64_t addr) {
  int rc0;
  if (emulate_past(s, tid, addr, NULL, NULL)) return 0;
  tgt_thread *th = tgt_thread_find(s, tid);
  if (th && (rc0 = tgt_thread_rewind(th)) != 0) return rc0;
  bool was = tgt_bp_is(addr);
  int rc = tgt_bp_remove(addr);
  if (rc) return rc;
  for (int i = 0; i < MAX_STEP_TRIES; i++) {
    if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) != 0) {
      if (errno == ESRCH && (s->exec_pending || !tgt_thread_find(s, tid))) break; /* the thread is gone */
      rc = se_set(SE_ERR, "ptrace(PTRACE_SINGLESTEP, %d): %s", (int)tid, strerror(errno));
      break;
    }
    tgt_thread *t = tgt_thread_find(s, tid);
    if (t) t->stopped = false;
    int st;
    pid_t got;
    while ((got = waitpid(tid, &st, __WALL)) < 0 && errno == EINTR) {
    }
    if (got < 0) {
      rc = se_set(SE_EXITED, "thread %d exited while stepping", (int)tid);
      break;
    }
    int sig;
    uint64_t a;
    stop_kind k = classify(s, tid, st, &sig, &a, NULL);
    if (k == ST_STEPPED) break;
    if (k == ST_GONE || k == ST_PROCESS_EXIT) {
      rc = se_set(SE_EXITED, "process %d exited while stepping", (int)s->pid);
      break;
    }
    if (k == ST_SIGNAL) {
      t = tgt_thread_find(s, tid);
      if (t && !t->pending_sig) t->pending_sig = sig;
    }
    /* ST_QUIET (a pending interrupt) or a signal kept for later: step again */
    if (i == MAX_STEP_TRIES - 1) rc = se_set(SE_ERR, "thread %d did not step over 0x%llx", (int)tid, (unsigned long long)addr);
  }
  if (was && !s->exec_pending) {
    int r = tgt_bp_insert(addr);
    if (r && !rc) rc = r;
  }
  return rc;
}

/* Whether thread tid has a SIGTRAP pending (SigPnd in its /proc status). */
static bool trap_pending(pid_t pid, pid_t tid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
  FILE *f = fopen(path, "re");
  if (!f) return false;
  bool pending = false;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "SigPnd:", 7)) {
      unsigned long long mask = strtoull(line + 7, NULL, 16);
      pending = (mask >> (SIGTRAP - 1)) & 1;
      break;
    }
  fclose(f);
  return pending;
}

int tgt_trace_release(tgt_session *s) {
  int rc = tgt_trace_stop_all(s);
  /* A thread that executed an int3 and was then interrupted reports the
   * interrupt first, with the SIGTRAP still queued: let it take the trap
   * under our eyes (it is rewound), or it would get the SIGTRAP after the
   * detach and die. */
  for (int round = 0; rc == 0 && round < 8; round++) {
    bool any = false;
    for (size_t i = 0; i < s->nthreads && rc == 0; i++) {
      tgt_thread *t = &s->threads[i];
      if (!t->seized || !t->stopped || !trap_pending(s->pid, t->tid)) continue;
      any = true;
      pid_t tid = t->tid;
      if (tgt_thread_rewind(t) != 0 || ptrace(PTRACE_CONT, tid, 0, 0) != 0) continue;
      t->stopped = false;
      int st, sig;
      uint64_t addr;
      pid_t got;
      while ((got = waitpid(tid, &st, __WALL)) < 0 && errno == EINTR) {
      }
      if (got < 0) continue;
      stop_kind k = classify(s, tid, st, &sig, &addr, NULL);
      if (k == ST_PROCESS_EXIT) rc = se_set(SE_EXITED, "process %d exited", (int)s->pid);
      t = tgt_thread_find(s, tid);
      if (k == ST_SIGNAL && t && !t->pending_sig) t->pending_sig = sig;
      else if (k == ST_SIGNAL && t) cont(s, tid, sig);
      if (t && !t->stopped) {
        ptrace(PTRACE_INTERRUPT, tid, 0, 0);
        rc = tgt_trace_stop_all(s);
      }
      break; /* the table may have changed: rescan */
    }
    if (!any) break;
  }
  int r = tgt_bp_remove_all();
  return rc ? rc : r;
}
