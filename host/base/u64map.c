/* u64map.c: linear probing, grown at 1/2 load. */
#include "base/u64map.h"

#include <stdlib.h>

#include "base/error.h"

void u64map_init(u64map *m) {
  m->keys = m->vals = NULL;
  m->cap = m->len = 0;
}

void u64map_free(u64map *m) {
  free(m->keys);
  free(m->vals);
  u64map_init(m);
}

static size_t slot_of(uint64_t key, size_t cap) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  return (size_t)key & (cap - 1);
}

static void insert_raw(uint64_t *keys, uint64_t *vals, size_t cap, uint64_t k, uint64_t v) {
  size_t i = slot_of(k, cap);
  while (keys[i] && keys[i] != k) i = (i + 1) & (cap - 1);
  keys[i] = k;
  vals[i] = v;
}

static int grow(u64map *m) {
  size_t cap = m->cap ? m->cap * 2 : 1024;
  uint64_t *keys = calloc(cap, sizeof *keys), *vals = calloc(cap, sizeof *vals);
  if (!keys || !vals) {
    free(keys);
    free(vals);
    return se_set(SE_NOMEM, "out of memory growing a cache to %zu entries", cap);
  }
  for (size_t i = 0; i < m->cap; i++)
    if (m->keys[i]) insert_raw(keys, vals, cap, m->keys[i], m->vals[i]);
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = cap;
  return 0;
}

int u64map_put(u64map *m, uint64_t key, uint64_t val) {
  if ((m->len + 1) * 2 > m->cap) {
    int rc = grow(m);
    if (rc) return rc;
  }
  size_t i = slot_of(key, m->cap);
  while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->len++;
  m->keys[i] = key;
  m->vals[i] = val;
  return 0;
}

bool u64map_get(const u64map *m, uint64_t key, uint64_t *val) {
  if (!m->cap) return false;
  size_t i = slot_of(key, m->cap);
  while (m->keys[i]) {
    if (m->keys[i] == key) {
      *val = m->vals[i];
      return true;
    }
    i = (i + 1) & (m->cap - 1);
  }
  return false;
}
