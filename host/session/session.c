/* session.c: the engine behind `sonde attach` and `sonde exec` (session.h).
 *
 * One loop waits for the target's events. A breakpoint hit first stops only
 * the thread that hit; the conditions (--goid, --nth) are decided with that
 * thread alone, and a hit that is not reported is passed on without
 * stopping anyone else (tgt_trace_pass). A reported hit stops every thread
 * (all-stop) before any plugin code or command runs, unless --non-stop.
 *
 * The goroutine snapshot plugins ask for is taken on first use during a
 * stop and dropped when the target runs again. Plugins' own breakpoints
 * (breakpoint_set) live in the same table as --break's and are reported to
 * their owner only.
 *
 * Every way out goes through leave(): every thread stopped, every int3 out,
 * then detach. Every signal that would end sonde (signals.h) only sets a
 * flag; they are blocked whenever the target is stopped, so they act once
 * it runs. A closed output (SIGPIPE) ends the session the same way. */
#include "session/session.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sys.h"
#include "session/session_priv.h"
#include "session/signals.h"

int sess_action_parse(sess_action *a, sess_when when, double secs, const char *text) {
  memset(a, 0, sizeof *a);
  a->when = when;
  a->secs = secs;
  a->text = text;
  a->words = malloc(strlen(text) + 1);
  if (!a->words) return se_set(SE_ERR, "out of memory");
  char *w = a->words;
  const char *s = text;
  for (;;) {
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) break;
    if (a->argc == SESS_MAX_ARGS) return se_set(SE_USAGE, "'%s': more than %d words", text, SESS_MAX_ARGS);
    a->argv[a->argc++] = w;
    char quote = 0;
    for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
      if (quote && *s == quote) quote = 0;
      else if (!quote && (*s == '\'' || *s == '"')) quote = *s;
      else if (*s == '\\' && quote != '\'' && s[1]) *w++ = *++s;
      else *w++ = *s;
    }
    if (quote) return se_set(SE_USAGE, "'%s': a quote is not closed", text);
    *w++ = 0;
  }
  a->argv[a->argc] = NULL;
  if (a->argc < 2)
    return se_set(SE_USAGE, "'%s' is not a plugin command: give 'PLUGIN COMMAND [ARGS]', such as 'stackdiff snapshot'",
                  text);
  return 0;
}

void sess_opts_free(sess_opts *o) {
  for (size_t i = 0; i < o->nactions; i++) {
    free(o->actions[i].words);
    free(o->actions[i].owned_text);
  }
  o->nactions = 0;
}

double ss_since(const session *s) { return sys_ms_since(&s->t0) / 1000; }

/* The heartbeat that runs due --every commands and ends --duration:
 * HEARTBEAT_MS, or the shortest --every interval when shorter (10 ms at
 * least: sess_opts and command_every refuse shorter). */
void ss_note(session *s, const char *fmt, ...) {
  if (!s->obs->note) return;
  char msg[1536];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  s->obs->note(s->obs->ctx, msg);
}

void ss_arm_timer(const session *s) {
  double us = HEARTBEAT_MS * 1000;
  for (size_t i = 0; i < s->o->nactions; i++)
    if (s->o->actions[i].when == SESS_AT_EVERY && s->o->actions[i].secs * 1e6 < us) us = s->o->actions[i].secs * 1e6;
  if (us < 10000) us = 10000;
  struct itimerval it = {{0, (long)us}, {0, (long)us}};
  setitimer(ITIMER_REAL, &it, NULL);
}

/* Due --every commands and the --duration limit. Returns 0 to go on, 1
 * when time is up, or an error (a stop or resume that failed). */
static int on_tick(session *s) {
  double now = ss_since(s);
  if (s->o->duration > 0 && now >= s->o->duration) {
    s->why = "duration reached";
    return 1;
  }
  if (!s->bound) return 0;
  bool stopped = false;
  int rc = 0;
  for (size_t i = 0; i < s->o->nactions && rc == 0; i++) {
    sess_action *a = &s->o->actions[i];
    if (a->when != SESS_AT_EVERY || now < s->next_every[i]) continue;
    while (s->next_every[i] <= now) s->next_every[i] += a->secs;
    if (!stopped) {
      sigprocmask(SIG_BLOCK, &s->block, NULL);
      if ((rc = ss_stop_all(s)) != 0) break;
      ss_set_state(s, SONDE_STATE_STOPPED, SONDE_REASON_INTERRUPT);
      stopped = true;
    }
    ss_run_actions(s, SESS_AT_EVERY, i);
  }
  if (stopped) {
    ss_set_state(s, SONDE_STATE_RUNNING, SONDE_REASON_INTERRUPT);
    double held = ss_stopped_now(s) / 1000;
    rc = ss_resume_all(s);
    s->rounds++;
    /* the process runs at least as long as the round stopped it: commands
     * slower than their interval never keep it stopped more than half the time */
    double earliest = ss_since(s) + held;
    for (size_t i = 0; i < s->o->nactions; i++)
      if (s->o->actions[i].when == SESS_AT_EVERY && s->next_every[i] < earliest) s->next_every[i] = earliest;
  }
  if (rc == 0) sigprocmask(SIG_SETMASK, &s->old, NULL);
  if (rc == 0 && s->o->runs && s->rounds >= s->o->runs) {
    s->why = "--runs reached";
    return 1;
  }
  return rc; /* on an error, signals stay blocked for the release */
}

