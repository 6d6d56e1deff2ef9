/* diff.c: what changed between two snapshots, for people and for machines.
 *
 * Two views of the same comparison:
 *  - by stack signature (the functions of a stack, innermost first; with
 *    --lines their file:line too): how many goroutines sat in each stack in
 *    A and in B, largest change first. This is the view that finds "the
 *    call path that went from 10 to 10,000 goroutines".
 *  - by goroutine id: created (only in B), exited (only in A) and changed
 *    goroutines (state, wait reason, stack size or frames differ; how long a
 *    goroutine has waited is not a change). A changed stack is shown like a
 *    unified diff: frames removed, frames added, then the outer frames both
 *    share as context.
 * The text groups goroutines that changed the same way, so 10,000 workers
 * that moved together read as one entry with sample ids; the JSON lists
 * every goroutine. Everything is hashing and sorting over the model: two
 * snapshots of 100,000 goroutines compare in tens of milliseconds. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd.h"

enum { CONTEXT_FRAMES = 3 };

/* The lowest goroutine ids of a set, up to a cap (--samples). The array
 * comes with the first id, so a table of 100,000 stacks costs 8 bytes a
 * sample taken, not a fixed array per entry. */
typedef struct {
  int64_t *v;
  uint32_t n;
} idlist;

static int idlist_add(idlist *l, uint32_t cap, int64_t id) {
  if (l->n >= cap) return 0;
  if (!l->v && !(l->v = malloc(cap * sizeof *l->v))) return -1;
  l->v[l->n++] = id;
  return 0;
}

/* ---- a hash index over entries kept elsewhere ------------------------------------ */

typedef struct {
  uint32_t *slot; /* entry index + 1; 0 = empty */
  size_t nslot, n;
} hindex;

typedef int (*eq_fn)(const void *ctx, uint32_t entry, const void *key);

/* The entry equal to key, or UINT32_MAX when none (*slot_out: where to add it). */
static uint32_t hi_find(const hindex *x, uint64_t hash, eq_fn eq, const void *ctx, const void *key, size_t *slot_out) {
  size_t i = (size_t)hash & (x->nslot - 1);
  for (; x->slot[i]; i = (i + 1) & (x->nslot - 1))
    if (eq(ctx, x->slot[i] - 1, key)) return x->slot[i] - 1;
  *slot_out = i;
  return UINT32_MAX;
}

static int hi_init(hindex *x, size_t expect) {
  x->nslot = 1024;
  while (x->nslot < expect * 2) x->nslot *= 2;
  x->n = 0;
  x->slot = calloc(x->nslot, sizeof *x->slot);
  return x->slot ? 0 : -1;
}

/* Room for entry n of a table: its array e (elem bytes an entry, *cap of
 * them) and its index x, rebuilt from hash_of(ctx, i) when it must grow.
 * Returns 0, or -1 when out of memory (the table is unchanged then). */
static int table_room(void **e, size_t *cap, size_t n, size_t elem, hindex *x,
                      uint64_t (*hash_of)(const void *ctx, size_t i), const void *ctx) {
  if (n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 256;
    void *ne = realloc(*e, ncap * elem);
    if (!ne) return -1;
    *e = ne;
    *cap = ncap;
  }
  if ((x->n + 1) * 2 <= x->nslot) return 0;
  hindex bigger;
  if (hi_init(&bigger, x->nslot) != 0) return -1;
  for (size_t i = 0; i < n; i++) {
    size_t j = (size_t)hash_of(ctx, i) & (bigger.nslot - 1);
    while (bigger.slot[j]) j = (j + 1) & (bigger.nslot - 1);
    bigger.slot[j] = (uint32_t)i + 1;
  }
  bigger.n = x->n;
  free(x->slot);
  *x = bigger;
  return 0;
}

/* ---- stack signatures ------------------------------------------------------------ */

/* The frames of g that make its signature: functions, or functions and lines. */
typedef struct {
  const sd_snap *s;
  const sd_g *g;
} gref;

typedef struct {
  gref rep;      /* the first goroutine seen with this stack */
  uint64_t n[2]; /* goroutines with it in A and B */
  idlist sample[2]; /* ids with this stack, in A and in B */
} sig;

typedef struct {
  sig *e;
  size_t n, cap;
  hindex x;
  int lines;
  uint32_t samples;
} sigtab;

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

static uint64_t stack_hash(const sd_snap *s, const sd_g *g, int lines) {
  uint64_t h = g->nframes;
  const sd_frame *f = sd_frames(s, g);
  for (uint32_t i = 0; i < g->nframes; i++) {
    h = mix(h, f[i].fn);
    if (lines) h = mix(mix(h, f[i].file), (uint64_t)f[i].line << 1 | f[i].inlined);
  }
  return h;
}

