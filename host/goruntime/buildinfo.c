/* buildinfo.c: mirrors debug/buildinfo (readRawBuildInfo, decodeString)
 * and runtime/debug.ParseBuildInfo for the modinfo text. */
#include "goruntime/buildinfo.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static const uint8_t k_magic[14] = {0xff, ' ', 'G', 'o', ' ', 'b', 'u', 'i', 'l', 'd', 'i', 'n', 'f', ':'};
enum { HDR = 32, MAX_STRING = 16 * 1024 * 1024 };

/* Go's binary.Uvarint, bounded to 64 bits. Returns bytes used, 0 on error. */
static size_t uvarint(const uint8_t *p, size_t n, uint64_t *out) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && i < 10; i++) {
    if (i == 9 && p[i] > 1) return 0; /* overflows 64 bits: binary.Uvarint rejects it */
    v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80)) {
      *out = v;
      return i + 1;
    }
  }
  return 0;
}

static int read_string(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *len) {
  uint64_t n;
  size_t used = uvarint(*p, (size_t)(end - *p), &n);
  if (!used) return se_set(SE_CORRUPT, "build info: truncated string length");
  *p += used;
  if (n > MAX_STRING || n > (uint64_t)(end - *p))
    return se_set(SE_CORRUPT, "build info: string of %llu bytes runs past the end", (unsigned long long)n);
  *s = *p;
  *len = (size_t)n;
  *p += n;
  return 0;
}

int bi_parse_version(const char *v, int *major, int *minor, int *patch) {
  *major = *minor = *patch = 0;
  if (strncmp(v, "go", 2) != 0) return -1;
  char *end;
  long ma = strtol(v + 2, &end, 10);
  if (end == v + 2 || *end != '.') return -1;
  const char *q = end + 1;
  long mi = strtol(q, &end, 10);
  if (end == q) return -1;
  long pa = 0;
  if (*end == '.') pa = strtol(end + 1, NULL, 10);
  if (ma < 0 || ma > 100 || mi < 0 || mi > 1000 || pa < 0 || pa > 1000) return -1;
  *major = (int)ma;
  *minor = (int)mi;
  *patch = (int)pa;
  return 0;
}

const char *bi_setting_get(const bi_info *bi, const char *key) {
  for (size_t i = 0; i < bi->nsettings; i++)
    if (!strcmp(bi->settings[i].key, key)) return bi->settings[i].value;
  return NULL;
}

/* Parses the modinfo text (between sentinels) into bi. */
static int parse_modinfo(const char *s, size_t n, arena *a, bi_info *bi) {
  size_t nlines = 0;
  for (size_t i = 0; i < n; i++) nlines += s[i] == '\n';
  bi->settings = arena_calloc(a, nlines + 1, sizeof *bi->settings);
  if (!bi->settings) return se_set(SE_NOMEM, "out of memory");
  const char *p = s, *end = s + n;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) nl = end;
    /* split into up to 4 tab-separated fields */
    const char *f[4] = {0};
    size_t fl[4] = {0};
    int nf = 0;
    const char *q = p;
    while (q <= nl && nf < 4) {
      const char *tab = memchr(q, '\t', (size_t)(nl - q));
      if (!tab) tab = nl;
      f[nf] = q;
      fl[nf] = (size_t)(tab - q);
      nf++;
      q = tab + 1;
    }
    if (nf >= 2 && fl[0] == 4 && !memcmp(f[0], "path", 4)) {
      bi->path = arena_strndup(a, f[1], fl[1]);
    } else if (nf >= 3 && fl[0] == 3 && !memcmp(f[0], "mod", 3)) {
      bi->mod_path = arena_strndup(a, f[1], fl[1]);
      bi->mod_version = arena_strndup(a, f[2], fl[2]);
      if (nf >= 4) bi->mod_sum = arena_strndup(a, f[3], fl[3]);
    } else if (nf >= 2 && fl[0] == 3 && !memcmp(f[0], "dep", 3)) {
      bi->ndeps++;
    } else if (nf >= 2 && fl[0] == 5 && !memcmp(f[0], "build", 5)) {
      /* key=value; the key may itself be quoted in theory, never in practice */
      const char *eq = memchr(f[1], '=', fl[1]);
      bi_setting *st = &bi->settings[bi->nsettings++];
      if (eq) {
        st->key = arena_strndup(a, f[1], (size_t)(eq - f[1]));
        const char *v = eq + 1;
        size_t vl = fl[1] - (size_t)(eq - f[1]) - 1;
        /* keep everything after the first tab too: values never hold tabs */
        st->value = arena_strndup(a, v, vl);
      } else {
        st->key = arena_strndup(a, f[1], fl[1]);
        st->value = "";
      }
    }
    p = nl + 1;
  }
  bi->vcs = bi_setting_get(bi, "vcs");
  bi->vcs_revision = bi_setting_get(bi, "vcs.revision");
  bi->vcs_time = bi_setting_get(bi, "vcs.time");
  bi->vcs_modified = bi_setting_get(bi, "vcs.modified");
  return 0;
}

int bi_parse(const uint8_t *data, size_t n, arena *a, bi_info *out) {
  memset(out, 0, sizeof *out);
  const uint8_t *blob = NULL;
  for (size_t off = 0; off + HDR <= n; off += 16)
    if (!memcmp(data + off, k_magic, sizeof k_magic)) {
      blob = data + off;
      break;
    }
  if (!blob) return se_set(SE_NOTGO, "no Go build information (.go.buildinfo) found: not a Go program");
  const uint8_t *end = data + n;
  uint8_t ptrsize = blob[14], flags = blob[15];
  if (!(flags & 2))
    return se_set(SE_NOTGO, "built by Go older than 1.18 (pointer-format build info); sonde supports Go 1.18+");
  if (flags & 1) return se_set(SE_NOTGO, "big-endian Go binary; sonde supports linux/amd64 only");
  if (ptrsize != 8) return se_set(SE_NOTGO, "%u-byte pointers; sonde supports linux/amd64 only", ptrsize);
  const uint8_t *p = blob + HDR, *s = NULL;
  size_t len = 0;
  int rc = read_string(&p, end, &s, &len);
  if (rc) return rc;
  out->go_version = arena_strndup(a, (const char *)s, len);
  rc = read_string(&p, end, &s, &len);
  if (rc) return rc;
  if (!out->go_version) return se_set(SE_NOMEM, "out of memory");
  if (bi_parse_version(out->go_version, &out->go_major, &out->go_minor, &out->go_patch) != 0)
    return se_set(SE_NOTGO, "unrecognized Go version string \"%s\"", out->go_version);
  /* modinfo is wrapped in two 16-byte sentinels (cmd/go modload) */
  if (len >= 33 && s[len - 17] == '\n') {
    s += 16;
    len -= 32;
  }
  return parse_modinfo((const char *)s, len, a, out);
}
