/* plugin_env.h: what every plugin-related command sets up first: the
 * configuration file, the effective host settings, and the index.
 *
 * Default paths are relocatable: an installed sonde finds its index and
 * plugins relative to its own executable (PREFIX/bin/sonde ->
 * PREFIX/share/sonde/plugins.yaml, PREFIX/lib/sonde/plugins); a sonde run
 * from its build tree uses the build tree's. */
#ifndef SONDE_SESSION_PLUGIN_ENV_H
#define SONDE_SESSION_PLUGIN_ENV_H

#include <stdbool.h>

#include "session/target.h"
#include "plugins/config.h"
#include "plugins/index.h"
#include "plugins/loader.h"

typedef struct {
  const char *config;     /* --config FILE */
  const char *index;      /* --index FILE */
  const char *plugin_dir; /* --plugin-dir DIR */
  bool allow_unsafe;      /* --allow-unsafe-plugins */
} penv_opts;

typedef struct {
  cfg_config cfg;
  cfg_host host;
  const char *index_path, *plugin_dir, *output_dir; /* effective: options, then sonde.ini, then defaults */
  const char *index_src, *plugin_dir_src;           /* where each came from */
  bool allow_unsafe;
  idx_index ix;
  bool have_ix;
} penv;

/* Reads sonde.ini (warnings to stderr) and, when load_index, the index.
 * On failure se_msg() says what and where. */
int penv_open(penv *e, const penv_opts *o, bool load_index);
void penv_close(penv *e);
/* The plugin file of an entry: absolute, or under the plugin directory. */
void penv_plugin_path(const penv *e, const char *file, char *out, size_t n);
/* This host's versions, for idx_verdict; have_go stays false. */
void penv_host_env(idx_env *env);
/* Adds the target's Go version (when sonde can read it) to env. */
void penv_add_go(idx_env *env, const gr_program *prog);
/* Every check of an entry's file short of loading it (loader.h's, then
 * that its note matches the entry): the open file, its note and its path. */
int penv_check_plugin(const penv *e, const idx_entry *entry, int *fd, plg_note *note, char *path, size_t n);
/* With a pid (-p; 0: none), reads the target's executable (no stop) into t
 * and adds its Go version to env; *have tells whether t must be freed. */
int penv_open_target(pid_t pid, ses_target *t, bool *have, idx_env *env);
/* Every check, then plg_load: plugin `name` of the index, judged in env.
 * On failure p may hold a half-loaded plugin: plg_unload it (or close p->fd). */
int penv_load_plugin(penv *e, const char *name, const idx_env *env, plg_plugin *p);
/* Prints "sonde: warning: MSG" (a cfg_warn_fn). */
void penv_warn(void *payload, const char *msg);

#endif
