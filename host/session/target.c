/* target.c: open, stop, read, let go (target.h). */
#include "session/target.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sonde/plugin.h>

#include "base/error.h"
#include "base/sys.h"
#include "goruntime/symbolize.h"
#include "session/signals.h"

/* The executable at path, and what reading its runtime needs. */
static int load_program(gr_program *p, const char *path) {
  int rc = gr_program_open(p, path);
  return rc ? rc : gr_program_load_runtime(p);
}

static int open_program(ses_target *t) {
  char exe[64];
  snprintf(exe, sizeof exe, "/proc/%d/exe", (int)t->pid);
  int rc = load_program(&t->prog, exe);
  if (rc == 0) return 0;
  char who[160];
  se_kept k;
  se_keep(&k); /* describing the process clears it */
  tgt_proc_describe(t->pid, who, sizeof who);
  if ((rc == SE_IO || rc == SE_PERM) && tgt_proc_dying(t->pid, t->pid))
    return se_set(SE_EXITED, "process %d exited while sonde was reading it (its executable)", (int)t->pid);
  /* /proc/PID/exe is guarded by the same check as ptrace: say why */
  if (rc == SE_PERM || (rc == SE_IO && !t->info.exe[0])) return tgt_permission_error(t->pid);
  (void)se_restore(&k);
  return se_wrap(rc, "%s", who);
}

int ses_open_file(const char *path, ses_target *t) {
  memset(t, 0, sizeof *t);
  t->mem.memfd = -1;
  snprintf(t->info.exe, sizeof t->info.exe, "%s", path);
  return load_program(&t->prog, path);
}

int ses_open_target(pid_t pid, ses_target *t) {
  memset(t, 0, sizeof *t);
  t->pid = pid;
  t->mem.memfd = -1;
  int rc = tgt_proc_info(pid, &t->info);
  if (rc) return rc;
  return open_program(t);
}

int ses_snapshot(pid_t pid, const gr_snapshot_opts *o, ses_target *t) {
  int rc = ses_open_target(pid, t);
  return rc ? rc : ses_capture(t, o);
}

static int read_goroutines(ses_target *t, tgt_session *sess, void *payload) {
  return gr_snapshot_take(&t->prog, sess, payload, &t->snap);
}

int ses_read_heap(ses_target *t, tgt_session *sess, void *req) {
  (void)sess;
  ses_heap_req *r = req;
  return gr_heap_read(&t->prog, r->types, r->heap);
}

int ses_read_stop(ses_target *t, tgt_session *sess, void *req) {
  ses_stop_req *r = req;
  gr_snapshot *snap = r->snap ? r->snap : &t->snap;
  int rc = gr_snapshot_take(&t->prog, sess, &r->so, snap);
  if (!rc && r->heap) rc = gr_heap_read(&t->prog, r->types, r->heap);
  if (!rc && r->waits) rc = gr_waits_take(&t->prog, snap, r->waits);
  if (!rc && r->reach) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = gr_reach_take(&t->prog, sess, snap, r->waits, r->heap, r->reach);
    clock_gettime(CLOCK_MONOTONIC, &b);
    r->reach_ns = (uint64_t)(sys_ms_between(&a, &b) * 1e6);
  }
  return rc;
}

int ses_stop_req_for(const gr_program *p, uint32_t flags, gr_heap *heap, gr_waits *waits, gr_reach *reach,
                     ses_stop_req *out) {
  bool leaks = flags & SONDE_CMD_NEEDS_LEAKS;
  bool need_heap = (flags & SONDE_CMD_NEEDS_HEAP) || leaks, need_waits = (flags & SONDE_CMD_NEEDS_WAITS) || leaks;
  *out = (ses_stop_req){.so = {.include_system = leaks}, .heap = need_heap ? heap : NULL,
                        .types = flags & SONDE_CMD_NEEDS_HEAP, .waits = need_waits ? waits : NULL,
                        .reach = leaks ? reach : NULL};
  int rc = need_heap ? gr_heap_supported(p) : 0;
  return rc || !need_waits ? rc : gr_waits_supported(p);
}

int ses_capture(ses_target *t, const gr_snapshot_opts *o) {
  return ses_capture_with(t, read_goroutines, (void *)(uintptr_t)o);
}

int ses_capture_with(ses_target *t, ses_reader read, void *payload) {
  pid_t pid = t->pid;
  int rc;

  /* Signals that would end sonde wait until the target runs again. */
  sigset_t block, old;
  sig_fatal_set(&block);
  sigprocmask(SIG_BLOCK, &block, &old);

  tgt_session sess;
  rc = tgt_attach(pid, &sess);
  if (rc == 0) {
    t->nthreads = sess.nthreads;
    t->attach_ms = sys_ms_between(&sess.t_attach, &sess.t_all_stopped);
    if (!t->bound && (rc = tgt_mem_open(&t->mem, pid)) == 0 &&
        (rc = gr_program_bind(&t->prog, pid, t->info.exe, &t->mem)) == 0)
      t->bound = true;
    if (t->bound) rc = read(t, &sess, payload);
    tgt_mem_invalidate(&t->mem);
    /* keep the first error's message; a detach failure is reported only alone */
    se_kept k;
    se_keep(&k);
    int drc = tgt_detach(&sess);
    t->stop_ms = sys_ms_between(&sess.t_attach, &sess.t_detached);
    if (rc) (void)se_restore(&k); /* rc stays the failure's own code */
    else rc = drc;
    if (rc == SE_CORRUPT || rc == SE_EXITED) {
      /* Was it the process going away under us? Then say that. */
      tgt_procinfo pi;
      if (tgt_proc_info(pid, &pi) == SE_NOPROC) rc = se_set(SE_EXITED, "process %d exited while sonde was reading it", (int)pid);
    }
  }
  sigprocmask(SIG_SETMASK, &old, NULL); /* a pending SIGINT, SIGTERM... ends sonde here */
  /* Read, then print: the model is resolved once, with the target running */
  if (rc == 0) {
    struct timespec r0, r1;
    clock_gettime(CLOCK_MONOTONIC, &r0);
    rc = gr_sym_resolve(&t->prog, &t->snap, t->all_frames);
    clock_gettime(CLOCK_MONOTONIC, &r1);
    t->resolve_ms = sys_ms_between(&r0, &r1);
  }
  return rc;
}

void ses_target_free(ses_target *t) {
  gr_snapshot_free(&t->snap);
  tgt_mem_close(&t->mem);
  gr_program_close(&t->prog);
}
