/* test_config.c: host/plugins/config: sonde.ini, where it is found, what
 * [host] accepts, the warnings a user sees, and hostile files.
 *
 * Inputs are the .ini files in data/config/ or strings copied into buffers of exactly
 * their size, so that AddressSanitizer reports a read past the end. The
 * lookup tests build their directories under $TMPDIR and remove them. */
#include "unit.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "base/error.h"
#include "plugins/config.h"

/* ---- helpers ------------------------------------------------------------ */

/* The warnings passed to the callback, in order. */
typedef struct {
  char *msg[128];
  size_t n;
} warnings;

static void collect(void *payload, const char *msg) {
  warnings *w = payload;
  assert_true(w->n < sizeof w->msg / sizeof w->msg[0]);
  w->msg[w->n] = strdup(msg);
  assert_non_null(w->msg[w->n]);
  w->n++;
}

static void warnings_free(warnings *w) {
  for (size_t i = 0; i < w->n; i++) free(w->msg[i]);
  w->n = 0;
}

/* cfg_load_buffer on an exact-size copy of n bytes of text. */
static int load_n(cfg_config *c, const char *name, const char *text, size_t n, warnings *w) {
  unit_blob b = unit_copy((const uint8_t *)text, n);
  se_clear();
  int rc = cfg_load_buffer(c, name, (const char *)b.bytes, n, w ? collect : NULL, w);
  unit_blob_free(&b);
  return rc;
}
static int load_str(cfg_config *c, const char *name, const char *text, warnings *w) {
  return load_n(c, name, text, strlen(text), w);
}

/* The path of data/config/<file>. */
static const char *data_path(const char *file) {
  static char p[4096];
  snprintf(p, sizeof p, "%s/config/%s", unit_data_dir, file);
  return p;
}

static void assert_entry(const cfg_config *c, const char *section, const char *key, const char *value, int line) {
  const cfg_entry *e = cfg_get(c, section, key);
  if (!e) fail_msg("no [%s] %s", section, key);
  assert_string_equal(e->section, section);
  assert_string_equal(e->key, key);
  assert_string_equal(e->value, value);
  assert_int_equal(e->line, line);
}

/* A temporary directory tree, removed by the teardown even when a test
 * fails half-way. */
static char g_root[256];

static void mkroot(void) {
  const char *t = getenv("TMPDIR");
  snprintf(g_root, sizeof g_root, "%s/sonde-cfg-XXXXXX", t && *t ? t : "/tmp");
  assert_non_null(mkdtemp(g_root));
}

static const char *at_root(const char *rel) {
  static char p[8][4096];
  static int k;
  k = (k + 1) % 8;
  snprintf(p[k], sizeof p[k], "%s/%s", g_root, rel);
  return p[k];
}

static void mkdirs(const char *rel) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", g_root, rel);
  for (char *s = p + strlen(g_root) + 1;; s++) {
    if (*s != '/' && *s) continue;
    char was = *s;
    *s = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST) fail_msg("mkdir %s: %s", p, strerror(errno));
    *s = was;
    if (!was) break;
  }
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("cannot create %s", path);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(p);
}
static int rmroot(void **state) {
  (void)state;
  if (!g_root[0]) return 0;
  int rc = nftw(g_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  g_root[0] = '\0';
  return rc;
}

/* at_root's buffers rotate; a cfg_search keeps its paths here. */
static char g_search_paths[4][4096];
static const char *keep(int i, const char *p) {
  snprintf(g_search_paths[i], sizeof g_search_paths[i], "%s", p);
  return g_search_paths[i];
}

/* ---- a valid file ------------------------------------------------------- */

static void test_config_valid_file_gives_every_value_and_line(void **state) {
  (void)state;
  cfg_config c;
  warnings w = {0};
  const char *path = data_path("valid.ini");
  assert_int_equal(cfg_load_file(&c, path, "--config", collect, &w), 0);
  assert_int_equal(w.n, 0);
  assert_string_equal(c.path, path);
  assert_string_equal(c.origin, "--config");
  assert_int_equal(c.n, 9);
  assert_entry(&c, "host", "plugin_dir", "/opt/sonde/plugins", 5);
  assert_entry(&c, "host", "index", "plugins.yaml", 6); /* the " ; comment" is gone */
  assert_entry(&c, "host", "output_dir", "out", 7);     /* "key: value" too */
  assert_entry(&c, "host", "allow_unsafe_permissions", "Yes", 8);
  assert_entry(&c, "stackdiff", "threshold", "20", 11); /* indented with spaces */
  assert_entry(&c, "stackdiff", "ignore", "runtime.*", 12); /* with a tab */
  assert_entry(&c, "stackdiff", "pattern", "a;b=c", 13); /* ';' without a space before is text */
  assert_entry(&c, "stackdiff", "empty", "", 14);
  assert_entry(&c, "snapshot", "dir", "/var/tmp/snapshots", 17);
  /* in file order */
  assert_string_equal(c.e[0].key, "plugin_dir");
  assert_string_equal(c.e[8].key, "dir");
  assert_int_equal(c.nsec, 3);
  assert_string_equal(c.sec[0].name, "host");
  assert_int_equal(c.sec[0].line, 4);
  assert_string_equal(c.sec[1].name, "stackdiff");
  assert_int_equal(c.sec[1].line, 10);
  assert_string_equal(c.sec[2].name, "snapshot");
  assert_int_equal(c.sec[2].line, 16);
  assert_null(cfg_get(&c, "host", "threshold"));
  assert_null(cfg_get(&c, "stackdiff", "plugin_dir"));
  assert_null(cfg_get(&c, "nosuch", "dir"));
  cfg_free(&c);
  assert_null(c.e);
  cfg_free(&c); /* twice is harmless */
}

static void test_config_host_settings_report_value_and_source(void **state) {
  (void)state;
  cfg_config c;
  const char *path = data_path("valid.ini");
  assert_int_equal(cfg_load_file(&c, path, "--config", NULL, NULL), 0);
  char dir[4096], want[4200], src[4200];
  snprintf(dir, sizeof dir, "%s", c.dir);
  assert_true(dir[0] == '/');
  cfg_host_defaults d = {"/usr/lib/sonde/plugins", "/usr/share/sonde/plugins.yaml", ".", false};
  cfg_host h;
  assert_int_equal(cfg_host_settings(&h, &c, &d), 0);
  assert_string_equal(h.plugin_dir.value, "/opt/sonde/plugins");
  snprintf(src, sizeof src, "%s:5", path);
  assert_string_equal(h.plugin_dir.source, src);
  snprintf(want, sizeof want, "%s/plugins.yaml", dir);
  assert_string_equal(h.index.value, want);
  snprintf(src, sizeof src, "%s:6", path);
  assert_string_equal(h.index.source, src);
  snprintf(want, sizeof want, "%s/out", dir);
  assert_string_equal(h.output_dir.value, want);
  assert_string_equal(h.allow_unsafe_permissions.value, "true");
  assert_true(h.allow_unsafe_permissions.flag);
  snprintf(src, sizeof src, "%s:8", path);
  assert_string_equal(h.allow_unsafe_permissions.source, src);
  cfg_host_free(&h);
  assert_null(h.plugin_dir.value);
  cfg_free(&c);
}

static void test_config_host_settings_fall_back_to_defaults(void **state) {
  (void)state;
  cfg_config c;
  assert_int_equal(load_str(&c, "/etc/sonde/sonde.ini", "[host]\nindex = /srv/plugins.yaml\n", NULL), 0);
  cfg_host_defaults d = {"/usr/lib/sonde/plugins", NULL, "/var/tmp", true};
  cfg_host h;
  assert_int_equal(cfg_host_settings(&h, &c, &d), 0);
  assert_string_equal(h.plugin_dir.value, "/usr/lib/sonde/plugins");
  assert_string_equal(h.plugin_dir.source, "default");
  assert_string_equal(h.index.value, "/srv/plugins.yaml");
  assert_string_equal(h.index.source, "/etc/sonde/sonde.ini:2");
  assert_string_equal(h.output_dir.value, "/var/tmp");
  assert_string_equal(h.allow_unsafe_permissions.value, "true");
  assert_true(h.allow_unsafe_permissions.flag);
  assert_string_equal(h.allow_unsafe_permissions.source, "default");
  cfg_host_free(&h);
  /* no defaults at all: NULL paths, false */
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  assert_null(h.plugin_dir.value);
  assert_string_equal(h.plugin_dir.source, "default");
  assert_null(h.output_dir.value);
  assert_string_equal(h.allow_unsafe_permissions.value, "false");
  assert_false(h.allow_unsafe_permissions.flag);
  cfg_host_free(&h);
  cfg_free(&c);
}

static void test_config_bool_accepts_every_documented_spelling_in_any_case(void **state) {
  (void)state;
  static const struct {
    const char *text;
    bool want;
  } k[] = {{"true", true},  {"TRUE", true},   {"yes", true}, {"Yes", true},  {"on", true},    {"ON", true},
           {"1", true},     {"false", false}, {"False", false}, {"no", false}, {"NO", false}, {"off", false},
           {"Off", false},  {"0", false}};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    char text[128];
    snprintf(text, sizeof text, "[host]\nallow_unsafe_permissions = %s\n", k[i].text);
    cfg_config c;
    cfg_host h;
    assert_int_equal(load_str(&c, "b.ini", text, NULL), 0);
    assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
    if (h.allow_unsafe_permissions.flag != k[i].want) fail_msg("'%s' read as %d", k[i].text, !k[i].want);
    assert_string_equal(h.allow_unsafe_permissions.value, k[i].want ? "true" : "false");
    cfg_host_free(&h);
    cfg_free(&c);
  }
}

