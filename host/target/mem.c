/* mem.c: batched, cached reads of another process's memory.
 *
 * process_vm_readv stops at the first remote iovec it cannot read and
 * reports a partial count; we then resolve that one element through
 * /proc/PID/mem (which may still read it, e.g. a page process_vm_readv
 * refuses) and resume the batch after it. */
#include "target/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/error.h"

enum { PAGE = 4096, CACHE_LINES = 512, BATCH = 1024 /* IOV_MAX on Linux */ };

static void worker_stop(tgt_mem *m);

struct tgt_mem_cache {
  uint64_t page[CACHE_LINES]; /* page address + 1; 0 = empty */
  unsigned char data[CACHE_LINES][PAGE];
};

int tgt_mem_open(tgt_mem *m, pid_t pid) {
  memset(m, 0, sizeof *m);
  m->pid = pid;
  m->memfd = -1;
  m->cache = calloc(1, sizeof *m->cache);
  if (!m->cache) return se_set(SE_NOMEM, "out of memory for the page cache");
  return 0;
}

void tgt_mem_close(tgt_mem *m) {
  worker_stop(m);
  if (m->memfd >= 0) close(m->memfd);
  free(m->cache);
  m->cache = NULL;
  m->memfd = -1;
}

void tgt_mem_invalidate(tgt_mem *m) {
  if (m->cache) memset(m->cache->page, 0, sizeof m->cache->page);
}

static int open_memfd(tgt_mem *m) {
  if (m->memfd >= 0) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", (int)m->pid);
  m->memfd = open(path, O_RDONLY | O_CLOEXEC);
  if (m->memfd < 0) {
    if (errno == ENOENT) return se_set(SE_EXITED, "process %d exited", (int)m->pid);
    return se_set(SE_PERM, "cannot open %s: %s", path, strerror(errno));
  }
  return 0;
}

