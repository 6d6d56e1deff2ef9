/* stackdiff.c: the stackdiff plugin (issue 6): its commands and hooks.
 *
 *   sonde stackdiff snapshot -p PID [-o FILE]   every goroutine, as JSON
 *   sonde stackdiff diff A.json B.json          what changed between two
 *
 * Inside a session (`sonde attach`, `sonde exec`) the plugin keeps the last
 * snapshot it took, so that `stackdiff diff` without files compares the
 * process now with that moment. The model, the file reader and the diff
 * live in model.c, snapfile.c and diff.c (sd.h); this file only parses
 * arguments and routes. Only <sonde/plugin.h>, libyajl and the C library. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sonde/util.h>

#include "sd.h"


SONDE_PLUGIN_NOTE("stackdiff", "0.2.0");

/* ---- state ------------------------------------------------------------------
 * Commands get no api argument: on_load keeps the table here. */
typedef struct {
  const sonde_host_api *api;
  int attached;    /* between on_attach and on_detach */
  uint64_t seq;    /* snapshots taken since on_load: %n in -o */
  sd_strtab strs;  /* names of every snapshot kept below */
  sd_snap last;    /* the last snapshot taken while attached (ng 0: none) */
  int have_last;
  char last_path[4096]; /* where last was written; last.file points here */
  /* [stackdiff] in sonde.ini: snapshots the plugin takes by itself in a
   * session (sonde attach, sonde exec) */
  uint64_t every_ms; /* every = 10s */
  int on_attach, on_hit, auto_diff;
  sd_diff_opts defaults; /* diff's options from [stackdiff], read at load */
  char output[4096]; /* output = stackdiff-%n.json */
} sd_state;

/* ---- sonde stackdiff snapshot -p PID [-o FILE] -------------------------------- */

#define SNAPSHOT_USAGE "sonde stackdiff snapshot -p PID [-o FILE [--diff]]"

/* An output destination: -o FILE (created or truncated) or standard output.
 * A failed command removes FILE rather than leave half a document behind;
 * only a regular file: `-o /dev/null` must never unlink /dev/null. */
typedef struct {
  sd_out o;
  const char *path;
  int regular;
} sd_dest;

static int dest_open(sd_dest *d, sd_ctx *c, const char *path) {
  memset(d, 0, sizeof *d);
  d->path = path;
  int fd = -1;
  if (path) {
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return c->api->fail(c->h, SONDE_EIO, "cannot create %s: %s", path, strerror(errno));
    struct stat sb;
    d->regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
  }
  int rc = sd_out_open(&d->o, c, fd, path);
  if (rc != SONDE_OK && fd >= 0) {
    close(fd);
    if (d->regular) (void)unlink(path);
  }
  return rc;
}

/* Closes d; rc is the command's result so far, and the result is returned. */
static int dest_close(sd_dest *d, sd_ctx *c, int rc) {
  int orc = sd_out_close(&d->o);
  if (rc == SONDE_OK) rc = orc;
  if (d->o.fd >= 0) {
    if (close(d->o.fd) != 0 && rc == SONDE_OK)
      rc = c->api->fail(c->h, SONDE_EIO, "cannot write %s: %s", d->path, strerror(errno));
    if (rc != SONDE_OK && d->regular) (void)unlink(d->path); /* the message recorded by api->fail stays the cause */
  }
  return rc;
}

/* Takes a snapshot now into *out (on st->strs) and keeps it as the last. */
static int take_live(sd_state *st, sd_ctx *c, sd_snap *out) {
  sd_snap_init(out, &st->strs);
  int rc = sd_snap_from_host(c, out);
  if (rc != SONDE_OK) sd_snap_free(out);
  return rc;
}

static void keep_last(sd_state *st, sd_snap *s) {
  if (st->have_last) sd_snap_free(&st->last);
  st->last = *s;
  st->have_last = 1;
}

/* -o FILE's value, from "-o FILE", "--output FILE" or "--output=FILE". */
static int opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng, const char **val) {
  const char *a = argv[*i];
  size_t ln = strlen(lng);
  if ((shrt && !strcmp(a, shrt)) || !strcmp(a, lng)) {
    *val = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
  }
  if (!strncmp(a, lng, ln) && a[ln] == '=') {
    *val = a + ln + 1;
    return 1;
  }
  return 0;
}

