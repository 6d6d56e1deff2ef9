/* unwind.c: the amd64 pcsp unwinder. */
#include "goruntime/unwind.h"

#include <string.h>

#include "base/error.h"

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

/* What the unwinder needs to know about a pc, from the pclntab. */
typedef struct {
  bool found, sp_ok;
  int32_t spdelta;
  uint8_t flag, funcid;
} pc_info;

static pc_info lookup(const pcln_table *t, uint64_t pc) {
  pc_info r = {0};
  pcln_func f;
  if (pcln_find(t, pc, &f) != 0) return r;
  r.found = true;
  r.flag = pcln_flag(t, &f);
  r.funcid = pcln_funcid(t, &f);
  r.sp_ok = pcln_spdelta(t, &f, pc, &r.spdelta);
  return r;
}

/* Packed in the cache as: bit 48 found, bit 49 sp_ok, 40-47 funcid,
 * 32-39 flag, 0-31 spdelta. Key pc+1 (0 is the map's empty key). */
static pc_info cached_lookup(const pcln_table *t, u64map *cache, uint64_t pc) {
  uint64_t v;
  if (cache && u64map_get(cache, pc + 1, &v))
    return (pc_info){(v >> 48) & 1, (v >> 49) & 1, (int32_t)(uint32_t)v, (uint8_t)(v >> 32), (uint8_t)(v >> 40)};
  pc_info r = lookup(t, pc);
  if (!r.found) se_clear();
  if (cache)
    (void)u64map_put(cache, pc + 1,
                     (uint64_t)r.found << 48 | (uint64_t)r.sp_ok << 49 | (uint64_t)r.funcid << 40 |
                         (uint64_t)r.flag << 32 | (uint32_t)r.spdelta); /* a full cache only costs speed */
  return r;
}

size_t gr_unwind(const pcln_table *t, u64map *cache, const gr_stackcopy *stk, uint64_t pc, uint64_t sp, int trap,
                 gr_rawframe *out, size_t max, gr_unwind_end *end) {
  return gr_unwind_sp(t, cache, stk, pc, sp, trap, out, NULL, max, end);
}

size_t gr_unwind_sp(const pcln_table *t, u64map *cache, const gr_stackcopy *stk, uint64_t pc, uint64_t sp, int trap,
                    gr_rawframe *out, uint64_t *sps, size_t max, gr_unwind_end *end) {
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
  uint32_t flags = (trap & GR_UNWIND_TRAP) ? GR_FRAME_TRAP : 0;
  for (;;) {
    pc_info fi = cached_lookup(t, cache, pc);
    if (!fi.found) {
      *end = GR_UNWIND_UNKNOWN_PC;
      return n;
    }
    if (n == max) {
      *end = GR_UNWIND_TRUNCATED;
      return n;
    }
    out[n].pc = pc;
    out[n].flags = flags;
    if (sps) sps[n] = sp;
    n++;
    uint8_t fflag = fi.flag;
    if (fflag & PCLN_FLAG_TOPFRAME) return n;
    /* The runtime also stops at an innermost SPWrite function when it is
     * printing (unwindPrintErrors), which is the traceback we reproduce;
     * the leak analysis asks to go on (GR_UNWIND_PAST_SPWRITE). */
    if ((fflag & PCLN_FLAG_SPWRITE) && !(n == 1 && (trap & GR_UNWIND_PAST_SPWRITE))) {
      *end = GR_UNWIND_SPWRITE;
      return n;
    }
    int32_t spdelta = fi.spdelta;
    if (!fi.sp_ok || spdelta < 0) {
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
    uint8_t fid = fi.funcid;
    int injected = pcln_is_special(t, fid, PCLN_FID_SIGPANIC) || pcln_is_special(t, fid, PCLN_FID_ASYNCPREEMPT) ||
                   pcln_is_special(t, fid, PCLN_FID_DEBUGCALLV2);
    flags = injected ? GR_FRAME_TRAP : 0;
    pc = lr;
    sp = fp;
    if (sps) sps[n] = sp;
  }
}
