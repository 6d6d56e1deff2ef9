/* model.c: the stackdiff plugin's model of a snapshot, and its JSON writer.
 *
 * A snapshot is two flat arrays (goroutines, frames) over one table of
 * interned strings, whether it was taken from the host just now or read
 * from a file; the snapshot file is written from this model, so a file
 * read back and written again is the same document. 100,000 goroutines of
 * a few frames each cost a few MB: frames are 24 bytes, names are stored
 * once. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sd.h"

/* ---- interned strings ----------------------------------------------------------- */

enum { SD_BLOCK_SIZE = 256 * 1024 };

struct sd_block {
  sd_block *next;
  size_t used, size;
  char data[];
};

/* Eight bytes at a time: every string of a snapshot file passes through
 * here, so byte-wise FNV showed in profiles of a 100,000-goroutine diff. */
static uint32_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  memcpy(&w, s + i, n - i);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  return (uint32_t)h;
}

static char *block_copy(sd_strtab *t, const char *s, size_t n) {
  sd_block *b = t->blocks;
  if (!b || b->size - b->used < n + 1) {
    size_t size = n + 1 > SD_BLOCK_SIZE / 4 ? n + 1 : SD_BLOCK_SIZE;
    sd_block *nb = malloc(sizeof *nb + size);
    if (!nb) return NULL;
    nb->used = 0;
    nb->size = size;
    if (size == SD_BLOCK_SIZE || !b) {
      nb->next = b;
      t->blocks = nb;
    } else { /* a big string gets its own block, behind the current one */
      nb->next = b->next;
      b->next = nb;
    }
    b = nb;
  }
  char *p = b->data + b->used;
  memcpy(p, s, n);
  p[n] = 0;
  b->used += n + 1;
  return p;
}

static int rehash(sd_strtab *t, uint32_t nslot) {
  uint32_t *slot = calloc(nslot, sizeof *slot);
  if (!slot) return -1;
  for (uint32_t id = 0; id < t->n; id++) {
    uint32_t i = hash_bytes(t->s[id], t->len[id]) & (nslot - 1);
    while (slot[i]) i = (i + 1) & (nslot - 1);
    slot[i] = id + 1;
  }
  free(t->slot);
  t->slot = slot;
  t->nslot = nslot;
  return 0;
}

int sd_strtab_init(sd_strtab *t) {
  memset(t, 0, sizeof *t);
  return sd_intern(t, "", 0) == 0 ? 0 : -1;
}

void sd_strtab_free(sd_strtab *t) {
  for (sd_block *b = t->blocks, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(t->s);
  free(t->len);
  free(t->slot);
  memset(t, 0, sizeof *t);
}

uint32_t sd_intern(sd_strtab *t, const char *s, size_t n) {
  if (n >= UINT32_MAX) return SD_NOSTR;
  uint32_t h = hash_bytes(s, n);
  if (t->nslot) {
    for (uint32_t i = h & (t->nslot - 1);; i = (i + 1) & (t->nslot - 1)) {
      uint32_t id = t->slot[i];
      if (!id) break;
      if (t->len[id - 1] == n && !memcmp(t->s[id - 1], s, n)) return id - 1;
    }
  }
  if (t->n == SD_NOSTR - 1) return SD_NOSTR;
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 1024;
    const char **ns = realloc(t->s, cap * sizeof *ns);
    if (!ns) return SD_NOSTR;
    t->s = ns;
    uint32_t *nl = realloc(t->len, cap * sizeof *nl);
    if (!nl) return SD_NOSTR;
    t->len = nl;
    t->cap = cap;
  }
  char *copy = block_copy(t, s, n);
  if (!copy) return SD_NOSTR;
  uint32_t id = t->n++;
  t->s[id] = copy;
  t->len[id] = (uint32_t)n;
  if ((uint64_t)t->n * 2 > t->nslot) {
    if (rehash(t, t->nslot ? t->nslot * 2 : 4096) != 0) {
      t->n--; /* the copy stays in its block, unreferenced, until sd_strtab_free */
      return SD_NOSTR;
    }
  } else {
    uint32_t i = h & (t->nslot - 1);
    while (t->slot[i]) i = (i + 1) & (t->nslot - 1);
    t->slot[i] = id + 1;
  }
  return id;
}

