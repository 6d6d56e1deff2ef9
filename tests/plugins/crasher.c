/* crasher.c: a test plugin that crashes on purpose: in a command (segv,
 * abort, fpe) or, when its sonde.ini section says crash_in = on_attach, in
 * that hook. sonde must report it by name and hook, and the target must
 * run on. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/plugin.h>

SONDE_PLUGIN_NOTE("crasher", "1.0.0");

static const sonde_host_api *api;

static int on_load(sonde_host *h, const sonde_host_api *a, void **state) {
  (void)h;
  (void)state;
  api = a;
  return SONDE_OK;
}

static void segv(void) {
  volatile int *volatile p = NULL;
  *p = 1;
}

static int on_attach(sonde_host *h, void *state) {
  (void)state;
  const char *where = api->config_get(h, "crash_in");
  if (where && !strcmp(where, "on_attach")) segv();
  return SONDE_OK;
}

static int on_breakpoint_hit(sonde_host *h, void *state, const sonde_breakpoint_hit *hit) {
  (void)state, (void)hit;
  const char *where = api->config_get(h, "crash_in");
  if (where && !strcmp(where, "on_breakpoint_hit")) segv();
  return SONDE_OK;
}

static int cmd_segv(sonde_host *h, void *s, int argc, char **argv) {
  (void)h, (void)s, (void)argc, (void)argv;
  segv();
  return SONDE_OK;
}

static int cmd_abort(sonde_host *h, void *s, int argc, char **argv) {
  (void)h, (void)s, (void)argc, (void)argv;
  abort();
}

static int cmd_fpe(sonde_host *h, void *s, int argc, char **argv) {
  (void)h, (void)s, (void)argc, (void)argv;
  raise(SIGFPE);
  return SONDE_OK;
}

static const sonde_command commands[] = {
    {sizeof(sonde_command), SONDE_CMD_NEEDS_TARGET, "segv", "crash with SIGSEGV", "", "", cmd_segv},
    {sizeof(sonde_command), SONDE_CMD_NEEDS_TARGET, "abort", "call abort()", "", "", cmd_abort},
    {sizeof(sonde_command), 0, "fpe", "raise SIGFPE (no target)", "", "", cmd_fpe},
};

static const sonde_plugin plugin = {
    .struct_size = sizeof(sonde_plugin), .abi_version = SONDE_ABI_VERSION, .name = "crasher", .version = "1.0.0",
    .description = "test plugin: crashes on purpose", .on_load = on_load, .on_attach = on_attach,
    .on_breakpoint_hit = on_breakpoint_hit,
    .commands = commands, .ncommands = 3, .command_size = sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *sonde_plugin_v1(void) { return &plugin; }
