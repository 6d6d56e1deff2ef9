/* test_target.c: host/target/ (proc, ptrace, mem, trace) on live processes:
 * children this test forks itself, plain C with a few threads. A fork keeps
 * the parent's address layout, so the parent knows where the child's buffer,
 * counters and functions are; the child writes its own pattern after the
 * fork, so a read that returned the parent's bytes would fail.
 *
 * Every test's child dies with it (PR_SET_PDEATHSIG) and is killed and
 * reaped by the teardown on every path; alarm() bounds every wait. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "target/emulate.h"
#include "target/mem.h"
#include "target/proc.h"
#include "target/ptrace.h"
#include "target/trace.h"

enum {
  NWORKERS = 3,
  PG = 4096,
  BUF_LEN = 2 * PG + 100, /* three pages, the last one partly */
  GUARD_S = 20,           /* alarm(): the last resort against a hang */
  WAIT_MS = 10000,        /* the bound on one handshake or one "does it run" poll */
  LEAF_RESULT = 42,
};

/* ---- the child: written by the child only; the parent's copies stay zero -- */

static _Alignas(PG) uint8_t g_buf[BUF_LEN];
static volatile uint64_t g_word;
static volatile uint64_t g_ticks[NWORKERS];
static volatile uint64_t g_leaf_ok[NWORKERS], g_leaf_bad[NWORKERS];
static volatile unsigned g_gen;
static int g_child_ready_w = -1;

static uint8_t pattern(size_t i, unsigned gen) { return (uint8_t)(i * 31u + gen * 101u + 7u); }
static uint64_t word_of(unsigned gen) { return 0x5eed0000c0de0000ull | gen; }

static void child_fill(unsigned gen) {
  for (size_t i = 0; i < BUF_LEN; i++) g_buf[i] = pattern(i, gen);
  g_word = word_of(gen);
  g_gen = gen;
}

/* The breakpoint targets. Called through volatile pointers, so that the
 * compiler calls exactly the address the parent plants the int3 at (no
 * inlining, no clone). */
static void child_tick(unsigned i) { g_ticks[i]++; }
static void child_on_usr1(void) {}
static void (*volatile g_tick_fn)(unsigned) = child_tick;
static void (*volatile g_usr1_fn)(void) = child_on_usr1;

/* A function whose first instruction is one emulate.c moves a thread past
 * (mov r, imm32: b8 2a 00 00 00). In assembly (a GNU extension) because no C
 * compiler promises which instruction a function starts with. */
__asm__(".text\n"
        ".globl unit_target_leaf\n"
        ".hidden unit_target_leaf\n"
        ".type unit_target_leaf, @function\n"
        "unit_target_leaf:\n"
        "  movl $42, %eax\n"
        "  ret\n"
        ".size unit_target_leaf, .-unit_target_leaf\n");
int unit_target_leaf(void);
static int (*volatile g_leaf_fn)(void) = unit_target_leaf;

static void child_on_sigusr1(int sig) {
  (void)sig;
  g_usr1_fn();
  (void)!write(g_child_ready_w, "u", 1);
}

static void *child_worker(void *arg) {
  unsigned i = (unsigned)(uintptr_t)arg;
  for (;;) {
    g_tick_fn(i);
    if (g_leaf_fn() == LEAF_RESULT) g_leaf_ok[i]++;
    else g_leaf_bad[i]++;
    nanosleep(&(struct timespec){0, 100 * 1000}, NULL);
  }
  return NULL;
}

/* Never returns into cmocka. Commands on cmd_r: 'g' writes the next pattern
 * (acked with 'g'), 'q' exits with status 7, 'x' execs /bin/sleep. */
static void child_main(pid_t parent, int cmd_r, int ready_w, uint8_t *noaccess) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1); /* the parent died before the prctl */
  prctl(PR_SET_NAME, "unit-child");
  g_child_ready_w = ready_w;
  child_fill(1);
  for (size_t i = 0; i < PG; i++) noaccess[i] = pattern(i, 9);
  if (mprotect(noaccess, PG, PROT_NONE) != 0) _exit(2);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = child_on_sigusr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  for (unsigned i = 0; i < NWORKERS; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, child_worker, (void *)(uintptr_t)i) != 0) _exit(3);
  }
  (void)!write(ready_w, "r", 1);
  for (;;) {
    char c;
    ssize_t r = read(cmd_r, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) _exit(0);
    if (c == 'g') {
      child_fill(g_gen + 1);
      (void)!write(ready_w, "g", 1);
    } else if (c == 'q') {
      _exit(7);
    } else if (c == 'x') {
      execl("/bin/sleep", "sleep", "1000", (char *)NULL);
      _exit(127);
    }
  }
}

/* ---- the parent's side ---------------------------------------------------- */

typedef struct {
  pid_t pid;  /* 0 once reaped: never kill a pid that may have been reused */
  int cmd_w, ready_r;
  uint64_t noaccess, untouched; /* a PROT_NONE page; two pages nobody touches */
  tgt_session s;
  tgt_mem m;
  bool mem_open;
} fixture;

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "test_target: a wait did not end within 20 s; giving up (the children die with "
                            "this process: PR_SET_PDEATHSIG)\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  f->cmd_w = f->ready_r = -1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarm(GUARD_S);
  *state = f;
  return 0;
}

