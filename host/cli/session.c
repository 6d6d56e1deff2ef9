/* session.c: the engine behind `sonde attach` and `sonde exec` (session.h).
 *
 * One loop waits for the target's events. A breakpoint hit first stops only
 * the thread that hit; the conditions (--goid, --nth) are decided with that
 * thread alone, and a hit that is not reported is passed on without
 * stopping anyone else (tgt_trace_pass). A reported hit stops every thread
 * (all-stop) before any plugin code or command runs, unless --non-stop.
 *
 * The goroutine snapshot plugins ask for is taken on first use during a
 * stop and dropped when the target runs again. Plugins' own breakpoints
 * (breakpoint_set) live in the same table as --break's and are reported to
 * their owner only.
 *
 * Every way out goes through leave(): every thread stopped, every int3 out,
 * then detach. Every signal that would end sonde (signals.h) only sets a
 * flag; they are blocked whenever the target is stopped, so they act once
 * it runs. A closed output (SIGPIPE) ends the session the same way. */
#include "cli/session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "cli/cli.h"
#include "cli/signals.h"
#include "goruntime/heap.h"
#include "goruntime/locate.h"
#include "plugins/loader.h"
#include "target/trace.h"

enum { MAX_BPS = 96, HEARTBEAT_MS = 200 };

/* ---- actions ----------------------------------------------------------- */

int sess_action_parse(sess_action *a, sess_when when, double secs, const char *text) {
  memset(a, 0, sizeof *a);
  a->when = when;
  a->secs = secs;
  a->text = text;
  a->words = malloc(strlen(text) + 1);
  if (!a->words) return se_set(SE_ERR, "out of memory");
  char *w = a->words;
  const char *s = text;
  for (;;) {
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) break;
    if (a->argc == SESS_MAX_ARGS) return se_set(SE_USAGE, "'%s': more than %d words", text, SESS_MAX_ARGS);
    a->argv[a->argc++] = w;
    char quote = 0;
    for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
      if (quote && *s == quote) quote = 0;
      else if (!quote && (*s == '\'' || *s == '"')) quote = *s;
      else if (*s == '\\' && quote != '\'' && s[1]) *w++ = *++s;
      else *w++ = *s;
    }
    if (quote) return se_set(SE_USAGE, "'%s': a quote is not closed", text);
    *w++ = 0;
  }
  a->argv[a->argc] = NULL;
  if (a->argc < 2)
    return se_set(SE_USAGE, "'%s' is not a plugin command: give 'PLUGIN COMMAND [ARGS]', such as 'stackdiff snapshot'",
                  text);
  return 0;
}

void sess_opts_free(sess_opts *o) {
  for (size_t i = 0; i < o->nactions; i++) {
    free(o->actions[i].words);
    free(o->actions[i].owned_text);
  }
  o->nactions = 0;
}

/* ---- the session ------------------------------------------------------- */

typedef struct {
  uint64_t id;
  const char *spec;
  char *owned_spec;
  gr_location loc;
  int owner; /* -1: --break; else the index of the plugin that set it */
  bool active;
} sbp;

typedef struct {
  sess_opts *o;
  cli_target t;
  tgt_session ts;
  penv pe;
  bool have_pe;
  plg_plugin p[SESS_MAX_PLUGINS];
  size_t np;
  bool plugin_failed;
  bool found; /* a command found what it checks for (PLG_FOUND), in some run */
  plg_target pt;
  plg_session_ops ops;
  sbp bps[MAX_BPS];
  size_t nbps;
  uint64_t next_id;
  /* exec: the program's entry, where breakpoints go in */
  bool starting;
  uint64_t entry_bp;
  pid_t child;
  /* now */
  bool bound, all_stopped, exited, exit_known;
  int exit_status, exit_signal;
  gr_snapshot snap;
  bool have_snap;
  const tgt_event *hit; /* during a reported hit */
  uint64_t hit_g;       /* its g (R14), 0 when not a goroutine */
  gr_snapshot hit_snap;
  bool have_hit_snap;
  gr_heap heap;
  bool have_heap;
  gr_waits waits; /* for a command that declared it reads them (pt.waits) */
  gr_reach reach; /* likewise, the leak verdicts (pt.reach) */
  sonde_state state;
  sigset_t block, old;
  /* counts */
  uint64_t total, matched, reported, passed, emulated;
  struct timespec t0;
  struct timespec stop_t0; /* when every thread last stopped */
  uint64_t nstops;
  uint64_t rounds; /* of --every commands */
  double stopped_ms, longest_ms; /* every thread stopped: in all, the longest stop */
  double next_every[SESS_MAX_ACTIONS]; /* seconds since t0 */
  const char *why;
} session;

static double since(const session *s) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return tgt_ms_between(&s->t0, &now) / 1000;
}

static void report(session *s, int rc) {
  if (rc == PLG_FOUND) s->found = true;
  if (rc >= 0) return; /* 0, or PLG_FOUND: a command's finding is not a failure */
  fprintf(stderr, "sonde: %s\n", se_msg());
  se_clear();
  s->plugin_failed = true;
}

