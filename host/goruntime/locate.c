/* locate.c: function and file:line locations over the pclntab (locate.h).
 *
 * A line is found by walking every function's pcfile and pcln tables
 * together (pcln_walk_lines). Those tables give the innermost position, so
 * code inlined from the line into other functions is found with the same
 * walk. The walk is linear in the size of the tables: a few milliseconds
 * for a large binary, done once per location. */
#include "goruntime/locate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

enum { PCDATA_INLTREEINDEX = 2, MAX_CANDIDATES = 8 };

bool gr_location_is_line(const char *spec, char *file, size_t filesz, int32_t *line) {
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec || !colon[1]) return false;
  long v = 0;
  for (const char *d = colon + 1; *d; d++) {
    if (*d < '0' || *d > '9' || v > 100000000) return false;
    v = v * 10 + (*d - '0');
  }
  size_t n = (size_t)(colon - spec);
  bool src = (n > 3 && !memcmp(colon - 3, ".go", 3)) || (n > 2 && !memcmp(colon - 2, ".s", 2));
  if (!src || n >= filesz || v <= 0) return false;
  memcpy(file, spec, n);
  file[n] = 0;
  *line = (int32_t)v;
  return true;
}

/* "server.go" names "/src/app/server.go"; "app/server.go" too. */
static bool file_matches(const char *path, const char *query, size_t qlen) {
  size_t n = strlen(path);
  if (n < qlen || memcmp(path + n - qlen, query, qlen) != 0) return false;
  return n == qlen || path[n - qlen - 1] == '/' || query[0] == '/';
}

typedef struct {
  const pcln_table *t;
  const pcln_func *f;
  const char *query;
  size_t qlen;
  int32_t line;
  gr_location *out;
  bool overflow;
  /* files named by the query: those with code at the line, and any */
  const char *hit_files[MAX_CANDIDATES];
  size_t nhit_files;
  const char *any_file;
  const char *other_file; /* a second, different file matching the query */
  int32_t below, above;   /* nearest lines with code in a matching file */
  /* the run before, to find where the line starts */
  bool prev_on;
  uint64_t prev_end;
  const char *last_path; /* memo: the last path compared, and its answer */
  bool last_match;
} line_walk;

static void note_file(const char **set, size_t *n, const char *file) {
  for (size_t i = 0; i < *n; i++)
    if (set[i] == file || !strcmp(set[i], file)) return;
  if (*n < MAX_CANDIDATES) set[(*n)++] = file;
}

static int on_run(void *ctx, uint64_t start, uint64_t end, const char *file, int32_t line) {
  line_walk *w = ctx;
  if (file != w->last_path) {
    w->last_path = file;
    w->last_match = file_matches(file, w->query, w->qlen);
  }
  bool on = w->last_match && line == w->line;
  if (w->last_match) {
    if (!w->any_file) w->any_file = file;
    else if (w->any_file != file && strcmp(w->any_file, file) != 0) w->other_file = file;
    if (line < w->line && line > w->below) w->below = line;
    if (line > w->line && (w->above == 0 || line < w->above)) w->above = line;
  }
  if (on && !(w->prev_on && w->prev_end == start)) {
    note_file(w->hit_files, &w->nhit_files, file);
    gr_location *o = w->out;
    if (o->npcs == GR_LOC_MAX_PCS) {
      w->overflow = true;
    } else {
      o->pcs[o->npcs] = start;
      o->func[o->npcs] = pcln_name(w->t, w->f);
      o->inlined[o->npcs] = pcln_pcdata(w->t, w->f, PCDATA_INLTREEINDEX, start) >= 0;
      o->file = file;
      o->npcs++;
    }
  }
  w->prev_on = on;
  w->prev_end = end;
  return 0;
}

static int locate_line(const pcln_table *t, const char *query, int32_t line, gr_location *out) {
  line_walk w = {.t = t, .query = query, .qlen = strlen(query), .line = line, .out = out};
  out->is_line = true;
  out->line = line;
  for (uint64_t i = 0; i < t->nfunc; i++) {
    pcln_func f;
    if (pcln_func_at(t, i, &f) != 0) {
      se_clear();
      continue;
    }
    w.f = &f;
    w.prev_on = false;
    pcln_walk_lines(t, &f, on_run, &w); /* a corrupt function is skipped */
  }
  if (w.nhit_files > 1) {
    char list[1024] = "";
    for (size_t i = 0; i < w.nhit_files; i++) {
      size_t l = strlen(list);
      snprintf(list + l, sizeof list - l, "%s  %s:%d", i ? "\n" : "", w.hit_files[i], (int)line);
    }
    return se_set(SE_USAGE, "'%s:%d' names several files with code at that line; give more of the path:\n%s", query,
                  (int)line, list);
  }
  if (out->npcs == 0) {
    if (!w.any_file)
      return se_set(SE_USAGE, "no Go code from a file '%s' in this binary: give the file's name as it was built, "
                    "such as main.go or myapp/server/handler.go", query);
    if (w.other_file)
      return se_set(SE_USAGE, "no code at line %d of '%s' (it names several files, such as %s and %s)", (int)line,
                    query, w.any_file, w.other_file);
    char near[128] = "";
    if (w.below && w.above) snprintf(near, sizeof near, "; the nearest lines with code are %d and %d", (int)w.below, (int)w.above);
    else if (w.below || w.above) snprintf(near, sizeof near, "; the nearest line with code is %d", (int)(w.below ? w.below : w.above));
    return se_set(SE_USAGE, "no code at %s:%d (a comment, a blank line, a declaration, or code the compiler "
                  "removed)%s", w.any_file, (int)line, near);
  }
  if (w.overflow)
    return se_set(SE_USAGE, "%s:%d starts in more than %d places (inlined copies); break on the function instead",
                  out->file, (int)line, GR_LOC_MAX_PCS);
  /* in pc order: functab is sorted, so this holds already; keep it asserted */
  for (size_t i = 1; i < out->npcs; i++)
    if (out->pcs[i] < out->pcs[i - 1]) return se_set(SE_CORRUPT, "pclntab functions are out of order");
  return 0;
}

int gr_locate(const pcln_table *t, const char *spec, gr_location *out) {
  memset(out, 0, sizeof *out);
  char file[1024];
  int32_t line;
  if (gr_location_is_line(spec, file, sizeof file, &line)) return locate_line(t, file, line, out);
  pcln_func f;
  if (pcln_find_name(t, spec, &f) != 0) {
    se_clear();
    return se_set(SE_USAGE, "no function '%s': give its full Go name, such as main.work or main.(*Server).handle "
                  "(`go tool nm BINARY | grep NAME` lists them), or a line as FILE.go:LINE", spec);
  }
  out->npcs = 1;
  out->pcs[0] = f.entry;
  out->func[0] = pcln_name(t, &f);
  return 0;
}
