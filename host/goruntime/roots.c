/* roots.c: the in-flight states of a ptrace stop that the leak analysis
 * must count as able to run (roots.h, issue 23; docs/goroutine-graph.md). */
#include "goruntime/roots.h"

#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "base/error.h"

gr_park_state gr_roots_park_state(const gr_chanwait *cases, uint32_t n) {
  gr_park_state st = GR_PARK_PARKED;
  for (uint32_t i = 0; i < n; i++) {
    /* mirrors runtime/chan.go (*waitq).dequeue, closechan, select.go
     * selectgo: a waker takes one sudog off its queue (a select's other
     * sudogs stay queued until the woken goroutine runs), then goready;
     * sema.go notifyListNotifyAll/One empty or unlink the list first too. */
    if (cases[i].queued == GR_QUEUED_NO) return GR_PARK_WAKING;
    if (cases[i].queued == GR_QUEUED_UNKNOWN) st = GR_PARK_UNDECIDED;
  }
  return st;
}

enum { SYSCALL_FUNC_MAX = 4096 /* bytes of a function decoded to find its SYSCALL */ };

/* Whether the thread is stopped inside a system call that Go code made:
 * its pc follows a SYSCALL instruction of a Go function (the runtime's and
 * package syscall's assembly wrappers). orig_rax alone does not tell: after
 * a page fault it holds the fault's error code, a small number, and the
 * thread is in the middle of ordinary code. The function is decoded from
 * its entry so that the SYSCALL is a real instruction boundary. Anything
 * else (C code, the vDSO, a function too long, code sonde cannot read)
 * counts as not in a system call: all its registers count. */
static bool in_syscall(const gr_program *p, const struct user_regs_struct *r) {
  if ((long long)r->orig_rax < 0) return false;
  pcln_func f;
  if (pcln_find(&p->pcln, r->rip, &f) != 0) {
    se_clear();
    return false;
  }
  if (r->rip <= f.entry || r->rip - f.entry > SYSCALL_FUNC_MAX || r->rip < p->bias) return false;
  size_t len = (size_t)(r->rip - f.entry);
  const uint8_t *code = gr_image_bytes_at(&p->img, f.entry - p->bias, len);
  if (!code) return false;
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction ins;
  for (size_t off = 0; off < len;) {
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, code + off, (ZyanUSize)(len - off), &ins))) return false;
    if (off + ins.length == len) return ins.mnemonic == ZYDIS_MNEMONIC_SYSCALL;
    off += ins.length;
  }
  return false;
}

int gr_roots_threads(const gr_program *p, tgt_session *sess, gr_thread_roots *out) {
  *out = (gr_thread_roots){0};
  if (!sess || !sess->nthreads) return 0;
  enum { NW = sizeof(struct user_regs_struct) / 8 };
  out->words = malloc(sess->nthreads * NW * sizeof *out->words);
  out->at = malloc(sess->nthreads * sizeof *out->at);
  if (!out->words || !out->at) {
    gr_roots_free(out);
    return se_set(SE_NOMEM, "out of memory for the threads' registers");
  }
  for (size_t t = 0; t < sess->nthreads; t++) {
    struct user_regs_struct regs;
    if (tgt_getregs(sess, sess->threads[t].tid, &regs) != 0) {
      se_clear();
      continue;
    }
    if (in_syscall(p, &regs)) {
      /* Stopped inside a system call made by Go code. Go's ABI keeps no
       * value in a register across a call (no register is callee-saved):
       * what the code making the call still needs is on its stack, and the
       * other registers hold whatever ran before (stale pointers there hid
       * a real leak, 1 check in 25). Only the call's arguments count. */
      const uint64_t args[] = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
      memcpy(out->words + out->nwords, args, sizeof args);
      out->nwords += sizeof args / 8;
    } else {
      memcpy(out->words + out->nwords, &regs, NW * 8);
      out->nwords += NW;
    }
    out->at[out->nat++] = (gr_thread_at){sess->threads[t].tid, regs.rip, regs.rsp};
  }
  return 0;
}

void gr_roots_free(gr_thread_roots *r) {
  free(r->words);
  free(r->at);
  *r = (gr_thread_roots){0};
}
