/* goroutines.c: reading every g and its stack during one stop.
 *
 * Reads are batched: allgs in one read, g structs CHUNK at a time, stacks in
 * batches of up to STACK_BATCH_BYTES, each through one process_vm_readv
 * call per IOV_MAX pieces. Mirrors runtime/traceback.go: tracebackothers,
 * traceback1 (where a goroutine's stack starts) and isSystemGoroutine. */
#include "goruntime/goroutines.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/text.h"
#include "base/error.h"

enum {
  CHUNK = 4096,                           /* g structs read per batch */
  BAD_G_FLOOR = 64,                       /* unreadable or impossible gs tolerated before ... */
  BAD_G_SHARE = 8,                        /* ... more than 1 in 8 of those seen means corrupt allgs */
  MAX_ALLGS = 8 * 1024 * 1024,            /* more is a corrupt length */
  STACK_BATCH_BYTES = 8 * 1024 * 1024,    /* stack bytes held at once */
  MAX_STACK_BYTES = 256 * 1024 * 1024,    /* Go's limit is 1 GB; we read at most this */
  MAX_FRAMES = 100000,                    /* per goroutine */
  MAX_LABELS = 64,                        /* pprof labels of one goroutine */
  MAX_LABEL_LEN = 4096,                   /* bytes of one key or value */
  MAX_LABEL_SIZE = 64,                    /* bytes of one label {key, value string}: 32 in 1.24-1.27 */
};

static uint64_t rd64(const uint8_t *p, int64_t off) { return sonde_le64(p + off); }
static uint32_t rd32(const uint8_t *p, int64_t off) { return sonde_le32(p + off); }

/* What isSystemGoroutine decides from the start function alone. */
typedef enum { START_USER = 1, START_SYSTEM, START_FINALIZERS, START_CLEANUPS } start_class;

static start_class classify_start(const gr_program *p, uint64_t startpc) {
  const pcln_table *t = &p->pcln;
  pcln_func f;
  if (pcln_find(t, startpc, &f) != 0) {
    se_clear();
    return START_USER;
  }
  uint8_t fid = pcln_funcid(t, &f);
  if (pcln_is_special(t, fid, PCLN_FID_RUNTIME_MAIN) || pcln_is_special(t, fid, PCLN_FID_COROSTART) ||
      pcln_is_special(t, fid, PCLN_FID_HANDLEASYNCEVENT))
    return START_USER;
  if (pcln_is_special(t, fid, PCLN_FID_RUNFINQ) || pcln_is_special(t, fid, PCLN_FID_RUNFINALIZERS))
    return START_FINALIZERS;
  if (pcln_is_special(t, fid, PCLN_FID_RUNCLEANUPS)) return START_CLEANUPS;
  const char *name = pcln_name(t, &f);
  return name && !strncmp(name, "runtime.", 8) ? START_SYSTEM : START_USER;
}

static bool is_system(const gr_program *p, start_class c, uint32_t status, uint8_t waitreason, bool running_cleanups) {
  switch (c) {
    case START_SYSTEM: return true;
    case START_FINALIZERS:
      /* The runtime asks fingStatus whether a finalizer is running user
       * code. Equivalent from outside: the goroutine is parked in runfinq's
       * own wait ("finalizer wait") exactly when no finalizer is running. */
      return status == GR_GWAITING && !strcmp(gr_waitreason(p, waitreason), "finalizer wait");
    case START_CLEANUPS: return !running_cleanups;
    default: return false;
  }
}

const char *gr_status_name(uint32_t status) {
  /* runtime/traceback.go: gStatusStrings */
  switch (status) {
    case GR_GIDLE: return "idle";
    case GR_GRUNNABLE: return "runnable";
    case GR_GRUNNING: return "running";
    case GR_GSYSCALL: return "syscall";
    case GR_GWAITING: return "waiting";
    case GR_GDEAD: return "dead";
    case GR_GCOPYSTACK: return "copystack";
    case GR_GPREEMPTED: return "preempted";
    case GR_GLEAKED: return "leaked";
    case GR_GDEADEXTRA: return "waiting for cgo callback";
    default: return "???";
  }
}

