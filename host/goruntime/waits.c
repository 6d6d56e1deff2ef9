/* waits.c: what each blocked goroutine waits on (waits.h). */
#include "goruntime/waits.h"

#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "base/error.h"
#include "base/u64map.h"
#include "goruntime/heap.h"

enum {
  MAX_QUEUE = 1 << 20, /* sudogs followed along one channel queue */
  NAME_MAX_READ = GR_MAX_TYPE_NAME + 16,
  COND_STACK_SEARCH = 4096, /* limit: bytes from sp where Cond.Wait keeps its receiver */
  COND_LIST_MAX = 1 << 16   /* limit: sudogs followed along one notifyList */
};

static uint64_t rd(const uint8_t *b, int64_t off, size_t n) { return sonde_le(b + off, n); }

int gr_waits_supported(const gr_program *p) {
  static const gr_field need[] = {GRL_G_WAITING,   GRL_SG_WAITLINK, GRL_SG_ISSELECT, GRL_SG_C,
                                  GRL_SG_NEXT,     GRL_HC_QCOUNT,   GRL_HC_DATAQSIZ, GRL_HC_CLOSED,
                                  GRL_HC_ELEMTYPE, GRL_HC_RECVQ,    GRL_HC_SENDQ};
  const gr_layout *L = &p->layout;
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
    if (L->off[need[i]] < 0) {
      const gr_field_spec *s = gr_layout_spec(need[i]);
      return se_set(SE_NOTGO, "the wait model needs %s.%s, which this binary's runtime (%s) does not have", s->st,
                    s->path, p->bi.go_version);
    }
  if (!GR_SIZE(L, SZ_SUDOG) || !GR_SIZE(L, SZ_HCHAN) || GR_SIZE(L, SZ_SUDOG) > 512 || GR_SIZE(L, SZ_HCHAN) > 512)
    return se_set(SE_NOTGO, "the sizes of runtime.sudog and runtime.hchan are unknown for %s", p->bi.go_version);
  return 0;
}

const char *gr_dir_name(uint8_t dir) { return dir == GR_DIR_SEND ? "send" : dir == GR_DIR_RECV ? "receive" : "?"; }

/* The name of the type descriptor at addr, from the binary's own types
 * (moduledata.types); NULL when it is not one of them or cannot be read. */
static const char *type_name(gr_program *p, arena *a, uint64_t addr) {
  const gr_layout *L = &p->layout;
  uint8_t desc[256];
  size_t tsz = (size_t)GR_SIZE(L, SZ_TYPE);
  uint64_t at;
  if (!addr || !GR_HAS(L, TY_STR) || !GR_HAS(L, TY_TFLAG) || tsz < 48 || tsz > sizeof desc || addr < p->md_types ||
      addr >= p->md_etypes || tgt_mem_read(p->mem, addr, desc, tsz) != 0) {
    se_clear();
    return NULL;
  }
  if (!gr_type_name_addr(p, desc, addr, &at)) return NULL;
  uint8_t buf[NAME_MAX_READ];
  size_t n = p->md_etypes - at < sizeof buf ? (size_t)(p->md_etypes - at) : sizeof buf;
  if (tgt_mem_read(p->mem, at, buf, n) != 0) {
    se_clear();
    return NULL;
  }
  char name[GR_MAX_TYPE_NAME + 8];
  size_t need;
  if (!gr_heap_decode_name(buf, n, desc[GR_OFF(L, TY_TFLAG)] & (1 << 1), name, sizeof name, &need)) return NULL;
  return arena_strndup(a, name, strlen(name));
}

typedef struct {
  gr_program *p;
  gr_waits *w;
  u64map g2sema; /* g -> the semaphore it waits on (semtable's treaps) */
  u64map g2sudog; /* g -> its sudog there */
  u64map index;  /* hchan -> index in w->chans + 1 */
  size_t cap;
  u64map qdir;   /* sudog -> GR_DIR_* + 1, filled per channel waited on */
  u64map walked; /* hchans whose queues are in qdir: 1, or 2 when a queue could not be read whole */
} wctx;