/* Reaps every child of this process, traced threads included. */
static void reap_all(void) {
  int st;
  while (waitpid(-1, &st, __WALL) > 0 || errno == EINTR) {
  }
}

static int teardown(void **state) {
  fixture *f = *state;
  if (f->pid > 0) kill(f->pid, SIGKILL);
  reap_all();
  tgt_bp_forget();
  tgt_detach(&f->s); /* the process is gone: only frees */
  if (f->mem_open) tgt_mem_close(&f->m);
  if (f->cmd_w >= 0) close(f->cmd_w);
  if (f->ready_r >= 0) close(f->ready_r);
  se_clear();
  alarm(0);
  free(f);
  return 0;
}

static void wait_byte(fixture *f, char want) {
  struct pollfd p = {f->ready_r, POLLIN, 0};
  int n;
  while ((n = poll(&p, 1, WAIT_MS)) < 0 && errno == EINTR) {
  }
  if (n != 1) fail_msg("the child did not write '%c' within %d ms", want, WAIT_MS);
  char c = 0;
  if (read(f->ready_r, &c, 1) != 1) fail_msg("the child closed its pipe before writing '%c'", want);
  if (c != want) fail_msg("the child wrote '%c', expected '%c'", c, want);
}

static void child_start(fixture *f) {
  int cmd[2], ready[2];
  assert_int_equal(pipe2(cmd, O_CLOEXEC), 0);
  assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
  void *na = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void *un = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(na != MAP_FAILED && un != MAP_FAILED);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    close(cmd[1]);
    close(ready[0]);
    child_main(parent, cmd[0], ready[1], na);
  }
  close(cmd[0]);
  close(ready[1]);
  munmap(na, PG); /* the child has its own copies */
  munmap(un, 2 * PG);
  f->cmd_w = cmd[1];
  f->ready_r = ready[0];
  assert_true(pid > 0);
  f->pid = pid;
  f->noaccess = (uint64_t)(uintptr_t)na;
  f->untouched = (uint64_t)(uintptr_t)un;
  wait_byte(f, 'r');
  assert_int_equal(tgt_mem_open(&f->m, pid), 0);
  f->mem_open = true;
  print_message("child %d started\n", (int)pid);
}

static void send_cmd(fixture *f, char c) { assert_int_equal(write(f->cmd_w, &c, 1), 1); }

static void attach(fixture *f) {
  int rc = tgt_attach(f->pid, &f->s);
  if (rc) fail_msg("tgt_attach(%d): %s", (int)f->pid, se_msg());
}

static void detach(fixture *f) {
  int rc = tgt_detach(&f->s);
  if (rc) fail_msg("tgt_detach(%d): %s", (int)f->pid, se_msg());
}

static uint64_t addr_of(const volatile void *p) { return (uint64_t)(uintptr_t)p; }
/* A function's address (POSIX guarantees functions and data share one). */
static uint64_t code_addr(void (*fn)(void)) { return (uint64_t)(uintptr_t)fn; }
static uint64_t tick_addr(void) { return (uint64_t)(uintptr_t)child_tick; }

static void read_live_u64s(fixture *f, const volatile uint64_t *p, uint64_t *out, size_t n) {
  int rc = tgt_mem_read_live(&f->m, addr_of(p), out, n * sizeof *out);
  if (rc) fail_msg("reading the child's counters: %s", se_msg());
}

/* The state letter of a thread, from /proc/PID/task/TID/stat (parsed here,
 * not by the code under test). */
static char task_state(pid_t pid, pid_t tid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
  FILE *fp = fopen(path, "r");
  if (!fp) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, fp);
  fclose(fp);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : 0;
}

enum { MAX_TIDS = 64 };

/* tgt_proc_threads into out[MAX_TIDS], its list freed before any assertion
 * can leave the test. Returns the count it reported. */
static size_t list_threads(pid_t pid, pid_t *out) {
  pid_t *tids;
  size_t n = 0;
  int rc = tgt_proc_threads(pid, &tids, &n);
  if (rc) fail_msg("tgt_proc_threads(%d): %s", (int)pid, se_msg());
  memcpy(out, tids, (n < MAX_TIDS ? n : MAX_TIDS) * sizeof *out);
  free(tids);
  if (n > MAX_TIDS) fail_msg("%zu threads in process %d", n, (int)pid);
  return n;
}

/* Waits until every worker's counter at p has passed before[]; fails after
 * WAIT_MS (a bound on the wait, not a timing assertion). */
static void wait_workers_pass(fixture *f, const volatile uint64_t *p, const uint64_t *before, const char *what) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    uint64_t cur[NWORKERS];
    read_live_u64s(f, p, cur, NWORKERS);
    unsigned behind = 0;
    for (unsigned i = 0; i < NWORKERS; i++) behind += cur[i] <= before[i];
    if (!behind) return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > WAIT_MS)
      fail_msg("%u of %d worker threads did not run again (%s) within %d ms", behind, NWORKERS, what, WAIT_MS);
    nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
  }
}

/* After a detach: no thread stopped or traced, the process alive, and every
 * worker thread running (its counter moves). */
