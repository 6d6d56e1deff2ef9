/* gg.c: the goroutine-graph plugin (issue 8): its commands.
 *
 *   sonde goroutine-graph leaks -p PID [--json] [-o FILE]   the goroutines that can never wake up
 *   sonde goroutine-graph dot -p PID [-o FILE.dot|FILE.svg] [--json] [filters]   who waits on what
 *
 * The host computes what each goroutine waits on and which can never be
 * woken (ABI 1.4, SONDE_CMD_NEEDS_LEAKS), in one stop; this file reads that
 * model (model.c) and writes it out (leaks.c, graph.c).
 * Only <sonde/plugin.h>, <sonde/util.h> and libc. */
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sonde/plugin.h>
#include <sonde/util.h>

#include "gg.h"


SONDE_PLUGIN_NOTE("goroutine-graph", "0.1.0");

typedef struct {
  const sonde_host_api *api;
  /* [goroutine-graph] in sonde.ini */
  char ignore[4096]; /* leaked goroutines not to report: function patterns */
  size_t samples;    /* dot: ids shown per group */
  int system;        /* dot: also the runtime's goroutines */
} gg_state;


static int cmd_leaks(sonde_host *h, void *state, int argc, char **argv) {
  const gg_state *st = state;
  const sonde_host_api *api = st->api;
  int json = 0, no_ignore = 0;
  const char *out = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--no-ignore"))
      no_ignore = 1;
    else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc)
      out = argv[++i];
    else if (!strncmp(argv[i], "--output=", 9))
      out = argv[i] + 9;
    else
      return api->fail(h, SONDE_EINVAL, "leaks: unknown argument '%s'; see 'sonde goroutine-graph leaks --help'",
                       argv[i]);
  }
  gg_model m;
  int rc = gg_model_read(h, api, GG_FRAMES_LEAKED, &m);
  if (rc != SONDE_OK) return rc;
  if (!m.has_leaks) {
    gg_model_free(&m);
    return api->fail(h, SONDE_ERROR, "leaks: the host ran no leak analysis");
  }
  const sonde_leak_info *li = &m.leaks;
  if (!li->complete) {
    rc = api->fail(h, SONDE_EFAULT,
                   "cannot decide which goroutines leaked: %s; sonde reports none rather than risk a goroutine that "
                   "could still wake up (try again: the process may have been mid-update)",
                   li->incomplete);
    gg_model_free(&m);
    return rc;
  }
  gg_model_ignore(&m, no_ignore ? NULL : st->ignore);
  rc = sonde_emit(h, api, out, json ? gg_leaks_json : gg_leaks_text, &m);
  char ignored[96] = "";
  if (m.nignored) snprintf(ignored, sizeof ignored, " (and %zu more that [goroutine-graph] ignore matches)", m.nignored);
  if (rc == SONDE_OK)
    api->message(h, SONDE_LOG_INFO,
                 "%zu leaked goroutine%s%s, %" PRIu64 " deadlock cycle%s%s, of %" PRIu64
                 " parked on channels, selects and locks (%" PRIu64 " not checkable); process stopped %.1f ms"
                 " (analysis %.1f ms)",
                 m.nreported, m.nreported == 1 ? "" : "s", ignored, li->groups, li->groups == 1 ? "" : "s",
                 li->groups_complete ? "" : " (cycle search cut short)", li->parked, li->unknown,
                 (double)li->stopped_ns / 1e6, (double)li->analysis_ns / 1e6);
  size_t reported = m.nreported;
  gg_model_free(&m);
  if (rc == SONDE_OK && reported) rc = api->report_found(h); /* sonde exits 13 */
  return rc;
}

/* ---- dot ---- */

typedef struct {
  const gg_graph *gr;
  size_t samples;
} dot_out;

static void write_dot(FILE *f, void *ctx) {
  const dot_out *o = ctx;
  gg_graph_dot(f, o->gr, o->samples);
}

static void write_graph_json(FILE *f, void *ctx) { gg_graph_json(f, ((const dot_out *)ctx)->gr); }

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

extern char **environ;

/* Renders the DOT file at src into the SVG at dst with Graphviz's dot,
 * which writes to its standard output: a file of ours (<sonde/file.h>),
 * renamed over dst only when dot succeeded (dot's own -o would follow a
 * link at dst and leave half an SVG when it fails). */