static int resolve_color(sd_diff_opts *o, const char *path);

static int sd_cmd_snapshot(sonde_host *h, void *state, int argc, char **argv) {
  sd_state *st = state;
  const sonde_host_api *api = st->api;
  sd_ctx c = {h, api};
  const char *path = NULL;
  int with_diff = 0;
  for (int i = 1; i < argc; i++) {
    const char *val = NULL;
    if (!strcmp(argv[i], "--diff")) {
      with_diff = 1;
      continue;
    }
    if (!opt_value(argc, argv, &i, "-o", "--output", &val))
      return api->fail(h, SONDE_EINVAL, "snapshot: unknown option '%s'; usage: %s", argv[i], SNAPSHOT_USAGE);
    if (!val || !val[0])
      return api->fail(h, SONDE_EINVAL, "snapshot: -o needs a file name; usage: %s", SNAPSHOT_USAGE);
    if (path) return api->fail(h, SONDE_EINVAL, "snapshot: give -o once, not '%s' and '%s'", path, val);
    path = val;
  }
  if (!st->attached) /* cannot happen with SONDE_CMD_NEEDS_TARGET; says so if it does */
    return api->fail(h, SONDE_ENOTARGET, "snapshot needs a target: give -p PID");
  if (with_diff && !path)
    return api->fail(h, SONDE_EINVAL, "snapshot --diff prints the diff on standard output: give -o FILE for the "
                     "snapshot itself");
  char expanded[4096];
  if (path) {
    if (sonde_expand_path(path, st->seq + 1, expanded, sizeof expanded) != 0)
      return api->fail(h, SONDE_EINVAL, "snapshot: -o '%s': only %%n, %%t and %%%% may follow a %%, and the name must "
                       "stay under %zu bytes", path, sizeof expanded);
    path = expanded;
  }
  st->seq++;
  sd_snap snap;
  int rc = take_live(st, &c, &snap);
  if (rc != SONDE_OK) return rc;
  sd_dest d;
  rc = dest_open(&d, &c, path);
  if (rc == SONDE_OK) rc = dest_close(&d, &c, sd_put_snapshot(&d.o, &snap));
  if (rc == SONDE_OK && path) api->message(h, SONDE_LOG_INFO, "wrote %s (%zu goroutines)", path, snap.ng);
  if (rc == SONDE_OK && with_diff && st->have_last) {
    /* what changed since the previous snapshot of this session */
    sd_diff_opts dopts = st->defaults;
    resolve_color(&dopts, NULL);
    snap.file = path;
    sd_dest out;
    rc = dest_open(&out, &c, NULL);
    if (rc == SONDE_OK) rc = dest_close(&out, &c, sd_diff(&c, &st->last, &snap, &dopts, &out.o));
  }
  keep_last(st, &snap); /* even when writing failed: the snapshot itself is good */
  if (path && rc == SONDE_OK) {
    snprintf(st->last_path, sizeof st->last_path, "%s", path);
    st->last.file = st->last_path; /* a later diff names it */
  } else {
    st->last.file = NULL;
  }
  return rc;
}

/* ---- sonde stackdiff diff [OPTIONS] [A [B]] ------------------------------------ */

#define DIFF_USAGE "sonde stackdiff diff [--json] [--lines] [--top N] [--color WHEN] [-o FILE] A.json B.json"

/* A whole number in [lo, hi] for option opt, or -1 after api->fail. */
static int parse_count(sd_ctx *c, const char *opt, const char *v, long lo, long hi, int *out) {
  char *end = NULL;
  errno = 0;
  long n = v ? strtol(v, &end, 10) : 0;
  if (!v || !*v || *end || errno || n < lo || n > hi)
    return c->api->fail(c->h, SONDE_EINVAL, "diff: %s takes a whole number from %ld to %ld, not '%s'", opt, lo, hi,
                        v ? v : "");
  *out = (int)n;
  return SONDE_OK;
}

static int parse_color(sd_ctx *c, const char *v, sd_color *out) {
  if (v && !strcmp(v, "auto"))
    *out = SD_COLOR_AUTO;
  else if (v && !strcmp(v, "always"))
    *out = SD_COLOR_ALWAYS;
  else if (v && !strcmp(v, "never"))
    *out = SD_COLOR_NEVER;
  else
    return c->api->fail(c->h, SONDE_EINVAL, "--color takes auto, always or never, not '%s'", v ? v : "");
  return SONDE_OK;
}