static void assert_child_runs_free(fixture *f) {
  pid_t tids[MAX_TIDS];
  size_t n = list_threads(f->pid, tids);
  for (size_t i = 0; i < n; i++) {
    char st = task_state(f->pid, tids[i]);
    print_message("thread %d state %c\n", (int)tids[i], st);
    assert_true(st != 't' && st != 'T' && st != 'Z' && st != 0);
  }
  tgt_procinfo pi;
  assert_int_equal(tgt_proc_info(f->pid, &pi), 0);
  assert_int_equal(pi.tracer, 0);
  int status;
  assert_int_equal(waitpid(f->pid, &status, WNOHANG), 0);
  uint64_t before[NWORKERS];
  read_live_u64s(f, g_ticks, before, NWORKERS);
  wait_workers_pass(f, g_ticks, before, "ticks");
}

/* Whether this process may PTRACE_SEIZE a child of its own (not in every
 * container): the ptrace tests skip, rather than fail, where it may not. */
static bool ptrace_works(void) {
  static int known = -1;
  if (known >= 0) return known;
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) pause();
  }
  if (pid < 0) return false;
  known = ptrace(PTRACE_SEIZE, pid, 0, 0) == 0;
  if (!known) print_message("PTRACE_SEIZE of a child: %s: skipping\n", strerror(errno));
  kill(pid, SIGKILL);
  int st;
  while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
  }
  return known;
}

#define NEED_PTRACE()         \
  do {                        \
    if (!ptrace_works()) skip(); \
  } while (0)

/* ---- proc.c --------------------------------------------------------------- */

static void test_proc_info_of_a_child_names_its_exe_and_state(void **state) {
  fixture *f = *state;
  child_start(f);
  tgt_procinfo pi;
  int rc = tgt_proc_info(f->pid, &pi);
  if (rc) fail_msg("%s", se_msg());
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  assert_true(n > 0);
  self[n] = '\0';
  print_message("exe %s comm %s state %c\n", pi.exe, pi.comm, pi.state);
  assert_int_equal(pi.pid, f->pid);
  assert_string_equal(pi.exe, self);
  assert_string_equal(pi.comm, "unit-child");
  assert_true(pi.state == 'S' || pi.state == 'R');
  assert_int_equal(pi.tracer, 0);
  assert_int_equal(pi.uid, getuid());
  char who[128];
  tgt_proc_describe(f->pid, who, sizeof who);
  char want[128];
  snprintf(want, sizeof want, "unit-child (pid %d)", (int)f->pid);
  assert_string_equal(who, want);
}

static pid_t no_such_pid(void) {
  /* pids are below pid_max: pid_max itself never names a process */
  FILE *fp = fopen("/proc/sys/kernel/pid_max", "r");
  int v = 0;
  if (!fp || fscanf(fp, "%d", &v) != 1) fail_msg("cannot read /proc/sys/kernel/pid_max");
  fclose(fp);
  return (pid_t)v;
}

static void test_proc_info_of_no_such_pid_is_noproc_naming_it(void **state) {
  (void)state;
  pid_t pid = no_such_pid();
  char num[32];
  snprintf(num, sizeof num, "%d", (int)pid);
  tgt_procinfo pi;
  assert_se_error(tgt_proc_info(pid, &pi), SE_NOPROC);
  print_message("%s\n", se_msg());
  assert_non_null(strstr(se_msg(), num));
  se_clear();
  assert_se_error(tgt_proc_info(0, &pi), SE_NOPROC);
  assert_se_error(tgt_proc_info(-5, &pi), SE_NOPROC);
  assert_non_null(strstr(se_msg(), "-5"));
  char who[64], want[64];
  tgt_proc_describe(pid, who, sizeof who);
  snprintf(want, sizeof want, "pid %d", (int)pid);
  assert_string_equal(who, want);
}

static void test_proc_threads_lists_every_thread_of_the_child(void **state) {
  fixture *f = *state;
  child_start(f);
  pid_t tids[MAX_TIDS];
  size_t n = list_threads(f->pid, tids);
  assert_int_equal(n, 1 + NWORKERS);
  bool leader = false;
  for (size_t i = 0; i < n; i++) {
    char st = 0;
    unsigned long long flags = 0;
    assert_int_equal(tgt_proc_thread_stat(f->pid, tids[i], &st, &flags), 0);
    print_message("thread %d state %c flags %llx\n", (int)tids[i], st, flags);
    /* running or sleeping; D too (a worker's page fault, briefly); never stopped */
    assert_non_null(strchr("RSD", st));
    leader |= tids[i] == f->pid;
  }
  assert_true(leader);
  assert_false(tgt_proc_dying(f->pid, f->pid));
  char st;
  unsigned long long flags;
  assert_se_error(tgt_proc_thread_stat(f->pid, no_such_pid(), &st, &flags), SE_NOPROC);
  pid_t *none = tids;
  assert_se_error(tgt_proc_threads(no_such_pid(), &none, &n), SE_EXITED);
  assert_null(none);
}

typedef struct {
  uint64_t bias, first_vaddr;
  bool found;
} main_image;

static int first_image(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  main_image *img = data;
  for (unsigned i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_LOAD) {
      img->bias = info->dlpi_addr;
      img->first_vaddr = info->dlpi_phdr[i].p_vaddr;
      img->found = true;
      break;
    }
  return 1; /* the first object is the executable */
}

