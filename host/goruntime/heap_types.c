/* heap_types.c: the type of each heap object, where the runtime records one
 * (heap.h: gr_heap_read_types).
 *
 * Go 1.22+ records a type in two places (runtime/mbitmap.go): a large
 * object's span has largeType; a small object over 512 bytes that holds
 * pointers starts with an 8-byte header, its *abi.Type. Smaller and
 * pointer-free objects carry none: they are known by size class only.
 *
 * A slot is allocated when it lies below freeIndexForScan or its bit in
 * allocBits is set (mspan.isFree). The headers of those slots are read one
 * word each, batched into process_vm_readv calls; the descriptors and names
 * of the distinct types after that. A header is trusted only when it points
 * at a descriptor whose size fits the slot: anything else is counted as a
 * bad header, never followed further. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/u64map.h"
#include "goruntime/heap.h"

enum {
  BATCH = 4096,   /* iovecs per tgt_mem_readv */
  NAME_PEEK = 64, /* first read of a name; longer ones are read again */
  MAX_TYPES = 1 << 16,
  TFLAG_EXTRA_STAR = 1 << 1 /* abi.TFlagExtraStar, the same in 1.19-1.27 */
};

typedef struct {
  gr_program *p;
  gr_heap *h;
  u64map objs;     /* (type addr, class) -> objects, small objects */
  u64map *tindex;  /* type addr -> index in h->types + 1 (h->type_index) */
  size_t captypes; /* of h->types */
  tgt_iov *iov;
  uint64_t *words;
} tctx;

static uint64_t key_of(uint64_t type, unsigned cls) { return type | (uint64_t)cls << 48; }

/* Counts n objects of the type at addr in class cls. */
static int count(tctx *c, uint64_t type, unsigned cls, uint64_t n) {
  if (!type || type >> 48) {
    c->h->nbadheaders += n;
    return 0;
  }
  uint64_t k = key_of(type, cls), v = 0;
  u64map_get(&c->objs, k, &v);
  return u64map_put(&c->objs, k, v + n);
}

enum { MAX_HEADER_SLOTS = 256 }; /* slots of a header span: 8 KiB / 520 B is 15 */

/* Reads the k header words batched in c->iov and counts their types. */
static int flush(tctx *c, const gr_span *const *owner, size_t k) {
  int rc = k ? tgt_mem_readv(c->p->mem, c->iov, k) : 0;
  for (size_t j = 0; j < k && !rc; j++)
    if (c->iov[j].ok)
      rc = count(c, c->words[j], owner[j]->sizeclass, 1);
    else
      c->h->nbadheaders++;
  return rc;
}

/* Reads the allocation headers of the allocated slots of header spans. */
static int read_headers(tctx *c, const size_t *spans, size_t nspans) {
  gr_heap *h = c->h;
  /* allocBits first: one read per span */
  uint8_t(*bits)[MAX_HEADER_SLOTS / 8] = calloc(nspans ? nspans : 1, sizeof *bits);
  const gr_span **owner = malloc(BATCH * sizeof *owner);
  int rc = 0;
  if (!bits || !owner) {
    rc = se_set(SE_NOMEM, "out of memory for the allocation bits of %zu spans", nspans);
    goto out;
  }
  for (size_t b = 0; b < nspans && !rc; b += BATCH) {
    size_t k = nspans - b < BATCH ? nspans - b : BATCH;
    for (size_t i = 0; i < k; i++) {
      const gr_span *s = &h->spans[spans[b + i]];
      c->iov[i] = (tgt_iov){s->alloc_bits, bits[b + i], (s->nelems + 7) / 8, false};
    }
    rc = tgt_mem_readv(c->p->mem, c->iov, k);
    for (size_t i = 0; i < k && !rc; i++)
      if (!c->iov[i].ok) memset(bits[b + i], 0, sizeof bits[0]); /* then only the slots below freeindex */
  }
  /* then one word per allocated slot */
  size_t k = 0;
  for (size_t si = 0; si < nspans && !rc; si++) {
    const gr_span *s = &h->spans[spans[si]];
    for (uint32_t i = 0; i < s->nelems && !rc; i++) {
      if (i >= s->freeindex && !(bits[si][i / 8] >> (i % 8) & 1)) continue;
      owner[k] = s;
      c->iov[k] = (tgt_iov){s->base + (uint64_t)i * s->elemsize, &c->words[k], 8, false};
      if (++k == BATCH) {
        rc = flush(c, owner, k);
        k = 0;
      }
    }
  }
  if (!rc) rc = flush(c, owner, k);
out:
  free(bits);
  free(owner);
  return rc;
}