/* [stackdiff] in sonde.ini: the defaults the command line overrides. */
static int diff_defaults(sd_ctx *c, sd_diff_opts *o) {
  const sonde_host_api *api = c->api;
  *o = (sd_diff_opts){.top = 10, .samples = 5, .color = SD_COLOR_AUTO};
  const char *v;
  int rc;
  if ((v = api->config_get(c->h, "color")) && (rc = parse_color(c, v, &o->color)) != SONDE_OK)
    return api->fail(c->h, rc, "sonde.ini [stackdiff] color: auto, always or never, not '%s'", v);
  if ((v = api->config_get(c->h, "top")) && (rc = parse_count(c, "[stackdiff] top", v, 0, 1000000, &o->top)))
    return rc;
  if ((v = api->config_get(c->h, "samples")) &&
      (rc = parse_count(c, "[stackdiff] samples", v, 1, 64, &o->samples)))
    return rc;
  if ((v = api->config_get(c->h, "lines")) && sonde_parse_bool(v, &o->lines) != 0)
    return api->fail(c->h, SONDE_EINVAL, "sonde.ini [stackdiff] lines: yes or no, not '%s'", v);
  return SONDE_OK;
}

/* ---- reading two files at once ----------------------------------------------
 * Parsing is most of a diff's time (75 MB of JSON per 100,000 goroutines),
 * and the two files are independent: B is read on a second thread onto its
 * own string table, then moved onto A's. */
typedef struct {
  const char *path;
  sd_snap *s;
  int rc;
  char err[700];
} read_job;

static void *read_job_run(void *p) {
  read_job *j = p;
  j->rc = sd_snap_read(j->path, j->s, j->err, sizeof j->err);
  return NULL;
}

static int read_pair(sd_ctx *c, const char *files[2], sd_snap *a, sd_snap *b) {
  sd_strtab tb;
  if (sd_strtab_init(&tb) != 0) return c->api->fail(c->h, SONDE_ENOMEM, "out of memory");
  sd_strtab *to = b->strs;
  b->strs = &tb;
  read_job ja = {.path = files[0], .s = a}, jb = {.path = files[1], .s = b};
  pthread_t t;
  int threaded = pthread_create(&t, NULL, read_job_run, &jb) == 0;
  read_job_run(&ja);
  if (threaded)
    pthread_join(t, NULL);
  else
    read_job_run(&jb); /* no thread to be had: one after the other */
  int rc = SONDE_OK;
  if (ja.rc != SONDE_OK)
    rc = c->api->fail(c->h, ja.rc, "%s", ja.err);
  else if (jb.rc != SONDE_OK)
    rc = c->api->fail(c->h, jb.rc, "%s", jb.err);
  else if (sd_snap_rebase(b, to) != 0)
    rc = c->api->fail(c->h, SONDE_ENOMEM, "out of memory");
  b->strs = to; /* on every path: b is freed on the caller's table */
  sd_strtab_free(&tb);
  return rc;
}

/* --color auto: colour on a terminal, unless NO_COLOR (no-color.org) or
 * TERM=dumb says otherwise; never into a file. */
static int resolve_color(sd_diff_opts *o, const char *path) {
  if (o->color != SD_COLOR_AUTO) return 0;
  const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
  int tty = !path && isatty(STDOUT_FILENO);
  o->color = tty && !(nc && nc[0]) && !(term && !strcmp(term, "dumb")) ? SD_COLOR_ALWAYS : SD_COLOR_NEVER;
  return 0;
}

