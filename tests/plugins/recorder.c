/* recorder.c: a test plugin that writes every hook it sees, with the data
 * the hook could see, to the file named by its `log` key in sonde.ini. The
 * end-to-end test reads the log to check the hook order and what each hook
 * saw. Built against the frozen ABI 1.0 header (tests/plugins/abi-1.0), so
 * that it keeps proving a 1.0 plugin loads as the host's minor grows. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sonde/plugin.h>

SONDE_PLUGIN_NOTE("recorder", "1.0.0");

typedef struct {
  const sonde_host_api *api;
  FILE *log;
} recorder;

__attribute__((format(printf, 2, 3))) static void note(recorder *r, const char *fmt, ...) {
  if (!r->log) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(r->log, fmt, ap);
  va_end(ap);
  fputc('\n', r->log);
  fflush(r->log);
}

static int on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  recorder *r = api->alloc(h, sizeof *r);
  if (!r) return SONDE_ENOMEM;
  memset(r, 0, sizeof *r);
  r->api = api;
  const char *path = api->config_get(h, "log");
  if (path && !(r->log = fopen(path, "a"))) {
    api->free(h, r);
    return api->fail(h, SONDE_EIO, "cannot open the log %s", path);
  }
  *state = r;
  note(r, "on_load host_abi=%u.%u", SONDE_ABI_MAJOR_OF(api->abi_version), SONDE_ABI_MINOR_OF(api->abi_version));
  return SONDE_OK;
}

static int on_attach(sonde_host *h, void *state) {
  recorder *r = state;
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  if (r->api->target_info(h, &ti) != SONDE_OK) return r->api->fail(h, SONDE_ERROR, "target_info failed");
  note(r, "on_attach go=%s pid=%lld", ti.go_version, (long long)ti.pid);
  note(r, "on_attach goroutines=%llu", (unsigned long long)ti.ngoroutines);
  return SONDE_OK;
}

static int on_detach(sonde_host *h, void *state) {
  (void)h;
  note(state, "on_detach");
  return SONDE_OK;
}

static int on_state_change(sonde_host *h, void *state, const sonde_state_change *c) {
  (void)h;
  note(state, "on_state_change %u->%u reason %u", c->old_state, c->new_state, c->reason);
  return SONDE_OK;
}

static int on_breakpoint_hit(sonde_host *h, void *state, const sonde_breakpoint_hit *hit) {
  recorder *r = state;
  sonde_frame f = SONDE_INIT(sonde_frame);
  const char *fn = r->api->symbolize(h, hit->pc, &f) == SONDE_OK ? f.function : "?";
  note(r, "on_breakpoint_hit id=%llu goroutine=%lld thread=%d function=%s", (unsigned long long)hit->breakpoint_id,
       (long long)hit->goroutine_id, hit->thread_id, fn);
  return SONDE_OK;
}

static void on_unload(sonde_host *h, void *state) {
  recorder *r = state;
  note(r, "on_unload");
  if (r->log) fclose(r->log);
  r->api->free(h, r);
}

/* record: every goroutine's id and top frame, then a count. */
static int cmd_record(sonde_host *h, void *state, int argc, char **argv) {
  recorder *r = state;
  const sonde_host_api *api = r->api;
  note(r, "run %s argc=%d", argv[0], argc);
  uint64_t n = api->goroutine_count(h);
  char line[1024];
  for (uint64_t i = 0; i < n; i++) {
    sonde_goroutine g = SONDE_INIT(sonde_goroutine);
    int rc = api->goroutine_get(h, i, &g);
    if (rc) return api->fail(h, rc, "goroutine %llu: %d", (unsigned long long)i, rc);
    sonde_frame f = SONDE_INIT(sonde_frame);
    const char *top = "-";
    if (g.nframes > 0 && api->frame_get(h, i, 0, &f) == SONDE_OK) top = f.function;
    int k = snprintf(line, sizeof line, "goroutine %lld [%s] %s\n", (long long)g.id,
                     g.wait_reason[0] ? g.wait_reason : g.status, top);
    api->write_out(h, line, (size_t)k);
  }
  int k = snprintf(line, sizeof line, "%llu goroutines\n", (unsigned long long)n);
  return api->write_out(h, line, (size_t)k);
}

/* echo: no target; prints its arguments and a config value. */
static int cmd_echo(sonde_host *h, void *state, int argc, char **argv) {
  recorder *r = state;
  note(r, "run %s argc=%d", argv[0], argc);
  for (int i = 1; i < argc; i++) {
    r->api->write_out(h, argv[i], strlen(argv[i]));
    r->api->write_out(h, "\n", 1);
  }
  if (r->api->goroutine_count(h) != 0) return r->api->fail(h, SONDE_ERROR, "goroutines without a target");
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  if (r->api->target_info(h, &ti) != SONDE_ENOTARGET) return r->api->fail(h, SONDE_ERROR, "a target without -p");
  return SONDE_OK;
}

static int cmd_fail(sonde_host *h, void *state, int argc, char **argv) {
  (void)argc;
  recorder *r = state;
  return r->api->fail(h, SONDE_EINVAL, "%s: failing on purpose", argv[0]);
}

static const sonde_command commands[] = {
    {sizeof(sonde_command), SONDE_CMD_NEEDS_TARGET, "record", "every goroutine's top frame", "", "", cmd_record},
    {sizeof(sonde_command), 0, "echo", "print the arguments", "[WORDS...]", "", cmd_echo},
    {sizeof(sonde_command), 0, "fail", "return an error", "", "", cmd_fail},
};

static const sonde_plugin plugin = {
    .struct_size = sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = "recorder",
    .version = "1.0.0",
    .description = "test plugin: records every hook",
    .on_load = on_load,
    .on_attach = on_attach,
    .on_state_change = on_state_change,
    .on_breakpoint_hit = on_breakpoint_hit,
    .on_detach = on_detach,
    .on_unload = on_unload,
    .commands = commands,
    .ncommands = sizeof commands / sizeof commands[0],
    .command_size = sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *sonde_plugin_v1(void) { return &plugin; }
