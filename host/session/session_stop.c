/* session_stop.c: stopping every thread and letting them go, what is read
 * during a stop (the snapshot, the heap, what a command declared it needs),
 * and a breakpoint hit from the thread that hit to the reported stop. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/sys.h"
#include "session/session_priv.h"
#include "session/signals.h"

int ss_stop_all(session *s) {
  if (s->all_stopped) return 0;
  int rc = tgt_trace_stop_all(&s->ts);
  if (rc == 0) {
    s->all_stopped = true;
    clock_gettime(CLOCK_MONOTONIC, &s->stop_t0);
  }
  return rc;
}

/* How long every thread has been stopped in this stop, in ms. */
double ss_stopped_now(const session *s) { return s->all_stopped ? sys_ms_since(&s->stop_t0) : 0; }

/* Drops what was read during the stop; the target may change from here. */
void ss_forget_stop(session *s) {
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

int ss_resume_all(session *s) {
  ss_forget_stop(s);
  if (s->all_stopped) {
    double ms = ss_stopped_now(s);
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
int ss_read_for(session *s, const sonde_command *c) {
  if (!(c->flags & (SONDE_CMD_NEEDS_HEAP | SONDE_CMD_NEEDS_WAITS | SONDE_CMD_NEEDS_LEAKS))) return 0;
  ses_stop_req req;
  int rc = ses_stop_req_for(&s->t.prog, c->flags, &s->heap, &s->waits, &s->reach, &req);
  if (rc) return rc;
  double before = ss_stopped_now(s);
  ss_forget_stop(s); /* what other commands read in this stop: read again, as this one needs */
  req.snap = &s->snap;
  rc = ses_read_stop(&s->t, &s->ts, &req);
  s->have_snap = true; /* all freed by ss_forget_stop, even when half read */
  s->have_heap = req.heap != NULL;
  s->pt.waits = req.waits;
  s->pt.reach = req.reach;
  if (rc) return rc;
  if (req.heap) gr_heap_settle(s->t.pid, &s->heap);
  s->pt.snap = &s->snap;
  s->pt.snap_gen++;
  s->pt.heap = req.heap;
  s->pt.reach_ns = req.reach_ns;
  s->pt.stop_ns = (uint64_t)((ss_stopped_now(s) - before) * 1e6);
  return 0;
}

int ss_need_bound(const session *s) {
  return s->bound ? 0 : se_set(SE_ERR, "the program has not started yet");
}

gr_snapshot *ss_op_snapshot(void *ctx) {
  session *s = ctx;
  if (s->have_snap) return &s->snap;
  if (ss_need_bound(s) != 0) return NULL;
  if (ss_stop_all(s) != 0) return NULL;
  gr_snapshot_opts so = {0};
  if (gr_snapshot_take(&s->t.prog, &s->ts, &so, &s->snap) != 0) return NULL;
  s->have_snap = true;
  s->pt.snap = &s->snap;
  s->pt.snap_gen++;
  return &s->snap;
}

gr_heap *ss_op_heap(void *ctx) {
  session *s = ctx;
  if (s->have_heap) return &s->heap;
  if (ss_need_bound(s) != 0) return NULL;
  if (gr_heap_supported(&s->t.prog) != 0 || ss_stop_all(s) != 0) return NULL;
  if (gr_heap_read(&s->t.prog, true, &s->heap) != 0) return NULL;
  gr_heap_settle(s->t.pid, &s->heap);
  s->have_heap = true;
  return &s->heap;
}

gr_snapshot *ss_op_hit_snapshot(void *ctx) {
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

static void print_hit(session *s, const sbp *b, const tgt_event *ev, uint64_t goid) {
  if (s->o->quiet || !s->obs->hit) return;
  sess_bp_info info = {b->id, b->spec, &b->loc};
  s->obs->hit(s->obs->ctx, s->reported, &info, ev->addr, goid, (int)ev->tid);
}

/* One breakpoint event. Returns nonzero to end the session. */
/* The fast path, for a hit that is not reported, touches nothing but the
 * hitting thread and does not even mask signals (nothing on it can be
 * interrupted by one). A reported hit holds the stop signals until the
 * target runs again, or for the release when it ends the session. */
int ss_on_hit(session *s, const tgt_event *ev, bool *done) {
  sbp *b = ss_bp_at(s, ev->addr);
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
  int rc = s->o->non_stop || !plugin_code ? 0 : ss_stop_all(s);
  if (rc) return rc;
  if (cli) {
    s->reported++;
    print_hit(s, b, ev, goid);
  }
  if (s->np) {
    ss_set_state(s, SONDE_STATE_STOPPED, SONDE_REASON_BREAKPOINT);
    sonde_regs regs = regs_of(&ev->regs);
    s->hit = ev;
    s->hit_g = goid ? ev->regs.r14 : 0;
    s->pt.hit_gen++;
    sonde_breakpoint_hit hit = {.struct_size = sizeof hit, .breakpoint_id = b->id, .thread_id = (int32_t)ev->tid,
                                .goroutine_id = (int64_t)goid, .pc = ev->addr, .regs = &regs, .g_addr = s->hit_g};
    for (size_t i = 0; i < s->np; i++)
      if (cli || (int)i == b->owner) ss_report(s, plg_breakpoint_hit(&s->p[i], &hit));
    if (cli) ss_run_actions(s, SESS_AT_HIT, SIZE_MAX);
    s->hit = NULL;
    ss_set_state(s, SONDE_STATE_RUNNING, SONDE_REASON_BREAKPOINT);
  }
  if (cli && s->o->count && s->reported >= s->o->count) {
    s->why = "count reached";
    *done = true;
    return ss_stop_all(s); /* everyone stays stopped for the release */
  }
  if (s->all_stopped) {
    rc = tgt_trace_step_over(&s->ts, ev->tid, ev->addr);
    if (rc == 0) rc = ss_resume_all(s);
  } else {
    ss_forget_stop(s);
    rc = tgt_trace_pass(&s->ts, ev->tid, ev->addr, &ev->regs, NULL, &all);
  }
  if (rc == 0) sigprocmask(SIG_SETMASK, &s->old, NULL);
  return rc;
}