static void test_config_plugin_section_keys_are_not_validated_and_keep_their_lines(void **state) {
  (void)state;
  cfg_config c;
  warnings w = {0};
  const char *text = "[stackdiff]\n"
                     "allow_unsafe_permissions = maybe\n" /* not [host]'s business */
                     "plugin_dir =\n"
                     "\n"
                     "Whatever-Key.2 = ~/x\n";
  assert_int_equal(load_str(&c, "/etc/sonde/sonde.ini", text, &w), 0);
  assert_int_equal(w.n, 0);
  assert_entry(&c, "stackdiff", "allow_unsafe_permissions", "maybe", 2);
  assert_entry(&c, "stackdiff", "plugin_dir", "", 3);
  assert_entry(&c, "stackdiff", "Whatever-Key.2", "~/x", 5);
  cfg_host h;
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0); /* [host] is absent: defaults */
  assert_null(h.plugin_dir.value);
  cfg_host_free(&h);
  cfg_free(&c);
}

static void test_config_same_section_twice_merges_its_keys(void **state) {
  (void)state;
  cfg_config c;
  assert_int_equal(load_str(&c, "m.ini", "[host]\nindex = /a\n[p]\nk = 1\n[host]\noutput_dir = /o\n", NULL), 0);
  assert_int_equal(c.nsec, 2);
  assert_int_equal(c.sec[0].line, 1);
  assert_entry(&c, "host", "index", "/a", 2);
  assert_entry(&c, "host", "output_dir", "/o", 6);
  assert_entry(&c, "p", "k", "1", 4);
  cfg_free(&c);
}

static void test_config_empty_file_and_comments_only_give_no_entries(void **state) {
  (void)state;
  static const char *const k[] = {"", "\n", "; nothing\n# here\n\n", "\xef\xbb\xbf", "   \t\r\n"};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    cfg_config c;
    assert_int_equal(load_str(&c, "e.ini", k[i], NULL), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.nsec, 0);
    assert_string_equal(c.path, "e.ini");
    assert_string_equal(c.origin, "buffer");
    cfg_free(&c);
  }
}

