/* abicheck.c: a test plugin, built against this sonde's plugin.h (ABI 1.5),
 * that calls every host service the way plugin.h documents it and checks
 * the code each call returns, that last_error explains every failure, and
 * that the host writes back how much of an out struct it filled. Each
 * command writes one line per check ("ok NAME" or "FAIL NAME: detail") and
 * fails when any check fails; tests/plugins/abi_e2e.py runs them.
 *
 * Built with AddressSanitizer in a sanitizer build, so that its use of host
 * strings at the very end of their documented lifetime (the session's
 * on_state_change(STOPPED -> RUNNING)) would be reported if the host freed
 * them earlier; with ABICHECK_OVERSHOOT=1 in the environment it uses a heap
 * type name after that edge, which ASan must report (tests/plugins/abi_e2e.py
 * checks both). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/plugin.h>

SONDE_PLUGIN_NOTE("abicheck", "1.5.0");

typedef struct {
  const sonde_host_api *api;
  int failures;
  int found_outside_run; /* report_found's code in on_load */
  int found_said_why;    /* and whether last_error explained it there */
  /* lifetime edges, in a session */
  const char *kept_status, *kept_func, *kept_type;
  unsigned edges;       /* on_state_change(STOPPED -> RUNNING) that used them */
  unsigned after_edge;  /* stops that came after one */
} st;

static void line(sonde_host *h, st *s, int ok, const char *name, const char *fmt, ...) {
  char detail[512] = "", out[768];
  if (!ok) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    s->failures++;
  }
  int n = snprintf(out, sizeof out, ok ? "ok %s\n" : "FAIL %s: %s\n", name, detail);
  s->api->write_out(h, out, (size_t)n);
}

/* A failure with code `want` and a last_error that says something. */
static void expect(sonde_host *h, st *s, const char *name, int got, int want) {
  const char *why = s->api->last_error(h);
  int ok = got == want && (want == SONDE_OK || (why && why[0]));
  line(h, s, ok, name, "code %d (want %d), last_error '%s'", got, want, why ? why : "(null)");
}

/* A wrapper of the kind vfail exists for. */
__attribute__((format(printf, 4, 5))) static int my_fail(sonde_host *h, const sonde_host_api *api, int rc,
                                                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char prefixed[256];
  snprintf(prefixed, sizeof prefixed, "wrapped: %s", fmt);
  rc = api->vfail(h, rc, prefixed, ap);
  va_end(ap);
  return rc;
}

__attribute__((format(printf, 3, 4))) static void my_say(sonde_host *h, const sonde_host_api *api, const char *fmt,
                                                         ...) {
  va_list ap;
  va_start(ap, fmt);
  api->vmessage(h, SONDE_LOG_INFO, fmt, ap);
  va_end(ap);
}

static int on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  st *s = api->alloc(h, sizeof *s);
  if (!s) return SONDE_ENOMEM;
  memset(s, 0, sizeof *s);
  s->api = api;
  if (!SONDE_HAS_MEMBER(api, sonde_host_api, report_found))
    return api->fail(h, SONDE_ENOTSUP, "this host's services table has no ABI 1.5 members");
  s->found_outside_run = api->report_found(h);
  s->found_said_why = api->last_error(h)[0] != '\0';
  *state = s;
  return SONDE_OK;
}

static void on_unload(sonde_host *h, void *state) {
  st *s = state;
  s->api->free(h, s);
}

