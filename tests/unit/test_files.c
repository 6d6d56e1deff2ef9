/* test_files.c: the files that decide what sonde runs and the files it
 * writes (issue 22): a sonde.ini left in the working directory by someone
 * else, config and index files others could write, and output files with
 * links planted at their names or writes that fail half-way.
 *
 * Run as root (as the suite is): other users are played by chown to nobody.
 * A test that needs root or the user nobody says it skipped and why. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/util.h>

#include "base/error.h"
#include "base/file.h"
#include "plugins/config.h"
#include "plugins/index.h"
#include "unit.h"

/* ---- a scratch tree ------------------------------------------------------ */

static char g_root[256];

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

static const char *at(const char *rel) {
  static char p[8][4096];
  static int k;
  k = (k + 1) % 8;
  snprintf(p[k], sizeof p[k], "%s/%s", g_root, rel);
  return p[k];
}

static void mkroot(void) {
  snprintf(g_root, sizeof g_root, "/tmp/sonde-files-XXXXXX");
  assert_non_null(mkdtemp(g_root));
  assert_int_equal(chmod(g_root, 0755), 0);
}

static void mkdir_mode(const char *rel, mode_t mode) {
  assert_int_equal(mkdir(at(rel), 0700), 0);
  assert_int_equal(chmod(at(rel), mode), 0); /* chmod: the umask does not apply */
}

static void put(const char *path, const char *text, mode_t mode) {
  FILE *f = fopen(path, "w");
  if (!f) fail_msg("cannot create %s: %s", path, strerror(errno));
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chmod(path, mode), 0);
}