bool gr_heap_decode_name(const uint8_t *b, size_t n, bool extra_star, char *dst, size_t dstn, size_t *need) {
  if (n < 2 || !dstn) return false;
  uint64_t len = 0;
  size_t i = 1;
  for (int shift = 0;; shift += 7) { /* encoding/binary uvarint, at most 4 bytes here */
    if (i >= n || shift > 21) return false;
    len |= (uint64_t)(b[i] & 0x7f) << shift;
    if (!(b[i++] & 0x80)) break;
  }
  *need = i + len;
  const uint8_t *str = b + i;
  size_t have = n - i < len ? n - i : (size_t)len;
  if (extra_star && have && str[0] == '*') str++, have--, len--;
  bool cut = have < len || have > GR_MAX_TYPE_NAME || have >= dstn;
  if (have > GR_MAX_TYPE_NAME) have = GR_MAX_TYPE_NAME;
  if (have >= dstn) have = dstn - 1;
  if (cut && have > 3) have -= 3;
  memcpy(dst, str, have);
  dst[have] = '\0';
  if (cut) strncat(dst, "...", dstn - have - 1);
  return len > 0;
}

void gr_heap_row_name(const gr_heap *h, const gr_heap_typed *r, char *dst, size_t n) {
  const gr_heap_type *t = &h->types[r->type];
  if (t->name)
    snprintf(dst, n, "%s%s", r->array ? "[]" : "", t->name);
  else
    snprintf(dst, n, "%s(type 0x%llx)", r->array ? "[]" : "", (unsigned long long)t->addr);
}

bool gr_type_name_addr(const gr_program *p, const uint8_t *desc, uint64_t addr, uint64_t *at) {
  const gr_layout *L = &p->layout;
  /* a name only for the binary's own descriptors: a nameOff means nothing
   * elsewhere (types made by reflect register theirs) */
  int32_t off;
  memcpy(&off, desc + GR_OFF(L, TY_STR), 4);
  *at = p->md_types + (uint64_t)off;
  return addr >= p->md_types && addr < p->md_etypes && off > 0 && *at < p->md_etypes;
}

/* Reads the descriptors and names of every type in h->types. */
static int read_descriptors(tctx *c) {
  gr_heap *h = c->h;
  const gr_layout *L = &c->p->layout;
  size_t tsz = (size_t)GR_SIZE(L, SZ_TYPE);
  uint8_t *desc = malloc(h->ntypes * tsz + 1), *peek = malloc(h->ntypes * NAME_PEEK + 1);
  char *name = malloc(GR_MAX_TYPE_NAME + 8);
  uint8_t *full = malloc(GR_MAX_TYPE_NAME + 16);
  int rc = 0;
  if (!desc || !peek || !name || !full) {
    rc = se_set(SE_NOMEM, "out of memory for %zu type descriptors", h->ntypes);
    goto out;
  }
  for (size_t b = 0; b < h->ntypes && !rc; b += BATCH) {
    size_t k = h->ntypes - b < BATCH ? h->ntypes - b : BATCH;
    for (size_t i = 0; i < k; i++)
      c->iov[i] = (tgt_iov){h->types[b + i].addr, desc + (b + i) * tsz, tsz, false};
    if ((rc = tgt_mem_readv(c->p->mem, c->iov, k)) != 0) break;
    for (size_t i = 0; i < k; i++) {
      gr_heap_type *t = &h->types[b + i];
      const uint8_t *d = desc + (b + i) * tsz;
      t->size = 0;
      if (!c->iov[i].ok) continue;
      memcpy(&t->size, d + GR_OFF(L, TY_SIZE), 8);
      uint64_t at = 0;
      bool named = gr_type_name_addr(c->p, d, t->addr, &at);
      c->iov[i] = (tgt_iov){at, peek + (b + i) * NAME_PEEK, named ? NAME_PEEK : 0, false}; /* len 0: no name */
    }
    if ((rc = tgt_mem_readv(c->p->mem, c->iov, k)) != 0) break;
    for (size_t i = 0; i < k && !rc; i++) {
      gr_heap_type *t = &h->types[b + i];
      if (!c->iov[i].len) continue;
      uint8_t tflag = desc[(b + i) * tsz + GR_OFF(L, TY_TFLAG)];
      size_t need, n = NAME_PEEK;
      const uint8_t *src = peek + (b + i) * NAME_PEEK;
      if (!c->iov[i].ok) continue;
      if (!gr_heap_decode_name(src, n, tflag & TFLAG_EXTRA_STAR, name, GR_MAX_TYPE_NAME + 8, &need)) continue;
      if (need > n) { /* a long name: read it whole (to the bound) */
        n = need < GR_MAX_TYPE_NAME + 16 ? need : GR_MAX_TYPE_NAME + 16;
        if (tgt_mem_read(c->p->mem, c->iov[i].addr, full, n) != 0) {
          se_clear();
          continue;
        }
        if (!gr_heap_decode_name(full, n, tflag & TFLAG_EXTRA_STAR, name, GR_MAX_TYPE_NAME + 8, &need)) continue;
      }
      if (!(t->name = arena_strndup(&h->names, name, strlen(name))))
        rc = se_set(SE_NOMEM, "out of memory for type names");
    }
  }
out:
  free(desc);
  free(peek);
  free(name);
  free(full);
  return rc;
}

