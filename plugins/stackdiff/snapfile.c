/* snapfile.c: reading a snapshot file back (format "sonde-stackdiff-snapshot",
 * version 1, docs/stackdiff.md) into the model.
 *
 * yajl parses as a stream of events, so a file of 100,000 goroutines is
 * read in one pass through a 256 KiB buffer straight into the model, never
 * as a tree of JSON objects. The file is input from anyone: each value's
 * type is checked against the format, bounds (sd.h) cap what one file can
 * make the plugin hold, and every refusal names the file, the line and the
 * goroutine. Keys this version does not know are skipped: a later sonde may
 * add fields within version 1. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "sd.h"

/* Where an event lands: the kind of container it is in. */
typedef enum { C_NONE, C_TOP, C_GS, C_G, C_CREATOR, C_FRAMES, C_FRAME, C_SKIP } container;

typedef enum { T_INT, T_UINT, T_STR, T_BOOL, T_MAP_OR_NULL, T_ARRAY } vtype;

typedef enum {
  K_UNKNOWN,
  /* the document */
  K_FORMAT, K_VERSION, K_PID, K_GO_VERSION, K_EXE, K_TAKEN_AT, K_COUNT, K_GOROUTINES,
  /* a goroutine */
  K_ID, K_STATUS, K_WAIT_REASON, K_WAIT_MINUTES, K_PARENT_ID, K_SYSTEM, K_LOCKED, K_STACK_SIZE, K_CREATED_BY,
  K_FRAMES,
  /* a frame */
  K_FUNCTION, K_FILE, K_LINE, K_PC, K_INLINED,
} key;

typedef struct {
  const char *name;
  key k;
  vtype t;
  size_t len; /* strlen(name) */
} field;

#define F(name, k, t) {name, k, t, sizeof(name) - 1}
static const field top_fields[] = {
    F("format", K_FORMAT, T_STR),         F("version", K_VERSION, T_INT),      F("pid", K_PID, T_INT),
    F("go_version", K_GO_VERSION, T_STR), F("exe", K_EXE, T_STR),              F("taken_at", K_TAKEN_AT, T_STR),
    F("goroutine_count", K_COUNT, T_UINT), F("goroutines", K_GOROUTINES, T_ARRAY), {NULL, K_UNKNOWN, T_INT, 0}};
static const field g_fields[] = {
    F("id", K_ID, T_INT),           F("status", K_STATUS, T_STR),     F("wait_reason", K_WAIT_REASON, T_STR),
    F("wait_minutes", K_WAIT_MINUTES, T_INT), F("parent_id", K_PARENT_ID, T_INT), F("system", K_SYSTEM, T_BOOL),
    F("locked_to_thread", K_LOCKED, T_BOOL),  F("stack_size", K_STACK_SIZE, T_UINT),
    F("created_by", K_CREATED_BY, T_MAP_OR_NULL), F("frames", K_FRAMES, T_ARRAY), {NULL, K_UNKNOWN, T_INT, 0}};
static const field frame_fields[] = {
    F("function", K_FUNCTION, T_STR), F("file", K_FILE, T_STR),        F("line", K_LINE, T_UINT),
    F("pc", K_PC, T_UINT),            F("inlined", K_INLINED, T_BOOL), {NULL, K_UNKNOWN, T_INT, 0}};

#undef F

static const char *type_name[] = {"an integer", "a non-negative integer", "a string", "true or false",
                                  "an object or null", "an array"};

enum { MAX_TRACKED = 8 };

typedef struct {
  const char *path;
  sd_snap *s;
  yajl_handle yh;
  container stack[MAX_TRACKED];
  int depth;     /* containers open, stack[depth - 1] the innermost */
  int skip;      /* containers open inside a skipped value */
  const field *f; /* the key just read in the innermost map; NULL before the first */
  sd_frame *frame; /* the frame or creator being filled */
  int g_has_id, frame_has_function;
  int format_ok, has_version, has_goroutines, top_seen;
  uint64_t declared; /* goroutine_count */
  int has_declared;
  char err[600]; /* set when a callback stops the parse */
  int rc;        /* and the sonde_rc it stopped with */
} reader;

static int stop(reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int stop(reader *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, sizeof r->err, fmt, ap);
  va_end(ap);
  r->rc = SONDE_EINVAL;
  return 0; /* cancels the parse */
}

