/* roots.c: the in-flight states of a ptrace stop that the leak analysis
 * must count as able to run (roots.h, issue 23; docs/goroutine-graph.md). */
#include "goruntime/roots.h"

#include <stdlib.h>
#include <string.h>

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

int gr_roots_threads(tgt_session *sess, gr_thread_roots *out) {
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
    memcpy(out->words + out->nwords, &regs, NW * 8);
    out->nwords += NW;
    out->at[out->nat++] = (gr_thread_at){sess->threads[t].tid, regs.rip, regs.rsp};
  }
  return 0;
}

void gr_roots_free(gr_thread_roots *r) {
  free(r->words);
  free(r->at);
  *r = (gr_thread_roots){0};
}