static int frame_eq(const sd_frame *a, const sd_frame *b, int lines) {
  return a->fn == b->fn && (!lines || (a->file == b->file && a->line == b->line && a->inlined == b->inlined));
}

static int stack_eq(const sd_snap *sa, const sd_g *a, const sd_snap *sb, const sd_g *b, int lines) {
  if (a->nframes != b->nframes) return 0;
  const sd_frame *fa = sd_frames(sa, a), *fb = sd_frames(sb, b);
  for (uint32_t i = 0; i < a->nframes; i++)
    if (!frame_eq(&fa[i], &fb[i], lines)) return 0;
  return 1;
}

static int sig_eq(const void *ctx, uint32_t entry, const void *key) {
  const sigtab *t = ctx;
  const gref *k = key;
  const gref *r = &t->e[entry].rep;
  return stack_eq(r->s, r->g, k->s, k->g, t->lines);
}

static uint64_t sig_hash_at(const void *ctx, size_t i) {
  const sigtab *t = ctx;
  return stack_hash(t->e[i].rep.s, t->e[i].rep.g, t->lines);
}

/* The signature of g (added when new), counted on side (0: A, 1: B). */
static uint32_t sig_of(sigtab *t, const sd_snap *s, const sd_g *g, int side, int count) {
  gref key = {s, g};
  uint64_t h = stack_hash(s, g, t->lines);
  size_t at = 0;
  uint32_t id = hi_find(&t->x, h, sig_eq, t, &key, &at);
  if (id == UINT32_MAX) {
    void *e = t->e;
    int grown = table_room(&e, &t->cap, t->n, sizeof *t->e, &t->x, sig_hash_at, t);
    t->e = e;
    if (grown != 0) return UINT32_MAX;
    (void)hi_find(&t->x, h, sig_eq, t, &key, &at); /* the index may have been rebuilt */
    id = (uint32_t)t->n++;
    memset(&t->e[id], 0, sizeof t->e[id]);
    t->e[id].rep = key;
    t->x.slot[at] = id + 1;
    t->x.n++;
  }
  if (count) {
    sig *e = &t->e[id];
    e->n[side]++;
    if (idlist_add(&e->sample[side], t->samples, g->id) != 0) return UINT32_MAX;
  }
  return id;
}

/* ---- groups: goroutines that changed the same way ---------------------------------- */

enum { KEY_WORDS = 8 };

typedef struct {
  uint32_t key[KEY_WORDS];
  gref a, b; /* a representative; a.g NULL for created, b.g NULL for exited */
  uint64_t n;
  idlist sample;
} group;

typedef struct {
  group *e;
  size_t n, cap;
  hindex x;
  uint32_t samples;
} grouptab;

static int group_eq(const void *ctx, uint32_t entry, const void *key) {
  const grouptab *t = ctx;
  return !memcmp(t->e[entry].key, key, sizeof t->e[entry].key);
}

static uint64_t key_hash(const uint32_t *k) {
  uint64_t h = 0;
  for (int i = 0; i < KEY_WORDS; i++) h = mix(h, k[i]);
  return h;
}

static uint64_t group_hash_at(const void *ctx, size_t i) {
  const grouptab *t = ctx;
  return key_hash(t->e[i].key);
}

static int group_add(grouptab *t, const uint32_t *key, gref a, gref b, int64_t id) {
  uint64_t h = key_hash(key);
  size_t at = 0;
  uint32_t gi = hi_find(&t->x, h, group_eq, t, key, &at);
  if (gi == UINT32_MAX) {
    void *e = t->e;
    int grown = table_room(&e, &t->cap, t->n, sizeof *t->e, &t->x, group_hash_at, t);
    t->e = e;
    if (grown != 0) return -1;
    (void)hi_find(&t->x, h, group_eq, t, key, &at); /* the index may have been rebuilt */
    gi = (uint32_t)t->n++;
    group *g = &t->e[gi];
    memset(g, 0, sizeof *g);
    memcpy(g->key, key, sizeof g->key);
    g->a = a;
    g->b = b;
    t->x.slot[at] = gi + 1;
    t->x.n++;
  }
  group *g = &t->e[gi];
  g->n++;
  return idlist_add(&g->sample, t->samples, id);
}

static int group_cmp(const void *pa, const void *pb) {
  const group *a = pa, *b = pb;
  if (a->n != b->n) return a->n > b->n ? -1 : 1;
  return a->sample.v[0] < b->sample.v[0] ? -1 : a->sample.v[0] > b->sample.v[0]; /* every group has a sample */
}

/* ---- the comparison -------------------------------------------------------------------- */

typedef struct {
  int64_t id;
  uint32_t i;
} byid;

static int byid_cmp(const void *pa, const void *pb) {
  const byid *a = pa, *b = pb;
  return a->id < b->id ? -1 : a->id > b->id;
}