/* The index in h->types of the type at addr, added when new. */
static int type_index(tctx *c, uint64_t addr, uint32_t *out) {
  uint64_t v;
  if (u64map_get(c->tindex, addr, &v)) {
    *out = (uint32_t)(v - 1);
    return 0;
  }
  gr_heap *h = c->h;
  if (h->ntypes >= MAX_TYPES) return se_set(SE_CORRUPT, "more than %d distinct types in the heap", MAX_TYPES);
  if (h->ntypes == c->captypes) {
    size_t cap = c->captypes ? c->captypes * 2 : 256;
    gr_heap_type *t = realloc(h->types, cap * sizeof *t);
    if (!t) return se_set(SE_NOMEM, "out of memory for heap types");
    h->types = t;
    c->captypes = cap;
  }
  h->types[h->ntypes] = (gr_heap_type){.addr = addr};
  *out = (uint32_t)h->ntypes;
  return u64map_put(c->tindex, addr, ++h->ntypes);
}

/* One (type, class, array) row more, or more objects in the row it has. */
static int add_typed(tctx *c, u64map *rows, size_t *cap, uint64_t type, unsigned cls, uint64_t slot, uint64_t objs) {
  gr_heap *h = c->h;
  uint32_t ti;
  uint64_t v;
  if (!u64map_get(c->tindex, type, &v)) { /* never registered: not a type address at all */
    h->nbadheaders += objs;
    return 0;
  }
  ti = (uint32_t)(v - 1);
  const gr_heap_type *t = &h->types[ti];
  uint64_t user = cls ? slot - GR_HEADER_SIZE : slot;
  if (!t->size || t->size > user) { /* not a type this slot can hold */
    h->nbadheaders += objs;
    return 0;
  }
  bool array = user / t->size >= 2;
  uint64_t k = (uint64_t)ti + 1 + ((uint64_t)cls << 32) + ((uint64_t)array << 40);
  if (!u64map_get(rows, k, &v)) {
    if (h->ntyped == *cap) {
      size_t nc = *cap ? *cap * 2 : 256;
      gr_heap_typed *r = realloc(h->typed, nc * sizeof *r);
      if (!r) return se_set(SE_NOMEM, "out of memory for heap types");
      h->typed = r;
      *cap = nc;
    }
    h->typed[h->ntyped] = (gr_heap_typed){.type = ti, .sizeclass = (uint8_t)cls, .array = array};
    v = h->ntyped++;
    int rc = u64map_put(rows, k, v);
    if (rc) return rc;
  }
  gr_heap_typed *r = &h->typed[v];
  r->objects += objs;
  r->bytes += objs * slot;
  h->typed_objects += objs;
  h->typed_bytes += objs * slot;
  return 0;
}

/* Rows by bytes, largest first; then by objects, then by type name. */
static int by_bytes(const void *a, const void *b) {
  const gr_heap_typed *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  if (x->objects != y->objects) return x->objects < y->objects ? 1 : -1;
  return x->type < y->type ? -1 : x->type > y->type;
}