static void set_state(session *s, sonde_state to, sonde_reason why) {
  sonde_state from = s->state;
  s->state = to;
  for (size_t i = 0; i < s->np; i++) report(s, plg_state_change(&s->p[i], from, to, why));
}

/* The goroutine running at a breakpoint: Go's register ABI keeps it in R14
 * (ABIInternal, Go 1.17+). Checked: the stack pointer lies within that g's
 * stack, else the goid is reported as unknown (0). The same read fetches
 * g.stackguard0, which passing a function's stack check needs. */
static uint64_t current_goid(session *s, const struct user_regs_struct *r, tgt_word *guard) {
  const gr_layout *L = &s->t.prog.layout;
  uint64_t g = r->r14, lo = 0, hi = 0, goid = 0, sg = 0;
  guard->addr = 0;
  if (g == 0) return 0;
  tgt_iov v[4] = {{g + (uint64_t)GR_OFF(L, G_STACK_LO), &lo, sizeof lo, false},
                  {g + (uint64_t)GR_OFF(L, G_STACK_HI), &hi, sizeof hi, false},
                  {g + (uint64_t)GR_OFF(L, G_GOID), &goid, sizeof goid, false},
                  {g + (uint64_t)GR_OFF(L, G_STACKGUARD0), &sg, sizeof sg, false}};
  if (tgt_mem_readv(&s->t.mem, v, 4) != 0 || !v[0].ok || !v[1].ok || !v[2].ok || r->rsp < lo || r->rsp >= hi) {
    se_clear();
    return 0;
  }
  if (v[3].ok) *guard = (tgt_word){g + (uint64_t)GR_OFF(L, G_STACKGUARD0), sg};
  return goid;
}

/* ---- stops ------------------------------------------------------------- */

static int stop_all(session *s) {
  if (s->all_stopped) return 0;
  int rc = tgt_trace_stop_all(&s->ts);
  if (rc == 0) {
    s->all_stopped = true;
    clock_gettime(CLOCK_MONOTONIC, &s->stop_t0);
  }
  return rc;
}

/* How long every thread has been stopped in this stop, in ms. */
static double stopped_now(const session *s) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return s->all_stopped ? tgt_ms_between(&s->stop_t0, &now) : 0;
}

/* Drops what was read during the stop; the target may change from here. */
static void forget_stop(session *s) {
  if (s->have_snap) {
    gr_snapshot_free(&s->snap);
    s->have_snap = false;
  }
  s->pt.snap = NULL;
  if (s->have_hit_snap) {
    gr_snapshot_free(&s->hit_snap);
    s->have_hit_snap = false;
  }
  if (s->have_heap) {
    gr_heap_free(&s->heap);
    s->have_heap = false;
  }
  s->pt.heap = NULL;
  if (s->pt.waits) gr_waits_free(&s->waits);
  if (s->pt.reach) gr_reach_free(&s->reach);
  s->pt.waits = NULL;
  s->pt.reach = NULL;
  s->pt.reach_ns = s->pt.stop_ns = 0;
  tgt_mem_invalidate(&s->t.mem);
}

static int resume_all(session *s) {
  forget_stop(s);
  if (s->all_stopped) {
    double ms = stopped_now(s);
    s->nstops++;
    s->stopped_ms += ms;
    if (ms > s->longest_ms) s->longest_ms = ms;
  }
  s->all_stopped = false;
  return tgt_trace_resume(&s->ts);
}

/* What a command declared it reads (SONDE_CMD_NEEDS_HEAP, _WAITS, _LEAKS),
 * read now, in this stop, as a one-shot command reads it: the goroutines
 * again (with the runtime's own for the leak analysis), the heap, the
 * waits, the verdicts. Every thread is stopped. */
static int read_for(session *s, const sonde_command *c) {
  if (!(c->flags & (SONDE_CMD_NEEDS_HEAP | SONDE_CMD_NEEDS_WAITS | SONDE_CMD_NEEDS_LEAKS))) return 0;
  cli_stop_req req;
  int rc = cli_stop_req_for(&s->t.prog, c->flags, &s->heap, &s->waits, &s->reach, &req);
  if (rc) return rc;
  double before = stopped_now(s);
  forget_stop(s); /* what other commands read in this stop: read again, as this one needs */
  req.snap = &s->snap;
  rc = cli_read_stop(&s->t, &s->ts, &req);
  s->have_snap = true; /* all freed by forget_stop, even when half read */
  s->have_heap = req.heap != NULL;
  s->pt.waits = req.waits;
  s->pt.reach = req.reach;
  if (rc) return rc;
  if (req.heap) gr_heap_settle(s->t.pid, &s->heap);
  s->pt.snap = &s->snap;
  s->pt.snap_gen++;
  s->pt.heap = req.heap;
  s->pt.reach_ns = req.reach_ns;
  s->pt.stop_ns = (uint64_t)((stopped_now(s) - before) * 1e6);
  return 0;
}

