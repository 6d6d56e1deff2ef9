/* file.c: behind file.h. */
#include "base/file.h"

#include "base/error.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bf_unsafe_reason(const struct stat *st, bool is_dir, char *why, size_t n) {
  uid_t me = geteuid();
  if (st->st_uid != 0 && st->st_uid != me) {
    snprintf(why, n, "owned by uid %u (neither root nor you, uid %u)", (unsigned)st->st_uid, (unsigned)me);
    return 1;
  }
  if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(is_dir && (st->st_mode & S_ISVTX))) {
    snprintf(why, n, "writable by %s (mode %04o)", (st->st_mode & S_IWOTH) ? "everyone" : "its group",
             (unsigned)(st->st_mode & 07777));
    return 1;
  }
  return 0;
}

/* Each directory above the absolute path p (p is changed), up to /. */
static int unsafe_dirs(char *p, char *bad, size_t badn, char *why, size_t whyn) {
  for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
    if (slash == p) slash[1] = '\0';
    else *slash = '\0';
    struct stat dst;
    if (stat(p, &dst) == 0 && bf_unsafe_reason(&dst, true, why, whyn)) {
      snprintf(bad, badn, "%s", p);
      return 1;
    }
    if (slash == p) break;
  }
  return 0;
}

int bf_unsafe_file(int fd, const char *path, const struct stat *st, char *bad, size_t badn, char *why,
                   size_t whyn) {
  /* a character device (/dev/null, a terminal) holds nothing anyone left
   * behind: its mode says who may talk to it, not who wrote what it holds */
  if (!S_ISCHR(st->st_mode) && bf_unsafe_reason(st, S_ISDIR(st->st_mode), why, whyn)) {
    snprintf(bad, badn, "the file");
    return 1;
  }
  char self[64], real[PATH_MAX];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  ssize_t k = readlink(self, real, sizeof real - 1);
  if (k > 0 && real[0] == '/') {
    real[k] = '\0';
  } else if (!realpath(path, real)) { /* no /proc: the name, once more */
    real[0] = '\0';
  }
  if (real[0] && unsafe_dirs(real, bad, badn, why, whyn)) return 1;
  /* a link is as safe as the directories that hold it */
  struct stat lst;
  if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (realpath(dir, real) && strlen(real) + 3 <= sizeof real) {
      strcat(real, "/x"); /* unsafe_dirs starts at the parent of its path */
      if (unsafe_dirs(real, bad, badn, why, whyn)) return 1;
    }
  }
  return 0;
}

int bf_check_trusted(int fd, const char *path, const struct stat *st, const bf_trust *t) {
  char why[256], bad[PATH_MAX], from[PATH_MAX + 16] = "", msg[PATH_MAX * 3 + 512];
  if (!bf_unsafe_file(fd, path, st, bad, sizeof bad, why, sizeof why)) return 0;
  if (t->source) snprintf(from, sizeof from, " (from %s)", t->source);
  snprintf(msg, sizeof msg, "%s %s%s is unsafe: %s is %s; anyone who can write there can %s. "
           "Fix it (chmod go-w, chown) or pass --allow-unsafe-plugins",
           t->what, path, from, bad, why, t->risk);
  if (!t->allow_unsafe) return se_set(SE_PLUGIN, "%s", msg);
  if (t->warn) {
    char w[sizeof msg + 64];
    snprintf(w, sizeof w, "%s (%s anyway: unsafe files allowed)", msg, t->anyway);
    t->warn(t->payload, w);
  }
  return 0;
}

int bf_read_fd(int fd, size_t max, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) return ENOMEM;
  for (;;) {
    if (n == cap) {
      if (cap > max) break; /* one byte over: enough to refuse */
      size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      char *p = realloc(buf, ncap + 1);
      if (!p) {
        free(buf);
        return ENOMEM;
      }
      buf = p;
      cap = ncap;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      return e;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}
