/* memwatch.c: the memwatch plugin (issue 7): its commands and hooks.
 *
 *   sonde memwatch snapshot -p PID [-o FILE] [--pprof FILE]   the heap, as JSON (and pprof)
 *   sonde memwatch diff A.json B.json                          what grew and what shrank
 *   sonde memwatch top -p PID                                  the largest types and classes now
 *   sonde memwatch watch -p PID --gc|--every D -o FILE         a snapshot per GC cycle or interval
 *
 * The heap comes from the host's heap service (ABI 1.3), read while the
 * process is stopped; this file turns it into the model of mw.h and routes
 * arguments. Inside a session the plugin keeps the last snapshot it took,
 * so that `memwatch diff` without files compares it with the heap now.
 * Only <sonde/plugin.h>, <sonde/util.h>, libyajl, protobuf-c, zlib and libc. */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sonde/plugin.h>
#include <sonde/util.h>

#include "mw.h"


SONDE_PLUGIN_NOTE("memwatch", "0.1.0");

/* ---- state ---------------------------------------------------------------- */
typedef struct {
  const sonde_host_api *api;
  int attached;
  uint64_t seq; /* snapshots written since on_load: %n */
  mw_snap last; /* the last snapshot taken in this session */
  int have_last;
  char last_name[4096];
  /* [memwatch] in sonde.ini */
  uint64_t every_ms;
  int on_attach, on_hit, auto_diff;
  long top;          /* default --top */
  char output[4096]; /* output = memwatch-%n.json */
  char pprof[4096];  /* pprof = memwatch-%n.pb.gz, "" for none */
} mw_state;

enum { DEFAULT_TOP = 20 };

/* ---- the heap from the host ---------------------------------------------- */

/* The heap now, as rows: the types the runtime records, then what is left
 * of each size class. */
static int take_live(sonde_host *h, mw_state *st, mw_snap *s) {
  const sonde_host_api *api = st->api;
  mw_snap_init(s);
  if (!SONDE_HAS_MEMBER(api, sonde_host_api, heap_info))
    return api->fail(h, SONDE_ENOTSUP, "this sonde is too old to read the heap for plugins (ABI 1.3 needed)");
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  sonde_heap_info hi = SONDE_INIT(sonde_heap_info);
  int rc = api->target_info(h, &ti);
  if (rc == SONDE_OK) rc = api->heap_info(h, &hi);
  if (rc != SONDE_OK) return rc;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  s->pid = ti.pid;
  s->unix_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  s->gc_cycle = hi.gc_cycle;
  s->has_types = hi.has_types;
  s->unswept_spans = hi.unswept_spans;
  s->unreadable_spans = hi.unreadable_spans;
  s->bad_headers = hi.bad_headers;
  s->rt_objects = hi.runtime_objects; /* a host is never older than its plugins: 1.3 has them */
  s->rt_bytes = hi.runtime_bytes;
  s->rt_heap_inuse = hi.runtime_heap_inuse;
  s->rt_stacks_inuse = hi.runtime_stacks_inuse;
  if (!(s->exe = mw_snap_str(s, ti.exe)) || !(s->go_version = mw_snap_str(s, ti.go_version))) goto nomem;
  bool resident = true;
  for (uint64_t i = 0; i < hi.nspans; i++) {
    sonde_heap_span sp = SONDE_INIT(sonde_heap_span);
    if ((rc = api->heap_span_get(h, i, &sp)) != SONDE_OK) return rc;
    if (sp.sizeclass >= MW_NUM_CLASSES) continue; /* the host bounds it; never index past */
    mw_class *c = &s->classes[sp.sizeclass];
    c->object_size = sp.sizeclass ? sp.elemsize : 0;
    c->spans++;
    c->span_bytes += sp.npages * 8192;
    c->slots += sp.nelems;
    c->objects += sp.nalloc;
    c->bytes += sp.nalloc * sp.elemsize;
    if (sp.resident_bytes == SONDE_UNKNOWN)
      resident = false;
    else
      c->resident_bytes = (c->resident_bytes == MW_UNKNOWN ? 0 : c->resident_bytes) + sp.resident_bytes;
  }
  uint64_t typed_objs[MW_NUM_CLASSES] = {0}, typed_bytes[MW_NUM_CLASSES] = {0};
  for (uint64_t i = 0; i < hi.ntypes; i++) {
    sonde_heap_type t = SONDE_INIT(sonde_heap_type);
    if ((rc = api->heap_type_get(h, i, &t)) != SONDE_OK) return rc;
    if (t.sizeclass >= MW_NUM_CLASSES || !t.objects) continue;
    uint64_t osz = t.sizeclass ? s->classes[t.sizeclass].object_size : t.bytes / t.objects;
    if (mw_snap_add_row(s, t.name, t.sizeclass, osz, t.objects, t.bytes)) goto nomem;
    typed_objs[t.sizeclass] += t.objects;
    typed_bytes[t.sizeclass] += t.bytes;
  }
  for (int c = 0; c < MW_NUM_CLASSES; c++) {
    mw_class *k = &s->classes[c];
    if (!resident) k->resident_bytes = MW_UNKNOWN;
    s->objects += k->objects;
    s->bytes += k->bytes;
    s->spans += k->spans;
    s->span_bytes += k->span_bytes;
    if (k->resident_bytes != MW_UNKNOWN)
      s->resident_bytes = (s->resident_bytes == MW_UNKNOWN ? 0 : s->resident_bytes) + k->resident_bytes;
    /* the host's types are within their class; a class never goes below 0 */
    uint64_t uo = k->objects > typed_objs[c] ? k->objects - typed_objs[c] : 0;
    uint64_t ub = k->bytes > typed_bytes[c] ? k->bytes - typed_bytes[c] : 0;
    if (uo && mw_snap_add_row(s, NULL, (uint32_t)c, c ? k->object_size : ub / uo, uo, ub)) goto nomem;
  }
  if (!resident) s->resident_bytes = MW_UNKNOWN;
  return SONDE_OK;
nomem:
  mw_snap_free(s);
  return api->fail(h, SONDE_ENOMEM, "out of memory for the heap snapshot");
}