static void test_proc_load_bias_is_the_executables(void **state) {
  fixture *f = *state;
  child_start(f);
  main_image img = {0, 0, false};
  dl_iterate_phdr(first_image, &img);
  assert_true(img.found);
  tgt_procinfo pi;
  assert_int_equal(tgt_proc_info(f->pid, &pi), 0);
  uint64_t bias = 1;
  int rc = tgt_proc_load_bias(f->pid, pi.exe, img.first_vaddr, &bias);
  if (rc) fail_msg("%s", se_msg());
  print_message("bias 0x%llx (first PT_LOAD at 0x%llx)\n", (unsigned long long)bias,
                (unsigned long long)img.first_vaddr);
  assert_int_equal(bias, img.bias);
  assert_se_error(tgt_proc_load_bias(f->pid, "/no/such/file", 0, &bias), SE_NOTGO);
  assert_non_null(strstr(se_msg(), "/no/such/file"));
}

static void test_proc_resident_counts_the_pages_the_child_wrote(void **state) {
  fixture *f = *state;
  child_start(f);
  /* g_buf's first two pages (every byte written by the child) and two pages
   * nobody touched, in address order as tgt_proc_resident wants them */
  uint64_t buf = addr_of(g_buf), un = f->untouched;
  bool buf_first = buf < un;
  uint64_t base[2] = {buf_first ? buf : un, buf_first ? un : buf}, len[2] = {2 * PG, 2 * PG}, res[2] = {1, 1};
  int rc = tgt_proc_resident(f->pid, base, len, 2, res);
  if (rc) fail_msg("%s", se_msg());
  uint64_t buf_res = res[buf_first ? 0 : 1], untouched_res = res[buf_first ? 1 : 0];
  print_message("written %llu untouched %llu\n", (unsigned long long)buf_res, (unsigned long long)untouched_res);
  assert_int_equal(buf_res, 2 * PG);
  assert_int_equal(untouched_res, 0);
}

/* ---- ptrace.c ------------------------------------------------------------- */

static void test_attach_stops_every_thread_of_the_child(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  assert_true(f->s.attached);
  assert_int_equal(f->s.nthreads, 1 + NWORKERS);
  assert_int_equal(tgt_threads_running(&f->s), 0);
  pid_t tids[MAX_TIDS];
  size_t n = list_threads(f->pid, tids);
  assert_int_equal(n, 1 + NWORKERS);
  for (size_t i = 0; i < n; i++) {
    char st = task_state(f->pid, tids[i]);
    print_message("thread %d state %c\n", (int)tids[i], st);
    assert_true(st == 't' || st == 'T');
    assert_true(tgt_has_thread(&f->s, tids[i]));
  }
  tgt_procinfo pi;
  assert_int_equal(tgt_proc_info(f->pid, &pi), 0);
  assert_int_equal(pi.tracer, getpid());
  /* stopped means stopped: the counters do not move between two reads */
  uint64_t a[NWORKERS], b[NWORKERS];
  read_live_u64s(f, g_ticks, a, NWORKERS);
  nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL); /* gives a running thread the chance to show */
  read_live_u64s(f, g_ticks, b, NWORKERS);
  assert_memory_equal(a, b, sizeof a);
  struct user_regs_struct r;
  assert_int_equal(tgt_getregs(&f->s, f->pid, &r), 0);
  assert_true(r.rip != 0 && r.rsp != 0);
  assert_se_error(tgt_getregs(&f->s, no_such_pid(), &r), SE_ERR);
  detach(f);
}

static void test_detach_lets_every_thread_run_again(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  detach(f);
  assert_false(f->s.attached);
  assert_null(f->s.threads);
  assert_child_runs_free(f);
}

static void test_signal_sent_while_stopped_reaches_the_child_after_detach(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  assert_int_equal(kill(f->pid, SIGUSR1), 0);
  detach(f);
  wait_byte(f, 'u'); /* the child's handler ran */
  assert_child_runs_free(f);
}

static void test_second_attach_is_refused_naming_the_tracer(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  tgt_session again;
  assert_se_error(tgt_attach(f->pid, &again), SE_TRACED);
  print_message("%s\n", se_msg());
  char me[32];
  snprintf(me, sizeof me, "(pid %d)", (int)getpid());
  assert_non_null(strstr(se_msg(), "already traced"));
  assert_non_null(strstr(se_msg(), me));
  assert_false(again.attached);
  se_clear();
  detach(f); /* the first session is intact */
  assert_child_runs_free(f);
}

/* Detaching a session that never attached (the refused second one) leaves
 * the first armed for the crash release: tgt_emergency_detach still lets
 * the child go. */
static void test_detach_of_another_session_keeps_the_crash_release_armed(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  tgt_session again;
  assert_se_error(tgt_attach(f->pid, &again), SE_TRACED);
  se_clear();
  assert_int_equal(tgt_detach(&again), 0);
  tgt_emergency_detach(); /* what the crash handler calls */
  tgt_procinfo pi;
  assert_int_equal(tgt_proc_info(f->pid, &pi), 0);
  assert_int_equal(pi.tracer, 0);
  assert_child_runs_free(f);
}

static void test_attach_to_self_is_refused(void **state) {
  fixture *f = *state;
  assert_se_error(tgt_attach(getpid(), &f->s), SE_USAGE);
  assert_false(f->s.attached);
}

