/* config.c: behind config.h.
 *
 * inih never sees the file: it gets lines from read_line() below, which
 * counts them (Debian builds inih without INI_HANDLER_LINENO), strips leading
 * blanks (so an indented key is a key, not inih's continuation of the value
 * above it), records section headers, and refuses a line that would not fit
 * inih's buffer, which inih would otherwise read as two lines. */
#include "plugins/config.h"
#include "plugins/config_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "base/error.h"
#include "base/text.h"

/* ---- [host] ------------------------------------------------------------- */

typedef enum { KIND_PATH, KIND_BOOL } key_kind;

static const struct {
  const char *name;
  key_kind kind;
  size_t out_off;     /* the cfg_setting in cfg_host */
  size_t default_off; /* the const char * in cfg_host_defaults (paths) */
} k_host_keys[] = {
    {"plugin_dir", KIND_PATH, offsetof(cfg_host, plugin_dir), offsetof(cfg_host_defaults, plugin_dir)},
    {"index", KIND_PATH, offsetof(cfg_host, index), offsetof(cfg_host_defaults, index)},
    {"output_dir", KIND_PATH, offsetof(cfg_host, output_dir), offsetof(cfg_host_defaults, output_dir)},
    {"allow_unsafe_permissions", KIND_BOOL, offsetof(cfg_host, allow_unsafe_permissions), 0},
};
#define N_HOST_KEYS (sizeof k_host_keys / sizeof k_host_keys[0])

static int host_key(const char *key) {
  for (size_t i = 0; i < N_HOST_KEYS; i++)
    if (!strcmp(k_host_keys[i].name, key)) return (int)i;
  return -1;
}

/* 1 and *out when v is a boolean, else 0. */
static int parse_bool(const char *v, bool *out) {
  int b;
  if (sonde_parse_bool(v, &b) != 0) return 0;
  *out = b;
  return 1;
}

/* ---- small helpers ------------------------------------------------------ */

/* A string from the file, fit for a message: control bytes as \xNN and at
 * most 64 bytes, so that a garbage file can neither drive the terminal nor
 * flood it. */
#define CLEAN_MAX 64
#define CLEAN_CAP (CLEAN_MAX * 4 + 4)
static const char *clean(char out[CLEAN_CAP], const char *s, size_t n) {
  size_t at = 0;
  for (size_t i = 0; i < n && i < CLEAN_MAX; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x20 || ch == 0x7f) at += (size_t)snprintf(out + at, CLEAN_CAP - at, "\\x%02x", ch);
    else out[at++] = (char)ch;
  }
  if (n > CLEAN_MAX) memcpy(out + at, "...", 3), at += 3;
  out[at] = '\0';
  return out;
}
#define CLEAN(buf, s) clean(buf, s, strlen(s))

static bool is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; }

/* dir + "/" + rel, with rel's leading "./" dropped; rel "." is dir itself. */
char *cfg__join(const char *dir, const char *rel) {
  while (rel[0] == '.' && rel[1] == '/') {
    rel += 2;
    while (*rel == '/') rel++;
  }
  if (!strcmp(rel, ".") || !*rel) return strdup(dir);
  size_t dl = strlen(dir), rl = strlen(rel);
  bool slash = dl && dir[dl - 1] == '/';
  char *p = malloc(dl + !slash + rl + 1);
  if (!p) return NULL;
  memcpy(p, dir, dl);
  if (!slash) p[dl++] = '/';
  memcpy(p + dl, rel, rl + 1);
  return p;
}

/* The absolute directory of path; relative paths lean on the working
 * directory as it is now (the directory is not canonicalised: symlinks are
 * kept, so a linked sonde.ini resolves next to the link). */
static int dir_of(const char *path, char **out) {
  *out = NULL;
  const char *slash = strrchr(path, '/');
  char *d = !slash ? strdup(".") : slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
  if (!d) return se_set(SE_NOMEM, "out of memory reading %s", path);
  if (d[0] != '/') {
    char *cwd = getcwd(NULL, 0); /* glibc allocates */
    if (!cwd) {
      int e = errno;
      free(d);
      return se_set(SE_IO, "%s: cannot find the working directory, against which the file's relative paths resolve: %s",
                    path, strerror(e));
    }
    char *abs = cfg__join(cwd, d);
    free(cwd);
    free(d);
    if (!abs) return se_set(SE_NOMEM, "out of memory reading %s", path);
    d = abs;
  }
  *out = d;
  return 0;
}