/* The channel at addr, read once. */
static int chan_at(wctx *c, uint64_t addr, uint32_t *out) {
  uint64_t v;
  if (u64map_get(&c->index, addr, &v)) {
    *out = (uint32_t)(v - 1);
    return 0;
  }
  const gr_layout *L = &c->p->layout;
  uint8_t b[512];
  gr_chan ch = {.addr = addr};
  if (tgt_mem_read(c->p->mem, addr, b, (size_t)GR_SIZE(L, SZ_HCHAN)) != 0) {
    se_clear(); /* shown with its address only */
  } else {
    ch.len = rd(b, GR_OFF(L, HC_QCOUNT), 8);
    ch.cap = rd(b, GR_OFF(L, HC_DATAQSIZ), 8);
    ch.closed = rd(b, GR_OFF(L, HC_CLOSED), 4) != 0;
    ch.elem = type_name(c->p, &c->w->a, rd(b, GR_OFF(L, HC_ELEMTYPE), 8));
  }
  gr_waits *w = c->w;
  if (w->nchans == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    gr_chan *n = realloc(w->chans, cap * sizeof *n);
    if (!n) return se_set(SE_NOMEM, "out of memory for channels");
    w->chans = n;
    c->cap = cap;
  }
  w->chans[w->nchans] = ch;
  *out = (uint32_t)w->nchans;
  return u64map_put(&c->index, addr, ++w->nchans);
}

/* Records which sudogs wait in addr's receive and send queues (once per
 * channel): a select's case is whichever queue holds its sudog, and a sudog
 * on neither is being woken. */
static int walk_queues(wctx *c, uint64_t addr) {
  uint64_t v;
  if (u64map_get(&c->walked, addr, &v)) return 0;
  const gr_layout *L = &c->p->layout;
  bool whole = true;
  int rc = 0;
  for (int q = 0; q < 2 && !rc; q++) {
    uint64_t sg = 0;
    if (tgt_mem_read(c->p->mem, addr + (uint64_t)(q ? GR_OFF(L, HC_SENDQ) : GR_OFF(L, HC_RECVQ)), &sg, 8) != 0) {
      se_clear();
      whole = false;
      continue;
    }
    int i = 0;
    for (; sg && i < MAX_QUEUE && !rc; i++) {
      rc = u64map_put(&c->qdir, sg, (q ? GR_DIR_SEND : GR_DIR_RECV) + 1);
      if (!rc && tgt_mem_read(c->p->mem, sg + (uint64_t)GR_OFF(L, SG_NEXT), &sg, 8) != 0) {
        se_clear();
        whole = false;
        break;
      }
    }
    if (sg && i == MAX_QUEUE) whole = false;
  }
  return rc ? rc : u64map_put(&c->walked, addr, whole ? 1 : 2);
}

/* Every waiter of runtime.semtable: 251 roots, each a treap of sudogs (one
 * per address, prev/next its children) whose waitlink lists the other
 * waiters on that address. Bounded by MAX_QUEUE sudogs in all. */
