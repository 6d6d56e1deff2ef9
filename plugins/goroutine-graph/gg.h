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
} gg_goroutine;

typedef struct {
  sonde_target_info target;
  sonde_leak_info leaks;
  bool has_leaks;
  gg_goroutine *gs;
  size_t n;
} gg_model;

typedef enum { GG_FRAMES_NONE, GG_FRAMES_LEAKED, GG_FRAMES_ALL } gg_frames;

/* Reads every goroutine (with its frames: of none, the leaked, or all), its
 * waits and the verdicts. SONDE_OK or an error recorded with api->fail. */
int gg_model_read(sonde_host *h, const sonde_host_api *api, gg_frames frames, gg_model *out);
void gg_model_free(gg_model *m);
bool gg_reported_leak(const gg_goroutine *g);
const char *gg_wait_kind_name(uint32_t kind);
const char *gg_dir_name(uint32_t dir);

/* The leaks report: Go tracebacks with " (leaked)" after the wait reason,
 * then the deadlock cycles (text), or one JSON document. `model` is a
 * gg_model (the shape sonde_emit wants). */
void gg_leaks_text(FILE *f, void *model);
void gg_leaks_json(FILE *f, void *model);

#endif
