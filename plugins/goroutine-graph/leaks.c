/* leaks.c: the leaks report (gg.h). Text mirrors the runtime's
 * goroutineleak profile at debug=2 (runtime/traceback.go goroutineheader
 * with " (leaked)"; arguments print as "(...)"), then the deadlock cycles.
 * JSON (docs/goroutine-graph.md) carries the same, with the waits. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/util.h>

#include "gg.h"

static void frame_text(FILE *f, const gg_frame *fr, bool created_by, int64_t parent) {
  if (created_by) {
    fprintf(f, "created by %s", fr->function ? fr->function : "?");
    if (parent > 0) fprintf(f, " in goroutine %" PRId64, parent);
    fputc('\n', f);
  } else {
    fprintf(f, "%s(...)\n", fr->function ? fr->function : "?");
  }
  fprintf(f, "\t%s:%" PRIu32, fr->file ? fr->file : "?", fr->line);
  if (!fr->inlined && fr->entry && fr->pc > fr->entry) fprintf(f, " +0x%" PRIx64, fr->pc - fr->entry);
  fputc('\n', f);
}

static void goroutine_text(FILE *f, const gg_goroutine *g) {
  fprintf(f, "goroutine %" PRId64 " [%s (leaked)", g->id, g->reason && g->reason[0] ? g->reason : g->status);
  if (g->locked) fputs(", locked to thread", f);
  fputs("]:\n", f);
  for (uint32_t k = 0; k < g->nframes; k++) frame_text(f, &g->frames[k], false, 0);
  if (g->has_creator) frame_text(f, &g->creator, true, g->parent_id);
  fputc('\n', f);
}

static void wait_text(FILE *f, const sonde_wait *w) {
  fprintf(f, "%s 0x%" PRIx64, gg_wait_kind_name(w->kind), w->addr);
  if (w->kind == SONDE_WAIT_CHAN) fprintf(f, " (%s%s)", w->select ? "select " : "", gg_dir_name(w->dir));
}

/* The goroutines of group `grp` that wait on addr, as "goroutine N" text. */
static void waiters_text(FILE *f, const gg_model *m, uint32_t grp, uint64_t addr) {
  const char *sep = "";
  for (size_t i = 0; i < m->n; i++) {
    const gg_goroutine *g = &m->gs[i];
    if (g->group != grp) continue;
    for (uint32_t k = 0; k < g->nwaits; k++)
      if (g->waits[k].addr == addr) {
        fprintf(f, "%sgoroutine %" PRId64, sep, g->id);
        sep = ", ";
        break;
      }
  }
}

/* The ids of the goroutines of group grp, separated by ", ". */
static void group_ids(FILE *f, const gg_model *m, uint32_t grp) {
  const char *sep = "";
  for (size_t i = 0; i < m->n; i++)
    if (m->gs[i].group == grp) {
      fprintf(f, "%s%" PRId64, sep, m->gs[i].id);
      sep = ", ";
    }
}

void gg_leaks_text(FILE *f, void *model) {
  const gg_model *m = model;
  for (size_t i = 0; i < m->n; i++)
    if (gg_reported_leak(&m->gs[i])) goroutine_text(f, &m->gs[i]);
  uint32_t ng = (uint32_t)m->leaks.groups;
  for (uint32_t grp = 1; grp <= ng; grp++) {
    fprintf(f, "deadlock cycle %" PRIu32 ": goroutines ", grp);
    group_ids(f, m, grp);
    fputs(" can only be woken by each other\n", f);
    for (size_t i = 0; i < m->n; i++) {
      const gg_goroutine *g = &m->gs[i];
      if (g->group != grp) continue;
      fprintf(f, "\tgoroutine %" PRId64 " [%s] waits on ", g->id, g->reason);
      for (uint32_t k = 0; k < g->nwaits; k++) {
        if (k) fputs(", ", f);
        wait_text(f, &g->waits[k]);
      }
      for (uint32_t k = 0; k < g->nreaches; k++) {
        fprintf(f, "%s0x%" PRIx64 " (", k ? ", " : "; holds ", g->reaches[k]);
        waiters_text(f, m, grp, g->reaches[k]);
        fputs(" waits on it)", f);
      }
      fputc('\n', f);
    }
    fputc('\n', f);
  }
}