const char *gr_status_text(const gr_program *p, const gr_goroutine *g) {
  if ((g->status == GR_GWAITING || g->status == GR_GLEAKED) && g->waitreason != 0)
    return gr_waitreason(p, g->waitreason);
  return gr_status_name(g->status);
}

const char *gr_wait_reason_of(const gr_program *p, const gr_goroutine *g) {
  return (g->status == GR_GWAITING || g->status == GR_GLEAKED) ? gr_waitreason(p, g->waitreason) : "";
}

/* mirrors runtime/traceback.go goroutineheader: (nanotime() - waitsince) / 60e9,
 * for waiting and syscall */
int64_t gr_wait_minutes(const gr_snapshot *s, const gr_goroutine *g) {
  if ((g->status != GR_GWAITING && g->status != GR_GSYSCALL) || g->waitsince == 0) return 0;
  int64_t minutes = (s->nanotime - g->waitsince) / 60000000000LL;
  return minutes < 0 ? 0 : minutes;
}

/* Where the runtime's traceback of a non-running g starts (traceback1, initAt). */
typedef struct {
  uint64_t pc, sp, lo, hi;
  int trap;
} start_regs;

/* Bytes of a g we need: up to the end of the last field we read. */
static size_t g_need(const gr_layout *L) {
  size_t need = 0;
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = gr_layout_spec((gr_field)i);
    if (strcmp(s->st, "runtime.g") != 0 || L->off[i] < 0) continue;
    size_t end = (size_t)L->off[i] + (size_t)L->fsize[i];
    if (end > need) need = end;
  }
  return need;
}

/* For a g bound to an M (running or in a syscall): the M's vdso state and
 * thread id. Few gs have an M, so these are single cached reads. */
static int read_m(gr_program *p, uint64_t m, uint64_t *vdsosp, uint64_t *vdsopc, uint64_t *procid) {
  const gr_layout *L = &p->layout;
  int rc;
  if ((rc = tgt_mem_read_u64(p->mem, m + (uint64_t)GR_OFF(L, M_VDSOSP), vdsosp)) ||
      (rc = tgt_mem_read_u64(p->mem, m + (uint64_t)GR_OFF(L, M_VDSOPC), vdsopc)) ||
      (rc = tgt_mem_read_u64(p->mem, m + (uint64_t)GR_OFF(L, M_PROCID), procid)))
    return rc;
  return 0;
}

static void start_of(gr_program *p, tgt_session *sess, const uint8_t *gb, gr_goroutine *g, start_regs *r) {
  const gr_layout *L = &p->layout;
  r->lo = rd64(gb, GR_OFF(L, G_STACK_LO));
  r->hi = rd64(gb, GR_OFF(L, G_STACK_HI));
  r->trap = 0;
  uint64_t syscallsp = rd64(gb, GR_OFF(L, G_SYSCALLSP));
  if (syscallsp != 0) {
    r->pc = rd64(gb, GR_OFF(L, G_SYSCALLPC));
    r->sp = syscallsp;
  } else {
    r->pc = rd64(gb, GR_OFF(L, G_SCHED_PC));
    r->sp = rd64(gb, GR_OFF(L, G_SCHED_SP));
  }
  if (!g->m) return;
  uint64_t vdsosp = 0, vdsopc = 0, procid = 0;
  if (read_m(p, g->m, &vdsosp, &vdsopc, &procid) != 0) {
    se_clear();
    return;
  }
  /* traceback1: a g inside a vDSO call starts there. Only when that call is
   * on the g's own stack: the M may be in the vDSO on g0 (nanotime from a
   * GC mark worker draining in systemstack, its g _Gwaiting "GC worker
   * (active)"), and then the g's sched says where it is (issue 23) */
  if (vdsosp != 0 && vdsosp >= r->lo && vdsosp < r->hi) {
    r->pc = vdsopc;
    r->sp = vdsosp;
    return;
  }
  if (g->status != GR_GRUNNING || procid == 0 || procid > INT32_MAX) return;
  g->tid = (int32_t)procid;
  /* A running g's sched is stale: take the thread's registers, if the
   * thread is on this g's stack (not on g0 or the signal stack). */
  struct user_regs_struct regs;
  if (!tgt_has_thread(sess, g->tid) || tgt_getregs(sess, g->tid, &regs) != 0) {
    se_clear();
    return;
  }
  if (regs.rsp >= r->lo && regs.rsp < r->hi) {
    r->pc = regs.rip;
    r->sp = regs.rsp;
    r->trap = 1;
  }
}

