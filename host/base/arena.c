/* arena.c: geometric block list behind arena.h. */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
  arena_block *prev;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

enum { ARENA_FIRST = 64 * 1024, ARENA_MAX_BLOCK = 64 * 1024 * 1024 };

void arena_init(arena *a) {
  a->head = NULL;
  a->next_size = ARENA_FIRST;
  a->total = 0;
}

void arena_free(arena *a) {
  arena_block *b = a->head;
  while (b) {
    arena_block *p = b->prev;
    free(b);
    b = p;
  }
  arena_init(a);
}

void *arena_alloc(arena *a, size_t n) {
  if (n > SIZE_MAX / 2) return NULL;
  n = (n + 15) & ~(size_t)15;
  if (n == 0) n = 16;
  arena_block *b = a->head;
  if (!b || b->cap - b->used < n) {
    size_t cap = a->next_size;
    if (cap < n) cap = n;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->prev = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
    if (a->next_size < ARENA_MAX_BLOCK) a->next_size *= 2;
  }
  void *p = b->data + b->used;
  b->used += n;
  a->total += n;
  return p;
}

void *arena_calloc(arena *a, size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *p = arena_alloc(a, count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
  if (n == SIZE_MAX) return NULL;
  char *p = arena_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}