/* Reads what it can through /proc/PID/mem; returns bytes read or -1. */
static ssize_t read_memfd(tgt_mem *m, uint64_t addr, void *dst, size_t n) {
  if (open_memfd(m)) return -1;
  size_t got = 0;
  while (got < n) {
    m->n_syscalls++;
    ssize_t r = pread(m->memfd, (char *)dst + got, n - got, (off_t)(addr + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  m->n_bytes += got;
  return (ssize_t)got;
}

/* One pass of process_vm_readv over v[0..n): marks every element it reads
 * completely; an element that stops a call (unmapped, say) is left !ok and
 * the pass goes on after it. Touches only v and *st, so it may run on the
 * worker thread. Returns 0 or -errno for a failure of the whole call. */
typedef struct {
  uint64_t syscalls, bytes;
} vm_stats;

static int vm_pass(pid_t pid, tgt_iov *v, size_t n, vm_stats *st) {
  struct iovec local[BATCH], remote[BATCH];
  size_t i = 0;
  while (i < n) {
    size_t cnt = 0, want = 0;
    while (i + cnt < n && cnt < BATCH && want < SSIZE_MAX / 2) {
      local[cnt].iov_base = v[i + cnt].dst;
      local[cnt].iov_len = v[i + cnt].len;
      remote[cnt].iov_base = (void *)(uintptr_t)v[i + cnt].addr;
      remote[cnt].iov_len = v[i + cnt].len;
      want += v[i + cnt].len;
      cnt++;
    }
    st->syscalls++;
    ssize_t r = process_vm_readv(pid, local, cnt, remote, cnt, 0);
    if (r < 0) {
      if (errno == ESRCH || errno == ENOSYS || errno == EPERM) return -errno;
      r = 0; /* EFAULT on the first element: skipped below */
    }
    st->bytes += (size_t)r;
    size_t done = (size_t)r;
    while (cnt > 0 && done >= v[i].len) { /* the fully read prefix */
      done -= v[i].len;
      v[i].ok = true;
      i++;
      cnt--;
    }
    if (cnt > 0 && (size_t)r < want) i++; /* the element that stopped the call */
  }
  return 0;
}

/* The worker: a second thread that runs vm_pass on half of a large batch
 * while the tracing thread does the other half. ptrace stays on one thread;
 * process_vm_readv needs no ptrace. The copy is kernel CPU work, page by
 * page, so on a 2-core machine this takes a third off a 100,000-goroutine
 * stop. */
enum { PARALLEL_MIN = 512 }; /* elements; below this a thread costs more than it saves */

struct tgt_mem_worker {
  pthread_t thread;
  sem_t go, done;
  bool quit;
  pid_t pid;
  tgt_iov *v;
  size_t n;
  vm_stats st;
  int rc;
};

static void *worker_main(void *arg) {
  tgt_mem_worker *w = arg;
  for (;;) {
    while (sem_wait(&w->go) != 0) {
    }
    if (w->quit) return NULL;
    w->rc = vm_pass(w->pid, w->v, w->n, &w->st);
    sem_post(&w->done);
  }
}

static tgt_mem_worker *worker_get(tgt_mem *m) {
  if (m->worker || m->no_worker) return m->worker;
  tgt_mem_worker *w = calloc(1, sizeof *w);
  if (w && sem_init(&w->go, 0, 0) == 0 && sem_init(&w->done, 0, 0) == 0) {
    w->pid = m->pid;
    /* The worker takes no signals: SIGINT and friends must reach the tracing
     * thread, which blocks them while the target is stopped. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc == 0) return m->worker = w;
  }
  free(w); /* no thread: read on one thread, as before */
  m->no_worker = true;
  return NULL;
}

static void worker_stop(tgt_mem *m) {
  tgt_mem_worker *w = m->worker;
  if (!w) return;
  w->quit = true;
  sem_post(&w->go);
  pthread_join(w->thread, NULL);
  sem_destroy(&w->go);
  sem_destroy(&w->done);
  free(w);
  m->worker = NULL;
}

int tgt_mem_readv(tgt_mem *m, tgt_iov *v, size_t n) {
  for (size_t k = 0; k < n; k++) {
    v[k].ok = v[k].len == 0;
    if (v[k].len > TGT_MEM_MAX_READ)
      return se_set(SE_CORRUPT, "refusing a %zu-byte read at 0x%llx: longer than any sane object", v[k].len,
                    (unsigned long long)v[k].addr);
  }
  if (!m->no_vm_readv) {
    vm_stats st = {0, 0};
    int rc, wrc = 0;
    tgt_mem_worker *w = n >= PARALLEL_MIN ? worker_get(m) : NULL;
    size_t mine = w ? n / 2 : n;
    if (w) {
      w->v = v + mine;
      w->n = n - mine;
      w->st = (vm_stats){0, 0};
      sem_post(&w->go);
    }
    rc = vm_pass(m->pid, v, mine, &st);
    if (w) {
      while (sem_wait(&w->done) != 0) {
      }
      wrc = w->rc;
      st.syscalls += w->st.syscalls;
      st.bytes += w->st.bytes;
    }
    m->n_syscalls += st.syscalls;
    m->n_bytes += st.bytes;
    if (rc == 0) rc = wrc;
    if (rc == -ESRCH) return se_set(SE_EXITED, "process %d exited while sonde was reading it", (int)m->pid);
    if (rc == -ENOSYS || rc == -EPERM) m->no_vm_readv = true;
  }
  /* What process_vm_readv could not read, /proc/PID/mem may (or it is
   * really unmapped: the element stays !ok). */
  for (size_t k = 0; k < n; k++)
    if (!v[k].ok) v[k].ok = read_memfd(m, v[k].addr, v[k].dst, v[k].len) == (ssize_t)v[k].len;
  return 0;
}

static int read_uncached(tgt_mem *m, uint64_t addr, void *dst, size_t n) {
  tgt_iov iov = {addr, dst, n, false};
  int rc = tgt_mem_readv(m, &iov, 1);
  if (rc) return rc;
  if (!iov.ok)
    return se_set(SE_CORRUPT, "cannot read %zu bytes of target memory at 0x%llx", n, (unsigned long long)addr);
  return 0;
}

int tgt_mem_read(tgt_mem *m, uint64_t addr, void *dst, size_t n) {
  if (addr + n < addr) return se_set(SE_CORRUPT, "read at 0x%llx wraps around", (unsigned long long)addr);
  uint64_t page = addr & ~(uint64_t)(PAGE - 1);
  /* Small reads within one page go through the cache. */
  if (m->cache && n <= PAGE && ((addr + n - 1) & ~(uint64_t)(PAGE - 1)) == page) {
    size_t line = (size_t)((page / PAGE) % CACHE_LINES);
    if (m->cache->page[line] != page + 1) {
      if (read_uncached(m, page, m->cache->data[line], PAGE) != 0) {
        se_clear(); /* the page may be only partly mapped: read exactly */
        return read_uncached(m, addr, dst, n);
      }
      m->cache->page[line] = page + 1;
    } else {
      m->n_cache_hits++;
    }
    memcpy(dst, m->cache->data[line] + (addr - page), n);
    return 0;
  }
  return read_uncached(m, addr, dst, n);
}

int tgt_mem_read_live(tgt_mem *m, uint64_t addr, void *dst, size_t n) {
  if (addr + n < addr) return se_set(SE_CORRUPT, "read at 0x%llx wraps around", (unsigned long long)addr);
  return read_uncached(m, addr, dst, n);
}

int tgt_mem_read_u64(tgt_mem *m, uint64_t addr, uint64_t *out) {
  return tgt_mem_read(m, addr, out, sizeof *out);
}
