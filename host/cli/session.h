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
#ifndef SONDE_CLI_SESSION_H
#define SONDE_CLI_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/plugin_env.h"

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

/* Runs the session; returns sonde's exit status (printing any error). */
int sess_run(sess_opts *o);

#endif
