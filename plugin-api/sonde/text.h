/* sonde/text.h: the text and byte helpers the host and plugins share, so
 * that "yes", "Yes", a number or a UTF-8 string is read the same way by
 * sonde and by every plugin: UTF-8 sequences, booleans, unsigned decimal
 * numbers with a limit, and little-endian loads. Header-only (static
 * inline), C11, locale-independent, no host symbols: including it changes
 * nothing in the ABI. The host includes it through host/base/text.h;
 * <sonde/util.h> includes it for plugins. */
#ifndef SONDE_TEXT_H
#define SONDE_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The length (1 to 4) of the well-formed UTF-8 sequence at s, with n bytes
 * left, or 0 when the bytes there are not one: overlong forms, surrogates
 * and code points above U+10FFFF are ill-formed (Unicode 15, table 3-7).
 * Reads at most min(n, 4) bytes. */
static inline size_t sonde_utf8_len(const unsigned char *s, size_t n) {
  if (n == 0) return 0;
  unsigned c = s[0];
  if (c < 0x80) return 1;
  unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
  size_t k;
  if (c >= 0xc2 && c <= 0xdf) {
    k = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    k = 3;
    if (c == 0xe0) lo = 0xa0;      /* overlong */
    else if (c == 0xed) hi = 0x9f; /* U+D800..U+DFFF */
  } else if (c >= 0xf0 && c <= 0xf4) {
    k = 4;
    if (c == 0xf0) lo = 0x90;      /* overlong */
    else if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
  } else {
    return 0;
  }
  if (k > n || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < k; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  return k;
}

/* The rune at s, as Go's decoderune reads it: *len is its length; an
 * ill-formed byte is U+FFFD of length 1. n > 0. */
static inline uint32_t sonde_utf8_decode(const unsigned char *s, size_t n, size_t *len) {
  size_t k = sonde_utf8_len(s, n);
  *len = k ? k : 1;
  if (k <= 1) return k ? s[0] : 0xfffd;
  uint32_t r = s[0] & (0x7fu >> k);
  for (size_t i = 1; i < k; i++) r = r << 6 | (s[i] & 0x3fu);
  return r;
}

/* ASCII case-insensitive equality (no locale). */
static inline int sonde_ascii_ieq(const char *a, const char *b) {
  for (;; a++, b++) {
    unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
    if (x != y) return 0;
    if (!x) return 1;
  }
}

/* yes/true/on/1 -> 1, no/false/off/0 -> 0 into *out, in any case ("Yes",
 * "TRUE"); -1 (and *out untouched) for anything else, NULL included. */
static inline int sonde_parse_bool(const char *v, int *out) {
  static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
  if (!v) return -1;
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (sonde_ascii_ieq(v, yes[i])) return *out = 1, 0;
    if (sonde_ascii_ieq(v, no[i])) return *out = 0, 0;
  }
  return -1;
}

/* v as an unsigned decimal number of at most max: digits only (no sign, no
 * space, no "0x"), no overflow. 0 and *out, or -1 (and *out untouched). */
static inline int sonde_parse_u64(const char *v, uint64_t max, uint64_t *out) {
  if (!v || !*v) return -1;
  uint64_t x = 0;
  for (const char *c = v; *c; c++) {
    if (*c < '0' || *c > '9') return -1;
    unsigned d = (unsigned)(*c - '0');
    if (x > (UINT64_MAX - d) / 10) return -1;
    x = x * 10 + d;
  }
  if (x > max) return -1;
  *out = x;
  return 0;
}

/* Little-endian loads of 1 to 8 bytes from p, whatever its alignment and
 * whatever the machine's byte order. */
static inline uint64_t sonde_le(const void *p, size_t n) {
  const unsigned char *b = (const unsigned char *)p;
  uint64_t v = 0;
  for (size_t i = n < 8 ? n : 8; i-- > 0;) v = v << 8 | b[i];
  return v;
}
static inline uint16_t sonde_le16(const void *p) { return (uint16_t)sonde_le(p, 2); }
static inline uint32_t sonde_le32(const void *p) { return (uint32_t)sonde_le(p, 4); }
static inline uint64_t sonde_le64(const void *p) { return sonde_le(p, 8); }

#endif