/* ---- output ----------------------------------------------------------------- */

/* w(ctx) into FILE, whole or not at all, or the command's output (NULL). */
static int emit(sonde_host *h, mw_state *st, const char *path, void (*w)(FILE *f, void *ctx), void *ctx) {
  return sonde_emit(h, st->api, path, w, ctx);
}

static void write_snap(FILE *f, void *ctx) { mw_snap_write_json(ctx, f); }

typedef struct {
  const mw_diff *d;
  const mw_snap *a, *b;
  const char *fa, *fb;
  size_t top;
  int json;
} diff_out;

static void write_diff(FILE *f, void *ctx) {
  diff_out *o = ctx;
  if (o->json)
    mw_diff_json(o->d, o->a, o->b, o->fa, o->fb, f);
  else
    mw_diff_text(o->d, o->a, o->b, o->fa, o->fb, o->top, f);
}

/* Diffs a and b into the command's output. */
static int print_diff(sonde_host *h, mw_state *st, const mw_snap *a, const mw_snap *b, const char *fa, const char *fb,
                      size_t top, int json, const char *out) {
  mw_diff d;
  if (mw_diff_compute(a, b, &d)) return st->api->fail(h, SONDE_ENOMEM, "out of memory for the diff");
  diff_out o = {&d, a, b, fa, fb, top, json};
  int rc = emit(h, st, out, write_diff, &o);
  mw_diff_free(&d);
  return rc;
}

/* Keeps s as the session's last snapshot (taking it over). */
static void keep_last(mw_state *st, mw_snap *s, const char *name) {
  if (st->have_last) mw_snap_free(&st->last);
  st->last = *s;
  st->have_last = 1;
  snprintf(st->last_name, sizeof st->last_name, "%s", name);
  mw_snap_init(s);
}

/* ---- arguments --------------------------------------------------------------- */

/* -x VALUE, --long VALUE or --long=VALUE at argv[*i]; 1 when matched (value
 * in *val, NULL when missing), 0 when argv[*i] is another option. */
static int opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng, const char **val) {
  const char *a = argv[*i];
  size_t n = strlen(lng);
  if (!strncmp(a, lng, n) && a[n] == '=') {
    *val = a + n + 1;
    return 1;
  }
  if ((shrt && !strcmp(a, shrt)) || !strcmp(a, lng)) {
    *val = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
  }
  return 0;
}

static int parse_top(sonde_host *h, mw_state *st, const char *v, size_t *out) {
  char *end;
  errno = 0;
  long n = v ? strtol(v, &end, 10) : -1;
  if (!v || errno || *end || n < 0 || n > 1000000)
    return st->api->fail(h, SONDE_EINVAL, "--top takes a number from 0 to 1000000 (0: all), not '%s'", v ? v : "");
  *out = n ? (size_t)n : SIZE_MAX;
  return SONDE_OK;
}

/* ---- sonde memwatch snapshot -------------------------------------------------- */