/* g.labels (Go 1.24+) points at a runtime/pprof.labelMap, whose first field
 * is a slice of labels {key, value string} (layout.h: LBL_*). Without those
 * types in the layout (a program that does not import runtime/pprof sets no
 * labels) there are none to read. */
static int read_labels(gr_program *p, gr_snapshot *s, gr_goroutine *g, uint64_t labels) {
  const gr_layout *L = &p->layout;
  uint64_t sl[3];
  size_t esz = (size_t)GR_SIZE(L, SZ_LABEL);
  uint8_t kv[MAX_LABELS * MAX_LABEL_SIZE];
  if (!GR_HAS(L, LBL_LIST) || !GR_HAS(L, LBL_KEY) || !GR_HAS(L, LBL_VALUE) || !esz || esz > MAX_LABEL_SIZE) return 0;
  if (tgt_mem_read(p->mem, labels + (uint64_t)GR_OFF(L, LBL_LIST), sl, sizeof sl) != 0) goto unreadable;
  uint64_t n = sl[1];
  if (n == 0) return 0;
  if (n > MAX_LABELS || n > sl[2] || tgt_mem_read(p->mem, sl[0], kv, (size_t)n * esz) != 0) goto unreadable;
  gr_label *out = arena_calloc(&s->a, (size_t)n, sizeof *out);
  if (!out) return se_set(SE_NOMEM, "out of memory for labels");
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *e = kv + i * esz;
    int64_t at[2] = {GR_OFF(L, LBL_KEY), GR_OFF(L, LBL_VALUE)};
    uint64_t len[2] = {rd64(e, at[0] + 8), rd64(e, at[1] + 8)}; /* abi: string header {ptr, len} */
    char *str[2];
    for (int k = 0; k < 2; k++) {
      if (len[k] > MAX_LABEL_LEN) goto unreadable;
      str[k] = arena_alloc(&s->a, (size_t)len[k] + 1);
      if (!str[k]) return se_set(SE_NOMEM, "out of memory for labels");
      if (len[k] && tgt_mem_read(p->mem, rd64(e, at[k]), str[k], (size_t)len[k]) != 0) goto unreadable;
      str[k][len[k]] = '\0';
    }
    out[i] = (gr_label){str[0], str[1], (uint32_t)len[0], (uint32_t)len[1]};
  }
  g->labels = out;
  g->nlabels = (uint32_t)n;
  return 0;
unreadable: /* labels are an extra: a g whose labels cannot be read shows none */
  se_clear();
  return 0;
}

typedef struct {
  gr_goroutine *g;
  start_regs r;
  uint8_t *buf;
  size_t len;
} pending_stack;

/* Per-snapshot caches: what each pc and each start function say. */
typedef struct {
  gr_rawframe *scratch;
  u64map pcs, starts;
} take_ctx;

/* An empty snapshot stamped with the time, and its working caches. */
static bool take_begin(gr_snapshot *s, take_ctx *cx) {
  memset(s, 0, sizeof *s);
  arena_init(&s->a);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  s->nanotime = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  cx->scratch = malloc(MAX_FRAMES * sizeof *cx->scratch);
  u64map_init(&cx->pcs);
  u64map_init(&cx->starts);
  return cx->scratch != NULL;
}

static void take_end(take_ctx *cx) {
  free(cx->scratch);
  u64map_free(&cx->pcs);
  u64map_free(&cx->starts);
}

