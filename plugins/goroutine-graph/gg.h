/* gg.h: the goroutine-graph plugin's model: every goroutine of one stop,
 * what it waits on, and the host's leak verdicts (ABI 1.4), read once from
 * the host and shared by the leaks report and the graph.
 * Strings point into the host's tables: valid until the command returns. */
#ifndef GG_H
#define GG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sonde/plugin.h>

typedef struct {
  const char *function, *file;
  uint32_t line, inlined;
  uint64_t pc, entry;
} gg_frame;

typedef struct {
  int64_t id, parent_id;
  uint64_t address;
  const char *status, *reason;
  int64_t wait_minutes;
  uint32_t system, locked, leak, group;
  gg_frame *frames;
  uint32_t nframes;
  bool has_creator;
  gg_frame creator;
  sonde_wait *waits;
  uint32_t nwaits;
  uint64_t *reaches;
  uint32_t nreaches;
  bool ignored; /* leaked, but a frame matches [goroutine-graph] ignore */
} gg_goroutine;

typedef struct {
  sonde_target_info target;
  sonde_leak_info leaks;
  bool has_leaks;
  gg_goroutine *gs;
  size_t n;
  size_t nreported, nignored; /* leaked goroutines reported, and ignored */
} gg_model;

typedef enum { GG_FRAMES_NONE, GG_FRAMES_LEAKED, GG_FRAMES_ALL } gg_frames;

/* Reads every goroutine (with its frames: of none, the leaked, or all), its
 * waits and the verdicts. SONDE_OK or an error recorded with api->fail. */
int gg_model_read(sonde_host *h, const sonde_host_api *api, gg_frames frames, gg_model *out);
void gg_model_free(gg_model *m);
/* Marks the leaked goroutines with a frame that matches one of the
 * patterns (comma- or space-separated function names; "pkg.*" matches a
 * prefix) as ignored, and counts what is reported. */
void gg_model_ignore(gg_model *m, const char *patterns);
bool gg_reported_leak(const gg_goroutine *g);
const char *gg_wait_kind_name(uint32_t kind);
/* What a goroutine waits for, in one word: "channel", "select", "nil
 * channel", "mutex", "rwmutex", "waitgroup", "cond", "semaphore", "timer"
 * (sleep, timers), "network" (the netpoller), "syscall", "running",
 * "runnable", or "other" (the runtime's own waits: GC, finalizers, ...). */
const char *gg_waits_for(const gg_goroutine *g);
const char *gg_dir_name(uint32_t dir);

/* The leaks report: Go tracebacks with " (leaked)" after the wait reason,
 * then the deadlock cycles (text), or one JSON document. `model` is a
 * gg_model (the shape sonde_emit wants). */
void gg_leaks_text(FILE *f, void *model);
void gg_leaks_json(FILE *f, void *model);

/* ---- the graph (graph.c) ---- */

/* A primitive some kept goroutine waits on. */
typedef struct {
  uint64_t addr;
  const sonde_wait *wait; /* one waiter's view of it: kind, channel details */
  const char *what;       /* "chan", "sync.Mutex", "sync.RWMutex", "sync.WaitGroup", "sync.Cond", "semaphore" */
  size_t nwaiters;
  bool shared; /* two goroutines meet at it: drawn as a node of its own */
} gg_prim;

typedef struct {
  size_t first, count; /* members[first .. first + count) */
} gg_group;

typedef struct {
  const gg_model *m;
  gg_prim *prims; /* by address */
  size_t nprims;
  gg_group *groups;
  size_t ngroups;
  uint32_t *members; /* goroutine indexes, group after group */
  long *group_of;    /* per goroutine: its group, -1 when not kept */
  uint32_t *by_id;   /* goroutine indexes by id, for creators */
} gg_graph;

/* Groups the goroutines i with keep[i]. 0, or -1 when out of memory. */
int gg_graph_build(gg_graph *gr, const gg_model *m, const bool *keep);
void gg_graph_free(gg_graph *gr);
const gg_goroutine *gg_group_first(const gg_graph *gr, size_t gi);
/* The first frame of the program's own code (package main, or a module
 * path with a dot), else the top frame; NULL without frames. */
const gg_frame *gg_user_frame(const gg_goroutine *g);
/* DOT that Graphviz renders, with `samples` ids shown per group. */
void gg_graph_dot(FILE *f, const gg_graph *gr, size_t samples);
void gg_graph_json(FILE *f, const gg_graph *gr);

#endif
