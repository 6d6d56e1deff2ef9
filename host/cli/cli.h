/* cli.h: what the command implementations share: option parsing helpers,
 * output files, messages and the formatters. The reading itself is the
 * session layer's (session/target.h, session/session.h). Only the CLI
 * layer may exit. */
#ifndef SONDE_CLI_CLI_H
#define SONDE_CLI_CLI_H

#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/file.h"
#include "base/strbuf.h"
#include "session/target.h"

/* The process of `sonde CMD`: -p's value (pidarg, may be NULL) or the one
 * operand left after the options (from optind). 0 with *out set, or the
 * exit status after printing why (none, too many, not a PID). */
int cli_pid_operand(const char *cmd, const char *pidarg, int argc, char **argv, pid_t *out);
/* A command's output: FILE (-o), or standard output when path is NULL.
 * FILE is written beside itself and renamed over it only when everything
 * went well (base/file.h, <sonde/file.h>: no link is followed, a planted
 * temporary name is never opened); when rc or a write fails, FILE is left
 * as it was. cli_output_close returns rc, or the failed write's error when
 * rc was 0. */
typedef struct {
  FILE *f; /* write here */
  sonde_outfile file;
} cli_output;
int cli_output_open(const char *path, cli_output *out);
int cli_output_close(cli_output *o, const char *path, int rc);
/* Parses a PID argument; SE_USAGE with a message when it is not one. */
int cli_parse_pid(const char *s, pid_t *out);
/* Prints "sonde: MESSAGE" for the last error and returns its exit status. */
int cli_fail(int rc);
/* Peak RSS of sonde in MiB. */
double cli_peak_rss_mb(void);

int cmd_goroutines(int argc, char **argv);
int cmd_heap(int argc, char **argv);    /* sonde heap */
int cmd_info(int argc, char **argv);
int cmd_layout(int argc, char **argv);
int cmd_attach(int argc, char **argv);  /* sonde attach */
int cmd_exec(int argc, char **argv);    /* sonde exec */
int cmd_plugins(int argc, char **argv); /* sonde plugins */
int cmd_index(int argc, char **argv);   /* sonde index check|update */
int cmd_config(int argc, char **argv);  /* sonde config */
/* sonde PLUGIN [COMMAND] ...: SE_USAGE with "no command" when no plugin
 * has that name; *found tells the two apart. */
int cmd_plugin(int argc, char **argv, bool *found);

/* --group (group.c): members are indexes into t->snap.gs, in allgs order;
 * groups come largest first. */
typedef struct {
  size_t *members;
  size_t n;
} cli_group;
typedef struct {
  cli_group *g;
  size_t n;
  size_t *members; /* storage behind every group's members */
} cli_groups;
int cli_make_groups(const ses_target *t, cli_groups *out);
void cli_free_groups(cli_groups *gs);

/* Output (out_traceback.c, out_json.c). */
typedef struct {
  bool all_frames, group, json;
  const gr_waits *waits; /* --waits: what each goroutine waits on (JSON), or NULL */
} out_opts;
int out_traceback(const ses_target *t, const out_opts *o, FILE *f);
int out_json(const ses_target *t, const out_opts *o, FILE *f);

#endif
