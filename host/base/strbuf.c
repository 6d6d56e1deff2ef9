/* strbuf.c: behind strbuf.h; integer formatting is by hand because printing
 * 100,000 tracebacks through printf dominates the profile otherwise. */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void sb_init(strbuf *b) { memset(b, 0, sizeof *b); }
void sb_free(strbuf *b) {
  free(b->data);
  sb_init(b);
}

static bool reserve(strbuf *b, size_t n) {
  if (b->failed) return false;
  if (b->cap - b->len > n) return true;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - b->len <= n) {
    if (cap > SIZE_MAX / 2) {
      b->failed = true;
      return false;
    }
    cap *= 2;
  }
  char *p = realloc(b->data, cap);
  if (!p) {
    b->failed = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void sb_putn(strbuf *b, const char *s, size_t n) {
  if (!reserve(b, n)) return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}
void sb_puts(strbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
void sb_putc(strbuf *b, char c) { sb_putn(b, &c, 1); }

void sb_printf(strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    sb_putn(b, small, (size_t)n);
    return;
  }
  if (!reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void sb_put_u64(strbuf *b, uint64_t v) {
  char tmp[24];
  int i = (int)sizeof tmp;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  sb_putn(b, tmp + i, sizeof tmp - (size_t)i);
}

void sb_put_hex(strbuf *b, uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  char tmp[24];
  int i = (int)sizeof tmp;
  do {
    tmp[--i] = digits[v & 15];
    v >>= 4;
  } while (v);
  tmp[--i] = 'x';
  tmp[--i] = '0';
  sb_putn(b, tmp + i, sizeof tmp - (size_t)i);
}

int sb_flush(strbuf *b, FILE *f) {
  if (b->failed) return se_set(SE_NOMEM, "out of memory while formatting output");
  if (b->len && fwrite(b->data, 1, b->len, f) != b->len)
    return se_set(SE_IO, "cannot write output");
  b->len = 0;
  return 0;
}
