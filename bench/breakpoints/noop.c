/* noop.c: the plugin of bench/breakpoints. Its on_breakpoint_hit does
 * nothing and returns SONDE_OK, so `sonde attach --plugin noop` measures what
 * handing every hit to a plugin costs the host, with no work in the plugin.
 *
 * run.sh builds it with
 *   cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I plugin-api -o noop.so noop.c
 * and indexes it with `sonde index update`. */

#include <stdint.h>

#include <sonde/plugin.h>

#define NOOP_NAME "noop"
#define NOOP_VERSION "1.0.0"

SONDE_PLUGIN_NOTE(NOOP_NAME, NOOP_VERSION);

static int noop_on_breakpoint_hit(sonde_host *h, void *state, const sonde_breakpoint_hit *hit) {
  (void)h;
  (void)state;
  (void)hit;
  return SONDE_OK;
}

static const sonde_plugin noop_plugin = {
    .struct_size = (uint32_t)sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = NOOP_NAME,
    .version = NOOP_VERSION,
    .description = "bench/breakpoints: does nothing on every breakpoint hit",
    .on_breakpoint_hit = noop_on_breakpoint_hit,
    .commands = NULL,
    .ncommands = 0,
    .command_size = (uint32_t)sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void);
SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &noop_plugin; }