static int nomem(reader *r, const char *what, size_t n) {
  stop(r, "out of memory after %zu %s", n, what);
  r->rc = SONDE_ENOMEM;
  return 0;
}

static container top(const reader *r) { return r->depth ? r->stack[r->depth - 1] : C_NONE; }

/* "goroutine 12 (id 345)", naming the goroutine a problem is in. */
static const char *where(reader *r, char *buf, size_t n) {
  container c = top(r);
  if (c == C_TOP || c == C_NONE || c == C_GS) return "the document";
  const sd_g *g = &r->s->g[r->s->ng - 1];
  if (r->g_has_id)
    snprintf(buf, n, "goroutine %zu (id %" PRId64 ")%s", r->s->ng, g->id,
             c == C_FRAME ? ", a frame" : c == C_CREATOR ? ", created_by" : "");
  else
    snprintf(buf, n, "goroutine %zu%s", r->s->ng, c == C_FRAME ? ", a frame" : c == C_CREATOR ? ", created_by" : "");
  return buf;
}

/* Checks the value about to land against the current key; returns the key,
 * K_UNKNOWN for a value to ignore, or -1 after stop(). */
static int expect(reader *r, vtype t) {
  if (r->skip) return K_UNKNOWN;
  container c = top(r);
  if (c == C_NONE) return stop(r, "not a stackdiff snapshot: the document is not a JSON object") - 1;
  if (c == C_GS || c == C_FRAMES) { /* an array's element: always an object */
    char w[96];
    return stop(r, "%s: \"%s\" holds objects, found another value", where(r, w, sizeof w),
                c == C_GS ? "goroutines" : "frames") - 1;
  }
  if (!r->f || r->f->k == K_UNKNOWN) return K_UNKNOWN;
  if (r->f->t == t || (r->f->t == T_UINT && t == T_INT) || (r->f->t == T_MAP_OR_NULL && t == T_MAP_OR_NULL))
    return (int)r->f->k;
  char w[96];
  return stop(r, "%s: \"%s\" must be %s", where(r, w, sizeof w), r->f->name, type_name[r->f->t]) - 1;
}

static uint32_t intern(reader *r, const unsigned char *v, size_t n) {
  if (n > SD_MAX_STRING) {
    stop(r, "a string of %zu bytes, longer than any a snapshot holds (%d)", n, SD_MAX_STRING);
    return SD_NOSTR;
  }
  uint32_t id = sd_intern(r->s->strs, (const char *)v, n);
  if (id == SD_NOSTR) nomem(r, "strings", r->s->strs->n);
  return id;
}

static int on_string(void *ctx, const unsigned char *v, size_t n) {
  reader *r = ctx;
  int k = expect(r, T_STR);
  if (k < 0) return 0;
  if (k == K_UNKNOWN) return 1;
  if (k == K_FORMAT) {
    if (n != strlen(SD_FORMAT) || memcmp(v, SD_FORMAT, n) != 0)
      return stop(r, "not a stackdiff snapshot: \"format\" is \"%.*s\", not \"" SD_FORMAT "\"", n > 64 ? 64 : (int)n,
                  (const char *)v);
    r->format_ok = 1;
    return 1;
  }
  uint32_t id = intern(r, v, n);
  if (id == SD_NOSTR) return 0;
  sd_snap *s = r->s;
  switch ((key)k) {
  case K_GO_VERSION: s->go_version = id; break;
  case K_EXE: s->exe = id; break;
  case K_TAKEN_AT: s->taken_at = id; break;
  case K_STATUS: s->g[s->ng - 1].status = id; break;
  case K_WAIT_REASON: s->g[s->ng - 1].wait_reason = id; break;
  case K_FUNCTION:
    r->frame->fn = id;
    r->frame_has_function = 1;
    break;
  case K_FILE: r->frame->file = id; break;
  default: break;
  }
  return 1;
}

