/* session_priv.h: the session engine's own state and the calls between
 * its files (not for other layers: session.h is the interface).
 *   session.c          the options, the event loop, --every, leaving
 *   session_stop.c     stopping every thread, reading during a stop, hits
 *   session_bp.c       breakpoints, starting a program (exec), arming
 *   session_plugins.c  plugins: loading, their hooks and commands */
#ifndef SONDE_SESSION_SESSION_PRIV_H
#define SONDE_SESSION_SESSION_PRIV_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "goruntime/locate.h"
#include "plugins/loader.h"
#include "session/session.h"
#include "session/target.h"
#include "target/trace.h"

enum { MAX_BPS = 96, HEARTBEAT_MS = 200 };

/* A breakpoint: --break's, or a plugin's (breakpoint_set). */
typedef struct {
  uint64_t id;
  const char *spec;
  char *owned_spec;
  gr_location loc;
  int owner; /* -1: --break; else the index of the plugin that set it */
  bool active;
} sbp;

/* One session (sess_run's; there is one per run). */
typedef struct {
  sess_opts *o;
  const sess_observer *obs;
  ses_target t;
  tgt_session ts;
  penv pe;
  bool have_pe;
  plg_plugin p[SESS_MAX_PLUGINS];
  size_t np;
  bool plugin_failed;
  bool found; /* a command found what it checks for (PLG_FOUND), in some run */
  plg_target pt;
  plg_session_ops ops;
  sbp bps[MAX_BPS];
  size_t nbps;
  uint64_t next_id;
  /* exec: the program's entry, where breakpoints go in */
  bool starting;
  uint64_t entry_bp;
  pid_t child;
  /* now */
  bool bound, all_stopped, exited, exit_known;
  int exit_status, exit_signal;
  gr_snapshot snap;
  bool have_snap;
  const tgt_event *hit; /* during a reported hit */
  uint64_t hit_g;       /* its g (R14), 0 when not a goroutine */
  gr_snapshot hit_snap;
  bool have_hit_snap;
  gr_heap heap;
  bool have_heap;
  gr_waits waits; /* for a command that declared it reads them (pt.waits) */
  gr_reach reach; /* likewise, the leak verdicts (pt.reach) */
  sonde_state state;
  sigset_t block, old;
  /* counts */
  uint64_t total, matched, reported, passed, emulated;
  struct timespec t0;
  struct timespec stop_t0; /* when every thread last stopped */
  uint64_t nstops;
  uint64_t rounds; /* of --every commands */
  double stopped_ms, longest_ms; /* every thread stopped: in all, the longest stop */
  double next_every[SESS_MAX_ACTIONS]; /* seconds since t0 */
  const char *why;
} session;

/* session.c */
double ss_since(const session *s); /* seconds since the session began */
void ss_arm_timer(const session *s);
/* A line for the user through the observer (printf-style). */
void ss_note(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* session_stop.c */
int ss_stop_all(session *s);
double ss_stopped_now(const session *s); /* ms every thread has been stopped in this stop */
void ss_forget_stop(session *s);
int ss_resume_all(session *s);
int ss_read_for(session *s, const sonde_command *c);
/* 0 once the program is bound to the process (attached, or at its entry);
 * else SE_ERR "the program has not started yet". */
int ss_need_bound(const session *s);
gr_snapshot *ss_op_snapshot(void *ctx);
gr_heap *ss_op_heap(void *ctx);
gr_snapshot *ss_op_hit_snapshot(void *ctx);
int ss_on_hit(session *s, const tgt_event *ev, bool *done);

/* session_bp.c */
int ss_bp_insert(session *s, sbp *b);
sbp *ss_bp_new(session *s, const char *spec, int owner);
int ss_op_bp_set(void *ctx, plg_plugin *p, const char *location, uint64_t *id);
int ss_op_bp_clear(void *ctx, plg_plugin *p, uint64_t id);
sbp *ss_bp_at(session *s, uint64_t pc);
int ss_bind_and_arm(session *s);
int ss_find_program(const char *name, char *out, size_t n);
int ss_start_program(session *s);
int ss_at_exec(session *s, const tgt_event *ev);
int ss_at_entry(session *s, const tgt_event *ev);

/* session_plugins.c */
void ss_report(session *s, int rc);
void ss_set_state(session *s, sonde_state to, sonde_reason why);
int ss_op_every(void *ctx, plg_plugin *p, uint64_t interval_ms, const char *command);
int ss_load_plugins(session *s);
void ss_unload_plugins(session *s);
void ss_run_actions(session *s, sess_when when, size_t only);
bool ss_has_actions(const session *s, sess_when when);
int ss_started(session *s);

#endif
