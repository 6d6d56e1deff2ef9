/* pprof.c: a heap snapshot as a gzip-compressed profile.proto, the file that
 * `go tool pprof` reads (mw_pprof_write, mw.h).
 *
 * A snapshot has no stacks, so each row becomes one sample whose "stack" is
 * two named frames, [row label, size class]: -top lists types flat and size
 * classes cum, and -diff_base matches rows across two files by those names
 * (a location without an address is keyed on its function's name, and both
 * files have the same one nameless mapping). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <sonde/file.h>

#include "mw.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__ValueType pb_value_type;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Label pb_label;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;

/* __attribute__((format)) (GCC, Clang): the compiler checks each message's arguments, as in host/base/error.h */
static int refuse(char *err, size_t errn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* -1 with the message in err. */
static int refuse(char *err, size_t errn, const char *fmt, ...) {
  if (err && errn) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errn, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* ---- the string table: each string once, "" at index 0 ---- */

/* Strings sit back to back in one buffer and are addressed by offset, since
 * the buffer moves as it grows; b_build makes the char * table once nothing
 * more is added. */
typedef struct {
  char *buf;
  size_t len, cap;
  size_t *off;   /* string i is buf + off[i] */
  uint64_t *loc; /* string i's Location (and Function) id; 0: none yet */
  size_t n, capn;
  size_t *slot;  /* open addressing: string index + 1, 0 empty; a power of two, over twice n */
  size_t nslot;
} strtab;

static uint64_t fnv1a(const char *z) {
  uint64_t h = 14695981039346656037ULL;
  for (; *z; z++) h = (h ^ (unsigned char)*z) * 1099511628211ULL;
  return h;
}

static int st_rehash(strtab *t) {
  size_t nslot = t->nslot ? t->nslot * 2 : 256;
  size_t *slot = calloc(nslot, sizeof *slot);
  if (!slot) return -1;
  for (size_t i = 0; i < t->n; i++) {
    size_t j = fnv1a(t->buf + t->off[i]) & (nslot - 1);
    while (slot[j]) j = (j + 1) & (nslot - 1);
    slot[j] = i + 1;
  }
  free(t->slot);
  t->slot = slot;
  t->nslot = nslot;
  return 0;
}

/* Room for one more string of len bytes; 0 or -1 when out of memory. */
static int st_room(strtab *t, size_t len) {
  if (t->n == t->capn) {
    size_t capn = t->capn ? t->capn * 2 : 256;
    size_t *off = realloc(t->off, capn * sizeof *off);
    if (!off) return -1;
    t->off = off;
    uint64_t *loc = realloc(t->loc, capn * sizeof *loc);
    if (!loc) return -1;
    t->loc = loc;
    t->capn = capn;
  }
  if (t->cap - t->len <= len) {
    size_t cap = t->cap ? t->cap : 4096;
    while (cap - t->len <= len) cap *= 2;
    char *buf = realloc(t->buf, cap);
    if (!buf) return -1;
    t->buf = buf;
    t->cap = cap;
  }
  if (2 * (t->n + 1) > t->nslot) return st_rehash(t);
  return 0;
}

/* z's index in the table, added if new; 0 or -1 when out of memory. */
static int st_intern(strtab *t, const char *z, int64_t *out) {
  size_t len = strlen(z);
  if (st_room(t, len) != 0) return -1;
  size_t j = fnv1a(z) & (t->nslot - 1);
  for (; t->slot[j]; j = (j + 1) & (t->nslot - 1)) {
    size_t i = t->slot[j] - 1;
    if (!strcmp(t->buf + t->off[i], z)) {
      *out = (int64_t)i;
      return 0;
    }
  }
  memcpy(t->buf + t->len, z, len + 1);
  t->off[t->n] = t->len;
  t->loc[t->n] = 0;
  t->len += len + 1;
  t->slot[j] = t->n + 1;
  *out = (int64_t)t->n++;
  return 0;
}

static void st_free(strtab *t) {
  free(t->buf);
  free(t->off);
  free(t->loc);
  free(t->slot);
}

/* ---- the profile, built over arrays sized by the snapshot's rows ---- */

typedef struct {
  strtab st;
  /* one sample per row; two frames, two values and two labels per sample */
  pb_sample *samples;
  pb_sample **psamples;
  uint64_t *loc_ids;
  int64_t *values;
  pb_label *labels;
  pb_label **plabels;
  size_t nsamples;
  /* one Location, Line and Function per distinct frame name; at most two per row */
  pb_location *locs;
  pb_location **plocs;
  pb_line *lines;
  pb_line **plines;
  pb_function *fns;
  pb_function **pfns;
  size_t nlocs;
  /* the indices of the strings the samples share */
  int64_t s_class, s_object_size, s_bytes;
  pb_mapping mapping, *pmapping;
  pb_value_type sample_types[2], period_type;
  pb_value_type *psample_types[2];
  int64_t comments[4];
  size_t ncomments;
  char **strings; /* st's strings as the string_table, once built */
} builder;

static int b_alloc(builder *b, size_t nrows) {
  /* calloc checks the products; 2 * nrows cannot wrap while s->rows exists */
  size_t n1 = nrows + 1, n2 = 2 * nrows + 1;
  b->samples = calloc(n1, sizeof *b->samples);
  b->psamples = calloc(n1, sizeof *b->psamples);
  b->loc_ids = calloc(n2, sizeof *b->loc_ids);
  b->values = calloc(n2, sizeof *b->values);
  b->labels = calloc(n2, sizeof *b->labels);
  b->plabels = calloc(n2, sizeof *b->plabels);
  b->locs = calloc(n2, sizeof *b->locs);
  b->plocs = calloc(n2, sizeof *b->plocs);
  b->lines = calloc(n2, sizeof *b->lines);
  b->plines = calloc(n2, sizeof *b->plines);
  b->fns = calloc(n2, sizeof *b->fns);
  b->pfns = calloc(n2, sizeof *b->pfns);
  bool ok = b->samples && b->psamples && b->loc_ids && b->values && b->labels && b->plabels && b->locs &&
            b->plocs && b->lines && b->plines && b->fns && b->pfns;
  return ok ? 0 : -1; /* b_free frees what was allocated */
}

static void b_free(builder *b) {
  st_free(&b->st);
  free(b->samples);
  free(b->psamples);
  free(b->loc_ids);
  free(b->values);
  free(b->labels);
  free(b->plabels);
  free(b->locs);
  free(b->plocs);
  free(b->lines);
  free(b->plines);
  free(b->fns);
  free(b->pfns);
  free(b->strings);
}

/* The id of the Location named name, made with its Line and Function on first
 * use; 0 when out of memory. name is both name and system_name, so that
 * pprof's -symbolize and demangling leave it as it is. */
static uint64_t b_frame(builder *b, const char *name) {
  int64_t si;
  if (st_intern(&b->st, name, &si) != 0) return 0;
  if (b->st.loc[si]) return b->st.loc[si];
  size_t i = b->nlocs++;
  uint64_t id = i + 1; /* ids are nonzero */
  b->fns[i] = (pb_function)PERFTOOLS__PROFILES__FUNCTION__INIT;
  b->fns[i].id = id;
  b->fns[i].name = b->fns[i].system_name = si;
  b->fns[i].filename = 0; /* "" */
  b->pfns[i] = &b->fns[i];
  b->lines[i] = (pb_line)PERFTOOLS__PROFILES__LINE__INIT;
  b->lines[i].function_id = id;
  b->plines[i] = &b->lines[i];
  b->locs[i] = (pb_location)PERFTOOLS__PROFILES__LOCATION__INIT;
  b->locs[i].id = id;
  b->locs[i].mapping_id = 1; /* b->mapping */
  b->locs[i].n_line = 1;
  b->locs[i].line = &b->plines[i];
  b->plocs[i] = &b->locs[i];
  return b->st.loc[si] = id;
}

/* The row's label; a long name is used whole rather than cut to a buffer,
 * since two generic types cut to the same prefix would merge in pprof. */
static const char *row_label(const mw_row *r, char *buf, size_t n) {
  if (r->name && strlen(r->name) >= n) return r->name;
  mw_row_label(r, buf, n);
  return buf;
}

/* One sample for row r: values [objects, bytes], stack [label, size class],
 * labels class=N and object_size=N bytes. */
static int b_row(builder *b, const mw_row *r, const char *path, char *err, size_t errn) {
  char label[512], frame[64], cls[16];
  const char *lz = row_label(r, label, sizeof label);
  if (r->objects > INT64_MAX || r->bytes > INT64_MAX || r->object_size > INT64_MAX)
    return refuse(err, errn,
                  "cannot write %s: row %s (%" PRIu64 " objects, %" PRIu64 " bytes, object size %" PRIu64
                  ") exceeds pprof's signed 64-bit values: a corrupt snapshot?",
                  path, lz, r->objects, r->bytes, r->object_size);
  if (r->sizeclass)
    snprintf(frame, sizeof frame, "size class %" PRIu32 " (%" PRIu64 " B)", r->sizeclass, r->object_size);
  else
    snprintf(frame, sizeof frame, "size class 0 (large objects)");
  snprintf(cls, sizeof cls, "%" PRIu32, r->sizeclass);

  size_t k = b->nsamples++;
  uint64_t *ids = &b->loc_ids[2 * k];
  int64_t *vals = &b->values[2 * k];
  pb_label *lab = &b->labels[2 * k];
  pb_sample *sm = &b->samples[k];
  if (!(ids[0] = b_frame(b, lz)) || !(ids[1] = b_frame(b, frame))) goto oom;
  vals[0] = (int64_t)r->objects;
  vals[1] = (int64_t)r->bytes;
  lab[0] = (pb_label)PERFTOOLS__PROFILES__LABEL__INIT;
  lab[0].key = b->s_class;
  if (st_intern(&b->st, cls, &lab[0].str) != 0) goto oom;
  lab[1] = (pb_label)PERFTOOLS__PROFILES__LABEL__INIT;
  lab[1].key = b->s_object_size;
  lab[1].num = (int64_t)r->object_size;
  lab[1].num_unit = b->s_bytes;
  b->plabels[2 * k] = &lab[0];
  b->plabels[2 * k + 1] = &lab[1];
  *sm = (pb_sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
  sm->n_location_id = 2;
  sm->location_id = ids;
  sm->n_value = 2;
  sm->value = vals;
  sm->n_label = 2;
  sm->label = &b->plabels[2 * k];
  b->psamples[k] = sm;
  return 0;
oom:
  return refuse(err, errn, "cannot write %s: out of memory", path);
}

/* A comment line (pprof -comments prints them). */
static int b_comment(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int b_comment(builder *b, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (b->ncomments == sizeof b->comments / sizeof b->comments[0]) return 0;
  return st_intern(&b->st, line, &b->comments[b->ncomments++]);
}

/* Where the snapshot comes from and how exact it is, as the profile's comments. */
static int b_comments(builder *b, const mw_snap *s) {
  char gc[40] = "";
  if (s->gc_cycle) snprintf(gc, sizeof gc, " gc_cycle %" PRIu64, s->gc_cycle);
  int rc = b_comment(b, "sonde memwatch: pid %" PRId64 "%s%s %s%s", s->pid, s->exe ? " " : "", s->exe ? s->exe : "",
                     s->go_version ? s->go_version : "(Go version unknown)", gc);
  if (rc == 0)
    rc = b_comment(b, "heap: %" PRIu64 " objects, %" PRIu64 " bytes in %" PRIu64 " spans", s->objects, s->bytes,
                   s->spans);
  if (rc == 0 && !s->has_types)
    rc = b_comment(b, "object types: not recorded by this runtime (Go before 1.22); rows are size classes");
  if (rc == 0 && (s->unswept_spans || s->unreadable_spans || s->bad_headers))
    rc = b_comment(b,
                   "inexact: %" PRIu64 " unswept spans (their dead objects are counted), %" PRIu64
                   " unreadable spans, %" PRIu64 " bad object headers",
                   s->unswept_spans, s->unreadable_spans, s->bad_headers);
  return rc;
}

static int b_build(builder *b, pb_profile *p, const mw_snap *s, const char *path, char *err, size_t errn) {
  int64_t empty, inuse_objects, count, inuse_space, space;
  if (b_alloc(b, s->nrows) != 0 || st_intern(&b->st, "", &empty) != 0 ||
      st_intern(&b->st, "inuse_objects", &inuse_objects) != 0 || st_intern(&b->st, "count", &count) != 0 ||
      st_intern(&b->st, "inuse_space", &inuse_space) != 0 || st_intern(&b->st, "bytes", &b->s_bytes) != 0 ||
      st_intern(&b->st, "space", &space) != 0 || st_intern(&b->st, "class", &b->s_class) != 0 ||
      st_intern(&b->st, "object_size", &b->s_object_size) != 0 || b_comments(b, s) != 0)
    return refuse(err, errn, "cannot write %s: out of memory", path);
  for (size_t i = 0; i < s->nrows; i++) {
    const mw_row *r = &s->rows[i];
    if (!r->objects && !r->bytes) continue;
    if (b_row(b, r, path, err, errn) != 0) return -1;
  }
  b->strings = malloc(b->st.n * sizeof *b->strings);
  if (!b->strings) return refuse(err, errn, "cannot write %s: out of memory", path);
  for (size_t i = 0; i < b->st.n; i++) b->strings[i] = b->st.buf + b->st.off[i];

  /* Go's own heap profile says ["space", "bytes"] with period = the sampling
   * rate; these counts are exact, so 1. */
  b->sample_types[0] = (pb_value_type)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
  b->sample_types[0].type = inuse_objects;
  b->sample_types[0].unit = count;
  b->sample_types[1] = (pb_value_type)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
  b->sample_types[1].type = inuse_space;
  b->sample_types[1].unit = b->s_bytes;
  b->psample_types[0] = &b->sample_types[0];
  b->psample_types[1] = &b->sample_types[1];
  b->period_type = (pb_value_type)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
  b->period_type.type = space;
  b->period_type.unit = b->s_bytes;

  /* no file and no build id: two snapshots' mappings are the same one to
   * -diff_base, whatever the executables */
  b->mapping = (pb_mapping)PERFTOOLS__PROFILES__MAPPING__INIT;
  b->mapping.id = 1;
  b->mapping.has_functions = 1;
  b->pmapping = &b->mapping;

  *p = (pb_profile)PERFTOOLS__PROFILES__PROFILE__INIT;
  p->n_sample_type = 2;
  p->sample_type = b->psample_types;
  p->n_sample = b->nsamples;
  p->sample = b->psamples;
  p->n_mapping = 1;
  p->mapping = &b->pmapping;
  p->n_location = b->nlocs;
  p->location = b->plocs;
  p->n_function = b->nlocs;
  p->function = b->pfns;
  p->n_string_table = b->st.n;
  p->string_table = b->strings;
  p->time_nanos = s->unix_ns;
  p->period_type = &b->period_type;
  p->period = 1;
  p->n_comment = b->ncomments;
  p->comment = b->comments;
  p->default_sample_type = inuse_space;
  return 0;
}

/* ---- gzip to a file ---- */

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return -1;
    if (k == 0) {
      errno = ENOSPC; /* write() made no progress and said nothing: a full disk is the usual cause */
      return -1;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* raw, gzip-compressed, to fd. */
static int write_gz(int fd, const uint8_t *raw, size_t n, const char *path, char *err, size_t errn) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  /* 15 + 16: a 32 KiB window with the gzip wrapper, which go tool pprof expects */
  int zrc = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (zrc != Z_OK) return refuse(err, errn, "cannot write %s: zlib: %s", path, zs.msg ? zs.msg : zError(zrc));
  uint8_t out[64 * 1024];
  int rc = 0;
  do {
    /* avail_in is 32 bits: feed at most 1 GiB at a time */
    if (zs.avail_in == 0 && n > 0) {
      zs.next_in = (Bytef *)raw;
      zs.avail_in = (uInt)(n < (1u << 30) ? n : (1u << 30));
      raw += zs.avail_in;
      n -= zs.avail_in;
    }
    zs.next_out = out;
    zs.avail_out = sizeof out;
    zrc = deflate(&zs, n == 0 ? Z_FINISH : Z_NO_FLUSH);
    if (zrc == Z_STREAM_ERROR) {
      rc = refuse(err, errn, "cannot write %s: zlib: %s", path, zs.msg ? zs.msg : zError(zrc));
      break;
    }
    if (write_all(fd, out, sizeof out - zs.avail_out) != 0) {
      rc = refuse(err, errn, "cannot write %s: %s", path, strerror(errno));
      break;
    }
  } while (zrc != Z_STREAM_END);
  deflateEnd(&zs);
  return rc;
}

/* raw, gzip-compressed, to path through <sonde/file.h>: written beside it
 * under a name nobody can guess, synced, then renamed over it, so that path
 * is the old file or the whole new one and never a part; a device or pipe
 * (/dev/stdout) is written in place. A symlink at path is replaced, as mv
 * would; the file it pointed to is not written. */
static int write_atomic(const char *path, const uint8_t *raw, size_t n, char *err, size_t errn) {
  sonde_outfile o;
  int e = sonde_outfile_open(&o, path);
  if (e) return refuse(err, errn, "cannot write %s: %s", path, strerror(e));
  int rc = write_gz(o.fd, raw, n, path, err, errn);
  if (rc != 0) sonde_outfile_abort(&o);
  else if ((e = sonde_outfile_commit(&o)) != 0) rc = refuse(err, errn, "cannot write %s: %s", path, strerror(e));
  return rc;
}

int mw_pprof_write(const mw_snap *s, const char *path, char *err, size_t errn) {
  builder b;
  pb_profile p;
  memset(&b, 0, sizeof b);
  int rc = b_build(&b, &p, s, path, err, errn);
  uint8_t *raw = NULL;
  size_t n = 0;
  if (rc == 0) {
    n = perftools__profiles__profile__get_packed_size(&p);
    raw = malloc(n ? n : 1);
    if (!raw) rc = refuse(err, errn, "cannot write %s: out of memory", path);
    else if (perftools__profiles__profile__pack(&p, raw) != n)
      rc = refuse(err, errn, "cannot write %s: protobuf-c packed a size other than it measured", path);
  }
  b_free(&b);
  if (rc == 0) rc = write_atomic(path, raw, n, err, errn);
  free(raw);
  return rc;
}