static void test_attach_to_an_exited_child_fails_with_a_message(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  pid_t pid = fork();
  if (pid == 0) _exit(3);
  assert_true(pid > 0);
  f->pid = pid;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0); /* a zombie now, not reaped */
  char num[32];
  snprintf(num, sizeof num, "%d", (int)pid);
  tgt_procinfo pi;
  assert_se_error(tgt_proc_info(pid, &pi), SE_NOPROC);
  assert_non_null(strstr(se_msg(), "zombie"));
  assert_se_error(tgt_attach(pid, &f->s), SE_NOPROC);
  print_message("zombie: %s\n", se_msg());
  assert_non_null(strstr(se_msg(), num));
  assert_false(f->s.attached);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  f->pid = 0;
  assert_se_error(tgt_attach(pid, &f->s), SE_NOPROC);
  print_message("reaped: %s\n", se_msg());
  assert_non_null(strstr(se_msg(), num));
  assert_false(f->s.attached);
}

/* ---- mem.c ---------------------------------------------------------------- */

static void expect_pattern(const uint8_t *got, size_t off, size_t n, unsigned gen) {
  for (size_t i = 0; i < n; i++)
    if (got[i] != pattern(off + i, gen))
      fail_msg("byte %zu is 0x%02x, expected 0x%02x (generation %u)", off + i, got[i], pattern(off + i, gen), gen);
}

static void test_mem_read_gives_the_childs_bytes(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  assert_int_equal(g_buf[0], 0); /* the parent's copy: what a wrong read would give */
  static uint8_t got[BUF_LEN];
  memset(got, 0, sizeof got);
  assert_int_equal(tgt_mem_read(&f->m, addr_of(g_buf), got, BUF_LEN), 0); /* > a page: uncached */
  expect_pattern(got, 0, BUF_LEN, 1);
  uint8_t small[16];
  assert_int_equal(tgt_mem_read(&f->m, addr_of(g_buf) + 100, small, sizeof small), 0); /* one page: cached */
  expect_pattern(small, 100, sizeof small, 1);
  assert_int_equal(tgt_mem_read(&f->m, addr_of(g_buf) + PG - 8, small, sizeof small), 0); /* across two pages */
  expect_pattern(small, PG - 8, sizeof small, 1);
  uint64_t w = 0;
  assert_int_equal(tgt_mem_read_u64(&f->m, addr_of(&g_word), &w), 0);
  assert_int_equal(w, word_of(1));
  assert_int_equal(g_word, 0);
  detach(f);
}

/* Below vm.mmap_min_addr (64 KiB by default): nothing can be mapped there. */
static const uint64_t UNMAPPED = 0x1000;

static void check_readv_unmapped_element(fixture *f) {
  uint8_t a[16], b[16], c[8], d[1];
  tgt_iov v[] = {
      {addr_of(g_buf), a, sizeof a, false},
      {UNMAPPED, b, sizeof b, true},
      {addr_of(g_buf) + PG, c, sizeof c, false},
      {0, d, 0, false},                    /* nothing to read: ok */
      {0x800000000000ull, c, sizeof c, true}, /* above user space */
  };
  assert_int_equal(tgt_mem_readv(&f->m, v, sizeof v / sizeof *v), 0);
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) print_message("element %zu ok %d\n", i, v[i].ok);
  assert_true(v[0].ok);
  assert_false(v[1].ok);
  assert_true(v[2].ok);
  assert_true(v[3].ok);
  assert_false(v[4].ok);
  expect_pattern(a, 0, sizeof a, 1);
  expect_pattern(c, PG, sizeof c, 1);
}

static void test_mem_readv_fails_only_the_unmapped_element(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  check_readv_unmapped_element(f);
  uint8_t b[8];
  assert_se_error(tgt_mem_read(&f->m, UNMAPPED, b, sizeof b), SE_CORRUPT);
  print_message("%s\n", se_msg());
  assert_non_null(strstr(se_msg(), "0x1000"));
  detach(f);
}

static void test_mem_refuses_absurd_lengths_and_wraparound(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  uint8_t b[16];
  tgt_iov v[] = {{addr_of(g_buf), b, 8, false}, {addr_of(g_buf), b, (size_t)TGT_MEM_MAX_READ + 1, false}};
  assert_se_error(tgt_mem_readv(&f->m, v, 2), SE_CORRUPT);
  print_message("%s\n", se_msg());
  assert_non_null(strstr(se_msg(), "refusing"));
  assert_se_error(tgt_mem_read(&f->m, addr_of(g_buf), b, SIZE_MAX / 2), SE_CORRUPT);
  assert_se_error(tgt_mem_read(&f->m, UINT64_MAX - 3, b, 8), SE_CORRUPT);
  assert_non_null(strstr(se_msg(), "wraps"));
  assert_se_error(tgt_mem_read_live(&f->m, UINT64_MAX - 3, b, 8), SE_CORRUPT);
  uint64_t w;
  assert_se_error(tgt_mem_read_u64(&f->m, UINT64_MAX - 3, &w), SE_CORRUPT);
  detach(f);
}

