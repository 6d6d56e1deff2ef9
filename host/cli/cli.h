/* cli.h: what the command implementations share: option parsing helpers,
 * the attach-read-detach flow, and messages. Only the CLI layer may exit. */
#ifndef SONDE_CLI_CLI_H
#define SONDE_CLI_CLI_H

#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/file.h"
#include "base/strbuf.h"
#include "goruntime/goroutines.h"
#include "goruntime/heap.h"
#include "goruntime/reach.h"
#include "goruntime/waits.h"
#include "goruntime/runtime.h"
#include "target/mem.h"
#include "target/proc.h"
#include "target/ptrace.h"

/* The exit status of a command that worked and found what it checks for
 * (a plugin command returned SONDE_FOUND: goroutine-graph leaks). */
enum { CLI_EXIT_FOUND = 13 };
/* The exit status when the output was closed (a pipe whose reader quit, as
 * `| head` does): sonde stopped cleanly, the target let go (signals.h). */
enum { CLI_EXIT_CLOSED = 14 };

/* A stopped-and-released view of one process. */
typedef struct {
  pid_t pid;
  tgt_procinfo info;
  gr_program prog;
  tgt_mem mem;
  gr_snapshot snap;
  size_t nthreads;
  double stop_ms, attach_ms; /* how long the target was stopped; how long stopping took */
  bool bound;                /* mem open and prog bound: a later stop reuses both */
  bool all_frames;           /* the model shows runtime frames (--all-frames) */
  double resolve_ms;         /* resolving the model, after the stop */
} cli_target;

/* Opens the program of pid (refusing non-Go targets before any stop), stops
 * it, takes a snapshot, and lets it run again, on every path. */
int cli_snapshot(pid_t pid, const gr_snapshot_opts *o, cli_target *out);
/* The same in two steps: reading the executable (no stop), then the stop. */
int cli_open_target(pid_t pid, cli_target *out);
int cli_capture(cli_target *t, const gr_snapshot_opts *o);
/* The stop with any reader: what runs while the target is stopped and
 * bound (t->prog, t->mem ready), on the same every-path release. */
typedef int (*cli_reader)(cli_target *t, tgt_session *sess, void *payload);
int cli_capture_with(cli_target *t, cli_reader read, void *payload);
/* The reader that reads the heap during the stop (gr_heap_read): payload is
 * a cli_heap_req. gr_heap_settle after the stop, by the caller. */
typedef struct {
  gr_heap *heap;
  bool types;
} cli_heap_req;
int cli_read_heap(cli_target *t, tgt_session *sess, void *req);
/* A reader for cli_capture_with: the goroutines (so), then what else the
 * request names, in one stop: the heap (with types when `types`), what each
 * goroutine waits on, the leak verdicts (which need the other two). */
typedef struct {
  gr_snapshot_opts so;
  gr_snapshot *snap; /* where the goroutines go; NULL: t->snap */
  gr_heap *heap; /* NULL: not read */
  bool types;
  gr_waits *waits;
  gr_reach *reach;
  uint64_t reach_ns; /* out: how long the leak analysis took */
} cli_stop_req;
int cli_read_stop(cli_target *t, tgt_session *sess, void *req);
/* The request for what a plugin command declares it reads (flags:
 * SONDE_CMD_NEEDS_*; LEAKS implies the heap, the waits and the runtime's
 * own goroutines): into heap, waits and reach, the caller's, each left
 * NULL in *out when not needed. Refused (an error, nothing stopped) when
 * this binary's heap or waits cannot be read. */
int cli_stop_req_for(const gr_program *p, uint32_t flags, gr_heap *heap, gr_waits *waits, gr_reach *reach,
                     cli_stop_req *out);
/* An executable not yet running (sonde exec): t->pid stays 0. */
int cli_open_file(const char *path, cli_target *t);
void cli_target_free(cli_target *t);

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
int cli_make_groups(const cli_target *t, cli_groups *out);
void cli_free_groups(cli_groups *gs);

/* Output (out_traceback.c, out_json.c). */
typedef struct {
  bool all_frames, group, json;
  const gr_waits *waits; /* --waits: what each goroutine waits on (JSON), or NULL */
} out_opts;
int out_traceback(const cli_target *t, const out_opts *o, FILE *f);
int out_json(const cli_target *t, const out_opts *o, FILE *f);

#endif