static int walk_semtable(wctx *c) {
  gr_program *p = c->p;
  const gr_layout *L = &p->layout;
  uint64_t base = p->globals.addr[GR_GLOBAL_SEMTABLE], size = GR_SIZE(L, SZ_SEMTABLE);
  if (!base || !GR_HAS(L, SR_TREAP) || !GR_HAS(L, SG_ELEM) || !GR_HAS(L, SG_G) || !GR_HAS(L, SG_PREV) || !size ||
      size % 251 || size > 1 << 16)
    return 0; /* no semaphore waits known: channels still are */
  uint64_t stride = size / 251;
  uint8_t *tab = malloc((size_t)size);
  uint64_t *stack = malloc(4096 * sizeof *stack);
  int rc = 0;
  if (!tab || !stack) {
    rc = se_set(SE_NOMEM, "out of memory for the semaphore table");
    goto out;
  }
  if (tgt_mem_read(p->mem, gr_rt(p, base), tab, (size_t)size) != 0) {
    se_clear();
    goto out;
  }
  size_t visited = 0;
  uint8_t sb[512];
  for (int r = 0; r < 251 && !rc; r++) {
    size_t top = 0;
    uint64_t t = rd(tab + r * stride, GR_OFF(L, SR_TREAP), 8);
    if (t) stack[top++] = t;
    while (top && !rc) {
      uint64_t node = stack[--top];
      if (++visited > MAX_QUEUE || tgt_mem_read(p->mem, node, sb, (size_t)GR_SIZE(L, SZ_SUDOG)) != 0) {
        se_clear();
        c->w->nbroken++;
        goto out;
      }
      uint64_t elem = rd(sb, GR_OFF(L, SG_ELEM), 8), prev = rd(sb, GR_OFF(L, SG_PREV), 8),
               next = rd(sb, GR_OFF(L, SG_NEXT), 8), g = rd(sb, GR_OFF(L, SG_G), 8);
      if (g && ((rc = u64map_put(&c->g2sema, g, elem)) != 0 || (rc = u64map_put(&c->g2sudog, g, node)) != 0)) break;
      for (uint64_t w = rd(sb, GR_OFF(L, SG_WAITLINK), 8); w && !rc;) { /* the same address's other waiters */
        uint8_t wb[512];
        if (++visited > MAX_QUEUE || tgt_mem_read(p->mem, w, wb, (size_t)GR_SIZE(L, SZ_SUDOG)) != 0) {
          se_clear();
          c->w->nbroken++;
          break;
        }
        uint64_t wg = rd(wb, GR_OFF(L, SG_G), 8);
        if (wg && (rc = u64map_put(&c->g2sema, wg, elem)) == 0) rc = u64map_put(&c->g2sudog, wg, w);
        w = rd(wb, GR_OFF(L, SG_WAITLINK), 8);
      }
      if (prev && top < 4096) stack[top++] = prev;
      if (next && top < 4096) stack[top++] = next;
    }
  }
out:
  free(tab);
  free(stack);
  return rc;
}

gr_reason_class gr_reason_class_of(const char *reason) {
  static const struct {
    const char *text; /* runtime2.go waitReasonStrings */
    gr_reason_class c;
  } tab[] = {
      {"chan send (nil chan)", GR_REASON_NEVER}, {"chan receive (nil chan)", GR_REASON_NEVER},
      {"select (no cases)", GR_REASON_NEVER},    {"chan send", GR_REASON_CHAN_SEND},
      {"chan receive", GR_REASON_CHAN_RECV},     {"select", GR_REASON_SELECT},
      {"sync.Mutex.Lock", GR_REASON_SEMA},       {"sync.RWMutex.RLock", GR_REASON_SEMA},
      {"sync.RWMutex.Lock", GR_REASON_SEMA},     {"sync.WaitGroup.Wait", GR_REASON_SEMA},
      {"semacquire", GR_REASON_SEMA},            {"sync.Cond.Wait", GR_REASON_COND},
  };
  for (size_t i = 0; reason && i < sizeof tab / sizeof *tab; i++)
    if (!strcmp(reason, tab[i].text)) return tab[i].c;
  return GR_REASON_OTHER;
}

/* Whether the notifyList at nl holds a sudog of g (in *sudog): GR_QUEUED_*.
 * Unknown when the layout has no notifyList (a program without sync.Cond). */
static int list_holds(gr_program *p, uint64_t nl, uint64_t g, uint64_t *sudog) {
  const gr_layout *L = &p->layout;
  uint64_t sg;
  if (!GR_HAS(L, NL_HEAD)) return GR_QUEUED_UNKNOWN;
  if (tgt_mem_read_u64(p->mem, nl + (uint64_t)GR_OFF(L, NL_HEAD), &sg) != 0) {
    se_clear();
    return GR_QUEUED_UNKNOWN;
  }
  for (int i = 0; sg && i < COND_LIST_MAX; i++) {
    uint64_t sg_g, next;
    if (tgt_mem_read_u64(p->mem, sg + (uint64_t)GR_OFF(L, SG_G), &sg_g) != 0 ||
        tgt_mem_read_u64(p->mem, sg + (uint64_t)GR_OFF(L, SG_NEXT), &next) != 0) {
      se_clear();
      return GR_QUEUED_UNKNOWN;
    }
    if (sg_g == g) {
      *sudog = sg;
      return GR_QUEUED_YES;
    }
    sg = next;
  }
  return sg ? GR_QUEUED_UNKNOWN : GR_QUEUED_NO;
}