/* Codes without a target (a command without SONDE_CMD_NEEDS_TARGET). */
static int run_notarget(sonde_host *h, void *state, int argc, char **argv) {
  (void)argc, (void)argv;
  st *s = state;
  const sonde_host_api *a = s->api;
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  sonde_goroutine g = SONDE_INIT(sonde_goroutine);
  sonde_frame f = SONDE_INIT(sonde_frame);
  sonde_heap_info hi = SONDE_INIT(sonde_heap_info);
  sonde_wait w = SONDE_INIT(sonde_wait);
  sonde_leak_info li = SONDE_INIT(sonde_leak_info);
  sonde_field fl = SONDE_INIT(sonde_field);
  char buf[8];
  uint64_t u;
  expect(h, s, "last_error_empty_before_any_failure", a->last_error(h)[0] ? -1 : 0, 0);
  line(h, s, s->found_outside_run == SONDE_EINVAL && s->found_said_why, "report_found_outside_run_is_einval",
       "code %d, last_error %s", s->found_outside_run, s->found_said_why ? "set" : "empty");
  expect(h, s, "target_info_without_target", a->target_info(h, &ti), SONDE_ENOTARGET);
  expect(h, s, "read_memory_without_target", a->read_memory(h, 0x1000, buf, sizeof buf), SONDE_ENOTARGET);
  line(h, s, a->goroutine_count(h) == 0, "goroutine_count_without_target_is_0", "not 0");
  expect(h, s, "goroutine_get_without_target", a->goroutine_get(h, 0, &g), SONDE_ENOTARGET);
  expect(h, s, "frame_get_without_target", a->frame_get(h, 0, 0, &f), SONDE_ENOTARGET);
  expect(h, s, "creator_get_without_target", a->creator_get(h, 0, &f), SONDE_ENOTARGET);
  expect(h, s, "symbolize_without_target", a->symbolize(h, 0x401000, &f), SONDE_ENOTARGET);
  expect(h, s, "layout_field_without_target", a->layout_field(h, "runtime.g", "goid", &fl), SONDE_ENOTARGET);
  expect(h, s, "hit_goroutine_get_without_target", a->hit_goroutine_get(h, &g), SONDE_ENOTARGET);
  expect(h, s, "heap_info_without_target", a->heap_info(h, &hi), SONDE_ENOTARGET);
  expect(h, s, "heap_find_without_target", a->heap_find(h, 0x1000, &u, &u), SONDE_ENOTARGET);
  expect(h, s, "gc_cycle_without_target", a->gc_cycle(h, &u), SONDE_ENOTARGET);
  expect(h, s, "heap_refresh_without_target", a->heap_refresh(h), SONDE_ENOTARGET);
  expect(h, s, "wait_get_without_target", a->wait_get(h, 0, 0, &w), SONDE_ENOTARGET);
  expect(h, s, "leak_info_without_target", a->leak_info(h, &li), SONDE_ENOTARGET);
  expect(h, s, "reach_get_without_target", a->reach_get(h, 0, 0, &u), SONDE_ENOTARGET);
  expect(h, s, "breakpoint_set_outside_a_session", a->breakpoint_set(h, "main.main", &u), SONDE_ENOTSUP);
  expect(h, s, "breakpoint_set_null_location", a->breakpoint_set(h, NULL, &u), SONDE_EINVAL);
  expect(h, s, "breakpoint_clear_outside_a_session", a->breakpoint_clear(h, 1), SONDE_ENOTSUP);
  expect(h, s, "command_every_outside_a_session", a->command_every(h, 1000, "codes"), SONDE_ENOTSUP);
  expect(h, s, "command_every_without_a_command", a->command_every(h, 1000, ""), SONDE_EINVAL);
  expect(h, s, "write_out_null_data", a->write_out(h, NULL, 4), SONDE_EINVAL);
  char *path = NULL;
  expect(h, s, "open_output_not_a_plain_name", a->open_output(h, "../x", &path), SONDE_EINVAL);
  return s->failures ? a->fail(h, SONDE_ERROR, "%d checks failed", s->failures) : SONDE_OK;
}