/* ---- an index from names to positions ----------------------------------- */

/* Open addressing over (hash, position + 1), so that a hostile file of
 * 100,000 distinct keys costs linear time, not a quadratic scan. */
typedef struct {
  uint64_t h;
  size_t pos1; /* position + 1; 0 = empty */
} slot;

typedef struct {
  slot *s;
  size_t cap, len;
} name_index;

static uint64_t fnv(uint64_t h, const char *s) {
  for (;; s++) { /* the terminating NUL is hashed too: ("ab","c") != ("a","bc") */
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ULL;
    if (!*s) return h;
  }
}
static uint64_t hash_pair(const char *a, const char *b) { return fnv(fnv(0xcbf29ce484222325ULL, a), b); }

/* Room for one more at a load of at most one half. */
static bool ni_reserve(name_index *t) {
  if ((t->len + 1) * 2 <= t->cap) return true;
  size_t cap = t->cap ? t->cap * 2 : 64;
  slot *s = calloc(cap, sizeof *s);
  if (!s) return false;
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->s[i].pos1) continue;
    size_t k = (size_t)t->s[i].h & (cap - 1);
    while (s[k].pos1) k = (k + 1) & (cap - 1);
    s[k] = t->s[i];
  }
  free(t->s);
  t->s = s;
  t->cap = cap;
  return true;
}

static void ni_free(name_index *t) {
  free(t->s);
  memset(t, 0, sizeof *t);
}

bool cfg__from_cwd(const char *origin) { return origin && !strcmp(origin, "working directory"); }

/* ---- parsing ------------------------------------------------------------ */

typedef struct {
  cfg_config *c;
  const char *name;    /* for messages */
  const char *p, *end; /* what read_line has not handed out yet */
  int line;            /* of the line last handed to inih */
  size_t cur;          /* c->sec index of the current section; SIZE_MAX before the first */
  size_t ecap, seccap;
  name_index keys, secs;
  int err_line;  /* the line inih was on when we refused something; 0 = none */
  char err[1024];
  bool nomem;
  char **warn; /* deferred: passed on only when the whole file is good */
  size_t nwarn, wcap, warn_dropped;
} parse;

__attribute__((format(printf, 3, 4))) static int fail(parse *ps, int line, const char *fmt, ...) {
  if (ps->err_line) return 0;
  int at = snprintf(ps->err, sizeof ps->err, "%s:%d: ", ps->name, line);
  if (at < 0) at = 0;
  if ((size_t)at < sizeof ps->err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + at, sizeof ps->err - (size_t)at, fmt, ap);
    va_end(ap);
  }
  ps->err_line = ps->line;
  return 0;
}

static int nomem(parse *ps) {
  ps->nomem = true;
  return 0;
}

__attribute__((format(printf, 3, 4))) static void warn_at(parse *ps, int line, const char *fmt, ...) {
  if (ps->nwarn >= CFG_MAX_WARNINGS) {
    ps->warn_dropped++;
    return;
  }
  if (ps->nwarn == ps->wcap) {
    size_t cap = ps->wcap ? ps->wcap * 2 : 8;
    char **w = realloc(ps->warn, cap * sizeof *w);
    if (!w) return (void)nomem(ps);
    ps->warn = w;
    ps->wcap = cap;
  }
  char *body = NULL, *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int rc = vasprintf(&body, fmt, ap);
  va_end(ap);
  if (rc < 0 || asprintf(&msg, "%s:%d: %s", ps->name, line, body) < 0) {
    if (rc >= 0) free(body);
    return (void)nomem(ps);
  }
  free(body);
  ps->warn[ps->nwarn++] = msg;
}

static void free_warnings(parse *ps) {
  for (size_t i = 0; i < ps->nwarn; i++) free(ps->warn[i]);
  free(ps->warn);
  ps->warn = NULL;
  ps->nwarn = ps->wcap = 0;
}

/* A [header] line (text..end, leading blanks gone): records the section.
 * inih reports a header without ']' itself; we refuse what it would let
 * through silently: "[]" and text after the ']'. */