/* The notifyList a goroutine in sync.Cond.Wait sleeps on. Go 1.26+:
 * g.waiting's elem. Before: sync.(*Cond).Wait keeps its receiver on the
 * stack across the call, so one of the words near sp is the Cond (or its
 * notify field); the list that holds this g's sudog is the one. */
static bool cond_of(wctx *c, const gr_goroutine *g, uint64_t *nl, uint64_t *sudog, uint8_t *queued) {
  gr_program *p = c->p;
  const gr_layout *L = &p->layout;
  if (g->waiting) { /* off the list: notifyListNotifyAll/One took it, and will ready it */
    if (tgt_mem_read_u64(p->mem, g->waiting + (uint64_t)GR_OFF(L, SG_ELEM), nl) != 0) {
      se_clear();
      return false;
    }
    uint64_t on;
    *sudog = g->waiting;
    *queued = *nl ? (uint8_t)list_holds(p, *nl, g->addr, &on) : GR_QUEUED_UNKNOWN;
    if (*queued == GR_QUEUED_YES && on != g->waiting) *queued = GR_QUEUED_UNKNOWN;
    return *nl != 0;
  }
  if (!g->sp || g->sp >= g->stack_hi || !GR_HAS(L, NL_HEAD)) return false;
  uint64_t words[COND_STACK_SEARCH / 8];
  size_t n = g->stack_hi - g->sp < sizeof words ? (size_t)(g->stack_hi - g->sp) : sizeof words;
  if (tgt_mem_read(p->mem, g->sp, words, n) != 0) {
    se_clear();
    return false;
  }
  for (size_t i = 0; i < n / 8; i++) {
    uint64_t v = words[i];
    if (v < 4096 || v % 8 || (v >= g->stack_lo && v < g->stack_hi)) continue;
    if (list_holds(p, v, g->addr, sudog) == GR_QUEUED_YES) {
      *nl = v;
      *queued = GR_QUEUED_YES;
      return true;
    }
    uint64_t notify = v + (uint64_t)GR_OFF(L, COND_NOTIFY); /* v as a *sync.Cond */
    if (GR_HAS(L, COND_NOTIFY) && list_holds(p, notify, g->addr, sudog) == GR_QUEUED_YES) {
      *nl = notify;
      *queued = GR_QUEUED_YES;
      return true;
    }
  }
  return false;
}

static int one_wait(gr_waits *w, size_t gi, gr_chanwait cw) {
  gr_chanwait *one = arena_alloc(&w->a, sizeof *one);
  if (!one) return se_set(SE_NOMEM, "out of memory for waits");
  *one = cw;
  w->cases[gi] = one;
  w->ncases[gi] = 1;
  return 0;
}