/* Codes with a target (SONDE_CMD_NEEDS_TARGET, nothing else declared). */
static int run_codes(sonde_host *h, void *state, int argc, char **argv) {
  (void)argc, (void)argv;
  st *s = state;
  const sonde_host_api *a = s->api;
  /* size write-back: this host knows every member this plugin does */
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  expect(h, s, "target_info", a->target_info(h, &ti), SONDE_OK);
  line(h, s, ti.struct_size == sizeof ti && SONDE_HAS_MEMBER(&ti, sonde_target_info, stopped_ns),
       "target_info_writes_back_its_full_size", "struct_size %u, sizeof %zu", ti.struct_size, sizeof ti);
  line(h, s, ti.stopped_ns > 0 && ti.stopped_ns < 60ull * 1000000000ull, "target_info_says_how_long_it_stopped",
       "stopped_ns %llu", (unsigned long long)ti.stopped_ns);
  /* a smaller struct (as a plugin built before stopped_ns): nothing past it is written */
  sonde_target_info old;
  memset(&old, 0xab, sizeof old);
  old.struct_size = (uint32_t)offsetof(sonde_target_info, stopped_ns);
  expect(h, s, "target_info_older_struct", a->target_info(h, &old), SONDE_OK);
  line(h, s, old.struct_size == offsetof(sonde_target_info, stopped_ns) &&
                 !SONDE_HAS_MEMBER(&old, sonde_target_info, stopped_ns) && old.stopped_ns == 0xababababababababull,
       "target_info_older_struct_not_overrun", "struct_size %u, stopped_ns %llx", old.struct_size,
       (unsigned long long)old.stopped_ns);
  sonde_target_info tiny = {.struct_size = 2};
  expect(h, s, "target_info_struct_size_below_4", a->target_info(h, &tiny), SONDE_EINVAL);
  expect(h, s, "target_info_null", a->target_info(h, NULL), SONDE_EINVAL);

  char buf[16];
  expect(h, s, "read_memory_null_dst", a->read_memory(h, 0x1000, NULL, 8), SONDE_EINVAL);
  expect(h, s, "read_memory_over_64MiB", a->read_memory(h, 0x1000, buf, (size_t)65 << 20), SONDE_EINVAL);
  expect(h, s, "read_memory_unmapped", a->read_memory(h, 8, buf, 8), SONDE_EFAULT);
  expect(h, s, "read_memory_zero_bytes", a->read_memory(h, 8, buf, 0), SONDE_OK);

  uint64_t n = a->goroutine_count(h);
  line(h, s, n > 0, "goroutine_count", "0 goroutines");
  sonde_goroutine g = SONDE_INIT(sonde_goroutine);
  expect(h, s, "goroutine_get", a->goroutine_get(h, 0, &g), SONDE_OK);
  line(h, s, g.struct_size == sizeof g, "goroutine_get_writes_back_its_size", "struct_size %u", g.struct_size);
  expect(h, s, "goroutine_get_past_the_end", a->goroutine_get(h, n, &g), SONDE_ENOTFOUND);
  expect(h, s, "goroutine_get_null", a->goroutine_get(h, 0, NULL), SONDE_EINVAL);
  sonde_frame f = SONDE_INIT(sonde_frame);
  expect(h, s, "frame_get", a->frame_get(h, 0, 0, &f), SONDE_OK);
  expect(h, s, "frame_get_past_the_last_frame", a->frame_get(h, 0, 100000, &f), SONDE_ENOTFOUND);
  expect(h, s, "frame_get_past_the_last_goroutine", a->frame_get(h, n, 0, &f), SONDE_ENOTFOUND);
  uint64_t nocreator = n;
  for (uint64_t i = 0; i < n && nocreator == n; i++) {
    sonde_goroutine gi = SONDE_INIT(sonde_goroutine);
    if (a->goroutine_get(h, i, &gi) == SONDE_OK && !gi.has_creator) nocreator = i;
  }
  if (nocreator < n) expect(h, s, "creator_get_none", a->creator_get(h, nocreator, &f), SONDE_ENOTFOUND);
  else line(h, s, 0, "creator_get_none", "every goroutine has a creator");
  sonde_frame top = SONDE_INIT(sonde_frame);
  a->frame_get(h, 0, 0, &top);
  expect(h, s, "symbolize", a->symbolize(h, top.pc, &f), SONDE_OK);
  expect(h, s, "symbolize_no_function", a->symbolize(h, 8, &f), SONDE_ENOTFOUND);
  sonde_field fl = SONDE_INIT(sonde_field);
  expect(h, s, "layout_field", a->layout_field(h, "runtime.g", "goid", &fl), SONDE_OK);
  expect(h, s, "layout_field_unknown", a->layout_field(h, "runtime.g", "nosuchfield", &fl), SONDE_ENOTFOUND);
  expect(h, s, "layout_field_null_name", a->layout_field(h, NULL, "goid", &fl), SONDE_EINVAL);
  expect(h, s, "hit_goroutine_get_outside_a_hit", a->hit_goroutine_get(h, &g), SONDE_ENOTARGET);
  expect(h, s, "hit_frame_get_outside_a_hit", a->hit_frame_get(h, 0, &f), SONDE_ENOTARGET);

  sonde_heap_info hi = SONDE_INIT(sonde_heap_info);
  sonde_heap_span hs = SONDE_INIT(sonde_heap_span);
  sonde_heap_type ht = SONDE_INIT(sonde_heap_type);
  uint64_t u;
  expect(h, s, "heap_info_not_declared", a->heap_info(h, &hi), SONDE_ENOTSUP);
  expect(h, s, "heap_span_get_not_declared", a->heap_span_get(h, 0, &hs), SONDE_ENOTSUP);
  expect(h, s, "heap_type_get_not_declared", a->heap_type_get(h, 0, &ht), SONDE_ENOTSUP);
  expect(h, s, "heap_find_not_declared", a->heap_find(h, 0x1000, &u, &u), SONDE_ENOTSUP);
  expect(h, s, "heap_refresh_not_declared", a->heap_refresh(h), SONDE_ENOTSUP);
  expect(h, s, "gc_cycle", a->gc_cycle(h, &u), SONDE_OK);
  expect(h, s, "gc_cycle_null", a->gc_cycle(h, NULL), SONDE_EINVAL);
  sonde_wait w = SONDE_INIT(sonde_wait);
  sonde_leak_info li = SONDE_INIT(sonde_leak_info);
  expect(h, s, "wait_get_not_declared", a->wait_get(h, 0, 0, &w), SONDE_ENOTSUP);
  expect(h, s, "leak_info_not_declared", a->leak_info(h, &li), SONDE_ENOTSUP);
  expect(h, s, "reach_get_not_declared", a->reach_get(h, 0, 0, &u), SONDE_ENOTSUP);
  return s->failures ? a->fail(h, SONDE_ERROR, "%d checks failed", s->failures) : SONDE_OK;
}