/* ---- the snapshot ---------------------------------------------------------------- */

void sd_snap_init(sd_snap *s, sd_strtab *strs) {
  memset(s, 0, sizeof *s);
  s->strs = strs;
}

void sd_snap_free(sd_snap *s) {
  free(s->g);
  free(s->f);
  sd_snap_init(s, s->strs);
}

void sd_snap_reserve(sd_snap *s, size_t ng, size_t nf) {
  if (ng > SD_MAX_GOROUTINES) ng = SD_MAX_GOROUTINES;
  if (nf > (size_t)SD_MAX_GOROUTINES * 4) nf = (size_t)SD_MAX_GOROUTINES * 4;
  if (ng > s->capg) {
    sd_g *g = realloc(s->g, ng * sizeof *g);
    if (g) {
      s->g = g;
      s->capg = ng;
    }
  }
  if (nf > s->capf) {
    sd_frame *f = realloc(s->f, nf * sizeof *f);
    if (f) {
      s->f = f;
      s->capf = nf;
    }
  }
}

sd_g *sd_snap_add_g(sd_snap *s) {
  if (s->ng == s->capg) {
    size_t cap = s->capg ? s->capg * 2 : 256;
    sd_g *ng = realloc(s->g, cap * sizeof *ng);
    if (!ng) return NULL;
    s->g = ng;
    s->capg = cap;
  }
  sd_g *g = &s->g[s->ng++];
  memset(g, 0, sizeof *g);
  g->frame0 = s->nf;
  return g;
}

sd_frame *sd_snap_add_frames(sd_snap *s, size_t n) {
  if (n == 0) return NULL; /* callers ask for none only by mistake: NULL is "no room" */
  if (s->capf - s->nf < n) {
    size_t cap = s->capf ? s->capf : 1024;
    while (cap - s->nf < n) cap *= 2;
    sd_frame *nf = realloc(s->f, cap * sizeof *nf);
    if (!nf) return NULL;
    s->f = nf;
    s->capf = cap;
  }
  sd_frame *f = &s->f[s->nf];
  if (n == 1)
    *f = (sd_frame){0}; /* one at a time from the file reader: no memset call */
  else
    memset(f, 0, n * sizeof *f);
  s->nf += n;
  return f;
}

int sd_snap_rebase(sd_snap *s, sd_strtab *to) {
  sd_strtab *from = s->strs;
  uint32_t *map = malloc((from->n ? from->n : 1) * sizeof *map);
  if (!map) return -1;
  for (uint32_t id = 0; id < from->n; id++)
    if ((map[id] = sd_intern(to, from->s[id], from->len[id])) == SD_NOSTR) {
      free(map);
      return -1;
    }
  s->go_version = map[s->go_version];
  s->exe = map[s->exe];
  s->taken_at = map[s->taken_at];
  for (size_t i = 0; i < s->ng; i++) {
    sd_g *g = &s->g[i];
    g->status = map[g->status];
    g->wait_reason = map[g->wait_reason];
    g->creator.fn = map[g->creator.fn];
    g->creator.file = map[g->creator.file];
  }
  for (size_t i = 0; i < s->nf; i++) {
    s->f[i].fn = map[s->f[i].fn];
    s->f[i].file = map[s->f[i].file];
  }
  s->strs = to;
  free(map);
  return 0;
}

/* ---- from the host ------------------------------------------------------------------ */

static int frame_from_host(sd_ctx *c, sd_snap *s, const sonde_frame *hf, sd_frame *out) {
  const char *fn = hf->function ? hf->function : "", *file = hf->file ? hf->file : "";
  out->fn = sd_intern(s->strs, fn, strlen(fn));
  out->file = sd_intern(s->strs, file, strlen(file));
  if (out->fn == SD_NOSTR || out->file == SD_NOSTR) return c->api->fail(c->h, SONDE_ENOMEM, "out of memory");
  out->line = hf->line;
  out->inlined = hf->inlined != 0;
  out->pc = hf->pc;
  return SONDE_OK;
}

