/* cmd_attach.c: `sonde attach` and `sonde exec`: their options, read into
 * a sess_opts for the session engine (session/session.h), and what the
 * session reports as it runs, printed. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "cli/cli.h"
#include "session/session.h"

static void help(FILE *f, bool exec) {
  if (exec)
    fputs("Usage: sonde exec [OPTIONS] -- PROGRAM [ARGS...]\n"
          "\n"
          "Starts the Go program PROGRAM under sonde, traced from its first instruction:\n"
          "breakpoints are in before any of its code runs (before init functions and\n"
          "main.main). sonde's exit status is the program's. When a stop condition ends\n"
          "the session first, sonde takes every breakpoint out, lets the program run on,\n"
          "and waits for it to exit (SIGTERM or SIGHUP to sonde is passed on to it).\n",
          f);
  else
    fputs("Usage: sonde attach -p PID [OPTIONS]\n"
          "\n"
          "Stays attached to the running Go process PID, with breakpoints, plugins and\n"
          "plugin commands, until a stop condition; then takes every breakpoint out and\n"
          "lets the process go, untouched. The process runs between events.\n",
          f);
  fputs("\n"
        "Breakpoints:\n"
        "  -b, --break LOCATION   FUNCTION, by its full Go name: main.work,\n"
        "                         main.(*Server).handle, net/http.(*conn).serve;\n"
        "                         or FILE.go:LINE (server.go:42, app/server.go:42): every\n"
        "                         place the line starts, inlined copies included.\n"
        "                         Repeat for more (up to 64). Prints a line per hit:\n"
        "                         hit N: LOCATION [in FUNC] goroutine G thread T\n"
        "      --goid N           report only hits by goroutine N\n"
        "      --nth N            report every Nth matching hit (all are counted)\n"
        "  -n, --count N          stop after N reported hits\n"
        "\n"
        "Plugin commands (the plugin is loaded for them; quote each command):\n"
        "      --on-hit 'PLUGIN COMMAND [ARGS]'   at each reported hit\n"
        "      --every DURATION 'PLUGIN COMMAND [ARGS]'\n"
        "                                         every DURATION (5s, 500ms, 2m; at\n"
        "                                         least 10ms)\n"
        "      --runs N           stop after N rounds of the --every commands\n"
        "      --on-attach 'PLUGIN COMMAND [ARGS]'\n"
        "                                         once, when the session starts\n"
        "      --on-detach 'PLUGIN COMMAND [ARGS]'\n"
        "                                         once, before sonde lets go (not when\n"
        "                                         the process has exited)\n"
        "  Every thread of the process is stopped while a command runs; after each round\n"
        "  of --every commands the process runs at least as long as the round stopped it.\n"
        "\n"
        "Session:\n"
        "  -d, --duration DURATION  stop after DURATION (10, 10s, 500ms, 2m)\n"
        "  -q, --quiet            no line per hit; only the summary\n"
        "      --plugin NAME      load plugin NAME (repeat for more): it sees on_attach,\n"
        "                         every state change and every reported hit\n"
        "      --non-stop         plugins' on_breakpoint_hit runs with only the hitting\n"
        "                         thread stopped (the rest are stopped on demand, when a\n"
        "                         plugin asks for goroutines); the default stops them all\n"
        "      --config FILE, --index FILE, --plugin-dir DIR, --allow-unsafe-plugins\n"
        "                         as for 'sonde plugins'\n"
        "  -h, --help             show this help\n"
        "\n"
        "A hit that is not reported (--goid, --nth) stops only the hitting thread, when\n"
        "sonde can compute the instruction under the breakpoint instead of stepping it:\n"
        "a Go function's stack check and the usual first instructions of leaf functions\n"
        "(the summary counts these hits). Other instructions are stepped with every\n"
        "thread stopped.\n"
        "\n"
        "Stops: --count, --runs, --duration, the process exiting, or Ctrl-C (SIGINT).\n"
        "The summary says how often and how long every thread of the process was stopped.\n"
        "\n"
        "Examples:\n",
        f);
  if (exec)
    fputs("  sonde exec -b main.handle -n 10 -- ./server -listen :8080\n"
          "  sonde exec -b handler.go:57 --on-hit 'stackdiff snapshot' -- ./server\n",
          f);
  else
    fputs("  sonde attach -p 1234 -b main.handle -n 10\n"
          "  sonde attach -p 1234 -b server.go:120 --goid 17\n"
          "  sonde attach -p 1234 --every 5s 'stackdiff snapshot' -d 60\n"
          "  sonde attach -p 1234 --every 1s 'goroutine-graph leaks --json' --runs 60\n",
          f);
  fputs("\n"
        "Exit codes: 0 ok (also after Ctrl-C), 2 usage (e.g. no such function or line),\n"
        "3-7 as for 'sonde goroutines', 12 a plugin was refused, failed or crashed (the\n"
        "session goes on without it), 13 a command found what it checks for in at least\n"
        "one run (goroutine-graph leaks: leaked goroutines), 128+N ended by SIGTERM/SIGHUP\n"
        "after detaching.\n",
        f);
  if (exec) fputs("With sonde exec, the program's own exit status when all went well.\n", f);
}

static int parse_count(const char *s, const char *what, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-')
    return se_set(SE_USAGE, "%s wants a whole number, not '%s'", what, s);
  *out = v;
  return 0;
}

/* "10", "10s", "1.5s", "500ms", "2m", "1h" -> seconds. */
static int parse_duration(const char *s, const char *what, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  double unit = 1;
  if (!strcmp(end, "ms")) unit = 0.001;
  else if (!strcmp(end, "m")) unit = 60;
  else if (!strcmp(end, "h")) unit = 3600;
  else if (*end && strcmp(end, "s")) end = NULL;
  if (errno || !end || end == s || !isfinite(v) || !(v > 0) || v * unit > 1e7)
    return se_set(SE_USAGE, "%s wants a duration such as 10, 10s, 500ms or 2m, not '%s'", what, s);
  *out = v * unit;
  return 0;
}

