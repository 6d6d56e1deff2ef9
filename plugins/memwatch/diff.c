/* diff.c: two heap snapshots compared (mw.h: mw_diff_*).
 *
 * By type: the named rows of each side, summed by name over size classes
 * (a type can live in several classes: []T of different lengths), matched
 * by name. By size class: every class present on either side, with the
 * untyped objects' part apart, so that growth of objects the runtime does
 * not type still shows, by size. Largest change in bytes first. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mw.h"

static int by_name(const void *a, const void *b) {
  const mw_row *x = *(const mw_row *const *)a, *y = *(const mw_row *const *)b;
  return strcmp(x->name, y->name);
}

/* The named rows of s, sorted by name; *n of them. NULL when out of memory. */
static const mw_row **named_rows(const mw_snap *s, size_t *n) {
  const mw_row **v = malloc((s->nrows ? s->nrows : 1) * sizeof *v);
  if (!v) return NULL;
  *n = 0;
  for (size_t i = 0; i < s->nrows; i++)
    if (s->rows[i].name) v[(*n)++] = &s->rows[i];
  if (*n) qsort(v, *n, sizeof *v, by_name);
  return v;
}

static uint64_t absdiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

static int by_change(const void *a, const void *b) {
  const mw_dtype *x = a, *y = b;
  uint64_t dx = absdiff(x->bytes_a, x->bytes_b), dy = absdiff(y->bytes_a, y->bytes_b);
  if (dx != dy) return dx < dy ? 1 : -1;
  uint64_t ox = absdiff(x->objects_a, x->objects_b), oy = absdiff(y->objects_a, y->objects_b);
  if (ox != oy) return ox < oy ? 1 : -1;
  return strcmp(x->name, y->name);
}

int mw_diff_compute(const mw_snap *a, const mw_snap *b, mw_diff *d) {
  memset(d, 0, sizeof *d);
  size_t na = 0, nb = 0;
  const mw_row **ra = named_rows(a, &na), **rb = named_rows(b, &nb);
  d->types = malloc((na + nb + 1) * sizeof *d->types);
  if (!ra || !rb || !d->types) {
    free(ra);
    free(rb);
    free(d->types);
    d->types = NULL;
    return -1;
  }
  /* merge the two sorted lists, summing runs of one name */
  size_t i = 0, j = 0;
  while (i < na || j < nb) {
    const char *name = i < na && (j >= nb || strcmp(ra[i]->name, rb[j]->name) <= 0) ? ra[i]->name : rb[j]->name;
    mw_dtype *t = &d->types[d->ntypes++];
    *t = (mw_dtype){.name = name};
    for (; i < na && !strcmp(ra[i]->name, name); i++)
      t->objects_a += ra[i]->objects, t->bytes_a += ra[i]->bytes;
    for (; j < nb && !strcmp(rb[j]->name, name); j++)
      t->objects_b += rb[j]->objects, t->bytes_b += rb[j]->bytes;
  }
  free(ra);
  free(rb);
  if (d->ntypes) qsort(d->types, d->ntypes, sizeof *d->types, by_change);
  for (int c = 0; c < MW_NUM_CLASSES; c++) {
    mw_dclass *k = &d->classes[c];
    k->present = a->classes[c].spans || b->classes[c].spans;
    k->object_size = b->classes[c].spans ? b->classes[c].object_size : a->classes[c].object_size;
    k->objects_a = a->classes[c].objects, k->objects_b = b->classes[c].objects;
    k->bytes_a = a->classes[c].bytes, k->bytes_b = b->classes[c].bytes;
  }
  for (size_t r = 0; r < a->nrows; r++)
    if (!a->rows[r].name) d->classes[a->rows[r].sizeclass].untyped_a += a->rows[r].objects;
  for (size_t r = 0; r < b->nrows; r++)
    if (!b->rows[r].name) d->classes[b->rows[r].sizeclass].untyped_b += b->rows[r].objects;
  return 0;
}

void mw_diff_free(mw_diff *d) {
  free(d->types);
  memset(d, 0, sizeof *d);
}

static int64_t delta(uint64_t a, uint64_t b) { return (int64_t)b - (int64_t)a; }

