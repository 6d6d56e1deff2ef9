/* reach_stack.c: goroutine stacks and the frames of threads in runtime
 * code, scanned through the compiler's stack maps (reach_ctx.h). Mirrors
 * runtime/mgcmark.go scanstack and scanframeworker. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "goruntime/reach_ctx.h"


/* The stack map of a frame at pc: one bitmap of a runtime.stackmap
 * {n, nbit int32; bytedata}, entry idx. */
static bool stackmap_at(const pcln_table *t, uint64_t addr, int32_t idx, int32_t *nbit, const uint8_t **bits) {
  const uint8_t *h = addr && t->bytes_at ? t->bytes_at(t->bytes_ctx, addr, 8) : NULL;
  if (!h) return false;
  int32_t n, nb;
  memcpy(&n, h, 4);
  memcpy(&nb, h + 4, 4);
  if (n <= 0 || nb < 0 || nb > (1 << 24) || idx < 0 || idx >= n) return false;
  size_t row = ((size_t)nb + 7) / 8;
  *nbit = nb;
  *bits = nb ? t->bytes_at(t->bytes_ctx, addr + 8 + (uint64_t)idx * row, row) : h;
  return *bits != NULL;
}

/* mirrors runtime/stkframe.go getStackMap and traceback.go's frame setup
 * (amd64: fp = sp + spdelta + 8; varp = fp - 8, less 8 more for the saved
 * frame pointer when the frame has room; argp = fp). */
static frame_map compute_map(const pcln_table *t, uint64_t pc) {
  frame_map m = {0};
  pcln_func f;
  int32_t spdelta;
  if (pcln_find(t, pc, &f) != 0 || !pcln_spdelta(t, &f, pc, &spdelta) || spdelta < 0 || spdelta > (1 << 26)) {
    se_clear();
    return m;
  }
  int32_t args = pcln_args(t, &f);
  m.frame = (uint32_t)spdelta + 8;
  m.args_bytes = args > 0 && args < (1 << 20) ? args : 0;
  uint8_t fid = pcln_funcid(t, &f);
  if (args == PCLN_ARGS_UNKNOWN || args < 0 || pcln_is_special(t, fid, PCLN_FID_ASYNCPREEMPT) ||
      pcln_is_special(t, fid, PCLN_FID_SIGPANIC) || pcln_is_special(t, fid, PCLN_FID_DEBUGCALLV2))
    return m; /* reflect and assembly frames, and frames that saved registers: conservative */
  int32_t idx = -1;
  if (pc != f.entry) idx = pcln_pcdata(t, &f, PCDATA_STACKMAPINDEX, pc - 1);
  if (idx == -1) idx = 0;
  m.varp = (uint32_t)spdelta > 0 ? (uint32_t)spdelta - 8 : (uint32_t)spdelta;
  m.argp = m.frame;
  if (m.varp > 0 && !stackmap_at(t, pcln_funcdata(t, &f, FUNCDATA_LOCALSPOINTERMAPS), idx, &m.nlocals, &m.locals))
    return m;
  if ((uint32_t)m.nlocals * 8 > m.varp) return m;
  if (args > 0 && !stackmap_at(t, pcln_funcdata(t, &f, FUNCDATA_ARGSPOINTERMAPS), idx, &m.nargs, &m.args)) return m;
  if (m.nargs * 8 > args) m.nargs = args / 8;
  uint64_t objs = pcln_funcdata(t, &f, FUNCDATA_STACKOBJECTS);
  if (objs) {
    const uint8_t *p = t->bytes_at ? t->bytes_at(t->bytes_ctx, objs, 8) : NULL;
    uint64_t n;
    if (!p) return m;
    memcpy(&n, p, 8);
    if (n > MAX_STACK_OBJECTS || (n && !t->bytes_at(t->bytes_ctx, objs + 8, (size_t)n * 16))) return m;
    m.objs = objs + 8;
    m.nobjs = (uint32_t)n;
  }
  m.precise = true;
  return m;
}

static const frame_map *map_of(rctx *c, uint64_t pc, frame_map *tmp) {
  uint64_t v;
  if (u64map_get(&c->maps, pc + 1, &v)) return &c->fmaps[v - 1];
  *tmp = compute_map(&c->p->pcln, pc);
  if (c->nfmaps == c->capfmaps) {
    size_t cap = c->capfmaps ? c->capfmaps * 2 : 256;
    frame_map *n = realloc(c->fmaps, cap * sizeof *n);
    if (!n) return tmp; /* a full cache only costs speed */
    c->fmaps = n;
    c->capfmaps = cap;
  }
  c->fmaps[c->nfmaps++] = *tmp;
  if (u64map_put(&c->maps, pc + 1, c->nfmaps) != 0) {
    se_clear();
    c->nfmaps--;
    return tmp;
  }
  return &c->fmaps[c->nfmaps - 1];
}