static int section_header(parse *ps, const char *text, const char *end) {
  char b[CLEAN_CAP];
  const char *close = memchr(text, ']', (size_t)(end - text));
  if (!close) return 0;
  const char *t = close + 1;
  while (t < end && is_blank(*t)) t++;
  if (t < end && *t != ';' && *t != '#')
    return fail(ps, ps->line, "text after the section header: '%s' (a comment starts with ';' or '#')",
                clean(b, t, (size_t)(end - t))),
           -1;
  size_t n = (size_t)(close - text - 1);
  if (!n) return fail(ps, ps->line, "empty section name '[]'"), -1;
  char *name = strndup(text + 1, n);
  if (!name || !ni_reserve(&ps->secs)) {
    free(name);
    return nomem(ps), -1;
  }
  cfg_config *c = ps->c;
  uint64_t h = hash_pair(name, "");
  size_t k = (size_t)h & (ps->secs.cap - 1);
  for (; ps->secs.s[k].pos1; k = (k + 1) & (ps->secs.cap - 1)) {
    size_t i = ps->secs.s[k].pos1 - 1;
    if (ps->secs.s[k].h == h && !strcmp(c->sec[i].name, name)) { /* [host] again: keys merge */
      free(name);
      ps->cur = i;
      return 0;
    }
  }
  if (c->nsec == ps->seccap) {
    size_t cap = ps->seccap ? ps->seccap * 2 : 8;
    cfg_section *s = realloc(c->sec, cap * sizeof *s);
    if (!s) {
      free(name);
      return nomem(ps), -1;
    }
    c->sec = s;
    ps->seccap = cap;
  }
  c->sec[c->nsec] = (cfg_section){name, ps->line};
  ps->secs.s[k] = (slot){h, c->nsec + 1};
  ps->secs.len++;
  ps->cur = c->nsec++;
  return 0;
}

/* inih's fgets: one whole line, or NULL at the end or after a refusal. */
static char *read_line(char *str, int num, void *stream) {
  parse *ps = stream;
  if (ps->err_line || ps->nomem || ps->p >= ps->end) return NULL;
  const char *p = ps->p, *nl = memchr(p, '\n', (size_t)(ps->end - p));
  const char *text_end = nl ? nl : ps->end, *next = nl ? nl + 1 : ps->end;
  ps->p = next;
  ps->line++;
  if (ps->line == 1 && text_end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) p += 3; /* UTF-8 BOM */
  /* inih needs room for the text, '\n' and '\0'; a longer line it would split */
  size_t len = (size_t)(text_end - p), limit = num > 2 ? (size_t)num - 2 : 0;
  if (len > limit) {
    fail(ps, ps->line, "line too long (%zu bytes; inih reads at most %zu per line): shorten it, e.g. with a path "
                       "relative to this file", len, limit);
    return NULL;
  }
  if (num < 2) { /* no room even for "\n": an inih built with a tiny INI_MAX_LINE */
    fail(ps, ps->line, "inih's line buffer (%d bytes) is too small to read any line", num);
    return NULL;
  }
  while (p < text_end && is_blank(*p)) p++;
  if (p < text_end && *p == '[' && section_header(ps, p, text_end) != 0) return NULL;
  size_t n = (size_t)(next - p);
  memcpy(str, p, n);
  str[n] = '\0';
  return str;
}

static int check_host_value(parse *ps, int k, const char *value) {
  char b[CLEAN_CAP];
  const char *key = k_host_keys[k].name;
  if (k_host_keys[k].kind == KIND_BOOL) {
    bool v;
    if (!parse_bool(value, &v))
      return fail(ps, ps->line, "%s = '%s' is not a boolean (use true/false, yes/no, on/off or 1/0)", key,
                  CLEAN(b, value));
    return 1;
  }
  if (!*value)
    return fail(ps, ps->line, "%s is empty: give a path, or remove the line to use the default", key);
  if (value[0] == '~' && (value[1] == '/' || !value[1]))
    return fail(ps, ps->line, "%s = '%s': '~' is not expanded in sonde.ini; write the full path", key,
                CLEAN(b, value));
  return 1;
}

