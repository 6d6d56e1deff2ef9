/* u64map.h: an open-addressing hash map from uint64_t keys to uint64_t values.
 *
 * Used for caches keyed by addresses or PCs (symbolization, function lookup).
 * Key 0 is reserved as the empty marker; store key+1 if 0 can occur. */
#ifndef SONDE_BASE_U64MAP_H
#define SONDE_BASE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t *keys, *vals;
  size_t cap, len; /* cap is a power of two */
} u64map;

void u64map_init(u64map *m);
void u64map_free(u64map *m);
/* 0, or SE_NOMEM (the map is unchanged). key must not be 0. */
int u64map_put(u64map *m, uint64_t key, uint64_t val);
bool u64map_get(const u64map *m, uint64_t key, uint64_t *val);

#endif