typedef struct {
  sd_ctx *c;
  const sd_snap *s[2];
  const sd_diff_opts *o;
  byid *ids[2];
  sigtab sigs;   /* the signature view (functions, or with --lines) */
  sigtab stacks; /* exact stacks (function, file, line), for grouping */
  uint32_t *exact[2]; /* per goroutine (snapshot order): its exact stack */
  grouptab changed, created, exited;
  /* by id, for JSON: indices into s[side]->g */
  uint32_t *created_i, *exited_i, *changed_a, *changed_b;
  size_t ncreated, nexited, nchanged, nunchanged;
  uint32_t *sigorder; /* signatures whose count changed, largest change first */
  size_t nsigorder;
} diff;

/* A file's name, or for a snapshot taken in this session "live". */
static const char *side_name(const sd_snap *s) { return s->file ? s->file : "live"; }

static int sort_ids(diff *d, int side) {
  const sd_snap *s = d->s[side];
  byid *v = malloc((s->ng ? s->ng : 1) * sizeof *v);
  if (!v) return d->c->api->fail(d->c->h, SONDE_ENOMEM, "out of memory");
  for (size_t i = 0; i < s->ng; i++) v[i] = (byid){s->g[i].id, (uint32_t)i};
  qsort(v, s->ng, sizeof *v, byid_cmp);
  d->ids[side] = v;
  for (size_t i = 1; i < s->ng; i++)
    if (v[i].id == v[i - 1].id)
      return d->c->api->fail(d->c->h, SONDE_EINVAL, "%s lists goroutine %" PRId64 " twice: not a snapshot sonde wrote",
                             side_name(s), v[i].id);
  return SONDE_OK;
}

static uint32_t kib(uint64_t bytes) { return bytes >> 10 > UINT32_MAX ? UINT32_MAX : (uint32_t)(bytes >> 10); }

/* Two goroutines with one id: what differs. */
static int g_changed(const diff *d, const sd_g *a, const sd_g *b, uint32_t ea, uint32_t eb) {
  if (a->status != b->status || a->wait_reason != b->wait_reason || ea != eb) return 1;
  return d->s[0]->has_stack_size && d->s[1]->has_stack_size && a->stack_size != b->stack_size;
}

static int sig_order_cmp(const void *pa, const void *pb, void *ctx) {
  const sigtab *t = ctx;
  const sig *a = &t->e[*(const uint32_t *)pa], *b = &t->e[*(const uint32_t *)pb];
  int64_t da = (int64_t)a->n[1] - (int64_t)a->n[0], db = (int64_t)b->n[1] - (int64_t)b->n[0];
  uint64_t ma = da < 0 ? (uint64_t)-da : (uint64_t)da, mb = db < 0 ? (uint64_t)-db : (uint64_t)db;
  if (ma != mb) return ma > mb ? -1 : 1;
  if (a->n[1] != b->n[1]) return a->n[1] > b->n[1] ? -1 : 1;
  const idlist *la = a->sample[1].n ? &a->sample[1] : &a->sample[0], *lb = b->sample[1].n ? &b->sample[1] : &b->sample[0];
  int64_t xa = la->v[0], xb = lb->v[0]; /* a counted stack has a sample on one side at least */
  return xa < xb ? -1 : xa > xb;
}