static void test_config_utf8_bom_and_crlf_line_ends_read_like_plain_lf(void **state) {
  (void)state;
  unit_blob lf = unit_read("config/valid.ini");
  /* the same file with a BOM and CRLF line ends */
  char *crlf = malloc(3 + lf.len * 2);
  assert_non_null(crlf);
  size_t n = 0;
  memcpy(crlf, "\xef\xbb\xbf", 3), n = 3;
  for (size_t i = 0; i < lf.len; i++) {
    if (lf.bytes[i] == '\n') crlf[n++] = '\r';
    crlf[n++] = (char)lf.bytes[i];
  }
  cfg_config a, b;
  assert_int_equal(load_n(&a, "lf.ini", (const char *)lf.bytes, lf.len, NULL), 0);
  assert_int_equal(load_n(&b, "crlf.ini", crlf, n, NULL), 0);
  assert_int_equal(a.n, b.n);
  for (size_t i = 0; i < a.n; i++) {
    assert_string_equal(a.e[i].section, b.e[i].section);
    assert_string_equal(a.e[i].key, b.e[i].key);
    assert_string_equal(a.e[i].value, b.e[i].value); /* no '\r' left in a value */
    assert_int_equal(a.e[i].line, b.e[i].line);
  }
  assert_entry(&b, "stackdiff", "empty", "", 14);
  cfg_free(&a);
  cfg_free(&b);
  free(crlf);
  unit_blob_free(&lf);
}

/* ---- relative paths ----------------------------------------------------- */

static void test_config_relative_paths_resolve_against_the_files_directory(void **state) {
  (void)state;
  cfg_config c;
  const char *text = "[host]\n"
                     "plugin_dir = plugins\n"
                     "index = ./idx/plugins.yaml\n"
                     "output_dir = ../out\n";
  assert_int_equal(load_str(&c, "/etc/sonde/sonde.ini", text, NULL), 0);
  assert_string_equal(c.dir, "/etc/sonde");
  cfg_host h;
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  assert_string_equal(h.plugin_dir.value, "/etc/sonde/plugins");
  assert_string_equal(h.index.value, "/etc/sonde/idx/plugins.yaml");
  assert_string_equal(h.output_dir.value, "/etc/sonde/../out");
  cfg_host_free(&h);
  cfg_free(&c);
  /* absolute paths stay as written; a file at / */
  assert_int_equal(load_str(&c, "/sonde.ini", "[host]\nplugin_dir = p\nindex = /abs/x.yaml\noutput_dir = .\n", NULL),
                   0);
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  assert_string_equal(h.plugin_dir.value, "/p");
  assert_string_equal(h.index.value, "/abs/x.yaml");
  assert_string_equal(h.output_dir.value, "/");
  cfg_host_free(&h);
  cfg_free(&c);
}

static void test_config_relative_file_name_resolves_against_the_working_directory(void **state) {
  (void)state;
  char cwd[4096], want[4200];
  assert_non_null(getcwd(cwd, sizeof cwd));
  cfg_config c;
  cfg_host h;
  assert_int_equal(load_str(&c, "conf/sonde.ini", "[host]\nindex = x.yaml\n", NULL), 0);
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  snprintf(want, sizeof want, "%s/conf/x.yaml", cwd);
  assert_string_equal(h.index.value, want);
  assert_string_equal(h.index.source, "conf/sonde.ini:2");
  cfg_host_free(&h);
  cfg_free(&c);
  assert_int_equal(load_str(&c, "sonde.ini", "[host]\nindex = x.yaml\n", NULL), 0);
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  snprintf(want, sizeof want, "%s/x.yaml", cwd);
  assert_string_equal(h.index.value, want);
  cfg_host_free(&h);
  cfg_free(&c);
}

static void test_config_relative_paths_of_a_real_file_resolve_next_to_it(void **state) {
  (void)state;
  mkroot();
  mkdirs("etc");
  const char *text = "[host]\nplugin_dir = plugins\n";
  write_file(at_root("etc/sonde.ini"), text, strlen(text));
  cfg_config c;
  cfg_host h;
  assert_int_equal(cfg_load_file(&c, at_root("etc/sonde.ini"), "/etc/sonde", NULL, NULL), 0);
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  assert_string_equal(h.plugin_dir.value, at_root("etc/plugins"));
  char src[4200];
  snprintf(src, sizeof src, "%s:2", at_root("etc/sonde.ini"));
  assert_string_equal(h.plugin_dir.source, src);
  cfg_host_free(&h);
  cfg_free(&c);
}

static void test_config_source_of_a_very_long_path_keeps_its_end(void **state) {
  (void)state;
  char name[1200];
  memset(name, 'd', sizeof name);
  name[0] = '/';
  for (size_t i = 50; i < 1100; i += 50) name[i] = '/';
  snprintf(name + 1100, sizeof name - 1100, "/sonde.ini");
  cfg_config c;
  cfg_host h;
  assert_int_equal(load_str(&c, name, "\n[host]\nindex = /x\n", NULL), 0);
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  size_t n = strlen(h.index.source);
  assert_int_equal(n, sizeof h.index.source - 1);
  assert_memory_equal(h.index.source, "...", 3);
  assert_string_equal(h.index.source + n - strlen("/sonde.ini:3"), "/sonde.ini:3");
  cfg_host_free(&h);
  cfg_free(&c);
}

/* ---- bad values and malformed files ------------------------------------- */

