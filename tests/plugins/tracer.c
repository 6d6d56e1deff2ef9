/* tracer.c: a test plugin for ABI 1.1 sessions. It sets its own breakpoint
 * (sonde.ini [tracer] break = LOCATION) through the host's services, logs
 * every hit with what the hit hands over (registers, the hitting goroutine
 * and its stack), and clears the breakpoint after `clear_after` hits. Its
 * `top` command prints the hitting goroutine's frames, for --on-hit. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/plugin.h>

SONDE_PLUGIN_NOTE("tracer", "1.1.0");

typedef struct {
  const sonde_host_api *api;
  FILE *log;
  uint64_t id, hits, clear_after;
} tracer;

__attribute__((format(printf, 2, 3))) static void note(tracer *t, const char *fmt, ...) {
  if (!t->log) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(t->log, fmt, ap);
  va_end(ap);
  fputc('\n', t->log);
  fflush(t->log);
}

static int on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  tracer *t = api->alloc(h, sizeof *t);
  if (!t) return SONDE_ENOMEM;
  memset(t, 0, sizeof *t);
  t->api = api;
  const char *path = api->config_get(h, "log"), *n = api->config_get(h, "clear_after");
  if (path && !(t->log = fopen(path, "a"))) {
    api->free(h, t);
    return api->fail(h, SONDE_EIO, "cannot open the log %s", path);
  }
  t->clear_after = n ? strtoull(n, NULL, 10) : 0;
  *state = t;
  return SONDE_OK;
}

static int on_attach(sonde_host *h, void *state) {
  tracer *t = state;
  const char *loc = t->api->config_get(h, "break");
  if (!loc) return SONDE_OK;
  int rc = t->api->breakpoint_set(h, loc, &t->id);
  note(t, "set %s rc=%d id=%llu", loc, rc, (unsigned long long)t->id);
  return rc;
}

static int on_breakpoint_hit(sonde_host *h, void *state, const sonde_breakpoint_hit *hit) {
  tracer *t = state;
  const sonde_host_api *api = t->api;
  bool v11 = hit->struct_size >= offsetof(sonde_breakpoint_hit, g_addr) + sizeof hit->g_addr;
  sonde_goroutine g = SONDE_INIT(sonde_goroutine);
  sonde_frame f0 = SONDE_INIT(sonde_frame), f1 = SONDE_INIT(sonde_frame);
  int rc = api->hit_goroutine_get(h, &g);
  const char *top = "-", *caller = "-";
  if (rc == SONDE_OK && api->hit_frame_get(h, 0, &f0) == SONDE_OK) top = f0.function;
  if (rc == SONDE_OK && api->hit_frame_get(h, 1, &f1) == SONDE_OK) caller = f1.function;
  note(t, "hit id=%llu own=%d goroutine=%lld hit_goroutine=%lld rip_is_pc=%d rsp=%llx g=%llx frames=%u top=%s caller=%s",
       (unsigned long long)hit->breakpoint_id, hit->breakpoint_id == t->id, (long long)hit->goroutine_id,
       rc == SONDE_OK ? (long long)g.id : -1LL, v11 && hit->regs && hit->regs->rip == hit->pc,
       v11 && hit->regs ? (unsigned long long)hit->regs->rsp : 0ULL, v11 ? (unsigned long long)hit->g_addr : 0ULL,
       rc == SONDE_OK ? g.nframes : 0u, top, caller);
  if (hit->breakpoint_id == t->id && t->clear_after && ++t->hits == t->clear_after) {
    rc = api->breakpoint_clear(h, t->id);
    note(t, "cleared id=%llu rc=%d pc=%llx", (unsigned long long)t->id, rc, (unsigned long long)hit->pc);
  }
  return SONDE_OK;
}

static void on_unload(sonde_host *h, void *state) {
  tracer *t = state;
  if (t->log) fclose(t->log);
  t->api->free(h, t);
}

/* top: the hitting goroutine's frames, one per line. */
static int cmd_top(sonde_host *h, void *state, int argc, char **argv) {
  (void)argc;
  (void)argv;
  tracer *t = state;
  sonde_goroutine g = SONDE_INIT(sonde_goroutine);
  int rc = t->api->hit_goroutine_get(h, &g);
  if (rc) return rc;
  char line[512];
  int k = snprintf(line, sizeof line, "hit goroutine %lld:\n", (long long)g.id);
  t->api->write_out(h, line, (size_t)k);
  for (uint32_t i = 0; i < g.nframes; i++) {
    sonde_frame f = SONDE_INIT(sonde_frame);
    if (t->api->hit_frame_get(h, i, &f) != SONDE_OK) break;
    k = snprintf(line, sizeof line, "  %s %s:%u\n", f.function, f.file, f.line);
    t->api->write_out(h, line, (size_t)k);
  }
  return SONDE_OK;
}

static const sonde_command commands[] = {
    {sizeof(sonde_command), SONDE_CMD_NEEDS_TARGET, "top", "the hitting goroutine's frames", "", "", cmd_top},
};

static const sonde_plugin plugin = {
    .struct_size = sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = "tracer",
    .version = "1.1.0",
    .description = "test plugin: its own breakpoints and the hit's goroutine",
    .on_load = on_load,
    .on_attach = on_attach,
    .on_breakpoint_hit = on_breakpoint_hit,
    .on_unload = on_unload,
    .commands = commands,
    .ncommands = sizeof commands / sizeof *commands,
    .command_size = sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &plugin; }