void mw_human(char *dst, size_t n, int64_t v, bool sign) {
  const char *s = v < 0 ? "-" : sign && v > 0 ? "+" : sign ? "\xc2\xb1" : "";
  uint64_t b = v < 0 ? (uint64_t)-v : (uint64_t)v;
  if (b >= (1ull << 30))
    snprintf(dst, n, "%s%.1f GiB", s, (double)b / (1 << 30));
  else if (b >= (1ull << 20))
    snprintf(dst, n, "%s%.1f MiB", s, (double)b / (1 << 20));
  else if (b >= 1024)
    snprintf(dst, n, "%s%.1f KiB", s, (double)b / 1024);
  else
    snprintf(dst, n, "%s%" PRIu64 " B", s, b);
}

static void side_line(FILE *f, const char *tag, const char *file, const mw_snap *s) {
  char when[40], bytes[32], gc[32] = "";
  mw_time_rfc3339(s->unix_ns, when, sizeof when);
  mw_human(bytes, sizeof bytes, (int64_t)s->bytes, false);
  if (s->gc_cycle != MW_UNKNOWN) snprintf(gc, sizeof gc, ", GC %" PRIu64, s->gc_cycle);
  fprintf(f, "%s %s: pid %" PRId64 ", %s, %s%s: %s in %" PRIu64 " objects\n", tag, file, s->pid, s->go_version, when,
          gc, bytes, s->objects);
}

void mw_diff_text(const mw_diff *d, const mw_snap *a, const mw_snap *b, const char *fa, const char *fb, size_t top,
                  FILE *f) {
  side_line(f, "A", fa, a);
  side_line(f, "B", fb, b);
  char db[32];
  mw_human(db, sizeof db, delta(a->bytes, b->bytes), true);
  fprintf(f, "change: %s, %+" PRId64 " objects\n", db, delta(a->objects, b->objects));
  if (a->pid != b->pid) fputs("note: A and B are different processes\n", f);
  if (a->unswept_spans || b->unswept_spans)
    fprintf(f,
            "note: %" PRIu64 " and %" PRIu64 " spans were not swept since the GC before each snapshot: their counts "
            "include objects GC found dead\n",
            a->unswept_spans, b->unswept_spans);
  if (!a->has_types || !b->has_types)
    fputs("note: Go before 1.22 records no types in the heap: the change shows by size class only\n", f);

  size_t shown = 0, changed = 0;
  for (size_t i = 0; i < d->ntypes; i++)
    changed += d->types[i].objects_a != d->types[i].objects_b || d->types[i].bytes_a != d->types[i].bytes_b;
  if (a->has_types || b->has_types) {
    fprintf(f, "\nby type (objects over 512 bytes with pointers, and large objects; %zu of %zu types changed):\n",
            changed, d->ntypes);
    fprintf(f, "%12s %12s %12s  %s\n", "OBJECTS", "BYTES", "NOW", "TYPE");
    for (size_t i = 0; i < d->ntypes && shown < top; i++) {
      const mw_dtype *t = &d->types[i];
      if (t->objects_a == t->objects_b && t->bytes_a == t->bytes_b) continue;
      char bd[32], now[32];
      mw_human(bd, sizeof bd, delta(t->bytes_a, t->bytes_b), true);
      mw_human(now, sizeof now, (int64_t)t->bytes_b, false);
      fprintf(f, "%+12" PRId64 " %12s %12s  %s\n", delta(t->objects_a, t->objects_b), bd, now, t->name);
      shown++;
    }
    if (changed > shown) fprintf(f, "... %zu more (--top N, --all)\n", changed - shown);
  }

  /* classes by change in bytes */
  int order[MW_NUM_CLASSES], n = 0;
  for (int c = 0; c < MW_NUM_CLASSES; c++)
    if (d->classes[c].present &&
        (d->classes[c].objects_a != d->classes[c].objects_b || d->classes[c].bytes_a != d->classes[c].bytes_b))
      order[n++] = c;
  for (int x = 1; x < n; x++) /* insertion sort: at most 68 */
    for (int y = x; y > 0; y--) {
      const mw_dclass *p = &d->classes[order[y - 1]], *q = &d->classes[order[y]];
      if (absdiff(p->bytes_a, p->bytes_b) >= absdiff(q->bytes_a, q->bytes_b)) break;
      int tmp = order[y];
      order[y] = order[y - 1];
      order[y - 1] = tmp;
    }
  fprintf(f, "\nby size class (%d classes changed):\n", n);
  fprintf(f, "%7s %9s %12s %12s %12s\n", "CLASS", "OBJ SIZE", "OBJECTS", "BYTES", "UNTYPED");
  for (int x = 0; x < n && (size_t)x < top; x++) {
    const mw_dclass *k = &d->classes[order[x]];
    char bd[32], sz[24];
    mw_human(bd, sizeof bd, delta(k->bytes_a, k->bytes_b), true);
    if (order[x])
      snprintf(sz, sizeof sz, "%" PRIu64, k->object_size);
    else
      snprintf(sz, sizeof sz, "large");
    fprintf(f, "%7d %9s %+12" PRId64 " %12s %+12" PRId64 "\n", order[x], sz, delta(k->objects_a, k->objects_b), bd,
            delta(k->untyped_a, k->untyped_b));
  }
  if ((size_t)n > top) fprintf(f, "... %zu more (--top N, --all)\n", (size_t)n - top);
}

