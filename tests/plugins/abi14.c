/* abi14.c: the ABI 1.4 artifact. Built against a verbatim copy of the 1.4
 * header (tests/plugins/abi-1.4/sonde/plugin.h), never against the current
 * one, so it stands for every team plugin built before 1.5: the host must
 * keep loading it and serving it exactly as a 1.4 host did
 * (tests/plugins/abi_e2e.py). It uses what 1.4 offered: target_info,
 * goroutines and frames (with 1.4's frame entry), the waits, and a command
 * that returns SONDE_FOUND, which 1.4 defined as "found what it checks for"
 * (exit status 13). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sonde/plugin.h>

#if SONDE_ABI_MINOR != 4
#error "abi14.c must be built against the frozen 1.4 header"
#endif

SONDE_PLUGIN_NOTE("abi14", "1.4.0");

static const sonde_host_api *g_api;

static int on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  (void)h;
  g_api = api;
  *state = NULL;
  return SONDE_OK;
}

static void out(sonde_host *h, const char *text) { g_api->write_out(h, text, strlen(text)); }

/* Every goroutine, as "GOID STATUS TOPFUNC +0xOFF" lines, then a summary. */
static int run_stacks(sonde_host *h, void *state, int argc, char **argv) {
  (void)state, (void)argc, (void)argv;
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  if (g_api->target_info(h, &ti) != SONDE_OK) return g_api->fail(h, SONDE_ERROR, "target_info failed");
  if (ti.struct_size != sizeof ti)
    return g_api->fail(h, SONDE_ERROR, "target_info changed struct_size from %zu to %u", sizeof ti, ti.struct_size);
  uint64_t n = g_api->goroutine_count(h), with_entry = 0;
  char line[512];
  for (uint64_t i = 0; i < n; i++) {
    sonde_goroutine g = SONDE_INIT(sonde_goroutine);
    if (g_api->goroutine_get(h, i, &g) != SONDE_OK) return g_api->fail(h, SONDE_ERROR, "goroutine %" PRIu64, i);
    sonde_frame f = SONDE_INIT(sonde_frame);
    if (g.nframes == 0 || g_api->frame_get(h, i, 0, &f) != SONDE_OK) continue;
    if (!SONDE_HAS_MEMBER(&f, sonde_frame, entry) || f.struct_size != sizeof f)
      return g_api->fail(h, SONDE_ERROR, "frame struct_size %u, built with %zu", f.struct_size, sizeof f);
    if (f.entry) with_entry++;
    snprintf(line, sizeof line, "%" PRId64 " %s %s +0x%" PRIx64 "\n", g.id, g.status, f.function,
             f.entry ? f.pc - f.entry : 0);
    out(h, line);
  }
  snprintf(line, sizeof line, "go %s: %" PRIu64 " goroutines, %" PRIu64 " top frames with an entry\n", ti.go_version,
           n, with_entry);
  out(h, line);
  return SONDE_OK;
}

/* Goroutines waiting on a channel; SONDE_FOUND when there is one. */
static int run_chanwaiters(sonde_host *h, void *state, int argc, char **argv) {
  (void)state, (void)argc, (void)argv;
  uint64_t n = g_api->goroutine_count(h), found = 0;
  for (uint64_t i = 0; i < n; i++) {
    sonde_goroutine g = SONDE_INIT(sonde_goroutine);
    if (g_api->goroutine_get(h, i, &g) != SONDE_OK) continue;
    for (uint32_t k = 0; k < g.nwaits; k++) {
      sonde_wait w = SONDE_INIT(sonde_wait);
      if (g_api->wait_get(h, i, k, &w) == SONDE_OK && w.kind == SONDE_WAIT_CHAN) {
        found++;
        break;
      }
    }
  }
  char line[128];
  snprintf(line, sizeof line, "%" PRIu64 " goroutines wait on a channel\n", found);
  out(h, line);
  return found ? SONDE_FOUND : SONDE_OK;
}

static int run_fail(sonde_host *h, void *state, int argc, char **argv) {
  (void)state, (void)argc, (void)argv;
  return g_api->fail(h, SONDE_EINVAL, "failing as 1.4 plugins do");
}

static const sonde_command commands[] = {
    {sizeof(sonde_command), SONDE_CMD_NEEDS_TARGET, "stacks", "top frames", "", "", run_stacks},
    {sizeof(sonde_command), SONDE_CMD_NEEDS_WAITS, "chanwaiters", "goroutines on channels", "", "", run_chanwaiters},
    {sizeof(sonde_command), 0, "fail", "fails", "", "", run_fail},
};

static const sonde_plugin desc = {
    .struct_size = sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = "abi14",
    .version = "1.4.0",
    .description = "the ABI 1.4 artifact",
    .on_load = on_load,
    .commands = commands,
    .ncommands = sizeof commands / sizeof *commands,
    .command_size = sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &desc; }