static void frame_json(FILE *f, const gg_frame *fr) {
  fputs("{\"function\": ", f);
  sonde_json_string(f, fr->function);
  fputs(", \"file\": ", f);
  sonde_json_string(f, fr->file);
  fprintf(f, ", \"line\": %" PRIu32 ", \"pc\": %" PRIu64 ", \"inlined\": %s}", fr->line, fr->pc,
          fr->inlined ? "true" : "false");
}

static void wait_json(FILE *f, const sonde_wait *w) {
  fprintf(f, "{\"kind\": \"%s\", \"addr\": %" PRIu64 ", \"object\": ", gg_wait_kind_name(w->kind), w->addr);
  if (w->object) fprintf(f, "%" PRIu64, w->object);
  else fputs("null", f);
  if (w->kind == SONDE_WAIT_CHAN) {
    fprintf(f, ", \"dir\": \"%s\", \"select\": %s, \"elem_type\": ", gg_dir_name(w->dir), w->select ? "true" : "false");
    sonde_json_string(f, w->elem_type);
    fprintf(f, ", \"cap\": %" PRIu64 ", \"len\": %" PRIu64 ", \"closed\": %s", w->cap, w->len,
            w->closed ? "true" : "false");
  }
  fputc('}', f);
}

void gg_leaks_json(FILE *f, void *model) {
  const gg_model *m = model;
  const sonde_leak_info *li = &m->leaks;
  fprintf(f, "{\"pid\": %" PRId32 ", \"go_version\": ", m->target.pid);
  sonde_json_string(f, m->target.go_version);
  fprintf(f,
          ",\n \"complete\": %s, \"parked\": %" PRIu64 ", \"leaked\": %" PRIu64 ", \"ignored\": %zu, \"unknown\": %" PRIu64
          ", \"cycles_complete\": %s,\n \"conservative\": %s, \"objects_marked\": %" PRIu64
          ", \"bytes_scanned\": %" PRIu64 ", \"analysis_ms\": %.3f, \"stopped_ms\": %.3f,\n \"goroutines\": [",
          li->complete ? "true" : "false", li->parked, (uint64_t)m->nreported, m->nignored, li->unknown,
          li->groups_complete ? "true" : "false", li->conservative ? "true" : "false", li->objects_marked,
          li->bytes_scanned, (double)li->analysis_ns / 1e6, (double)li->stopped_ns / 1e6);
  const char *sep = "\n  ";
  for (size_t i = 0; i < m->n; i++) {
    const gg_goroutine *g = &m->gs[i];
    if (!gg_reported_leak(g)) continue;
    fprintf(f, "%s{\"id\": %" PRId64 ", \"parent_id\": %" PRId64 ", \"wait_reason\": ", sep, g->id, g->parent_id);
    sep = ",\n  ";
    sonde_json_string(f, g->reason);
    fputs(", \"cycle\": ", f);
    if (g->group) fprintf(f, "%" PRIu32, g->group);
    else fputs("null", f);
    fputs(", \"waiting_on\": [", f);
    for (uint32_t k = 0; k < g->nwaits; k++) {
      if (k) fputs(", ", f);
      wait_json(f, &g->waits[k]);
    }
    fputs("], \"reaches\": [", f);
    for (uint32_t k = 0; k < g->nreaches; k++) fprintf(f, "%s%" PRIu64, k ? ", " : "", g->reaches[k]);
    fputs("],\n   \"frames\": [", f);
    for (uint32_t k = 0; k < g->nframes; k++) {
      if (k) fputs(", ", f);
      frame_json(f, &g->frames[k]);
    }
    fputs("],\n   \"created_by\": ", f);
    if (g->has_creator) frame_json(f, &g->creator);
    else fputs("null", f);
    fputc('}', f);
  }
  fputs("],\n \"cycles\": [", f);
  uint32_t ng = (uint32_t)m->leaks.groups;
  for (uint32_t grp = 1; grp <= ng; grp++) {
    fprintf(f, "%s{\"id\": %" PRIu32 ", \"goroutines\": [", grp > 1 ? ", " : "", grp);
    group_ids(f, m, grp);
    fputs("]}", f);
  }
  fputs("]}\n", f);
}