static int loop(session *s) {
  for (;;) {
    tgt_event ev;
    int rc = tgt_trace_wait(&s->ts, sig_wake(), &ev);
    if (rc) return rc;
    s->passed += ev.signals_passed;
    switch (ev.kind) {
      case TGT_EV_INTERRUPTED:
        *sig_wake() = 0;
        if (sig_output_closed()) {
          s->why = "the output was closed";
          return 0;
        }
        if (sig_pending()) {
          s->why = sig_pending() == SIGINT ? "interrupted" : "ended by a signal";
          return 0;
        }
        if (sig_take_alarm()) {
          rc = on_tick(s);
          if (rc) return rc > 0 ? 0 : rc;
        }
        break;
      case TGT_EV_EXITED:
        s->exited = true;
        s->exit_known = true;
        s->exit_status = ev.exit_status;
        s->exit_signal = ev.exit_signal;
        return 0;
      case TGT_EV_EXEC:
        if (!s->starting || s->bound) {
          /* the image the breakpoints were in is gone; the new one has none
           * of them, and its bytes must not be touched */
          tgt_bp_forget();
          s->why = "the process called exec";
          return 0;
        }
        sigprocmask(SIG_BLOCK, &s->block, NULL);
        rc = ss_at_exec(s, &ev);
        if (rc == 0) rc = ss_resume_all(s);
        sigprocmask(SIG_SETMASK, &s->old, NULL);
        if (rc == 0 && s->bound) rc = ss_started(s);
        if (rc) return rc;
        break;
      case TGT_EV_BREAKPOINT: {
        bool done = false;
        if (s->entry_bp && ev.addr == s->entry_bp) { /* the entry of an exec'd program */
          sigprocmask(SIG_BLOCK, &s->block, NULL);
          rc = ss_at_entry(s, &ev);
          if (rc == 0) rc = ss_resume_all(s);
          sigprocmask(SIG_SETMASK, &s->old, NULL);
          if (rc == 0) rc = ss_started(s);
        } else {
          rc = ss_on_hit(s, &ev, &done);
        }
        if (rc || done) return rc; /* signals stay blocked for the release */
        break;
      }
    }
  }
}

/* Every thread stopped, every int3 out, detached: on every path. */
static int leave(session *s, int rc) {
  setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 0}}, NULL);
  sigprocmask(SIG_BLOCK, &s->block, NULL);
  if (s->ts.exec_pending) { /* an execve raced the last event: its threads vanished under us */
    tgt_bp_forget();
    s->why = "the process called exec";
    se_clear();
    rc = 0;
  }
  se_kept k;
  se_keep(&k);
  int src = rc;
  if (s->exited) { /* nothing left to take out or let go */
    tgt_bp_forget();
    tgt_detach(&s->ts);
  } else if (s->ts.attached) {
    if (!s->exited && s->bound && ss_has_actions(s, SESS_AT_DETACH)) {
      if (ss_stop_all(s) == 0) ss_run_actions(s, SESS_AT_DETACH, SIZE_MAX);
      else se_clear();
    }
    ss_forget_stop(s);
    int r1 = tgt_trace_release(&s->ts);
    int r2 = tgt_detach(&s->ts);
    if (!src) rc = r1 ? r1 : r2;
  } else {
    tgt_bp_remove_all();
  }
  if (src) (void)se_restore(&k);
  if (rc == SE_EXITED) { /* for a session, a stop condition */
    rc = 0;
    s->exited = true;
  }
  if (s->exited && !s->exit_known && s->ts.ended) { /* learnt on the way */
    s->exit_status = s->ts.exit_status;
    s->exit_signal = s->ts.exit_signal;
    s->exit_known = true;
  }
  return rc;
}

/* After `sonde exec` let go of the program: it is still sonde's child; wait
 * for it, passing on the signals that would end sonde. */
