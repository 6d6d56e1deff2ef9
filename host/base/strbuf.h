/* strbuf.h: a growable byte buffer for building output.
 *
 * Appends never fail loudly: on allocation failure the buffer records it in
 * `failed` and ignores further appends, and the caller checks once at the end. */
#ifndef SONDE_BASE_STRBUF_H
#define SONDE_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
  char *data;
  size_t len, cap;
  bool failed;
} strbuf;

void sb_init(strbuf *b);
void sb_free(strbuf *b);
void sb_putn(strbuf *b, const char *s, size_t n);
void sb_puts(strbuf *b, const char *s);
void sb_putc(strbuf *b, char c);
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_put_u64(strbuf *b, uint64_t v);
void sb_put_hex(strbuf *b, uint64_t v); /* 0x1f */
/* Writes the contents to f and empties the buffer; 0 or SE_IO. */
int sb_flush(strbuf *b, FILE *f);

#endif
