/* sonde/file.h: writing an output file so that nothing is lost and no link
 * is followed; one implementation for the host (host/base/file.h) and the
 * plugins (through <sonde/util.h>). Header-only (static inline), not part of
 * the ABI. Needs POSIX 2008 (build with -std=gnu11 or _POSIX_C_SOURCE=200809L)
 * and Linux's getrandom.
 *
 * The bytes go to a new file beside the destination with an unpredictable
 * name (.NAME.tmp-<16 hex>, O_CREAT|O_EXCL|O_NOFOLLOW: a link or file planted
 * there is never opened), which is synced and renamed over the destination:
 * the destination is the old file or the whole new one, and on any error the
 * temporary file is removed and the old file is left as it was.
 * - A destination that is a symlink is replaced by the new file (as mv does);
 *   the file it pointed to is not written. The exception is a link owned by
 *   root or by us to a terminal, pipe or device (/dev/stdout): written there.
 * - A destination that is a device or FIFO (/dev/null, a pipe) is written in
 *   place: renaming over it would replace the node.
 * - The new file gets the mode fopen(path, "w") gives (0666 less the umask),
 *   or the old file's permission bits when it replaces a regular file. */
#ifndef SONDE_FILE_H
#define SONDE_FILE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SONDE_OUTFILE_PATH_MAX 4096

typedef struct {
  int fd;       /* write here (or through f); -1 when not open */
  FILE *f;      /* set by sonde_outfile_stream; commit and abort close it */
  int in_place; /* 1: the destination is a device or FIFO, written directly */
  const char *path;
  char tmp[SONDE_OUTFILE_PATH_MAX + 64]; /* the temporary file ("" when in place) */
} sonde_outfile;

/* 16 hex digits nobody can guess; getrandom, or the clock and pid if the
 * kernel has none (the name only has to differ: O_EXCL does the rest). */
static inline void sonde_outfile_random_(char out[17]) {
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)out;
  }
  snprintf(out, 17, "%016llx", (unsigned long long)r);
}

/* Opens path for writing as described above. 0, or an errno value with
 * o->fd == -1 and nothing created. */
static inline int sonde_outfile_open(sonde_outfile *o, const char *path) {
  memset(o, 0, sizeof *o);
  o->fd = -1;
  o->path = path;
  size_t plen = strlen(path);
  if (!plen || path[plen - 1] == '/') return EISDIR;
  if (plen >= SONDE_OUTFILE_PATH_MAX) return ENAMETOOLONG;
  struct stat st, tst;
  int have = lstat(path, &st) == 0;
  if (!have && errno != ENOENT) return errno;
  int oflags = O_WRONLY | O_NOCTTY | O_CLOEXEC;
  if (have && S_ISLNK(st.st_mode) && (st.st_uid == 0 || st.st_uid == geteuid()) && stat(path, &tst) == 0 &&
      (S_ISCHR(tst.st_mode) || S_ISFIFO(tst.st_mode) || S_ISBLK(tst.st_mode) || S_ISSOCK(tst.st_mode)))
    o->in_place = 1; /* /dev/stdout and the like: a link of root's or ours to a stream */
  else if (have && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
    o->in_place = 1, oflags |= O_NOFOLLOW;
  if (o->in_place) {
    o->fd = open(path, oflags | O_TRUNC);
    if (o->fd < 0 && errno == EINVAL) o->fd = open(path, oflags); /* a FIFO or socket refuses O_TRUNC on some systems */
    return o->fd < 0 ? errno : 0;
  }
  if (have && S_ISDIR(st.st_mode)) return EISDIR;
  const char *slash = strrchr(path, '/');
  size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = path + dlen;
  size_t blen = strlen(base);
  if (blen > 200) blen = 200; /* the temporary name must fit NAME_MAX too */
  for (int i = 0; i < 100; i++) {
    char rnd[17];
    sonde_outfile_random_(rnd);
    snprintf(o->tmp, sizeof o->tmp, "%.*s.%.*s.tmp-%s", (int)dlen, path, (int)blen, base, rnd);
    o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0666);
    if (o->fd >= 0 || errno != EEXIST) break;
  }
  if (o->fd < 0) {
    int e = errno;
    o->tmp[0] = '\0';
    return e;
  }
  if (have && S_ISREG(st.st_mode)) (void)fchmod(o->fd, st.st_mode & 0777); /* keep the old file's permissions */
  return 0;
}

/* A stdio stream on o (fdopen); NULL with errno on failure (o stays open:
 * abort it). */
static inline FILE *sonde_outfile_stream(sonde_outfile *o) {
  if (!o->f && o->fd >= 0) o->f = fdopen(o->fd, "w");
  return o->f;
}

/* Drops what was written: the temporary file is removed, the destination
 * is untouched (in place, what was written stays written). */
static inline void sonde_outfile_abort(sonde_outfile *o) {
  if (o->f) fclose(o->f);
  else if (o->fd >= 0) close(o->fd);
  o->f = NULL;
  o->fd = -1;
  if (o->tmp[0]) (void)unlink(o->tmp);
  o->tmp[0] = '\0';
}

/* Flushes, syncs and closes o, then renames it over the destination. 0, or
 * an errno value after sonde_outfile_abort (the destination untouched). */
static inline int sonde_outfile_commit(sonde_outfile *o) {
  int e = 0;
  if (o->f) {
    if (fflush(o->f) != 0 || ferror(o->f)) e = errno ? errno : EIO;
  }
  if (!e && !o->in_place && fsync(o->fd) != 0) e = errno;
  if (o->f) {
    if (fclose(o->f) != 0 && !e) e = errno;
  } else if (o->fd >= 0 && close(o->fd) != 0 && !e) {
    e = errno;
  }
  o->f = NULL;
  o->fd = -1;
  if (!e && o->tmp[0] && rename(o->tmp, o->path) != 0) e = errno;
  if (e) {
    sonde_outfile_abort(o);
    return e;
  }
  o->tmp[0] = '\0';
  return 0;
}

#endif
