/* model.c: the snapshot model (mw.h): rows, strings, labels. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "mw.h"

/* Strings are copied into blocks that live as long as the snapshot. */
struct mw_strblock {
  struct mw_strblock *next;
  size_t used, cap;
  char data[];
};

enum { STRBLOCK = 64 * 1024 };

void mw_snap_init(mw_snap *s) {
  memset(s, 0, sizeof *s);
  s->resident_bytes = MW_UNKNOWN;
  s->rt_objects = s->rt_bytes = s->rt_heap_inuse = s->rt_stacks_inuse = MW_UNKNOWN;
  for (int c = 0; c < MW_NUM_CLASSES; c++)
    s->classes[c].resident_bytes = MW_UNKNOWN;
}

void mw_snap_free(mw_snap *s) {
  for (struct mw_strblock *b = s->strs, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(s->rows);
  mw_snap_init(s);
}

char *mw_snap_str(mw_snap *s, const char *str) {
  size_t n = strlen(str) + 1;
  struct mw_strblock *b = s->strs;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > STRBLOCK ? n : STRBLOCK;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = s->strs;
    b->used = 0;
    b->cap = cap;
    s->strs = b;
  }
  char *dst = b->data + b->used;
  memcpy(dst, str, n);
  b->used += n;
  return dst;
}

int mw_snap_add_row(mw_snap *s, const char *name, uint32_t sizeclass, uint64_t object_size, uint64_t objects,
                    uint64_t bytes) {
  if (s->nrows == s->caprows) {
    size_t cap = s->caprows ? s->caprows * 2 : 64;
    mw_row *r = realloc(s->rows, cap * sizeof *r);
    if (!r) return -1;
    s->rows = r;
    s->caprows = cap;
  }
  const char *copy = NULL;
  if (name && !(copy = mw_snap_str(s, name))) return -1;
  s->rows[s->nrows++] = (mw_row){copy, sizeclass, object_size, objects, bytes};
  return 0;
}

void mw_row_label(const mw_row *r, char *dst, size_t n) {
  if (r->name)
    snprintf(dst, n, "%s", r->name);
  else if (r->sizeclass)
    snprintf(dst, n, "class %u (%llu B)", r->sizeclass, (unsigned long long)r->object_size);
  else
    snprintf(dst, n, "large objects");
}

/* ---- the snapshot file ------------------------------------------------------ */


static void json_u64_or_null(FILE *f, const char *key, uint64_t v) {
  fprintf(f, "\"%s\": ", key);
  if (v == MW_UNKNOWN)
    fputs("null", f);
  else
    fprintf(f, "%" PRIu64, v);
}