static void test_mem_cache_serves_one_stop_until_invalidated(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  uint8_t b[8];
  assert_int_equal(tgt_mem_read(&f->m, addr_of(g_buf) + 40, b, sizeof b), 0);
  expect_pattern(b, 40, sizeof b, 1);
  detach(f);
  send_cmd(f, 'g'); /* the child writes generation 2 */
  wait_byte(f, 'g');
  attach(f);
  uint64_t hits = f->m.n_cache_hits;
  assert_int_equal(tgt_mem_read(&f->m, addr_of(g_buf) + 40, b, sizeof b), 0);
  assert_int_equal(f->m.n_cache_hits, hits + 1);
  expect_pattern(b, 40, sizeof b, 1); /* the last stop's page: why the cache must be invalidated */
  assert_int_equal(tgt_mem_read_live(&f->m, addr_of(g_buf) + 40, b, sizeof b), 0);
  expect_pattern(b, 40, sizeof b, 2);
  tgt_mem_invalidate(&f->m);
  assert_int_equal(tgt_mem_read(&f->m, addr_of(g_buf) + 40, b, sizeof b), 0);
  expect_pattern(b, 40, sizeof b, 2);
  uint64_t w;
  assert_int_equal(tgt_mem_read_u64(&f->m, addr_of(&g_word), &w), 0);
  assert_int_equal(w, word_of(2));
  detach(f);
}

static void test_mem_fallback_through_proc_pid_mem_gives_the_same_bytes(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  f->m.no_vm_readv = true;
  static uint8_t got[BUF_LEN];
  memset(got, 0, sizeof got);
  assert_int_equal(tgt_mem_read(&f->m, addr_of(g_buf), got, BUF_LEN), 0);
  expect_pattern(got, 0, BUF_LEN, 1);
  assert_true(f->m.memfd >= 0); /* the bytes came through /proc/PID/mem */
  check_readv_unmapped_element(f);
  uint64_t w;
  assert_int_equal(tgt_mem_read_u64(&f->m, addr_of(&g_word), &w), 0);
  assert_int_equal(w, word_of(1));
  detach(f);
}

static void test_mem_reads_a_page_process_vm_readv_refuses(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  uint8_t got[64];
  struct iovec local = {got, sizeof got}, remote = {(void *)(uintptr_t)f->noaccess, sizeof got};
  assert_int_equal(process_vm_readv(f->pid, &local, 1, &remote, 1, 0), -1); /* PROT_NONE */
  assert_int_equal(tgt_mem_read(&f->m, f->noaccess, got, sizeof got), 0);
  expect_pattern(got, 0, sizeof got, 9);
  assert_true(f->m.memfd >= 0);
  detach(f);
}

static void test_mem_readv_large_batch_reads_every_element(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  enum { N = 1024 }; /* past mem.c's threshold for the second reader thread */
  static uint64_t got[N];
  static tgt_iov v[N];
  for (size_t i = 0; i < N; i++) v[i] = (tgt_iov){addr_of(g_buf) + 8 * i, &got[i], 8, false};
  v[3].addr = UNMAPPED;     /* one in each half */
  v[N - 5].addr = UNMAPPED;
  assert_int_equal(tgt_mem_readv(&f->m, v, N), 0);
  for (size_t i = 0; i < N; i++) {
    bool want = i != 3 && i != N - 5;
    if (v[i].ok != want) fail_msg("element %zu: ok %d, expected %d", i, v[i].ok, want);
    if (want) expect_pattern((const uint8_t *)&got[i], 8 * i, 8, 1);
  }
  assert_true(f->m.worker != NULL || f->m.no_worker);
  detach(f);
}

/* ---- trace.c -------------------------------------------------------------- */

static uint8_t text_byte(uint64_t addr) { return *(const volatile uint8_t *)(uintptr_t)addr; }

static uint8_t live_byte(fixture *f, uint64_t addr) {
  uint8_t b = 0;
  int rc = tgt_mem_read_live(&f->m, addr, &b, 1);
  if (rc) fail_msg("reading the child's code at 0x%llx: %s", (unsigned long long)addr, se_msg());
  return b;
}

static void bp_open(fixture *f) {
  int rc = tgt_bp_open(f->pid);
  if (rc) fail_msg("tgt_bp_open: %s", se_msg());
}

/* A child, attached, with breakpoints open on it: where every trace test starts. */
static void start_traced(fixture *f) {
  child_start(f);
  attach(f);
  bp_open(f);
}

static void insert(fixture *f, uint64_t addr) {
  int rc = tgt_bp_insert(addr);
  if (rc) fail_msg("tgt_bp_insert(0x%llx): %s", (unsigned long long)addr, se_msg());
  assert_int_equal(live_byte(f, addr), 0xCC);
}

static tgt_event wait_event(fixture *f) {
  volatile int stop = 0;
  tgt_event ev;
  int rc = tgt_trace_wait(&f->s, &stop, &ev);
  if (rc) fail_msg("tgt_trace_wait: %s", se_msg());
  return ev;
}

static void expect_hit(fixture *f, const tgt_event *ev, uint64_t addr) {
  if (ev->kind != TGT_EV_BREAKPOINT) fail_msg("event %d, expected a breakpoint hit", (int)ev->kind);
  print_message("hit at 0x%llx by thread %d\n", (unsigned long long)ev->addr, (int)ev->tid);
  assert_int_equal(ev->addr, addr);
  assert_int_equal(ev->regs.rip, addr);
  assert_true(tgt_has_thread(&f->s, ev->tid));
}