static uint32_t intern_z(sd_snap *s, const char *z) { return sd_intern(s->strs, z ? z : "", z ? strlen(z) : 0); }

int sd_snap_from_host(sd_ctx *c, sd_snap *s) {
  sonde_host *h = c->h;
  const sonde_host_api *api = c->api;
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  int rc = api->target_info(h, &ti);
  if (rc != SONDE_OK) return api->fail(h, rc, "cannot read the target's description");
  char now[40];
  sd_format_now(now, sizeof now);
  s->pid = ti.pid;
  s->go_version = intern_z(s, ti.go_version);
  s->exe = intern_z(s, ti.exe);
  s->taken_at = intern_z(s, now);
  s->has_stack_size = 1;
  if (s->go_version == SD_NOSTR || s->exe == SD_NOSTR || s->taken_at == SD_NOSTR)
    return api->fail(h, SONDE_ENOMEM, "out of memory");

  uint64_t n = api->goroutine_count(h);
  for (uint64_t i = 0; i < n; i++) {
    sonde_goroutine hg = SONDE_INIT(sonde_goroutine);
    rc = api->goroutine_get(h, i, &hg);
    if (rc != SONDE_OK)
      return api->fail(h, rc, "cannot read goroutine %" PRIu64 " of %" PRIu64 " from the snapshot", i, n);
    sd_g *g = sd_snap_add_g(s);
    if (!g) return api->fail(h, SONDE_ENOMEM, "out of memory for %" PRIu64 " goroutines", n);
    g->id = hg.id;
    g->parent_id = hg.parent_id;
    g->wait_minutes = hg.wait_minutes;
    g->status = intern_z(s, hg.status);
    g->wait_reason = intern_z(s, hg.wait_reason);
    if (g->status == SD_NOSTR || g->wait_reason == SD_NOSTR) return api->fail(h, SONDE_ENOMEM, "out of memory");
    g->flags = (hg.system ? SD_G_SYSTEM : 0) | (hg.locked_to_thread ? SD_G_LOCKED : 0);
    /* an ABI 1.1 host hands out no stack size: the snapshot then says so */
    if (SONDE_HAS_MEMBER(&hg, sonde_goroutine, stack_size))
      g->stack_size = hg.stack_size;
    else
      s->has_stack_size = 0;

    sonde_frame f = SONDE_INIT(sonde_frame);
    rc = hg.has_creator ? api->creator_get(h, i, &f) : SONDE_ENOTFOUND;
    if (rc == SONDE_OK) {
      if ((rc = frame_from_host(c, s, &f, &g->creator)) != SONDE_OK) return rc;
      g->flags |= SD_G_CREATOR;
    } else if (rc != SONDE_ENOTFOUND) {
      return api->fail(h, rc, "cannot read where goroutine %" PRId64 " was created", hg.id);
    }

    /* nframes is the host's count, already bounded by its unwinder (Go's
     * traceback limits); frame_get checks every index against it again. */
    uint32_t nf = hg.nframes > SD_MAX_FRAMES ? SD_MAX_FRAMES : hg.nframes;
    sd_frame *fs = nf ? sd_snap_add_frames(s, nf) : NULL;
    if (!fs && nf) return api->fail(h, SONDE_ENOMEM, "out of memory for frames");
    g = &s->g[s->ng - 1];
    g->nframes = nf;
    for (uint32_t j = 0; j < nf; j++) {
      f = SONDE_INIT(sonde_frame);
      rc = api->frame_get(h, i, j, &f);
      if (rc != SONDE_OK)
        return api->fail(h, rc, "cannot read frame %" PRIu32 " of %" PRIu32 " of goroutine %" PRId64, j, nf, hg.id);
      if ((rc = frame_from_host(c, s, &f, &fs[j])) != SONDE_OK) return rc;
    }
  }
  return SONDE_OK;
}

/* ---- JSON ------------------------------------------------------------------------
 * Keys in the order docs/stackdiff.md lists them; one frame per line, so the
 * file reads (and diffs) well with line-based tools too. */

