/* range.c: versions and version ranges for the plugin index (range.h).
 *
 * Everything here parses text an index author wrote by hand, so every refusal
 * says what was wrong and shows the syntax that would have been accepted. */
#include "plugins/range.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

/* The longest piece of the offending text quoted in a message. */
enum { QUOTE_MAX = 100 };

#define RANGE_SYNTAX                                                                         \
  "expected \"*\" or comma-separated conditions such as \">=1.21, <1.28\" (operators == != " \
  "< <= > >=; a bare version means ==)"

static bool is_space(char c) { return isspace((unsigned char)c) != 0; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parses the version at s; on success *end is the first byte after it (the
 * first byte that is not a digit or '.') and *parts the number of components.
 * Returns NULL or what is wrong. */
static const char *parse_version(const char *s, rng_version *out, uint8_t *parts, const char **end) {
  memset(out, 0, sizeof *out);
  *parts = 0;
  if (s[0] == 'g' && s[1] == 'o' && is_digit(s[2])) s += 2;
  if (!is_digit(*s)) return "a version starts with a number, as in 1.21, 1.21.3, go1.21.3 or 6.1.0";
  const char *p = s;
  for (;;) {
    if (*parts == 3) return "a version has at most three components (major.minor.patch)";
    if (!is_digit(*p)) return "a version has an empty component";
    uint32_t x = 0;
    for (; is_digit(*p); p++) {
      x = x * 10 + (uint32_t)(*p - '0');
      if (x > RNG_COMPONENT_MAX) return "a version component is larger than 1000000";
    }
    out->v[(*parts)++] = x;
    if (*p != '.') break;
    p++;
  }
  *end = p;
  return NULL;
}

int rng_version_parse(const char *s, rng_version *out) {
  uint8_t parts;
  const char *end;
  if (!s) {
    memset(out, 0, sizeof *out);
    return se_set(SE_CONFIG, "bad version: no version given");
  }
  const char *why = parse_version(s, out, &parts, &end);
  if (why) return se_set(SE_CONFIG, "bad version \"%.*s\": %s", QUOTE_MAX, s, why);
  return 0;
}

int rng_version_cmp(const rng_version *a, const rng_version *b) {
  for (int i = 0; i < 3; i++)
    if (a->v[i] != b->v[i]) return a->v[i] < b->v[i] ? -1 : 1;
  return 0;
}

void rng_version_format(const rng_version *v, bool want_patch, char *buf, size_t n) {
  if (!n) return;
  if (want_patch || v->v[2])
    snprintf(buf, n, "%u.%u.%u", v->v[0], v->v[1], v->v[2]);
  else
    snprintf(buf, n, "%u.%u", v->v[0], v->v[1]);
}

static int range_fail(const char *s, const char *what) {
  return se_set(SE_CONFIG, "bad version range \"%.*s\": %s; " RANGE_SYNTAX, QUOTE_MAX, s, what);
}

/* One condition: the bytes [p, e) with surrounding space already trimmed
 * and at least one byte. */
static int parse_cond(const char *s, const char *p, const char *e, rng_cond *c) {
  char what[256];
  size_t oplen = 0;
  c->op = RNG_EQ;
  if (e - p >= 2 && (!strncmp(p, "==", 2) || !strncmp(p, "!=", 2) || !strncmp(p, "<=", 2) || !strncmp(p, ">=", 2))) {
    oplen = 2;
    c->op = p[0] == '=' ? RNG_EQ : p[0] == '!' ? RNG_NE : p[0] == '<' ? RNG_LE : RNG_GE;
  } else if (*p == '<' || *p == '>') {
    oplen = 1;
    c->op = *p == '<' ? RNG_LT : RNG_GT;
  } else if (*p == '*') {
    return range_fail(s, "\"*\" cannot be combined with other conditions");
  } else if (!is_digit(*p) && !(e - p > 2 && p[0] == 'g' && p[1] == 'o' && is_digit(p[2]))) {
    /* Quote the operator-looking prefix: "~>1.2" -> '~>', "=1.2" -> '='. */
    const char *q = p;
    while (q < e && !is_digit(*q) && !is_space(*q) && q - p < 8) q++;
    if (q == p) q = p + 1;
    snprintf(what, sizeof what, "unknown operator '%.*s'", (int)(q - p), p);
    return range_fail(s, what);
  }
  p += oplen;
  while (p < e && is_space(*p)) p++;
  if (p == e) return range_fail(s, "an operator is missing its version");
  /* The condition is a bounded slice of s; parse a NUL-terminated copy. */
  char ver[64];
  if ((size_t)(e - p) >= sizeof ver) {
    snprintf(what, sizeof what, "version \"%.*s...\" is too long", 20, p);
    return range_fail(s, what);
  }
  memcpy(ver, p, (size_t)(e - p));
  ver[e - p] = '\0';
  const char *end;
  const char *why = parse_version(ver, &c->ver, &c->parts, &end);
  if (why) {
    snprintf(what, sizeof what, "\"%s\": %s", ver, why);
    return range_fail(s, what);
  }
  if (*end) {
    snprintf(what, sizeof what, "unexpected \"%s\" after version %.*s", end, (int)(end - ver), ver);
    return range_fail(s, what);
  }
  return 0;
}

int rng_parse(const char *s, rng_range *out) {
  memset(out, 0, sizeof *out);
  if (!s) return range_fail("", "no range given");
  const char *p = s, *end = s + strlen(s);
  while (p < end && is_space(*p)) p++;
  while (end > p && is_space(end[-1])) end--;
  if (p == end) return range_fail(s, "the range is empty");
  if (end - p == 1 && *p == '*') return 0;
  for (bool first = true;; first = false) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *ce = comma ? comma : end, *cb = p;
    while (cb < ce && is_space(*cb)) cb++;
    while (ce > cb && is_space(ce[-1])) ce--;
    if (cb == ce) {
      memset(out, 0, sizeof *out);
      return range_fail(s, !comma ? "trailing comma" : first ? "leading comma" : "empty condition between two commas");
    }
    if (out->n == RNG_MAX_CONDS) {
      memset(out, 0, sizeof *out);
      return range_fail(s, "more than 8 conditions");
    }
    int rc = parse_cond(s, cb, ce, &out->c[out->n]);
    if (rc) {
      memset(out, 0, sizeof *out);
      return rc;
    }
    out->n++;
    if (!comma) return 0;
    p = comma + 1;
  }
}

bool rng_cond_holds(const rng_cond *c, const rng_version *v) {
  int cmp = rng_version_cmp(v, &c->ver);
  switch (c->op) {
    case RNG_EQ:
    case RNG_NE: {
      /* "==1.27" names the series: compare only the components written. */
      size_t parts = c->parts >= 1 && c->parts <= 3 ? c->parts : 3;
      bool eq = true;
      for (size_t i = 0; i < parts; i++) eq = eq && v->v[i] == c->ver.v[i];
      return c->op == RNG_EQ ? eq : !eq;
    }
    case RNG_LT: return cmp < 0;
    case RNG_LE: return cmp <= 0;
    case RNG_GT: return cmp > 0;
    case RNG_GE: return cmp >= 0;
  }
  return false;
}

bool rng_contains(const rng_range *r, const rng_version *v) {
  for (size_t i = 0; i < r->n && i < RNG_MAX_CONDS; i++)
    if (!rng_cond_holds(&r->c[i], v)) return false;
  return true;
}