/* Release (every int3 out), detach, and the child runs free. */
static void release_and_detach(fixture *f, const uint64_t *addrs, size_t n) {
  int rc = tgt_trace_release(&f->s);
  if (rc) fail_msg("tgt_trace_release: %s", se_msg());
  assert_int_equal(tgt_bp_count(), 0);
  for (size_t i = 0; i < n; i++) assert_int_equal(live_byte(f, addrs[i]), text_byte(addrs[i]));
  detach(f);
  assert_child_runs_free(f);
}

static void test_bp_insert_writes_int3_and_remove_restores_the_byte(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  start_traced(f);
  uint64_t at = tick_addr();
  uint8_t orig = text_byte(at); /* the child's code is the parent's */
  assert_int_equal(live_byte(f, at), orig);
  assert_true(orig != 0xCC);
  insert(f, at);
  assert_true(tgt_bp_is(at));
  assert_int_equal(tgt_bp_count(), 1);
  insert(f, at); /* idempotent */
  assert_int_equal(tgt_bp_count(), 1);
  assert_int_equal(tgt_bp_remove(at), 0);
  assert_int_equal(live_byte(f, at), orig);
  assert_false(tgt_bp_is(at));
  assert_true(tgt_bp_was(at));
  assert_int_equal(tgt_bp_count(), 0);
  insert(f, at);
  insert(f, code_addr(child_on_usr1));
  assert_int_equal(tgt_bp_count(), 2);
  assert_int_equal(tgt_bp_remove_all(), 0);
  assert_int_equal(live_byte(f, at), orig);
  assert_int_equal(live_byte(f, code_addr(child_on_usr1)), text_byte(code_addr(child_on_usr1)));
  assert_int_equal(tgt_bp_count(), 0);
  assert_se_error(tgt_bp_insert(at), SE_ERR); /* closed by remove_all */
  detach(f);
  assert_child_runs_free(f);
}

static void test_trace_wait_reports_a_breakpoint_hit_at_its_address(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  start_traced(f);
  uint64_t at = tick_addr();
  insert(f, at);
  assert_int_equal(tgt_trace_resume(&f->s), 0);
  tgt_event ev = wait_event(f);
  expect_hit(f, &ev, at);
  assert_true(ev.tid != f->pid); /* only the workers tick */
  struct user_regs_struct r;
  assert_int_equal(tgt_getregs(&f->s, ev.tid, &r), 0);
  assert_int_equal(r.rip, at);
  assert_int_equal(tgt_trace_stop_all(&f->s), 0);
  assert_int_equal(tgt_threads_running(&f->s), 0);
  release_and_detach(f, &at, 1);
}

/* The instruction child_tick starts with is stepped, not emulated: every
 * other thread stops meanwhile. */
static void test_trace_pass_steps_over_and_hits_again(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  uint64_t at = tick_addr();
  tgt_insn insn;
  bool emulable = tgt_insn_decode((const uint8_t *)(uintptr_t)at, 16, &insn);
  print_message("child_tick starts with 0x%02x: %s\n", text_byte(at), emulable ? "emulated" : "stepped");
  attach(f);
  bp_open(f);
  insert(f, at);
  assert_int_equal(tgt_trace_resume(&f->s), 0);
  for (int hit = 0; hit < 5; hit++) {
    tgt_event ev = wait_event(f);
    expect_hit(f, &ev, at);
    bool all = emulable; /* the wrong answer: tgt_trace_pass must set it */
    int rc = tgt_trace_pass(&f->s, ev.tid, ev.addr, &ev.regs, NULL, &all);
    if (rc) fail_msg("tgt_trace_pass: %s", se_msg());
    assert_int_equal(all, !emulable);
    assert_true(tgt_bp_is(at)); /* back in after the step */
  }
  release_and_detach(f, &at, 1);
}

/* unit_target_leaf starts with mov eax, 42: passed by emulation, no other
 * thread stopped, and the function still returns 42 in every worker. */
static void test_trace_pass_emulates_without_stopping_others(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  uint64_t at = (uint64_t)(uintptr_t)unit_target_leaf;
  attach(f);
  bp_open(f);
  insert(f, at);
  uint64_t ok_before[NWORKERS];
  read_live_u64s(f, g_leaf_ok, ok_before, NWORKERS);
  assert_int_equal(tgt_trace_resume(&f->s), 0);
  for (int hit = 0; hit < 5; hit++) {
    tgt_event ev = wait_event(f);
    expect_hit(f, &ev, at);
    bool all = true;
    int rc = tgt_trace_pass(&f->s, ev.tid, ev.addr, &ev.regs, NULL, &all);
    if (rc) fail_msg("tgt_trace_pass: %s", se_msg());
    assert_false(all);
  }
  release_and_detach(f, &at, 1);
  wait_workers_pass(f, g_leaf_ok, ok_before, "unit_target_leaf calls");
  uint64_t bad[NWORKERS];
  read_live_u64s(f, g_leaf_bad, bad, NWORKERS);
  for (unsigned i = 0; i < NWORKERS; i++) assert_int_equal(bad[i], 0);
}

