/* session_bp.c: breakpoints (--break's and plugins'), starting a program
 * under sonde (exec: held before exec until seized, armed at its entry),
 * and arming: binding the program to the process, inserting breakpoints. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sys.h"
#include "session/session_priv.h"
#include "session/signals.h"

static bool pc_used(const session *s, uint64_t pc, const sbp *except) {
  for (size_t i = 0; i < s->nbps; i++) {
    const sbp *b = &s->bps[i];
    if (b == except || !b->active) continue;
    for (size_t k = 0; k < b->loc.npcs; k++)
      if (b->loc.pcs[k] == pc) return true;
  }
  return false;
}

static int bp_remove_pcs(session *s, sbp *b) {
  int rc = 0;
  for (size_t k = 0; k < b->loc.npcs; k++)
    if (!pc_used(s, b->loc.pcs[k], b)) {
      int r = tgt_bp_remove(b->loc.pcs[k]);
      if (r && !rc) rc = r;
    }
  return rc;
}

/* Inserts b's resolved pcs (those of the bound program). */
int ss_bp_insert(session *s, sbp *b) {
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < b->loc.npcs; k++) rc = tgt_bp_insert(b->loc.pcs[k]);
  if (rc) {
    se_kept k;
    se_keep(&k);
    bp_remove_pcs(s, b);
    (void)se_restore(&k);
    return se_wrap(rc, "breakpoint at %s", b->spec);
  }
  b->active = true;
  return 0;
}

sbp *ss_bp_new(session *s, const char *spec, int owner) {
  if (s->nbps == MAX_BPS) {
    se_set(SE_USAGE, "more than %d breakpoints", MAX_BPS);
    return NULL;
  }
  sbp *b = &s->bps[s->nbps++];
  memset(b, 0, sizeof *b);
  b->id = ++s->next_id;
  b->spec = spec;
  b->owner = owner;
  return b;
}

int ss_op_bp_set(void *ctx, plg_plugin *p, const char *location, uint64_t *id) {
  session *s = ctx;
  int rc = ss_need_bound(s);
  if (rc) return rc;
  char *copy = strdup(location);
  if (!copy) return se_set(SE_ERR, "out of memory");
  sbp *b = ss_bp_new(s, copy, (int)(p - s->p));
  if (!b) {
    free(copy);
    return SE_USAGE;
  }
  b->owned_spec = copy;
  rc = gr_locate(&s->t.prog.pcln, b->spec, &b->loc); /* the bound program's pcs */
  if (rc == 0) rc = ss_bp_insert(s, b);
  if (rc) {
    free(copy);
    s->nbps--;
    s->next_id--;
    return rc;
  }
  *id = b->id;
  return 0;
}

int ss_op_bp_clear(void *ctx, plg_plugin *p, uint64_t id) {
  session *s = ctx;
  for (size_t i = 0; i < s->nbps; i++) {
    sbp *b = &s->bps[i];
    if (b->id != id || !b->active) continue;
    if (b->owner != (int)(p - s->p)) return se_set(SE_USAGE, "it belongs to %s", b->owner < 0 ? "--break" : s->p[b->owner].name);
    int rc = bp_remove_pcs(s, b);
    b->active = false;
    return rc;
  }
  return se_set(SE_USAGE, "there is no such breakpoint");
}

sbp *ss_bp_at(session *s, uint64_t pc) {
  for (size_t i = 0; i < s->nbps; i++) {
    sbp *b = &s->bps[i];
    if (!b->active) continue;
    for (size_t k = 0; k < b->loc.npcs; k++)
      if (b->loc.pcs[k] == pc) return b;
  }
  return NULL;
}

/* The program is at its entry (or attached): addresses are final. */
int ss_bind_and_arm(session *s) {
  uint64_t file_text = s->t.prog.pcln.text; /* what the --break locations were resolved against */
  int rc = gr_program_bind(&s->t.prog, s->t.pid, s->t.info.exe, &s->t.mem);
  if (rc) return rc;
  s->bound = true;
  /* The pclntab's pcs are offsets from text: moving them is all binding
   * changes, so the lines are not looked up again while the target waits. */
  for (size_t i = 0; i < s->nbps && rc == 0; i++) {
    sbp *b = &s->bps[i];
    for (size_t k = 0; k < b->loc.npcs; k++) b->loc.pcs[k] = b->loc.pcs[k] - file_text + s->t.prog.pcln.text;
    rc = ss_bp_insert(s, b);
  }
  if (rc) return rc;
  if (s->obs->armed) {
    sess_bp_info info[MAX_BPS];
    for (size_t i = 0; i < s->nbps; i++) info[i] = (sess_bp_info){s->bps[i].id, s->bps[i].spec, &s->bps[i].loc};
    s->obs->armed(s->obs->ctx, s->t.pid, s->o->exec_argv != NULL, s->t.prog.bi.go_version, info, s->nbps);
  }
  static char release[65];
  sys_kernel_release(release, sizeof release);
  s->pt = (plg_target){.pid = s->t.pid, .exe = s->t.info.exe, .kernel = release, .prog = &s->t.prog,
                       .mem = &s->t.mem, .session = &s->ops};
  s->ops = (plg_session_ops){.ctx = s, .snapshot = ss_op_snapshot, .hit_snapshot = ss_op_hit_snapshot,
                             .heap = ss_op_heap, .breakpoint_set = ss_op_bp_set, .breakpoint_clear = ss_op_bp_clear,
                             .every = ss_op_every};
  return 0;
}