/* Every number arrives as text: integers only, within their field's range. */
static int on_number(void *ctx, const char *v, size_t n) {
  reader *r = ctx;
  int k = expect(r, T_INT);
  if (k < 0) return 0;
  if (k == K_UNKNOWN) return 1;
  char w[96];
  int neg = n > 0 && v[0] == '-';
  size_t digits = 0;
  uint64_t u = 0;
  int overflow = 0;
  /* digits only (no fraction, no exponent), accumulated as they are checked */
  for (size_t i = neg; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
    unsigned d = (unsigned)(v[i] - '0');
    if (u > (UINT64_MAX - d) / 10) overflow = 1;
    u = u * 10 + d;
  }
  if (digits == 0 || neg + digits != n)
    return stop(r, "%s: \"%s\" must be %s, found %.*s", where(r, w, sizeof w), r->f->name, type_name[r->f->t],
                n > 24 ? 24 : (int)n, v);
  int64_t i = 0;
  if (r->f->t == T_UINT) {
    if (neg && u) return stop(r, "%s: \"%s\" must not be negative, found %.*s", where(r, w, sizeof w), r->f->name,
                              n > 24 ? 24 : (int)n, v);
  } else {
    if (u > (uint64_t)INT64_MAX + (uint64_t)neg) overflow = 1;
    i = neg ? (int64_t)(0 - u) : (int64_t)u;
  }
  if (overflow)
    return stop(r, "%s: \"%s\" is out of range: %.*s", where(r, w, sizeof w), r->f->name, n > 24 ? 24 : (int)n, v);
  sd_snap *s = r->s;
  sd_g *g = s->ng ? &s->g[s->ng - 1] : NULL;
  switch ((key)k) {
  case K_VERSION:
    if (i != SD_FORMAT_VERSION)
      return stop(r, "snapshot format version %" PRId64 " is not one this stackdiff reads (it reads version %d)%s", i,
                  SD_FORMAT_VERSION, i > SD_FORMAT_VERSION ? ": the file comes from a newer sonde; upgrade sonde" : "");
    r->has_version = 1;
    break;
  case K_PID: s->pid = i; break;
  case K_COUNT:
    if (u > SD_MAX_GOROUTINES) return stop(r, "\"goroutine_count\" %" PRIu64 " is more than a snapshot holds", u);
    r->declared = u;
    r->has_declared = 1;
    break;
  case K_ID:
    g->id = i;
    r->g_has_id = 1;
    break;
  case K_WAIT_MINUTES: g->wait_minutes = i; break;
  case K_PARENT_ID: g->parent_id = i; break;
  case K_STACK_SIZE:
    g->stack_size = u;
    s->has_stack_size = 1; /* a goroutine without one reads as 0, unknown */
    break;
  case K_LINE:
    if (u > UINT32_MAX) return stop(r, "%s: \"line\" %" PRIu64 " is out of range", where(r, w, sizeof w), u);
    r->frame->line = (uint32_t)u;
    break;
  case K_PC: r->frame->pc = u; break;
  default: break;
  }
  return 1;
}

static int on_bool(void *ctx, int v) {
  reader *r = ctx;
  int k = expect(r, T_BOOL);
  if (k < 0) return 0;
  sd_g *g = r->s->ng ? &r->s->g[r->s->ng - 1] : NULL;
  switch (k) {
  case K_SYSTEM: g->flags = v ? g->flags | SD_G_SYSTEM : g->flags & ~(uint32_t)SD_G_SYSTEM; break;
  case K_LOCKED: g->flags = v ? g->flags | SD_G_LOCKED : g->flags & ~(uint32_t)SD_G_LOCKED; break;
  case K_INLINED: r->frame->inlined = v != 0; break;
  default: break;
  }
  return 1;
}

static int on_null(void *ctx) {
  reader *r = ctx;
  int k = expect(r, T_MAP_OR_NULL);
  if (k < 0) return 0;
  return 1; /* created_by: null, the goroutine has no creator */
}

static int open_container(reader *r, container c) {
  if (r->depth == MAX_TRACKED) return stop(r, "nested deeper than a snapshot is");
  r->stack[r->depth++] = c;
  r->f = NULL;
  return 1;
}