static char *slurp(const char *path) {
  static char buf[1 << 16];
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot read %s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* The user nobody, or skip: the tests that need another user say so. */
static bool other_user(uid_t *uid) {
  struct passwd *pw = getpwnam("nobody");
  if (geteuid() != 0 || !pw) {
    print_message("skipped: needs root and the user nobody, to make files owned by someone else\n");
    return false;
  }
  *uid = pw->pw_uid;
  return true;
}

typedef struct {
  char msg[8][2048];
  int n;
} warnings;
static void collect(void *payload, const char *msg) {
  warnings *w = payload;
  if (w->n < 8) snprintf(w->msg[w->n++], sizeof w->msg[0], "%s", msg);
}
static const char *joined(const warnings *w) {
  static char all[8 * 2048 + 8];
  all[0] = '\0';
  for (int i = 0; i < w->n; i++) strcat(strcat(all, w->msg[i]), "\n");
  return all;
}

static void assert_has(const char *hay, const char *needle) {
  if (!strstr(hay, needle)) fail_msg("'%s' not in: %s", needle, hay);
}

/* Only the working directory and /etc/sonde are looked at. */
static cfg_search in(const char *cwd, const char *etc) {
  static char c[4096], e[4096];
  snprintf(c, sizeof c, "%s", cwd);
  snprintf(e, sizeof e, "%s", etc ? etc : "");
  cfg_search s = {NULL, NULL, NULL, NULL, c, etc ? e : NULL, false};
  return s;
}

/* ---- the working directory's sonde.ini ------------------------------------ */

static void test_cwd_sonde_ini_owned_by_another_user_is_skipped_with_a_message(void **state) {
  (void)state;
  uid_t nobody;
  if (!other_user(&nobody)) return;
  mkroot();
  mkdir_mode("cwd", 0755);
  mkdir_mode("etc", 0755);
  put(at("cwd/sonde.ini"), "[host]\nallow_unsafe_permissions = yes\nplugin_dir = /home/nobody/evil\n", 0644);
  assert_int_equal(chown(at("cwd/sonde.ini"), nobody, (gid_t)-1), 0);
  put(at("etc/sonde.ini"), "[host]\noutput_dir = /var/out\n", 0644);
  cfg_search s = in(at("cwd"), at("etc"));
  cfg_config c;
  warnings w = {0};
  se_clear();
  assert_int_equal(cfg_load(&c, &s, collect, &w), 0);
  /* the next file in the order is read instead */
  assert_string_equal(c.origin, "/etc/sonde");
  assert_int_equal(c.nskipped, 1);
  assert_has(c.skipped[0], at("cwd/sonde.ini"));
  assert_has(c.skipped[0], "owned by uid 65534 (nobody), not by you");
  assert_has(c.skipped[0], "--config");
  assert_has(joined(&w), "owned by uid 65534 (nobody)");
  cfg_host h;
  assert_int_equal(cfg_host_settings(&h, &c, NULL), 0);
  assert_false(h.allow_unsafe_permissions.flag);
  assert_null(h.plugin_dir.value);
  cfg_host_free(&h);
  cfg_free(&c);
  /* cfg_locate agrees; with no other file, the defaults apply */
  char *path;
  const char *origin;
  assert_int_equal(unlink(at("etc/sonde.ini")), 0);
  assert_int_equal(cfg_locate(&path, &origin, &s), 0);
  assert_null(path);
  assert_string_equal(origin, "defaults");
}

static void test_cwd_sonde_ini_of_the_user_is_read_but_never_for_allow_unsafe_permissions(void **state) {
  (void)state;
  mkroot();
  mkdir_mode("cwd", 0755);
  put(at("cwd/sonde.ini"), "[host]\noutput_dir = out\nallow_unsafe_permissions = yes\n", 0644);
  cfg_search s = in(at("cwd"), NULL);
  cfg_config c;
  warnings w = {0};
  assert_int_equal(cfg_load(&c, &s, collect, &w), 0);
  assert_string_equal(c.origin, "working directory");
  assert_int_equal(c.nskipped, 0);
  assert_has(joined(&w), "sonde.ini:3: allow_unsafe_permissions is ignored: it is never taken from the working "
                         "directory's sonde.ini");
  cfg_host h;
  cfg_host_defaults d = {NULL, NULL, NULL, false};
  assert_int_equal(cfg_host_settings(&h, &c, &d), 0);
  assert_string_equal(h.output_dir.value, at("cwd/out")); /* the rest of the file counts */
  assert_false(h.allow_unsafe_permissions.flag);
  assert_has(h.allow_unsafe_permissions.source, "default (");
  assert_has(h.allow_unsafe_permissions.source, "sonde.ini:3 ignored: not taken from the working directory");
  cfg_host_free(&h);
  cfg_free(&c);
  /* the same file given with --config is the user's explicit choice: honoured */
  s.explicit_path = at("cwd/sonde.ini");
  assert_int_equal(cfg_load(&c, &s, NULL, NULL), 0);
  assert_int_equal(cfg_host_settings(&h, &c, &d), 0);
  assert_true(h.allow_unsafe_permissions.flag);
  cfg_host_free(&h);
  cfg_free(&c);
}

static void test_cwd_sonde_ini_in_a_directory_others_can_write_is_skipped(void **state) {
  (void)state;
  mkroot();
  mkdir_mode("cwd", 0777);
  put(at("cwd/sonde.ini"), "[host]\noutput_dir = out\n", 0644);
  cfg_search s = in(at("cwd"), NULL);
  cfg_config c;
  warnings w = {0};
  assert_int_equal(cfg_load(&c, &s, collect, &w), 0);
  assert_string_equal(c.origin, "defaults");
  assert_int_equal(c.nskipped, 1);
  assert_has(c.skipped[0], "writable by everyone (mode 0777)");
  assert_has(c.skipped[0], at("cwd"));
  cfg_free(&c);
  /* and a group-writable file in a safe directory */
  assert_int_equal(chmod(at("cwd"), 0755), 0);
  assert_int_equal(chmod(at("cwd/sonde.ini"), 0664), 0);
  assert_int_equal(cfg_load(&c, &s, NULL, NULL), 0);
  assert_string_equal(c.origin, "defaults");
  assert_has(c.skipped[0], "the file is writable by its group (mode 0664)");
  cfg_free(&c);
}

/* ---- any other sonde.ini ----------------------------------------------------- */

static void test_group_or_world_writable_config_is_refused(void **state) {
  (void)state;
  mkroot();
  mkdir_mode("etc", 0755);
  put(at("etc/sonde.ini"), "[host]\n", 0664);
  cfg_search s = in("", at("etc"));
  cfg_config c;
  se_clear();
  assert_se_error(cfg_load(&c, &s, NULL, NULL), SE_PLUGIN);
  assert_has(se_msg(), "configuration file ");
  assert_has(se_msg(), "(from /etc/sonde) is unsafe: the file is writable by its group (mode 0664)");
  assert_has(se_msg(), "chmod go-w");
  assert_int_equal(chmod(at("etc/sonde.ini"), 0606), 0);
  s.explicit_path = at("etc/sonde.ini");
  assert_se_error(cfg_load(&c, &s, NULL, NULL), SE_PLUGIN);
  assert_has(se_msg(), "(from --config) is unsafe: the file is writable by everyone (mode 0606)");
  /* --allow-unsafe-plugins: read, with a warning */
  s.allow_unsafe = true;
  warnings w = {0};
  assert_int_equal(cfg_load(&c, &s, collect, &w), 0);
  assert_has(joined(&w), "(reading anyway: unsafe files allowed)");
  cfg_free(&c);
  /* a safe file in a world-writable directory is as unsafe */
  s.allow_unsafe = false;
  assert_int_equal(chmod(at("etc/sonde.ini"), 0644), 0);
  assert_int_equal(chmod(at("etc"), 0777), 0);
  assert_se_error(cfg_load(&c, &s, NULL, NULL), SE_PLUGIN);
  assert_has(se_msg(), at("etc"));
  assert_has(se_msg(), "is writable by everyone (mode 0777)");
}

static void test_config_owned_by_another_user_is_refused(void **state) {
  (void)state;
  uid_t nobody;
  if (!other_user(&nobody)) return;
  mkroot();
  put(at("mine.ini"), "[host]\n", 0644);
  assert_int_equal(chown(at("mine.ini"), nobody, (gid_t)-1), 0);
  cfg_config c;
  se_clear();
  assert_se_error(cfg_load_file(&c, at("mine.ini"), "XDG_CONFIG_HOME", NULL, NULL), SE_PLUGIN);
  assert_has(se_msg(), "the file is owned by uid 65534 (neither root nor you, uid 0)");
}

/* ---- the plugin index ---------------------------------------------------------- */

static const char k_index[] = "schema: 1\nplugins:\n";

static void test_index_in_a_world_writable_directory_is_refused_with_a_message(void **state) {
  (void)state;
  mkroot();
  mkdir_mode("share", 0777);
  put(at("share/plugins.yaml"), k_index, 0644);
  bf_trust t = {"plugin index", "--index", "choose the plugins sonde loads", "reading", false, NULL, NULL};
  idx_index ix;
  se_clear();
  assert_se_error(idx_load_trusted(at("share/plugins.yaml"), &t, &ix), SE_PLUGIN);
  char want[4096];
  snprintf(want, sizeof want, "plugin index %s (from --index) is unsafe: %s is writable by everyone (mode 0777); "
           "anyone who can write there can choose the plugins sonde loads. Fix it (chmod go-w, chown) or pass "
           "--allow-unsafe-plugins", at("share/plugins.yaml"), at("share"));
  assert_string_equal(se_msg(), want);
  /* a link to it from a safe directory does not help: the file is where it is */
  mkdir_mode("safe", 0755);
  assert_int_equal(symlink(at("share/plugins.yaml"), at("safe/plugins.yaml")), 0);
  assert_se_error(idx_load_trusted(at("safe/plugins.yaml"), &t, &ix), SE_PLUGIN);
  assert_has(se_msg(), "writable by everyone (mode 0777)");
  /* nor a safe file reached through a link that others can replace */
  put(at("safe/real.yaml"), k_index, 0644);
  assert_int_equal(symlink(at("safe/real.yaml"), at("share/link.yaml")), 0);
  assert_se_error(idx_load_trusted(at("share/link.yaml"), &t, &ix), SE_PLUGIN);
  assert_has(se_msg(), at("share"));
  /* a sticky directory (/tmp) is fine: others cannot replace what is ours */
  assert_int_equal(chmod(at("share"), 01777), 0);
  assert_int_equal(idx_load_trusted(at("share/plugins.yaml"), &t, &ix), 0);
  idx_free(&ix);
  /* allowed: read, with a warning */
  assert_int_equal(chmod(at("share"), 0777), 0);
  warnings w = {0};
  t.allow_unsafe = true, t.warn = collect, t.payload = &w;
  assert_int_equal(idx_load_trusted(at("share/plugins.yaml"), &t, &ix), 0);
  idx_free(&ix);
  assert_has(joined(&w), "(reading anyway: unsafe files allowed)");
  /* sonde index check reads any file: no trust asked */
  t.allow_unsafe = false;
  assert_int_equal(idx_load_file(at("share/plugins.yaml"), &ix), 0);
  idx_free(&ix);
}

/* ---- output files ------------------------------------------------------------ */

static int g_fail_rc;
static char g_fail_msg[1024];
static int fake_fail(sonde_host *h, int rc, const char *fmt, ...) {
  (void)h;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_fail_msg, sizeof g_fail_msg, fmt, ap);
  va_end(ap);
  return g_fail_rc = rc;
}