/* The stack runs from sp up to stack.hi; anything else is corrupt. */
static bool stack_span(const start_regs *r, size_t *len) {
  if (r->sp < r->lo || r->sp > r->hi || r->hi - r->sp > MAX_STACK_BYTES) return false;
  *len = (size_t)(r->hi - r->sp);
  return true;
}

/* Unwinds ps[0..n), whose stack bytes are in ps[i].buf when ok[i]. */
static int unwind_read(gr_program *p, gr_snapshot *s, pending_stack *ps, size_t n, const bool *ok, take_ctx *cx) {
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    gr_goroutine *g = ps[i].g;
    s->stack_bytes_read += ps[i].len;
    gr_stackcopy stk = {ps[i].buf, ps[i].r.sp, ok[i] ? ps[i].len : 0};
    size_t nf = gr_unwind(&p->pcln, &cx->pcs, &stk, ps[i].r.pc, ps[i].r.sp, ps[i].r.trap, cx->scratch, MAX_FRAMES,
                          &g->end);
    g->frames = arena_alloc(&s->a, nf * sizeof *g->frames);
    if (!g->frames && nf) {
      rc = se_set(SE_NOMEM, "out of memory storing stacks");
      break;
    }
    memcpy(g->frames, cx->scratch, nf * sizeof *cx->scratch);
    g->nframes = (uint32_t)nf;
  }
  return rc;
}

static int unwind_batch(gr_program *p, gr_snapshot *s, pending_stack *ps, size_t n, take_ctx *cx) {
  tgt_iov *iov = malloc(n * sizeof *iov);
  bool *ok = malloc(n * sizeof *ok);
  int rc = (iov && ok) || !n ? 0 : se_set(SE_NOMEM, "out of memory");
  for (size_t i = 0; i < n && rc == 0; i++) iov[i] = (tgt_iov){ps[i].r.sp, ps[i].buf, ps[i].len, false};
  if (rc == 0) rc = tgt_mem_readv(p->mem, iov, n);
  for (size_t i = 0; i < n && rc == 0; i++) ok[i] = iov[i].ok;
  if (rc == 0) rc = unwind_read(p, s, ps, n, ok, cx);
  free(iov);
  free(ok);
  return rc;
}

/* One stack larger than the batch (a deep recursion: Go lets a stack grow
 * to 1 GB): read in STACK_BATCH_BYTES pieces, which no single read limit
 * refuses, then unwound whole. */
static int unwind_big(gr_program *p, gr_snapshot *s, pending_stack *ps, take_ctx *cx) {
  uint8_t *big = malloc(ps->len);
  if (!big) return se_set(SE_NOMEM, "out of memory for a %zu-byte stack", ps->len);
  bool ok = true;
  int rc = 0;
  for (size_t off = 0; off < ps->len && ok && rc == 0; off += STACK_BATCH_BYTES) {
    size_t k = ps->len - off < STACK_BATCH_BYTES ? ps->len - off : STACK_BATCH_BYTES;
    tgt_iov v = {ps->r.sp + off, big + off, k, false};
    rc = tgt_mem_readv(p->mem, &v, 1);
    ok = v.ok;
  }
  ps->buf = big;
  if (rc == 0) rc = unwind_read(p, s, ps, 1, &ok, cx);
  free(big);
  return rc;
}

/* Reads and unwinds the stacks of gs[0..n), batching by byte budget. */
static int read_stacks(gr_program *p, gr_snapshot *s, pending_stack *ps, size_t n, take_ctx *cx) {
  uint8_t *pool = malloc(STACK_BATCH_BYTES);
  if (!pool) return se_set(SE_NOMEM, "out of memory");
  int rc = 0;
  size_t i = 0;
  while (i < n && rc == 0) {
    size_t used = 0, j = i;
    while (j < n && (used + ps[j].len <= STACK_BATCH_BYTES)) {
      ps[j].buf = pool + used;
      used += ps[j].len;
      j++;
    }
    if (j == i) { /* one stack larger than the pool: read it alone */
      rc = unwind_big(p, s, &ps[i], cx);
      i++;
      continue;
    }
    rc = unwind_batch(p, s, ps + i, j - i, cx);
    i = j;
  }
  free(pool);
  return rc;
}

