/* config_find.c: which sonde.ini is read (cfg_locate, cfg_load) and whether
 * its writer may be trusted with what it decides (the plugins sonde loads).
 *
 * Each file is opened once, and its checks (base/file.h) are made on the
 * descriptor that is then read. The working directory's sonde.ini is read
 * only when it is the user's own in directories nobody else can write; else
 * it is passed over with a warning, and the list of such files is kept in
 * cfg_config.skipped for `sonde config`. */
#include "plugins/config.h"
#include "plugins/config_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"

enum { SKIPPED = 1 }; /* open_config: the working directory's file is not used */

/* Why the working directory's file (open as fd) is not used, or 0. Anyone
 * can leave a sonde.ini in a directory someone else runs sonde in, so it
 * must be the user's own, in directories only the user or root can write. */
static int cwd_untrusted(int fd, const char *path, const struct stat *st, char *why, size_t n) {
  char bad[PATH_MAX], reason[256];
  uid_t me = geteuid();
  if (st->st_uid != me) {
    struct passwd *pw = getpwuid(st->st_uid);
    snprintf(why, n, "%s is owned by uid %u%s%s%s, not by you (uid %u): a sonde.ini in the working directory is "
             "read only when it is yours. To use it anyway, check it, chown it to you and pass --config %s",
             path, (unsigned)st->st_uid, pw ? " (" : "", pw ? pw->pw_name : "", pw ? ")" : "", (unsigned)me, path);
    return 1;
  }
  if (!bf_unsafe_file(fd, path, st, bad, sizeof bad, reason, sizeof reason)) return 0;
  snprintf(why, n, "%s: %s is %s, so others could have written it: a sonde.ini in the working directory is read "
           "only when nobody else can change it. Fix that (chown, chmod go-w) or pass --config %s", path, bad, reason, path);
  return 1;
}

/* Opens path for reading as sonde.ini from origin: 0 with *fd and *st;
 * SKIPPED with why (the working directory's file, not the user's); or an
 * error. Every check is made on the descriptor that is then read. */
static int open_config(const char *path, const char *origin, bool allow_unsafe, cfg_warn_fn warn, void *payload,
                       int *fd, struct stat *st, char *why, size_t whyn) {
  *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (*fd < 0) return se_set(SE_IO, "cannot read %s (from %s): %s", path, origin, strerror(errno));
  int rc = 0;
  if (fstat(*fd, st) != 0) rc = se_set(SE_IO, "cannot read %s (from %s): %s", path, origin, strerror(errno));
  else if (S_ISDIR(st->st_mode)) rc = se_set(SE_IO, "cannot read %s (from %s): it is a directory", path, origin);
  else if (cfg__from_cwd(origin)) rc = cwd_untrusted(*fd, path, st, why, whyn) ? SKIPPED : 0;
  else if (strcmp(origin, "buffer"))
    rc = bf_check_trusted(*fd, path, st, &(bf_trust){"configuration file", origin, "choose the plugins sonde loads",
                                                     "reading", allow_unsafe, warn, payload});
  if (rc) {
    close(*fd);
    *fd = -1;
  }
  return rc;
}

static int read_config(cfg_config *out, int fd, const struct stat *st, const char *path, const char *origin,
                       cfg_warn_fn warn, void *payload) {
  char *buf = NULL;
  size_t n = 0;
  int rc, e = S_ISREG(st->st_mode) && (uint64_t)st->st_size > CFG_MAX_FILE_SIZE ? EFBIG
              : bf_read_fd(fd, CFG_MAX_FILE_SIZE, &buf, &n);
  if (e == EFBIG || n > CFG_MAX_FILE_SIZE)
    rc = se_set(SE_CONFIG, "%s: larger than sonde.ini may be (1 MiB); is it the right file?", path);
  else if (e == ENOMEM) rc = se_set(SE_NOMEM, "out of memory reading %s", path);
  else if (e) rc = se_set(SE_IO, "cannot read %s (from %s): %s", path, origin, strerror(e));
  else rc = cfg__load(out, path, origin, buf, n, warn, payload);
  free(buf);
  return rc;
}

int cfg_load_file(cfg_config *out, const char *path, const char *origin, cfg_warn_fn warn, void *payload) {
  memset(out, 0, sizeof *out);
  if (!origin) origin = "--config";
  int fd;
  struct stat st;
  char why[PATH_MAX * 2 + 512];
  int rc = open_config(path, origin, false, warn, payload, &fd, &st, why, sizeof why);
  if (rc == SKIPPED) return se_set(SE_CONFIG, "%s", why);
  if (rc) return rc;
  rc = read_config(out, fd, &st, path, origin, warn, payload);
  close(fd);
  return rc;
}

/* ---- where the file is -------------------------------------------------- */

static bool given(const char *s) { return s && *s; }

