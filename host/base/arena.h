/* arena.h: a bump allocator for per-snapshot data.
 *
 * A stop's worth of goroutines, frames and strings lives in one arena and is
 * released with one call. Allocation failure returns NULL; callers report
 * SE_NOMEM. Blocks grow geometrically, so the arena holds O(log n) blocks. */
#ifndef SONDE_BASE_ARENA_H
#define SONDE_BASE_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct {
  arena_block *head;
  size_t next_size;
  size_t total; /* bytes handed out, for --stats */
} arena;

void arena_init(arena *a);
void arena_free(arena *a);
/* n bytes aligned to 16; NULL on overflow or out of memory. */
void *arena_alloc(arena *a, size_t n);
void *arena_calloc(arena *a, size_t count, size_t size);
char *arena_strndup(arena *a, const char *s, size_t n);

#endif