static int render_svg(sonde_host *h, const sonde_host_api *api, const char *src, const char *dst) {
  char *argv[] = {"dot", "-Tsvg", (char *)src, NULL};
  sonde_outfile o;
  int err = sonde_outfile_open(&o, dst), st = 0;
  if (err) return api->fail(h, SONDE_EIO, "cannot write %s: %s", dst, strerror(err));
  posix_spawn_file_actions_t fa;
  pid_t pid;
  err = posix_spawn_file_actions_init(&fa);
  if (!err) err = posix_spawn_file_actions_adddup2(&fa, o.fd, STDOUT_FILENO);
  if (!err) err = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err) sonde_outfile_abort(&o);
  if (err == ENOENT)
    return api->fail(h, SONDE_ENOTSUP,
                     "writing SVG needs Graphviz's dot, which is not installed: install graphviz "
                     "(apt install graphviz), or write DOT (-o graph.dot)");
  if (err) return api->fail(h, SONDE_ERROR, "cannot run Graphviz's dot: %s", strerror(err));
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    sonde_outfile_abort(&o);
    return api->fail(h, SONDE_ERROR, "Graphviz's dot failed to render %s (exit status %d); the DOT is kept there",
                     src, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  }
  if ((err = sonde_outfile_commit(&o)) != 0) return api->fail(h, SONDE_EIO, "cannot write %s: %s", dst, strerror(err));
  return SONDE_OK;
}

static bool has_package(const gg_goroutine *g, const char *pkg) {
  size_t n = strlen(pkg);
  for (uint32_t k = 0; k < g->nframes; k++) {
    const char *f = g->frames[k].function;
    if (f && !strncmp(f, pkg, n) && f[n] == '.') return true;
  }
  return false;
}

static bool touches(const gg_goroutine *g, uint64_t addr) {
  for (uint32_t k = 0; k < g->nwaits; k++)
    if (g->waits[k].addr == addr) return true;
  for (uint32_t k = 0; k < g->nreaches; k++)
    if (g->reaches[k] == addr) return true;
  return false;
}

typedef struct {
  bool system, only_leaked, json;
  const char *out, *pkg;
  int64_t goroutine; /* 0: no filter */
  uint64_t chan;     /* 0: no filter */
  size_t samples;
} dot_opts;

/* Which goroutines the filters keep. */
static int select_goroutines(sonde_host *h, const sonde_host_api *api, const gg_model *m, const dot_opts *o,
                             bool *keep) {
  const gg_goroutine *focus = NULL;
  for (size_t i = 0; i < m->n && o->goroutine; i++)
    if (m->gs[i].id == o->goroutine) focus = &m->gs[i];
  if (o->goroutine && !focus)
    return api->fail(h, SONDE_ENOTFOUND, "dot: no goroutine %" PRId64 " in the process (sonde goroutines -p PID lists "
                     "them)", o->goroutine);
  size_t kept = 0;
  for (size_t i = 0; i < m->n; i++) {
    const gg_goroutine *g = &m->gs[i];
    bool k = (o->system || !g->system || g == focus) && (!o->only_leaked || gg_reported_leak(g)) &&
             (!o->pkg || has_package(g, o->pkg)) && (!o->chan || touches(g, o->chan));
    if (k && focus && g != focus && g->id != focus->parent_id) {
      bool near = false; /* meets the focus at a primitive */
      for (uint32_t w = 0; w < focus->nwaits && !near; w++) near = touches(g, focus->waits[w].addr);
      for (uint32_t r = 0; r < focus->nreaches && !near; r++) near = touches(g, focus->reaches[r]);
      for (uint32_t w = 0; w < g->nwaits && !near; w++) near = touches(focus, g->waits[w].addr);
      k = near;
    }
    keep[i] = k;
    kept += k;
  }
  if (!kept)
    api->message(h, SONDE_LOG_WARN, "dot: no goroutine matches the filters; the graph is empty");
  return SONDE_OK;
}

static int parse_dot_args(sonde_host *h, const gg_state *st, int argc, char **argv, dot_opts *o) {
  const sonde_host_api *api = st->api;
  *o = (dot_opts){.samples = st->samples, .system = st->system};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (!strcmp(a, "--json")) o->json = true;
    else if (!strcmp(a, "--system")) o->system = true;
    else if (!strcmp(a, "--leaked")) o->only_leaked = true;
    else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && v) o->out = argv[++i];
    else if (!strcmp(a, "--package") && v) o->pkg = argv[++i];
    else if (!strcmp(a, "--goroutine") && v) {
      errno = 0;
      long long id = strtoll(argv[++i], &end, 10);
      if (errno || *end || id <= 0) return api->fail(h, SONDE_EINVAL, "dot: --goroutine wants a goroutine id, not '%s'", v);
      o->goroutine = id;
    } else if (!strcmp(a, "--chan") && v) {
      errno = 0;
      unsigned long long x = strtoull(argv[++i], &end, 0);
      if (errno || *end || !x)
        return api->fail(h, SONDE_EINVAL, "dot: --chan wants an address (0xc000123450, as the graph shows it), not '%s'", v);
      o->chan = x;
    } else if (!strcmp(a, "--samples") && v) {
      errno = 0;
      unsigned long long n = strtoull(argv[++i], &end, 10);
      if (errno || *end || n > 1000) return api->fail(h, SONDE_EINVAL, "dot: --samples wants 0 to 1000, not '%s'", v);
      o->samples = (size_t)n;
    } else
      return api->fail(h, SONDE_EINVAL, "dot: unknown argument '%s'; see 'sonde goroutine-graph dot --help'", a);
  }
  if (o->json && o->out && ends_with(o->out, ".svg"))
    return api->fail(h, SONDE_EINVAL, "dot: --json writes JSON, not SVG: give -o FILE.json");
  return SONDE_OK;
}

