/* mem.h: every read of target memory goes through here.
 *
 * Reads are batched (process_vm_readv with up to IOV_MAX iovecs per call,
 * split over two threads for large batches; /proc/PID/mem as the fallback)
 * and small reads are served from a page cache
 * that lives for one stop: call tgt_mem_invalidate before the target runs
 * again. A read of unmapped memory is an error for that read only; target
 * memory is untrusted, so callers bound every length they pass here. */
#ifndef SONDE_TARGET_MEM_H
#define SONDE_TARGET_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum { TGT_MEM_MAX_READ = 64 * 1024 * 1024 }; /* one read: larger is a corrupt length */

typedef struct tgt_mem_cache tgt_mem_cache;
typedef struct tgt_mem_worker tgt_mem_worker;

typedef struct {
  pid_t pid;
  int memfd;         /* /proc/PID/mem, opened on first need; -1 before */
  bool no_vm_readv;  /* process_vm_readv unavailable (ENOSYS/EPERM): use memfd */
  tgt_mem_cache *cache;
  tgt_mem_worker *worker; /* second reader thread for large batches; NULL until needed */
  bool no_worker;         /* it could not be started: read on one thread */
  /* statistics for --stats */
  uint64_t n_syscalls, n_bytes, n_cache_hits;
} tgt_mem;

/* One element of a batch read. `ok` is set by tgt_mem_readv. */
typedef struct {
  uint64_t addr;
  void *dst;
  size_t len;
  bool ok;
} tgt_iov;

int tgt_mem_open(tgt_mem *m, pid_t pid);
void tgt_mem_close(tgt_mem *m);
void tgt_mem_invalidate(tgt_mem *m);

/* Reads exactly n bytes or fails with SE_CORRUPT naming the address. */
int tgt_mem_read(tgt_mem *m, uint64_t addr, void *dst, size_t n);
/* The same, never through the page cache: for a process that runs. */
int tgt_mem_read_live(tgt_mem *m, uint64_t addr, void *dst, size_t n);
int tgt_mem_read_u64(tgt_mem *m, uint64_t addr, uint64_t *out);

/* Reads a batch; each element's `ok` says whether it was read completely.
 * Returns 0 unless the process is gone (SE_EXITED) or a length is absurd. */
int tgt_mem_readv(tgt_mem *m, tgt_iov *v, size_t n);

#endif
