/* proc.h: facts about a process from /proc: does it exist, who traces it,
 * which threads it has, where its executable is mapped.
 *
 * Nothing here stops or touches the process. Every function fills a
 * user-facing message (cause and fix) on failure. */
#ifndef SONDE_TARGET_PROC_H
#define SONDE_TARGET_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
  pid_t pid;
  char comm[64];
  char state;     /* R, S, D, t, T, Z, ... */
  pid_t tracer;   /* TracerPid; 0 when untraced */
  uid_t uid;      /* real uid */
  char exe[4096]; /* readlink of /proc/PID/exe; "" when unreadable */
} tgt_procinfo;

/* SE_NOPROC when there is no such process (or it is a zombie), SE_PERM when
 * /proc hides it. */
int tgt_proc_info(pid_t pid, tgt_procinfo *out);

/* Name of a process for messages ("dlv (pid 123)"); writes "pid N" if unknown. */
void tgt_proc_describe(pid_t pid, char *out, size_t n);

/* Thread ids from /proc/PID/task into *out (malloc'd, caller frees). */
int tgt_proc_threads(pid_t pid, pid_t **out, size_t *n);

/* The runtime address at which the ELF file mapped at `exe` was loaded,
 * minus its link address: 0 for a non-PIE executable. `first_vaddr` is the
 * page-aligned vaddr of the file's first PT_LOAD. */
int tgt_proc_load_bias(pid_t pid, const char *exe, uint64_t first_vaddr, uint64_t *out);

/* The value of environment variable `name` the process started with, from
 * /proc/PID/environ, into out (NUL-terminated); SE_IO when absent. */
int tgt_proc_getenv(pid_t pid, const char *name, char *out, size_t n);

/* /proc/sys/kernel/yama/ptrace_scope, or -1 when Yama is not present. */
int tgt_proc_ptrace_scope(void);

/* The state letter (R, S, D, t, Z, ...) and flags of thread tid, from
 * /proc/PID/task/TID/stat. SE_NOPROC when the thread is gone. */
int tgt_proc_thread_stat(pid_t pid, pid_t tid, char *state, unsigned long long *flags);

/* Whether thread tid of pid is on its way out: gone, a zombie, or exiting
 * (PF_EXITING). Polls for up to ~50 ms, since a SIGKILL reaches the threads
 * one by one. ptrace and /proc/PID/exe refuse such a process with errors
 * that must not be mistaken for a lack of permission. */
bool tgt_proc_dying(pid_t pid, pid_t tid);

/* How much of each range [base[i], base[i] + len[i]) is in RAM: pages whose
 * /proc/PID/pagemap entry has the present bit (63), in bytes, into
 * resident[i]. The ranges must be sorted by base and not overlap; they are
 * read in windows of up to 256 MiB of address space, one pread each, so a
 * heap of contiguous spans costs a few reads. SE_PERM/SE_IO when pagemap
 * cannot be read (the process must be ptrace-able by us). */
int tgt_proc_resident(pid_t pid, const uint64_t *base, const uint64_t *len, size_t n, uint64_t *resident);

#endif