static const struct {
  const char *what, *text, *msg;
} k_bad[] = {
    {"a bool that is not one", "[host]\nallow_unsafe_permissions = maybe\n",
     "bad.ini:2: allow_unsafe_permissions = 'maybe' is not a boolean (use true/false, yes/no, on/off or 1/0)"},
    {"an empty bool", "[host]\n\nallow_unsafe_permissions =\n",
     "bad.ini:3: allow_unsafe_permissions = '' is not a boolean (use true/false, yes/no, on/off or 1/0)"},
    {"an empty plugin_dir", "[host]\nplugin_dir =\n",
     "bad.ini:2: plugin_dir is empty: give a path, or remove the line to use the default"},
    {"an empty index", "[host]\nindex = ; nothing\n",
     "bad.ini:2: index is empty: give a path, or remove the line to use the default"},
    {"an empty output_dir", "; c\n[host]\noutput_dir:\n",
     "bad.ini:3: output_dir is empty: give a path, or remove the line to use the default"},
    {"a path with ~", "[host]\nindex = ~/plugins.yaml\n",
     "bad.ini:2: index = '~/plugins.yaml': '~' is not expanded in sonde.ini; write the full path"},
    {"a key before any section", "; top\nplugin_dir = /x\n[host]\n",
     "bad.ini:2: key 'plugin_dir' is outside any section: put it under [host] or under the plugin's [NAME]"},
    {"a key without a name", "[host]\n= /x\n", "bad.ini:2: no key before '=' (value '/x')"},
    {"an empty section name", "[]\nk = v\n", "bad.ini:1: empty section name '[]'"},
    {"text after a header", "[host] plugin_dir = /x\n",
     "bad.ini:1: text after the section header: 'plugin_dir = /x' (a comment starts with ';' or '#')"},
    {"a header without ']'", "[host]\nindex = /x\n[stackdiff\nk = v\n",
     "bad.ini:3: syntax error: the section header '[stackdiff' has no closing ']'"},
    {"a comment hiding ']'", "[a ;b]\n",
     "bad.ini:1: syntax error: in the section header '[a ;b]', a ';' after a space starts a comment, which hides "
     "the closing ']'"},
    {"a line without '='", "[host]\nplugin_dir /x\n",
     "bad.ini:2: syntax error: 'plugin_dir /x' is not 'key = value', a [section] header or a comment"},
    {"an indented continuation line", "[host]\nplugin_dir = /a\n    /b\n",
     "bad.ini:3: syntax error: '/b' is not 'key = value', a [section] header or a comment"},
    {"a section name inih would cut", "[host]\n[aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeff]\nk = 1\n",
     "bad.ini:2: section name [aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeff] is too long (inih keeps 49 "
     "bytes of it)"},
    {"control bytes in a message", "[host]\nallow_unsafe_permissions = \x1b[31mred\n",
     "bad.ini:2: allow_unsafe_permissions = '\\x1b[31mred' is not a boolean (use true/false, yes/no, on/off or "
     "1/0)"},
    {"the first of two errors: syntax", "[host]\nbad line\nallow_unsafe_permissions = maybe\n",
     "bad.ini:2: syntax error: 'bad line' is not 'key = value', a [section] header or a comment"},
    {"the first of two errors: value", "[host]\nallow_unsafe_permissions = maybe\nbad line\n",
     "bad.ini:2: allow_unsafe_permissions = 'maybe' is not a boolean (use true/false, yes/no, on/off or 1/0)"},
};

static void test_config_each_bad_value_or_line_is_a_config_error_with_file_and_line(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
    cfg_config c;
    warnings w = {0};
    int rc = load_str(&c, "bad.ini", k_bad[i].text, &w);
    if (rc != SE_CONFIG) fail_msg("%s: returned %d (%s)", k_bad[i].what, rc, se_msg());
    assert_se_error(rc, SE_CONFIG);
    if (strcmp(se_msg(), k_bad[i].msg)) fail_msg("%s:\n  got  %s\n  want %s", k_bad[i].what, se_msg(), k_bad[i].msg);
    assert_int_equal(c.n, 0); /* nothing half-loaded */
    assert_null(c.path);
    assert_int_equal(w.n, 0);
    cfg_free(&c);
  }
}

/* ---- warnings ----------------------------------------------------------- */

static void test_config_unknown_host_key_warns_with_file_and_line(void **state) {
  (void)state;
  cfg_config c;
  warnings w = {0};
  assert_int_equal(load_str(&c, "/etc/sonde/sonde.ini", "[host]\n\nplugins_dir = /x\nindex = /i\n", &w), 0);
  assert_int_equal(w.n, 1);
  assert_string_equal(w.msg[0], "/etc/sonde/sonde.ini:3: unknown key 'plugins_dir' in [host] (known: plugin_dir, "
                                "index, output_dir, allow_unsafe_permissions)");
  assert_entry(&c, "host", "index", "/i", 4);
  cfg_host h;
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  assert_null(h.plugin_dir.value); /* the misspelt key set nothing */
  cfg_host_free(&h);
  warnings_free(&w);
  cfg_free(&c);
}

static void test_config_unknown_section_warns_with_file_and_line(void **state) {
  (void)state;
  cfg_config c;
  warnings w = {0};
  const char *path = data_path("warnings.ini");
  assert_int_equal(cfg_load_file(&c, path, "--config", collect, &w), 0);
  warnings_free(&w);
  const char *const names[] = {"stackdiff", "snapshot"};
  cfg_check_sections(&c, names, 2, collect, &w);
  assert_int_equal(w.n, 1);
  char want[4200];
  snprintf(want, sizeof want, "%s:4: unknown section [stackdif] (known: host, stackdiff, snapshot)", path);
  assert_string_equal(w.msg[0], want);
  warnings_free(&w);
  /* with no plugins installed, [stackdiff] is unknown too */
  cfg_check_sections(&c, NULL, 0, collect, &w);
  assert_int_equal(w.n, 2);
  snprintf(want, sizeof want, "%s:8: unknown section [stackdiff] (known: host)", path);
  assert_string_equal(w.msg[1], want);
  warnings_free(&w);
  cfg_check_sections(&c, names, 2, NULL, NULL); /* no callback: nothing to do */
  cfg_free(&c);
}

static void test_config_duplicate_key_warns_naming_both_lines_and_last_wins(void **state) {
  (void)state;
  cfg_config c;
  warnings w = {0};
  const char *path = data_path("warnings.ini");
  assert_int_equal(cfg_load_file(&c, path, "--config", collect, &w), 0);
  assert_int_equal(w.n, 2);
  char want[4200];
  snprintf(want, sizeof want,
           "%s:3: unknown key 'plugin_dirs' in [host] (known: plugin_dir, index, output_dir, "
           "allow_unsafe_permissions)",
           path);
  assert_string_equal(w.msg[0], want);
  snprintf(want, sizeof want, "%s:7: duplicate key 'plugin_dir' in [host]: line 7 overrides line 2", path);
  assert_string_equal(w.msg[1], want);
  assert_entry(&c, "host", "plugin_dir", "/srv/c", 7);
  /* the same key in two different sections is no duplicate */
  assert_entry(&c, "stackdif", "threshold", "1", 5);
  assert_entry(&c, "stackdiff", "threshold", "2", 9);
  size_t count = 0;
  for (size_t i = 0; i < c.n; i++) count += !strcmp(c.e[i].key, "plugin_dir");
  assert_int_equal(count, 1);
  warnings_free(&w);
  cfg_free(&c);
}

static void test_config_warnings_are_not_passed_on_when_the_file_is_refused(void **state) {
  (void)state;
  cfg_config c;
  warnings w = {0};
  int rc = load_str(&c, "r.ini", "[host]\nnope = 1\nindex = /a\nindex = /b\n[x\n", &w);
  assert_se_error(rc, SE_CONFIG);
  assert_string_equal(se_msg(), "r.ini:5: syntax error: the section header '[x' has no closing ']'");
  assert_int_equal(w.n, 0);
  cfg_free(&c);
}

