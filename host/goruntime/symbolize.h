/* symbolize.h: a goroutine's raw PCs turned into the frames Go would print.
 *
 * Applies the runtime's own display policy (showframe: runtime frames and
 * wrappers hidden unless asked for) and its elision of deep stacks, per Go
 * version, so that sonde's traceback agrees with runtime.Stack line by line.
 * Symbolized PCs are cached: 100,000 goroutines share a few hundred PCs.
 *
 * Read, then print: gr_sym_resolve turns a whole snapshot into its resolved
 * model once, after the process runs again: every goroutine's frames as Go
 * prints them (inlined frames expanded, names as printed, the "created by"
 * frame), each unique PC looked up once and each distinct stack resolved
 * once. Formatters and plugin services only read it (gr_trace_of). */
#ifndef SONDE_GORUNTIME_SYMBOLIZE_H
#define SONDE_GORUNTIME_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/u64map.h"
#include "goruntime/goroutines.h"
#include "goruntime/runtime.h"

typedef struct {
  const char *func, *file; /* point into the pclntab */
  const char *print;       /* func as Go prints it (gr_print_name); func when the same */
  int32_t line;
  uint64_t pc;    /* the physical frame's pc */
  uint64_t entry; /* its function's entry; pc - entry is Go's "+0x.." */
  uint8_t funcid;
  bool inlined;
} gr_frame;

typedef struct {
  gr_frame *frames; /* to show, in order */
  size_t n, cap;
  size_t elide_at, elided; /* 1.21+: "...N frames elided..." before frames[elide_at] when elided > 0 */
  bool elided_tail;        /* 1.19: "...additional frames elided..." after the last frame */
  bool has_creator;
  gr_frame creator;        /* "created by" function, file:line at gopc-1, pc = gopc */
} gr_trace;

typedef struct gr_symbolizer {
  gr_program *p;
  u64map cache;  /* symbolization key -> (pool index << 8 | count) */
  u64map creators; /* gopc + 1 -> pool index + 1 of its "created by" frame, 0 = none shown */
  gr_frame *pool;
  size_t npool, cappool;
  arena names;   /* print names that differ from the function's */
} gr_symbolizer;

void gr_sym_init(gr_symbolizer *s, gr_program *p);
/* Frees p->sym (gr_program_close calls it). */
void gr_sym_drop(gr_program *p);
void gr_sym_free(gr_symbolizer *s);
void gr_trace_free(gr_trace *t);

/* Fills t (reused across calls) with what Go prints for g. all_frames shows
 * runtime frames and wrappers, like GOTRACEBACK=system. */
int gr_symbolize(gr_symbolizer *s, const gr_goroutine *g, bool all_frames, gr_trace *t);

/* Resolves every goroutine of s (once; again only to change all_frames)
 * and attaches the model to s, which frees it. 0 or SE_NOMEM. */
int gr_sym_resolve(gr_program *p, gr_snapshot *s, bool all_frames);
/* Goroutine i's resolved frames; NULL before gr_sym_resolve or for i out
 * of range. Valid while s is. */
const gr_trace *gr_trace_of(const gr_snapshot *s, size_t i);
/* The model's counts, for --stats: distinct stacks, unique PCs looked up. */
void gr_sym_stats(const gr_snapshot *s, size_t *ntraces, size_t *npcs);

/* The name as Go prints it: runtime.gopanic -> panic, generic shapes ->
 * [...]. Returns name itself when it prints unchanged, else out. */
const char *gr_print_name(const char *name, char *out, size_t n);

#endif