static int cmd_dot(sonde_host *h, void *state, int argc, char **argv) {
  const gg_state *st = state;
  const sonde_host_api *api = st->api;
  dot_opts o;
  int rc = parse_dot_args(h, st, argc, argv, &o);
  if (rc != SONDE_OK) return rc;
  gg_model m;
  if ((rc = gg_model_read(h, api, GG_FRAMES_ALL, &m)) != SONDE_OK) return rc;
  gg_model_ignore(&m, st->ignore);
  bool *keep = calloc(m.n ? m.n : 1, sizeof *keep);
  gg_graph gr;
  memset(&gr, 0, sizeof gr);
  if (!keep) rc = api->fail(h, SONDE_ENOMEM, "out of memory");
  if (rc == SONDE_OK) rc = select_goroutines(h, api, &m, &o, keep);
  if (rc == SONDE_OK && gg_graph_build(&gr, &m, keep) != 0) rc = api->fail(h, SONDE_ENOMEM, "out of memory for the graph");
  dot_out d = {&gr, o.samples};
  if (rc == SONDE_OK && o.json) {
    rc = sonde_emit(h, api, o.out, write_graph_json, &d);
  } else if (rc == SONDE_OK && o.out && ends_with(o.out, ".svg")) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%.4000s.dot", o.out);
    rc = sonde_emit(h, api, tmp, write_dot, &d);
    if (rc == SONDE_OK && (rc = render_svg(h, api, tmp, o.out)) == SONDE_OK) unlink(tmp);
  } else if (rc == SONDE_OK) {
    rc = sonde_emit(h, api, o.out, write_dot, &d);
  }
  if (rc == SONDE_OK && m.has_leaks)
    api->message(h, SONDE_LOG_INFO, "%zu goroutine groups, %zu primitives; %" PRIu64 " leaked goroutine%s, %" PRIu64
                 " deadlock cycle%s", gr.ngroups, gr.nprims, m.leaks.leaked, m.leaks.leaked == 1 ? "" : "s",
                 m.leaks.groups, m.leaks.groups == 1 ? "" : "s");
  gg_graph_free(&gr);
  free(keep);
  gg_model_free(&m);
  return rc;
}

/* [goroutine-graph] in sonde.ini: ignore, samples, system. */
static int read_config(sonde_host *h, gg_state *st) {
  const sonde_host_api *api = st->api;
  const char *v;
  st->samples = 5;
  if ((v = api->config_get(h, "ignore"))) {
    if (strlen(v) >= sizeof st->ignore)
      return api->fail(h, SONDE_EINVAL, "sonde.ini [goroutine-graph] ignore: longer than %zu bytes",
                       sizeof st->ignore - 1);
    snprintf(st->ignore, sizeof st->ignore, "%s", v);
  }
  if ((v = api->config_get(h, "samples"))) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || !*v || n > 1000)
      return api->fail(h, SONDE_EINVAL, "sonde.ini [goroutine-graph] samples: a number from 0 to 1000, not '%s'", v);
    st->samples = (size_t)n;
  }
  if ((v = api->config_get(h, "system")) && sonde_parse_bool(v, &st->system) != 0)
    return api->fail(h, SONDE_EINVAL, "sonde.ini [goroutine-graph] system: yes or no, not '%s'", v);
  return SONDE_OK;
}

static int on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  if (SONDE_ABI_MAJOR_OF(api->abi_version) != SONDE_ABI_MAJOR) return SONDE_ENOTSUP;
  gg_state *st = calloc(1, sizeof *st);
  if (!st) return api->fail(h, SONDE_ENOMEM, "out of memory");
  st->api = api;
  int rc = read_config(h, st);
  if (rc != SONDE_OK) {
    free(st);
    return rc;
  }
  *state = st;
  return SONDE_OK;
}

static void on_unload(sonde_host *h, void *state) {
  (void)h;
  free(state);
}

