/* waits.h: what each blocked goroutine waits on (issue 8's wait model).
 *
 * Channels: a goroutine blocked in a channel operation or a
 * select has its sudogs on g.waiting, linked by waitlink (chan.go, select.go),
 * each naming its channel (sudog.c). sonde reads them while the process is
 * stopped, with the channels: element type, capacity, length, closed. A
 * select's case is a send or a receive by the queue of the channel its sudog
 * sits on. A nil channel has no sudog: the wait reason says "(nil chan)".
 * Each wait says whether its sudog is still queued there (queued).
 * Semaphores (sync.Mutex, RWMutex, WaitGroup: sema.go): the waiter's sudog
 * sits in runtime.semtable's treaps, its elem the semaphore's address,
 * which lies inside the primitive. sync.Cond: the waiter's sudog sits on the
 * Cond's notifyList (sema.go notifyListWait); Go 1.26+ points g.waiting at
 * it, older versions are searched from the words of the waiter's stack (a
 * list whose sudog names this g is the one).
 * Every list read is bounded; what breaks a bound is left out and counted. */
#ifndef SONDE_GORUNTIME_WAITS_H
#define SONDE_GORUNTIME_WAITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "goruntime/goroutines.h"
#include "goruntime/runtime.h"

enum { GR_DIR_UNKNOWN = 0, GR_DIR_SEND = 1, GR_DIR_RECV = 2 };
enum { GR_WAIT_CHAN = 0, GR_WAIT_SEMA = 1, GR_WAIT_COND = 2 };
/* Whether the waiter's sudog still sits on its primitive's wait queue
 * (issue 23). Only a waker takes it off (chan.go dequeue, closechan,
 * sema.go notifyListNotifyAll/One; semrelease's treap dequeue), before it
 * readies the waiter: a parked goroutine whose sudog is off its queue is
 * halfway through a wake-up, and will run. */
enum { GR_QUEUED_UNKNOWN = 0, GR_QUEUED_YES = 1, GR_QUEUED_NO = 2 };
/* select cases sonde follows per goroutine (reflect.Select allows 65536) */
enum { GR_MAX_WAIT_CASES = 65536 };

typedef struct {
  uint64_t addr;     /* the hchan */
  uint64_t len, cap; /* qcount, dataqsiz */
  bool closed;
  const char *elem; /* element type, as reflect prints it; NULL when unknown */
} gr_chan;

typedef struct {
  uint8_t kind;  /* GR_WAIT_* */
  uint32_t chan; /* GR_WAIT_CHAN: index into gr_waits.chans */
  uint8_t dir;   /* GR_DIR_* */
  bool select;   /* one case of a select */
  uint64_t sema; /* GR_WAIT_SEMA: the semaphore's address; GR_WAIT_COND: the
                    Cond's notifyList */
  uint64_t sudog; /* the waiter's sudog (its c or elem names the primitive) */
  uint8_t queued; /* GR_QUEUED_*: UNKNOWN when the queue could not be read whole */
} gr_chanwait;

typedef struct {
  arena a;
  gr_chan *chans;
  size_t nchans;
  /* per goroutine of the snapshot (same index): its cases */
  gr_chanwait **cases;
  uint32_t *ncases;
  size_t n;
  size_t nbroken; /* goroutines whose sudog list could not be read whole */
} gr_waits;

/* Whether this binary's layout allows it (an error naming what is missing). */
int gr_waits_supported(const gr_program *p);
/* Reads what every goroutine of s waits on. The process must still be
 * stopped as it was for s. */
int gr_waits_take(gr_program *p, const gr_snapshot *s, gr_waits *out);
void gr_waits_free(gr_waits *w);
const char *gr_dir_name(uint8_t dir);

/* What a wait reason (as the target spells it, gr_wait_reason_of) says a
 * goroutine is parked on: the one table both the wait model (waits.c) and
 * the leak analysis (reach.c) read. Mirrors runtime/mgc.go isMaybeRunnable,
 * which judges exactly the reasons below; every other reason (sleep, IO,
 * GC, synctest, ...) is GR_REASON_OTHER. */
typedef enum {
  GR_REASON_OTHER = 0,
  GR_REASON_NEVER,     /* a nil channel, select with no cases: nothing can wake it */
  GR_REASON_CHAN_SEND, /* "chan send" */
  GR_REASON_CHAN_RECV, /* "chan receive" */
  GR_REASON_SELECT,    /* "select" */
  GR_REASON_SEMA,      /* sync.Mutex, RWMutex, WaitGroup; "semacquire" is how Go
                          before 1.24/1.25 names them */
  GR_REASON_COND       /* "sync.Cond.Wait" */
} gr_reason_class;
gr_reason_class gr_reason_class_of(const char *reason);

#endif
