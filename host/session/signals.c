/* signals.c: sonde's handlers for every signal (signals.h).
 *
 * Handlers only set flags, release the target (crashes) or end sonde when
 * nothing is attached: each is async-signal-safe. They are installed
 * without SA_RESTART so that a signal interrupts the session's waitpid. */
#include "session/signals.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "target/ptrace.h"

static const int k_crash[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
/* signal(7): every signal whose default action is Term or Core, but the
 * crashes above and SIGPIPE; realtime ones are added at run time (glibc
 * keeps the first two for itself). */
static const int k_fatal[] = {SIGHUP,  SIGINT,  SIGQUIT,   SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGTRAP,
                              SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGSYS,  SIGPOLL, SIGPWR,
#ifdef SIGSTKFLT
                              SIGSTKFLT,
#endif
};
enum { NCRASH = sizeof k_crash / sizeof *k_crash, NFATAL = sizeof k_fatal / sizeof *k_fatal };

static volatile int g_wake;
static volatile sig_atomic_t g_signal;  /* first fatal signal of the session */
static volatile sig_atomic_t g_alarm;   /* heartbeat */
static volatile sig_atomic_t g_closed;  /* SIGPIPE seen */
static volatile sig_atomic_t g_session; /* deferring */

static void die_of(int sig) {
  signal(sig, SIG_DFL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  raise(sig);
}

/* A crash inside sonde (or sent to it) must not leave the target stopped,
 * with int3s in it, or with a trap it would die of. */
static void on_crash(int sig) {
  tgt_emergency_detach();
  die_of(sig);
}

static void on_fatal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  /* setitimer's SIGALRM comes from the kernel, kill(2)'s from a user; the
   * session's last heartbeat may still be pending when it ends */
  if (sig == SIGALRM && si && si->si_code == SI_KERNEL) {
    g_alarm = 1;
    g_wake = 1;
    return;
  }
  if (!g_session) {
    tgt_emergency_detach(); /* nothing should be attached here: be sure */
    die_of(sig);
    return;
  }
  if (!g_signal) g_signal = sig;
  g_wake = 1;
}

static void on_pipe(int sig) {
  (void)sig;
  g_closed = 1;
  g_wake = 1;
}

static void install(int sig, void (*fn)(int), void (*fa)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  if (fa) sa.sa_sigaction = fa;
  else sa.sa_handler = fn;
  sa.sa_flags = flags | (fa ? SA_SIGINFO : 0);
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

void sig_setup(void) {
  for (int i = 0; i < NCRASH; i++) install(k_crash[i], on_crash, NULL, SA_RESETHAND);
  for (int i = 0; i < NFATAL; i++) install(k_fatal[i], NULL, on_fatal, 0);
  for (int s = SIGRTMIN; s <= SIGRTMAX; s++) install(s, NULL, on_fatal, 0);
  install(SIGPIPE, on_pipe, NULL, SA_RESTART);
}

void sig_fatal_set(sigset_t *set) {
  sigemptyset(set);
  for (int i = 0; i < NFATAL; i++) sigaddset(set, k_fatal[i]);
  for (int s = SIGRTMIN; s <= SIGRTMAX; s++) sigaddset(set, s);
  sigaddset(set, SIGPIPE);
}

void sig_session_begin(void) {
  g_wake = 0;
  g_signal = 0;
  g_alarm = 0;
  g_session = 1;
}

void sig_session_end(void) { g_session = 0; }

volatile int *sig_wake(void) { return &g_wake; }

int sig_pending(void) { return g_signal; }

int sig_take(void) {
  int s = g_signal;
  g_signal = 0;
  return s;
}

bool sig_take_alarm(void) {
  bool a = g_alarm;
  g_alarm = 0;
  return a;
}

bool sig_output_closed(void) { return g_closed; }

void sig_child_defaults(void) {
  for (int i = 0; i < NCRASH; i++) signal(k_crash[i], SIG_DFL);
  for (int i = 0; i < NFATAL; i++) signal(k_fatal[i], SIG_DFL);
  for (int s = SIGRTMIN; s <= SIGRTMAX; s++) signal(s, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

int sig_finish(int status) {
  fflush(stdout); /* what is still buffered may meet the closed pipe now */
  if (g_closed) {
    fprintf(stderr, "sonde: the output was closed (its reader quit, as `head` does): sonde stopped; no process "
                    "was left stopped or with a breakpoint in it\n");
    return SE_EXIT_CLOSED;
  }
  int sig = g_signal;
  if (sig && sig != SIGINT) die_of(sig);
  return status;
}
