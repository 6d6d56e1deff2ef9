/* gg.c: the goroutine-graph plugin (issue 8): its commands.
 *
 *   sonde goroutine-graph leaks -p PID [--json] [-o FILE]   the goroutines that can never wake up
 *
 * The host computes what each goroutine waits on and which can never be
 * woken (ABI 1.4, SONDE_CMD_NEEDS_LEAKS), in one stop; this file reads that
 * model (model.c) and writes it out (leaks.c).
 * Only <sonde/plugin.h>, <sonde/util.h> and libc. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/plugin.h>
#include <sonde/util.h>

#include "gg.h"

#define GG_NAME "goroutine-graph"
#define GG_VERSION "0.1.0"

SONDE_PLUGIN_NOTE(GG_NAME, GG_VERSION);

typedef struct {
  const sonde_host_api *api;
} gg_state;


static int cmd_leaks(sonde_host *h, void *state, int argc, char **argv) {
  const sonde_host_api *api = ((gg_state *)state)->api;
  int json = 0;
  const char *out = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json"))
      json = 1;
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
  rc = sonde_emit(h, api, out, json ? gg_leaks_json : gg_leaks_text, &m);
  if (rc == SONDE_OK)
    api->message(h, SONDE_LOG_INFO,
                 "%" PRIu64 " leaked goroutine%s, %" PRIu64 " deadlock cycle%s%s, of %" PRIu64
                 " parked on channels, selects and locks (%" PRIu64 " not checkable); analysis %.1f ms",
                 li->leaked, li->leaked == 1 ? "" : "s", li->groups, li->groups == 1 ? "" : "s",
                 li->groups_complete ? "" : " (cycle search cut short)", li->parked, li->unknown,
                 (double)li->analysis_ns / 1e6);
  uint64_t leaked = li->leaked;
  gg_model_free(&m);
  return rc != SONDE_OK ? rc : leaked ? SONDE_FOUND : SONDE_OK;
}

static int on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  (void)h;
  if (SONDE_ABI_MAJOR_OF(api->abi_version) != SONDE_ABI_MAJOR) return SONDE_ENOTSUP;
  gg_state *st = calloc(1, sizeof *st);
  if (!st) return api->fail(h, SONDE_ENOMEM, "out of memory");
  st->api = api;
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
        .usage = "[--json] [-o FILE]",
        .help = "Finds the goroutines parked for good: blocked on a channel, a select, a\n"
                "nil channel, select{}, or a sync.Mutex, RWMutex, WaitGroup or Cond that\n"
                "no goroutine that can still run is able to reach. This is the criterion\n"
                "of the Go runtime's own leak detector (the goroutineleak profile of Go\n"
                "1.26+), computed from outside: no change to the program, any supported\n"
                "Go version, no GC cycle in the target. The process is stopped while\n"
                "sonde reads its goroutines and heap and follows every pointer from the\n"
                "roots (globals, thread registers, the stacks of goroutines that can run);\n"
                "pointers are found conservatively, so a goroutine that could still be\n"
                "woken is never reported.\n"
                "\n"
                "Each leaked goroutine prints as in a Go traceback, with \" (leaked)\" after\n"
                "its wait reason, as the runtime's profile prints it; then the deadlock\n"
                "cycles: leaked goroutines that only each other could wake. Goroutine 1 in\n"
                "select{} is not reported (as in the runtime). A summary goes to stderr.\n"
                "\n"
                "  --json         one JSON document (docs/goroutine-graph.md)\n"
                "  -o, --output FILE  write there instead of stdout\n"
                "\n"
                "Exit status: 0 when no goroutine leaked, 13 when some did, other codes\n"
                "for errors (sonde --help): usable as a check in scripts and CI.\n",
        .run = cmd_leaks,
    },
};

static const sonde_plugin plugin = {
    .struct_size = (uint32_t)sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = GG_NAME,
    .version = GG_VERSION,
    .description = "who waits on what, and the goroutines that can never wake up",
    .on_load = on_load,
    .on_unload = on_unload,
    .commands = commands,
    .ncommands = (uint32_t)(sizeof commands / sizeof commands[0]),
    .command_size = (uint32_t)sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void);
const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &plugin; }
