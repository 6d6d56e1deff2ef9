/* cmd_goroutines.c: `sonde goroutines`: every goroutine and its stack. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/sys.h"
#include "goruntime/symbolize.h"
#include "cli/cli.h"

static void help(FILE *f) {
  fputs("Usage: sonde goroutines -p PID [OPTIONS]\n"
        "\n"
        "Stops the Go process PID for as short a time as possible, reads every goroutine\n"
        "and its stack from the Go runtime, lets the process run again, and prints them\n"
        "in Go's own traceback format (as a SIGQUIT dump or runtime.Stack prints them).\n"
        "\n"
        "Options:\n"
        "  -p, --pid PID     the process to read (a bare PID argument works too)\n"
        "      --json        one JSON document: {\"goroutines\": [...]} (see docs/json.md)\n"
        "      --group       merge goroutines with the same state and stack; show counts and ids\n"
        "      --system      include the runtime's own goroutines (GC workers, finalizers, ...)\n"
        "      --all-frames  show runtime frames and wrappers too, like GOTRACEBACK=system\n"
        "      --stats       print timings to stderr: how long the target was stopped, RSS, ...\n"
        "      --waits       with --json: what each blocked goroutine waits on (the channels of\n"
        "                    its channel operation or select: address, direction, element type,\n"
        "                    capacity, length, closed)\n"
        "  -o, --output FILE write to FILE instead of standard output\n"
        "  -h, --help        show this help\n"
        "\n"
        "Examples:\n"
        "  sonde goroutines -p 1234\n"
        "  sonde goroutines -p 1234 --group | less\n"
        "  sonde goroutines -p 1234 --json | jq '.goroutines[] | select(.wait_reason==\"chan receive\") | .id'\n"
        "\n"
        "Exit codes: 0 ok, 2 usage, 3 no such process, 4 permission denied, 5 not a Go\n"
        "program, 6 already traced, 7 exited while reading; see 'sonde --help'.\n",
        f);
}

int cmd_goroutines(int argc, char **argv) {
  enum { O_JSON = 256, O_GROUP, O_SYSTEM, O_ALL, O_STATS, O_WAITS };
  static const struct option longopts[] = {
      {"pid", required_argument, 0, 'p'},   {"json", no_argument, 0, O_JSON},
      {"group", no_argument, 0, O_GROUP},   {"system", no_argument, 0, O_SYSTEM},
      {"all-frames", no_argument, 0, O_ALL}, {"stats", no_argument, 0, O_STATS}, {"waits", no_argument, 0, O_WAITS},
      {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  out_opts oo = {0};
  gr_snapshot_opts so = {0};
  bool stats = false, waits = false;
  const char *pidarg = NULL, *output = NULL;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+p:o:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'p': pidarg = optarg; break;
      case 'o': output = optarg; break;
      case 'h': help(stdout); return 0;
      case O_JSON: oo.json = true; break;
      case O_GROUP: oo.group = true; break;
      case O_SYSTEM: so.include_system = true; break;
      case O_ALL: oo.all_frames = true; break;
      case O_STATS: stats = true; break;
      case O_WAITS: waits = true; break;
      default:
        fprintf(stderr, "sonde goroutines: unknown or incomplete option '%s'; see 'sonde goroutines --help'\n",
                argv[optind - 1]);
        return se_exit_status(SE_USAGE);
    }
  }
  pid_t pid;
  int rc = cli_pid_operand("goroutines", pidarg, argc, argv, &pid);
  if (rc) return rc;

  struct timespec t0, t1, t2;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ses_target t;
  gr_waits ws;
  memset(&ws, 0, sizeof ws);
  ses_stop_req req = {.so = so, .waits = waits ? &ws : NULL};
  if (waits && !oo.json) {
    fprintf(stderr, "sonde goroutines: --waits goes with --json (the traceback keeps Go's own format)\n");
    return se_exit_status(SE_USAGE);
  }
  rc = ses_open_target(pid, &t);
  t.all_frames = oo.all_frames;
  if (rc == 0 && waits) rc = gr_waits_supported(&t.prog); /* refused before anything is stopped */
  if (rc == 0) rc = ses_capture_with(&t, ses_read_stop, &req);
  if (rc) {
    gr_waits_free(&ws);
    ses_target_free(&t);
    return cli_fail(rc);
  }
  oo.waits = waits ? &ws : NULL;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  cli_output o;
  if ((rc = cli_output_open(output, &o)) == 0)
    rc = cli_output_close(&o, output, oo.json ? out_json(&t, &oo, o.f) : out_traceback(&t, &oo, o.f));
  clock_gettime(CLOCK_MONOTONIC, &t2);
  if (stats) {
    size_t ntraces, npcs;
    gr_sym_stats(&t.snap, &ntraces, &npcs);
    fprintf(stderr,
            "sonde: stats: goroutines %zu (of %zu in allgs), threads %zu, target stopped %.2f ms "
            "(stopping took %.2f ms), read %.2f ms, resolve %.2f ms (%zu distinct stacks, %zu pcs), print %.2f ms, "
            "total %.2f ms, stack bytes %llu, read syscalls %llu, peak RSS %.1f MiB\n",
            t.snap.n, t.snap.nallgs, t.nthreads, t.stop_ms, t.attach_ms, sys_ms_between(&t0, &t1) - t.resolve_ms,
            t.resolve_ms, ntraces, npcs, sys_ms_between(&t1, &t2), sys_ms_between(&t0, &t2),
            (unsigned long long)t.snap.stack_bytes_read, (unsigned long long)t.mem.n_syscalls, cli_peak_rss_mb());
  }
  gr_waits_free(&ws);
  ses_target_free(&t);
  return rc ? cli_fail(rc) : 0;
}