static int add_action(sess_opts *o, sess_when when, double secs, const char *text) {
  if (o->nactions == SESS_MAX_ACTIONS) return se_set(SE_USAGE, "at most %d plugin commands", SESS_MAX_ACTIONS);
  int rc = sess_action_parse(&o->actions[o->nactions], when, secs, text);
  o->nactions++; /* owned words are freed either way */
  return rc;
}

/* ---- what the session says, printed ----------------------------------- */

static void on_armed(void *ctx, pid_t pid, bool started, const char *go_version, const sess_bp_info *bps, size_t n) {
  (void)ctx;
  fprintf(stderr, "sonde: %s %d (%s); Ctrl-C to stop\n", started ? "started" : "attached to", (int)pid, go_version);
  for (size_t i = 0; i < n; i++) {
    const sess_bp_info *b = &bps[i];
    const gr_location *l = b->loc;
    if (l->npcs == 1) {
      fprintf(stderr, "sonde: breakpoint %llu at %s (0x%llx)\n", (unsigned long long)b->id, b->spec,
              (unsigned long long)l->pcs[0]);
      continue;
    }
    fprintf(stderr, "sonde: breakpoint %llu at %s: %zu places\n", (unsigned long long)b->id, b->spec, l->npcs);
    for (size_t k = 0; k < l->npcs; k++)
      fprintf(stderr, "sonde:   0x%llx in %s%s\n", (unsigned long long)l->pcs[k], l->func[k] ? l->func[k] : "?",
              l->inlined[k] ? " (inlined)" : "");
  }
}

static void on_hit(void *ctx, uint64_t nth, const sess_bp_info *b, uint64_t pc, uint64_t goid, int tid) {
  (void)ctx;
  const gr_location *l = b->loc;
  printf("hit %llu: %s", (unsigned long long)nth, b->spec);
  if (l->is_line) {
    size_t k = 0;
    while (k < l->npcs && l->pcs[k] != pc) k++;
    if (k < l->npcs) printf(" in %s%s", l->func[k] ? l->func[k] : "?", l->inlined[k] ? " (inlined)" : "");
  }
  printf(" goroutine %llu thread %d\n", (unsigned long long)goid, tid);
  fflush(stdout);
}

