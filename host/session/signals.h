/* signals.h: what every signal sent to sonde does, in one place.
 *
 * The promise: no signal that ends sonde leaves the target stopped or with
 * an int3 in it. Three kinds (README "What happens to the target"):
 *   - crashes (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT): the emergency
 *     release (tgt_emergency_detach, async-signal-safe), then die of it;
 *   - every other signal whose default action ends a process (SIGINT,
 *     SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2, SIGALRM sent by someone, SIGXCPU,
 *     realtime signals, ...): during a session only a flag, the session
 *     releases the target, then sonde ends as the signal asked (SIGINT:
 *     exit 0); outside a session sonde ends at once (nothing is attached:
 *     a one-shot stop blocks them, sig_fatal_set);
 *   - SIGPIPE: never ends sonde; a write to a closed pipe fails with EPIPE
 *     and marks the output closed, which ends a session cleanly and makes
 *     sonde exit with SE_EXIT_CLOSED.
 * The plugin crash guard (plugins/loader.c) sits in front of the crash
 * handlers while plugin code runs and hands anything else on to them. */
#ifndef SONDE_SESSION_SIGNALS_H
#define SONDE_SESSION_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/* main's first call: every handler above. */
void sig_setup(void);
/* Every signal that ends sonde through the release path (not the crashes,
 * which cannot wait, nor SIGKILL/SIGSTOP), plus SIGPIPE and SIGALRM: what
 * is blocked while a target is stopped, so they act once it runs again. */
void sig_fatal_set(sigset_t *set);
/* A session runs: a fatal signal only sets sig_pending() and *sig_wake(). */
void sig_session_begin(void);
void sig_session_end(void);
/* The flag tgt_trace_wait watches: set by every signal the session acts on. */
volatile int *sig_wake(void);
/* The first fatal signal received during the session, 0 if none. */
int sig_pending(void);
/* The same, forgotten: sonde will not end with it (sonde exec passes it on
 * to the program; a session that failed exits with its error instead). */
int sig_take(void);
/* The session's own heartbeat (setitimer's SIGALRM) fired since last asked. */
bool sig_take_alarm(void);
/* Some write met a pipe with no reader (SIGPIPE). */
bool sig_output_closed(void);
/* In a forked child before exec: every disposition and the mask as the
 * program would have them without sonde. */
void sig_child_defaults(void);
/* main's last word: the output closed -> SE_EXIT_CLOSED with a message;
 * a pending fatal signal other than SIGINT -> sonde ends by it; otherwise
 * status. */
int sig_finish(int status);

#endif