static int wait_child(session *s) {
  int st = 0;
  int first = sig_take();
  if (first && first != SIGINT) kill(s->child, first); /* SIGINT: the terminal's, it had its own */
  if (!s->exited) ss_note(s, "waiting for %s (pid %d) to exit", s->t.info.exe, (int)s->child);
  sigprocmask(SIG_SETMASK, &s->old, NULL);
  /* Polled, not a blocking waitpid: a signal that lands after the check of
   * g_signal and before waitpid would never interrupt it, and would never
   * reach the program (seen in CI: SIGTERM right after "waiting for"). A
   * signal still cuts the sleep short; one that just misses it waits 100 ms. */
  for (;;) {
    int sig = sig_take();
    if (sig) kill(s->child, sig);
    pid_t got = waitpid(s->child, &st, WNOHANG);
    if (got == s->child) break;
    if (got < 0 && errno != EINTR) return 0;
    if (got == 0) nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void result_of(const session *s, sess_result *r) {
  *r = (sess_result){.why = s->why, .exited = s->exited, .exit_known = s->exit_known, .exit_status = s->exit_status,
                     .exit_signal = s->exit_signal, .secs = ss_since(s), .total = s->total, .reported = s->reported,
                     .emulated = s->emulated, .passed = s->passed, .nstops = s->nstops, .stopped_ms = s->stopped_ms,
                     .longest_ms = s->longest_ms, .found = s->found};
}

int sess_run(sess_opts *o, const sess_observer *obs, sess_result *r, bool *ended) {
  static session S; /* large; one per run */
  session *s = &S;
  memset(s, 0, sizeof *s);
  memset(r, 0, sizeof *r);
  *ended = false;
  s->o = o;
  s->obs = obs;
  s->state = SONDE_STATE_ATTACHING;
  if (o->nth == 0) o->nth = 1;
  int rc;
  se_kept k;
  char exe[PATH_MAX];

  /* Everything that can fail without touching a process fails first. */
  if (o->exec_argv) {
    if ((rc = ss_find_program(o->exec_argv[0], exe, sizeof exe)) || (rc = ses_open_file(exe, &s->t)))
      goto out_early;
  } else if ((rc = ses_open_target(o->pid, &s->t))) {
    goto out_early;
  }
  for (size_t i = 0; i < o->nbreaks; i++) {
    sbp *b = ss_bp_new(s, o->breaks[i], -1);
    if (!b) {
      rc = SE_USAGE;
      goto out_early;
    }
    /* checked against the file now; armed with live addresses later */
    if ((rc = gr_locate(&s->t.prog.pcln, b->spec, &b->loc))) goto out_early;
  }
  if ((rc = ss_load_plugins(s))) goto out_early;

  sig_fatal_set(&s->block);
  sigprocmask(SIG_BLOCK, &s->block, &s->old);
  sig_session_begin();
  clock_gettime(CLOCK_MONOTONIC, &s->t0);
  for (size_t i = 0; i < o->nactions; i++) s->next_every[i] = o->actions[i].secs;

  if (o->exec_argv) {
    rc = ss_start_program(s);
  } else {
    rc = tgt_attach(o->pid, &s->ts);
    s->all_stopped = rc == 0; /* attaching stops every thread */
    clock_gettime(CLOCK_MONOTONIC, &s->stop_t0);
    if (rc == 0 && (rc = tgt_mem_open(&s->t.mem, o->pid)) == 0 && (rc = tgt_bp_open(o->pid)) == 0)
      rc = ss_bind_and_arm(s);
    if (rc == 0) rc = ss_resume_all(s);
  }
  if (rc == 0) {
    ss_arm_timer(s);
    sigprocmask(SIG_SETMASK, &s->old, NULL); /* stop signals now interrupt the wait */
    if (!o->exec_argv) rc = ss_started(s);
    if (rc == 0) rc = loop(s);
  }
  rc = leave(s, rc);
  se_keep(&k); /* plugin hooks below must not lose the session's error */
  if (s->np) {
    ss_set_state(s, s->exited ? SONDE_STATE_EXITED : SONDE_STATE_DETACHED,
                 s->exited ? SONDE_REASON_EXIT : SONDE_REASON_DETACH);
  }
  ss_unload_plugins(s);
  if (rc) (void)se_restore(&k);
  if (rc == 0 && s->plugin_failed)
    rc = se_set(SE_PLUGIN, "a plugin failed or crashed during the session (see above); the target was not affected");
  result_of(s, r);
  *ended = true;
  if (obs->ended) obs->ended(obs->ctx, r, rc);
  if (o->exec_argv && s->child > 0) {
    r->have_child = true;
    r->child_status = s->exited && s->exit_known ? (s->exit_signal ? 128 + s->exit_signal : s->exit_status)
                                                 : wait_child(s);
  }
  if (s->have_pe) penv_close(&s->pe);
  for (size_t i = 0; i < s->nbps; i++) free(s->bps[i].owned_spec);
  ses_target_free(&s->t);
  if (rc || o->exec_argv) sig_take(); /* an error's own status; exec: the program's */
  sig_session_end(); /* the target runs again: main ends as a signal asked (sig_finish) */
  sigprocmask(SIG_SETMASK, &s->old, NULL);
  return rc;

out_early:
  se_keep(&k);
  ss_unload_plugins(s);
  if (s->have_pe) penv_close(&s->pe);
  ses_target_free(&s->t);
  return se_restore(&k);
}
