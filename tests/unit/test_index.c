/* test_index.c: host/plugins/index: the YAML plugin compatibility index:
 * loading (the valid and malformed files in data/index/), hostile input, writing
 * back, and the verdict on whether a plugin may load. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "plugins/index.h"

/* Loads data/<rel> from a buffer of exactly its size, named <rel> in messages. */
static int load(const char *rel, idx_index *ix) {
  unit_blob b = unit_read(rel);
  se_clear();
  int rc = idx_load_buffer(rel, (const char *)b.bytes, b.len, ix);
  unit_blob_free(&b);
  return rc;
}

/* Loads text from a buffer of exactly strlen(text) bytes. */
static int load_text(const char *name, const char *text, size_t len, idx_index *ix) {
  unit_blob b = unit_copy((const uint8_t *)text, len);
  se_clear();
  int rc = idx_load_buffer(name, (const char *)b.bytes, b.len, ix);
  unit_blob_free(&b);
  return rc;
}

static void assert_empty(const idx_index *ix) {
  assert_int_equal(ix->n, 0);
  assert_null(ix->e);
  assert_null(ix->path);
}

static void assert_msg_has(const char *msg, const char *want) {
  if (!msg) fail_msg("no message; expected one containing \"%s\"", want);
  if (!strstr(msg, want)) fail_msg("message \"%s\" lacks \"%s\"", msg, want);
}

static void assert_msg_starts(const char *msg, const char *want) {
  if (!msg) fail_msg("no message; expected one starting \"%s\"", want);
  if (strncmp(msg, want, strlen(want))) fail_msg("message \"%s\" does not start with \"%s\"", msg, want);
}

static void assert_range_text(const rng_range *r, const char *text) {
  rng_range want;
  if (rng_parse(text, &want) != 0) fail_msg("bad test range %s", text);
  assert_int_equal(r->n, want.n);
  for (size_t i = 0; i < want.n; i++) {
    assert_int_equal(r->c[i].op, want.c[i].op);
    assert_int_equal(r->c[i].parts, want.c[i].parts);
    assert_memory_equal(r->c[i].ver.v, want.c[i].ver.v, sizeof want.c[i].ver.v);
  }
}

/* Invariants of any index that loaded, valid or not. */
static void assert_well_formed(const idx_index *ix) {
  assert_non_null(ix->path);
  assert_true(ix->n <= IDX_MAX_PLUGINS);
  for (size_t i = 0; i < ix->n; i++) {
    const idx_entry *e = &ix->e[i];
    assert_non_null(e->go_text);
    assert_non_null(e->kernel_text);
    assert_non_null(e->host_text);
    assert_true(e->line >= 1 && e->col >= 1);
    if (!e->error) {
      assert_non_null(e->name);
      assert_non_null(e->file);
      assert_non_null(e->version);
      assert_non_null(e->sha256);
      assert_int_equal(strlen(e->sha256), 64);
      assert_true(idx_find(ix, e->name) == e); /* valid names are unique */
    } else {
      assert_msg_starts(e->error, ix->path);
    }
  }
}

/* ---- a valid index ------------------------------------------------------ */

static void check_valid_entries(const idx_index *ix) {
  assert_int_equal(ix->n, 4);
  for (size_t i = 0; i < ix->n; i++)
    if (ix->e[i].error) fail_msg("entry %zu: %s", i, ix->e[i].error);

  const idx_entry *e = &ix->e[0];
  assert_string_equal(e->name, "stackdiff");
  assert_string_equal(e->file, "stackdiff.so");
  assert_string_equal(e->version, "1.0.0");
  assert_int_equal(e->abi_major, 1);
  assert_int_equal(e->abi_minor, 0);
  assert_string_equal(e->sha256, "b399366b31f4730940a675d802bd3f51e7d2175fb9aae57463a634370059c8af");
  assert_string_equal(e->description, "Compare goroutine stacks between two snapshots");
  assert_string_equal(e->go_text, ">=1.21, <1.28");
  assert_string_equal(e->kernel_text, ">=4.14");
  assert_string_equal(e->host_text, ">=0.1, <1");
  assert_range_text(&e->go, ">=1.21, <1.28");
  assert_range_text(&e->kernel, ">=4.14");
  assert_range_text(&e->host, ">=0.1, <1");

  e = &ix->e[1];
  assert_string_equal(e->name, "heap-top");
  assert_string_equal(e->file, "/usr/lib/sonde/plugins/heap-top.so");
  assert_string_equal(e->version, "0.3.1-beta");
  assert_int_equal(e->abi_major, 1);
  assert_int_equal(e->abi_minor, 2);
  assert_string_equal(e->sha256, "b1755d4021c094972162d24ffca463a5b79f947a06ffa28bc2497a642efd0a74");
  assert_string_equal(e->description,
                      "Largest heap objects by type: \xe2\x80\x9ctop\xe2\x80\x9d of the heap, "
                      "\xc3\xbcn\xc3\xaf"
                      "c\xc3\xb6"
                      "d\xc3\xa9");
  assert_string_equal(e->go_text, "==1.27");
  assert_range_text(&e->go, "==1.27");
  assert_string_equal(e->kernel_text, "*");
  assert_int_equal(e->kernel.n, 0);
  assert_string_equal(e->host_text, "*");
  assert_int_equal(e->host.n, 0);

  e = &ix->e[2];
  assert_string_equal(e->name, "chan_graph9");
  assert_string_equal(e->file, "plugins/chan graph.so");
  assert_string_equal(e->version, "2");
  assert_int_equal(e->abi_major, 1);
  assert_int_equal(e->abi_minor, 10);
  assert_string_equal(e->sha256, "a918e72d61c9164d75f8829c1365ba483243f523f57482b01fd4cbd15af2febd");
  assert_null(e->description);
  assert_string_equal(e->go_text, "*");
  assert_string_equal(e->kernel_text, "*");
  assert_string_equal(e->host_text, "*");

  e = &ix->e[3];
  assert_string_equal(e->name, "lockwatch");
  assert_string_equal(e->file, "lockwatch.so");
  assert_string_equal(e->version, "1.0.0");
  assert_int_equal(e->abi_major, 1);
  assert_int_equal(e->abi_minor, 0);
  assert_null(e->description);
  assert_string_equal(e->kernel_text, ">= 5.4");
  assert_range_text(&e->kernel, ">=5.4");
  assert_string_equal(e->go_text, "*"); /* written as "*" */
  assert_int_equal(e->go.n, 0);
  assert_string_equal(e->host_text, "*"); /* written empty: absent */
  assert_int_equal(e->host.n, 0);
}