static int compute(diff *d) {
  sd_ctx *c = d->c;
  const sonde_host_api *api = c->api;
  int rc;
  for (int side = 0; side < 2; side++)
    if ((rc = sort_ids(d, side)) != SONDE_OK) return rc;
  uint32_t samples = (uint32_t)d->o->samples;
  d->sigs = (sigtab){.lines = d->o->lines, .samples = samples};
  d->stacks = (sigtab){.lines = 1, .samples = 0};
  d->changed = (grouptab){.samples = samples};
  d->created = (grouptab){.samples = samples};
  d->exited = (grouptab){.samples = samples};
  size_t total = d->s[0]->ng + d->s[1]->ng;
  if (hi_init(&d->sigs.x, 1024) || hi_init(&d->stacks.x, 1024) || hi_init(&d->changed.x, 256) ||
      hi_init(&d->created.x, 256) || hi_init(&d->exited.x, 256))
    return api->fail(c->h, SONDE_ENOMEM, "out of memory");
  for (int side = 0; side < 2; side++) {
    const sd_snap *s = d->s[side];
    d->exact[side] = malloc((s->ng ? s->ng : 1) * sizeof *d->exact[side]);
    if (!d->exact[side]) return api->fail(c->h, SONDE_ENOMEM, "out of memory");
    /* in id order, so that sample ids are the lowest */
    for (size_t k = 0; k < s->ng; k++) {
      const sd_g *g = &s->g[d->ids[side][k].i];
      uint32_t e = sig_of(&d->stacks, s, g, side, 0);
      if (e == UINT32_MAX || sig_of(&d->sigs, s, g, side, 1) == UINT32_MAX)
        return api->fail(c->h, SONDE_ENOMEM, "out of memory");
      d->exact[side][d->ids[side][k].i] = e;
    }
  }
  d->created_i = malloc((d->s[1]->ng + 1) * sizeof *d->created_i);
  d->exited_i = malloc((d->s[0]->ng + 1) * sizeof *d->exited_i);
  size_t both = d->s[0]->ng < d->s[1]->ng ? d->s[0]->ng : d->s[1]->ng;
  d->changed_a = malloc((both + 1) * sizeof *d->changed_a);
  d->changed_b = malloc((both + 1) * sizeof *d->changed_b);
  if (!d->created_i || !d->exited_i || !d->changed_a || !d->changed_b) return api->fail(c->h, SONDE_ENOMEM, "out of memory");
  (void)total;

  /* merge by id */
  const sd_snap *sa = d->s[0], *sb = d->s[1];
  size_t i = 0, j = 0;
  while (i < sa->ng || j < sb->ng) {
    const byid *ia = i < sa->ng ? &d->ids[0][i] : NULL, *ib = j < sb->ng ? &d->ids[1][j] : NULL;
    if (ia && (!ib || ia->id < ib->id)) { /* exited */
      const sd_g *g = &sa->g[ia->i];
      uint32_t key[KEY_WORDS] = {1, d->exact[0][ia->i], g->status, g->wait_reason, 0, 0, 0, 0};
      if (group_add(&d->exited, key, (gref){sa, g}, (gref){sb, NULL}, g->id)) goto nomem;
      d->exited_i[d->nexited++] = ia->i;
      i++;
    } else if (ib && (!ia || ib->id < ia->id)) { /* created */
      const sd_g *g = &sb->g[ib->i];
      uint32_t key[KEY_WORDS] = {2, d->exact[1][ib->i], g->status, g->wait_reason, 0, 0, 0, 0};
      if (group_add(&d->created, key, (gref){sa, NULL}, (gref){sb, g}, g->id)) goto nomem;
      d->created_i[d->ncreated++] = ib->i;
      j++;
    } else {
      const sd_g *ga = &sa->g[ia->i], *gb = &sb->g[ib->i];
      uint32_t ea = d->exact[0][ia->i], eb = d->exact[1][ib->i];
      if (g_changed(d, ga, gb, ea, eb)) {
        int sizes = sa->has_stack_size && sb->has_stack_size;
        uint32_t key[KEY_WORDS] = {ea, eb, ga->status, ga->wait_reason, gb->status, gb->wait_reason,
                                   sizes ? kib(ga->stack_size) : 0, sizes ? kib(gb->stack_size) : 0};
        if (group_add(&d->changed, key, (gref){sa, ga}, (gref){sb, gb}, ga->id)) goto nomem;
        d->changed_a[d->nchanged] = ia->i;
        d->changed_b[d->nchanged++] = ib->i;
      } else {
        d->nunchanged++;
      }
      i++;
      j++;
    }
  }
  grouptab *gts[] = {&d->changed, &d->created, &d->exited};
  for (int k = 0; k < 3; k++) /* an empty table has no array: qsort must not see NULL */
    if (gts[k]->n) qsort(gts[k]->e, gts[k]->n, sizeof *gts[k]->e, group_cmp);

  d->sigorder = malloc((d->sigs.n + 1) * sizeof *d->sigorder);
  if (!d->sigorder) goto nomem;
  for (size_t k = 0; k < d->sigs.n; k++)
    if (d->sigs.e[k].n[0] != d->sigs.e[k].n[1]) d->sigorder[d->nsigorder++] = (uint32_t)k;
  qsort_r(d->sigorder, d->nsigorder, sizeof *d->sigorder, sig_order_cmp, &d->sigs);
  return SONDE_OK;
nomem:
  return api->fail(c->h, SONDE_ENOMEM, "out of memory");
}

static void diff_free(diff *d) {
  for (int side = 0; side < 2; side++) {
    free(d->ids[side]);
    free(d->exact[side]);
  }
  sigtab *st[] = {&d->sigs, &d->stacks};
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < st[k]->n; i++) {
      free(st[k]->e[i].sample[0].v);
      free(st[k]->e[i].sample[1].v);
    }
    free(st[k]->e);
    free(st[k]->x.slot);
  }
  grouptab *gt[] = {&d->changed, &d->created, &d->exited};
  for (int k = 0; k < 3; k++) {
    for (size_t i = 0; i < gt[k]->n; i++) free(gt[k]->e[i].sample.v);
    free(gt[k]->e);
    free(gt[k]->x.slot);
  }
  free(d->created_i);
  free(d->exited_i);
  free(d->changed_a);
  free(d->changed_b);
  free(d->sigorder);
}

/* Outer frames a and b share: the longest common tail (frames compare by
 * function, file, line and inlining). */