static int cmd_snapshot(sonde_host *h, void *state, int argc, char **argv) {
  mw_state *st = state;
  const sonde_host_api *api = st->api;
  const char *out = NULL, *pprof = NULL;
  int diff = 0;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if (opt_value(argc, argv, &i, "-o", "--output", &v)) {
      if (!v) return api->fail(h, SONDE_EINVAL, "-o needs a file name");
      out = v;
    } else if (opt_value(argc, argv, &i, NULL, "--pprof", &v)) {
      if (!v) return api->fail(h, SONDE_EINVAL, "--pprof needs a file name (a .pb.gz)");
      pprof = v;
    } else if (!strcmp(argv[i], "--diff")) {
      diff = 1;
    } else {
      return api->fail(h, SONDE_EINVAL, "snapshot: unknown argument '%s'; see 'sonde memwatch snapshot --help'",
                       argv[i]);
    }
  }
  if (diff && !out) return api->fail(h, SONDE_EINVAL, "--diff goes with -o FILE: the diff is what is printed");
  char path[4096], ppath[4096];
  uint64_t seq = st->seq + 1;
  if ((out && sonde_expand_path(out, seq, path, sizeof path)) ||
      (pprof && sonde_expand_path(pprof, seq, ppath, sizeof ppath)))
    return api->fail(h, SONDE_EINVAL, "%s: only %%n, %%t and %%%% may follow a %% in a file name", out ? out : pprof);
  mw_snap s;
  int rc = take_live(h, st, &s);
  if (rc != SONDE_OK) return rc;
  rc = emit(h, st, out ? path : NULL, write_snap, &s);
  if (rc == SONDE_OK && pprof) {
    char err[1024];
    if (mw_pprof_write(&s, ppath, err, sizeof err) != 0) rc = api->fail(h, SONDE_EIO, "%s", err);
  }
  if (rc == SONDE_OK) {
    st->seq = seq;
    if (out) {
      char b[32];
      mw_human(b, sizeof b, (int64_t)s.bytes, false);
      api->message(h, SONDE_LOG_INFO, "wrote %s (%s in %" PRIu64 " objects)%s%s", path, b, s.objects,
                   pprof ? " and " : "", pprof ? ppath : "");
    }
    if (diff && st->have_last)
      rc = print_diff(h, st, &st->last, &s, st->last_name, path, st->top > 0 ? (size_t)st->top : SIZE_MAX, 0, NULL);
    else if (diff)
      api->message(h, SONDE_LOG_INFO, "%s: the first snapshot of this session: nothing to compare yet", path);
    if (st->attached) keep_last(st, &s, out ? path : "(snapshot)");
  }
  mw_snap_free(&s);
  return rc;
}

/* ---- sonde memwatch diff ------------------------------------------------------- */

static int cmd_diff(sonde_host *h, void *state, int argc, char **argv) {
  mw_state *st = state;
  const sonde_host_api *api = st->api;
  const char *files[2] = {NULL, NULL}, *out = NULL;
  int nfiles = 0, json = 0;
  size_t top = st->top > 0 ? (size_t)st->top : SIZE_MAX;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int rc;
    if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--all"))
      top = SIZE_MAX;
    else if (opt_value(argc, argv, &i, "-n", "--top", &v)) {
      if ((rc = parse_top(h, st, v, &top)) != SONDE_OK) return rc;
    } else if (opt_value(argc, argv, &i, "-o", "--output", &v)) {
      if (!v) return api->fail(h, SONDE_EINVAL, "-o needs a file name");
      out = v;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return api->fail(h, SONDE_EINVAL, "diff: unknown option '%s'; see 'sonde memwatch diff --help'", argv[i]);
    } else if (nfiles == 2) {
      return api->fail(h, SONDE_EINVAL, "diff takes two snapshot files, A and B; '%s' is a third", argv[i]);
    } else {
      files[nfiles++] = argv[i];
    }
  }
  mw_snap a, b;
  mw_snap_init(&a);
  mw_snap_init(&b);
  const char *na = files[0], *nb = files[1];
  char err[1024];
  int rc = SONDE_OK;
  if (nfiles < 2 && !st->attached)
    return api->fail(h, SONDE_EINVAL,
                     "diff needs two snapshot files, A and B (or, inside a session, one or none: "
                     "the heap now is B)");
  if (nfiles == 0 && !st->have_last)
    return api->fail(h, SONDE_EINVAL,
                     "no snapshot taken in this session yet to compare with: take one with "
                     "'memwatch snapshot -o FILE', or give a file");
  if (nfiles >= 1 && mw_snap_read_json(files[0], &a, err, sizeof err) != 0) return api->fail(h, SONDE_EIO, "%s", err);
  if (nfiles == 2 && mw_snap_read_json(files[1], &b, err, sizeof err) != 0) {
    mw_snap_free(&a);
    return api->fail(h, SONDE_EIO, "%s", err);
  }
  if (nfiles < 2) { /* live: B is now */
    if ((rc = take_live(h, st, &b)) != SONDE_OK) {
      mw_snap_free(&a);
      return rc;
    }
    nb = "(now)";
    if (nfiles == 0) na = st->last_name;
  }
  rc = print_diff(h, st, nfiles ? &a : &st->last, &b, na, nb, top, json, out);
  if (rc == SONDE_OK && nfiles < 2 && st->attached) keep_last(st, &b, "(diff)");
  mw_snap_free(&a);
  mw_snap_free(&b);
  return rc;
}

/* ---- sonde memwatch top --------------------------------------------------------- */

typedef struct {
  const mw_snap *s;
  size_t top;
} top_out;