static void test_index_valid_file_loads_every_field(void **state) {
  (void)state;
  idx_index ix;
  assert_int_equal(load("index/valid.yaml", &ix), 0);
  assert_string_equal(ix.path, "index/valid.yaml");
  check_valid_entries(&ix);
  /* Entry positions: the first key of each mapping (or the flow '{'). */
  static const int pos[4][2] = {{4, 5}, {16, 5}, {26, 5}, {32, 5}};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(ix.e[i].line, pos[i][0]);
    assert_int_equal(ix.e[i].col, pos[i][1]);
  }
  assert_well_formed(&ix);
  idx_free(&ix);
  assert_empty(&ix);
  idx_free(&ix); /* twice is harmless */
}

static void test_index_load_file_reads_the_same_as_load_buffer(void **state) {
  (void)state;
  char path[4096];
  snprintf(path, sizeof path, "%s/index/valid.yaml", unit_data_dir);
  idx_index ix;
  se_clear();
  assert_int_equal(idx_load_file(path, &ix), 0);
  assert_string_equal(ix.path, path);
  check_valid_entries(&ix);
  idx_free(&ix);
}

static void test_index_find_returns_entry_by_name(void **state) {
  (void)state;
  idx_index ix;
  assert_int_equal(load("index/valid.yaml", &ix), 0);
  assert_ptr_equal(idx_find(&ix, "heap-top"), &ix.e[1]);
  assert_ptr_equal(idx_find(&ix, "lockwatch"), &ix.e[3]);
  assert_null(idx_find(&ix, "heap"));
  assert_null(idx_find(&ix, "HEAP-TOP"));
  assert_null(idx_find(&ix, NULL));
  assert_null(idx_find(NULL, "heap-top"));
  idx_free(&ix);
}

static void test_index_empty_or_absent_plugins_load_no_entries(void **state) {
  (void)state;
  static const char *const files[] = {"index/empty_plugins.yaml", "index/no_plugins.yaml"};
  for (size_t i = 0; i < 2; i++) {
    idx_index ix;
    assert_int_equal(load(files[i], &ix), 0);
    assert_int_equal(ix.n, 0);
    assert_string_equal(ix.path, files[i]);
    assert_null(idx_find(&ix, "stackdiff"));
    idx_free(&ix);
  }
  idx_index ix;
  static const char null_plugins[] = "schema: 1\nplugins:\n";
  assert_int_equal(load_text("null", null_plugins, strlen(null_plugins), &ix), 0);
  assert_int_equal(ix.n, 0);
  idx_free(&ix);
}

/* ---- problems inside one entry ------------------------------------------ */

static void test_index_entry_errors_mark_only_that_entry(void **state) {
  (void)state;
  static const struct {
    const char *name; /* as stored, or NULL */
    const char *at, *what;
  } want[] = {
      {"good-one", NULL, NULL},
      {"unknown-key",
       "index/entry_errors.yaml:14:5: plugin 'unknown-key': ", "unknown key 'colour' (allowed: name, file"},
      {"no-sha", "index/entry_errors.yaml:15:5: plugin 'no-sha': ", "missing required key 'sha256'"},
      {"Stack Diff", "index/entry_errors.yaml:19:11: ", "bad plugin name 'Stack Diff': use 1 to 32 of a-z"},
      {"bad-range", "index/entry_errors.yaml:30:11: plugin 'bad-range': ",
       "compat.go: bad version range \">=1.21,\": trailing comma; expected \"*\" or comma-separated"},
      {"bad-abi", "index/entry_errors.yaml:34:10: plugin 'bad-abi': ",
       "'abi' must be the plugin ABI version as MAJOR.MINOR, like \"1.0\"; got \"1\""},
      {"upper-sha",
       "index/entry_errors.yaml:40:13: plugin 'upper-sha': ", "'sha256' must be the 64 lowercase hex digits"},
      {"list-file", "index/entry_errors.yaml:42:11: plugin 'list-file': ", "'file' must be text, not a sequence"},
      {NULL,
       "index/entry_errors.yaml:46:5: ", "a plugin entry must be a mapping (name: ..., file: ..., ...), not text"},
      {"compat-key", "index/entry_errors.yaml:53:7: plugin 'compat-key': ",
       "unknown key 'python' in 'compat' (allowed: go, kernel, sonde)"},
      {"compat-text",
       "index/entry_errors.yaml:59:13: plugin 'compat-text': ", "'compat' must be a mapping of go, kernel and sonde"},
      {"spaced-version", "index/entry_errors.yaml:62:14: plugin 'spaced-version': ",
       "'version' must be 1 to 32 characters without whitespace, like 1.0.0; got \"1.0 beta\""},
      {"twice", "index/entry_errors.yaml:67:5: plugin 'twice': ", "duplicate key 'file' (also at line 66)"},
      {"two-lines", "index/entry_errors.yaml:76:18: plugin 'two-lines': ", "'description' must be one line"},
      {NULL, "index/entry_errors.yaml:77:5: ", "'name' has no value"},
      {"good-two", NULL, NULL},
  };
  idx_index ix;
  assert_int_equal(load("index/entry_errors.yaml", &ix), 0);
  assert_int_equal(ix.n, sizeof want / sizeof want[0]);
  assert_well_formed(&ix);
  for (size_t i = 0; i < ix.n; i++) {
    const idx_entry *e = &ix.e[i];
    if (want[i].name)
      assert_string_equal(e->name, want[i].name);
    else
      assert_null(e->name);
    if (!want[i].at) {
      if (e->error) fail_msg("entry %zu (%s) should be valid: %s", i, e->name, e->error);
      continue;
    }
    if (!e->error) fail_msg("entry %zu (%s) should have an error", i, e->name ? e->name : "?");
    assert_msg_starts(e->error, want[i].at);
    assert_msg_has(e->error, want[i].what);
  }
  /* The valid neighbours load in full. */
  const idx_entry *g = idx_find(&ix, "good-two");
  assert_non_null(g);
  assert_int_equal(g->abi_minor, 1);
  assert_string_equal(g->go_text, ">=1.21");
  /* An entry with an error is found by its name (to say why it does not load). */
  assert_ptr_equal(idx_find(&ix, "bad-range"), &ix.e[4]);
  idx_free(&ix);
}

static void test_index_duplicate_names_refuse_both_entries(void **state) {
  (void)state;
  idx_index ix;
  assert_int_equal(load("index/dup_names.yaml", &ix), 0);
  assert_int_equal(ix.n, 3);
  assert_msg_starts(ix.e[0].error, "index/dup_names.yaml:3:5: ");
  assert_msg_has(ix.e[0].error, "duplicate plugin name 'x' (also at line 13)");
  assert_null(ix.e[1].error);
  assert_msg_starts(ix.e[2].error, "index/dup_names.yaml:13:5: ");
  assert_msg_has(ix.e[2].error, "duplicate plugin name 'x' (also at line 3)");
  idx_free(&ix);
}