void cfg_search_from_env(cfg_search *out, const char *explicit_path) {
  memset(out, 0, sizeof *out);
  out->explicit_path = explicit_path;
  out->sonde_config_env = secure_getenv("SONDE_CONFIG");
  out->xdg_config_home = secure_getenv("XDG_CONFIG_HOME");
  out->home = secure_getenv("HOME");
  out->cwd = ".";
  out->etc_dir = "/etc/sonde";
}

typedef struct {
  const cfg_search *s;
  cfg_warn_fn warn;
  void *payload;
  char *skipped[CFG_MAX_SKIPPED]; /* what was passed over and why */
  size_t nskipped;
  int fd; /* the chosen file, open and checked */
  struct stat st;
} finder;

/* A candidate: 1 taken (f->fd open), 0 absent or passed over, or an error.
 * A named one (--config, SONDE_CONFIG) must exist; a default one is skipped
 * when absent, but not when it exists and cannot be looked at. */
static int try_file(finder *f, char *p, const char *origin, bool named) {
  struct stat st;
  if (!named && stat(p, &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) return 0;
  char why[PATH_MAX * 2 + 512];
  int rc = open_config(p, origin, f->s->allow_unsafe, f->warn, f->payload, &f->fd, &f->st, why, sizeof why);
  if (rc == SKIPPED) {
    if (f->warn) f->warn(f->payload, why);
    if (f->nskipped < CFG_MAX_SKIPPED && !(f->skipped[f->nskipped] = strdup(why)))
      return se_set(SE_NOMEM, "out of memory locating sonde.ini");
    f->nskipped++;
    return 0;
  }
  return rc ? rc : 1;
}

static int find(finder *f, char **out_path, const char **out_origin) {
  const cfg_search *s = f->s;
  *out_path = NULL;
  *out_origin = "defaults";
  f->fd = -1;
  bool named = given(s->explicit_path) || given(s->sonde_config_env);
  const char *name = given(s->explicit_path) ? s->explicit_path : s->sonde_config_env;
  struct { const char *dir, *rel, *origin; } d[4] = {{0}};
  if (named) {
    bool rel = name[0] != '/' && given(s->cwd) && strcmp(s->cwd, ".");
    d[0].dir = rel ? s->cwd : NULL, d[0].rel = name;
    d[0].origin = given(s->explicit_path) ? "--config" : "SONDE_CONFIG";
  } else {
    if (given(s->cwd)) d[0].dir = s->cwd, d[0].rel = "sonde.ini", d[0].origin = "working directory";
    if (given(s->xdg_config_home) && s->xdg_config_home[0] == '/')
      d[1].dir = s->xdg_config_home, d[1].rel = "sonde/sonde.ini", d[1].origin = "XDG_CONFIG_HOME";
    else if (given(s->home))
      d[1].dir = s->home, d[1].rel = ".config/sonde/sonde.ini", d[1].origin = "XDG_CONFIG_HOME";
    if (given(s->etc_dir)) d[2].dir = s->etc_dir, d[2].rel = "sonde.ini", d[2].origin = "/etc/sonde";
  }
  for (int i = 0; i < 3; i++) {
    if (!d[i].rel) continue;
    char *p = d[i].dir ? cfg__join(d[i].dir, d[i].rel) : strdup(d[i].rel);
    if (!p) return se_set(SE_NOMEM, "out of memory locating sonde.ini");
    int rc = try_file(f, p, d[i].origin, named);
    if (rc == 1) {
      *out_path = p;
      *out_origin = d[i].origin;
      return 0;
    }
    free(p);
    if (rc) return rc;
  }
  return 0;
}

static void finder_free(finder *f) {
  for (size_t i = 0; i < f->nskipped && i < CFG_MAX_SKIPPED; i++) free(f->skipped[i]);
  if (f->fd >= 0) close(f->fd);
}

int cfg_locate(char **out_path, const char **out_origin, const cfg_search *s) {
  finder f = {.s = s, .fd = -1};
  int rc = find(&f, out_path, out_origin);
  finder_free(&f);
  return rc;
}

int cfg_load(cfg_config *out, const cfg_search *s, cfg_warn_fn warn, void *payload) {
  char *path;
  const char *origin;
  memset(out, 0, sizeof *out);
  finder f = {.s = s, .warn = warn, .payload = payload, .fd = -1};
  int rc = find(&f, &path, &origin);
  if (!rc && !path) out->origin = "defaults";
  else if (!rc) rc = read_config(out, f.fd, &f.st, path, origin, warn, payload);
  if (!rc) { /* hand the list of files passed over to the configuration */
    memcpy(out->skipped, f.skipped, sizeof f.skipped);
    out->nskipped = f.nskipped < CFG_MAX_SKIPPED ? f.nskipped : CFG_MAX_SKIPPED;
    f.nskipped = 0;
  }
  free(path);
  finder_free(&f);
  return rc;
}