static const sonde_command commands[] = {
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = SONDE_CMD_NEEDS_LEAKS,
        .name = "leaks",
        .summary = "the goroutines that can never wake up, and the deadlock cycles among them",
        .usage = "[--json] [-o FILE] [--no-ignore]",
        .help = "Finds the goroutines parked for good: blocked on a channel, a select, a\n"
                "nil channel, select{}, or a sync.Mutex, RWMutex, WaitGroup or Cond that\n"
                "no goroutine that can still run is able to reach. This is the criterion\n"
                "of the Go runtime's own leak detector (the goroutineleak profile of Go\n"
                "1.26+), computed from outside: no change to the program, any supported\n"
                "Go version, no GC cycle in the target. The process is stopped while\n"
                "sonde reads its goroutines and heap and follows every pointer from the\n"
                "roots (globals, thread registers, the stacks of goroutines that can run,\n"
                "read through the compiler's stack maps); in heap objects anything that\n"
                "looks like a pointer counts, so a goroutine that could still be woken is\n"
                "never reported.\n"
                "\n"
                "Each leaked goroutine prints as in a Go traceback, with \" (leaked)\" after\n"
                "its wait reason, as the runtime's profile prints it; then the deadlock\n"
                "cycles: leaked goroutines that only each other could wake. Goroutine 1 in\n"
                "select{} is not reported (as Go 1.27's detector does). A summary goes to\n"
                "stderr.\n"
                "\n"
                "  --json         one JSON document (docs/goroutine-graph.md)\n"
                "  -o, --output FILE  write there instead of stdout\n"
                "  --no-ignore    also the leaks that sonde.ini's [goroutine-graph] ignore\n"
                "                 matches (function names; \"pkg.*\" matches a prefix)\n"
                "\n"
                "Exit status: 0 when no goroutine leaked, 13 when some did, other codes\n"
                "for errors (sonde --help): usable as a check in scripts and CI.\n",
        .run = cmd_leaks,
    },
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = SONDE_CMD_NEEDS_LEAKS,
        .name = "dot",
        .summary = "who waits on what, as a Graphviz graph (DOT, SVG or JSON), leaks marked",
        .usage = "[-o FILE.dot|FILE.svg] [--json] [--goroutine ID] [--chan ADDR] [--package PKG] [--leaked] "
                 "[--system] [--samples N]",
        .help = "Draws the goroutines of the process and what they wait on: channels,\n"
                "mutexes, wait groups, conds. Goroutines alike (same state, same stack,\n"
                "waiting on the same things) are one node with a count and sample ids,\n"
                "so 100,000 goroutines still make a readable graph. A channel or lock where\n"
                "two goroutines meet is a node of its own; goroutines that each wait on a\n"
                "channel of their own show them as one \"N x chan T (one each)\" node.\n"
                "Edges: waits on (with the direction: send, receive, select), holds (a\n"
                "leaked goroutine reaches what another leaked one waits on), created by.\n"
                "Leaked goroutines are red; each deadlock cycle is a red cluster\n"
                "(see 'sonde goroutine-graph leaks --help' for what leaked means).\n"
                "\n"
                "  -o, --output FILE   FILE.svg is rendered with Graphviz's dot (installed\n"
                "                      with graphviz); any other name gets DOT. Default: DOT\n"
                "                      on stdout (dot -Tsvg -o graph.svg renders it)\n"
                "  --json              the graph as JSON: groups, primitives (docs/goroutine-graph.md)\n"
                "  --goroutine ID      only goroutine ID, its creator, and the goroutines it\n"
                "                      meets at a channel or lock\n"
                "  --chan ADDR         only the goroutines waiting on or holding the channel\n"
                "                      (or lock) at ADDR, as the graph prints it\n"
                "  --package PKG       only goroutines with a frame in package PKG (main,\n"
                "                      net/http, github.com/you/svc/store)\n"
                "  --leaked            only leaked goroutines\n"
                "  --system            also the runtime's own goroutines\n"
                "  --samples N         goroutine ids shown per group (default 5, or\n"
                "                      [goroutine-graph] samples; JSON lists all)\n"
                "Leaks that sonde.ini's [goroutine-graph] ignore matches are drawn, not marked.\n",
        .run = cmd_dot,
    },
};

static const sonde_plugin plugin = {
    .struct_size = (uint32_t)sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = SONDE_PLUGIN_NAME,
    .version = SONDE_PLUGIN_VERSION,
    .description = "who waits on what, and the goroutines that can never wake up",
    .on_load = on_load,
    .on_unload = on_unload,
    .commands = commands,
    .ncommands = (uint32_t)(sizeof commands / sizeof commands[0]),
    .command_size = (uint32_t)sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void);
const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &plugin; }