static void test_config_null_warn_callback_is_allowed(void **state) {
  (void)state;
  cfg_config c;
  assert_int_equal(load_str(&c, "n.ini", "[host]\nnope = 1\nindex = /a\nindex = /b\n", NULL), 0);
  assert_entry(&c, "host", "index", "/b", 4);
  cfg_free(&c);
}

static void test_config_a_flood_of_warnings_is_cut_with_a_count(void **state) {
  (void)state;
  char text[4096];
  size_t n = (size_t)snprintf(text, sizeof text, "[host]\n");
  for (int i = 0; i < CFG_MAX_WARNINGS + 10; i++) n += (size_t)snprintf(text + n, sizeof text - n, "k = %d\n", i);
  cfg_config c;
  warnings w = {0};
  assert_int_equal(load_str(&c, "f.ini", text, &w), 0);
  /* 60 unknown keys and 59 duplicates: 50 shown, then a count */
  assert_int_equal(w.n, CFG_MAX_WARNINGS + 1);
  char want[256];
  snprintf(want, sizeof want, "f.ini: %d more warnings not shown", 2 * (CFG_MAX_WARNINGS + 10) - 1 - CFG_MAX_WARNINGS);
  assert_string_equal(w.msg[CFG_MAX_WARNINGS], want);
  char last[16];
  snprintf(last, sizeof last, "%d", CFG_MAX_WARNINGS + 9);
  assert_entry(&c, "host", "k", last, CFG_MAX_WARNINGS + 11);
  warnings_free(&w);
  cfg_free(&c);
}

/* ---- lookup ------------------------------------------------------------- */

/* Every place holds a sonde.ini; g_root/cwd is the working directory. */
static cfg_search everywhere(void) {
  mkroot();
  mkdirs("cwd");
  mkdirs("xdg/sonde");
  mkdirs("home/.config/sonde");
  mkdirs("etc");
  const char *files[] = {"explicit.ini", "env.ini", "cwd/sonde.ini", "xdg/sonde/sonde.ini",
                         "home/.config/sonde/sonde.ini", "etc/sonde.ini"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) write_file(at_root(files[i]), "[host]\n", 7);
  cfg_search s = {keep(0, at_root("explicit.ini")), keep(1, at_root("env.ini")), keep(2, at_root("xdg")),
                  keep(3, at_root("home")),          NULL,                          NULL, false};
  /* cwd and etc_dir: two more stable copies */
  static char cwd[4096], etc[4096];
  snprintf(cwd, sizeof cwd, "%s", at_root("cwd"));
  snprintf(etc, sizeof etc, "%s", at_root("etc"));
  s.cwd = cwd;
  s.etc_dir = etc;
  return s;
}

static void assert_located(const cfg_search *s, const char *rel, const char *origin) {
  char *path = (char *)1;
  const char *o = NULL;
  se_clear();
  int rc = cfg_locate(&path, &o, s);
  if (rc) fail_msg("cfg_locate: %s", se_msg());
  if (!rel) {
    assert_null(path);
  } else {
    assert_non_null(path);
    assert_string_equal(path, at_root(rel));
  }
  assert_string_equal(o, origin);
  free(path);
}

static void test_config_lookup_order_each_step_wins_over_the_later_ones(void **state) {
  (void)state;
  cfg_search s = everywhere();
  assert_located(&s, "explicit.ini", "--config");
  s.explicit_path = NULL;
  assert_located(&s, "env.ini", "SONDE_CONFIG");
  s.sonde_config_env = "";
  assert_located(&s, "cwd/sonde.ini", "working directory");
  assert_int_equal(unlink(at_root("cwd/sonde.ini")), 0);
  assert_located(&s, "xdg/sonde/sonde.ini", "XDG_CONFIG_HOME");
  assert_int_equal(unlink(at_root("xdg/sonde/sonde.ini")), 0);
  /* XDG_CONFIG_HOME is set: HOME/.config is not looked at */
  assert_located(&s, "etc/sonde.ini", "/etc/sonde");
  assert_int_equal(unlink(at_root("etc/sonde.ini")), 0);
  assert_located(&s, NULL, "defaults");
}

static void test_config_lookup_uses_home_dot_config_when_xdg_config_home_is_unset(void **state) {
  (void)state;
  cfg_search s = everywhere();
  s.explicit_path = s.sonde_config_env = NULL;
  assert_int_equal(unlink(at_root("cwd/sonde.ini")), 0);
  s.xdg_config_home = NULL;
  assert_located(&s, "home/.config/sonde/sonde.ini", "XDG_CONFIG_HOME");
  s.xdg_config_home = "";
  assert_located(&s, "home/.config/sonde/sonde.ini", "XDG_CONFIG_HOME");
  s.xdg_config_home = "relative/xdg"; /* the XDG spec: ignore a relative value */
  assert_located(&s, "home/.config/sonde/sonde.ini", "XDG_CONFIG_HOME");
  assert_int_equal(unlink(at_root("home/.config/sonde/sonde.ini")), 0);
  assert_located(&s, "etc/sonde.ini", "/etc/sonde");
  s.home = NULL;
  s.cwd = NULL;
  assert_located(&s, "etc/sonde.ini", "/etc/sonde");
}

static void test_config_lookup_missing_explicit_path_is_an_io_error_naming_it(void **state) {
  (void)state;
  cfg_search s = everywhere();
  char want[4200];
  char *path = (char *)1;
  const char *o = NULL;
  s.explicit_path = keep(0, at_root("nope.ini"));
  se_clear();
  assert_se_error(cfg_locate(&path, &o, &s), SE_IO);
  snprintf(want, sizeof want, "cannot read %s (from --config): No such file or directory", at_root("nope.ini"));
  assert_string_equal(se_msg(), want);
  assert_null(path);
  /* SONDE_CONFIG likewise, and neither falls back to the other places */
  s.explicit_path = NULL;
  s.sonde_config_env = keep(1, at_root("gone/env.ini"));
  se_clear();
  assert_se_error(cfg_locate(&path, &o, &s), SE_IO);
  snprintf(want, sizeof want, "cannot read %s (from SONDE_CONFIG): No such file or directory",
           at_root("gone/env.ini"));
  assert_string_equal(se_msg(), want);
  cfg_config c;
  se_clear();
  assert_se_error(cfg_load(&c, &s, NULL, NULL), SE_IO);
  assert_null(c.path);
}