static int by_bytes(const void *x, const void *y) {
  const mw_row *a = x, *b = y;
  if (a->bytes != b->bytes) return a->bytes < b->bytes ? 1 : -1;
  return a->objects < b->objects ? 1 : a->objects > b->objects ? -1 : 0;
}

static void write_top(FILE *f, void *ctx) {
  top_out *o = ctx;
  const mw_snap *s = o->s;
  char bytes[32], span[32], res[64] = "";
  mw_human(bytes, sizeof bytes, (int64_t)s->bytes, false);
  mw_human(span, sizeof span, (int64_t)s->span_bytes, false);
  if (s->resident_bytes != MW_UNKNOWN) {
    char r[32];
    mw_human(r, sizeof r, (int64_t)s->resident_bytes, false);
    snprintf(res, sizeof res, ", %s resident", r);
  }
  fprintf(f, "pid %" PRId64 " (%s): %s in %" PRIu64 " objects, in spans of %s%s", s->pid, s->go_version, bytes,
          s->objects, span, res);
  if (s->gc_cycle != MW_UNKNOWN) fprintf(f, "; GC cycle %" PRIu64, s->gc_cycle);
  fputc('\n', f);
  fprintf(f, "%12s %11s %6s %7s  %s\n", "OBJECTS", "BYTES", "%", "CLASS",
          "TYPE (or size class, where the runtime records none)");
  size_t n = s->nrows < o->top ? s->nrows : o->top;
  for (size_t i = 0; i < n; i++) {
    const mw_row *r = &s->rows[i];
    char b[32], label[1200], cls[16];
    mw_human(b, sizeof b, (int64_t)r->bytes, false);
    mw_row_label(r, label, sizeof label);
    if (r->sizeclass)
      snprintf(cls, sizeof cls, "%u", r->sizeclass);
    else
      snprintf(cls, sizeof cls, "large");
    fprintf(f, "%12" PRIu64 " %11s %5.1f%% %7s  %s\n", r->objects, b,
            s->bytes ? 100.0 * (double)r->bytes / (double)s->bytes : 0.0, cls, label);
  }
  if (s->nrows > n) fprintf(f, "... %zu more (--top N, --all)\n", s->nrows - n);
  if (!s->has_types) fputs("note: Go before 1.22 records no types in the heap: rows are size classes\n", f);
  if (s->rt_objects != MW_UNKNOWN && (s->rt_objects != s->objects || s->rt_bytes != s->bytes))
    fprintf(f,
            "note: the runtime's own accounting says %" PRIu64 " objects and %" PRIu64 " bytes (a thread was "
            "caught updating its counters, or spans could not be read)\n",
            s->rt_objects, s->rt_bytes);
  if (s->unswept_spans)
    fprintf(f, "note: %" PRIu64 " spans not swept since the last GC: their counts include objects GC found dead\n",
            s->unswept_spans);
}

static int cmd_top(sonde_host *h, void *state, int argc, char **argv) {
  mw_state *st = state;
  const sonde_host_api *api = st->api;
  size_t top = st->top > 0 ? (size_t)st->top : SIZE_MAX;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int rc;
    if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--all"))
      top = SIZE_MAX;
    else if (opt_value(argc, argv, &i, "-n", "--top", &v)) {
      if ((rc = parse_top(h, st, v, &top)) != SONDE_OK) return rc;
    } else
      return api->fail(h, SONDE_EINVAL, "top: unknown argument '%s'; see 'sonde memwatch top --help'", argv[i]);
  }
  mw_snap s;
  int rc = take_live(h, st, &s);
  if (rc != SONDE_OK) return rc;
  if (s.nrows) qsort(s.rows, s.nrows, sizeof *s.rows, by_bytes);
  top_out o = {&s, top};
  rc = json ? emit(h, st, NULL, write_snap, &s) : emit(h, st, NULL, write_top, &o);
  mw_snap_free(&s);
  return rc;
}

/* ---- sonde memwatch watch -------------------------------------------------------- */

enum {
  GC_POLL_MS = 100,  /* how often --gc looks at the cycle count (a read, no stop) */
  SWEEP_RETRIES = 8, /* stops to wait for the sweep after a GC: 25 ms, 50 ms, ... */
  MAX_WATCH_COUNT = 1000000
};

