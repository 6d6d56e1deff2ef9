/* session.h: staying attached: `sonde attach` and `sonde exec`.
 *
 * A session holds a process (attached to, or started under sonde) with its
 * breakpoints and plugins until a stop condition, then takes every
 * breakpoint out and lets the process go. The states plugins see, in
 * order (each transition reaches them through on_state_change):
 *
 *   ATTACHING -> RUNNING                       attached (or the program reached its entry)
 *   RUNNING -> STOPPED -> RUNNING (BREAKPOINT) a reported hit: every thread stopped
 *   RUNNING -> STOPPED -> RUNNING (INTERRUPT)  sonde stopped it to run a command (--every)
 *   RUNNING -> DETACHED (DETACH)               a stop condition; the process runs on
 *   RUNNING -> EXITED (EXIT)                   the process exited or was killed
 */
#ifndef SONDE_SESSION_SESSION_H
#define SONDE_SESSION_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "goruntime/locate.h"
#include "session/plugin_env.h"

enum { SESS_MAX_BREAKS = 64, SESS_MAX_PLUGINS = 8, SESS_MAX_ACTIONS = 16, SESS_MAX_ARGS = 32 };

/* When a plugin command runs. */
typedef enum { SESS_AT_ATTACH, SESS_AT_HIT, SESS_AT_EVERY, SESS_AT_DETACH } sess_when;

typedef struct {
  sess_when when;
  double secs;      /* SESS_AT_EVERY */
  const char *text; /* "stackdiff snapshot -o a.json", as given */
  char *owned_text; /* text, when a plugin asked for the action (command_every) */
  char *words;      /* text split into argv (owned) */
  char *argv[SESS_MAX_ARGS + 1]; /* argv[0] the plugin, argv[1] its command */
  int argc;
} sess_action;

typedef struct {
  pid_t pid;         /* attach: the process */
  char **exec_argv;  /* exec: PROGRAM ARGS..., NULL-terminated */
  const char *breaks[SESS_MAX_BREAKS];
  size_t nbreaks;
  bool have_goid;
  uint64_t goid;     /* --goid */
  uint64_t nth;      /* --nth: report every Nth matching hit (1: all) */
  uint64_t count;    /* -n: stop after this many reported hits (0: no limit) */
  uint64_t runs;     /* --runs: stop after this many rounds of --every commands (0: no limit) */
  double duration;   /* -d: seconds (0: none) */
  bool quiet, non_stop;
  const char *plugins[SESS_MAX_PLUGINS];
  size_t nplugins;
  sess_action actions[SESS_MAX_ACTIONS];
  size_t nactions;
  penv_opts po;
} sess_opts;

/* Splits an action's text into words (quotes '...' and "..." group, \
 * escapes) and checks its shape; SE_USAGE with a message otherwise. */
int sess_action_parse(sess_action *a, sess_when when, double secs, const char *text);
void sess_opts_free(sess_opts *o);

/* A breakpoint as the session shows it. */
typedef struct {
  uint64_t id;
  const char *spec;       /* as given */
  const gr_location *loc; /* where it went: pcs, their functions, inlined or not */
} sess_bp_info;

/* How a session ended, and what it did. */
typedef struct {
  const char *why; /* when the process lives on: "interrupted", "count reached", ... */
  bool exited, exit_known; /* the process ended; how (exit_status, or exit_signal when nonzero) */
  int exit_status, exit_signal;
  double secs;                                      /* how long the session ran */
  uint64_t total, reported, emulated, passed;       /* hits; reported; passed without an all-stop; signals passed on */
  uint64_t nstops;                                  /* every thread stopped: how many times */
  double stopped_ms, longest_ms;                    /* in all, the longest */
  bool found;       /* some plugin command found what it checks for (SONDE_FOUND) */
  bool have_child;  /* exec: the program's own status follows */
  int child_status; /* its exit status, 128 + signal when killed */
} sess_result;

/* What the session tells its caller while it runs; the caller prints. Every
 * member but ctx may be NULL. */
typedef struct {
  void *ctx;
  /* The target runs with its breakpoints in (started: sonde exec). */
  void (*armed)(void *ctx, pid_t pid, bool started, const char *go_version, const sess_bp_info *bps, size_t n);
  /* A reported --break hit, the nth (not called with --quiet). */
  void (*hit)(void *ctx, uint64_t nth, const sess_bp_info *b, uint64_t pc, uint64_t goid, int tid);
  /* What the user should know that does not end the session: a plugin that
   * failed, a command that could not run, waiting for the program. */
  void (*note)(void *ctx, const char *msg);
  /* The target is let go: r says how the session went, rc is its error (0,
   * or a code with se_msg() saying why). Before sonde exec waits for the
   * program it started. */
  void (*ended)(void *ctx, const sess_result *r, int rc);
} sess_observer;

/* Runs the session: 0, or the error that ended it (se_msg() says why).
 * *ended tells whether the session ran (obs->ended was called) or failed
 * before touching any process. r is filled either way. */
int sess_run(sess_opts *o, const sess_observer *obs, sess_result *r, bool *ended);

#endif