static int sd_cmd_diff(sonde_host *h, void *state, int argc, char **argv) {
  sd_state *st = state;
  const sonde_host_api *api = st->api;
  sd_ctx c = {h, api};
  sd_diff_opts o = st->defaults;
  int rc = SONDE_OK;
  const char *files[2] = {NULL, NULL}, *path = NULL;
  int nfiles = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    if (!strcmp(a, "--json")) {
      o.json = 1;
    } else if (!strcmp(a, "--lines")) {
      o.lines = 1;
    } else if (!strcmp(a, "--all")) {
      o.top = 0;
    } else if (opt_value(argc, argv, &i, "-n", "--top", &val)) {
      if ((rc = parse_count(&c, "--top", val, 0, 1000000, &o.top)) != SONDE_OK) return rc;
    } else if (opt_value(argc, argv, &i, NULL, "--samples", &val)) {
      if ((rc = parse_count(&c, "--samples", val, 1, 64, &o.samples)) != SONDE_OK) return rc;
    } else if (opt_value(argc, argv, &i, NULL, "--color", &val)) {
      if ((rc = parse_color(&c, val, &o.color)) != SONDE_OK) return rc;
    } else if (opt_value(argc, argv, &i, "-o", "--output", &val)) {
      if (!val || !val[0]) return api->fail(h, SONDE_EINVAL, "diff: -o needs a file name; usage: %s", DIFF_USAGE);
      path = val;
    } else if (a[0] == '-' && a[1]) {
      return api->fail(h, SONDE_EINVAL, "diff: unknown option '%s'; usage: %s", a, DIFF_USAGE);
    } else if (nfiles == 2) {
      return api->fail(h, SONDE_EINVAL, "diff: compares two snapshots, not three ('%s'); usage: %s", a, DIFF_USAGE);
    } else {
      files[nfiles++] = a;
    }
  }
  if (nfiles < 2 && !st->attached)
    return api->fail(h, SONDE_EINVAL,
                     "diff needs two snapshot files (%s), or a live target: inside `sonde attach -p PID "
                     "--every 10s 'stackdiff diff'` it compares the process with the previous snapshot", DIFF_USAGE);
  resolve_color(&o, path);

  /* A: a file, or the last snapshot; B: a file, or now. Two files get a
   * string table of their own; a live B shares the session's. */
  int own = nfiles == 2; /* fewer is refused above unless attached */
  sd_strtab strs;
  sd_strtab *tab = own ? &strs : &st->strs;
  if (own && sd_strtab_init(&strs) != 0) return api->fail(h, SONDE_ENOMEM, "out of memory");
  sd_snap a, b;
  sd_snap_init(&a, tab);
  sd_snap_init(&b, tab);
  const sd_snap *pa = &a; /* NULL: the session's first diff, nothing to compare with */
  if (own) {
    rc = read_pair(&c, files, &a, &b);
  } else {
    char err[700];
    if (nfiles == 1 && (rc = sd_snap_read(files[0], &a, err, sizeof err)) != SONDE_OK) rc = api->fail(h, rc, "%s", err);
    if (nfiles == 0) pa = st->have_last ? &st->last : NULL;
    if (rc == SONDE_OK) rc = take_live(st, &c, &b);
  }
  if (rc == SONDE_OK && !pa) {
    api->message(h, SONDE_LOG_INFO, "first snapshot (%zu goroutines) taken; the next `stackdiff diff` compares "
                 "against it", b.ng);
  } else if (rc == SONDE_OK) {
    sd_dest d;
    rc = dest_open(&d, &c, path);
    if (rc == SONDE_OK) rc = dest_close(&d, &c, sd_diff(&c, pa, &b, &o, &d.o));
  }
  sd_snap_free(&a);
  if (rc == SONDE_OK && !own)
    keep_last(st, &b); /* the process now: the next diff's A */
  else
    sd_snap_free(&b);
  if (own) sd_strtab_free(&strs);
  return rc;
}

/* ---- hooks ------------------------------------------------------------------ */


/* [stackdiff] in sonde.ini, checked when the plugin loads so that a typo
 * is reported before anything is attached. */
static int read_config(sonde_host *h, sd_state *st) {
  const sonde_host_api *api = st->api;
  sd_ctx c = {h, api};
  int rc = diff_defaults(&c, &st->defaults);
  if (rc != SONDE_OK) return rc;
  const char *v;
  if ((v = api->config_get(h, "every")) && !(st->every_ms = sonde_parse_duration_ms(v)))
    return api->fail(h, SONDE_EINVAL, "sonde.ini [stackdiff] every: '%s' is not a duration from 1ms to 24h (10s, "
                     "500ms, 2m, 1h)", v);
  struct {
    const char *key;
    int *out;
  } flags[] = {{"on_attach", &st->on_attach}, {"on_hit", &st->on_hit}, {"diff", &st->auto_diff}};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if ((v = api->config_get(h, flags[i].key)) && sonde_parse_bool(v, flags[i].out) != 0)
      return api->fail(h, SONDE_EINVAL, "sonde.ini [stackdiff] %s: yes or no, not '%s'", flags[i].key, v);
  v = api->config_get(h, "output");
  snprintf(st->output, sizeof st->output, "%s", v && v[0] ? v : "stackdiff-%t-%n.json");
  char probe[4096];
  if (strchr(st->output, '\'') || sonde_expand_path(st->output, 1, probe, sizeof probe) != 0)
    return api->fail(h, SONDE_EINVAL, "sonde.ini [stackdiff] output: '%s': only %%n, %%t and %%%% may follow a %%, "
                     "and the name may hold no ' quote", st->output);
  return SONDE_OK;
}