static void sleep_ms(uint64_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static double mono_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The heap after a GC, once the runtime has swept it: until then counts
 * still include the objects that GC found dead. Tries a few times, each a
 * stop of its own, then takes what there is (the file says how many spans
 * were not swept). */
static int take_swept(sonde_host *h, mw_state *st, mw_snap *s) {
  uint64_t wait = 25;
  for (int i = 0;; i++) {
    int rc = st->api->heap_refresh(h);
    if (rc == SONDE_OK) rc = take_live(h, st, s);
    if (rc != SONDE_OK || !s->unswept_spans || i == SWEEP_RETRIES) return rc;
    mw_snap_free(s);
    sleep_ms(wait);
    wait *= 2;
  }
}

typedef struct {
  const char *out, *pprof;
  uint64_t every_ms; /* 0: --gc */
  uint64_t count;    /* snapshots to write; 0: until --duration or the process ends */
  double duration;   /* seconds; 0: none */
  int diff;
} watch_opts;

static int parse_watch(sonde_host *h, mw_state *st, int argc, char **argv, watch_opts *o) {
  const sonde_host_api *api = st->api;
  int gc = 0;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if (!strcmp(argv[i], "--gc"))
      gc = 1;
    else if (!strcmp(argv[i], "--diff"))
      o->diff = 1;
    else if (opt_value(argc, argv, &i, "-o", "--output", &v))
      o->out = v;
    else if (opt_value(argc, argv, &i, NULL, "--pprof", &v))
      o->pprof = v;
    else if (opt_value(argc, argv, &i, NULL, "--every", &v)) {
      if (!v || !(o->every_ms = sonde_parse_duration_ms(v)))
        return api->fail(h, SONDE_EINVAL, "--every takes a duration from 1ms to 24h (10s, 500ms, 2m), not '%s'",
                         v ? v : "");
    } else if (opt_value(argc, argv, &i, "-d", "--duration", &v)) {
      uint64_t ms = v ? sonde_parse_duration_ms(v) : 0;
      if (!ms) return api->fail(h, SONDE_EINVAL, "--duration takes a duration (30s, 10m, 1h), not '%s'", v ? v : "");
      o->duration = (double)ms / 1000;
    } else if (opt_value(argc, argv, &i, "-c", "--count", &v)) {
      char *end;
      errno = 0;
      unsigned long long n = v ? strtoull(v, &end, 10) : 0;
      if (!v || errno || *end || !n || n > MAX_WATCH_COUNT)
        return api->fail(h, SONDE_EINVAL, "--count takes a number of snapshots from 1 to %d, not '%s'", MAX_WATCH_COUNT,
                         v ? v : "");
      o->count = n;
    } else
      return api->fail(h, SONDE_EINVAL, "watch: unknown argument '%s'; see 'sonde memwatch watch --help'", argv[i]);
  }
  if (gc == !!o->every_ms)
    return api->fail(h, SONDE_EINVAL, "watch: say when to take snapshots: --gc (after each GC cycle) or --every D");
  if (!o->out)
    return api->fail(h, SONDE_EINVAL, "watch: give -o FILE with %%n in it (heap-%%n.json): one file per snapshot");
  if (!strstr(o->out, "%n") || (o->pprof && !strstr(o->pprof, "%n")))
    return api->fail(h, SONDE_EINVAL, "watch: -o%s needs %%n in the name, or every snapshot overwrites the last",
                     o->pprof ? " and --pprof" : "");
  if (!o->count && !o->duration)
    return api->fail(h, SONDE_EINVAL, "watch: say when to stop: --count N or --duration D (Ctrl-C also stops it)");
  return SONDE_OK;
}

/* Writes s as snapshot number seq (-o, --pprof); reports one line, or the
 * diff with prev. */
static int watch_write(sonde_host *h, mw_state *st, const watch_opts *o, mw_snap *s, const mw_snap *prev,
                       const char *prev_name, char *name, size_t namen) {
  const sonde_host_api *api = st->api;
  char ppath[4096];
  uint64_t seq = st->seq + 1;
  if (sonde_expand_path(o->out, seq, name, namen) ||
      (o->pprof && sonde_expand_path(o->pprof, seq, ppath, sizeof ppath)))
    return api->fail(h, SONDE_EINVAL, "%s: only %%n, %%t and %%%% may follow a %% in a file name", o->out);
  int rc = emit(h, st, name, write_snap, s);
  char err[1024];
  if (rc == SONDE_OK && o->pprof && mw_pprof_write(s, ppath, err, sizeof err) != 0)
    rc = api->fail(h, SONDE_EIO, "%s", err);
  if (rc != SONDE_OK) return rc;
  st->seq = seq;
  if (o->diff && prev) return print_diff(h, st, prev, s, prev_name, name, st->top > 0 ? (size_t)st->top : 20, 0, NULL);
  char line[9000], bytes[32], delta[40] = "", gc[40] = "";
  mw_human(bytes, sizeof bytes, (int64_t)s->bytes, false);
  if (prev) {
    char d[32];
    mw_human(d, sizeof d, (int64_t)s->bytes - (int64_t)prev->bytes, true);
    snprintf(delta, sizeof delta, " (%s)", d);
  }
  if (s->gc_cycle != MW_UNKNOWN) snprintf(gc, sizeof gc, "GC %" PRIu64 ": ", s->gc_cycle);
  int n = snprintf(line, sizeof line, "%s: %s%s%s in %" PRIu64 " objects%s\n", name, gc, bytes, delta, s->objects,
                   s->unswept_spans ? " (not all swept yet)" : "");
  return api->write_out(h, line, n > 0 && (size_t)n < sizeof line ? (size_t)n : strlen(line));
}