/* With the heap, the waits and the leak analysis (SONDE_CMD_NEEDS_LEAKS). */
static int run_leakcodes(sonde_host *h, void *state, int argc, char **argv) {
  (void)argc, (void)argv;
  st *s = state;
  const sonde_host_api *a = s->api;
  sonde_heap_info hi = SONDE_INIT(sonde_heap_info);
  expect(h, s, "heap_info", a->heap_info(h, &hi), SONDE_OK);
  line(h, s, hi.struct_size == sizeof hi, "heap_info_writes_back_its_size", "struct_size %u", hi.struct_size);
  sonde_heap_span hs = SONDE_INIT(sonde_heap_span);
  sonde_heap_type ht = SONDE_INIT(sonde_heap_type);
  uint64_t u, v;
  expect(h, s, "heap_span_get", a->heap_span_get(h, 0, &hs), SONDE_OK);
  expect(h, s, "heap_span_get_past_the_end", a->heap_span_get(h, hi.nspans, &hs), SONDE_ENOTFOUND);
  expect(h, s, "heap_type_get_past_the_end", a->heap_type_get(h, hi.ntypes, &ht), SONDE_ENOTFOUND);
  expect(h, s, "heap_find", a->heap_find(h, hs.base, &u, &v), SONDE_OK);
  expect(h, s, "heap_find_outside_the_heap", a->heap_find(h, 8, &u, &v), SONDE_ENOTFOUND);
  expect(h, s, "heap_refresh", a->heap_refresh(h), SONDE_OK);
  uint64_t n = a->goroutine_count(h);
  sonde_wait w = SONDE_INIT(sonde_wait);
  expect(h, s, "wait_get_past_the_last_goroutine", a->wait_get(h, n, 0, &w), SONDE_ENOTFOUND);
  expect(h, s, "wait_get_null", a->wait_get(h, 0, 0, NULL), SONDE_EINVAL);
  sonde_leak_info li = SONDE_INIT(sonde_leak_info);
  expect(h, s, "leak_info", a->leak_info(h, &li), SONDE_OK);
  expect(h, s, "reach_get_past_the_end", a->reach_get(h, 0, 100000, &u), SONDE_ENOTFOUND);
  expect(h, s, "reach_get_null", a->reach_get(h, 0, 0, NULL), SONDE_EINVAL);
  return s->failures ? a->fail(h, SONDE_ERROR, "%d checks failed", s->failures) : SONDE_OK;
}

static int run_found(sonde_host *h, void *state, int argc, char **argv) {
  (void)argc, (void)argv;
  st *s = state;
  int rc = s->api->report_found(h);
  return rc == SONDE_OK ? SONDE_OK : s->api->fail(h, rc, "report_found failed: %s", s->api->last_error(h));
}