static void on_note(void *ctx, const char *msg) {
  (void)ctx;
  fprintf(stderr, "sonde: %s\n", msg);
}

/* The line every session ends with, then its error, if any. */
static void on_ended(void *ctx, const sess_result *r, int rc) {
  (void)ctx;
  char exited[64];
  if (!r->exit_known) snprintf(exited, sizeof exited, "the process ended");
  else if (r->exit_signal) snprintf(exited, sizeof exited, "the process was killed by signal %d", r->exit_signal);
  else snprintf(exited, sizeof exited, "the process exited (status %d)", r->exit_status);
  const char *why = r->exited ? exited : r->why ? r->why : "stopped";
  char alone[64] = "";
  if (r->emulated) snprintf(alone, sizeof alone, ", %llu without stopping other threads", (unsigned long long)r->emulated);
  char stops[96] = "; the process never stopped as a whole";
  if (r->nstops)
    snprintf(stops, sizeof stops, "; process stopped %llu time%s, %.1f ms in all (longest %.1f ms)",
             (unsigned long long)r->nstops, r->nstops == 1 ? "" : "s", r->stopped_ms, r->longest_ms);
  fprintf(stderr, "sonde: %s after %.1f s: %llu hit%s (%llu reported)%s, %llu signal%s passed on%s; %s\n", why,
          r->secs, (unsigned long long)r->total, r->total == 1 ? "" : "s", (unsigned long long)r->reported, alone,
          (unsigned long long)r->passed, r->passed == 1 ? "" : "s", stops, r->exited ? "done" : "detached");
  if (rc) fprintf(stderr, "sonde: %s\n", se_msg());
}

/* ---- the options ------------------------------------------------------- */