const gr_heap_type *gr_heap_type_at(const gr_heap *h, uint64_t addr) {
  uint64_t v;
  return addr && u64map_get(&h->type_index, addr, &v) ? &h->types[v - 1] : NULL;
}

int gr_heap_read_types(gr_program *p, gr_heap *h) {
  const gr_layout *L = &p->layout;
  /* largeType came with the allocation headers (Go 1.22) */
  h->has_types = GR_HAS(L, MS_LARGETYPE) && GR_HAS(L, MS_ALLOCBITS) && GR_HAS(L, TY_SIZE) && GR_HAS(L, TY_STR) &&
                 GR_HAS(L, TY_TFLAG) && GR_SIZE(L, SZ_TYPE) >= 48;
  if (!h->has_types) return 0;
  tctx c = {.p = p, .h = h, .tindex = &h->type_index};
  u64map rows;
  u64map_init(&c.objs);
  u64map_init(&rows);
  size_t *hdr = malloc((h->n ? h->n : 1) * sizeof *hdr), nhdr = 0, caprows = 0;
  c.iov = malloc(BATCH * sizeof *c.iov);
  c.words = malloc(BATCH * sizeof *c.words);
  int rc = 0;
  if (!hdr || !c.iov || !c.words) {
    rc = se_set(SE_NOMEM, "out of memory for the heap's types");
    goto out;
  }
  uint32_t ti;
  for (size_t i = 0; i < h->n; i++) {
    const gr_span *s = &h->spans[i];
    if (s->noscan || !s->nalloc) continue;
    bool header = s->sizeclass && s->elemsize > GR_MIN_SIZE_FOR_HEADER;
    if (header && s->nelems <= MAX_HEADER_SLOTS && s->alloc_bits)
      hdr[nhdr++] = i;
    else if (!s->sizeclass && s->large_type && !(s->large_type >> 48) && (rc = type_index(&c, s->large_type, &ti)) != 0)
      goto out; /* a largeType that is no address is counted bad by add_typed */
  }
  if ((rc = read_headers(&c, hdr, nhdr)) != 0) goto out;
  /* every distinct type, then their descriptors */
  for (size_t i = 0; i < c.objs.cap && !rc; i++)
    if (c.objs.keys[i]) rc = type_index(&c, c.objs.keys[i] & ((1ull << 48) - 1), &ti);
  if (rc || (rc = read_descriptors(&c)) != 0) goto out;
  /* the rows: small objects by class, large ones span by span */
  uint64_t slot[GR_NUM_SIZE_CLASSES] = {0}; /* a class's slot size, from any span of it */
  for (size_t j = 0; j < nhdr; j++)
    slot[h->spans[hdr[j]].sizeclass] = h->spans[hdr[j]].elemsize;
  for (size_t i = 0; i < c.objs.cap && !rc; i++) {
    uint64_t k = c.objs.keys[i];
    unsigned cls = (unsigned)(k >> 48);
    if (!k) continue;
    rc = add_typed(&c, &rows, &caprows, k & ((1ull << 48) - 1), cls, slot[cls], c.objs.vals[i]);
  }
  for (size_t i = 0; i < h->n && !rc; i++) {
    const gr_span *s = &h->spans[i];
    if (s->sizeclass || s->noscan || !s->nalloc) continue;
    if (!s->large_type) continue; /* not typed yet (delayed zeroing) */
    rc = add_typed(&c, &rows, &caprows, s->large_type, 0, s->elemsize, 1);
  }
out:
  if (!rc && h->ntyped) {
    qsort(h->typed, h->ntyped, sizeof *h->typed, by_bytes);
    if (!(h->row_names = malloc(h->ntyped * sizeof *h->row_names)))
      rc = se_set(SE_NOMEM, "out of memory for type names");
    char name[GR_MAX_TYPE_NAME + 64];
    for (size_t i = 0; !rc && i < h->ntyped; i++) {
      gr_heap_row_name(h, &h->typed[i], name, sizeof name);
      if (!(h->row_names[i] = arena_strndup(&h->names, name, strlen(name))))
        rc = se_set(SE_NOMEM, "out of memory for type names");
    }
  }
  u64map_free(&c.objs);
  u64map_free(&rows);
  free(hdr);
  free(c.iov);
  free(c.words);
  return rc;
}
