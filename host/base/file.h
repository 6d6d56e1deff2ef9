/* file.h: the files that decide what sonde runs (sonde.ini, the plugin
 * index, plugins) and the files it writes.
 *
 * A file that decides what runs is opened once and every check is made on
 * the open descriptor (fstat, /proc/self/fd), never on the name again, so
 * that nobody can swap the file between the check and the read. Output files
 * are written through <sonde/file.h>, the one implementation the plugins
 * use too (sonde_outfile_open / _stream / _commit / _abort). */
#ifndef SONDE_BASE_FILE_H
#define SONDE_BASE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <sonde/file.h>

/* ssh's StrictModes for one file or directory: 0 when it is owned by root or
 * by `owner_ok` (normally geteuid()) and writable by neither its group nor
 * others; a sticky directory (/tmp) is accepted, since others cannot replace
 * what is ours in it. Else 1 with why ("owned by uid 65534 (neither root nor
 * you, uid 0)", "writable by everyone (mode 0777)"). */
int bf_unsafe_reason(const struct stat *st, bool is_dir, char *why, size_t n);

/* The same for the open file fd (opened from path, st its fstat) and every
 * directory above it, up to /, a character device (/dev/null) being safe
 * itself: where the file really is (/proc/self/fd) and,
 * when path is a symlink, where the link is. 0 when all are safe; 1 with bad
 * (the file or directory at fault, "the file" for fd itself) and why. */
int bf_unsafe_file(int fd, const char *path, const struct stat *st, char *bad, size_t badn, char *why,
                   size_t whyn);

/* Who may have written a file that decides what sonde runs, for
 * bf_check_trusted's message. */
typedef struct {
  const char *what;   /* "plugin", "plugin index", "configuration file" */
  const char *source; /* where its name came from ("--index", "FILE:LINE"); NULL: not said */
  const char *risk;   /* "run code as you", "choose the plugins sonde loads" */
  const char *anyway; /* "loading", "reading": the warning's "(loading anyway: unsafe files allowed)" */
  bool allow_unsafe;  /* a refusal becomes a warning (--allow-unsafe-plugins) */
  void (*warn)(void *payload, const char *msg);
  void *payload;
} bf_trust;

/* bf_unsafe_file, as an error: 0 when safe (or allowed, with a warning);
 * else SE_PLUGIN "WHAT PATH (from SOURCE) is unsafe: X is WHY; anyone who can
 * write there can RISK. Fix it (chmod go-w, chown) or pass
 * --allow-unsafe-plugins". */
int bf_check_trusted(int fd, const char *path, const struct stat *st, const bf_trust *t);

/* Everything fd holds, up to max bytes, malloc'd into *buf (NUL-terminated;
 * *len > max means the file is larger than max: one byte more was read).
 * 0, or an errno value. */
int bf_read_fd(int fd, size_t max, char **buf, size_t *len);

#endif