static uint32_t shared_outer(const sd_snap *sa, const sd_g *a, const sd_snap *sb, const sd_g *b) {
  const sd_frame *fa = sd_frames(sa, a), *fb = sd_frames(sb, b);
  uint32_t k = 0;
  while (k < a->nframes && k < b->nframes && frame_eq(&fa[a->nframes - 1 - k], &fb[b->nframes - 1 - k], 1)) k++;
  return k;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void put_meta(sd_out *o, const sd_snap *s) {
  sd_out_puts(o, "{\"file\": ");
  if (s->file)
    sd_out_str(o, s->file);
  else
    sd_out_puts(o, "null");
  sd_key_i64(o, ", \"pid\": ", s->pid);
  sd_key_str(o, ", \"go_version\": ", sd_str(s, s->go_version));
  sd_key_str(o, ", \"exe\": ", sd_str(s, s->exe));
  sd_key_str(o, ", \"taken_at\": ", sd_str(s, s->taken_at));
  sd_key_u64(o, ", \"goroutine_count\": ", s->ng);
  sd_out_puts(o, "}");
}

static void put_ids(sd_out *o, const int64_t *v, uint32_t n) {
  sd_out_puts(o, "[");
  for (uint32_t i = 0; i < n; i++) {
    if (i) sd_out_puts(o, ", ");
    sd_out_i64(o, v[i]);
  }
  sd_out_puts(o, "]");
}

static void put_state(sd_out *o, const sd_snap *s, const sd_g *g) {
  sd_key_str(o, "{\"status\": ", sd_str(s, g->status));
  sd_key_str(o, ", \"wait_reason\": ", sd_str(s, g->wait_reason));
  sd_key_i64(o, ", \"wait_minutes\": ", g->wait_minutes);
  if (s->has_stack_size) sd_key_u64(o, ", \"stack_size\": ", g->stack_size);
  sd_out_puts(o, "}");
}

/* Goroutine ids mean something across A and B only within one process. */
static int same_process(const sd_snap *a, const sd_snap *b) { return a->pid == b->pid && a->exe == b->exe; }

static void put_json(diff *d, sd_out *o) {
  const sd_snap *sa = d->s[0], *sb = d->s[1];
  sd_key_i64(o, "{\"format\": \"" SD_DIFF_FORMAT "\", \"version\": ", SD_DIFF_FORMAT_VERSION);
  sd_out_puts(o, ",\n  \"a\": ");
  put_meta(o, sa);
  sd_out_puts(o, ",\n  \"b\": ");
  put_meta(o, sb);
  sd_key_bool(o, ",\n  \"same_process\": ", same_process(sa, sb));
  sd_key_str(o, ", \"signature\": ", d->o->lines ? "lines" : "functions");
  sd_key_u64(o, ",\n  \"summary\": {\"created\": ", d->ncreated);
  sd_key_u64(o, ", \"exited\": ", d->nexited);
  sd_key_u64(o, ", \"changed\": ", d->nchanged);
  sd_key_u64(o, ", \"unchanged\": ", d->nunchanged);
  sd_out_puts(o, "},\n  \"signatures\": [");
  for (size_t k = 0; k < d->nsigorder; k++) {
    const sig *e = &d->sigs.e[d->sigorder[k]];
    sd_out_puts(o, k ? ",\n    {\"stack\": [" : "\n    {\"stack\": [");
    const sd_frame *f = sd_frames(e->rep.s, e->rep.g);
    for (uint32_t j = 0; j < e->rep.g->nframes; j++) {
      sd_key_str(o, j ? ", {\"function\": " : "{\"function\": ", sd_str(e->rep.s, f[j].fn));
      if (d->o->lines) {
        sd_key_str(o, ", \"file\": ", sd_str(e->rep.s, f[j].file));
        sd_key_u64(o, ", \"line\": ", f[j].line);
      }
      sd_out_puts(o, "}");
    }
    sd_key_u64(o, "],\n     \"a\": ", e->n[0]);
    sd_key_u64(o, ", \"b\": ", e->n[1]);
    sd_key_i64(o, ", \"delta\": ", (int64_t)e->n[1] - (int64_t)e->n[0]);
    sd_out_puts(o, ", \"sample_ids_a\": ");
    put_ids(o, e->sample[0].v, e->sample[0].n);
    sd_out_puts(o, ", \"sample_ids_b\": ");
    put_ids(o, e->sample[1].v, e->sample[1].n);
    sd_out_puts(o, "}");
  }
  sd_out_puts(o, d->nsigorder ? "\n  ],\n  \"created\": [" : "],\n  \"created\": [");
  /* created and exited in id order: ids[] is sorted, *_i follow it */
  for (size_t k = 0; k < d->ncreated; k++) {
    sd_out_puts(o, k ? ",\n    " : "\n    ");
    sd_put_goroutine(o, sb, &sb->g[d->created_i[k]], "    ");
  }
  sd_out_puts(o, d->ncreated ? "\n  ],\n  \"exited\": [" : "],\n  \"exited\": [");
  for (size_t k = 0; k < d->nexited; k++) {
    sd_out_puts(o, k ? ",\n    " : "\n    ");
    sd_put_goroutine(o, sa, &sa->g[d->exited_i[k]], "    ");
  }
  sd_out_puts(o, d->nexited ? "\n  ],\n  \"changed\": [" : "],\n  \"changed\": [");
  for (size_t k = 0; k < d->nchanged; k++) {
    const sd_g *ga = &sa->g[d->changed_a[k]], *gb = &sb->g[d->changed_b[k]];
    uint32_t sh = shared_outer(sa, ga, sb, gb);
    sd_key_i64(o, k ? ",\n    {\"id\": " : "\n    {\"id\": ", ga->id);
    sd_out_puts(o, ", \"a\": ");
    put_state(o, sa, ga);
    sd_out_puts(o, ", \"b\": ");
    put_state(o, sb, gb);
    sd_out_puts(o, ",\n     \"removed\": ");
    sd_put_frames(o, sa, sd_frames(sa, ga), ga->nframes - sh, "       ");
    sd_out_puts(o, ",\n     \"added\": ");
    sd_put_frames(o, sb, sd_frames(sb, gb), gb->nframes - sh, "       ");
    sd_out_puts(o, ",\n     \"shared\": ");
    sd_put_frames(o, sa, sd_frames_at(sa, ga, ga->nframes - sh), sh, "       ");
    sd_out_puts(o, "}");
  }
  sd_out_puts(o, d->nchanged ? "\n  ]}\n" : "]}\n");
}

/* ---- text ------------------------------------------------------------------------------ */

typedef struct {
  sd_out *o;
  int color;
  const sd_diff_opts *opts;
  char safe[4][512]; /* safe()'s buffers, used in turn */
  int next_safe;
} text;

/* z fit for a terminal: the names come from a snapshot file or the target's
 * memory, and a control character in them (ESC above all) must not reach
 * the terminal as one. Each is shown as '?'. The string itself when it is
 * clean, which names always are; otherwise a copy (cut at 511 bytes) in one
 * of four buffers, so a printf may take four. */
static const char *safe(text *t, const char *z) {
  const unsigned char *p = (const unsigned char *)z;
  while (*p && *p >= 0x20 && *p != 0x7f) p++;
  if (!*p) return z;
  char *buf = t->safe[t->next_safe];
  t->next_safe = (t->next_safe + 1) % 4;
  size_t i = 0;
  for (p = (const unsigned char *)z; *p && i < sizeof t->safe[0] - 1; p++) buf[i++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
  buf[i] = 0;
  return buf;
}

#define RED "\033[31m"
#define GREEN "\033[32m"
#define BOLD "\033[1m"
#define DIM "\033[2m"
#define RESET "\033[0m"

static void paint(text *t, const char *code) {
  if (t->color) sd_out_puts(t->o, code);
}

/* "phases/main.go": the last two elements of a path, enough to tell files
 * apart in a terminal; the JSON has the whole path. */
static const char *short_path(const char *p) {
  const char *last = strrchr(p, '/');
  if (!last || last == p) return p;
  const char *prev = last - 1;
  while (prev > p && *prev != '/') prev--;
  return *prev == '/' ? prev + 1 : prev;
}

static void state_text(text *t, const sd_snap *s, const sd_g *g, char *buf, size_t n) {
  const char *wr = sd_str(s, g->wait_reason);
  if (wr[0])
    snprintf(buf, n, "%s (%s)", safe(t, sd_str(s, g->status)), safe(t, wr));
  else
    snprintf(buf, n, "%s", safe(t, sd_str(s, g->status)));
}

static size_t fn_width(const sd_snap *s, const sd_frame *f, uint32_t n) {
  size_t w = 0;
  for (uint32_t i = 0; i < n; i++) {
    size_t k = strlen(sd_str(s, f[i].fn));
    if (k > w) w = k;
  }
  return w > 60 ? 60 : w;
}

/* One frame line: "      - main.phaseOne   phases/main.go:40", with
 * " (x 98)" when it stands for a run of identical frames (recursion). */
static void frame_line(text *t, const char *indent, char mark, const sd_snap *s, const sd_frame *f, size_t w,
                       int with_line, uint32_t times) {
  const char *code = mark == '-' ? RED : mark == '+' ? GREEN : NULL;
  sd_out_puts(t->o, indent);
  if (code) paint(t, code);
  const char *fn = safe(t, sd_str(s, f->fn));
  if (with_line)
    sd_out_printf(t->o, "%c %-*s  %s:%" PRIu32 "%s", mark, (int)w, fn, safe(t, short_path(sd_str(s, f->file))), f->line,
                  f->inlined ? " (inlined)" : "");
  else
    sd_out_printf(t->o, "%c %s", mark, fn);
  if (times > 1) sd_out_printf(t->o, " (x %" PRIu32 ")", times);
  if (code) paint(t, RESET);
  sd_out_puts(t->o, "\n");
}

/* Frames f[0..n), runs of identical frames as one line, at most
 * MAX_TEXT_LINES lines: a terminal is not the place for a 100-frame stack
 * (the JSON has all of them). */
enum { MAX_TEXT_LINES = 24 };

static void frame_lines(text *t, const char *indent, char mark, const sd_snap *s, const sd_frame *f, uint32_t n,
                        size_t w, int with_line) {
  uint32_t lines = 0, i = 0;
  while (i < n && lines < MAX_TEXT_LINES) {
    uint32_t run = 1;
    while (i + run < n && frame_eq(&f[i], &f[i + run], with_line)) run++;
    frame_line(t, indent, mark, s, &f[i], w, with_line, run);
    i += run;
    lines++;
  }
  if (i < n) sd_out_printf(t->o, "%s%c ... %" PRIu32 " more frames\n", indent, mark, n - i);
}

static void samples_text(text *t, const int64_t *v, uint32_t n, uint64_t total) {
  for (uint32_t i = 0; i < n; i++) sd_out_printf(t->o, i ? " %" PRId64 : "%" PRId64, v[i]);
  if (total > n) sd_out_puts(t->o, " ...");
}

/* "  30 goroutines (6 7 8 9 10 ...)", a group's first line up to its state. */
static void group_head(text *t, const group *g) {
  sd_out_printf(t->o, "  %" PRIu64 " goroutine%s", g->n, g->n == 1 ? "" : "s");
  paint(t, DIM);
  sd_out_puts(t->o, " (");
  samples_text(t, g->sample.v, g->sample.n, g->n);
  sd_out_puts(t->o, ")");
  paint(t, RESET);
}

static void heading(text *t, const char *what, uint64_t n, uint64_t groups) {
  sd_out_puts(t->o, "\n");
  paint(t, BOLD);
  sd_out_printf(t->o, "%s (%" PRIu64 ")", what, n);
  if (groups > 1) sd_out_printf(t->o, " in %" PRIu64 " groups, largest first", groups);
  paint(t, RESET);
  sd_out_puts(t->o, n ? ":\n" : ": none\n");
}

static size_t shown(const text *t, size_t n) { return t->opts->top > 0 && (size_t)t->opts->top < n ? (size_t)t->opts->top : n; }

static void more(text *t, size_t n, size_t total, const char *what) {
  if (n < total) sd_out_printf(t->o, "  ... and %zu more %s (--top 0 shows all, --json lists every goroutine)\n",
                               total - n, what);
}

static void put_text(diff *d, sd_out *o, int color) {
  text t = {.o = o, .color = color, .opts = d->o};
  const sd_snap *sa = d->s[0], *sb = d->s[1];
  paint(&t, BOLD);
  sd_out_printf(o, "stackdiff: %s -> %s", safe(&t, side_name(sa)), safe(&t, side_name(sb)));
  paint(&t, RESET);
  sd_out_puts(o, "\n");
  for (int side = 0; side < 2; side++) {
    const sd_snap *s = d->s[side];
    sd_out_printf(o, "  %c: %s  pid %" PRId64 "  %s  %zu goroutines\n", side ? 'B' : 'A', safe(&t, sd_str(s, s->taken_at)),
                  s->pid, safe(&t, sd_str(s, s->go_version)), s->ng);
  }
  int same = same_process(sa, sb);
  int64_t dn = (int64_t)sb->ng - (int64_t)sa->ng;
  sd_out_printf(o, "goroutines: %zu -> %zu (%s%" PRId64 ")", sa->ng, sb->ng, dn >= 0 ? "+" : "", dn);
  if (same)
    sd_out_printf(o, ": %zu created, %zu exited, %zu changed, %zu unchanged\n", d->ncreated, d->nexited, d->nchanged,
                  d->nunchanged);
  else
    sd_out_puts(o, "\n  note: A and B come from different processes, whose goroutine ids have nothing to do with each "
                   "other: only the stacks are compared (--json has the lists by id all the same)\n");

  if (!d->nsigorder && !d->ncreated && !d->nexited && !d->nchanged) {
    sd_out_puts(o, "no change\n");
    return;
  }

  /* stacks by count */
  sd_out_puts(o, "\n");
  paint(&t, BOLD);
  sd_out_printf(o, "Stacks whose count changed (%zu of %zu), largest change first", d->nsigorder, d->sigs.n);
  paint(&t, RESET);
  sd_out_puts(o, d->nsigorder ? ":\n" : ": none\n");
  size_t n = shown(&t, d->nsigorder);
  for (size_t k = 0; k < n; k++) {
    const sig *e = &d->sigs.e[d->sigorder[k]];
    int64_t delta = (int64_t)e->n[1] - (int64_t)e->n[0];
    int side = delta > 0;
    paint(&t, delta > 0 ? GREEN : RED);
    char head[64];
    snprintf(head, sizeof head, "%+" PRId64, delta);
    sd_out_printf(o, "  %7s", head);
    paint(&t, RESET);
    sd_out_printf(o, "  %" PRIu64 " -> %" PRIu64 "\n", e->n[0], e->n[1]);
    const sd_frame *f = sd_frames(e->rep.s, e->rep.g);
    size_t w = fn_width(e->rep.s, f, e->rep.g->nframes);
    frame_lines(&t, "          ", ' ', e->rep.s, f, e->rep.g->nframes, w, d->o->lines);
    if (!e->rep.g->nframes) sd_out_puts(o, "            (no frames)\n");
    paint(&t, DIM);
    sd_out_printf(o, "            goroutines in %c: ", side ? 'B' : 'A');
    samples_text(&t, e->sample[side].v, e->sample[side].n, e->n[side]);
    paint(&t, RESET);
    sd_out_puts(o, "\n");
  }
  more(&t, n, d->nsigorder, "stacks");
  if (!same) return;

  /* changed goroutines */
  heading(&t, "Changed goroutines", d->nchanged, d->changed.n);
  n = shown(&t, d->changed.n);
  for (size_t k = 0; k < n; k++) {
    const group *g = &d->changed.e[k];
    const sd_g *ga = g->a.g, *gb = g->b.g;
    char s1[160], s2[160];
    state_text(&t, sa, ga, s1, sizeof s1);
    state_text(&t, sb, gb, s2, sizeof s2);
    group_head(&t, g);
    if (strcmp(s1, s2))
      sd_out_printf(o, ": %s -> %s\n", s1, s2);
    else
      sd_out_printf(o, ": %s\n", s2);
    if (sa->has_stack_size && sb->has_stack_size && ga->stack_size != gb->stack_size)
      sd_out_printf(o, "      stack %" PRIu64 " KiB -> %" PRIu64 " KiB\n", ga->stack_size >> 10, gb->stack_size >> 10);
    uint32_t sh = shared_outer(sa, ga, sb, gb);
    const sd_frame *fa = sd_frames(sa, ga), *fb = sd_frames(sb, gb);
    size_t w = fn_width(sa, fa, ga->nframes);
    size_t wb = fn_width(sb, fb, gb->nframes);
    if (wb > w) w = wb;
    frame_lines(&t, "      ", '-', sa, fa, ga->nframes - sh, w, 1);
    frame_lines(&t, "      ", '+', sb, fb, gb->nframes - sh, w, 1);
    uint32_t ctx = sh < CONTEXT_FRAMES ? sh : CONTEXT_FRAMES;
    frame_lines(&t, "      ", ' ', sa, sd_frames_at(sa, ga, ga->nframes - sh), ctx, w, 1);
    if (sh > ctx) sd_out_printf(o, "        ... %" PRIu32 " more outer frames, the same in both\n", sh - ctx);
  }
  more(&t, n, d->changed.n, "groups");

  /* created and exited */
  for (int pass = 0; pass < 2; pass++) {
    const grouptab *gt = pass ? &d->exited : &d->created;
    const sd_snap *s = pass ? sa : sb;
    heading(&t, pass ? "Exited goroutines" : "Created goroutines",
            pass ? d->nexited : d->ncreated, gt->n);
    n = shown(&t, gt->n);
    for (size_t k = 0; k < n; k++) {
      const group *g = &gt->e[k];
      const sd_g *x = pass ? g->a.g : g->b.g;
      char st[160];
      state_text(&t, s, x, st, sizeof st);
      group_head(&t, g);
      sd_out_printf(o, ": %s%s\n", pass ? "was " : "", st);
      const sd_frame *f = sd_frames(s, x);
      size_t w = fn_width(s, f, x->nframes);
      frame_lines(&t, "      ", pass ? '-' : '+', s, f, x->nframes, w, 1);
      if (x->flags & SD_G_CREATOR)
        sd_out_printf(o, "        created by %s at %s:%" PRIu32 "\n", safe(&t, sd_str(s, x->creator.fn)),
                      safe(&t, short_path(sd_str(s, x->creator.file))), x->creator.line);
    }
    more(&t, n, gt->n, "groups");
  }
}

int sd_diff(sd_ctx *c, const sd_snap *a, const sd_snap *b, const sd_diff_opts *opts, sd_out *o) {
  diff d = {.c = c, .s = {a, b}, .o = opts};
  int rc = compute(&d);
  if (rc == SONDE_OK) {
    if (opts->json)
      put_json(&d, o);
    else
      put_text(&d, o, opts->color == SD_COLOR_ALWAYS);
    sd_out_flush(o);
    rc = o->rc;
  }
  diff_free(&d);
  return rc;
}