static void test_config_lookup_relative_explicit_path_is_relative_to_cwd(void **state) {
  (void)state;
  cfg_search s = everywhere();
  write_file(at_root("cwd/mine.ini"), "[host]\n", 7);
  s.explicit_path = "mine.ini";
  assert_located(&s, "cwd/mine.ini", "--config");
  s.explicit_path = NULL;
  s.sonde_config_env = "./mine.ini";
  assert_located(&s, "cwd/mine.ini", "SONDE_CONFIG"); /* "./" dropped */
}

static void test_config_lookup_finds_nothing_and_defaults_apply(void **state) {
  (void)state;
  mkroot();
  cfg_search s = {NULL, NULL, keep(0, at_root("xdg")), keep(1, at_root("home")), g_root, keep(2, at_root("etc")), false};
  assert_located(&s, NULL, "defaults");
  cfg_config c;
  warnings w = {0};
  assert_int_equal(cfg_load(&c, &s, collect, &w), 0);
  assert_null(c.path);
  assert_string_equal(c.origin, "defaults");
  assert_int_equal(c.n, 0);
  assert_int_equal(w.n, 0);
  cfg_host_defaults d = {"/usr/lib/sonde/plugins", "/usr/share/sonde/plugins.yaml", NULL, false};
  cfg_host h;
  assert_int_equal(cfg_host_settings(&h, &c, &d), 0);
  assert_string_equal(h.plugin_dir.value, "/usr/lib/sonde/plugins");
  assert_string_equal(h.index.value, "/usr/share/sonde/plugins.yaml");
  assert_null(h.output_dir.value);
  assert_string_equal(h.index.source, "default");
  cfg_host_free(&h);
  cfg_free(&c);
  /* all steps off */
  cfg_search none = {0};
  assert_located(&none, NULL, "defaults");
}

static void test_config_load_reads_the_located_file_and_records_its_origin(void **state) {
  (void)state;
  cfg_search s = everywhere();
  s.explicit_path = s.sonde_config_env = NULL;
  assert_int_equal(unlink(at_root("cwd/sonde.ini")), 0);
  const char *text = "[host]\nplugin_dir = plugins\n[nosuch]\n";
  write_file(at_root("xdg/sonde/sonde.ini"), text, strlen(text));
  cfg_config c;
  assert_int_equal(cfg_load(&c, &s, NULL, NULL), 0);
  assert_string_equal(c.path, at_root("xdg/sonde/sonde.ini"));
  assert_string_equal(c.origin, "XDG_CONFIG_HOME");
  cfg_host h;
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  assert_string_equal(h.plugin_dir.value, at_root("xdg/sonde/plugins"));
  cfg_host_free(&h);
  cfg_free(&c);
}

static void test_config_search_from_env_reads_the_environment(void **state) {
  (void)state;
  const char *names[] = {"SONDE_CONFIG", "XDG_CONFIG_HOME", "HOME"};
  char *saved[3];
  for (int i = 0; i < 3; i++) {
    const char *v = getenv(names[i]);
    saved[i] = v ? strdup(v) : NULL;
  }
  setenv("SONDE_CONFIG", "/e/sonde.ini", 1);
  setenv("XDG_CONFIG_HOME", "/x", 1);
  setenv("HOME", "/h", 1);
  cfg_search s;
  cfg_search_from_env(&s, "-c.ini");
  assert_string_equal(s.explicit_path, "-c.ini");
  assert_string_equal(s.sonde_config_env, "/e/sonde.ini");
  assert_string_equal(s.xdg_config_home, "/x");
  assert_string_equal(s.home, "/h");
  assert_string_equal(s.cwd, ".");
  assert_string_equal(s.etc_dir, "/etc/sonde");
  unsetenv("SONDE_CONFIG");
  unsetenv("XDG_CONFIG_HOME");
  cfg_search_from_env(&s, NULL);
  assert_null(s.explicit_path);
  assert_null(s.sonde_config_env);
  assert_null(s.xdg_config_home);
  for (int i = 0; i < 3; i++) {
    if (saved[i]) setenv(names[i], saved[i], 1);
    else unsetenv(names[i]);
    free(saved[i]);
  }
}

static void test_config_unreadable_paths_are_io_errors(void **state) {
  (void)state;
  mkroot();
  cfg_config c;
  char want[4200];
  se_clear();
  assert_se_error(cfg_load_file(&c, g_root, "--config", NULL, NULL), SE_IO);
  snprintf(want, sizeof want, "cannot read %s (from --config): it is a directory", g_root);
  assert_string_equal(se_msg(), want);
  se_clear();
  assert_se_error(cfg_load_file(&c, at_root("none.ini"), "/etc/sonde", NULL, NULL), SE_IO);
  snprintf(want, sizeof want, "cannot read %s (from /etc/sonde): No such file or directory", at_root("none.ini"));
  assert_string_equal(se_msg(), want);
  assert_null(c.path);
}

/* ---- hostile input ------------------------------------------------------ */

/* The limit inih's buffer sets, read from the message for a long line. */
static size_t line_limit(void) {
  char text[2048];
  memset(text, 'x', sizeof text);
  memcpy(text, "[p]\nk = ", 8);
  cfg_config c;
  assert_se_error(load_n(&c, "long.ini", text, sizeof text, NULL), SE_CONFIG);
  size_t got = 0, limit = 0;
  if (sscanf(se_msg(), "long.ini:2: line too long (%zu bytes; inih reads at most %zu per line)", &got, &limit) != 2)
    fail_msg("unexpected message: %s", se_msg());
  assert_int_equal(got, sizeof text - 4);
  assert_true(limit >= 64 && limit < got);
  return limit;
}