/* The cases of one goroutine: its sudogs, waitlink after waitlink. */
static int goroutine_waits(wctx *c, const gr_goroutine *g, size_t gi) {
  const gr_layout *L = &c->p->layout;
  gr_waits *w = c->w;
  gr_reason_class why = gr_reason_class_of(gr_wait_reason_of(c->p, g));
  uint8_t plain = why == GR_REASON_CHAN_SEND ? GR_DIR_SEND : why == GR_REASON_CHAN_RECV ? GR_DIR_RECV : 0;
  bool sel = why == GR_REASON_SELECT;
  uint64_t sema, sudog = 0;
  if (why == GR_REASON_SEMA && u64map_get(&c->g2sema, g->addr, &sema)) {
    (void)u64map_get(&c->g2sudog, g->addr, &sudog);
    return one_wait(w, gi, (gr_chanwait){.kind = GR_WAIT_SEMA, .sema = sema, .sudog = sudog, .queued = GR_QUEUED_YES});
  }
  uint8_t queued = GR_QUEUED_UNKNOWN;
  if (why == GR_REASON_COND)
    return cond_of(c, g, &sema, &sudog, &queued)
               ? one_wait(w, gi, (gr_chanwait){.kind = GR_WAIT_COND, .sema = sema, .sudog = sudog, .queued = queued})
               : 0;
  if (!plain && !sel) return 0;
  if (!g->waiting) return 0;
  gr_chanwait tmp[64], *cases = tmp;
  uint32_t n = 0, capn = 64;
  int rc = 0;
  uint8_t sb[512];
  for (uint64_t sg = g->waiting; sg && !rc; sg = rd(sb, GR_OFF(L, SG_WAITLINK), 8)) {
    if (n == GR_MAX_WAIT_CASES || tgt_mem_read(c->p->mem, sg, sb, (size_t)GR_SIZE(L, SZ_SUDOG)) != 0) {
      se_clear();
      w->nbroken++;
      break;
    }
    uint64_t ch = rd(sb, GR_OFF(L, SG_C), 8);
    if (!ch) continue;
    gr_chanwait cw = {
        .kind = GR_WAIT_CHAN, .select = sel || rd(sb, GR_OFF(L, SG_ISSELECT), 1) != 0, .dir = plain, .sudog = sg};
    if ((rc = chan_at(c, ch, &cw.chan)) != 0) break;
    if ((rc = walk_queues(c, ch)) != 0) break;
    uint64_t d, whole = 0;
    bool on = u64map_get(&c->qdir, sg, &d);
    (void)u64map_get(&c->walked, ch, &whole);
    if (cw.select) cw.dir = on ? (uint8_t)(d - 1) : GR_DIR_UNKNOWN;
    cw.queued = on ? GR_QUEUED_YES : whole == 1 ? GR_QUEUED_NO : GR_QUEUED_UNKNOWN;
    if (n == capn) { /* a select of many cases: into the arena */
      gr_chanwait *more = arena_alloc(&w->a, (size_t)capn * 2 * sizeof *more);
      if (!more) return se_set(SE_NOMEM, "out of memory for select cases");
      memcpy(more, cases, n * sizeof *cases);
      cases = more;
      capn *= 2;
    }
    cases[n++] = cw;
  }
  if (rc || !n) return rc;
  if (!(w->cases[gi] = arena_alloc(&w->a, n * sizeof *cases))) return se_set(SE_NOMEM, "out of memory for waits");
  memcpy(w->cases[gi], cases, n * sizeof *cases);
  w->ncases[gi] = n;
  return 0;
}

int gr_waits_take(gr_program *p, const gr_snapshot *s, gr_waits *out) {
  memset(out, 0, sizeof *out);
  arena_init(&out->a);
  int rc = gr_waits_supported(p);
  if (rc) return rc;
  out->n = s->n;
  out->cases = calloc(s->n ? s->n : 1, sizeof *out->cases);
  out->ncases = calloc(s->n ? s->n : 1, sizeof *out->ncases);
  wctx c = {.p = p, .w = out};
  u64map_init(&c.index);
  u64map_init(&c.qdir);
  u64map_init(&c.walked);
  u64map_init(&c.g2sema);
  u64map_init(&c.g2sudog);
  if (!out->cases || !out->ncases) rc = se_set(SE_NOMEM, "out of memory for waits");
  if (!rc) rc = walk_semtable(&c);
  for (size_t i = 0; i < s->n && !rc; i++)
    if (s->gs[i].status == GR_GWAITING || s->gs[i].status == GR_GLEAKED) rc = goroutine_waits(&c, &s->gs[i], i);
  u64map_free(&c.index);
  u64map_free(&c.qdir);
  u64map_free(&c.walked);
  u64map_free(&c.g2sema);
  u64map_free(&c.g2sudog);
  if (rc) gr_waits_free(out);
  return rc;
}

void gr_waits_free(gr_waits *w) {
  free(w->chans);
  free(w->cases);
  free(w->ncases);
  arena_free(&w->a);
  memset(w, 0, sizeof *w);
}
