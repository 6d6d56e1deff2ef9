/* proc.c: parsing of /proc/PID/{status,task,maps}. */
#include "target/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"

int tgt_proc_info(pid_t pid, tgt_procinfo *out) {
  memset(out, 0, sizeof *out);
  out->pid = pid;
  if (pid <= 0) return se_set(SE_NOPROC, "%d is not a process id", (int)pid);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT)
      return se_set(SE_NOPROC, "no process with pid %d (check the pid with `pgrep -a NAME` or `ps`)", (int)pid);
    return se_set(SE_PERM, "cannot read %s: %s", path, strerror(errno));
  }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "Name:", 5)) {
      char *s = line + 5;
      while (*s == ' ' || *s == '\t') s++;
      size_t n = strcspn(s, "\n");
      if (n > sizeof out->comm - 1) n = sizeof out->comm - 1; /* comm is at most 15 bytes anyway */
      memcpy(out->comm, s, n);
      out->comm[n] = '\0';
    } else if (!strncmp(line, "State:", 6)) {
      char *s = line + 6;
      while (*s == ' ' || *s == '\t') s++;
      out->state = *s;
    } else if (!strncmp(line, "TracerPid:", 10)) {
      out->tracer = (pid_t)strtol(line + 10, NULL, 10);
    } else if (!strncmp(line, "Uid:", 4)) {
      out->uid = (uid_t)strtoul(line + 4, NULL, 10);
    }
  }
  fclose(f);
  if (out->state == 'Z' || out->state == 'X')
    return se_set(SE_NOPROC, "process %d (%s) has exited (it is a zombie waiting for its parent)", (int)pid,
                  out->comm);
  snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
  ssize_t n = readlink(path, out->exe, sizeof out->exe - 1);
  out->exe[n > 0 ? n : 0] = '\0';
  return 0;
}

void tgt_proc_describe(pid_t pid, char *out, size_t n) {
  tgt_procinfo pi;
  se_clear();
  if (tgt_proc_info(pid, &pi) == 0 && pi.comm[0])
    snprintf(out, n, "%s (pid %d)", pi.comm, (int)pid);
  else
    snprintf(out, n, "pid %d", (int)pid);
  se_clear();
}

int tgt_proc_threads(pid_t pid, pid_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  if (!d) {
    if (errno == ENOENT) return se_set(SE_EXITED, "process %d exited", (int)pid);
    return se_set(SE_PERM, "cannot list %s: %s", path, strerror(errno));
  }
  size_t cap = 0;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      pid_t *p = realloc(*out, cap * sizeof *p);
      if (!p) {
        rc = se_set(SE_NOMEM, "out of memory listing threads");
        break;
      }
      *out = p;
    }
    (*out)[(*n)++] = (pid_t)strtol(e->d_name, NULL, 10);
  }
  closedir(d);
  if (rc) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

int tgt_proc_load_bias(pid_t pid, const char *exe, uint64_t first_vaddr, uint64_t *out) {
  *out = 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return se_set(SE_PERM, "cannot read %s: %s", path, strerror(errno));
  char line[4096 + 128];
  int rc = se_set(SE_NOTGO, "the executable %s is not mapped in process %d", exe, (int)pid);
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, off;
    int pathpos = 0;
    if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %n", &lo, &off, &pathpos) < 2 || !pathpos) continue;
    char *p = line + pathpos;
    p[strcspn(p, "\n")] = '\0';
    /* The first mapping of the file is the one at file offset 0. */
    if (off == 0 && !strcmp(p, exe)) {
      *out = (uint64_t)lo - (first_vaddr & ~(uint64_t)0xfff);
      rc = 0;
      se_clear();
      break;
    }
  }
  fclose(f);
  return rc;
}

int tgt_proc_getenv(pid_t pid, const char *name, char *out, size_t n) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return se_set(SE_IO, "cannot read %s: %s", path, strerror(errno));
  size_t nl = strlen(name);
  int rc = SE_IO;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getdelim(&line, &cap, '\0', f)) > 0) {
    if ((size_t)len > nl && !strncmp(line, name, nl) && line[nl] == '=') {
      snprintf(out, n, "%s", line + nl + 1);
      rc = 0;
    }
  }
  free(line);
  fclose(f);
  return rc == 0 ? 0 : se_set(SE_IO, "%s is not set in process %d", name, (int)pid);
}

int tgt_proc_ptrace_scope(void) {
  FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
  if (!f) return -1;
  int v = -1;
  if (fscanf(f, "%d", &v) != 1) v = -1;
  fclose(f);
  return v;
}

int tgt_proc_thread_stat(pid_t pid, pid_t tid, char *state, unsigned long long *flags) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
  FILE *f = fopen(path, "re");
  if (!f) return se_set(errno == ENOENT || errno == ESRCH ? SE_NOPROC : SE_IO, "%s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* comm may hold anything; the fields follow the last ')' */
  if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %llu", state, flags) != 2)
    return se_set(SE_CORRUPT, "%s: unexpected contents", path);
  return 0;
}

bool tgt_proc_dying(pid_t pid, pid_t tid) {
  enum { PF_EXITING_ = 0x4 };
  for (int i = 0; i < 10; i++) {
    char state = 0;
    unsigned long long flags = 0;
    int rc = tgt_proc_thread_stat(pid, tid, &state, &flags);
    se_clear();
    if (rc) return rc == SE_NOPROC;
    if (state == 'Z' || state == 'X' || (flags & PF_EXITING_)) return true;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return false;
}

enum { PM_PAGE = 4096, PM_WINDOW = 65536 /* pages: 256 MiB of address space, 512 KiB of entries */ };

int tgt_proc_resident(pid_t pid, const uint64_t *base, const uint64_t *len, size_t n, uint64_t *resident) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return se_set(errno == EACCES || errno == EPERM ? SE_PERM : errno == ENOENT ? SE_NOPROC : SE_IO,
                  "cannot open %s: %s", path, strerror(errno));
  uint64_t *win = malloc(PM_WINDOW * sizeof *win);
  if (!win) {
    close(fd);
    return se_set(SE_NOMEM, "out of memory for %s", path);
  }
  uint64_t lo = 1, hi = 0; /* pages in win: [lo, hi); empty */
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    resident[i] = 0;
    for (uint64_t pg = base[i] / PM_PAGE, end = (base[i] + len[i] + PM_PAGE - 1) / PM_PAGE; pg < end; pg++) {
      if (pg < lo || pg >= hi) { /* the next window, from this page */
        ssize_t got = pread(fd, win, PM_WINDOW * sizeof *win, (off_t)(pg * sizeof *win));
        if (got < (ssize_t)sizeof *win) {
          rc = se_set(got < 0 && (errno == EACCES || errno == EPERM) ? SE_PERM : SE_IO, "cannot read %s at page 0x%llx: %s",
                      path, (unsigned long long)pg, got < 0 ? strerror(errno) : "short read");
          break;
        }
        lo = pg;
        hi = pg + (uint64_t)got / sizeof *win;
      }
      if (win[pg - lo] >> 63 & 1) resident[i] += PM_PAGE;
    }
  }
  free(win);
  close(fd);
  return rc;
}