/* The entry for (section, key): a new one, or the earlier one now holding
 * this line's value. */
static int put_entry(parse *ps, const char *section, const char *key, const char *value) {
  cfg_config *c = ps->c;
  if (!ni_reserve(&ps->keys)) return nomem(ps);
  uint64_t h = hash_pair(section, key);
  size_t k = (size_t)h & (ps->keys.cap - 1);
  for (; ps->keys.s[k].pos1; k = (k + 1) & (ps->keys.cap - 1)) {
    cfg_entry *e = &c->e[ps->keys.s[k].pos1 - 1];
    if (ps->keys.s[k].h != h || strcmp(e->section, section) || strcmp(e->key, key)) continue;
    char b1[CLEAN_CAP], b2[CLEAN_CAP];
    warn_at(ps, ps->line, "duplicate key '%s' in [%s]: line %d overrides line %d", CLEAN(b1, key),
            CLEAN(b2, section), ps->line, e->line);
    char *v = strdup(value);
    if (!v) return nomem(ps);
    free(e->value);
    e->value = v;
    e->line = ps->line;
    return 1;
  }
  if (c->n == ps->ecap) {
    size_t cap = ps->ecap ? ps->ecap * 2 : 16;
    cfg_entry *e = realloc(c->e, cap * sizeof *e);
    if (!e) return nomem(ps);
    c->e = e;
    ps->ecap = cap;
  }
  cfg_entry e = {strdup(section), strdup(key), strdup(value), ps->line};
  if (!e.section || !e.key || !e.value) {
    free(e.section);
    free(e.key);
    free(e.value);
    return nomem(ps);
  }
  c->e[c->n] = e;
  ps->keys.s[k] = (slot){h, c->n + 1};
  ps->keys.len++;
  c->n++;
  return 1;
}

/* inih's handler: one key = value, on line ps->line. 0 makes inih record
 * this line as its first error, and we keep the message in ps->err. */