/* Resolves PROGRAM as execvp would, to the absolute path the kernel maps. */
int ss_find_program(const char *name, char *out, size_t n) {
  char cand[PATH_MAX];
  if (strchr(name, '/')) {
    snprintf(cand, sizeof cand, "%s", name);
  } else {
    const char *path = getenv("PATH");
    bool found = false;
    for (const char *d = path ? path : "/usr/local/bin:/usr/bin:/bin"; d && !found;) {
      const char *end = strchr(d, ':');
      size_t len = end ? (size_t)(end - d) : strlen(d);
      snprintf(cand, sizeof cand, "%.*s/%s", (int)len, len ? d : ".", name);
      found = access(cand, X_OK) == 0;
      d = end ? end + 1 : NULL;
    }
    if (!found) return se_set(SE_USAGE, "no program '%s' in $PATH", name);
  }
  if (access(cand, X_OK) != 0) return se_set(SE_USAGE, "cannot run %s: %s", cand, strerror(errno));
  if (!realpath(cand, out)) return se_set(SE_USAGE, "cannot run %s: %s", cand, strerror(errno));
  (void)n;
  return 0;
}

/* Forks the program, held before exec until sonde has seized it. */
int ss_start_program(session *s) {
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) return se_set(SE_ERR, "pipe: %s", strerror(errno));
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return se_set(SE_ERR, "fork: %s", strerror(errno));
  if (pid == 0) {
    sig_child_defaults();
    close(gate[1]);
    char c;
    while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
    }
    execv(s->t.info.exe, s->o->exec_argv);
    fprintf(stderr, "sonde: cannot run %s: %s\n", s->t.info.exe, strerror(errno));
    _exit(127);
  }
  close(gate[0]);
  s->child = pid;
  s->t.pid = pid;
  int rc = tgt_attach(pid, &s->ts);
  if (rc == 0) rc = tgt_trace_resume(&s->ts);
  if (rc) { /* the program has not started: it never runs untraced */
    se_kept k;
    se_keep(&k);
    tgt_detach(&s->ts);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->child = 0;
    close(gate[1]);
    (void)se_restore(&k);
    return se_wrap(rc, "cannot trace the program");
  }
  close(gate[1]); /* the child execs now; sonde sees the exec as an event */
  s->starting = true;
  return rc;
}

/* At the exec stop: the new image is mapped; the dynamic loader, if any,
 * has not run, so breakpoints wait for the program's entry. */
int ss_at_exec(session *s, const tgt_event *ev) {
  int rc = tgt_mem_open(&s->t.mem, s->t.pid);
  if (rc == 0) rc = tgt_bp_open(s->t.pid);
  if (rc) return rc;
  uint64_t bias = 0;
  if (s->t.prog.img.is_dyn && (rc = tgt_proc_load_bias(s->t.pid, s->t.info.exe, s->t.prog.img.first_vaddr, &bias)))
    return rc;
  uint64_t entry = s->t.prog.img.entry + bias;
  struct user_regs_struct r;
  if ((rc = tgt_getregs(&s->ts, ev->tid, &r))) return rc;
  if (r.rip == entry) {
    s->starting = false;
    return ss_bind_and_arm(s);
  }
  s->entry_bp = entry;
  return tgt_bp_insert(entry);
}

/* A hit on the program's entry (exec): the dynamic loader is done. */
int ss_at_entry(session *s, const tgt_event *ev) {
  (void)ev;
  int rc = tgt_bp_remove(s->entry_bp); /* the thread sits rewound on the original instruction */
  s->entry_bp = 0;
  s->starting = false;
  if (rc == 0) rc = ss_bind_and_arm(s);
  return rc;
}