/* Marks what the words [from, to) of the stack copy (based at sp) point to. */
static int scan_words(rctx *c, const uint8_t *stk, uint64_t sp, size_t len, uint64_t from, uint64_t to, uint32_t src) {
  if (from < sp) from = sp;
  if (to > sp + len) to = sp + len;
  int rc = 0;
  for (uint64_t a = (from + 7) & ~7ull; a + 8 <= to && !rc; a += 8) {
    uint64_t v;
    memcpy(&v, stk + (a - sp), 8);
    if (v >= c->lo && v < c->hi) rc = reach_mark(c, v, src);
  }
  return rc;
}

static int scan_bits(rctx *c, const uint8_t *stk, uint64_t sp, size_t len, uint64_t base, const uint8_t *bits,
                     int32_t nbit, uint32_t src) {
  int rc = 0;
  for (int32_t i = 0; i < nbit && !rc; i++)
    if ((bits[i / 8] >> (i % 8)) & 1) rc = scan_words(c, stk, sp, len, base + (uint64_t)i * 8, base + (uint64_t)i * 8 + 8, src);
  return rc;
}

/* The frames of a stack copy (based at sp) from (pc, sp), through the
 * compiler's stack maps (mirrors runtime/mgcmark.go scanstack,
 * scanframeworker): only the live pointer slots of each frame. A frame
 * without usable maps and an interrupted frame (its registers were saved,
 * sigpanic, asyncPreempt) are scanned word by word. *done: where the last
 * frame understood ends; *complete: the walk reached the stack's top. */
static int scan_frames(rctx *c, const uint8_t *stk, uint64_t sp, size_t len, uint64_t pc, int trap, uint32_t src,
                       uint64_t *done, bool *complete, size_t *nframes) {
  gr_stackcopy copy = {stk, sp, len};
  gr_unwind_end end;
  size_t n = gr_unwind_sp(&c->p->pcln, &c->pcs, &copy, pc, sp, trap, c->frames, c->sps, MAX_STACK_FRAMES, &end);
  *nframes = n;
  int rc = 0;
  *done = sp;
  for (size_t i = 0; i < n && !rc; i++) {
    frame_map tmp;
    const frame_map *m = map_of(c, c->frames[i].pc, &tmp);
    uint64_t fsp = c->sps[i], fp = fsp + m->frame;
    if (!m->precise || (c->frames[i].flags & GR_FRAME_TRAP) || !m->frame) {
      rc = scan_words(c, stk, sp, len, fsp, fp + (uint64_t)m->args_bytes, src);
    } else {
      uint64_t varp = fsp + m->varp, argp = fsp + m->argp;
      if (m->nlocals) rc = scan_bits(c, stk, sp, len, varp - 8 * (uint64_t)m->nlocals, m->locals, m->nlocals, src);
      if (!rc && m->nargs) rc = scan_bits(c, stk, sp, len, argp, m->args, m->nargs, src);
      const uint8_t *recs = m->nobjs ? c->p->pcln.bytes_at(c->p->pcln.bytes_ctx, m->objs, (size_t)m->nobjs * 16) : NULL;
      for (uint32_t k = 0; recs && k < m->nobjs && !rc; k++) { /* stack objects, whole */
        int32_t off, size;
        memcpy(&off, recs + 16 * k, 4);
        memcpy(&size, recs + 16 * k + 4, 4);
        uint64_t base = off < 0 ? varp - (uint64_t)(-(int64_t)off) : argp + (uint64_t)off;
        if (size > 0) rc = scan_words(c, stk, sp, len, base, base + (uint64_t)size, src);
      }
    }
    *done = fp;
  }
  *complete = end == GR_UNWIND_COMPLETE && n;
  return rc;
}

/* A goroutine's stack, frame by frame (scan_frames); whatever lies past
 * the last frame the unwinder reaches is scanned word by word. */
int reach_scan_stack(rctx *c, const gr_goroutine *g, uint32_t src) {
  size_t len = (size_t)(g->stack_hi - g->sp);
  bool sane = g->sp && g->sp <= g->stack_hi && len <= (1u << 30);
  if (sane && len > c->capstack) {
    uint8_t *n = realloc(c->stack, len);
    if (!n) return se_set(SE_NOMEM, "out of memory for a %zu-byte stack", len);
    c->stack = n;
    c->capstack = len;
  }
  if (!sane || tgt_mem_read(c->p->mem, g->sp, c->stack, len) != 0) {
    se_clear();
    if (c->ph == PH_MARK && !c->r->incomplete[0])
      snprintf(c->r->incomplete, sizeof c->r->incomplete, "the stack of goroutine %llu could not be read",
               (unsigned long long)g->goid);
    return 0;
  }
  if (c->ph == PH_MARK) c->r->root_bytes += len;
  const uint8_t *stk = c->stack;
  uint64_t sp = g->sp, done = sp;
  bool complete = false;
  size_t n;
  if (!g->pc || !c->frames) return scan_words(c, stk, sp, len, sp, sp + len, src);
  int rc = scan_frames(c, stk, sp, len, g->pc, g->trap ? GR_UNWIND_TRAP : 0, src, &done, &complete, &n);
  /* past the last frame understood: word by word */
  if (!rc && !complete) rc = scan_words(c, stk, sp, len, done, sp + len, src);
  return rc;
}