#if INI_HANDLER_LINENO
static int on_entry(void *user, const char *section, const char *key, const char *value, int lineno) {
  (void)lineno; /* ours counts the same lines */
#else
static int on_entry(void *user, const char *section, const char *key, const char *value) {
#endif
  parse *ps = user;
  char b1[CLEAN_CAP], b2[CLEAN_CAP];
  if (ps->err_line || ps->nomem) return 1; /* the first error is the one reported */
  if (!value) /* only when some other code in the process set ini_allow_no_value */
    return fail(ps, ps->line, "'%s' has no value: write key = value", CLEAN(b1, key));
  if (ps->cur == SIZE_MAX)
    return fail(ps, ps->line, "key '%s' is outside any section: put it under [host] or under the plugin's [NAME]",
                CLEAN(b1, key));
  const cfg_section *s = &ps->c->sec[ps->cur];
  if (strcmp(section, s->name)) {
    /* inih keeps 49 bytes of a section name and drops the rest, silently */
    if (!strncmp(section, s->name, strlen(section)))
      return fail(ps, s->line, "section name [%s] is too long (inih keeps %zu bytes of it)", CLEAN(b1, s->name),
                  strlen(section));
    return fail(ps, s->line, "section header [%s] not understood", CLEAN(b1, s->name));
  }
  if (!*key) return fail(ps, ps->line, "no key before '=' (value '%s')", CLEAN(b1, value));
  if (!strcmp(section, "host")) {
    int k = host_key(key);
    if (k >= 0) {
      if (!check_host_value(ps, k, value)) return 0;
    } else {
      char known[256] = "";
      for (size_t i = 0; i < N_HOST_KEYS; i++) {
        if (i) strcat(known, ", ");
        strcat(known, k_host_keys[i].name);
      }
      warn_at(ps, ps->line, "unknown key '%s' in [host] (known: %s)", CLEAN(b2, key), known);
    }
  }
  return put_entry(ps, section, key, value);
}

/* Line `line` of buf (1-based), without its blanks, BOM and '\n'. */
static void nth_line(const char *buf, size_t len, int line, const char **s, size_t *n) {
  const char *p = buf, *end = buf + len;
  for (int i = 1; i < line && p < end; i++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
  }
  const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL, *e = nl ? nl : end;
  if (line == 1 && e - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) p += 3;
  while (p < e && is_blank(*p)) p++;
  while (e > p && is_blank(e[-1])) e--;
  *s = p;
  *n = (size_t)(e - p);
}

/* inih refused line `line`: say what it found there. */
static int syntax_error(const char *name, const char *buf, size_t len, int line) {
  const char *s;
  size_t n;
  char b[CLEAN_CAP];
  nth_line(buf, len, line, &s, &n);
  clean(b, s, n);
  if (n && s[0] == '[') {
    if (memchr(s, ']', n))
      return se_set(SE_CONFIG, "%s:%d: syntax error: in the section header '%s', a ';' after a space starts a "
                               "comment, which hides the closing ']'",
                    name, line, b);
    return se_set(SE_CONFIG, "%s:%d: syntax error: the section header '%s' has no closing ']'", name, line, b);
  }
  return se_set(SE_CONFIG, "%s:%d: syntax error: '%s' is not 'key = value', a [section] header or a comment", name,
                line, b);
}

int cfg__load(cfg_config *out, const char *name, const char *origin, const char *buf, size_t len, cfg_warn_fn warn,
              void *payload) {
  memset(out, 0, sizeof *out);
  if (len > CFG_MAX_FILE_SIZE)
    return se_set(SE_CONFIG, "%s: larger than sonde.ini may be (1 MiB); is it the right file?", name);
  const char *zero = len ? memchr(buf, '\0', len) : NULL;
  if (zero) {
    int line = 1;
    for (const char *p = buf; p < zero; p++) line += *p == '\n';
    return se_set(SE_CONFIG, "%s:%d: NUL byte: sonde.ini must be a text file", name, line);
  }
  out->origin = origin;
  out->path = strdup(name);
  if (!out->path) return se_set(SE_NOMEM, "out of memory reading %s", name);
  int rc = dir_of(name, &out->dir);
  if (rc) {
    cfg_free(out);
    return rc;
  }
  parse ps = {.c = out, .name = name, .p = buf, .end = buf + len, .cur = SIZE_MAX};
  int irc = len ? ini_parse_stream(read_line, &ps, on_entry, &ps) : 0;
  if (ps.nomem || irc == -2) rc = se_set(SE_NOMEM, "out of memory reading %s", name);
  else if (irc < 0) rc = se_set(SE_ERR, "%s: inih failed (%d)", name, irc);
  else if (irc > 0 && irc != ps.err_line) rc = syntax_error(name, buf, len, irc);
  else if (ps.err_line) rc = se_set(SE_CONFIG, "%s", ps.err);
  ni_free(&ps.keys);
  ni_free(&ps.secs);
  if (rc) {
    free_warnings(&ps);
    cfg_free(out);
    return rc;
  }
  for (size_t i = 0; i < ps.nwarn && warn; i++) warn(payload, ps.warn[i]);
  const cfg_entry *au = cfg__from_cwd(origin) ? cfg_get(out, "host", "allow_unsafe_permissions") : NULL;
  if (au && warn) {
    char msg[PATH_MAX + 512];
    snprintf(msg, sizeof msg, "%s:%d: allow_unsafe_permissions is ignored: it is never taken from the working "
             "directory's sonde.ini. Set it in ~/.config/sonde/sonde.ini or /etc/sonde/sonde.ini, give this file with "
             "--config, or pass --allow-unsafe-plugins", name, au->line);
    warn(payload, msg);
  }
  if (ps.warn_dropped && warn) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %zu more warnings not shown", name, ps.warn_dropped);
    warn(payload, msg);
  }
  free_warnings(&ps);
  return 0;
}

int cfg_load_buffer(cfg_config *out, const char *name, const char *buf, size_t len, cfg_warn_fn warn,
                    void *payload) {
  return cfg__load(out, name ? name : "sonde.ini", "buffer", buf, len, warn, payload);
}

/* ---- what the rest of sonde asks ---------------------------------------- */