static gr_snapshot *op_snapshot(void *ctx) {
  session *s = ctx;
  if (s->have_snap) return &s->snap;
  if (!s->bound) {
    se_set(SE_ERR, "the program has not started yet");
    return NULL;
  }
  if (stop_all(s) != 0) return NULL;
  gr_snapshot_opts so = {0};
  if (gr_snapshot_take(&s->t.prog, &s->ts, &so, &s->snap) != 0) return NULL;
  s->have_snap = true;
  s->pt.snap = &s->snap;
  s->pt.snap_gen++;
  return &s->snap;
}

static gr_heap *op_heap(void *ctx) {
  session *s = ctx;
  if (s->have_heap) return &s->heap;
  if (!s->bound) {
    se_set(SE_ERR, "the program has not started yet");
    return NULL;
  }
  if (gr_heap_supported(&s->t.prog) != 0 || stop_all(s) != 0) return NULL;
  if (gr_heap_read(&s->t.prog, true, &s->heap) != 0) return NULL;
  gr_heap_settle(s->t.pid, &s->heap);
  s->have_heap = true;
  return &s->heap;
}

static gr_snapshot *op_hit_snapshot(void *ctx) {
  session *s = ctx;
  if (s->have_hit_snap) return &s->hit_snap;
  if (!s->hit) {
    se_set(SE_ERR, "there is no breakpoint hit now");
    return NULL;
  }
  if (!s->hit_g) {
    se_set(SE_ERR, "the thread at this hit is not running a goroutine sonde can find");
    return NULL;
  }
  const struct user_regs_struct *r = &s->hit->regs;
  if (gr_snapshot_one(&s->t.prog, s->hit_g, (int32_t)s->hit->tid, r->rip, r->rsp, &s->hit_snap) != 0) return NULL;
  s->have_hit_snap = true;
  return &s->hit_snap;
}

static sonde_regs regs_of(const struct user_regs_struct *r) {
  return (sonde_regs){.rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
                      .rbp = r->rbp, .rsp = r->rsp, .r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11,
                      .r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15, .rip = r->rip,
                      .rflags = r->eflags, .fs_base = r->fs_base};
}

/* ---- breakpoints ------------------------------------------------------- */

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
static int bp_insert(session *s, sbp *b) {
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < b->loc.npcs; k++) rc = tgt_bp_insert(b->loc.pcs[k]);
  if (rc) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", se_msg());
    bp_remove_pcs(s, b);
    return se_set(rc, "breakpoint at %s: %s", b->spec, msg);
  }
  b->active = true;
  return 0;
}