/* Linux x86-64's signal frame (the kernel's rt_sigframe): the handler's
 * return address, then the ucontext, whose mcontext's general registers
 * (r8 ... r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, ...) follow
 * uc_flags, uc_link and uc_stack. */
enum { UC_GREGS = 40, UC_NGPR = 17 }; /* abi: linux/amd64 ucontext_t */

/* A thread in Go's signal handler (its walk ends at runtime.sigtramp, a
 * TOPFRAME): the code the signal interrupted, a goroutine or the runtime,
 * left its registers in the ucontext above sigtramp's frame, and only
 * there. They are roots, as a running thread's registers are (issue 23: a
 * worker preempted by SIGURG in chansend held the channel its receiver
 * waits on in a register, and nothing else did). The interrupted
 * goroutine's stack is read whole (goroutines.c: its thread is off it). */
static int scan_signal_frame(rctx *c, const uint8_t *stk, uint64_t sp, size_t len, size_t last, uint64_t fp) {
  pcln_func f;
  const pcln_table *t = &c->p->pcln;
  if (pcln_find(t, c->frames[last].pc, &f) != 0) {
    se_clear();
    return 0;
  }
  const char *name = pcln_name(t, &f);
  if (!name || strcmp(name, "runtime.sigtramp") != 0 || fp <= c->sps[last]) return 0; /* no frame size known */
  uint64_t regs = fp + UC_GREGS; /* fp: past sigtramp's return address, where the ucontext starts */
  if (regs < sp || regs + 8 * UC_NGPR > sp + len) return 0;
  int rc = 0;
  for (uint64_t k = 0; k < UC_NGPR && !rc; k++) {
    uint64_t v;
    memcpy(&v, stk + (regs - sp) + 8 * k, 8);
    if (v >= c->lo && v < c->hi) rc = reach_mark(c, v, 0);
  }
  return rc;
}

/* A thread off every goroutine's stack runs the runtime on its M's g0 or
 * signal stack: the scheduler, timers (a timer being run or moved in a P's
 * heap is held only there), a system-stack call. The runtime's detector
 * never sees this (it decides in a stop-the-world, where no M is inside
 * such code); sonde, stopping anywhere, must count what those frames hold.
 * Only the frames in use, from sp up, through the stack maps: the rest of
 * g0 and signal stacks, read word by word, holds stale pointers that hid
 * real leaks. sonde does not know where that stack ends (g0 stacks are 16
 * KiB, signal stacks 32 KiB, m0's g0 is the main thread's stack): it reads
 * up to THREAD_STACK_READ bytes from sp, less near the end of a mapping. */
int reach_scan_thread(rctx *c, const gr_thread_at *t) {
  for (size_t i = 0; i < c->s->n; i++) { /* on a goroutine's stack: that stack is read already */
    const gr_goroutine *g = &c->s->gs[i];
    if (t->sp >= g->stack_lo && t->sp < g->stack_hi) return 0;
  }
  if (!t->pc || !t->sp || !c->frames || pcln_find(&c->p->pcln, t->pc, &(pcln_func){0}) != 0) {
    se_clear(); /* not in Go code (a C library, the vDSO): nothing sonde can read precisely */
    return 0;
  }
  if (c->capstack < THREAD_STACK_READ) {
    uint8_t *n = realloc(c->stack, THREAD_STACK_READ);
    if (!n) return se_set(SE_NOMEM, "out of memory for a thread's stack");
    c->stack = n;
    c->capstack = THREAD_STACK_READ;
  }
  size_t len = THREAD_STACK_READ;
  while (len >= 4096 && tgt_mem_read(c->p->mem, t->sp, c->stack, len) != 0) {
    se_clear();
    len /= 2;
  }
  if (len < 4096) return 0; /* unreadable: its registers are still roots */
  uint64_t done;
  bool complete;
  size_t n;
  if (c->ph == PH_MARK) c->r->root_bytes += len;
  /* past an innermost SPWRITE function: its callers' frames are in use */
  int rc = scan_frames(c, c->stack, t->sp, len, t->pc, GR_UNWIND_TRAP | GR_UNWIND_PAST_SPWRITE, 0, &done, &complete, &n);
  return rc || !n ? rc : scan_signal_frame(c, c->stack, t->sp, len, n - 1, done);
}