void cfg_check_sections(const cfg_config *c, const char *const *names, size_t n, cfg_warn_fn warn, void *payload) {
  if (!c || !warn) return;
  char known[512];
  size_t at = (size_t)snprintf(known, sizeof known, "host");
  for (size_t i = 0; i < n && at < sizeof known; i++)
    at += (size_t)snprintf(known + at, sizeof known - at, ", %s", names[i]);
  if (at >= sizeof known) memcpy(known + sizeof known - 6, ", ...", 6); /* with its NUL */
  size_t shown = 0, dropped = 0;
  for (size_t i = 0; i < c->nsec; i++) {
    const char *s = c->sec[i].name;
    bool ok = !strcmp(s, "host");
    for (size_t j = 0; j < n && !ok; j++) ok = !strcmp(s, names[j]);
    if (ok) continue;
    if (shown == CFG_MAX_WARNINGS) {
      dropped++;
      continue;
    }
    char b[CLEAN_CAP], msg[2048];
    snprintf(msg, sizeof msg, "%s:%d: unknown section [%s] (known: %s)", c->path, c->sec[i].line, CLEAN(b, s), known);
    warn(payload, msg);
    shown++;
  }
  if (dropped) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %zu more unknown sections not shown", c->path, dropped);
    warn(payload, msg);
  }
}

const cfg_entry *cfg_get(const cfg_config *c, const char *section, const char *key) {
  if (!c) return NULL;
  for (size_t i = 0; i < c->n; i++)
    if (!strcmp(c->e[i].section, section) && !strcmp(c->e[i].key, key)) return &c->e[i];
  return NULL;
}

/* "FILE:LINE" in out, keeping the end of a FILE too long for it. */
static void source_of(char out[512], const char *path, int line) {
  char tail[16];
  int tl = snprintf(tail, sizeof tail, ":%d", line);
  size_t pl = strlen(path), room = 512 - 1 - (size_t)tl;
  if (pl <= room) snprintf(out, 512, "%s%s", path, tail);
  else snprintf(out, 512, "...%s%s", path + pl - (room - 3), tail);
}

int cfg_host_settings(cfg_host *out, const cfg_config *c, const cfg_host_defaults *d) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < N_HOST_KEYS; i++) {
    cfg_setting *st = (cfg_setting *)((char *)out + k_host_keys[i].out_off);
    const cfg_entry *e = cfg_get(c, "host", k_host_keys[i].name);
    bool path = k_host_keys[i].kind == KIND_PATH, ignored = false;
    if (e && !path && c && cfg__from_cwd(c->origin)) ignored = true, e = NULL; /* see cfg__load */
    if (e) {
      if (path) st->value = e->value[0] == '/' || !c->dir ? strdup(e->value) : cfg__join(c->dir, e->value);
      else {
        parse_bool(e->value, &st->flag); /* checked when loaded */
        st->value = strdup(st->flag ? "true" : "false");
      }
      source_of(st->source, c->path ? c->path : "sonde.ini", e->line);
    } else {
      const char *v = NULL;
      if (path && d) v = *(const char *const *)((const char *)d + k_host_keys[i].default_off);
      if (!path) {
        st->flag = d && d->allow_unsafe_permissions;
        v = st->flag ? "true" : "false";
      }
      st->value = v ? strdup(v) : NULL;
      if (ignored)
        snprintf(st->source, sizeof st->source, "default (%.400s:%d ignored: not taken from the working directory)",
                 c->path, cfg_get(c, "host", k_host_keys[i].name)->line);
      else
        snprintf(st->source, sizeof st->source, "default");
      if (!v) continue;
    }
    if (!st->value) {
      cfg_host_free(out);
      return se_set(SE_NOMEM, "out of memory reading the [host] settings");
    }
  }
  return 0;
}

void cfg_host_free(cfg_host *h) {
  free(h->plugin_dir.value);
  free(h->index.value);
  free(h->output_dir.value);
  free(h->allow_unsafe_permissions.value);
  memset(h, 0, sizeof *h);
}

void cfg_free(cfg_config *c) {
  for (size_t i = 0; i < c->n; i++) {
    free(c->e[i].section);
    free(c->e[i].key);
    free(c->e[i].value);
  }
  for (size_t i = 0; i < c->nsec; i++) free(c->sec[i].name);
  free(c->e);
  free(c->sec);
  for (size_t i = 0; i < c->nskipped; i++) free(c->skipped[i]);
  free(c->path);
  free(c->dir);
  memset(c, 0, sizeof *c);
}
