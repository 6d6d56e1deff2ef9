/* unwind.c: the amd64 pcsp unwinder. */
#include "goruntime/unwind.h"

#include <string.h>

static int read_word(const gr_stackcopy *s, uint64_t addr, uint64_t *out) {
  if (addr < s->base || addr - s->base > s->len || s->len - (addr - s->base) < 8) return -1;
  memcpy(out, s->bytes + (addr - s->base), 8);
  return 0;
}

const char *gr_unwind_end_str(gr_unwind_end e) {
  switch (e) {
    case GR_UNWIND_COMPLETE: return "complete";
    case GR_UNWIND_TRUNCATED: return "truncated";
    case GR_UNWIND_SPWRITE: return "stopped at a function that writes SP";
    case GR_UNWIND_UNKNOWN_PC: return "return address outside Go code";
    case GR_UNWIND_BAD_STACK: return "frame outside the goroutine's stack";
    case GR_UNWIND_STUCK: return "unwinding made no progress";
  }
  return "?";
}

size_t gr_unwind(const pcln_table *t, const gr_stackcopy *stk, uint64_t pc, uint64_t sp, int trap,
                 gr_rawframe *out, size_t max, gr_unwind_end *end) {
  size_t n = 0;
  *end = GR_UNWIND_COMPLETE;
  /* initAt: a call through a nil func leaves pc 0; pop the return address */
  if (pc == 0) {
    if (read_word(stk, sp, &pc)) {
      *end = GR_UNWIND_BAD_STACK;
      return 0;
    }
    sp += 8;
  }
  uint32_t flags = trap ? GR_FRAME_TRAP : 0;
  for (;;) {
    pcln_func f;
    if (pcln_find(t, pc, &f) != 0) {
      *end = GR_UNWIND_UNKNOWN_PC;
      return n;
    }
    if (n == max) {
      *end = GR_UNWIND_TRUNCATED;
      return n;
    }
    out[n].pc = pc;
    out[n].flags = flags;
    n++;
    uint8_t fflag = pcln_flag(t, &f);
    if (fflag & PCLN_FLAG_TOPFRAME) return n;
    /* The runtime also stops at an innermost SPWrite function when it is
     * printing (unwindPrintErrors), which is the traceback we reproduce. */
    if (fflag & PCLN_FLAG_SPWRITE) {
      *end = GR_UNWIND_SPWRITE;
      return n;
    }
    int32_t spdelta;
    if (!pcln_spdelta(t, &f, pc, &spdelta) || spdelta < 0) {
      *end = GR_UNWIND_BAD_STACK;
      return n;
    }
    uint64_t fp = sp + (uint64_t)spdelta + 8;
    uint64_t lr;
    if (read_word(stk, fp - 8, &lr)) {
      *end = GR_UNWIND_BAD_STACK;
      return n;
    }
    if (lr == 0) return n;
    if (pc == lr && sp == fp) {
      *end = GR_UNWIND_STUCK;
      return n;
    }
    /* next: an injected call (sigpanic, asyncPreempt, debugCallV2) means its
     * caller was interrupted, so the caller's pc is not a return address. */
    uint8_t fid = pcln_funcid(t, &f);
    int injected = pcln_is_special(t, fid, PCLN_FID_SIGPANIC) || pcln_is_special(t, fid, PCLN_FID_ASYNCPREEMPT) ||
                   pcln_is_special(t, fid, PCLN_FID_DEBUGCALLV2);
    flags = injected ? GR_FRAME_TRAP : 0;
    pc = lr;
    sp = fp;
  }
}
