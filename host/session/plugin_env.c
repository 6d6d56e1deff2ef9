/* plugin_env.c: configuration, settings and index for the plugin commands. */
#include "session/plugin_env.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/plugin.h>

#include "base/error.h"
#include "base/sys.h"
#include "plugins/loader.h"

void penv_warn(void *payload, const char *msg) {
  (void)payload;
  fprintf(stderr, "sonde: warning: %s\n", msg);
}

static bool exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

/* The default index and plugin directory, relative to the executable. */
static void defaults(char *index, char *plugin_dir, size_t n) {
  char exe[PATH_MAX];
  ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[k > 0 ? k : 0] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0'; /* PREFIX/bin */
  bool fits = snprintf(index, n, "%s/../%s/sonde/plugins.yaml", exe, SONDE_REL_DATADIR) < (int)n;
  fits = fits && snprintf(plugin_dir, n, "%s/../%s/sonde/plugins", exe, SONDE_REL_LIBDIR) < (int)n;
  if (fits && exists(index)) {
    char r[PATH_MAX];
    if (realpath(index, r)) snprintf(index, n, "%s", r);
    if (realpath(plugin_dir, r)) snprintf(plugin_dir, n, "%s", r);
    return;
  }
  snprintf(index, n, "%s", SONDE_BUILD_INDEX);
  snprintf(plugin_dir, n, "%s", SONDE_BUILD_PLUGIN_DIR);
}

int penv_open(penv *e, const penv_opts *o, bool load_index) {
  memset(e, 0, sizeof *e);
  cfg_search s;
  cfg_search_from_env(&s, o->config);
  s.allow_unsafe = o->allow_unsafe; /* from the command line only: a file cannot vouch for itself */
  int rc = cfg_load(&e->cfg, &s, penv_warn, NULL);
  if (rc) return rc;
  static char dindex[PATH_MAX], ddir[PATH_MAX];
  defaults(dindex, ddir, sizeof dindex);
  cfg_host_defaults d = {.plugin_dir = ddir, .index = dindex, .output_dir = ".", .allow_unsafe_permissions = false};
  if ((rc = cfg_host_settings(&e->host, &e->cfg, &d))) return rc;
  e->index_path = o->index ? o->index : e->host.index.value;
  e->index_src = o->index ? "--index" : e->host.index.source;
  e->plugin_dir = o->plugin_dir ? o->plugin_dir : e->host.plugin_dir.value;
  e->plugin_dir_src = o->plugin_dir ? "--plugin-dir" : e->host.plugin_dir.source;
  e->output_dir = e->host.output_dir.value ? e->host.output_dir.value : ".";
  e->allow_unsafe = o->allow_unsafe || e->host.allow_unsafe_permissions.flag;
  if (!load_index) return 0;
  if (!e->index_path) return se_set(SE_CONFIG, "no plugin index configured: set [host] index in sonde.ini or pass --index");
  if (!exists(e->index_path))
    return se_set(SE_CONFIG, "the plugin index %s (from %s) does not exist. Install sonde (cmake --install), "
                  "pass --index FILE, or create one with `sonde index update --index FILE PLUGIN.so`",
                  e->index_path, e->index_src);
  bf_trust t = {"plugin index", e->index_src, "choose the plugins sonde loads", "reading", e->allow_unsafe, penv_warn,
                NULL};
  if ((rc = idx_load_trusted(e->index_path, &t, &e->ix))) return rc;
  e->have_ix = true;
  /* Sections of sonde.ini that name no plugin are probably typos. */
  const char **names = calloc(e->ix.n + 1, sizeof *names);
  size_t nn = 0;
  if (names) {
    for (size_t i = 0; i < e->ix.n; i++)
      if (e->ix.e[i].name) names[nn++] = e->ix.e[i].name;
    cfg_check_sections(&e->cfg, names, nn, penv_warn, NULL);
    free(names);
  }
  return 0;
}

void penv_close(penv *e) {
  if (e->have_ix) idx_free(&e->ix);
  cfg_host_free(&e->host);
  cfg_free(&e->cfg);
  memset(e, 0, sizeof *e);
}

void penv_plugin_path(const penv *e, const char *file, char *out, size_t n) {
  if (file[0] == '/' || !e->plugin_dir) snprintf(out, n, "%s", file);
  else snprintf(out, n, "%s/%s", e->plugin_dir, file);
}

void penv_host_env(idx_env *env) {
  memset(env, 0, sizeof *env);
  rng_version_parse(SONDE_VERSION, &env->host);
  char release[65];
  sys_kernel_release(release, sizeof release);
  if (rng_version_parse(release, &env->kernel) != 0) se_clear();
  env->abi_major = SONDE_ABI_MAJOR;
  env->abi_minor = SONDE_ABI_MINOR;
}

int penv_check_plugin(const penv *e, const idx_entry *entry, int *fd, plg_note *note, char *path, size_t n) {
  penv_plugin_path(e, entry->file ? entry->file : "", path, n);
  int rc = plg_check_file(path, entry->sha256, e->allow_unsafe, penv_warn, NULL, fd, note, NULL);
  if (rc) return rc;
  if (strcmp(note->name, entry->name) != 0 || note->abi_version != SONDE_ABI_MAKE(entry->abi_major, entry->abi_minor)) {
    close(*fd);
    *fd = -1;
    return se_set(SE_PLUGIN, "the index entry '%s' (ABI %u.%u) does not describe %s (its note: '%s', ABI %u.%u): "
                  "run `sonde index update`", entry->name, entry->abi_major, entry->abi_minor, path, note->name,
                  SONDE_ABI_MAJOR_OF(note->abi_version), SONDE_ABI_MINOR_OF(note->abi_version));
  }
  return 0;
}

int penv_open_target(pid_t pid, ses_target *t, bool *have, idx_env *env) {
  *have = false;
  if (pid <= 0) return 0;
  *have = true;
  int rc = ses_open_target(pid, t);
  if (rc) return rc;
  penv_add_go(env, &t->prog);
  return 0;
}

void penv_add_go(idx_env *env, const gr_program *prog) {
  if (rng_version_parse(prog->bi.go_version, &env->go) == 0) env->have_go = true;
  else se_clear(); /* a version sonde cannot read: the ranges cannot judge it */
}

int penv_load_plugin(penv *e, const char *name, const idx_env *env, plg_plugin *p) {
  memset(p, 0, sizeof *p);
  p->fd = -1;
  const idx_entry *entry = idx_find(&e->ix, name);
  if (!entry) return se_set(SE_USAGE, "no plugin '%s' in the index %s; `sonde plugins` lists them", name, e->index_path);
  char why[1024], path[PATH_MAX];
  if (!idx_verdict(entry, env, why, sizeof why)) return se_set(SE_PLUGIN, "plugin %s refused: %s", name, why);
  plg_note note;
  int fd, rc = penv_check_plugin(e, entry, &fd, &note, path, sizeof path);
  if (rc) return rc;
  rc = plg_load(p, name, fd, &note, &e->cfg); /* p owns fd from here on */
  p->output_dir = e->output_dir;
  return rc;
}