static int run(int argc, char **argv, bool exec) {
  enum { O_GOID = 256, O_NTH, O_PLUGIN, O_CONFIG, O_INDEX, O_PLUGIN_DIR, O_UNSAFE, O_ON_HIT, O_EVERY, O_ON_ATTACH,
         O_ON_DETACH, O_NON_STOP, O_RUNS };
  static const struct option longopts[] = {
      {"pid", required_argument, 0, 'p'},         {"break", required_argument, 0, 'b'},
      {"goid", required_argument, 0, O_GOID},     {"nth", required_argument, 0, O_NTH},
      {"count", required_argument, 0, 'n'},       {"duration", required_argument, 0, 'd'},
      {"quiet", no_argument, 0, 'q'},             {"help", no_argument, 0, 'h'},
      {"plugin", required_argument, 0, O_PLUGIN}, {"config", required_argument, 0, O_CONFIG},
      {"index", required_argument, 0, O_INDEX},   {"plugin-dir", required_argument, 0, O_PLUGIN_DIR},
      {"allow-unsafe-plugins", no_argument, 0, O_UNSAFE},
      {"on-hit", required_argument, 0, O_ON_HIT}, {"every", required_argument, 0, O_EVERY},
      {"on-attach", required_argument, 0, O_ON_ATTACH}, {"on-detach", required_argument, 0, O_ON_DETACH},
      {"non-stop", no_argument, 0, O_NON_STOP},   {"runs", required_argument, 0, O_RUNS},
      {0, 0, 0, 0}};
  static sess_opts o;
  memset(&o, 0, sizeof o);
  o.nth = 1;
  const char *pidarg = NULL, *cmd = exec ? "exec" : "attach";
  int c, rc = 0;
  optind = 1;
  opterr = 0;
  while (rc == 0 && (c = getopt_long(argc, argv, exec ? "+b:n:d:qh" : "+p:b:n:d:qh", longopts, NULL)) != -1) {
    switch (c) {
      case 'p': pidarg = optarg; break;
      case 'b':
        if (o.nbreaks == SESS_MAX_BREAKS) rc = se_set(SE_USAGE, "at most %d --break options", SESS_MAX_BREAKS);
        else o.breaks[o.nbreaks++] = optarg;
        break;
      case O_GOID:
        rc = parse_count(optarg, "--goid", &o.goid);
        o.have_goid = true;
        break;
      case O_NTH:
        if ((rc = parse_count(optarg, "--nth", &o.nth)) == 0 && o.nth == 0)
          rc = se_set(SE_USAGE, "--nth wants a number of at least 1");
        break;
      case 'n': rc = parse_count(optarg, "--count", &o.count); break;
      case O_RUNS:
        if ((rc = parse_count(optarg, "--runs", &o.runs)) == 0 && o.runs == 0)
          rc = se_set(SE_USAGE, "--runs wants a number of at least 1");
        break;
      case 'd': rc = parse_duration(optarg, "--duration", &o.duration); break;
      case 'q': o.quiet = true; break;
      case 'h': help(stdout, exec); return 0;
      case O_PLUGIN:
        if (o.nplugins == SESS_MAX_PLUGINS) rc = se_set(SE_USAGE, "at most %d --plugin options", SESS_MAX_PLUGINS);
        else o.plugins[o.nplugins++] = optarg;
        break;
      case O_CONFIG: o.po.config = optarg; break;
      case O_INDEX: o.po.index = optarg; break;
      case O_PLUGIN_DIR: o.po.plugin_dir = optarg; break;
      case O_UNSAFE: o.po.allow_unsafe = true; break;
      case O_NON_STOP: o.non_stop = true; break;
      case O_ON_HIT: rc = add_action(&o, SESS_AT_HIT, 0, optarg); break;
      case O_ON_ATTACH: rc = add_action(&o, SESS_AT_ATTACH, 0, optarg); break;
      case O_ON_DETACH: rc = add_action(&o, SESS_AT_DETACH, 0, optarg); break;
      case O_EVERY: {
        double secs;
        if ((rc = parse_duration(optarg, "--every", &secs))) break;
        if (secs < 0.010) {
          rc = se_set(SE_USAGE, "--every %s: the shortest interval is 10ms", optarg);
          break;
        }
        if (optind >= argc || argv[optind][0] == '-') {
          rc = se_set(SE_USAGE, "--every %s wants a plugin command after it: --every %s 'stackdiff snapshot'", optarg,
                      optarg);
          break;
        }
        rc = add_action(&o, SESS_AT_EVERY, secs, argv[optind++]);
        break;
      }
      default:
        rc = se_set(SE_USAGE, "unknown or incomplete option '%s'; see 'sonde %s --help'", argv[optind - 1], cmd);
    }
  }
  if (rc == 0 && exec) {
    if (optind >= argc) rc = se_set(SE_USAGE, "give the program to start: sonde exec [OPTIONS] -- PROGRAM [ARGS]");
    else o.exec_argv = argv + optind;
  } else if (rc == 0) {
    if (!pidarg && optind < argc) pidarg = argv[optind++];
    if (optind < argc) rc = se_set(SE_USAGE, "unexpected argument '%s'; see 'sonde attach --help'", argv[optind]);
    else if (!pidarg) rc = se_set(SE_USAGE, "give -p PID; see 'sonde attach --help'");
    else rc = cli_parse_pid(pidarg, &o.pid);
  }
  if (rc == 0 && o.nbreaks == 0 && o.nactions == 0 && o.nplugins == 0)
    rc = se_set(SE_USAGE, "nothing to do: give --break LOCATION, a plugin command (--every, --on-attach, ...) or "
                "--plugin NAME; see 'sonde %s --help'", cmd);
  if (rc) {
    sess_opts_free(&o);
    return cli_fail(rc);
  }
  sess_observer obs = {.ctx = &o, .armed = on_armed, .hit = on_hit, .note = on_note, .ended = on_ended};
  sess_result r;
  bool ended;
  rc = sess_run(&o, &obs, &r, &ended);
  sess_opts_free(&o);
  if (!ended) return cli_fail(rc); /* nothing was touched */
  int status = rc ? se_exit_status(rc) : r.found && !exec ? SE_EXIT_FOUND : 0;
  if (r.have_child && !rc) status = r.child_status; /* exec: the program's own */
  return status;
}

int cmd_attach(int argc, char **argv) { return run(argc, argv, false); }
int cmd_exec(int argc, char **argv) { return run(argc, argv, true); }
