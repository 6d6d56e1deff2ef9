/* out.c: buffered output for the stackdiff plugin, and JSON strings.
 *
 * Everything the plugin writes goes through one 64 KiB buffer, to a file or
 * to the command's output. Strings come from the target's memory or from a
 * snapshot file: the JSON writer keeps well-formed UTF-8 and replaces each
 * byte of ill-formed UTF-8 by U+FFFD, so the output is always valid JSON. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/text.h>

#include "sd.h"

int sd_out_open(sd_out *o, sd_ctx *c, int fd, const char *path) {
  *o = (sd_out){.c = c, .fd = fd, .path = path, .rc = SONDE_OK};
  o->buf = malloc(SD_BUF_SIZE);
  if (!o->buf) return o->rc = c->api->fail(c->h, SONDE_ENOMEM, "out of memory");
  return SONDE_OK;
}

void sd_out_flush(sd_out *o) {
  if (o->rc != SONDE_OK || o->len == 0) return;
  sd_ctx *c = o->c;
  if (o->fd < 0) {
    int rc = c->api->write_out(c->h, o->buf, o->len);
    if (rc != SONDE_OK) o->rc = c->api->fail(c->h, rc, "cannot write to standard output");
  } else {
    for (size_t done = 0; done < o->len;) {
      ssize_t n = write(o->fd, o->buf + done, o->len - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        o->rc = c->api->fail(c->h, SONDE_EIO, "cannot write %s: %s", o->path,
                             n < 0 ? strerror(errno) : "nothing written (disk full?)");
        break;
      }
      done += (size_t)n;
    }
  }
  o->len = 0;
}

int sd_out_close(sd_out *o) {
  if (o->buf) sd_out_flush(o);
  free(o->buf);
  o->buf = NULL;
  return o->rc;
}

void sd_out_add(sd_out *o, const char *s, size_t n) {
  while (n > 0 && o->rc == SONDE_OK) {
    if (o->len == SD_BUF_SIZE) sd_out_flush(o);
    size_t k = SD_BUF_SIZE - o->len;
    if (k > n) k = n;
    memcpy(o->buf + o->len, s, k);
    o->len += k;
    s += k;
    n -= k;
  }
}

void sd_out_puts(sd_out *o, const char *z) { sd_out_add(o, z, strlen(z)); }

void sd_out_printf(sd_out *o, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    sd_out_add(o, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    if (o->rc == SONDE_OK) o->rc = o->c->api->fail(o->c->h, SONDE_ENOMEM, "out of memory");
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sd_out_add(o, big, (size_t)n);
  free(big);
}

void sd_out_i64(sd_out *o, int64_t v) {
  char num[24];
  int n = snprintf(num, sizeof num, "%" PRId64, v);
  sd_out_add(o, num, (size_t)n);
}

void sd_out_u64(sd_out *o, uint64_t v) {
  char num[24];
  int n = snprintf(num, sizeof num, "%" PRIu64, v);
  sd_out_add(o, num, (size_t)n);
}

void sd_key_str(sd_out *o, const char *key, const char *v) {
  sd_out_puts(o, key);
  sd_out_str(o, v);
}
void sd_key_i64(sd_out *o, const char *key, int64_t v) {
  sd_out_puts(o, key);
  sd_out_i64(o, v);
}
void sd_key_u64(sd_out *o, const char *key, uint64_t v) {
  sd_out_puts(o, key);
  sd_out_u64(o, v);
}
void sd_key_bool(sd_out *o, const char *key, int v) {
  sd_out_puts(o, key);
  sd_out_puts(o, v ? "true" : "false");
}

void sd_out_str(sd_out *o, const char *z) {
  const unsigned char *s = (const unsigned char *)(z ? z : "");
  sd_out_add(o, "\"", 1);
  while (*s) {
    /* the longest run that needs no escaping, copied at once */
    const unsigned char *run = s;
    while (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\') s++;
    sd_out_add(o, (const char *)run, (size_t)(s - run));
    if (!*s) break;
    if (*s == '"' || *s == '\\') {
      char esc[2] = {'\\', (char)*s};
      sd_out_add(o, esc, 2);
      s++;
    } else if (*s < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", *s);
      sd_out_add(o, esc, 6);
      s++;
    } else {
      size_t n = sonde_utf8_len(s, 4); /* NUL-terminated: never read past it */
      if (n) {
        sd_out_add(o, (const char *)s, n);
        s += n;
      } else {
        sd_out_add(o, "\\ufffd", 6);
        s++;
      }
    }
  }
  sd_out_add(o, "\"", 1);
}