static void test_index_entry_field_limits(void **state) {
  (void)state;
  static const char head[] =
      "schema: 1\nplugins:\n  - name: p\n    file: p.so\n    abi: \"1.0\"\n"
      "    sha256: 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n";
  static const struct {
    const char *line; /* the last line of the entry */
    const char *what; /* NULL: valid */
  } cases[] = {
      {"    version: 12345678901234567890123456789012\n", NULL},
      {"    version: 123456789012345678901234567890123\n", "'version' must be 1 to 32 characters"},
      {"    version: \"\"\n", "'version' must be 1 to 32 characters"},
      {"    version: 1\n    description: \"\"\n", NULL},
      {"    version: 1\n    description: ~\n", NULL},
      {"    version: 1\n    description: \"tab\\there\"\n", "one line"},
      {"    version: 1\n    description: \"line\\Lseparator\"\n", "one line"},
      {"    version: 1\n    name2: x\n", "unknown key 'name2'"},
      {"    version: 1\n    abi: \"1.0\"\n", "duplicate key 'abi' (also at line 5)"},
      {"    version: 1\n    ? [a, b]\n    : c\n", "a key must be text, not a sequence"},
      {"    version: 1\n    compat: {go: \">=1.21\", go: \"<1.28\"}\n", "duplicate key 'compat.go'"},
      {"    version: 1\n    compat: {go: [1.21]}\n", "'go' must be text, not a sequence"},
      {"    version: 1\n    compat: {kernel: \"\"}\n", "compat.kernel: bad version range \"\": the range is empty"},
      {"    version: 1\n    compat: {sonde: \"~>1\"}\n", "compat.sonde: bad version range"},
      {"    version: 1\n    compat: {go: ~, kernel: null, sonde: }\n", NULL},
      {"    version: 1\n    compat:\n", NULL},
      {"    version: 1\n    file: x\n", "duplicate key 'file'"},
      {"    version: {a: b}\n", "'version' must be text, not a mapping"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[1024];
    snprintf(text, sizeof text, "%s%s", head, cases[i].line);
    idx_index ix;
    int rc = load_text("limits.yaml", text, strlen(text), &ix);
    if (rc) fail_msg("case %zu: %s", i, se_msg());
    assert_int_equal(ix.n, 1);
    if (!cases[i].what) {
      if (ix.e[0].error) fail_msg("case %zu should be valid: %s", i, ix.e[0].error);
    } else {
      assert_msg_starts(ix.e[0].error, "limits.yaml:");
      assert_msg_has(ix.e[0].error, cases[i].what);
    }
    idx_free(&ix);
  }
  /* abi: MAJOR.MINOR, quoted or not. */
  static const struct {
    const char *abi;
    uint32_t major, minor; /* 0, 0 with ok false: refused */
    bool ok;
  } abis[] = {{"\"1.0\"", 1, 0, true},   {"1.0", 1, 0, true},    {"'2.17'", 2, 17, true}, {"1.10", 1, 10, true},
              {"0.1", 0, 1, true},       {"1", 0, 0, false},     {"1.0.0", 0, 0, false},  {"\"1.\"", 0, 0, false},
              {"\".1\"", 0, 0, false},   {"v1.0", 0, 0, false},  {"1.x", 0, 0, false},    {"1.1000001", 0, 0, false},
              {"\" 1.0\"", 0, 0, false}, {"[1, 0]", 0, 0, false}};
  for (size_t i = 0; i < sizeof abis / sizeof abis[0]; i++) {
    char text[1024];
    snprintf(text, sizeof text,
             "schema: 1\nplugins:\n  - name: p\n    file: p.so\n    version: 1\n    abi: %s\n"
             "    sha256: 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n",
             abis[i].abi);
    idx_index ix;
    assert_int_equal(load_text("abi.yaml", text, strlen(text), &ix), 0);
    if (abis[i].ok != !ix.e[0].error) fail_msg("abi %s: %s", abis[i].abi, ix.e[0].error ? ix.e[0].error : "accepted");
    if (abis[i].ok) {
      assert_int_equal(ix.e[0].abi_major, abis[i].major);
      assert_int_equal(ix.e[0].abi_minor, abis[i].minor);
    } else {
      assert_msg_starts(ix.e[0].error, "abi.yaml:6:10: plugin 'p': '");
    }
    idx_free(&ix);
  }
  /* description: at most 200 characters (not bytes). */
  for (int n = 199; n <= 201; n++) {
    char text[2048];
    int at = snprintf(text, sizeof text,
                      "schema: 1\nplugins:\n  - name: p\n    file: p.so\n    version: 1\n    abi: \"1.0\"\n"
                      "    sha256: 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n"
                      "    description: ");
    for (int k = 0; k < n; k++) at += snprintf(text + at, sizeof text - (size_t)at, "\xc3\xa9"); /* é: 2 bytes */
    at += snprintf(text + at, sizeof text - (size_t)at, "\n");
    idx_index ix;
    assert_int_equal(load_text("desc.yaml", text, (size_t)at, &ix), 0);
    if (n <= IDX_MAX_DESCRIPTION) {
      assert_null(ix.e[0].error);
      assert_int_equal(strlen(ix.e[0].description), 2 * (size_t)n);
    } else {
      assert_msg_has(ix.e[0].error, "'description' is 201 characters long, more than 200");
    }
    idx_free(&ix);
  }
  /* Names: the command a user types. */
  static const struct {
    const char *name;
    bool ok;
  } names[] = {{"a", true},
               {"0day", true},
               {"a_b-c9", true},
               {"abcdefghijklmnopqrstuvwxyz012345", true},
               {"abcdefghijklmnopqrstuvwxyz0123456", false},
               {"-a", false},
               {"_a", false},
               {"A", false},
               {"a.b", false},
               {"a/b", false},
               {"\"\"", false},
               {"caf\xc3\xa9", false}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char text[1024];
    snprintf(text, sizeof text,
             "schema: 1\nplugins:\n  - name: %s\n    file: p.so\n    version: 1\n    abi: \"1.0\"\n"
             "    sha256: 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n",
             names[i].name);
    idx_index ix;
    assert_int_equal(load_text("names.yaml", text, strlen(text), &ix), 0);
    if (names[i].ok != !ix.e[0].error)
      fail_msg("name %s: %s", names[i].name, ix.e[0].error ? ix.e[0].error : "accepted");
    if (!names[i].ok) assert_msg_has(ix.e[0].error, "bad plugin name");
    idx_free(&ix);
  }
}

/* ---- problems with the whole file --------------------------------------- */

static void test_index_whole_file_errors_fail_with_position(void **state) {
  (void)state;
  static const struct {
    const char *file, *at, *what;
  } cases[] = {
      {"index/bad_not_mapping.yaml", "index/bad_not_mapping.yaml:2:1: ",
       "the plugin index must be a mapping with \"schema: 1\" and \"plugins:\", not a sequence"},
      {"index/bad_unknown_top_key.yaml",
       "index/bad_unknown_top_key.yaml:3:1: ", "unknown top-level key 'plugin_dir' (allowed: schema, plugins)"},
      {"index/bad_duplicate_top_key.yaml",
       "index/bad_duplicate_top_key.yaml:2:1: ", "duplicate top-level key 'schema' (also at line 1)"},
      {"index/bad_missing_schema.yaml", "index/bad_missing_schema.yaml:1:1: ", "missing \"schema: 1\""},
      {"index/bad_schema_2.yaml",
       "index/bad_schema_2.yaml:1:9: ", "unsupported schema \"2\": this sonde reads schema 1"},
      {"index/bad_plugins_not_sequence.yaml",
       "index/bad_plugins_not_sequence.yaml:3:3: ", "'plugins' must be a sequence of plugin entries"},
      {"index/bad_yaml_syntax.yaml", "index/bad_yaml_syntax.yaml:4:4: ", "not valid YAML: "},
      {"index/bad_two_documents.yaml", "index/bad_two_documents.yaml:3:1: ", "a second YAML document"},
      {"index/bad_empty.yaml", "index/bad_empty.yaml:1:1: ", "the plugin index is empty"},
      {"index/bad_escaped_nul.yaml", "index/bad_escaped_nul.yaml:3:11: ", "NUL byte"},
      {"index/bad_invalid_utf8.yaml", "index/bad_invalid_utf8.yaml:3:", "not valid YAML: "},
      {"index/bad_anchor.yaml", "index/bad_anchor.yaml:3:5: ", "aliases are not allowed in the plugin index"},
      {"index/bad_alias.yaml", "index/bad_alias.yaml:2:10: ", "aliases are not allowed in the plugin index"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    idx_index ix;
    memset(&ix, 0x5A, sizeof ix);
    int rc = load(cases[i].file, &ix);
    if (rc != SE_CONFIG) fail_msg("%s: rc %d (%s), expected SE_CONFIG", cases[i].file, rc, se_msg());
    assert_se_error(rc, SE_CONFIG);
    assert_msg_starts(se_msg(), cases[i].at);
    assert_msg_has(se_msg(), cases[i].what);
    assert_empty(&ix);
  }
  /* schema spelled other ways */
  static const char *const schemas[] = {"schema: \"2\"\n", "schema: 1.0\n", "schema: [1]\n", "schema: 01\n",
                                        "schema:\n"};
  for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
    idx_index ix;
    assert_se_error(load_text("s.yaml", schemas[i], strlen(schemas[i]), &ix), SE_CONFIG);
    assert_msg_has(se_msg(), "unsupported schema");
  }
  idx_index ix;
  static const char quoted_one[] = "schema: \"1\"\n";
  assert_int_equal(load_text("s.yaml", quoted_one, strlen(quoted_one), &ix), 0);
  idx_free(&ix);
}

static void test_index_missing_file_or_directory_is_io_error(void **state) {
  (void)state;
  idx_index ix;
  char path[4096];
  snprintf(path, sizeof path, "%s/index/no-such-file.yaml", unit_data_dir);
  se_clear();
  assert_se_error(idx_load_file(path, &ix), SE_IO);
  assert_msg_has(se_msg(), path);
  assert_msg_has(se_msg(), "No such file");
  assert_empty(&ix);
  snprintf(path, sizeof path, "%s/index", unit_data_dir);
  assert_se_error(idx_load_file(path, &ix), SE_IO);
  assert_msg_has(se_msg(), "Is a directory");
  assert_empty(&ix);
}

/* A buffer holding "schema: 1\n" and a comment padding it to n bytes. */
static char *padded_index(size_t n) {
  char *b = malloc(n);
  assert_non_null(b);
  memset(b, 'x', n);
  memcpy(b, "schema: 1\n#", 11);
  b[n - 1] = '\n';
  return b;
}

static void test_index_larger_than_1mib_is_refused(void **state) {
  (void)state;
  idx_index ix;
  char *b = padded_index((size_t)IDX_MAX_FILE);
  se_clear();
  assert_int_equal(idx_load_buffer("max.yaml", b, (size_t)IDX_MAX_FILE, &ix), 0);
  idx_free(&ix);
  free(b);

  b = padded_index((size_t)IDX_MAX_FILE + 1);
  assert_se_error(idx_load_buffer("big.yaml", b, (size_t)IDX_MAX_FILE + 1, &ix), SE_CONFIG);
  assert_msg_starts(se_msg(), "big.yaml: the plugin index is 1048577 bytes, larger than the limit");
  assert_empty(&ix);

  /* The same through a file. */
  char path[] = "/tmp/sonde-unit-index-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, b, (size_t)IDX_MAX_FILE + 1), IDX_MAX_FILE + 1);
  close(fd);
  assert_se_error(idx_load_file(path, &ix), SE_CONFIG);
  assert_msg_has(se_msg(), "larger than the limit");
  assert_empty(&ix);
  unlink(path);
  free(b);
}

/* ---- hostile input ------------------------------------------------------ */

static void test_index_refuses_alias_bomb_billion_laughs(void **state) {
  (void)state;
  idx_index ix;
  assert_se_error(load("index/bad_billion_laughs.yaml", &ix), SE_CONFIG);
  assert_msg_starts(se_msg(), "index/bad_billion_laughs.yaml:2:4: ");
  assert_msg_has(se_msg(), "aliases are not allowed in the plugin index");
  assert_empty(&ix);
  /* Aliases alone (to an anchor that is never defined) are refused as well. */
  static const char alias_key[] = "schema: 1\n*a : b\n";
  assert_se_error(load_text("a.yaml", alias_key, strlen(alias_key), &ix), SE_CONFIG);
  assert_msg_has(se_msg(), "aliases are not allowed in the plugin index");
}

/* "schema: 1\nplugins: " and k nested flow sequences. */
static char *nested(size_t k, size_t *len) {
  static const char head[] = "schema: 1\nplugins: ";
  *len = sizeof head - 1 + 2 * k + 1;
  char *b = malloc(*len);
  assert_non_null(b);
  memcpy(b, head, sizeof head - 1);
  memset(b + sizeof head - 1, '[', k);
  memset(b + sizeof head - 1 + k, ']', k);
  b[*len - 1] = '\n';
  return b;
}

static void test_index_refuses_nesting_deeper_than_8(void **state) {
  (void)state;
  idx_index ix;
  size_t len;
  /* root mapping (1) + 7 sequences = 8 levels: loads; the entry is refused. */
  char *b = nested(7, &len);
  se_clear();
  assert_int_equal(idx_load_buffer("deep.yaml", b, len, &ix), 0);
  assert_int_equal(ix.n, 1);
  assert_msg_has(ix.e[0].error, "a plugin entry must be a mapping");
  idx_free(&ix);
  free(b);

  b = nested(8, &len);
  assert_se_error(idx_load_buffer("deep.yaml", b, len, &ix), SE_CONFIG);
  assert_msg_starts(se_msg(), "deep.yaml:2:17: nested deeper than 8 levels");
  assert_empty(&ix);
  free(b);

  b = nested(200000, &len);
  assert_se_error(idx_load_buffer("deep.yaml", b, len, &ix), SE_CONFIG);
  assert_msg_has(se_msg(), "nested deeper than 8 levels");
  free(b);

  /* Block mappings, indented one more space each time. */
  char text[8192];
  size_t at = (size_t)snprintf(text, sizeof text, "schema: 1\n");
  for (int d = 0; d < 40; d++) at += (size_t)snprintf(text + at, sizeof text - at, "%*sk%d:\n", d, "", d);
  assert_se_error(load_text("block.yaml", text, at, &ix), SE_CONFIG);
  assert_msg_starts(se_msg(), "block.yaml:10:9: nested deeper than 8 levels");
}

static void test_index_refuses_scalar_longer_than_4096_bytes(void **state) {
  (void)state;
  static const char head[] = "schema: 1\nplugins:\n  - name: ";
  char text[sizeof head + IDX_MAX_SCALAR + 8];
  idx_index ix;
  /* 4096 bytes: loads, and the name is refused as a name. */
  memcpy(text, head, sizeof head - 1);
  memset(text + sizeof head - 1, 'a', IDX_MAX_SCALAR);
  text[sizeof head - 1 + IDX_MAX_SCALAR] = '\n';
  assert_int_equal(load_text("long.yaml", text, sizeof head + IDX_MAX_SCALAR, &ix), 0);
  assert_msg_has(ix.e[0].error, "bad plugin name 'aaaaaaaa");
  assert_true(strlen(ix.e[0].error) < 400);
  idx_free(&ix);
  /* 4097 bytes: the whole file is refused. */
  memset(text + sizeof head - 1, 'a', IDX_MAX_SCALAR + 1);
  text[sizeof head + IDX_MAX_SCALAR] = '\n';
  assert_se_error(load_text("long.yaml", text, sizeof head + IDX_MAX_SCALAR + 1, &ix), SE_CONFIG);
  assert_msg_starts(se_msg(), "long.yaml:3:11: a value of 4097 bytes, longer than the 4096-byte limit");
  assert_empty(&ix);
}

/* An index of n valid entries named p0, p1, ...; *len its size. */
static char *many_entries(size_t n, size_t *len) {
  size_t cap = 64 + n * 160, at = 0;
  char *b = malloc(cap);
  assert_non_null(b);
  at += (size_t)snprintf(b + at, cap - at, "schema: 1\nplugins:\n");
  for (size_t i = 0; i < n; i++)
    at += (size_t)snprintf(b + at, cap - at,
                           "  - name: p%zu\n    file: p%zu.so\n    version: 1\n    abi: \"1.0\"\n"
                           "    sha256: 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n",
                           i, i);
  assert_true(at < cap);
  *len = at;
  return b;
}

static void test_index_accepts_1024_entries_refuses_2000(void **state) {
  (void)state;
  idx_index ix;
  size_t len;
  char *b = many_entries(IDX_MAX_PLUGINS, &len);
  se_clear();
  assert_int_equal(idx_load_buffer("many.yaml", b, len, &ix), 0);
  assert_int_equal(ix.n, IDX_MAX_PLUGINS);
  assert_well_formed(&ix);
  for (size_t i = 0; i < ix.n; i++) assert_null(ix.e[i].error);
  assert_ptr_equal(idx_find(&ix, "p1023"), &ix.e[1023]);
  idx_free(&ix);
  free(b);

  b = many_entries(2000, &len);
  assert_se_error(idx_load_buffer("many.yaml", b, len, &ix), SE_CONFIG);
  /* The 1025th entry starts on line 3 + 1024 * 5. */
  assert_msg_starts(se_msg(), "many.yaml:5123:5: more than 1024 plugins");
  assert_empty(&ix);
  free(b);
}

static void test_index_refuses_nul_bytes(void **state) {
  (void)state;
  unit_blob b = unit_read("index/valid.yaml");
  /* line 5 is "    file: stackdiff.so": a NUL in place of its 's' */
  const char *line5 = strstr((const char *)b.bytes, "    file: stackdiff.so");
  assert_non_null(line5);
  size_t off = (size_t)(line5 - (const char *)b.bytes) + 10;
  b.bytes[off] = '\0';
  idx_index ix;
  se_clear();
  assert_se_error(idx_load_buffer("nul.yaml", (const char *)b.bytes, b.len, &ix), SE_CONFIG);
  assert_msg_starts(se_msg(), "nul.yaml:5:11: NUL byte in the plugin index");
  assert_empty(&ix);
  /* A buffer of nothing but NULs. */
  memset(b.bytes, 0, b.len);
  assert_se_error(idx_load_buffer("nul.yaml", (const char *)b.bytes, b.len, &ix), SE_CONFIG);
  assert_msg_starts(se_msg(), "nul.yaml:1:1: NUL byte");
  unit_blob_free(&b);
}

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rnd(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

/* Loads len bytes (a copy of exactly that size): 0 or SE_CONFIG, never
 * anything else. What loads must be well formed, and an index without
 * problems must survive a write and a reload. */
static void load_any(const char *what, const uint8_t *p, size_t len) {
  unit_blob b = unit_copy(p, len);
  idx_index ix;
  se_clear();
  int rc = idx_load_buffer("fuzz.yaml", (const char *)b.bytes, b.len, &ix);
  unit_blob_free(&b);
  if (rc != 0 && rc != SE_CONFIG) fail_msg("%s: rc %d (%s): %s", what, rc, se_name(rc), se_msg());
  if (rc) {
    assert_msg_starts(se_msg(), "fuzz.yaml:");
    assert_empty(&ix);
    return;
  }
  assert_well_formed(&ix);
  bool clean = true;
  for (size_t i = 0; i < ix.n; i++) clean = clean && !ix.e[i].error;
  if (clean) {
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    assert_non_null(f);
    if (idx_write(f, &ix) != 0) fail_msg("%s: idx_write: %s", what, se_msg());
    fclose(f);
    idx_index again;
    if (idx_load_buffer("rewritten.yaml", out, outlen, &again) != 0)
      fail_msg("%s: reload: %s\n%s", what, se_msg(), out);
    assert_int_equal(again.n, ix.n);
    for (size_t i = 0; i < ix.n; i++) {
      if (again.e[i].error) fail_msg("%s: rewritten entry %zu: %s\n%s", what, i, again.e[i].error, out);
      assert_string_equal(again.e[i].name, ix.e[i].name);
    }
    idx_free(&again);
    free(out);
  }
  idx_free(&ix);
}

static void test_index_every_truncation_loads_or_fails_cleanly(void **state) {
  (void)state;
  unit_blob b = unit_read("index/valid.yaml");
  for (size_t n = 0; n <= b.len; n++) {
    char what[64];
    snprintf(what, sizeof what, "valid.yaml cut at %zu", n);
    load_any(what, b.bytes, n);
  }
  unit_blob_free(&b);
  b = unit_read("index/entry_errors.yaml");
  for (size_t n = 0; n <= b.len; n++) load_any("entry_errors.yaml cut", b.bytes, n);
  unit_blob_free(&b);
}

static void test_index_binary_garbage_fails_cleanly(void **state) {
  (void)state;
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  uint8_t buf[1024];
  int iters = unit_fuzz_iterations(3000);
  for (int it = 0; it < iters; it++) {
    size_t len = (size_t)(rnd(&seed) % sizeof buf);
    /* Any byte (stopped at the first NUL); no NUL (reaches libyaml's UTF-8
     * reader); printable ASCII and newlines (reaches its scanner). */
    for (size_t i = 0; i < len; i++) {
      uint64_t r = rnd(&seed);
      buf[i] = it % 3 == 0   ? (uint8_t)r
               : it % 3 == 1 ? (uint8_t)(1 + r % 255)
               : r % 8 == 0  ? '\n'
                             : (uint8_t)(' ' + r % 95);
    }
    char what[64];
    snprintf(what, sizeof what, "garbage #%d", it);
    load_any(what, buf, len);
  }
}

/* Random sequences of YAML's own tokens: these reach far deeper into the
 * parser than random bytes do. */
static void test_index_token_soup_fails_cleanly(void **state) {
  (void)state;
  static const char *const tok[] = {
      "schema: 1\n",
      "plugins:\n",
      "  - ",
      "- ",
      "name: ",
      "file: ",
      "version: ",
      "abi: ",
      "sha256: ",
      "compat: ",
      "go: ",
      "kernel: ",
      "sonde: ",
      "description: ",
      "\n",
      "  ",
      "    ",
      ": ",
      ", ",
      "[",
      "]",
      "{",
      "}",
      "&a ",
      "*a ",
      "!!str ",
      "!t ",
      "? ",
      "\"",
      "'",
      "\\",
      "#",
      "---\n",
      "...\n",
      "%YAML 1.1\n",
      "|\n",
      ">-\n",
      "\t",
      "1.0",
      "x",
      ">=1.21, <1.28",
      "p",
      "p.so",
      "\xef\xbb\xbf",
      "\xc3\xa9",
      "\xe2\x80\xa8",
      "\"\\0\"",
      "\"\\x41\\u00e9\"",
      "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
  };
  uint64_t seed = 42;
  char buf[2048];
  int iters = unit_fuzz_iterations(3000);
  for (int it = 0; it < iters; it++) {
    size_t len = 0, ntok = (size_t)(rnd(&seed) % 80);
    for (size_t k = 0; k < ntok; k++) {
      const char *t = tok[rnd(&seed) % (sizeof tok / sizeof tok[0])];
      size_t tl = strlen(t);
      if (len + tl > sizeof buf) break;
      memcpy(buf + len, t, tl);
      len += tl;
    }
    char what[64];
    snprintf(what, sizeof what, "token soup #%d", it);
    load_any(what, (const uint8_t *)buf, len);
  }
}

static void test_index_byte_mutations_of_valid_file_fail_cleanly(void **state) {
  (void)state;
  unit_blob orig = unit_read("index/valid.yaml");
  uint8_t *buf = malloc(orig.len + 16);
  assert_non_null(buf);
  uint64_t seed = 7;
  static const char interesting[] = "\n :-[]{}&*!|>'\"#,?%@`\\\t\0\x80\xff";
  int iters = unit_fuzz_iterations(3000);
  for (int it = 0; it < iters; it++) {
    size_t len = orig.len;
    memcpy(buf, orig.bytes, len);
    int edits = 1 + (int)(rnd(&seed) % 4);
    for (int k = 0; k < edits; k++) {
      size_t at = (size_t)(rnd(&seed) % len);
      uint8_t c = (uint8_t)interesting[rnd(&seed) % (sizeof interesting - 1)];
      switch (rnd(&seed) % 3) {
        case 0: buf[at] = c; break; /* replace */
        case 1:                     /* insert */
          if (len < orig.len + 16) {
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = c;
            len++;
          }
          break;
        default: /* delete */
          if (len > 1) {
            memmove(buf + at, buf + at + 1, len - at - 1);
            len--;
          }
      }
    }
    char what[64];
    snprintf(what, sizeof what, "mutation #%d", it);
    load_any(what, buf, len);
  }
  free(buf);
  unit_blob_free(&orig);
}

/* ---- writing ------------------------------------------------------------ */

static char *write_to_string(const idx_index *ix, size_t *len, int *rc) {
  char *out = NULL;
  FILE *f = open_memstream(&out, len);
  assert_non_null(f);
  se_clear();
  *rc = idx_write(f, ix);
  fclose(f);
  return out;
}

static void assert_same_str(const char *a, const char *b) {
  if (!a || !b)
    assert_ptr_equal(a, b);
  else
    assert_string_equal(a, b);
}

static void assert_same_entries(const idx_index *a, const idx_index *b) {
  assert_int_equal(a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    const idx_entry *x = &a->e[i], *y = &b->e[i];
    assert_same_str(x->name, y->name);
    assert_same_str(x->file, y->file);
    assert_same_str(x->version, y->version);
    assert_same_str(x->description, y->description);
    assert_same_str(x->sha256, y->sha256);
    assert_int_equal(x->abi_major, y->abi_major);
    assert_int_equal(x->abi_minor, y->abi_minor);
    assert_null(y->error);
    /* "*" written explicitly comes back as absent: the same range */
    assert_range_text(&y->go, x->go_text);
    assert_range_text(&y->kernel, x->kernel_text);
    assert_range_text(&y->host, x->host_text);
    assert_string_equal(y->go_text, x->go_text);
    assert_string_equal(y->kernel_text, x->kernel_text);
    assert_string_equal(y->host_text, x->host_text);
  }
}

static void test_index_write_round_trip_keeps_every_entry(void **state) {
  (void)state;
  idx_index ix, again;
  assert_int_equal(load("index/valid.yaml", &ix), 0);
  size_t len;
  int rc;
  char *out = write_to_string(&ix, &len, &rc);
  assert_int_equal(rc, 0);
  assert_msg_starts(out, "# sonde plugin compatibility index\nschema: 1\nplugins:\n- name: stackdiff\n");
  assert_msg_has(out, "  abi: \"1.10\"\n"); /* quoted: not the number 1.1 */
  assert_msg_has(out, "  go: \">=1.21, <1.28\"\n");
  assert_true(strstr(out, "sonde: \"*\"") == NULL); /* "*" is left out */
  assert_int_equal(idx_load_buffer("rewritten.yaml", out, len, &again), 0);
  assert_same_entries(&ix, &again);
  /* Writing what was read back gives the same bytes. */
  size_t len2;
  char *out2 = write_to_string(&again, &len2, &rc);
  assert_int_equal(rc, 0);
  assert_int_equal(len2, len);
  assert_memory_equal(out2, out, len);
  free(out2);
  free(out);
  idx_free(&again);
  idx_free(&ix);

  /* No plugins at all. */
  idx_index none = {0};
  out = write_to_string(&none, &len, &rc);
  assert_int_equal(rc, 0);
  assert_string_equal(out, "# sonde plugin compatibility index\nschema: 1\nplugins: []\n");
  assert_int_equal(idx_load_buffer("none.yaml", out, len, &again), 0);
  assert_int_equal(again.n, 0);
  idx_free(&again);
  free(out);
}

static void test_index_write_quotes_values_that_need_it(void **state) {
  (void)state;
  /* Texts that YAML would misread if written plain. */
  static char *const awkward[] = {
      "a: b",
      "# not a comment",
      "- dash",
      "[x]",
      "{x}",
      "null",
      "~",
      "",
      "yes",
      "'single'",
      "\"double\"",
      "back\\slash",
      " leading space",
      "trailing space ",
      "*star",
      "&amp",
      "!tag",
      "%pct",
      "@at",
      "`tick`",
      "| bar",
      "> gt",
      "? q",
      "1.10",
      "0x1F",
      "caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d",
      "tab\there",
      "x, y",
  };
  enum { N = sizeof awkward / sizeof awkward[0] };
  idx_entry e[N];
  char names[N][16];
  memset(e, 0, sizeof e);
  for (size_t i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "p%zu", i);
    e[i].name = names[i];
    /* file must be non-empty and free of control characters */
    e[i].file = awkward[i][0] && !strchr(awkward[i], '\t') ? awkward[i] : "f.so";
    e[i].version = "1";
    e[i].sha256 = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
    e[i].abi_major = 1;
    e[i].abi_minor = (uint32_t)i;
    e[i].go_text = "*";
    e[i].kernel_text = ">=5.4";
    e[i].host_text = "*";
    /* descriptions are one line: no tab */
    e[i].description = strchr(awkward[i], '\t') ? "plain" : awkward[i];
  }
  idx_index ix = {e, N, "built"};
  size_t len;
  int rc;
  char *out = write_to_string(&ix, &len, &rc);
  if (rc) fail_msg("idx_write: %s", se_msg());
  idx_index back;
  if (idx_load_buffer("quoted.yaml", out, len, &back) != 0) fail_msg("reload: %s\n%s", se_msg(), out);
  for (size_t i = 0; i < back.n; i++)
    if (back.e[i].error) fail_msg("entry %zu: %s\n%s", i, back.e[i].error, out);
  assert_same_entries(&ix, &back);
  idx_free(&back);
  free(out);
}

static void test_index_write_refuses_entry_with_error(void **state) {
  (void)state;
  idx_index ix;
  assert_int_equal(load("index/entry_errors.yaml", &ix), 0);
  char *out;
  size_t len;
  int rc;
  out = write_to_string(&ix, &len, &rc);
  assert_se_error(rc, SE_CONFIG);
  assert_msg_has(se_msg(), "entry 2 is invalid");
  assert_msg_has(se_msg(), "unknown key 'colour'");
  assert_int_equal(len, 0); /* nothing written */
  free(out);
  idx_free(&ix);

  idx_entry e = {.name = "p", .file = "p.so", .version = "1"}; /* no sha256 */
  idx_index built = {&e, 1, "built"};
  out = write_to_string(&built, &len, &rc);
  assert_se_error(rc, SE_CONFIG);
  assert_msg_has(se_msg(), "entry 1 (p) lacks");
  free(out);
}

/* ---- the verdict ------------------------------------------------------- */

/* sonde 0.1.0 on Linux 6.1, speaking plugin ABI 1.0, attached to go1.27.3. */
static idx_env env_default(void) {
  idx_env env = {
      .host = {{0, 1, 0}}, .kernel = {{6, 1, 0}}, .have_go = true, .go = {{1, 27, 3}}, .abi_major = 1, .abi_minor = 0};
  return env;
}

typedef struct {
  idx_index ix;
  const idx_entry *stackdiff, *heap_top;
} verdict_fixture;

static int verdict_setup(void **state) {
  verdict_fixture *f = calloc(1, sizeof *f);
  if (!f || load("index/valid.yaml", &f->ix) != 0) return -1;
  f->stackdiff = idx_find(&f->ix, "stackdiff");
  f->heap_top = idx_find(&f->ix, "heap-top");
  *state = f;
  return 0;
}

static int verdict_teardown(void **state) {
  verdict_fixture *f = *state;
  idx_free(&f->ix);
  free(f);
  return 0;
}

static void assert_refused(const idx_entry *e, const idx_env *env, const char *want) {
  char why[512];
  memset(why, 'z', sizeof why);
  if (idx_verdict(e, env, why, sizeof why)) fail_msg("%s loads; expected \"%s\"", e->name, want);
  assert_string_equal(why, want);
}

static void assert_loads(const idx_entry *e, const idx_env *env) {
  char why[512] = "stale";
  if (!idx_verdict(e, env, why, sizeof why)) fail_msg("%s is refused: %s", e->name, why);
  assert_string_equal(why, "");
}

static void test_verdict_loads_when_everything_matches(void **state) {
  verdict_fixture *f = *state;
  idx_env env = env_default();
  assert_loads(f->stackdiff, &env);
  env.abi_minor = 2;
  env.go = (rng_version){{1, 27, 0}};
  assert_loads(f->heap_top, &env); /* ==1.27: the whole series */
  env.go = (rng_version){{1, 27, 9}};
  assert_loads(f->heap_top, &env);
  assert_true(idx_verdict(f->stackdiff, &env, NULL, 0));
}

static void test_verdict_refuses_go_outside_range(void **state) {
  verdict_fixture *f = *state;
  idx_env env = env_default();
  env.go = (rng_version){{1, 19, 13}};
  assert_refused(f->stackdiff, &env, "needs Go >=1.21, <1.28; the target runs go1.19.13");
  env.go = (rng_version){{1, 28, 0}};
  assert_refused(f->stackdiff, &env, "needs Go >=1.21, <1.28; the target runs go1.28");
  env.abi_minor = 2;
  env.go = (rng_version){{1, 26, 4}};
  assert_refused(f->heap_top, &env, "needs Go ==1.27; the target runs go1.26.4");
}

static void test_verdict_ignores_go_without_target(void **state) {
  verdict_fixture *f = *state;
  idx_env env = env_default();
  env.have_go = false;
  env.go = (rng_version){{1, 19, 13}};
  assert_loads(f->stackdiff, &env);
}

static void test_verdict_refuses_abi_major_mismatch_rebuild(void **state) {
  verdict_fixture *f = *state;
  idx_env env = env_default();
  env.abi_major = 2;
  assert_refused(f->stackdiff, &env,
                 "built for plugin ABI 1.0, this sonde speaks 2.0: rebuild the plugin against this sonde's SDK");
  env.abi_major = 0;
  env.abi_minor = 9;
  assert_refused(f->stackdiff, &env,
                 "built for plugin ABI 1.0, this sonde speaks 0.9: rebuild the plugin against this sonde's SDK");
}

static void test_verdict_abi_minor_newer_than_host_upgrade_sonde(void **state) {
  verdict_fixture *f = *state;
  idx_env env = env_default(); /* speaks 1.0; heap-top was built for 1.2 */
  env.go = (rng_version){{1, 27, 0}};
  assert_refused(f->heap_top, &env, "built for plugin ABI 1.2, newer than this sonde's 1.0: upgrade sonde");
  env.abi_minor = 1;
  assert_refused(f->heap_top, &env, "built for plugin ABI 1.2, newer than this sonde's 1.1: upgrade sonde");
  env.abi_minor = 2;
  assert_loads(f->heap_top, &env);
  env.abi_minor = 7; /* an older minor loads in a newer host */
  assert_loads(f->heap_top, &env);
}

static void test_verdict_refuses_old_kernel(void **state) {
  verdict_fixture *f = *state;
  idx_env env = env_default();
  env.kernel = (rng_version){{4, 9, 0}};
  assert_refused(f->stackdiff, &env, "needs Linux kernel >=4.14; this one is 4.9.0");
  env.kernel = (rng_version){{4, 14, 0}};
  assert_loads(f->stackdiff, &env);
}

static void test_verdict_refuses_sonde_version(void **state) {
  verdict_fixture *f = *state;
  idx_env env = env_default();
  env.host = (rng_version){{1, 0, 0}};
  assert_refused(f->stackdiff, &env, "needs sonde >=0.1, <1; this is 1.0.0");
  env.host = (rng_version){{0, 0, 9}};
  assert_refused(f->stackdiff, &env, "needs sonde >=0.1, <1; this is 0.0.9");
}

static void test_verdict_reports_the_entry_error(void **state) {
  (void)state;
  idx_index ix;
  assert_int_equal(load("index/entry_errors.yaml", &ix), 0);
  idx_env env = env_default();
  for (size_t i = 0; i < ix.n; i++) {
    char why[1024];
    bool ok = idx_verdict(&ix.e[i], &env, why, sizeof why);
    if (ix.e[i].error) {
      assert_false(ok);
      assert_string_equal(why, ix.e[i].error);
    }
  }
  assert_true(idx_verdict(idx_find(&ix, "good-one"), &env, NULL, 0));
  idx_free(&ix);
}

static void test_verdict_cuts_why_to_its_buffer(void **state) {
  verdict_fixture *f = *state;
  idx_env env = env_default();
  env.kernel = (rng_version){{4, 9, 0}};
  char why[11];
  memset(why, 'z', sizeof why);
  assert_false(idx_verdict(f->stackdiff, &env, why, sizeof why));
  assert_string_equal(why, "needs Linu");
  assert_false(idx_verdict(f->stackdiff, &env, NULL, 0));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_index_valid_file_loads_every_field),
    cmocka_unit_test(test_index_load_file_reads_the_same_as_load_buffer),
    cmocka_unit_test(test_index_find_returns_entry_by_name),
    cmocka_unit_test(test_index_empty_or_absent_plugins_load_no_entries),
    cmocka_unit_test(test_index_entry_errors_mark_only_that_entry),
    cmocka_unit_test(test_index_duplicate_names_refuse_both_entries),
    cmocka_unit_test(test_index_entry_field_limits),
    cmocka_unit_test(test_index_whole_file_errors_fail_with_position),
    cmocka_unit_test(test_index_missing_file_or_directory_is_io_error),
    cmocka_unit_test(test_index_larger_than_1mib_is_refused),
    cmocka_unit_test(test_index_refuses_alias_bomb_billion_laughs),
    cmocka_unit_test(test_index_refuses_nesting_deeper_than_8),
    cmocka_unit_test(test_index_refuses_scalar_longer_than_4096_bytes),
    cmocka_unit_test(test_index_accepts_1024_entries_refuses_2000),
    cmocka_unit_test(test_index_refuses_nul_bytes),
    cmocka_unit_test(test_index_every_truncation_loads_or_fails_cleanly),
    cmocka_unit_test(test_index_binary_garbage_fails_cleanly),
    cmocka_unit_test(test_index_token_soup_fails_cleanly),
    cmocka_unit_test(test_index_byte_mutations_of_valid_file_fail_cleanly),
    cmocka_unit_test(test_index_write_round_trip_keeps_every_entry),
    cmocka_unit_test(test_index_write_quotes_values_that_need_it),
    cmocka_unit_test(test_index_write_refuses_entry_with_error),
    cmocka_unit_test_setup_teardown(test_verdict_loads_when_everything_matches, verdict_setup, verdict_teardown),
    cmocka_unit_test_setup_teardown(test_verdict_refuses_go_outside_range, verdict_setup, verdict_teardown),
    cmocka_unit_test_setup_teardown(test_verdict_ignores_go_without_target, verdict_setup, verdict_teardown),
    cmocka_unit_test_setup_teardown(test_verdict_refuses_abi_major_mismatch_rebuild, verdict_setup, verdict_teardown),
    cmocka_unit_test_setup_teardown(test_verdict_abi_minor_newer_than_host_upgrade_sonde, verdict_setup,
                                    verdict_teardown),
    cmocka_unit_test_setup_teardown(test_verdict_refuses_old_kernel, verdict_setup, verdict_teardown),
    cmocka_unit_test_setup_teardown(test_verdict_refuses_sonde_version, verdict_setup, verdict_teardown),
    cmocka_unit_test(test_verdict_reports_the_entry_error),
    cmocka_unit_test_setup_teardown(test_verdict_cuts_why_to_its_buffer, verdict_setup, verdict_teardown),
};

UNIT_MAIN(tests)