/* inih's own handler for the premise below: counts plugin_dir keys. */
#if INI_HANDLER_LINENO
static int count_plugin_dir(void *user, const char *section, const char *key, const char *value, int lineno) {
  (void)lineno;
#else
static int count_plugin_dir(void *user, const char *section, const char *key, const char *value) {
#endif
  (void)section, (void)value;
  *(int *)user += !strcmp(key, "plugin_dir");
  return 1;
}

static void test_config_overlong_line_is_refused_not_split_into_another_key(void **state) {
  (void)state;
  size_t limit = line_limit();
  /* "note = xxx...plugin_dir = /evil", where inih's buffer (limit + 1 bytes
   * of text) ends just before "plugin_dir" */
  char *text = malloc(limit + 64);
  assert_non_null(text);
  size_t n = (size_t)sprintf(text, "[host]\nnote = ");
  memset(text + n, 'x', limit + 1 - 7);
  n += limit + 1 - 7;
  n += (size_t)sprintf(text + n, "plugin_dir = /evil\n");
  /* the premise: inih reading the file itself takes the tail as a key */
  int seen = 0;
  assert_int_equal(ini_parse_string(text, count_plugin_dir, &seen), 0);
  assert_int_equal(seen, 1);
  cfg_config c;
  warnings w = {0};
  assert_se_error(load_n(&c, "evil.ini", text, n, &w), SE_CONFIG);
  char want[256];
  snprintf(want, sizeof want,
           "evil.ini:2: line too long (%zu bytes; inih reads at most %zu per line): shorten it, e.g. with a path "
           "relative to this file",
           limit + 1 + strlen("plugin_dir = /evil"), limit);
  assert_string_equal(se_msg(), want);
  assert_int_equal(w.n, 0);
  assert_null(c.path);
  free(text);
}

static void test_config_line_of_exactly_the_limit_keeps_its_whole_value(void **state) {
  (void)state;
  size_t limit = line_limit();
  for (size_t extra = 0; extra < 2; extra++) {
    size_t len = limit + extra; /* the line's bytes without '\n' */
    char *text = malloc(len + 32);
    assert_non_null(text);
    size_t n = (size_t)sprintf(text, "[p]\r\nk = ");
    memset(text + n, 'v', len - 4);
    n += len - 4;
    text[n++] = '\n';
    cfg_config c;
    int rc = load_n(&c, "edge.ini", text, n, NULL);
    if (!extra) {
      assert_int_equal(rc, 0);
      const cfg_entry *e = cfg_get(&c, "p", "k");
      assert_non_null(e);
      assert_int_equal(strlen(e->value), len - 4);
      assert_int_equal(e->line, 2);
      cfg_free(&c);
    } else {
      assert_se_error(rc, SE_CONFIG);
      assert_non_null(strstr(se_msg(), "edge.ini:2: line too long"));
    }
    free(text);
  }
  /* the last line without '\n' is measured the same way */
  char *text = malloc(limit + 8);
  assert_non_null(text);
  size_t n = (size_t)sprintf(text, "[p]\nk = ");
  memset(text + n, 'v', limit - 4);
  n += limit - 4;
  cfg_config c;
  assert_int_equal(load_n(&c, "edge.ini", text, n, NULL), 0);
  assert_int_equal(strlen(cfg_get(&c, "p", "k")->value), limit - 4);
  cfg_free(&c);
  free(text);
}

static void test_config_nul_bytes_are_refused_with_their_line(void **state) {
  (void)state;
  cfg_config c;
  static const char a[] = "\0[host]\n";
  assert_se_error(load_n(&c, "z.ini", a, sizeof a - 1, NULL), SE_CONFIG);
  assert_string_equal(se_msg(), "z.ini:1: NUL byte: sonde.ini must be a text file");
  static const char b[] = "[host]\n\n\nindex = /x\n\0";
  assert_se_error(load_n(&c, "z.ini", b, sizeof b - 1, NULL), SE_CONFIG);
  assert_string_equal(se_msg(), "z.ini:5: NUL byte: sonde.ini must be a text file");
}

/* xorshift64*: the same bytes on every run and every machine */
static uint64_t rnd(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dULL;
}

/* Loads n bytes and checks what any input must give: 0 with entries whose
 * lines exist and whose text has no line end, or SE_CONFIG naming the file. */
static void assert_loads_or_refuses(const char *name, const char *bytes, size_t n) {
  cfg_config c;
  warnings w = {0};
  int rc = load_n(&c, name, bytes, n, &w);
  if (rc == 0) {
    int lines = 1;
    for (size_t i = 0; i < n; i++) lines += bytes[i] == '\n';
    for (size_t i = 0; i < c.n; i++) {
      assert_true(c.e[i].line >= 1 && c.e[i].line <= lines);
      assert_null(strchr(c.e[i].key, '\n'));
      assert_null(strchr(c.e[i].value, '\n'));
      assert_ptr_equal(cfg_get(&c, c.e[i].section, c.e[i].key), &c.e[i]);
    }
    const char *const names[] = {"p"};
    cfg_check_sections(&c, names, 1, collect, &w);
    cfg_host h;
    assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
    cfg_host_free(&h);
  } else {
    if (rc != SE_CONFIG) fail_msg("returned %s: %s", se_name(rc), se_msg());
    assert_int_equal(strncmp(se_msg(), name, strlen(name)), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(w.n, 0);
  }
  warnings_free(&w);
  cfg_free(&c);
}

static void test_config_binary_garbage_loads_or_is_refused_never_crashes(void **state) {
  (void)state;
  /* bytes that steer the parser, and any byte at all */
  static const char k_alpha[] = "[]=:;# \t\r\n\n\nabhost_plugin_dir\xef\xbb\xbf\x80\xff~/.";
  uint64_t seed = 0x5eed0fc0f1600001ULL;
  int iters = unit_fuzz_iterations(3000);
  char *buf = malloc(1024);
  assert_non_null(buf);
  for (int it = 0; it < iters; it++) {
    size_t n = (size_t)(rnd(&seed) % 1024);
    bool any = it % 4 == 0;
    for (size_t i = 0; i < n; i++) {
      uint64_t r = rnd(&seed);
      buf[i] = any ? (char)(r & 0xff) : k_alpha[(r >> 8) % (sizeof k_alpha - 1)];
    }
    assert_loads_or_refuses("fuzz.ini", buf, n);
  }
  free(buf);
}

static void test_config_every_truncation_of_a_valid_file_loads_or_is_refused(void **state) {
  (void)state;
  unit_blob b = unit_read("config/valid.ini");
  for (size_t n = 0; n <= b.len; n++) assert_loads_or_refuses("cut.ini", (const char *)b.bytes, n);
  /* and every byte replaced by each character that matters */
  static const char k_special[] = "[]=;#\n\r \xff";
  char *m = malloc(b.len);
  assert_non_null(m);
  for (size_t i = 0; i < b.len; i++)
    for (size_t k = 0; k < sizeof k_special - 1; k++) {
      memcpy(m, b.bytes, b.len);
      m[i] = k_special[k];
      assert_loads_or_refuses("flip.ini", m, b.len);
    }
  free(m);
  unit_blob_free(&b);
}

static void test_config_file_over_one_mib_is_refused(void **state) {
  (void)state;
  size_t n = 2u << 20;
  char *big = malloc(n);
  assert_non_null(big);
  for (size_t i = 0; i < n; i++) big[i] = i % 64 == 63 ? '\n' : ';';
  mkroot();
  write_file(at_root("big.ini"), big, n);
  cfg_config c;
  char want[4200];
  se_clear();
  assert_se_error(cfg_load_file(&c, at_root("big.ini"), "--config", NULL, NULL), SE_CONFIG);
  snprintf(want, sizeof want, "%s: larger than sonde.ini may be (1 MiB); is it the right file?", at_root("big.ini"));
  assert_string_equal(se_msg(), want);
  assert_null(c.path);
  assert_se_error(load_n(&c, "big.ini", big, n, NULL), SE_CONFIG);
  assert_string_equal(se_msg(), "big.ini: larger than sonde.ini may be (1 MiB); is it the right file?");
  /* one byte over the limit, from a buffer */
  assert_se_error(load_n(&c, "big.ini", big, CFG_MAX_FILE_SIZE + 1, NULL), SE_CONFIG);
  free(big);
}

static void test_config_one_mib_of_distinct_keys_loads(void **state) {
  (void)state;
  /* exactly the limit, as many keys as fit: a quadratic lookup would take
   * minutes here */
  size_t n = CFG_MAX_FILE_SIZE;
  char *text = malloc(n + 32);
  assert_non_null(text);
  size_t at = (size_t)sprintf(text, "[p]\n");
  int keys = 0;
  while (at + 24 < n) at += (size_t)sprintf(text + at, "key%07d = %d\n", keys, keys), keys++;
  while (at < n) text[at++] = '\n';
  mkroot();
  write_file(at_root("full.ini"), text, n);
  cfg_config c;
  warnings w = {0};
  assert_int_equal(cfg_load_file(&c, at_root("full.ini"), "--config", collect, &w), 0);
  assert_int_equal(c.n, (size_t)keys);
  assert_int_equal(w.n, 0);
  assert_entry(&c, "p", "key0000000", "0", 2);
  char key[32], val[32];
  snprintf(key, sizeof key, "key%07d", keys - 1);
  snprintf(val, sizeof val, "%d", keys - 1);
  assert_entry(&c, "p", key, val, keys + 1);
  cfg_free(&c);
  free(text);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_config_valid_file_gives_every_value_and_line),
    cmocka_unit_test(test_config_host_settings_report_value_and_source),
    cmocka_unit_test(test_config_host_settings_fall_back_to_defaults),
    cmocka_unit_test(test_config_bool_accepts_every_documented_spelling_in_any_case),
    cmocka_unit_test(test_config_plugin_section_keys_are_not_validated_and_keep_their_lines),
    cmocka_unit_test(test_config_same_section_twice_merges_its_keys),
    cmocka_unit_test(test_config_empty_file_and_comments_only_give_no_entries),
    cmocka_unit_test(test_config_utf8_bom_and_crlf_line_ends_read_like_plain_lf),
    cmocka_unit_test(test_config_relative_paths_resolve_against_the_files_directory),
    cmocka_unit_test(test_config_relative_file_name_resolves_against_the_working_directory),
    cmocka_unit_test_teardown(test_config_relative_paths_of_a_real_file_resolve_next_to_it, rmroot),
    cmocka_unit_test(test_config_source_of_a_very_long_path_keeps_its_end),
    cmocka_unit_test(test_config_each_bad_value_or_line_is_a_config_error_with_file_and_line),
    cmocka_unit_test(test_config_unknown_host_key_warns_with_file_and_line),
    cmocka_unit_test(test_config_unknown_section_warns_with_file_and_line),
    cmocka_unit_test(test_config_duplicate_key_warns_naming_both_lines_and_last_wins),
    cmocka_unit_test(test_config_warnings_are_not_passed_on_when_the_file_is_refused),
    cmocka_unit_test(test_config_null_warn_callback_is_allowed),
    cmocka_unit_test(test_config_a_flood_of_warnings_is_cut_with_a_count),
    cmocka_unit_test_teardown(test_config_lookup_order_each_step_wins_over_the_later_ones, rmroot),
    cmocka_unit_test_teardown(test_config_lookup_uses_home_dot_config_when_xdg_config_home_is_unset, rmroot),
    cmocka_unit_test_teardown(test_config_lookup_missing_explicit_path_is_an_io_error_naming_it, rmroot),
    cmocka_unit_test_teardown(test_config_lookup_relative_explicit_path_is_relative_to_cwd, rmroot),
    cmocka_unit_test_teardown(test_config_lookup_finds_nothing_and_defaults_apply, rmroot),
    cmocka_unit_test_teardown(test_config_load_reads_the_located_file_and_records_its_origin, rmroot),
    cmocka_unit_test(test_config_search_from_env_reads_the_environment),
    cmocka_unit_test_teardown(test_config_unreadable_paths_are_io_errors, rmroot),
    cmocka_unit_test(test_config_overlong_line_is_refused_not_split_into_another_key),
    cmocka_unit_test(test_config_line_of_exactly_the_limit_keeps_its_whole_value),
    cmocka_unit_test(test_config_nul_bytes_are_refused_with_their_line),
    cmocka_unit_test(test_config_binary_garbage_loads_or_is_refused_never_crashes),
    cmocka_unit_test(test_config_every_truncation_of_a_valid_file_loads_or_is_refused),
    cmocka_unit_test_teardown(test_config_file_over_one_mib_is_refused, rmroot),
    cmocka_unit_test_teardown(test_config_one_mib_of_distinct_keys_loads, rmroot),
};

UNIT_MAIN(tests)