static int cmd_watch(sonde_host *h, void *state, int argc, char **argv) {
  mw_state *st = state;
  const sonde_host_api *api = st->api;
  watch_opts o = {0};
  int rc = parse_watch(h, st, argc, argv, &o);
  if (rc != SONDE_OK) return rc;
  if (!SONDE_HAS_MEMBER(api, sonde_host_api, heap_refresh))
    return api->fail(h, SONDE_ENOTSUP, "watch needs a sonde with plugin ABI 1.3");
  uint64_t cycle = 0;
  if (!o.every_ms && (rc = api->gc_cycle(h, &cycle)) != SONDE_OK)
    return rc == SONDE_ENOTSUP ? rc : api->fail(h, rc, "cannot read the GC cycle count of the process");
  mw_snap prev, cur;
  mw_snap_init(&prev);
  char prev_name[4096] = "", name[4096];
  /* the first: the heap of the command's own stop; the next after a cycle
   * that ends after it */
  if ((rc = take_live(h, st, &cur)) != SONDE_OK) return rc;
  if (!o.every_ms && cur.gc_cycle != MW_UNKNOWN) cycle = cur.gc_cycle;
  double t0 = mono_s();
  uint64_t written = 0;
  for (;;) {
    rc = watch_write(h, st, &o, &cur, written ? &prev : NULL, prev_name, name, sizeof name);
    if (rc != SONDE_OK) break;
    written++;
    mw_snap_free(&prev);
    prev = cur;
    mw_snap_init(&cur);
    snprintf(prev_name, sizeof prev_name, "%s", name);
    if (o.count && written >= o.count) break;
    /* wait for the next moment: an interval, or a GC cycle seen without stopping */
    int done = 0;
    for (;;) {
      double left = o.duration ? o.duration - (mono_s() - t0) : 1e18;
      if (left <= 0) {
        done = 1;
        break;
      }
      uint64_t step = o.every_ms ? o.every_ms : GC_POLL_MS;
      sleep_ms(left * 1000 < (double)step ? (uint64_t)(left * 1000) + 1 : step);
      if (o.duration && mono_s() - t0 >= o.duration) {
        done = 1;
        break;
      }
      if (o.every_ms) break;
      uint64_t now;
      if ((rc = api->gc_cycle(h, &now)) != SONDE_OK) break;
      if (now != cycle) {
        cycle = now;
        break;
      }
    }
    if (done || rc != SONDE_OK) break;
    rc = o.every_ms ? api->heap_refresh(h) : SONDE_OK;
    if (rc == SONDE_OK) rc = o.every_ms ? take_live(h, st, &cur) : take_swept(h, st, &cur);
    if (rc != SONDE_OK) break;
    /* more cycles may have ended while the snapshot waited for the sweep:
     * the next one is due after the cycle this snapshot saw */
    if (!o.every_ms && cur.gc_cycle != MW_UNKNOWN && cur.gc_cycle > cycle) cycle = cur.gc_cycle;
  }
  mw_snap_free(&prev);
  mw_snap_free(&cur);
  if (rc == SONDE_ENOTARGET || rc == SONDE_EFAULT) {
    api->message(h, SONDE_LOG_INFO, "the process is gone: %" PRIu64 " snapshots written", written);
    return SONDE_OK;
  }
  return rc;
}

/* ---- hooks -------------------------------------------------------------------- */

static int read_config(sonde_host *h, mw_state *st) {
  const sonde_host_api *api = st->api;
  const char *v;
  st->top = DEFAULT_TOP;
  if ((v = api->config_get(h, "every")) && !(st->every_ms = sonde_parse_duration_ms(v)))
    return api->fail(h, SONDE_EINVAL,
                     "sonde.ini [memwatch] every: '%s' is not a duration from 1ms to 24h (10s, "
                     "500ms, 2m, 1h)",
                     v);
  struct {
    const char *key;
    int *out;
  } flags[] = {{"on_attach", &st->on_attach}, {"on_hit", &st->on_hit}, {"diff", &st->auto_diff}};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if ((v = api->config_get(h, flags[i].key)) && sonde_parse_bool(v, flags[i].out) != 0)
      return api->fail(h, SONDE_EINVAL, "sonde.ini [memwatch] %s: yes or no, not '%s'", flags[i].key, v);
  if ((v = api->config_get(h, "top"))) {
    char *end;
    errno = 0;
    st->top = strtol(v, &end, 10);
    if (errno || *end || st->top < 0 || st->top > 1000000)
      return api->fail(h, SONDE_EINVAL, "sonde.ini [memwatch] top: a number from 0 to 1000000 (0: all), not '%s'", v);
  }
  v = api->config_get(h, "output");
  snprintf(st->output, sizeof st->output, "%s", v && v[0] ? v : "memwatch-%t-%n.json");
  v = api->config_get(h, "pprof");
  snprintf(st->pprof, sizeof st->pprof, "%s", v ? v : "");
  char probe[4096];
  const char *names[] = {st->output, st->pprof};
  for (int i = 0; i < 2; i++)
    if (strchr(names[i], '\'') || sonde_expand_path(names[i], 1, probe, sizeof probe) != 0)
      return api->fail(h, SONDE_EINVAL,
                       "sonde.ini [memwatch] %s: '%s': only %%n, %%t and %%%% may follow a %%, and "
                       "the name may hold no ' quote",
                       i ? "pprof" : "output", names[i]);
  return SONDE_OK;
}