static void test_trace_wait_hands_signals_back_to_the_target(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  uint64_t at = code_addr(child_on_usr1);
  attach(f);
  bp_open(f);
  insert(f, at);
  assert_int_equal(tgt_trace_resume(&f->s), 0);
  assert_int_equal(kill(f->pid, SIGUSR1), 0);
  tgt_event ev = wait_event(f); /* the handler runs only if the signal went back */
  expect_hit(f, &ev, at);
  assert_true(ev.signals_passed >= 1);
  release_and_detach(f, &at, 1);
  wait_byte(f, 'u'); /* the handler went on past the breakpoint */
}

static void test_trace_wait_reports_the_exit_status(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  assert_int_equal(tgt_trace_resume(&f->s), 0);
  send_cmd(f, 'q');
  tgt_event ev = wait_event(f);
  assert_int_equal(ev.kind, TGT_EV_EXITED);
  assert_int_equal(ev.exit_status, 7);
  assert_int_equal(ev.exit_signal, 0);
  assert_true(f->s.ended);
  assert_int_equal(kill(f->pid, 0), -1); /* reaped by the wait */
  f->pid = 0;
  detach(f);
}

static void test_trace_wait_reports_exec_with_one_thread_left(void **state) {
  NEED_PTRACE();
  if (access("/bin/sleep", X_OK) != 0) skip();
  fixture *f = *state;
  child_start(f);
  attach(f);
  assert_int_equal(tgt_trace_resume(&f->s), 0);
  send_cmd(f, 'x');
  tgt_event ev = wait_event(f);
  assert_int_equal(ev.kind, TGT_EV_EXEC);
  assert_int_equal(ev.tid, f->pid);
  assert_int_equal(f->s.nthreads, 1);
  assert_int_equal(f->s.threads[0].tid, f->pid);
  tgt_procinfo pi;
  assert_int_equal(tgt_proc_info(f->pid, &pi), 0);
  print_message("after exec: %s\n", pi.exe);
  assert_non_null(strstr(pi.exe, "sleep"));
  detach(f);
  assert_int_equal(tgt_proc_info(f->pid, &pi), 0);
  assert_int_equal(pi.tracer, 0);
}

/* A breakpoint in an image the process left by exec: taking it out is no
 * error (there is nothing to restore), and the new image is not written. */
static void test_bp_remove_after_exec_is_quiet(void **state) {
  NEED_PTRACE();
  if (access("/bin/sleep", X_OK) != 0) skip();
  fixture *f = *state;
  start_traced(f);
  insert(f, code_addr(child_on_usr1)); /* never called: the next event is the exec */
  assert_int_equal(tgt_trace_resume(&f->s), 0);
  send_cmd(f, 'x');
  tgt_event ev = wait_event(f);
  assert_int_equal(ev.kind, TGT_EV_EXEC);
  int rc = tgt_bp_remove_all();
  if (rc) fail_msg("tgt_bp_remove_all after exec: %s", se_msg());
  assert_int_equal(tgt_bp_count(), 0);
  detach(f);
}

static void test_trace_wait_returns_at_once_when_asked_to_stop(void **state) {
  NEED_PTRACE();
  fixture *f = *state;
  child_start(f);
  attach(f);
  assert_int_equal(tgt_trace_resume(&f->s), 0);
  volatile int stop = 1;
  tgt_event ev;
  assert_int_equal(tgt_trace_wait(&f->s, &stop, &ev), 0);
  assert_int_equal(ev.kind, TGT_EV_INTERRUPTED);
  assert_int_equal(tgt_trace_stop_all(&f->s), 0);
  assert_int_equal(tgt_threads_running(&f->s), 0);
  release_and_detach(f, NULL, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
    T(test_proc_info_of_a_child_names_its_exe_and_state),
    T(test_proc_info_of_no_such_pid_is_noproc_naming_it),
    T(test_proc_threads_lists_every_thread_of_the_child),
    T(test_proc_load_bias_is_the_executables),
    T(test_proc_resident_counts_the_pages_the_child_wrote),
    T(test_attach_stops_every_thread_of_the_child),
    T(test_detach_lets_every_thread_run_again),
    T(test_signal_sent_while_stopped_reaches_the_child_after_detach),
    T(test_second_attach_is_refused_naming_the_tracer),
    T(test_detach_of_another_session_keeps_the_crash_release_armed),
    T(test_attach_to_self_is_refused),
    T(test_attach_to_an_exited_child_fails_with_a_message),
    T(test_mem_read_gives_the_childs_bytes),
    T(test_mem_readv_fails_only_the_unmapped_element),
    T(test_mem_refuses_absurd_lengths_and_wraparound),
    T(test_mem_cache_serves_one_stop_until_invalidated),
    T(test_mem_fallback_through_proc_pid_mem_gives_the_same_bytes),
    T(test_mem_reads_a_page_process_vm_readv_refuses),
    T(test_mem_readv_large_batch_reads_every_element),
    T(test_bp_insert_writes_int3_and_remove_restores_the_byte),
    T(test_trace_wait_reports_a_breakpoint_hit_at_its_address),
    T(test_trace_pass_steps_over_and_hits_again),
    T(test_trace_pass_emulates_without_stopping_others),
    T(test_trace_wait_hands_signals_back_to_the_target),
    T(test_trace_wait_reports_the_exit_status),
    T(test_trace_wait_reports_exec_with_one_thread_left),
    T(test_bp_remove_after_exec_is_quiet),
    T(test_trace_wait_returns_at_once_when_asked_to_stop),
};

UNIT_MAIN(tests)