static size_t g_write_bytes = 6;
static void write_new(FILE *f, void *ctx) {
  (void)ctx;
  for (size_t i = 0; i < g_write_bytes; i += 6) fputs("fresh\n", f);
}

/* What is in dir besides the names given: a temporary file left behind. */
static void assert_only(const char *dir, const char *a, const char *b) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  char extra[512] = "";
  while ((e = readdir(d)) != NULL && !extra[0]) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, a) || (b && !strcmp(e->d_name, b)))
      continue;
    snprintf(extra, sizeof extra, "%s", e->d_name);
  }
  closedir(d);
  if (extra[0]) fail_msg("%s/%s was left behind", dir, extra);
}

static void test_output_links_at_the_old_temporary_names_and_at_the_destination_are_never_followed(void **state) {
  (void)state;
  mkroot();
  mkdir_mode("out", 0755);
  put(at("victim"), "precious\n", 0644);
  sonde_host_api api;
  memset(&api, 0, sizeof api);
  api.fail = fake_fail;
  /* the names sonde used to write through: PATH.tmp.PID (sonde_emit) and
   * PATH.tmp (sonde index update) */
  char old1[4200], old2[4200];
  snprintf(old1, sizeof old1, "%s.tmp.%d", at("out/graph.json"), (int)getpid());
  snprintf(old2, sizeof old2, "%s.tmp", at("out/graph.json"));
  assert_int_equal(symlink(at("victim"), old1), 0);
  assert_int_equal(symlink(at("victim"), old2), 0);
  g_write_bytes = 6;
  assert_int_equal(sonde_emit(NULL, &api, at("out/graph.json"), write_new, NULL), SONDE_OK);
  assert_string_equal(slurp(at("victim")), "precious\n");
  assert_string_equal(slurp(at("out/graph.json")), "fresh\n");
  struct stat st;
  assert_int_equal(lstat(old1, &st), 0);
  assert_true(S_ISLNK(st.st_mode)); /* left alone */
  /* a link at the destination itself is replaced, its target untouched */
  assert_int_equal(symlink(at("victim"), at("out/dest")), 0);
  assert_int_equal(sonde_emit(NULL, &api, at("out/dest"), write_new, NULL), SONDE_OK);
  assert_string_equal(slurp(at("victim")), "precious\n");
  assert_int_equal(lstat(at("out/dest"), &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_string_equal(slurp(at("out/dest")), "fresh\n");
  /* the host's writer is the same one (base/file.h includes sonde/file.h) */
  assert_int_equal(unlink(at("out/dest")), 0);
  assert_int_equal(symlink(at("victim"), at("out/dest")), 0);
  sonde_outfile o;
  assert_int_equal(sonde_outfile_open(&o, at("out/dest")), 0);
  assert_has(o.tmp, at("out/.dest.tmp-"));
  assert_int_equal(write(o.fd, "new\n", 4), 4);
  assert_int_equal(sonde_outfile_commit(&o), 0);
  assert_string_equal(slurp(at("victim")), "precious\n");
  assert_string_equal(slurp(at("out/dest")), "new\n");
  assert_int_equal(unlink(old1), 0); /* ours; then nothing else may be there */
  assert_int_equal(unlink(old2), 0);
  assert_only(at("out"), "graph.json", "dest");
}

static void test_output_write_that_fails_leaves_the_old_file_intact(void **state) {
  (void)state;
  mkroot();
  mkdir_mode("out", 0755);
  put(at("out/report"), "old report\n", 0600);
  sonde_host_api api;
  memset(&api, 0, sizeof api);
  api.fail = fake_fail;
  /* a file size limit: the write fails half-way (EFBIG), as on a full disk */
  struct rlimit old, small = {16 << 10, 0};
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  small.rlim_max = old.rlim_max;
  void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
  g_write_bytes = 1 << 20;
  int rc = sonde_emit(NULL, &api, at("out/report"), write_new, NULL);
  sonde_outfile o;
  int orc = sonde_outfile_open(&o, at("out/report"));
  FILE *f = orc ? NULL : sonde_outfile_stream(&o);
  for (int i = 0; f && i < 100000; i++) fputs("fresh\n", f);
  int crc = f ? sonde_outfile_commit(&o) : -1;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, was);
  g_write_bytes = 6;
  assert_int_equal(rc, SONDE_EIO);
  assert_has(g_fail_msg, "cannot write");
  assert_has(g_fail_msg, "File too large");
  assert_int_equal(orc, 0);
  assert_int_equal(crc, EFBIG);
  assert_string_equal(slurp(at("out/report")), "old report\n");
  assert_only(at("out"), "report", NULL);
  /* a write that works replaces it, keeping its permissions */
  assert_int_equal(sonde_emit(NULL, &api, at("out/report"), write_new, NULL), SONDE_OK);
  assert_string_equal(slurp(at("out/report")), "fresh\n");
  struct stat st;
  assert_int_equal(stat(at("out/report"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* abort: nothing changes */
  assert_int_equal(sonde_outfile_open(&o, at("out/report")), 0);
  assert_int_equal(write(o.fd, "x", 1), 1);
  sonde_outfile_abort(&o);
  assert_string_equal(slurp(at("out/report")), "fresh\n");
  assert_only(at("out"), "report", NULL);
}

static void test_output_new_file_gets_the_umask_mode_and_devices_are_written_in_place(void **state) {
  (void)state;
  mkroot();
  mode_t mask = umask(022);
  sonde_outfile o;
  assert_int_equal(sonde_outfile_open(&o, at("new")), 0);
  assert_int_equal(sonde_outfile_commit(&o), 0);
  umask(mask);
  struct stat st;
  assert_int_equal(stat(at("new"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644); /* as fopen(path, "w") gave */
  /* /dev/null is written, not replaced */
  assert_int_equal(sonde_outfile_open(&o, "/dev/null"), 0);
  assert_true(o.in_place);
  assert_int_equal(write(o.fd, "x", 1), 1);
  assert_int_equal(sonde_outfile_commit(&o), 0);
  assert_int_equal(stat("/dev/null", &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  /* a directory is an error, and nothing is created */
  assert_int_equal(sonde_outfile_open(&o, g_root), EISDIR);
  assert_int_equal(o.fd, -1);
  assert_only(g_root, "new", NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_cwd_sonde_ini_owned_by_another_user_is_skipped_with_a_message, rmroot),
    cmocka_unit_test_teardown(test_cwd_sonde_ini_of_the_user_is_read_but_never_for_allow_unsafe_permissions,
                              rmroot),
    cmocka_unit_test_teardown(test_cwd_sonde_ini_in_a_directory_others_can_write_is_skipped, rmroot),
    cmocka_unit_test_teardown(test_group_or_world_writable_config_is_refused, rmroot),
    cmocka_unit_test_teardown(test_config_owned_by_another_user_is_refused, rmroot),
    cmocka_unit_test_teardown(test_index_in_a_world_writable_directory_is_refused_with_a_message, rmroot),
    cmocka_unit_test_teardown(
        test_output_links_at_the_old_temporary_names_and_at_the_destination_are_never_followed, rmroot),
    cmocka_unit_test_teardown(test_output_write_that_fails_leaves_the_old_file_intact, rmroot),
    cmocka_unit_test_teardown(test_output_new_file_gets_the_umask_mode_and_devices_are_written_in_place, rmroot),
};

UNIT_MAIN(tests)