static sbp *bp_new(session *s, const char *spec, int owner) {
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

static int op_bp_set(void *ctx, plg_plugin *p, const char *location, uint64_t *id) {
  session *s = ctx;
  if (!s->bound) return se_set(SE_ERR, "the program has not started yet");
  char *copy = strdup(location);
  if (!copy) return se_set(SE_ERR, "out of memory");
  sbp *b = bp_new(s, copy, (int)(p - s->p));
  if (!b) {
    free(copy);
    return SE_USAGE;
  }
  b->owned_spec = copy;
  int rc = gr_locate(&s->t.prog.pcln, b->spec, &b->loc); /* the bound program's pcs */
  if (rc == 0) rc = bp_insert(s, b);
  if (rc) {
    free(copy);
    s->nbps--;
    s->next_id--;
    return rc;
  }
  *id = b->id;
  return 0;
}

static int op_bp_clear(void *ctx, plg_plugin *p, uint64_t id) {
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

static void arm_timer(const session *s);

/* A plugin's own --every (command_every, from its sonde.ini section). */
static int op_every(void *ctx, plg_plugin *p, uint64_t interval_ms, const char *command) {
  session *s = ctx;
  sess_opts *o = s->o;
  if (o->nactions == SESS_MAX_ACTIONS)
    return se_set(SE_USAGE, "there are already %d commands on events, the most a session runs", SESS_MAX_ACTIONS);
  if (interval_ms < 10 || interval_ms > 86400000ull)
    return se_set(SE_USAGE, "an interval of %llu ms: give 10 ms to a day", (unsigned long long)interval_ms);
  size_t n = strlen(p->name) + strlen(command) + 2;
  char *text = malloc(n);
  if (!text) return se_set(SE_ERR, "out of memory");
  snprintf(text, n, "%s %s", p->name, command);
  sess_action *a = &o->actions[o->nactions];
  int rc = sess_action_parse(a, SESS_AT_EVERY, (double)interval_ms / 1000.0, text);
  if (rc == 0 && !plg_command(p, a->argv[1])) rc = se_set(SE_USAGE, "%s has no command '%s'", p->name, a->argv[1]);
  if (rc) {
    free(a->words);
    free(text);
    memset(a, 0, sizeof *a);
    return rc;
  }
  a->owned_text = text;
  s->next_every[o->nactions] = since(s) + a->secs;
  o->nactions++;
  arm_timer(s);
  return 0;
}

static sbp *bp_at(session *s, uint64_t pc) {
  for (size_t i = 0; i < s->nbps; i++) {
    sbp *b = &s->bps[i];
    if (!b->active) continue;
    for (size_t k = 0; k < b->loc.npcs; k++)
      if (b->loc.pcs[k] == pc) return b;
  }
  return NULL;
}

/* ---- plugins and their commands --------------------------------------- */

static plg_plugin *plugin_named(session *s, const char *name) {
  for (size_t i = 0; i < s->np; i++)
    if (!strcmp(s->p[i].name, name)) return &s->p[i];
  return NULL;
}

static int load_plugins(session *s) {
  const char *names[SESS_MAX_PLUGINS + SESS_MAX_ACTIONS];
  size_t n = 0;
  for (size_t i = 0; i < s->o->nplugins; i++) names[n++] = s->o->plugins[i];
  for (size_t i = 0; i < s->o->nactions; i++) { /* a command's plugin loads itself */
    bool seen = false;
    for (size_t k = 0; k < n; k++) seen |= !strcmp(names[k], s->o->actions[i].argv[0]);
    if (!seen) names[n++] = s->o->actions[i].argv[0];
  }
  if (n == 0) return 0;
  if (n > SESS_MAX_PLUGINS) return se_set(SE_USAGE, "at most %d plugins in one session", SESS_MAX_PLUGINS);
  idx_env env;
  penv_host_env(&env);
  penv_add_go(&env, &s->t.prog);
  int rc = penv_open(&s->pe, &s->o->po, true);
  if (rc) return rc;
  s->have_pe = true;
  for (size_t i = 0; i < n && rc == 0; i++) {
    plg_plugin *p = &s->p[s->np];
    rc = penv_load_plugin(&s->pe, names[i], &env, p);
    if (rc == 0 || p->desc || p->dl) s->np++;
    else if (p->fd >= 0) close(p->fd);
  }
  for (size_t i = 0; i < s->o->nactions && rc == 0; i++) {
    sess_action *a = &s->o->actions[i];
    plg_plugin *p = plugin_named(s, a->argv[0]);
    if (!p || !plg_command(p, a->argv[1]))
      rc = se_set(SE_USAGE, "'%s': plugin %s has no command '%s' (see 'sonde %s --help')", a->text, a->argv[0],
                  a->argv[1], a->argv[0]);
  }
  return rc;
}

static void unload_plugins(session *s) {
  for (size_t i = 0; i < s->np; i++) {
    if (s->p[i].attached) report(s, plg_detach(&s->p[i]));
    plg_unload(&s->p[i]);
    if (s->p[i].crashed) s->plugin_failed = true;
  }
  s->np = 0;
}

/* Runs the commands for `when` (the target is stopped, or stops now). */
static void run_actions(session *s, sess_when when, size_t only) {
  for (size_t i = 0; i < s->o->nactions; i++) {
    sess_action *a = &s->o->actions[i];
    if (a->when != when || (only != SIZE_MAX && only != i)) continue;
    plg_plugin *p = plugin_named(s, a->argv[0]);
    if (!p || p->disabled) continue;
    if (stop_all(s) != 0) { /* the target, not the plugin: say so, and skip the command */
      fprintf(stderr, "sonde: cannot run '%s': %s\n", a->text, se_msg());
      se_clear();
      return;
    }
    const sonde_command *c = plg_command(p, a->argv[1]);
    if (c && read_for(s, c) != 0) { /* the target, not the plugin: say so, and skip the command */
      fprintf(stderr, "sonde: cannot run '%s': %s\n", a->text, se_msg());
      se_clear();
      forget_stop(s);
      continue;
    }
    fflush(stdout);
    report(s, plg_run(p, c, a->argc - 1, a->argv + 1));
    fflush(stdout);
    if (c && s->pt.waits) forget_stop(s); /* the next command reads what it needs itself */
  }
}

static bool has_actions(const session *s, sess_when when) {
  for (size_t i = 0; i < s->o->nactions; i++)
    if (s->o->actions[i].when == when) return true;
  return false;
}

/* ---- starting ---------------------------------------------------------- */

/* The program is at its entry (or attached): addresses are final. */
static int bind_and_arm(session *s) {
  uint64_t file_text = s->t.prog.pcln.text; /* what the --break locations were resolved against */
  int rc = gr_program_bind(&s->t.prog, s->t.pid, s->t.info.exe, &s->t.mem);
  if (rc) return rc;
  s->bound = true;
  /* The pclntab's pcs are offsets from text: moving them is all binding
   * changes, so the lines are not looked up again while the target waits. */
  for (size_t i = 0; i < s->nbps && rc == 0; i++) {
    sbp *b = &s->bps[i];
    for (size_t k = 0; k < b->loc.npcs; k++) b->loc.pcs[k] = b->loc.pcs[k] - file_text + s->t.prog.pcln.text;
    rc = bp_insert(s, b);
  }
  if (rc) return rc;
  fprintf(stderr, "sonde: %s %d (%s); Ctrl-C to stop\n", s->o->exec_argv ? "started" : "attached to",
          (int)s->t.pid, s->t.prog.bi.go_version);
  for (size_t i = 0; i < s->nbps; i++) {
    const sbp *b = &s->bps[i];
    if (b->loc.npcs == 1) {
      fprintf(stderr, "sonde: breakpoint %llu at %s (0x%llx)\n", (unsigned long long)b->id, b->spec,
              (unsigned long long)b->loc.pcs[0]);
      continue;
    }
    fprintf(stderr, "sonde: breakpoint %llu at %s: %zu places\n", (unsigned long long)b->id, b->spec, b->loc.npcs);
    for (size_t k = 0; k < b->loc.npcs; k++)
      fprintf(stderr, "sonde:   0x%llx in %s%s\n", (unsigned long long)b->loc.pcs[k], b->loc.func[k] ? b->loc.func[k] : "?",
              b->loc.inlined[k] ? " (inlined)" : "");
  }
  struct utsname u;
  static char release[65];
  uname(&u);
  snprintf(release, sizeof release, "%s", u.release);
  s->pt = (plg_target){.pid = s->t.pid, .exe = s->t.info.exe, .kernel = release, .prog = &s->t.prog,
                       .mem = &s->t.mem, .session = &s->ops};
  s->ops = (plg_session_ops){.ctx = s, .snapshot = op_snapshot, .hit_snapshot = op_hit_snapshot,
                      .heap = op_heap,
                             .breakpoint_set = op_bp_set, .breakpoint_clear = op_bp_clear, .every = op_every};
  return 0;
}

/* The target runs, with its breakpoints in: plugins attach, then the
 * --on-attach commands run with the target stopped. */
static int started(session *s) {
  for (size_t i = 0; i < s->np; i++) {
    s->p[i].target = &s->pt;
    s->p[i].out = stdout;
    report(s, plg_attach(&s->p[i]));
  }
  set_state(s, SONDE_STATE_RUNNING, SONDE_REASON_ATTACH);
  /* a plugin that read the goroutines in on_attach stopped every thread */
  if (!has_actions(s, SESS_AT_ATTACH)) return s->all_stopped ? resume_all(s) : 0;
  sigprocmask(SIG_BLOCK, &s->block, NULL);
  set_state(s, SONDE_STATE_STOPPED, SONDE_REASON_INTERRUPT);
  run_actions(s, SESS_AT_ATTACH, SIZE_MAX);
  set_state(s, SONDE_STATE_RUNNING, SONDE_REASON_INTERRUPT);
  int rc = resume_all(s);
  sigprocmask(SIG_SETMASK, &s->old, NULL);
  return rc;
}

/* Resolves PROGRAM as execvp would, to the absolute path the kernel maps. */
static int find_program(const char *name, char *out, size_t n) {
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
static int start_program(session *s) {
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
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", se_msg());
    tgt_detach(&s->ts);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->child = 0;
    close(gate[1]);
    return se_set(rc, "cannot trace the program: %s", msg);
  }
  close(gate[1]); /* the child execs now; sonde sees the exec as an event */
  s->starting = true;
  return rc;
}

/* At the exec stop: the new image is mapped; the dynamic loader, if any,
 * has not run, so breakpoints wait for the program's entry. */
static int at_exec(session *s, const tgt_event *ev) {
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
    return bind_and_arm(s);
  }
  s->entry_bp = entry;
  return tgt_bp_insert(entry);
}

/* ---- the loop ---------------------------------------------------------- */

/* The heartbeat that runs due --every commands and ends --duration:
 * HEARTBEAT_MS, or the shortest --every interval when shorter (10 ms at
 * least: sess_opts and command_every refuse shorter). */
static void arm_timer(const session *s) {
  double us = HEARTBEAT_MS * 1000;
  for (size_t i = 0; i < s->o->nactions; i++)
    if (s->o->actions[i].when == SESS_AT_EVERY && s->o->actions[i].secs * 1e6 < us) us = s->o->actions[i].secs * 1e6;
  if (us < 10000) us = 10000;
  struct itimerval it = {{0, (long)us}, {0, (long)us}};
  setitimer(ITIMER_REAL, &it, NULL);
}

/* Due --every commands and the --duration limit. Returns 0 to go on, 1
 * when time is up, or an error (a stop or resume that failed). */
static int on_tick(session *s) {
  double now = since(s);
  if (s->o->duration > 0 && now >= s->o->duration) {
    s->why = "duration reached";
    return 1;
  }
  if (!s->bound) return 0;
  bool stopped = false;
  int rc = 0;
  for (size_t i = 0; i < s->o->nactions && rc == 0; i++) {
    sess_action *a = &s->o->actions[i];
    if (a->when != SESS_AT_EVERY || now < s->next_every[i]) continue;
    while (s->next_every[i] <= now) s->next_every[i] += a->secs;
    if (!stopped) {
      sigprocmask(SIG_BLOCK, &s->block, NULL);
      if ((rc = stop_all(s)) != 0) break;
      set_state(s, SONDE_STATE_STOPPED, SONDE_REASON_INTERRUPT);
      stopped = true;
    }
    run_actions(s, SESS_AT_EVERY, i);
  }
  if (stopped) {
    set_state(s, SONDE_STATE_RUNNING, SONDE_REASON_INTERRUPT);
    double held = stopped_now(s) / 1000;
    rc = resume_all(s);
    s->rounds++;
    /* the process runs at least as long as the round stopped it: commands
     * slower than their interval never keep it stopped more than half the time */
    double earliest = since(s) + held;
    for (size_t i = 0; i < s->o->nactions; i++)
      if (s->o->actions[i].when == SESS_AT_EVERY && s->next_every[i] < earliest) s->next_every[i] = earliest;
  }
  if (rc == 0) sigprocmask(SIG_SETMASK, &s->old, NULL);
  if (rc == 0 && s->o->runs && s->rounds >= s->o->runs) {
    s->why = "--runs reached";
    return 1;
  }
  return rc; /* on an error, signals stay blocked for the release */
}

/* A hit on the program's entry (exec): the dynamic loader is done. */
static int at_entry(session *s, const tgt_event *ev) {
  (void)ev;
  int rc = tgt_bp_remove(s->entry_bp); /* the thread sits rewound on the original instruction */
  s->entry_bp = 0;
  s->starting = false;
  if (rc == 0) rc = bind_and_arm(s);
  return rc;
}

static void print_hit(session *s, const sbp *b, const tgt_event *ev, uint64_t goid) {
  if (s->o->quiet) return;
  printf("hit %llu: %s", (unsigned long long)s->reported, b->spec);
  if (b->loc.is_line) {
    size_t k = 0;
    while (k < b->loc.npcs && b->loc.pcs[k] != ev->addr) k++;
    if (k < b->loc.npcs) printf(" in %s%s", b->loc.func[k] ? b->loc.func[k] : "?", b->loc.inlined[k] ? " (inlined)" : "");
  }
  printf(" goroutine %llu thread %d\n", (unsigned long long)goid, (int)ev->tid);
  fflush(stdout);
}

/* One breakpoint event. Returns nonzero to end the session. */
/* The fast path, for a hit that is not reported, touches nothing but the
 * hitting thread and does not even mask signals (nothing on it can be
 * interrupted by one). A reported hit holds the stop signals until the
 * target runs again, or for the release when it ends the session. */
static int on_hit(session *s, const tgt_event *ev, bool *done) {
  sbp *b = bp_at(s, ev->addr);
  bool all;
  tgt_word guard = {0, 0};
  if (!b) /* a hit on a breakpoint cleared meanwhile: it runs the original instruction */
    return tgt_trace_pass(&s->ts, ev->tid, ev->addr, &ev->regs, NULL, &all);
  s->total++;
  bool cli = b->owner < 0, want = !cli;
  uint64_t goid = 0;
  if (cli) {
    bool need_goid = s->o->have_goid || !s->o->quiet || s->np > 0;
    goid = need_goid ? current_goid(s, &ev->regs, &guard) : 0;
    if (!s->o->have_goid || goid == s->o->goid) {
      s->matched++;
      want = (s->matched - 1) % s->o->nth == 0;
    }
  } else {
    goid = current_goid(s, &ev->regs, &guard);
  }
  if (!want) {
    int rc = tgt_trace_pass(&s->ts, ev->tid, ev->addr, &ev->regs, &guard, &all);
    if (!all) s->emulated++;
    return rc;
  }
  sigprocmask(SIG_BLOCK, &s->block, NULL);
  /* reported: every thread stops before any plugin code runs (all-stop),
   * unless --non-stop; a line on the terminal needs no stop */
  bool plugin_code = s->np > 0 && (cli || b->owner >= 0);
  int rc = s->o->non_stop || !plugin_code ? 0 : stop_all(s);
  if (rc) return rc;
  if (cli) {
    s->reported++;
    print_hit(s, b, ev, goid);
  }
  if (s->np) {
    set_state(s, SONDE_STATE_STOPPED, SONDE_REASON_BREAKPOINT);
    sonde_regs regs = regs_of(&ev->regs);
    s->hit = ev;
    s->hit_g = goid ? ev->regs.r14 : 0;
    s->pt.hit_gen++;
    sonde_breakpoint_hit hit = {.struct_size = sizeof hit, .breakpoint_id = b->id, .thread_id = (int32_t)ev->tid,
                                .goroutine_id = (int64_t)goid, .pc = ev->addr, .regs = &regs, .g_addr = s->hit_g};
    for (size_t i = 0; i < s->np; i++)
      if (cli || (int)i == b->owner) report(s, plg_breakpoint_hit(&s->p[i], &hit));
    if (cli) run_actions(s, SESS_AT_HIT, SIZE_MAX);
    s->hit = NULL;
    set_state(s, SONDE_STATE_RUNNING, SONDE_REASON_BREAKPOINT);
  }
  if (cli && s->o->count && s->reported >= s->o->count) {
    s->why = "count reached";
    *done = true;
    return stop_all(s); /* everyone stays stopped for the release */
  }
  if (s->all_stopped) {
    rc = tgt_trace_step_over(&s->ts, ev->tid, ev->addr);
    if (rc == 0) rc = resume_all(s);
  } else {
    forget_stop(s);
    rc = tgt_trace_pass(&s->ts, ev->tid, ev->addr, &ev->regs, NULL, &all);
  }
  if (rc == 0) sigprocmask(SIG_SETMASK, &s->old, NULL);
  return rc;
}

static int loop(session *s) {
  for (;;) {
    tgt_event ev;
    int rc = tgt_trace_wait(&s->ts, sig_wake(), &ev);
    if (rc) return rc;
    s->passed += ev.signals_passed;
    switch (ev.kind) {
      case TGT_EV_INTERRUPTED:
        *sig_wake() = 0;
        if (sig_output_closed()) {
          s->why = "the output was closed";
          return 0;
        }
        if (sig_pending()) {
          s->why = sig_pending() == SIGINT ? "interrupted" : "ended by a signal";
          return 0;
        }
        if (sig_take_alarm()) {
          rc = on_tick(s);
          if (rc) return rc > 0 ? 0 : rc;
        }
        break;
      case TGT_EV_EXITED:
        s->exited = true;
        s->exit_known = true;
        s->exit_status = ev.exit_status;
        s->exit_signal = ev.exit_signal;
        return 0;
      case TGT_EV_EXEC:
        if (!s->starting || s->bound) {
          /* the image the breakpoints were in is gone; the new one has none
           * of them, and its bytes must not be touched */
          tgt_bp_forget();
          s->why = "the process called exec";
          return 0;
        }
        sigprocmask(SIG_BLOCK, &s->block, NULL);
        rc = at_exec(s, &ev);
        if (rc == 0) rc = resume_all(s);
        sigprocmask(SIG_SETMASK, &s->old, NULL);
        if (rc == 0 && s->bound) rc = started(s);
        if (rc) return rc;
        break;
      case TGT_EV_BREAKPOINT: {
        bool done = false;
        if (s->entry_bp && ev.addr == s->entry_bp) { /* the entry of an exec'd program */
          sigprocmask(SIG_BLOCK, &s->block, NULL);
          rc = at_entry(s, &ev);
          if (rc == 0) rc = resume_all(s);
          sigprocmask(SIG_SETMASK, &s->old, NULL);
          if (rc == 0) rc = started(s);
        } else {
          rc = on_hit(s, &ev, &done);
        }
        if (rc || done) return rc; /* signals stay blocked for the release */
        break;
      }
    }
  }
}

/* Every thread stopped, every int3 out, detached: on every path. */
static int leave(session *s, int rc) {
  setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 0}}, NULL);
  sigprocmask(SIG_BLOCK, &s->block, NULL);
  if (s->ts.exec_pending) { /* an execve raced the last event: its threads vanished under us */
    tgt_bp_forget();
    s->why = "the process called exec";
    se_clear();
    rc = 0;
  }
  char saved[1024];
  snprintf(saved, sizeof saved, "%s", se_msg());
  int src = rc;
  if (s->exited) { /* nothing left to take out or let go */
    tgt_bp_forget();
    tgt_detach(&s->ts);
  } else if (s->ts.attached) {
    if (!s->exited && s->bound && has_actions(s, SESS_AT_DETACH)) {
      if (stop_all(s) == 0) run_actions(s, SESS_AT_DETACH, SIZE_MAX);
      else se_clear();
    }
    forget_stop(s);
    int r1 = tgt_trace_release(&s->ts);
    int r2 = tgt_detach(&s->ts);
    if (!src) rc = r1 ? r1 : r2;
  } else {
    tgt_bp_remove_all();
  }
  if (src) se_set(src, "%s", saved);
  if (rc == SE_EXITED) { /* for a session, a stop condition */
    rc = 0;
    s->exited = true;
  }
  if (s->exited && !s->exit_known && s->ts.ended) { /* learnt on the way */
    s->exit_status = s->ts.exit_status;
    s->exit_signal = s->ts.exit_signal;
    s->exit_known = true;
  }
  return rc;
}

