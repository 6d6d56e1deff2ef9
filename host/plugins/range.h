/* range.h: versions (Go, Linux kernel, sonde) and the version ranges that the
 * plugin index (index.h) states each plugin's compatibility with.
 *
 * The one thing to know: a bare or "==" version with fewer than three
 * components names a whole series ("1.27" and "==1.27" match 1.27.0 ...
 * 1.27.x, "!=1.27" excludes them all), while <, <=, > and >= fill missing
 * components with 0 ("<=1.27" means "<=1.27.0": write "<1.28" for "1.27.x and
 * older"). */
#ifndef SONDE_PLUGINS_RANGE_H
#define SONDE_PLUGINS_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t v[3]; /* major, minor, patch */
} rng_version;

/* Components above this are refused (no real version comes close; it keeps
 * arithmetic on them far from overflow). */
enum { RNG_COMPONENT_MAX = 1000000 };

/* Parses "1.21", "1.21.3", "go1.21.3", "go1.27rc1" (a prerelease suffix is
 * ignored: 1.27.0) and kernel releases "6.1.0-18-amd64", "6.18.44-fc-v669":
 * an optional "go", one to three dot-separated numbers, then anything that
 * does not start with a digit or '.'. Missing components are 0. 0, or
 * SE_CONFIG with a message naming the text. */
int rng_version_parse(const char *s, rng_version *out);
/* <0, 0, >0 like strcmp. */
int rng_version_cmp(const rng_version *a, const rng_version *b);
/* "1.21.3"; "1.21" when the patch is 0 and want_patch is false. Always
 * NUL-terminates when n > 0. */
void rng_version_format(const rng_version *v, bool want_patch, char *buf, size_t n);

enum { RNG_MAX_CONDS = 8 };
typedef enum { RNG_EQ, RNG_NE, RNG_LT, RNG_LE, RNG_GT, RNG_GE } rng_op;
typedef struct {
  rng_op op;
  rng_version ver;
  /* How many components were written (1..3). For RNG_EQ and RNG_NE only
   * those are compared, so "==1.27" matches 1.27.5; 0 (a condition built by
   * hand) compares all three. The other operators ignore it. */
  uint8_t parts;
} rng_cond;
typedef struct {
  rng_cond c[RNG_MAX_CONDS];
  size_t n; /* 0: any version ("*") */
} rng_range;

/* Parses a range: "*" (any version), or conditions separated by commas that
 * must all hold: ">=1.21, <1.28", "==1.27", "!=1.22.0", ">= 5.4", "1.27" (a
 * bare version is "=="). Operators: == != < <= > >=. Whitespace is allowed
 * around operators and commas; versions are as rng_version_parse takes them
 * but must end where the condition ends ("<1.28rc1" is refused). An empty
 * string, an unknown operator, an empty condition (",," or a trailing comma),
 * more than RNG_MAX_CONDS conditions or a bad version: SE_CONFIG with a
 * message saying what is wrong and showing the accepted syntax. */
int rng_parse(const char *s, rng_range *out);
/* Whether v satisfies every condition of r (always, for "*"). */
bool rng_contains(const rng_range *r, const rng_version *v);
/* Whether c alone holds for v. */
bool rng_cond_holds(const rng_cond *c, const rng_version *v);

#endif