/* The fields of the g at addr, from its bytes gb. */
static void fill_g(gr_program *p, const uint8_t *gb, uint64_t addr, take_ctx *cx, gr_goroutine *g) {
  const gr_layout *L = &p->layout;
  uint32_t st = rd32(gb, GR_OFF(L, G_ATOMICSTATUS));
  memset(g, 0, sizeof *g);
  g->addr = addr;
  g->status = st & ~(uint32_t)GR_GSCAN;
  g->scan = (st & GR_GSCAN) != 0;
  g->goid = rd64(gb, GR_OFF(L, G_GOID));
  g->parent_goid = GR_HAS(L, G_PARENTGOID) ? rd64(gb, GR_OFF(L, G_PARENTGOID)) : 0;
  g->waitreason = gb[GR_OFF(L, G_WAITREASON)];
  g->waitsince = (int64_t)rd64(gb, GR_OFF(L, G_WAITSINCE));
  g->gopc = rd64(gb, GR_OFF(L, G_GOPC));
  g->startpc = rd64(gb, GR_OFF(L, G_STARTPC));
  g->lockedm = rd64(gb, GR_OFF(L, G_LOCKEDM));
  g->m = rd64(gb, GR_OFF(L, G_M));
  g->stack_lo = rd64(gb, GR_OFF(L, G_STACK_LO));
  g->stack_hi = rd64(gb, GR_OFF(L, G_STACK_HI));
  g->waiting = GR_HAS(L, G_WAITING) ? rd64(gb, GR_OFF(L, G_WAITING)) : 0;
  bool cleanups = GR_HAS(L, G_RUNNINGCLEANUPS) && gb[GR_OFF(L, G_RUNNINGCLEANUPS)];
  uint64_t cls;
  if (!u64map_get(&cx->starts, g->startpc + 1, &cls)) {
    cls = classify_start(p, g->startpc);
    (void)u64map_put(&cx->starts, g->startpc + 1, cls); /* a full cache only costs speed */
  }
  g->system = is_system(p, (start_class)cls, g->status, g->waitreason, cleanups);
}

int gr_snapshot_one(gr_program *p, uint64_t gaddr, int32_t tid, uint64_t pc, uint64_t sp, gr_snapshot *s) {
  take_ctx cx;
  bool ok = take_begin(s, &cx);
  size_t need = g_need(&p->layout);
  uint8_t *gb = malloc(need);
  s->gs = arena_calloc(&s->a, 1, sizeof *s->gs);
  int rc = 0;
  if (!ok || !gb || !s->gs) rc = se_set(SE_NOMEM, "out of memory");
  if (rc == 0 && (rc = tgt_mem_read(p->mem, gaddr, gb, need)) != 0)
    rc = se_wrap(rc, "reading the goroutine at 0x%llx", (unsigned long long)gaddr);
  if (rc == 0) {
    gr_goroutine *g = &s->gs[0];
    fill_g(p, gb, gaddr, &cx, g);
    g->tid = tid;
    s->n = s->nallgs = 1;
    uint64_t labels = rd64(gb, GR_OFF(&p->layout, G_LABELS));
    if (labels && p->style.labels_readable) rc = read_labels(p, s, g, labels);
    pending_stack q = {.g = g, .r = {.pc = pc, .sp = sp, .trap = 1,
                                     .lo = rd64(gb, GR_OFF(&p->layout, G_STACK_LO)),
                                     .hi = rd64(gb, GR_OFF(&p->layout, G_STACK_HI))}};
    g->sp = sp;
    g->pc = pc;
    g->trap = true;
    if (rc == 0 && !stack_span(&q.r, &q.len))
      rc = se_set(SE_CORRUPT, "sp 0x%llx is not on the stack of the goroutine at 0x%llx", (unsigned long long)sp,
                  (unsigned long long)gaddr);
    if (rc == 0) rc = read_stacks(p, s, &q, 1, &cx);
  }
  free(gb);
  take_end(&cx);
  if (rc) gr_snapshot_free(s);
  return rc;
}