static int on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  if (SONDE_ABI_MAJOR_OF(api->abi_version) != SONDE_ABI_MAJOR) return SONDE_ENOTSUP;
  mw_state *st = calloc(1, sizeof *st);
  if (!st) return api->fail(h, SONDE_ENOMEM, "out of memory");
  st->api = api;
  mw_snap_init(&st->last);
  int rc = read_config(h, st);
  if (rc != SONDE_OK) {
    free(st);
    return rc;
  }
  *state = st;
  return SONDE_OK;
}

/* The snapshot the configuration asks for, as a command line. */
static void auto_command(const mw_state *st, char *cmd, size_t n) {
  int k = snprintf(cmd, n, "snapshot -o '%s'", st->output);
  if (st->pprof[0] && k > 0 && (size_t)k < n) k += snprintf(cmd + k, n - (size_t)k, " --pprof '%s'", st->pprof);
  if (st->auto_diff && k > 0 && (size_t)k < n) snprintf(cmd + k, n - (size_t)k, " --diff");
}

static int on_attach(sonde_host *h, void *state) {
  (void)h;
  ((mw_state *)state)->attached = 1;
  return SONDE_OK;
}

/* A snapshot the configuration asks for, now. */
static int auto_snapshot(sonde_host *h, mw_state *st) {
  char *argv[7] = {"snapshot", "-o", st->output};
  int argc = 3;
  if (st->pprof[0]) argv[argc++] = "--pprof", argv[argc++] = st->pprof;
  if (st->auto_diff) argv[argc++] = "--diff";
  argv[argc] = NULL;
  return cmd_snapshot(h, st, argc, argv);
}

/* A session starts: the configured interval and the first snapshot. */
static int on_state_change(sonde_host *h, void *state, const sonde_state_change *change) {
  mw_state *st = state;
  if (change->reason != SONDE_REASON_ATTACH || change->new_state != SONDE_STATE_RUNNING) return SONDE_OK;
  char cmd[9000];
  auto_command(st, cmd, sizeof cmd);
  if (st->every_ms) {
    int rc = st->api->command_every(h, st->every_ms, cmd);
    if (rc != SONDE_OK) return rc;
  }
  return st->on_attach ? auto_snapshot(h, st) : SONDE_OK;
}

/* A breakpoint was hit (reported, all threads stopped): on_hit's snapshot. */
static int on_breakpoint_hit(sonde_host *h, void *state, const sonde_breakpoint_hit *hit) {
  (void)hit;
  mw_state *st = state;
  return st->on_hit ? auto_snapshot(h, st) : SONDE_OK;
}

static int on_detach(sonde_host *h, void *state) {
  (void)h;
  ((mw_state *)state)->attached = 0;
  return SONDE_OK;
}

static void on_unload(sonde_host *h, void *state) {
  (void)h;
  mw_state *st = state;
  if (st->have_last) mw_snap_free(&st->last);
  free(st);
}

/* ---- the descriptor ------------------------------------------------------------ */