static int run_tick(sonde_host *h, void *state, int argc, char **argv) {
  (void)h, (void)state, (void)argc, (void)argv;
  return SONDE_OK;
}

static int run_vfail(sonde_host *h, void *state, int argc, char **argv) {
  st *s = state;
  my_say(h, s->api, "said through vmessage: %d arguments", argc);
  return my_fail(h, s->api, SONDE_EINVAL, "failed through vfail with %s", argc > 1 ? argv[1] : "no argument");
}

/* A service failure the plugin passes on without a message of its own. */
static int run_silent(sonde_host *h, void *state, int argc, char **argv) {
  (void)argc, (void)argv;
  st *s = state;
  sonde_field fl = SONDE_INIT(sonde_field);
  return s->api->layout_field(h, "runtime.g", "nosuchfield", &fl);
}

/* ---- lifetimes, in a session ---- */

static int on_state_change(sonde_host *h, void *state, const sonde_state_change *c) {
  st *s = state;
  const sonde_host_api *a = s->api;
  if (c->new_state == SONDE_STATE_STOPPED) {
    if (s->edges && getenv("ABICHECK_OVERSHOOT") && s->kept_type) {
      /* past the edge: the previous stop's heap type name is gone */
      volatile size_t len = strlen(s->kept_type);
      (void)len;
    }
    if (s->edges) s->after_edge++;
    s->kept_status = s->kept_func = s->kept_type = NULL;
    sonde_goroutine g = SONDE_INIT(sonde_goroutine);
    sonde_frame f = SONDE_INIT(sonde_frame);
    sonde_heap_type ht = SONDE_INIT(sonde_heap_type);
    if (a->goroutine_get(h, 0, &g) == SONDE_OK) s->kept_status = g.status;
    if (a->frame_get(h, 0, 0, &f) == SONDE_OK) s->kept_func = f.function;
    if (a->heap_type_get(h, 0, &ht) == SONDE_OK) s->kept_type = ht.name;
  } else if (c->old_state == SONDE_STATE_STOPPED && c->new_state == SONDE_STATE_RUNNING) {
    /* the edge: the last moment these are documented to be valid */
    size_t total = 0;
    if (s->kept_status) total += strlen(s->kept_status);
    if (s->kept_func) total += strlen(s->kept_func);
    if (s->kept_type) total += strlen(s->kept_type);
    if (s->kept_status && s->kept_func && s->kept_type && total) {
      s->edges++;
      a->message(h, SONDE_LOG_INFO, "lifetime edge %u: %zu bytes of strings read", s->edges, total);
    }
  }
  return SONDE_OK;
}

static int on_detach(sonde_host *h, void *state) {
  st *s = state;
  s->api->message(h, SONDE_LOG_INFO, "lifetime edges %u, stops after an edge %u", s->edges, s->after_edge);
  return SONDE_OK;
}

static const sonde_command commands[] = {
    {sizeof(sonde_command), 0, "notarget", "service codes without a target", "", "", run_notarget},
    {sizeof(sonde_command), SONDE_CMD_NEEDS_TARGET, "codes", "service codes with a target", "", "", run_codes},
    {sizeof(sonde_command), SONDE_CMD_NEEDS_LEAKS, "leakcodes", "service codes with heap and leaks", "", "",
     run_leakcodes},
    {sizeof(sonde_command), 0, "found", "reports a finding (exit 13)", "", "", run_found},
    {sizeof(sonde_command), 0, "vfail", "fails through vfail", "[WORD]", "", run_vfail},
    {sizeof(sonde_command), SONDE_CMD_NEEDS_TARGET, "silent", "passes on a service failure", "", "", run_silent},
    {sizeof(sonde_command), SONDE_CMD_NEEDS_TARGET, "tick", "does nothing (for --every)", "", "", run_tick},
};

static const sonde_plugin desc = {
    .struct_size = sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = SONDE_PLUGIN_NAME,
    .version = SONDE_PLUGIN_VERSION,
    .description = "checks every host service against plugin.h",
    .on_load = on_load,
    .on_state_change = on_state_change,
    .on_detach = on_detach,
    .on_unload = on_unload,
    .commands = commands,
    .ncommands = sizeof commands / sizeof *commands,
    .command_size = sizeof(sonde_command),
};

SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &desc; }