/* After `sonde exec` let go of the program: it is still sonde's child; wait
 * for it, passing on the signals that would end sonde. */
static int wait_child(session *s) {
  int st = 0;
  int first = sig_take();
  if (first && first != SIGINT) kill(s->child, first); /* SIGINT: the terminal's, it had its own */
  if (!s->exited) fprintf(stderr, "sonde: waiting for %s (pid %d) to exit\n", s->t.info.exe, (int)s->child);
  sigprocmask(SIG_SETMASK, &s->old, NULL);
  /* Polled, not a blocking waitpid: a signal that lands after the check of
   * g_signal and before waitpid would never interrupt it, and would never
   * reach the program (seen in CI: SIGTERM right after "waiting for"). A
   * signal still cuts the sleep short; one that just misses it waits 100 ms. */
  for (;;) {
    int sig = sig_take();
    if (sig) kill(s->child, sig);
    pid_t got = waitpid(s->child, &st, WNOHANG);
    if (got == s->child) break;
    if (got < 0 && errno != EINTR) return 0;
    if (got == 0) nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void summary(session *s) {
  char exited[64];
  if (!s->exit_known) snprintf(exited, sizeof exited, "the process ended");
  else if (s->exit_signal) snprintf(exited, sizeof exited, "the process was killed by signal %d", s->exit_signal);
  else snprintf(exited, sizeof exited, "the process exited (status %d)", s->exit_status);
  const char *why = s->exited ? exited : s->why ? s->why : "stopped";
  char alone[64] = "";
  if (s->emulated) snprintf(alone, sizeof alone, ", %llu without stopping other threads", (unsigned long long)s->emulated);
  char stops[96] = "; the process never stopped as a whole";
  if (s->nstops)
    snprintf(stops, sizeof stops, "; process stopped %llu time%s, %.1f ms in all (longest %.1f ms)",
             (unsigned long long)s->nstops, s->nstops == 1 ? "" : "s", s->stopped_ms, s->longest_ms);
  fprintf(stderr, "sonde: %s after %.1f s: %llu hit%s (%llu reported)%s, %llu signal%s passed on%s; %s\n", why,
          since(s), (unsigned long long)s->total, s->total == 1 ? "" : "s", (unsigned long long)s->reported, alone,
          (unsigned long long)s->passed, s->passed == 1 ? "" : "s", stops, s->exited ? "done" : "detached");
}

int sess_run(sess_opts *o) {
  static session S; /* large; one per run */
  session *s = &S;
  memset(s, 0, sizeof *s);
  s->o = o;
  s->state = SONDE_STATE_ATTACHING;
  if (o->nth == 0) o->nth = 1;
  int rc;
  char exe[PATH_MAX];

  /* Everything that can fail without touching a process fails first. */
  if (o->exec_argv) {
    if ((rc = find_program(o->exec_argv[0], exe, sizeof exe)) || (rc = cli_open_file(exe, &s->t)))
      goto out_early;
  } else if ((rc = cli_open_target(o->pid, &s->t))) {
    goto out_early;
  }
  for (size_t i = 0; i < o->nbreaks; i++) {
    sbp *b = bp_new(s, o->breaks[i], -1);
    if (!b) { rc = SE_USAGE; goto out_early; }
    /* checked against the file now; armed with live addresses later */
    if ((rc = gr_locate(&s->t.prog.pcln, b->spec, &b->loc))) goto out_early;
  }
  if ((rc = load_plugins(s))) goto out_early;

  sig_fatal_set(&s->block);
  sigprocmask(SIG_BLOCK, &s->block, &s->old);
  sig_session_begin();
  clock_gettime(CLOCK_MONOTONIC, &s->t0);
  for (size_t i = 0; i < o->nactions; i++) s->next_every[i] = o->actions[i].secs;

  if (o->exec_argv) {
    rc = start_program(s);
  } else {
    rc = tgt_attach(o->pid, &s->ts);
    s->all_stopped = rc == 0; /* attaching stops every thread */
    clock_gettime(CLOCK_MONOTONIC, &s->stop_t0);
    if (rc == 0 && (rc = tgt_mem_open(&s->t.mem, o->pid)) == 0 && (rc = tgt_bp_open(o->pid)) == 0)
      rc = bind_and_arm(s);
    if (rc == 0) rc = resume_all(s);
  }
  if (rc == 0) {
    arm_timer(s);
    sigprocmask(SIG_SETMASK, &s->old, NULL); /* stop signals now interrupt the wait */
    if (!o->exec_argv) rc = started(s);
    if (rc == 0) rc = loop(s);
  }
  rc = leave(s, rc);
  char saved[1024]; /* plugin hooks below must not lose the session's error */
  snprintf(saved, sizeof saved, "%s", se_msg());
  if (s->np) {
    set_state(s, s->exited ? SONDE_STATE_EXITED : SONDE_STATE_DETACHED,
              s->exited ? SONDE_REASON_EXIT : SONDE_REASON_DETACH);
  }
  unload_plugins(s);
  if (rc) se_set(rc, "%s", saved);
  if (rc == 0 && s->plugin_failed)
    rc = se_set(SE_PLUGIN, "a plugin failed or crashed during the session (see above); the target was not affected");
  summary(s);
  int status = s->found && !o->exec_argv ? CLI_EXIT_FOUND : 0;
  if (rc) status = cli_fail(rc);
  if (o->exec_argv && s->child > 0) {
    int child_status = s->exited && s->exit_known ? (s->exit_signal ? 128 + s->exit_signal : s->exit_status)
                                                  : wait_child(s);
    if (!rc) status = child_status;
  }
  if (s->have_pe) penv_close(&s->pe);
  for (size_t i = 0; i < s->nbps; i++) free(s->bps[i].owned_spec);
  cli_target_free(&s->t);
  if (rc || o->exec_argv) sig_take(); /* an error's own status; exec: the program's */
  sig_session_end(); /* the target runs again: main ends as a signal asked (sig_finish) */
  sigprocmask(SIG_SETMASK, &s->old, NULL);
  return status;

out_early:
  {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", se_msg());
    unload_plugins(s);
    if (s->have_pe) penv_close(&s->pe);
    cli_target_free(&s->t);
    return cli_fail(se_set(rc, "%s", msg));
  }
}