void mw_time_rfc3339(int64_t unix_ns, char *dst, size_t n) {
  time_t t = (time_t)(unix_ns / 1000000000);
  struct tm tm;
  if (!gmtime_r(&t, &tm) || !strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(dst, n, "?");
}

int mw_snap_write_json(const mw_snap *s, FILE *f) {
  char when[40];
  mw_time_rfc3339(s->unix_ns, when, sizeof when);
  fprintf(f, "{\"format\": \"%s\", \"version\": %d,\n \"pid\": %" PRId64 ", \"exe\": ", MW_FORMAT, MW_FORMAT_VERSION,
          s->pid);
  sonde_json_string(f, s->exe);
  fputs(", \"go_version\": ", f);
  sonde_json_string(f, s->go_version);
  fprintf(f, ", \"time\": \"%s\", \"unix_ns\": %" PRId64 ",\n ", when, s->unix_ns);
  json_u64_or_null(f, "gc_cycle", s->gc_cycle);
  fprintf(f,
          ", \"has_types\": %s, \"unswept_spans\": %" PRIu64 ", \"unreadable_spans\": %" PRIu64
          ", \"bad_headers\": %" PRIu64 ",\n \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"spans\": %" PRIu64
          ", \"span_bytes\": %" PRIu64 ", ",
          s->has_types ? "true" : "false", s->unswept_spans, s->unreadable_spans, s->bad_headers, s->objects, s->bytes,
          s->spans, s->span_bytes);
  json_u64_or_null(f, "resident_bytes", s->resident_bytes);
  fputs(",\n \"runtime\": {", f);
  json_u64_or_null(f, "objects", s->rt_objects);
  fputs(", ", f);
  json_u64_or_null(f, "bytes", s->rt_bytes);
  fputs(", ", f);
  json_u64_or_null(f, "heap_inuse", s->rt_heap_inuse);
  fputs(", ", f);
  json_u64_or_null(f, "stacks_inuse", s->rt_stacks_inuse);
  fputs("},\n \"classes\": [", f);
  int first = 1;
  for (int c = 0; c < MW_NUM_CLASSES; c++) {
    const mw_class *k = &s->classes[c];
    if (!k->spans) continue;
    fprintf(f,
            "%s\n  {\"class\": %d, \"object_size\": %" PRIu64 ", \"spans\": %" PRIu64 ", \"span_bytes\": %" PRIu64
            ", \"slots\": %" PRIu64 ", \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64 ", ",
            first ? "" : ",", c, k->object_size, k->spans, k->span_bytes, k->slots, k->objects, k->bytes);
    json_u64_or_null(f, "resident_bytes", k->resident_bytes);
    fputc('}', f);
    first = 0;
  }
  fputs(first ? "],\n \"rows\": [" : "\n ],\n \"rows\": [", f);
  for (size_t i = 0; i < s->nrows; i++) {
    const mw_row *r = &s->rows[i];
    fprintf(f, "%s\n  {\"type\": ", i ? "," : "");
    sonde_json_string(f, r->name);
    fprintf(f, ", \"class\": %u, \"object_size\": %" PRIu64 ", \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
            r->sizeclass, r->object_size, r->objects, r->bytes);
  }
  fputs(s->nrows ? "\n ]}\n" : "]}\n", f);
  return ferror(f) ? -1 : 0;
}

/* ---- reading it back (yajl's tree: snapshot files are small) ---------------- */

enum { MAX_FILE = 256 << 20, MAX_ROWS = 1 << 20 };

typedef struct {
  const char *path;
  char *err;
  size_t errn;
} rd_ctx;

static int bad(rd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(rd_ctx *c, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errn, "%s: %s", c->path, msg);
  return -1;
}

static yajl_val get(yajl_val obj, const char *key) {
  const char *path[] = {key, NULL};
  return yajl_tree_get(obj, path, yajl_t_any);
}

/* A non-negative integer member; null reads as MW_UNKNOWN when nullable. */
static int get_u64(rd_ctx *c, yajl_val obj, const char *where, const char *key, bool nullable, uint64_t *out) {
  yajl_val v = get(obj, key);
  if (nullable && YAJL_IS_NULL(v)) {
    *out = MW_UNKNOWN;
    return 0;
  }
  if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
    return bad(c, "%s%s\"%s\" must be a non-negative integer%s", where, *where ? ": " : "", key,
               v ? "" : ", and is missing");
  *out = (uint64_t)YAJL_GET_INTEGER(v);
  return 0;
}

int mw_snap_read_json(const char *path, mw_snap *s, char *err, size_t errn) {
  rd_ctx c = {path, err, errn};
  mw_snap_init(s);
  FILE *f = fopen(path, "rb");
  if (!f) return bad(&c, "cannot open: %s", strerror(errno));
  char *text = malloc(MAX_FILE + 1);
  size_t n = text ? fread(text, 1, MAX_FILE + 1, f) : 0;
  int ferr = ferror(f);
  fclose(f);
  if (!text) return bad(&c, "out of memory");
  if (ferr || n > MAX_FILE) {
    free(text);
    return ferr ? bad(&c, "cannot read: %s", strerror(errno))
                : bad(&c, "larger than %d MiB: not a snapshot", MAX_FILE >> 20);
  }
  text[n] = '\0';
  if (n == 0) {
    free(text);
    return bad(&c, "empty file: not a memwatch snapshot");
  }
  char perr[256] = "";
  yajl_val root = yajl_tree_parse(text, perr, sizeof perr);
  free(text);
  if (!root) {
    perr[strcspn(perr, "\n")] = '\0'; /* yajl's next lines quote the text around the error */
    return bad(&c, "not JSON (truncated or damaged?): %s", perr);
  }
  int rc = -1;
  const char *fmt = YAJL_GET_STRING(get(root, "format"));
  yajl_val ver = get(root, "version");
  if (!YAJL_IS_OBJECT(root) || !fmt || strcmp(fmt, MW_FORMAT) != 0) {
    bad(&c, "not a memwatch snapshot (format is %s%s%s, expected \"%s\")", fmt ? "\"" : "", fmt ? fmt : "missing",
        fmt ? "\"" : "", MW_FORMAT);
    goto out;
  }
  if (!YAJL_IS_INTEGER(ver) || YAJL_GET_INTEGER(ver) != MW_FORMAT_VERSION) {
    bad(&c, "format version %lld; this memwatch reads version %d%s",
        YAJL_IS_INTEGER(ver) ? YAJL_GET_INTEGER(ver) : -1ll, MW_FORMAT_VERSION,
        YAJL_IS_INTEGER(ver) && YAJL_GET_INTEGER(ver) > MW_FORMAT_VERSION ? ": upgrade sonde" : "");
    goto out;
  }
  uint64_t pid, unix_ns;
  yajl_val exe = get(root, "exe"), gov = get(root, "go_version"), types = get(root, "has_types");
  if (get_u64(&c, root, "", "pid", false, &pid) || get_u64(&c, root, "", "unix_ns", false, &unix_ns) ||
      get_u64(&c, root, "", "gc_cycle", true, &s->gc_cycle) ||
      get_u64(&c, root, "", "unswept_spans", false, &s->unswept_spans) ||
      get_u64(&c, root, "", "unreadable_spans", false, &s->unreadable_spans) ||
      get_u64(&c, root, "", "bad_headers", false, &s->bad_headers) ||
      get_u64(&c, root, "", "objects", false, &s->objects) || get_u64(&c, root, "", "bytes", false, &s->bytes) ||
      get_u64(&c, root, "", "spans", false, &s->spans) || get_u64(&c, root, "", "span_bytes", false, &s->span_bytes) ||
      get_u64(&c, root, "", "resident_bytes", true, &s->resident_bytes))
    goto out;
  yajl_val rt = get(root, "runtime");
  if (rt && (!YAJL_IS_OBJECT(rt) || get_u64(&c, rt, "runtime", "objects", true, &s->rt_objects) ||
             get_u64(&c, rt, "runtime", "bytes", true, &s->rt_bytes) ||
             get_u64(&c, rt, "runtime", "heap_inuse", true, &s->rt_heap_inuse) ||
             get_u64(&c, rt, "runtime", "stacks_inuse", true, &s->rt_stacks_inuse))) {
    if (!YAJL_IS_OBJECT(rt)) bad(&c, "\"runtime\" must be an object");
    goto out;
  }
  if (!YAJL_IS_STRING(exe) || !YAJL_IS_STRING(gov) || !(YAJL_IS_TRUE(types) || YAJL_IS_FALSE(types))) {
    bad(&c, "\"exe\" and \"go_version\" must be strings and \"has_types\" true or false");
    goto out;
  }
  s->pid = (int64_t)pid;
  s->unix_ns = (int64_t)unix_ns;
  s->has_types = YAJL_IS_TRUE(types);
  if (!(s->exe = mw_snap_str(s, YAJL_GET_STRING(exe))) || !(s->go_version = mw_snap_str(s, YAJL_GET_STRING(gov)))) {
    bad(&c, "out of memory");
    goto out;
  }
  yajl_val classes = get(root, "classes"), rows = get(root, "rows");
  if (!YAJL_IS_ARRAY(classes) || !YAJL_IS_ARRAY(rows)) {
    bad(&c, "\"classes\" and \"rows\" must be lists");
    goto out;
  }
  for (size_t i = 0; i < classes->u.array.len; i++) {
    yajl_val e = classes->u.array.values[i];
    char where[48];
    snprintf(where, sizeof where, "classes[%zu]", i);
    uint64_t cls;
    if (get_u64(&c, e, where, "class", false, &cls)) goto out;
    if (cls >= MW_NUM_CLASSES) {
      bad(&c, "%s: size class %" PRIu64 " does not exist (0-%d)", where, cls, MW_NUM_CLASSES - 1);
      goto out;
    }
    mw_class *k = &s->classes[cls];
    if (get_u64(&c, e, where, "object_size", false, &k->object_size) ||
        get_u64(&c, e, where, "spans", false, &k->spans) ||
        get_u64(&c, e, where, "span_bytes", false, &k->span_bytes) ||
        get_u64(&c, e, where, "slots", false, &k->slots) || get_u64(&c, e, where, "objects", false, &k->objects) ||
        get_u64(&c, e, where, "bytes", false, &k->bytes) ||
        get_u64(&c, e, where, "resident_bytes", true, &k->resident_bytes))
      goto out;
  }
  if (rows->u.array.len > MAX_ROWS) {
    bad(&c, "%zu rows: more than %d", rows->u.array.len, MAX_ROWS);
    goto out;
  }
  for (size_t i = 0; i < rows->u.array.len; i++) {
    yajl_val e = rows->u.array.values[i], ty = get(e, "type");
    char where[48];
    snprintf(where, sizeof where, "rows[%zu]", i);
    uint64_t cls, osz, objs, bytes;
    if (get_u64(&c, e, where, "class", false, &cls) || get_u64(&c, e, where, "object_size", false, &osz) ||
        get_u64(&c, e, where, "objects", false, &objs) || get_u64(&c, e, where, "bytes", false, &bytes))
      goto out;
    if (cls >= MW_NUM_CLASSES || !(YAJL_IS_STRING(ty) || YAJL_IS_NULL(ty))) {
      bad(&c, "%s: needs a size class 0-%d and a \"type\" that is a string or null", where, MW_NUM_CLASSES - 1);
      goto out;
    }
    if (mw_snap_add_row(s, YAJL_GET_STRING(ty), (uint32_t)cls, osz, objs, bytes)) {
      bad(&c, "out of memory");
      goto out;
    }
  }
  uint64_t objs = 0, bytes = 0;
  for (size_t i = 0; i < s->nrows; i++)
    objs += s->rows[i].objects, bytes += s->rows[i].bytes;
  if (objs != s->objects || bytes != s->bytes) {
    bad(&c,
        "the rows add up to %" PRIu64 " objects and %" PRIu64 " bytes, the totals say %" PRIu64 " and %" PRIu64
        ": the file was changed or damaged",
        objs, bytes, s->objects, s->bytes);
    goto out;
  }
  rc = 0;
out:
  yajl_tree_free(root);
  if (rc) mw_snap_free(s);
  return rc;
}