/* allglen and allgptr against the slice they mirror (runtime.allgadd sets
 * all three under allglock): allgptr == &allgs[0], allglen == len(allgs) <=
 * cap(allgs). Only when the binary names runtime.allgs (its symbol table). */
static int check_allgs(gr_program *p, uint64_t glen, uint64_t gptr) {
  uint64_t at = p->globals.addr[GR_GLOBAL_ALLGS];
  if (!at) return 0;
  uint64_t sl[3];
  if (tgt_mem_read(p->mem, gr_rt(p, at), sl, sizeof sl) != 0) {
    se_clear();
    return 0; /* allglen/allgptr stay the source, as in stripped binaries */
  }
  if (glen > sl[2] || (glen && gptr != sl[0]))
    return se_set(SE_CORRUPT, "runtime.allglen (%llu) and allgptr (0x%llx) disagree with runtime.allgs (0x%llx, len "
                  "%llu, cap %llu): the goroutine list is corrupt, or was being rewritten (try again)",
                  (unsigned long long)glen, (unsigned long long)gptr, (unsigned long long)sl[0],
                  (unsigned long long)sl[1], (unsigned long long)sl[2]);
  return 0;
}

/* What every g in allgs is: a heap address, 8-aligned, with a status the
 * runtime has (runtime2.go: _Gidle .. _Gdeadextra, with the scan bit) and,
 * unless it never ran (_Gidle, _Gdead), a goroutine id. */
static bool plausible_g(const gr_layout *L, uint64_t addr, const uint8_t *gb) {
  if (!addr || addr & 7) return false;
  uint32_t st = rd32(gb, GR_OFF(L, G_ATOMICSTATUS)) & ~(uint32_t)GR_GSCAN;
  if (st > GR_GDEADEXTRA || st == 5 /* _Gmoribund_unused */ || st == 7 /* _Genqueue_unused */) return false;
  return st == GR_GIDLE || st == GR_GDEAD || st == GR_GDEADEXTRA || rd64(gb, GR_OFF(L, G_GOID)) != 0;
}