void sd_put_frame(sd_out *o, const sd_snap *s, const sd_frame *f, int with_inlined) {
  sd_key_str(o, "{\"function\": ", sd_str(s, f->fn));
  sd_key_str(o, ", \"file\": ", sd_str(s, f->file));
  sd_key_u64(o, ", \"line\": ", f->line);
  sd_key_u64(o, ", \"pc\": ", f->pc);
  if (with_inlined) sd_key_bool(o, ", \"inlined\": ", (int)f->inlined);
  sd_out_puts(o, "}");
}

void sd_put_frames(sd_out *o, const sd_snap *s, const sd_frame *f, size_t n, const char *indent) {
  sd_out_puts(o, "[");
  for (size_t j = 0; j < n; j++) {
    sd_out_puts(o, j ? ",\n" : "\n");
    sd_out_puts(o, indent);
    sd_put_frame(o, s, &f[j], 1);
  }
  if (n) {
    sd_out_puts(o, "\n");
    sd_out_add(o, indent, strlen(indent) > 2 ? strlen(indent) - 2 : 0);
  }
  sd_out_puts(o, "]");
}

void sd_put_goroutine(sd_out *o, const sd_snap *s, const sd_g *g, const char *indent) {
  sd_key_i64(o, "{\"id\": ", g->id);
  sd_key_str(o, ", \"status\": ", sd_str(s, g->status));
  sd_key_str(o, ", \"wait_reason\": ", sd_str(s, g->wait_reason));
  sd_key_i64(o, ", \"wait_minutes\": ", g->wait_minutes);
  sd_key_i64(o, ", \"parent_id\": ", g->parent_id);
  sd_key_bool(o, ", \"system\": ", g->flags & SD_G_SYSTEM);
  sd_key_bool(o, ", \"locked_to_thread\": ", g->flags & SD_G_LOCKED);
  if (s->has_stack_size) sd_key_u64(o, ", \"stack_size\": ", g->stack_size);
  sd_out_puts(o, ",\n");
  sd_out_puts(o, indent);
  sd_out_puts(o, " \"created_by\": ");
  if (g->flags & SD_G_CREATOR)
    sd_put_frame(o, s, &g->creator, 0); /* the go statement's call site: never an inlined frame of its own */
  else
    sd_out_puts(o, "null");
  sd_out_puts(o, ",\n");
  sd_out_puts(o, indent);
  sd_out_puts(o, " \"frames\": ");
  char inner[64];
  snprintf(inner, sizeof inner, "%s   ", indent);
  sd_put_frames(o, s, sd_frames(s, g), g->nframes, inner);
  sd_out_puts(o, "}");
}

int sd_put_snapshot(sd_out *o, const sd_snap *s) {
  sd_key_i64(o, "{\"format\": \"" SD_FORMAT "\", \"version\": ", SD_FORMAT_VERSION);
  sd_key_i64(o, ",\n  \"pid\": ", s->pid);
  sd_key_str(o, ", \"go_version\": ", sd_str(s, s->go_version));
  sd_key_str(o, ",\n  \"exe\": ", sd_str(s, s->exe));
  sd_key_str(o, ",\n  \"taken_at\": ", sd_str(s, s->taken_at));
  sd_key_u64(o, ", \"goroutine_count\": ", s->ng);
  sd_out_puts(o, ",\n  \"goroutines\": [");
  for (size_t i = 0; i < s->ng; i++) {
    sd_out_puts(o, i ? ",\n    " : "\n    ");
    sd_put_goroutine(o, s, &s->g[i], "    ");
  }
  sd_out_puts(o, s->ng ? "\n  ]}\n" : "]}\n");
  sd_out_flush(o);
  return o->rc;
}

void sd_format_now(char *dst, size_t n) {
  struct timespec ts;
  struct tm tm;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm)) {
    snprintf(dst, n, "1970-01-01T00:00:00.000Z"); /* cannot happen on Linux; keeps the field valid */
    return;
  }
  char sec[32];
  strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
  int ms = (int)(ts.tv_nsec / 1000000);
  if (ms < 0 || ms > 999) ms = 0; /* tv_nsec is below 10^9; this tells the compiler too */
  snprintf(dst, n, "%s.%03dZ", sec, ms);
}
