/* test_services.c: the plugin services' ABI rules (host/plugins/services.c)
 * without a target: the size write-back that makes SONDE_HAS_MEMBER true
 * exactly for what the host filled (with a host that knows a shorter
 * struct, as a 1.4 host knows sonde_target_info), last_error after a
 * failed call, vfail and vmessage through a plugin's own wrapper, and
 * report_found only inside a command's run. tests/plugins/abi_e2e.py checks
 * every documented code against a live process. */
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugins/loader.h"

static plg_plugin *new_plugin(void) {
  static plg_plugin p;
  memset(&p, 0, sizeof p);
  p.handle.p = &p;
  p.fd = -1;
  snprintf(p.name, sizeof p.name, "unit");
  return &p;
}

/* A host that knows sonde_target_info only up to ABI 1.4 (no stopped_ns)
 * filling a 1.5 plugin's struct: the new member stays as the plugin set it
 * and SONDE_HAS_MEMBER says it was not filled. */
static void test_fill_sized_shorter_host_struct_leaves_new_members_out(void **state) {
  (void)state;
  sonde_target_info host;
  memset(&host, 0x11, sizeof host);
  size_t host14 = offsetof(sonde_target_info, stopped_ns); /* what a 1.4 host has */
  host.struct_size = (uint32_t)host14;
  sonde_target_info plugin = SONDE_INIT(sonde_target_info);
  plugin.stopped_ns = 42;
  assert_int_equal(plg_fill_sized(&plugin, &host, host14), SONDE_OK);
  assert_int_equal(plugin.struct_size, host14);
  assert_false(SONDE_HAS_MEMBER(&plugin, sonde_target_info, stopped_ns));
  assert_true(SONDE_HAS_MEMBER(&plugin, sonde_target_info, has_symtab));
  assert_int_equal(plugin.stopped_ns, 42);
  assert_int_equal(plugin.has_symtab, 0x11111111u);
}

/* The same host and plugin version: every member filled and present. */
static void test_fill_sized_same_size_fills_everything(void **state) {
  (void)state;
  sonde_target_info host = SONDE_INIT(sonde_target_info);
  host.stopped_ns = 7;
  sonde_target_info plugin = SONDE_INIT(sonde_target_info);
  assert_int_equal(plg_fill_sized(&plugin, &host, sizeof host), SONDE_OK);
  assert_int_equal(plugin.struct_size, sizeof plugin);
  assert_true(SONDE_HAS_MEMBER(&plugin, sonde_target_info, stopped_ns));
  assert_int_equal(plugin.stopped_ns, 7);
}

/* An older plugin's smaller struct: never written past its size, and its
 * struct_size stays its own. */
static void test_fill_sized_older_plugin_struct_is_not_overrun(void **state) {
  (void)state;
  sonde_frame host = SONDE_INIT(sonde_frame);
  host.line = 12;
  host.entry = 0x401000;
  unsigned char buf[sizeof(sonde_frame) + 16];
  memset(buf, 0xee, sizeof buf);
  uint32_t old = (uint32_t)offsetof(sonde_frame, entry); /* a 1.3 plugin's frame */
  memcpy(buf, &old, sizeof old);
  assert_int_equal(plg_fill_sized(buf, &host, sizeof host), SONDE_OK);
  sonde_frame got;
  memcpy(&got, buf, sizeof got);
  assert_int_equal(got.struct_size, old);
  assert_int_equal(got.line, 12);
  for (size_t i = old; i < sizeof buf; i++) assert_int_equal(buf[i], 0xee);
}

static void test_fill_sized_refuses_a_struct_size_below_4(void **state) {
  (void)state;
  sonde_frame host = SONDE_INIT(sonde_frame);
  sonde_frame plugin = {.struct_size = 3};
  assert_int_equal(plg_fill_sized(&plugin, &host, sizeof host), SONDE_EINVAL);
}

static void test_last_error_says_why_a_call_failed(void **state) {
  (void)state;
  plg_plugin *p = new_plugin();
  const sonde_host_api *api = plg_host_api();
  assert_true(SONDE_HAS_MEMBER(api, sonde_host_api, report_found));
  assert_string_equal(api->last_error(&p->handle), "");
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  assert_int_equal(api->target_info(&p->handle, &ti), SONDE_ENOTARGET);
  assert_non_null(strstr(api->last_error(&p->handle), "no target"));
  /* the plugin's own message (fail) is kept apart from the service's */
  assert_string_equal(p->err, "");
  uint64_t n;
  assert_int_equal(api->gc_cycle(&p->handle, &n), SONDE_ENOTARGET);
  assert_non_null(strstr(api->last_error(&p->handle), "gc_cycle"));
}

/* A plugin's own variadic wrapper, the reason vfail exists. */
static int wrap_fail(sonde_host *h, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rc = plg_host_api()->vfail(h, rc, fmt, ap);
  va_end(ap);
  return rc;
}

static void test_vfail_records_the_message_and_returns_the_code(void **state) {
  (void)state;
  plg_plugin *p = new_plugin();
  assert_int_equal(wrap_fail(&p->handle, SONDE_EIO, "cannot open %s (%d)", "x.json", 2), SONDE_EIO);
  assert_string_equal(p->err, "cannot open x.json (2)");
  /* SONDE_OK is not a failure code: fail turns it into SONDE_ERROR */
  assert_int_equal(wrap_fail(&p->handle, SONDE_OK, "%s", "oops"), SONDE_ERROR);
  assert_int_equal((plg_host_api()->fail)(&p->handle, SONDE_EINVAL, "n=%d", 3), SONDE_EINVAL);
  assert_string_equal(p->err, "n=3");
}

static void test_report_found_only_in_a_run(void **state) {
  (void)state;
  plg_plugin *p = new_plugin();
  const sonde_host_api *api = plg_host_api();
  assert_int_equal(api->report_found(&p->handle), SONDE_EINVAL);
  assert_false(p->found);
  p->in_run = true;
  assert_int_equal(api->report_found(&p->handle), SONDE_OK);
  assert_true(p->found);
}

static void test_host_api_declares_every_member_it_has(void **state) {
  (void)state;
  const sonde_host_api *api = plg_host_api();
  assert_int_equal(api->struct_size, sizeof *api);
  assert_int_equal(api->abi_version, SONDE_ABI_MAKE(1, 5));
  /* never NULL: the table is all function pointers after the header */
  const char *base = (const char *)api;
  for (size_t off = offsetof(sonde_host_api, alloc); off < sizeof *api; off += sizeof(void (*)(void))) {
    void (*fn)(void);
    memcpy(&fn, base + off, sizeof fn);
    assert_non_null(fn);
  }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fill_sized_shorter_host_struct_leaves_new_members_out),
    cmocka_unit_test(test_fill_sized_same_size_fills_everything),
    cmocka_unit_test(test_fill_sized_older_plugin_struct_is_not_overrun),
    cmocka_unit_test(test_fill_sized_refuses_a_struct_size_below_4),
    cmocka_unit_test(test_last_error_says_why_a_call_failed),
    cmocka_unit_test(test_vfail_records_the_message_and_returns_the_code),
    cmocka_unit_test(test_report_found_only_in_a_run),
    cmocka_unit_test(test_host_api_declares_every_member_it_has),
};

UNIT_MAIN(tests)