int gr_snapshot_take(gr_program *p, tgt_session *sess, const gr_snapshot_opts *o, gr_snapshot *s) {
  const gr_layout *L = &p->layout;
  take_ctx cx;
  bool ok = take_begin(s, &cx);
  uint64_t *gaddrs = NULL;
  uint8_t *gbuf = NULL;
  tgt_iov *iov = NULL;
  pending_stack *ps = NULL;

  /* mirrors runtime.forEachGRace: allglen, then allgptr (the process is stopped) */
  uint64_t glen, gptr;
  int rc = tgt_mem_read_u64(p->mem, gr_rt(p, p->globals.addr[GR_GLOBAL_ALLGLEN]), &glen);
  if (rc == 0) rc = tgt_mem_read_u64(p->mem, gr_rt(p, p->globals.addr[GR_GLOBAL_ALLGPTR]), &gptr);
  if (rc) {
    rc = se_wrap(rc, "reading runtime.allglen and runtime.allgptr");
    goto out;
  }
  if (glen > MAX_ALLGS) {
    rc = se_set(SE_CORRUPT, "runtime.allglen is %llu: not a sane number of goroutines", (unsigned long long)glen);
    goto out;
  }
  if ((rc = check_allgs(p, glen, gptr))) goto out;
  s->nallgs = (size_t)glen;
  gaddrs = malloc((size_t)glen * 8 + 8);
  size_t need = g_need(L);
  gbuf = malloc(CHUNK * need);
  iov = malloc(CHUNK * sizeof *iov);
  ps = malloc(CHUNK * sizeof *ps);
  s->gs = arena_calloc(&s->a, (size_t)glen + 1, sizeof *s->gs);
  if (!ok || !gaddrs || !gbuf || !iov || !ps || !s->gs) {
    rc = se_set(SE_NOMEM, "out of memory for %llu goroutines", (unsigned long long)glen);
    goto out;
  }
  if (glen && (rc = tgt_mem_read(p->mem, gptr, gaddrs, (size_t)glen * 8))) {
    rc = se_wrap(rc, "reading the array behind runtime.allgptr");
    goto out;
  }
  /* allgs[0] is the main goroutine: a cheap proof that allglen/allgptr (found
   * by decoding code in a stripped binary) are what we think they are. */
  if (glen) {
    uint64_t goid1 = 0;
    if (tgt_mem_read_u64(p->mem, gaddrs[0] + (uint64_t)GR_OFF(L, G_GOID), &goid1) != 0 || goid1 != 1) {
      rc = se_set(SE_CORRUPT,
                  "runtime.allgptr (0x%llx, from %s) fails validation: its first goroutine is not goroutine 1",
                  (unsigned long long)p->globals.addr[GR_GLOBAL_ALLGPTR], p->globals.source);
      goto out;
    }
  }
  size_t bad = 0; /* gs that cannot be read, or cannot be a g */
  for (size_t base = 0; base < glen; base += CHUNK) {
    size_t cnt = glen - base < CHUNK ? (size_t)(glen - base) : CHUNK;
    for (size_t i = 0; i < cnt; i++) iov[i] = (tgt_iov){gaddrs[base + i], gbuf + i * need, need, false};
    if ((rc = tgt_mem_readv(p->mem, iov, cnt))) goto out;
    size_t npend = 0;
    for (size_t i = 0; i < cnt; i++) {
      const uint8_t *gb = gbuf + i * need;
      if (!iov[i].ok || !plausible_g(L, gaddrs[base + i], gb)) {
        bad++; /* skipped, as the runtime skips nil; too many means allgs is not what it says */
        continue;
      }
      uint32_t status = rd32(gb, GR_OFF(L, G_ATOMICSTATUS)) & ~(uint32_t)GR_GSCAN;
      if (status == GR_GDEAD || status == GR_GDEADEXTRA) continue;
      gr_goroutine *g = &s->gs[s->n];
      fill_g(p, gb, gaddrs[base + i], &cx, g);
      if (g->system && !o->include_system) continue;
      s->n++;
      uint64_t labels = rd64(gb, GR_OFF(L, G_LABELS));
      if (labels && p->style.labels_readable && (rc = read_labels(p, s, g, labels))) goto out;
      if (o->skip_stacks) continue;
      pending_stack *q = &ps[npend];
      q->g = g;
      start_of(p, sess, gb, g, &q->r);
      if (!stack_span(&q->r, &q->len)) {
        g->sp = g->status == GR_GRUNNING && g->stack_lo && g->stack_lo < g->stack_hi ? g->stack_lo : 0;
        g->end = GR_UNWIND_BAD_STACK;
        continue;
      }
      g->sp = g->status == GR_GRUNNING && !q->r.trap ? g->stack_lo : q->r.sp;
      if (g->sp == q->r.sp) {
        g->pc = q->r.pc;
        g->trap = q->r.trap;
      }
      npend++;
    }
    if ((rc = read_stacks(p, s, ps, npend, &cx))) goto out;
    size_t seen = base + cnt;
    if (bad > BAD_G_FLOOR && bad > seen / BAD_G_SHARE) {
      rc = se_set(SE_CORRUPT, "%zu of the first %zu goroutines in runtime.allgs (allglen %llu) cannot be read or "
                  "are not goroutines: the goroutine list looks corrupt, or was being rewritten; sonde stopped "
                  "reading it (try again)", bad, seen, (unsigned long long)glen);
      goto out;
    }
  }
out:
  free(gaddrs);
  free(gbuf);
  free(iov);
  free(ps);
  take_end(&cx);
  if (rc) gr_snapshot_free(s);
  return rc;
}

void gr_snapshot_free(gr_snapshot *s) {
  if (s->model && s->model_free) s->model_free(s->model);
  s->model = NULL;
  arena_free(&s->a);
  memset(s, 0, sizeof *s);
}