static int sd_on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  if (SONDE_ABI_MAJOR_OF(api->abi_version) != SONDE_ABI_MAJOR)
    return SONDE_ENOTSUP; /* not even api->fail is known to exist */
  sd_state *st = calloc(1, sizeof *st);
  if (!st || sd_strtab_init(&st->strs) != 0) {
    free(st);
    return api->fail(h, SONDE_ENOMEM, "out of memory");
  }
  st->api = api;
  int rc = read_config(h, st);
  if (rc != SONDE_OK) {
    sd_strtab_free(&st->strs);
    free(st);
    return rc;
  }
  *state = st;
  return SONDE_OK;
}

/* A snapshot the configuration asked for: `snapshot -o OUTPUT [--diff]`. */
static int auto_snapshot(sonde_host *h, sd_state *st) {
  char *argv[] = {"snapshot", "-o", st->output, "--diff", NULL};
  return sd_cmd_snapshot(h, st, st->auto_diff ? 4 : 3, argv);
}

static int sd_on_attach(sonde_host *h, void *state) {
  (void)h;
  sd_state *st = state;
  st->attached = 1;
  return SONDE_OK;
}

/* A session starts (one-shot commands never call this hook): the
 * configured interval and the first snapshot. */
static int sd_on_state_change(sonde_host *h, void *state, const sonde_state_change *change) {
  sd_state *st = state;
  if (change->reason != SONDE_REASON_ATTACH || change->new_state != SONDE_STATE_RUNNING) return SONDE_OK;
  if (st->every_ms) {
    if (!SONDE_HAS_MEMBER(st->api, sonde_host_api, command_every))
      return st->api->fail(h, SONDE_ENOTSUP, "sonde.ini [stackdiff] every: this sonde is too old to run commands on "
                           "an interval for a plugin (ABI 1.2 needed); use --every 10s 'stackdiff snapshot ...'");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "snapshot -o '%s'%s", st->output, st->auto_diff ? " --diff" : "");
    int rc = st->api->command_every(h, st->every_ms, cmd);
    if (rc != SONDE_OK) return rc;
  }
  return st->on_attach ? auto_snapshot(h, st) : SONDE_OK;
}

static int sd_on_breakpoint_hit(sonde_host *h, void *state, const sonde_breakpoint_hit *hit) {
  (void)hit;
  sd_state *st = state;
  return st->on_hit ? auto_snapshot(h, st) : SONDE_OK;
}

static int sd_on_detach(sonde_host *h, void *state) {
  (void)h;
  sd_state *st = state;
  st->attached = 0;
  return SONDE_OK;
}

static void sd_on_unload(sonde_host *h, void *state) {
  (void)h;
  sd_state *st = state;
  if (st->have_last) sd_snap_free(&st->last);
  sd_strtab_free(&st->strs);
  free(st);
}

