/* cmd_attach.c: `sonde attach`: stay attached to a running process, with
 * breakpoints on Go functions, until a stop condition; then take every
 * breakpoint out and let the process go.
 *
 * SIGINT, SIGTERM and SIGHUP end the session cleanly (breakpoints removed,
 * threads resumed, detached); SIGINT is an ordinary way to stop (exit 0),
 * the other two end sonde with their signal afterwards (128+N). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "cli/cli.h"
#include "cli/plugin_env.h"
#include "plugins/loader.h"
#include "target/trace.h"

enum { MAX_BREAKS = 64, MAX_PLUGINS = 8 };

static void help(FILE *f) {
  fputs("Usage: sonde attach -p PID --break FUNCTION [OPTIONS]\n"
        "\n"
        "Stays attached to the running Go process PID with a breakpoint at the entry of\n"
        "each FUNCTION, and prints a line for every hit: which function, which goroutine,\n"
        "which thread. The process runs between hits; at each hit every thread is\n"
        "stopped only while sonde reads the hitting goroutine. When a stop condition is\n"
        "met, sonde takes every breakpoint out and lets the process go, untouched.\n"
        "\n"
        "Options:\n"
        "  -p, --pid PID          the process\n"
        "  -b, --break FUNCTION   a breakpoint at FUNCTION's entry, by its full Go name:\n"
        "                         main.work, main.(*Server).handle, net/http.(*conn).serve\n"
        "                         (repeat for more; up to 64)\n"
        "      --goid N           count and report only hits by goroutine N\n"
        "      --every N          report every Nth matching hit (counts all of them)\n"
        "  -n, --count N          stop after N reported hits\n"
        "  -d, --duration SECS    stop after SECS seconds (decimals allowed)\n"
        "  -q, --quiet            no line per hit; only the summary\n"
        "      --plugin NAME      load plugin NAME (repeat for more): it sees on_attach,\n"
        "                         every state change and every reported hit\n"
        "                         (--config, --index, --plugin-dir, --allow-unsafe-plugins\n"
        "                         as for 'sonde plugins')\n"
        "  -h, --help             show this help\n"
        "\n"
        "Stops: --count, --duration, the process exiting, or Ctrl-C (SIGINT).\n"
        "\n"
        "Examples:\n"
        "  sonde attach -p 1234 -b main.handle -n 10\n"
        "  sonde attach -p 1234 -b 'main.(*Server).ServeHTTP' -d 5 -q\n"
        "\n"
        "Exit codes: 0 ok (also after Ctrl-C), 2 usage (e.g. no such function),\n"
        "3-7 as for 'sonde goroutines', 12 a plugin was refused, failed or crashed (the\n"
        "session goes on without it), 128+N ended by SIGTERM/SIGHUP after detaching.\n",
        f);
}

static volatile int g_stop;
static volatile sig_atomic_t g_signal;

static void on_stop_signal(int sig) {
  g_signal = sig;
  g_stop = 1;
}

static void on_alarm(int sig) {
  (void)sig;
  g_stop = 1;
}

/* Without SA_RESTART: waitpid returns EINTR and the loop sees g_stop. */
static void install(int sig, void (*fn)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
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

/* The goroutine running at a function's entry: Go's register ABI keeps it
 * in R14 (ABIInternal, Go 1.17+). Checked: the stack pointer lies within
 * that g's stack, else the goid is reported as unknown (0). */
static uint64_t current_goid(gr_program *p, tgt_mem *m, const struct user_regs_struct *r) {
  const gr_layout *L = &p->layout;
  uint64_t g = r->r14, lo = 0, hi = 0, goid = 0;
  if (g == 0) return 0;
  /* one process_vm_readv for the three fields, not through the page cache */
  tgt_iov v[3] = {{g + (uint64_t)GR_OFF(L, G_STACK_LO), &lo, sizeof lo, false},
                  {g + (uint64_t)GR_OFF(L, G_STACK_HI), &hi, sizeof hi, false},
                  {g + (uint64_t)GR_OFF(L, G_GOID), &goid, sizeof goid, false}};
  if (tgt_mem_readv(m, v, 3) != 0 || !v[0].ok || !v[1].ok || !v[2].ok || r->rsp < lo || r->rsp >= hi) {
    se_clear();
    return 0;
  }
  return goid;
}

typedef struct {
  uint64_t addr;
  const char *name;
} attach_bp;

/* The loaded plugins; a hook that fails or crashes disables its plugin,
 * which is reported at once, and the session goes on without it. */
typedef struct {
  plg_plugin p[MAX_PLUGINS];
  size_t n;
  bool failed;
} plugin_set;

static void report(plugin_set *ps, int rc) {
  if (!rc) return;
  fprintf(stderr, "sonde: %s\n", se_msg());
  se_clear();
  ps->failed = true;
}

static void state_change(plugin_set *ps, sonde_state from, sonde_state to, sonde_reason why) {
  for (size_t i = 0; i < ps->n; i++) report(ps, plg_state_change(&ps->p[i], from, to, why));
}

static void unload_all(plugin_set *ps) {
  for (size_t i = 0; i < ps->n; i++) {
    if (ps->p[i].attached) report(ps, plg_detach(&ps->p[i]));
    plg_unload(&ps->p[i]);
    if (ps->p[i].crashed) ps->failed = true;
  }
  ps->n = 0;
}

int cmd_attach(int argc, char **argv) {
  static const struct option longopts[] = {
      {"pid", required_argument, 0, 'p'},   {"break", required_argument, 0, 'b'},
      {"goid", required_argument, 0, 'G'},  {"every", required_argument, 0, 'E'},
      {"count", required_argument, 0, 'n'}, {"duration", required_argument, 0, 'd'},
      {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'},        {"plugin", required_argument, 0, 'P'},
      {"config", required_argument, 0, 'C'}, {"index", required_argument, 0, 'I'},
      {"plugin-dir", required_argument, 0, 'D'}, {"allow-unsafe-plugins", no_argument, 0, 'U'},
      {0, 0, 0, 0}};
  const char *pnames[MAX_PLUGINS];
  size_t npl = 0;
  penv_opts po = {0};
  const char *pidarg = NULL, *names[MAX_BREAKS];
  size_t nnames = 0;
  uint64_t want_goid = 0, every = 1, count = 0;
  double duration = 0;
  bool quiet = false, have_goid = false;
  int c, rc;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+p:b:n:d:qh", longopts, NULL)) != -1) {
    switch (c) {
      case 'p': pidarg = optarg; break;
      case 'b':
        if (nnames == MAX_BREAKS) return cli_fail(se_set(SE_USAGE, "at most %d --break options", MAX_BREAKS));
        names[nnames++] = optarg;
        break;
      case 'G':
        if ((rc = parse_count(optarg, "--goid", &want_goid))) return cli_fail(rc);
        have_goid = true;
        break;
      case 'E':
        if ((rc = parse_count(optarg, "--every", &every))) return cli_fail(rc);
        if (every == 0) return cli_fail(se_set(SE_USAGE, "--every wants a number of at least 1"));
        break;
      case 'n':
        if ((rc = parse_count(optarg, "--count", &count))) return cli_fail(rc);
        break;
      case 'd': {
        char *end;
        duration = strtod(optarg, &end);
        if (end == optarg || *end || !(duration > 0) || duration > 1e7)
          return cli_fail(se_set(SE_USAGE, "--duration wants a number of seconds, not '%s'", optarg));
        break;
      }
      case 'q': quiet = true; break;
      case 'h': help(stdout); return 0;
      case 'P':
        if (npl == MAX_PLUGINS) return cli_fail(se_set(SE_USAGE, "at most %d --plugin options", MAX_PLUGINS));
        pnames[npl++] = optarg;
        break;
      case 'C': po.config = optarg; break;
      case 'I': po.index = optarg; break;
      case 'D': po.plugin_dir = optarg; break;
      case 'U': po.allow_unsafe = true; break;
      default:
        return cli_fail(se_set(SE_USAGE, "unknown or incomplete option '%s'; see 'sonde attach --help'", argv[optind - 1]));
    }
  }
  if (!pidarg && optind < argc) pidarg = argv[optind++];
  if (optind < argc) return cli_fail(se_set(SE_USAGE, "unexpected argument '%s'; see 'sonde attach --help'", argv[optind]));
  if (!pidarg) return cli_fail(se_set(SE_USAGE, "give -p PID; see 'sonde attach --help'"));
  if (nnames == 0) return cli_fail(se_set(SE_USAGE, "give at least one --break FUNCTION; see 'sonde attach --help'"));
  pid_t pid;
  if ((rc = cli_parse_pid(pidarg, &pid))) return cli_fail(rc);

  cli_target t;
  if ((rc = cli_open_target(pid, &t))) {
    cli_target_free(&t);
    return cli_fail(rc);
  }
  /* Every name must resolve before the process is touched. */
  attach_bp bs[MAX_BREAKS];
  for (size_t i = 0; i < nnames; i++) {
    pcln_func f;
    if (pcln_find_name(&t.prog.pcln, names[i], &f) != 0) {
      cli_target_free(&t);
      se_set(SE_USAGE, "no function '%s' in %s: give its full Go name, such as main.work or "
             "main.(*Server).handle (`go tool nm BINARY | grep NAME` lists them)", names[i], t.info.exe);
      return cli_fail(SE_USAGE);
    }
    bs[i] = (attach_bp){.addr = f.entry, .name = names[i]};
  }

  /* Plugins load before the process is touched: a refusal costs it nothing. */
  penv pe;
  memset(&pe, 0, sizeof pe);
  plugin_set ps = {.n = 0};
  if (npl > 0) {
    idx_env env;
    penv_host_env(&env);
    if (rng_version_parse(t.prog.bi.go_version, &env.go) == 0) env.have_go = true;
    else se_clear();
    rc = penv_open(&pe, &po, true);
    for (size_t i = 0; i < npl && rc == 0; i++) {
      rc = penv_load_plugin(&pe, pnames[i], &env, &ps.p[ps.n]);
      if (rc == 0 || ps.p[ps.n].desc || ps.p[ps.n].dl) ps.n++;
      else if (ps.p[ps.n].fd >= 0) close(ps.p[ps.n].fd);
    }
    if (rc) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", se_msg());
      unload_all(&ps);
      penv_close(&pe);
      cli_target_free(&t);
      return cli_fail(se_set(rc, "%s", msg));
    }
  }

  sigset_t block, old;
  cli_stop_signals(&block);
  sigaddset(&block, SIGALRM);
  sigprocmask(SIG_BLOCK, &block, &old);
  install(SIGINT, on_stop_signal);
  install(SIGTERM, on_stop_signal);
  install(SIGHUP, on_stop_signal);
  install(SIGQUIT, on_stop_signal);
  install(SIGALRM, on_alarm);

  tgt_session sess;
  uint64_t reported = 0, matched = 0, total = 0, passed = 0;
  const char *why = "";
  bool exited = false; /* the process exited or was killed under us */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  rc = tgt_attach(pid, &sess);
  if (rc == 0 && (rc = tgt_mem_open(&t.mem, pid)) == 0 &&
      (rc = gr_program_bind(&t.prog, pid, t.info.exe, &t.mem)) == 0 && (rc = tgt_bp_open(pid)) == 0) {
    /* bound: the pclntab now answers with the running program's addresses */
    for (size_t i = 0; i < nnames && rc == 0; i++) {
      pcln_func f;
      if ((rc = pcln_find_name(&t.prog.pcln, bs[i].name, &f)) == 0) {
        bs[i].addr = f.entry;
        rc = tgt_bp_insert(bs[i].addr);
      }
    }
  }
  if (rc == 0) {
    fprintf(stderr, "sonde: attached to %d (%s); Ctrl-C to stop\n", (int)pid, t.prog.bi.go_version);
    for (size_t i = 0; i < nnames; i++)
      fprintf(stderr, "sonde: breakpoint at %s (0x%llx)\n", bs[i].name, (unsigned long long)bs[i].addr);
    if (duration > 0) {
      struct itimerval it = {{0, 0}, {(time_t)duration, (suseconds_t)((duration - (double)(time_t)duration) * 1e6)}};
      if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0) it.it_value.tv_usec = 1;
      setitimer(ITIMER_REAL, &it, NULL);
    }
    rc = tgt_trace_resume(&sess);
    sigprocmask(SIG_SETMASK, &old, NULL); /* stop signals now interrupt the wait */
  }
  struct utsname u;
  uname(&u);
  plg_target pt = {.pid = pid, .exe = t.info.exe, .kernel = u.release, .prog = &t.prog, .snap = NULL, .mem = &t.mem};
  if (rc == 0) {
    for (size_t i = 0; i < ps.n; i++) {
      ps.p[i].target = &pt;
      report(&ps, plg_attach(&ps.p[i]));
    }
    state_change(&ps, SONDE_STATE_ATTACHING, SONDE_STATE_RUNNING, SONDE_REASON_ATTACH);
  }
  while (rc == 0) {
    tgt_event ev;
    rc = tgt_trace_wait(&sess, &g_stop, &ev);
    if (rc) break;
    passed += ev.signals_passed;
    if (ev.kind == TGT_EV_INTERRUPTED) {
      why = g_signal ? (g_signal == SIGINT ? "interrupted" : "ended by a signal") : "duration reached";
      break;
    }
    if (ev.kind == TGT_EV_EXITED) {
      exited = true;
      break;
    }
    if (ev.kind == TGT_EV_EXEC) {
      why = "the process called exec";
      break;
    }
    /* a hit; every thread is stopped */
    sigprocmask(SIG_BLOCK, &block, NULL);
    total++;
    attach_bp *b = NULL;
    for (size_t i = 0; i < nnames; i++)
      if (bs[i].addr == ev.addr) b = &bs[i];
    uint64_t goid = current_goid(&t.prog, &t.mem, &ev.regs);
    tgt_mem_invalidate(&t.mem);
    bool match = !have_goid || goid == want_goid;
    if (match && b) {
      matched++;
      if ((matched - 1) % every == 0) {
        reported++;
        if (!quiet) {
          printf("hit %llu: %s goroutine %llu thread %d\n", (unsigned long long)reported, b->name,
                 (unsigned long long)goid, (int)ev.tid);
          fflush(stdout);
        }
        if (ps.n) {
          state_change(&ps, SONDE_STATE_RUNNING, SONDE_STATE_STOPPED, SONDE_REASON_BREAKPOINT);
          sonde_breakpoint_hit hit = {.struct_size = sizeof hit, .breakpoint_id = (uint64_t)(b - bs) + 1,
                                      .thread_id = (int32_t)ev.tid, .goroutine_id = (int64_t)goid, .pc = ev.addr};
          for (size_t i = 0; i < ps.n; i++) report(&ps, plg_breakpoint_hit(&ps.p[i], &hit));
          state_change(&ps, SONDE_STATE_STOPPED, SONDE_STATE_RUNNING, SONDE_REASON_BREAKPOINT);
        }
      }
    }
    rc = tgt_trace_step_over(&sess, ev.tid, ev.addr);
    if (count && reported >= count) {
      why = "count reached";
      break; /* every thread stays stopped for the release */
    }
    if (rc == 0) rc = tgt_trace_resume(&sess);
    sigprocmask(SIG_SETMASK, &old, NULL);
  }
  setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 0}}, NULL);

  /* Leave: every thread stopped, every breakpoint out, then let go. */
  sigprocmask(SIG_BLOCK, &block, NULL);
  char saved[1024];
  snprintf(saved, sizeof saved, "%s", se_msg());
  int src = rc;
  if (sess.attached) {
    int r1 = tgt_trace_release(&sess);
    int r2 = tgt_detach(&sess);
    if (!src) rc = r1 ? r1 : r2;
  } else {
    tgt_bp_remove_all();
  }
  if (src) se_set(src, "%s", saved);
  if (rc == SE_EXITED) { /* not an error for a session: a stop condition */
    rc = 0;
    exited = true;
  }
  if (exited) why = "the process exited";
  if (ps.n) {
    state_change(&ps, SONDE_STATE_RUNNING, exited ? SONDE_STATE_EXITED : SONDE_STATE_DETACHED,
                 exited ? SONDE_REASON_EXIT : SONDE_REASON_DETACH);
    unload_all(&ps);
  }
  penv_close(&pe);
  if (rc == 0 && ps.failed) rc = se_set(SE_PLUGIN, "a plugin failed or crashed during the session (see above); "
                                       "the target was not affected");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  fprintf(stderr, "sonde: %s after %.1f s: %llu hit%s (%llu reported), %llu signals passed on; detached\n",
          *why ? why : "stopped", tgt_ms_between(&t0, &t1) / 1000, (unsigned long long)total, total == 1 ? "" : "s",
          (unsigned long long)reported, (unsigned long long)passed);
  cli_target_free(&t);
  int sig = g_signal;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (rc) return cli_fail(rc);
  if (sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
    /* the target runs again: now end as the signal asked */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  return 0;
}