static const sonde_command commands[] = {
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = SONDE_CMD_NEEDS_TARGET | SONDE_CMD_NEEDS_HEAP,
        .name = "snapshot",
        .summary = "write the heap by type and size class as JSON (and as a pprof profile)",
        .usage = "[-o FILE] [--pprof FILE.pb.gz] [--diff]",
        .help = "Reads the Go heap of the process, stopped only while sonde copies the\n"
                "runtime's span table and type headers, and writes it as one JSON\n"
                "document: objects and bytes by size class (with how much of each is\n"
                "resident in RAM) and, where the runtime records a type (Go 1.22+:\n"
                "objects over 512 bytes that hold pointers, and large objects), by type.\n"
                "\n"
                "  -o, --output FILE   write to FILE instead of standard output; %n is the\n"
                "                      snapshot's number in this run, %t the UTC time\n"
                "  --pprof FILE        also write a gzip pprof profile (inuse_objects,\n"
                "                      inuse_space): go tool pprof -top FILE\n"
                "  --diff              with -o, inside a session: print what changed since\n"
                "                      the previous snapshot\n"
                "\n"
                "The format (\"sonde-memwatch-snapshot\" version 1) is in docs/memwatch.md.\n"
                "Examples:\n"
                "  sonde memwatch snapshot -p 4242 -o before.json --pprof before.pb.gz\n"
                "  sonde attach -p 4242 --every 30s 'memwatch snapshot -o heap-%n.json --diff'\n",
        .run = cmd_snapshot,
    },
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = 0,
        .name = "diff",
        .summary = "what grew and what shrank between two heap snapshots, by type and size class",
        .usage = "[--json] [--top N|--all] [-o FILE] A.json B.json",
        .help = "Compares two snapshots written by `memwatch snapshot`, A (before) and B\n"
                "(after): objects and bytes gained or lost by type (where the runtime\n"
                "records one) and by size class, largest change in bytes first. The\n"
                "UNTYPED column of a class is the change in its objects of no recorded\n"
                "type (small, pointer-free, or Go before 1.22).\n"
                "\n"
                "  --json          every type and class as JSON (\"sonde-memwatch-diff\" v1)\n"
                "  -n, --top N     at most N lines per section (default 20; 0: all)\n"
                "  --all           every line\n"
                "  -o, --output F  write to F instead of standard output\n"
                "\n"
                "Inside a session, with one file or none, B is the heap now and A the\n"
                "file, or the last snapshot the plugin took. For pprof's own view:\n"
                "  go tool pprof -top -diff_base before.pb.gz after.pb.gz\n"
                "Examples:\n"
                "  sonde memwatch diff before.json after.json\n"
                "  sonde memwatch diff --json before.json after.json | jq '.types[:5]'\n",
        .run = cmd_diff,
    },
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = SONDE_CMD_NEEDS_TARGET | SONDE_CMD_NEEDS_HEAP,
        .name = "top",
        .summary = "the types and size classes holding the most heap now",
        .usage = "[--top N|--all] [--json]",
        .help = "Reads the heap of the process (stopped only while sonde copies it) and\n"
                "lists its rows, most bytes first: each type the runtime records (Go\n"
                "1.22+), and what is left of each size class.\n"
                "\n"
                "  -n, --top N   at most N rows (default 20; 0: all)\n"
                "  --all         every row\n"
                "  --json        the whole snapshot document instead (as `snapshot`)\n"
                "Example:\n"
                "  sonde memwatch top -p 4242 --top 10\n",
        .run = cmd_top,
    },
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = SONDE_CMD_NEEDS_TARGET | SONDE_CMD_NEEDS_HEAP,
        .name = "watch",
        .summary = "a heap snapshot after every GC cycle, or on an interval, until told to stop",
        .usage = "--gc|--every D -o FILE-%n.json [--pprof FILE-%n.pb.gz] [--diff] --count N|--duration D",
        .help = "Writes a snapshot now, then one after each GC cycle the process completes\n"
                "(--gc) or every D (--every 30s), each to its own file, and prints one line\n"
                "per snapshot: its file, the GC cycle, the heap and its change since the\n"
                "previous one (--diff: the whole diff instead). sonde is detached between\n"
                "snapshots: --gc reads the cycle count every 100 ms without stopping the\n"
                "process; each snapshot is a stop as short as `memwatch snapshot`'s. After\n"
                "a GC, sonde waits for the runtime to finish sweeping (a few short stops at\n"
                "most) so that the counts hold only live objects.\n"
                "\n"
                "  --gc              after every GC cycle\n"
                "  --every D         on an interval (500ms, 30s, 5m)\n"
                "  -o, --output F    the snapshot files; %n (the number, 1, 2, ...) is\n"
                "                    required, %t is the UTC time\n"
                "  --pprof F         also a pprof profile per snapshot (with %n)\n"
                "  --diff            print the diff with the previous snapshot each time\n"
                "  -c, --count N     stop after N snapshots\n"
                "  -d, --duration D  stop after D (Ctrl-C also stops it; the process\n"
                "                    keeps running untouched)\n"
                "It ends by itself when the process exits. Example:\n"
                "  sonde memwatch watch -p 4242 --gc -o heap-%n.json --pprof heap-%n.pb.gz -d 10m\n"
                "  go tool pprof -top -diff_base heap-1.pb.gz heap-5.pb.gz\n",
        .run = cmd_watch,
    },
};

static const sonde_plugin plugin = {
    .struct_size = (uint32_t)sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = SONDE_PLUGIN_NAME,
    .version = SONDE_PLUGIN_VERSION,
    .description = "heap snapshots and heap diffs, by type and size class, as JSON and pprof",
    .on_load = on_load,
    .on_attach = on_attach,
    .on_state_change = on_state_change,
    .on_breakpoint_hit = on_breakpoint_hit,
    .on_detach = on_detach,
    .on_unload = on_unload,
    .commands = commands,
    .ncommands = (uint32_t)(sizeof commands / sizeof commands[0]),
    .command_size = (uint32_t)sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void);
const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &plugin; }