#define DIFF_HELP                                                                     \
  "Compares two snapshots written by `stackdiff snapshot`, A (before) and B\n"          \
  "(after), and shows what changed, most important first:\n"                           \
  "  - stacks whose goroutine count changed: the count in A and in B and the\n"       \
  "    delta, largest first, with sample goroutine ids. A stack is its\n"             \
  "    functions, innermost first (--lines adds file:line);\n"                         \
  "  - goroutines by id: changed (state, wait reason, stack size or frames;\n"       \
  "    the stack as a diff: - frames removed, + frames added, then the outer\n"       \
  "    frames both share), created (only in B) and exited (only in A).\n"             \
  "    Goroutines that changed the same way are shown once, with a count.\n"          \
  "\n"                                                                                 \
  "  --json            the whole diff as JSON, every goroutine listed (format\n"     \
  "                    \"sonde-stackdiff-diff\" version 1, docs/stackdiff.md)\n"      \
  "  --lines           stacks differ by file:line too, not only by function\n"       \
  "  -n, --top N       at most N entries per section of the text (default 10;\n"    \
  "                    0 or --all: every entry)\n"                                    \
  "  --samples N       sample goroutine ids per entry (default 5, at most 64)\n"      \
  "  --color WHEN      auto (default: on a terminal, unless NO_COLOR is set),\n"     \
  "                    always, never\n"                                                \
  "  -o, --output FILE write the diff to FILE instead of standard output\n"          \
  "\n"                                                                                 \
  "Inside a session, with one file or none, B is the process now and A the\n"        \
  "file, or the snapshot the plugin took last (by snapshot or diff):\n"               \
  "  sonde attach -p 4242 --every 10s 'stackdiff diff' -d 60\n"                      \
  "Defaults for color, top, samples and lines come from [stackdiff] in\n"             \
  "sonde.ini. Examples:\n"                                                            \
  "  sonde stackdiff diff before.json after.json\n"                                   \
  "  sonde stackdiff diff --json before.json after.json | jq '.summary'\n"

/* ---- the descriptor ---------------------------------------------------------- */

static const sonde_command sd_commands[] = {
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = SONDE_CMD_NEEDS_TARGET,
        .name = "snapshot",
        .summary = "write every goroutine's stack as a JSON snapshot (format version 1)",
        .usage = "[-o FILE [--diff]]",
        .help = "Writes one JSON document describing every goroutine of the process, in\n"
                "the runtime's order, as `sonde goroutines` lists them (the runtime's own\n"
                "goroutines are left out): id, status, wait reason and minutes, parent id,\n"
                "locked to a thread or not, where it was created, and its frames (function,\n"
                "file, line, pc, inlined) as Go's traceback shows them. The process is\n"
                "stopped only while sonde copies the goroutines.\n"
                "\n"
                "  -o, --output FILE  write the snapshot to FILE (created, or truncated)\n"
                "                     instead of standard output. In FILE, %n is the\n"
                "                     snapshot's number in this run (1, 2, ...), %t the\n"
                "                     UTC time (20261130T120641Z), %% a %. If the snapshot\n"
                "                     cannot be completed, FILE is removed rather than\n"
                "                     left half written.\n"
                "  --diff             with -o: then print what changed since the previous\n"
                "                     snapshot of this session (see `stackdiff diff --help`)\n"
                "\n"
                "The document starts {\"format\": \"sonde-stackdiff-snapshot\", \"version\": 1,\n"
                "...}; every field is described in docs/stackdiff.md. Examples:\n"
                "  sonde stackdiff snapshot -p 4242 -o before.json\n"
                "  sonde attach -p 4242 --every 10s 'stackdiff snapshot -o snap-%n.json' -d 60\n"
                "  sonde attach -p 4242 --every 10s 'stackdiff snapshot -o snap-%n.json --diff'\n"
                "[stackdiff] in sonde.ini can take snapshots by itself in a session: every,\n"
                "on_attach, on_hit, diff, output (docs/stackdiff.md).\n",
        .run = sd_cmd_snapshot,
    },
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = 0,
        .name = "diff",
        .summary = "what changed between two snapshots: by stack, and goroutine by goroutine",
        .usage = "[OPTIONS] A.json B.json",
        .help = DIFF_HELP,
        .run = sd_cmd_diff,
    },
};

static const sonde_plugin sd_plugin = {
    .struct_size = (uint32_t)sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = SONDE_PLUGIN_NAME,
    .version = SONDE_PLUGIN_VERSION,
    .description = "snapshots of every goroutine's stack, and what changed between two",
    .on_load = sd_on_load,
    .on_attach = sd_on_attach,
    .on_state_change = sd_on_state_change,
    .on_breakpoint_hit = sd_on_breakpoint_hit,
    .on_detach = sd_on_detach,
    .on_unload = sd_on_unload,
    .commands = sd_commands,
    .ncommands = (uint32_t)(sizeof sd_commands / sizeof sd_commands[0]),
    .command_size = (uint32_t)sizeof(sonde_command),
};

/* The one exported symbol (-fvisibility=hidden hides everything else). */
SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void);
SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &sd_plugin; }
