/* sonde/util.h: small helpers every plugin that takes settings from
 * sonde.ini or writes numbered files wants, so that all plugins read
 * "10s", "yes" and "snap-%n.json" the same way (the booleans, numbers and
 * UTF-8 helpers are in <sonde/text.h>, the output-file writer in
 * <sonde/file.h>; the host uses both too). Header-only (static
 * inline), C11, no host symbols: including it changes nothing in the ABI.
 * The plugins sonde ships use it; so may yours. Uses POSIX's gmtime_r:
 * build with -std=gnu11, or define _POSIX_C_SOURCE=200809L. */
#ifndef SONDE_UTIL_H
#define SONDE_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sonde/file.h> /* sonde_outfile: output files, shared with the host */
#include <sonde/plugin.h>
#include <sonde/text.h> /* sonde_parse_bool, sonde_utf8_len, ...: shared with the host */

/* "10s", "500ms", "2m", "1h" (a positive number and a unit) -> milliseconds,
 * from 1 ms to 24 h; 0 when v is none of these. */
static inline uint64_t sonde_parse_duration_ms(const char *v) {
  char *end = NULL;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || end == v || !(x > 0)) return 0;
  double unit = !strcmp(end, "ms") ? 1 : !strcmp(end, "s") ? 1e3 : !strcmp(end, "m") ? 60e3 : !strcmp(end, "h") ? 3600e3 : 0;
  double ms = x * unit;
  return ms >= 1 && ms <= 86400e3 ? (uint64_t)ms : 0;
}

/* An output name with %n (seq: the file's number in this run, 1, 2, ...),
 * %t (the UTC time, 20261130T120641Z) and %% expanded, into out (n bytes).
 * 0, or -1 for another % sequence or a name longer than n. */
static inline int sonde_expand_path(const char *in, uint64_t seq, char *out, size_t n) {
  size_t len = 0;
  for (const char *c = in; *c; c++) {
    char piece[32];
    const char *add = piece;
    if (*c != '%') {
      piece[0] = *c;
      piece[1] = 0;
    } else if (c[1] == 'n') {
      snprintf(piece, sizeof piece, "%" PRIu64, seq);
      c++;
    } else if (c[1] == 't') {
      time_t now = time(NULL);
      struct tm tm;
      if (!gmtime_r(&now, &tm) || !strftime(piece, sizeof piece, "%Y%m%dT%H%M%SZ", &tm)) return -1;
      c++;
    } else if (c[1] == '%') {
      add = "%";
      c++;
    } else {
      return -1;
    }
    size_t k = strlen(add);
    if (len + k >= n) return -1;
    memcpy(out + len, add, k);
    len += k;
  }
  out[len] = 0;
  return 0;
}

/* str as a JSON string ("null" for NULL); bytes that are not UTF-8 become
 * U+FFFD, so the output always parses. */
static inline void sonde_json_string(FILE *f, const char *str) {
  if (!str) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  const unsigned char *s = (const unsigned char *)str;
  for (size_t n = strlen(str); n;) {
    size_t k = sonde_utf8_len(s, n);
    if (!k) {
      fputs("\xef\xbf\xbd", f); /* U+FFFD for a byte that is not UTF-8 */
      s++, n--;
      continue;
    }
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if (*s < 0x20 || *s == 0x7f)
      fprintf(f, "\\u%04x", *s);
    else
      fwrite(s, 1, k, f);
    s += k;
    n -= k;
  }
  fputc('"', f);
}

/* Runs w(f, ctx) into the file at path, written whole beside it and then
 * renamed over it (<sonde/file.h>: no link is followed, and a failed write
 * leaves the old file as it was), or into the command's output
 * (api->write_out) when path is NULL. SONDE_OK, or an error recorded with
 * api->fail (called as (api->fail) so that a test framework's fail() macro,
 * cmocka's, leaves it alone). Uses POSIX's open_memstream. */
static inline int sonde_emit(sonde_host *h, const sonde_host_api *api, const char *path,
                             void (*w)(FILE *f, void *ctx), void *ctx) {
  if (!path) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return (api->fail)(h, SONDE_ENOMEM, "out of memory");
    w(f, ctx);
    int bad = ferror(f);
    fclose(f);
    int rc = bad ? (api->fail)(h, SONDE_ENOMEM, "out of memory") : api->write_out(h, buf, len);
    free(buf);
    return rc;
  }
  sonde_outfile o;
  int e = sonde_outfile_open(&o, path);
  if (e == ENAMETOOLONG) return (api->fail)(h, SONDE_EINVAL, "the path %.100s... is too long", path);
  if (e) return (api->fail)(h, SONDE_EIO, "cannot create %s: %s", path, strerror(e));
  FILE *f = sonde_outfile_stream(&o);
  if (!f) {
    e = errno;
    sonde_outfile_abort(&o);
    return (api->fail)(h, SONDE_EIO, "cannot write %s: %s", path, strerror(e));
  }
  w(f, ctx);
  if ((e = sonde_outfile_commit(&o)) != 0) return (api->fail)(h, SONDE_EIO, "cannot write %s: %s", path, strerror(e));
  return SONDE_OK;
}

#endif