static void side_json(FILE *f, const char *file, const mw_snap *s) {
  char when[40];
  mw_time_rfc3339(s->unix_ns, when, sizeof when);
  fputs("{\"file\": ", f);
  sonde_json_string(f, file);
  fprintf(f, ", \"pid\": %" PRId64 ", \"go_version\": ", s->pid);
  sonde_json_string(f, s->go_version);
  fprintf(f, ", \"time\": \"%s\", \"gc_cycle\": ", when);
  if (s->gc_cycle == MW_UNKNOWN)
    fputs("null", f);
  else
    fprintf(f, "%" PRIu64, s->gc_cycle);
  fprintf(f, ", \"has_types\": %s, \"unswept_spans\": %" PRIu64 ", \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
          s->has_types ? "true" : "false", s->unswept_spans, s->objects, s->bytes);
}

void mw_diff_json(const mw_diff *d, const mw_snap *a, const mw_snap *b, const char *fa, const char *fb, FILE *f) {
  fprintf(f, "{\"format\": \"%s\", \"version\": %d,\n \"a\": ", MW_DIFF_FORMAT, MW_FORMAT_VERSION);
  side_json(f, fa, a);
  fputs(",\n \"b\": ", f);
  side_json(f, fb, b);
  fprintf(f, ",\n \"objects_delta\": %" PRId64 ", \"bytes_delta\": %" PRId64 ",\n \"types\": [",
          delta(a->objects, b->objects), delta(a->bytes, b->bytes));
  for (size_t i = 0; i < d->ntypes; i++) {
    const mw_dtype *t = &d->types[i];
    fprintf(f, "%s\n  {\"type\": ", i ? "," : "");
    sonde_json_string(f, t->name);
    fprintf(f,
            ", \"objects_a\": %" PRIu64 ", \"objects_b\": %" PRIu64 ", \"objects_delta\": %" PRId64
            ", \"bytes_a\": %" PRIu64 ", \"bytes_b\": %" PRIu64 ", \"bytes_delta\": %" PRId64 "}",
            t->objects_a, t->objects_b, delta(t->objects_a, t->objects_b), t->bytes_a, t->bytes_b,
            delta(t->bytes_a, t->bytes_b));
  }
  fputs(d->ntypes ? "\n ],\n \"classes\": [" : "],\n \"classes\": [", f);
  int first = 1;
  for (int c = 0; c < MW_NUM_CLASSES; c++) {
    const mw_dclass *k = &d->classes[c];
    if (!k->present) continue;
    fprintf(f,
            "%s\n  {\"class\": %d, \"object_size\": %" PRIu64 ", \"objects_a\": %" PRIu64 ", \"objects_b\": %" PRIu64
            ", \"objects_delta\": %" PRId64 ", \"bytes_a\": %" PRIu64 ", \"bytes_b\": %" PRIu64
            ", \"bytes_delta\": %" PRId64 ", \"untyped_objects_delta\": %" PRId64 "}",
            first ? "" : ",", c, k->object_size, k->objects_a, k->objects_b, delta(k->objects_a, k->objects_b),
            k->bytes_a, k->bytes_b, delta(k->bytes_a, k->bytes_b), delta(k->untyped_a, k->untyped_b));
    first = 0;
  }
  fputs(first ? "]}\n" : "\n ]}\n", f);
}