static int on_start_map(void *ctx) {
  reader *r = ctx;
  if (r->skip) return r->skip++, 1;
  container c = top(r);
  char w[96];
  if (c == C_NONE) {
    r->top_seen = 1;
    return open_container(r, C_TOP);
  }
  if (c == C_GS) {
    if (r->s->ng >= SD_MAX_GOROUTINES) return stop(r, "more than %d goroutines: not a snapshot", SD_MAX_GOROUTINES);
    sd_g *g = sd_snap_add_g(r->s);
    if (!g) return nomem(r, "goroutines", r->s->ng);
    r->g_has_id = 0;
    return open_container(r, C_G);
  }
  if (c == C_FRAMES) {
    sd_g *g = &r->s->g[r->s->ng - 1];
    if (g->nframes >= SD_MAX_FRAMES)
      return stop(r, "%s has more than %d frames: not a snapshot sonde wrote", where(r, w, sizeof w), SD_MAX_FRAMES);
    r->frame = sd_snap_add_frames(r->s, 1);
    if (!r->frame) return nomem(r, "frames", r->s->nf);
    g = &r->s->g[r->s->ng - 1];
    g->nframes++;
    r->frame_has_function = 0;
    return open_container(r, C_FRAME);
  }
  int k = expect(r, T_MAP_OR_NULL);
  if (k < 0) return 0;
  if (k == K_CREATED_BY) {
    sd_g *g = &r->s->g[r->s->ng - 1];
    g->flags |= SD_G_CREATOR;
    r->frame = &g->creator;
    memset(r->frame, 0, sizeof *r->frame);
    r->frame_has_function = 0;
    return open_container(r, C_CREATOR);
  }
  r->skip = 1;
  return 1;
}

static int on_map_key(void *ctx, const unsigned char *v, size_t n) {
  reader *r = ctx;
  if (r->skip) return 1;
  const field *fs = NULL;
  switch (top(r)) {
  case C_TOP: fs = top_fields; break;
  case C_G: fs = g_fields; break;
  case C_CREATOR:
  case C_FRAME: fs = frame_fields; break;
  default: return stop(r, "unexpected key");
  }
  const field *f = fs;
  while (f->name && (f->len != n || memcmp(f->name, v, n) != 0)) f++;
  r->f = f;
  if (f->k == K_INLINED && top(r) == C_CREATOR) r->f = &frame_fields[5]; /* created_by has no "inlined": ignore it */
  return 1;
}

static int on_end_map(void *ctx) {
  reader *r = ctx;
  if (r->skip) return r->skip--, 1;
  container c = top(r);
  char w[96];
  if (c == C_G && !r->g_has_id) return stop(r, "%s has no \"id\"", where(r, w, sizeof w));
  if ((c == C_FRAME || c == C_CREATOR) && !r->frame_has_function)
    return stop(r, "%s has no \"function\"", where(r, w, sizeof w));
  r->depth--;
  r->f = NULL;
  return 1;
}

static int on_start_array(void *ctx) {
  reader *r = ctx;
  if (r->skip) return r->skip++, 1;
  if (top(r) == C_NONE) return stop(r, "not a stackdiff snapshot: the document is an array, not an object");
  int k = expect(r, T_ARRAY);
  if (k < 0) return 0;
  if (k == K_GOROUTINES) {
    if (r->has_goroutines) return stop(r, "\"goroutines\" appears twice");
    r->has_goroutines = 1;
    return open_container(r, C_GS);
  }
  if (k == K_FRAMES) {
    sd_g *g = &r->s->g[r->s->ng - 1];
    char w[96];
    if (g->nframes) return stop(r, "%s: \"frames\" appears twice", where(r, w, sizeof w));
    g->frame0 = r->s->nf;
    return open_container(r, C_FRAMES);
  }
  r->skip = 1;
  return 1;
}

static int on_end_array(void *ctx) {
  reader *r = ctx;
  if (r->skip) return r->skip--, 1;
  r->depth--;
  r->f = NULL;
  return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

enum { CHUNK = 256 * 1024 };

/* yajl's message without its "parse error: " prefix and trailing newline. */
static void yajl_reason(yajl_handle yh, const unsigned char *chunk, size_t n, char *dst, size_t dn) {
  unsigned char *m = yajl_get_error(yh, 0, chunk, n);
  const char *z = m ? (const char *)m : "malformed JSON";
  if (!strncmp(z, "parse error: ", 13)) z += 13;
  snprintf(dst, dn, "%s", z);
  size_t k = strlen(dst);
  while (k && (dst[k - 1] == '\n' || dst[k - 1] == ' ' || dst[k - 1] == '.')) dst[--k] = 0;
  if (m) yajl_free_error(yh, m);
}

/* Records a refusal in err and returns rc. */
static int refuse(char *err, size_t errn, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int refuse(char *err, size_t errn, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errn, fmt, ap);
  va_end(ap);
  return rc;
}

/* Line and column (1-based) of byte `at` of the file: counted only for a
 * message, by reading the file again, so the parse never counts lines. */
static void position_in_file(int fd, uint64_t at, unsigned char *buf, size_t bufn, uint64_t *line, uint64_t *col) {
  *line = 1;
  *col = 1;
  for (uint64_t off = 0; off < at;) {
    size_t want = at - off < bufn ? (size_t)(at - off) : bufn;
    ssize_t n = pread(fd, buf, want, (off_t)off);
    if (n <= 0) return;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        (*line)++;
        *col = 1;
      } else {
        (*col)++;
      }
    }
    off += (uint64_t)n;
  }
}

