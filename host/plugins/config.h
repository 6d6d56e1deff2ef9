/* config.h: sonde.ini, the host's settings and each plugin's own section.
 *
 * One file is read, the first found in a fixed order (cfg_locate). [host] is
 * checked here; a plugin's section [NAME] is handed to that plugin as written,
 * each key keeping its line so that a plugin's complaint can cite FILE:LINE.
 * inih parses, but through a reader of ours that hands it whole lines only:
 * line numbers are exact and a long line is refused, never cut in two. */
#ifndef SONDE_PLUGINS_CONFIG_H
#define SONDE_PLUGINS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* A larger file is refused (SE_CONFIG): sonde.ini is a few dozen lines. */
#define CFG_MAX_FILE_SIZE ((size_t)1 << 20)
/* At most this many files passed over are kept in cfg_config.skipped. */
#define CFG_MAX_SKIPPED 4
/* At most this many warnings are passed on per file, then one "N more". */
#define CFG_MAX_WARNINGS 50

/* Warnings (unknown key or section, duplicate key) go here, one complete
 * message each ("FILE:LINE: ..."), never to stderr. May be NULL. */
typedef void (*cfg_warn_fn)(void *payload, const char *msg);

/* One `key = value`. Keys and values are taken literally after inih strips
 * the spaces around them and a " ; comment" after the value (no quoting). */
typedef struct {
  char *section, *key, *value;
  int line; /* 1-based line in cfg_config.path */
} cfg_entry;

/* A section as first seen, for cfg_check_sections. */
typedef struct {
  char *name;
  int line; /* its first [name] header */
} cfg_section;

typedef struct {
  char *path;         /* the file read (as named by the caller), NULL when none was found */
  char *dir;          /* absolute directory of path: relative paths in the file are relative to it */
  const char *origin; /* "--config", "SONDE_CONFIG", "working directory", "XDG_CONFIG_HOME",
                         "/etc/sonde", "buffer" or "defaults" (static strings) */
  cfg_entry *e;       /* in order of first appearance; a key set twice holds the last value and line */
  size_t n;
  cfg_section *sec;
  size_t nsec;
  char *skipped[CFG_MAX_SKIPPED]; /* cfg_load: files found but passed over, each "PATH ...: why and the fix" */
  size_t nskipped;
} cfg_config;

/* Where to look, so that the lookup runs on any directories (tests) and
 * reads no environment of its own. NULL or "" skips a step. */
typedef struct {
  const char *explicit_path;    /* -c/--config FILE */
  const char *sonde_config_env; /* $SONDE_CONFIG */
  const char *xdg_config_home;  /* $XDG_CONFIG_HOME (ignored unless absolute, as the XDG spec says) */
  const char *home;             /* $HOME, for $HOME/.config when XDG_CONFIG_HOME is unset */
  const char *cwd;              /* the working directory; relative explicit and SONDE_CONFIG
                                   paths are taken relative to it too */
  const char *etc_dir;          /* "/etc/sonde" */
  bool allow_unsafe;            /* --allow-unsafe-plugins: an unsafe file is read with a warning (but the
                                   working directory's file is still passed over when it is not yours) */
} cfg_search;

/* The process's own values: explicit_path (may be NULL), $SONDE_CONFIG,
 * $XDG_CONFIG_HOME and $HOME (through secure_getenv: ignored when sonde runs
 * with raised privileges, since the file names the plugins it loads), cwd
 * "." and /etc/sonde. */
void cfg_search_from_env(cfg_search *out, const char *explicit_path);

/* The first file of: 1) s->explicit_path, 2) $SONDE_CONFIG, 3) CWD/sonde.ini,
 * 4) XDG_CONFIG_HOME/sonde/sonde.ini, or HOME/.config/sonde/sonde.ini,
 * 5) ETC_DIR/sonde.ini. Only the first found counts. An explicit path or
 * SONDE_CONFIG naming no file is SE_IO; the other steps are skipped when
 * their file is absent. *out_path (malloc'd) is NULL and *out_origin is
 * "defaults" when there is no file at all, which is not an error.
 * Who wrote it (config_find.c): CWD/sonde.ini is passed over (a warning,
 * cfg_config.skipped) unless it is owned by the user (geteuid) and neither
 * it nor a directory above it is writable by others; any other file, and
 * every directory above it, must be owned by root or the user and writable
 * by neither group nor others, else SE_PLUGIN (a warning with
 * s->allow_unsafe). The checks are made on the descriptor that is read. */
int cfg_locate(char **out_path, const char **out_origin, const cfg_search *s);

/* cfg_locate, then cfg_load_file; no file gives an empty configuration with
 * origin "defaults". */
int cfg_load(cfg_config *out, const cfg_search *s, cfg_warn_fn warn, void *payload);

/* Reads and parses one file; origin (a static string, cfg_locate's
 * *out_origin; NULL means "--config") goes into messages and out->origin.
 * SE_IO when it cannot be read, SE_CONFIG when it is malformed
 * ("FILE:LINE: ..."), SE_NOMEM. On failure *out is empty (and cfg_free on it
 * is harmless); warnings are passed on only on success, so that a refused file
 * gives one message. The file is checked as cfg_locate says (origin
 * "working directory": refused with SE_CONFIG when not the user's).
 * allow_unsafe_permissions is never taken from the working directory's file:
 * cfg_host_settings ignores it there and loading warns. Lines longer than inih's buffer (198 bytes in Debian's
 * build) are refused rather than split. */
int cfg_load_file(cfg_config *out, const char *path, const char *origin, cfg_warn_fn warn, void *payload);

/* The same for len bytes in memory (need not be NUL-terminated). name is used
 * in messages and as the file's path: relative paths in the file resolve
 * against its directory (the working directory when name has no '/'). */
int cfg_load_buffer(cfg_config *out, const char *name, const char *buf, size_t len, cfg_warn_fn warn,
                    void *payload);

/* Warns "FILE:LINE: unknown section [x] (known: host, a, b)" for each section
 * that is neither "host" nor one of the n plugin names. */
void cfg_check_sections(const cfg_config *c, const char *const *names, size_t n, cfg_warn_fn warn,
                        void *payload);

/* The entry for key in [section], or NULL. */
const cfg_entry *cfg_get(const cfg_config *c, const char *section, const char *key);

/* Defaults for [host], chosen by the caller; a NULL path means no default. */
typedef struct {
  const char *plugin_dir, *index, *output_dir;
  bool allow_unsafe_permissions;
} cfg_host_defaults;

typedef struct {
  char *value;      /* a path made absolute, "true"/"false", or NULL (no value, no default) */
  bool flag;        /* boolean settings: the value as a bool */
  char source[512]; /* "default" or "FILE:LINE" (a long FILE keeps its end: ".../sonde.ini:3") */
} cfg_setting;

typedef struct {
  cfg_setting plugin_dir, index, output_dir, allow_unsafe_permissions;
} cfg_host;

/* The effective [host] settings: the file's value, else the default. The
 * values were validated when the file was loaded, so this fails only with
 * SE_NOMEM; *out is then empty. d may be NULL (no defaults). */
int cfg_host_settings(cfg_host *out, const cfg_config *c, const cfg_host_defaults *d);
void cfg_host_free(cfg_host *h);

void cfg_free(cfg_config *c);

#endif