int sd_snap_read(const char *path, sd_snap *s, char *err, size_t errn) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return refuse(err, errn, SONDE_EIO, "cannot open %s: %s", path, strerror(errno));
  unsigned char *buf = malloc(CHUNK);
  reader r = {.path = path, .s = s};
  r.yh = buf ? yajl_alloc(&callbacks, NULL, &r) : NULL;
  if (!r.yh) {
    free(buf);
    close(fd);
    return refuse(err, errn, SONDE_ENOMEM, "out of memory");
  }
  s->file = path;
  /* Room for as many goroutines and frames as a file this size can hold (a
   * frame takes at least 64 bytes of JSON, a goroutine 256): one allocation
   * each instead of a dozen reallocations; pages never written cost nothing. */
  struct stat sb;
  if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
    uint64_t size = (uint64_t)sb.st_size;
    sd_snap_reserve(s, size / 256 + 1, size / 64 + 1);
  }
  int rc = SONDE_OK;
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = refuse(err, errn, SONDE_EIO, "cannot read %s: %s", path, strerror(errno));
      break;
    }
    yajl_status st = n ? yajl_parse(r.yh, buf, (size_t)n) : yajl_complete_parse(r.yh);
    if (st != yajl_status_ok) {
      size_t at = n ? yajl_get_bytes_consumed(r.yh) : 0;
      if (at > (size_t)n) at = (size_t)n;
      uint64_t l = 0, cl = 0;
      char why[300];
      if (n) yajl_reason(r.yh, buf, (size_t)n, why, sizeof why); /* before buf is reused */
      position_in_file(fd, total + at, buf, CHUNK, &l, &cl);
      if (st == yajl_status_client_canceled) {
        rc = refuse(err, errn, r.rc, "%s, line %" PRIu64 ": %s", path, l, r.err);
      } else if (n == 0 && total == 0) {
        rc = refuse(err, errn, SONDE_EINVAL, "%s is empty: not a stackdiff snapshot", path);
      } else if (n == 0) {
        rc = refuse(err, errn, SONDE_EINVAL,
                       "%s is truncated: it ends after %" PRIu64 " bytes, inside the snapshot (was it cut short, or is "
                       "it still being written?)", path, total);
      } else {
        rc = refuse(err, errn, SONDE_EINVAL, "%s is not valid JSON: line %" PRIu64 ", column %" PRIu64 ": %s", path, l,
                       cl, why);
      }
      break;
    }
    if (n == 0) break;
    total += (uint64_t)n;
  }
  if (rc == SONDE_OK) {
    if (!r.top_seen)
      rc = refuse(err, errn, SONDE_EINVAL, "%s is empty: not a stackdiff snapshot", path);
    else if (!r.format_ok)
      rc = refuse(err, errn, SONDE_EINVAL,
                     "%s is not a stackdiff snapshot: it has no \"format\" field (`sonde stackdiff snapshot` writes "
                     "files that start {\"format\": \"" SD_FORMAT "\", ...})", path);
    else if (!r.has_version)
      rc = refuse(err, errn, SONDE_EINVAL, "%s: the snapshot has no \"version\"", path);
    else if (!r.has_goroutines)
      rc = refuse(err, errn, SONDE_EINVAL, "%s: the snapshot has no \"goroutines\"", path);
    else if (r.has_declared && r.declared != s->ng)
      rc = refuse(err, errn, SONDE_EINVAL,
                     "%s: \"goroutine_count\" says %" PRIu64 " but the file lists %zu goroutines: the file was "
                     "edited or damaged", path, r.declared, s->ng);
  }
  yajl_free(r.yh);
  free(buf);
  close(fd);
  return rc;
}
