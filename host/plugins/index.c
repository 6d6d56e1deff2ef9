/* index.c: the plugin compatibility index (index.h): load, check, write back,
 * and decide whether an entry may load.
 *
 * The file is read into a small tree by base/yaml.h, under the index's
 * limits (index.h: depth, values, value length; no anchors or aliases),
 * then checked against the schema. */
#include "plugins/index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"
#include "base/yaml.h"

/* ---- the YAML tree ------------------------------------------------------ */

typedef yml_node yn;

static int fail_at(const char *path, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail_at(const char *path, int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = yml_vfail_at(path, SE_CONFIG, line, col, fmt, ap);
  va_end(ap);
  return rc;
}

static int nomem(const char *path) { return se_set(SE_NOMEM, "%s: out of memory reading the plugin index", path); }

/* Parses buf into a tree under the hostile-input limits (base/yaml.h). */
static int tree_build(const char *path, const char *buf, size_t len, yn **out) {
  static const yml_limits lim = {.what = "the plugin index", .code = SE_CONFIG, .max_depth = IDX_MAX_DEPTH,
                                 .max_nodes = IDX_MAX_NODES, .max_scalar = IDX_MAX_SCALAR,
                                 .depth_hint = "a valid index uses 4"};
  int rc = yml_parse(path, buf, len, &lim, out);
  if (!rc && !*out) rc = fail_at(path, 1, 1, "the plugin index is empty: it needs at least \"schema: %d\"", IDX_SCHEMA);
  return rc;
}

/* ---- checking entries --------------------------------------------------- */

typedef struct {
  const char *path;
  const char *plugin; /* the current entry's name when valid, for messages */
  int rc;             /* SE_NOMEM once an allocation failed */
} check;

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

static char *str_dup(check *c, const char *s) {
  char *d = strdup(s);
  if (!d) c->rc = SE_NOMEM;
  return d;
}

/* Text from the index for a message: at most 40 bytes (cut on a UTF-8
 * boundary, "..." added), control bytes shown as '?'. */
static const char *show(const char *s, char *buf, size_t cap) {
  size_t len = strlen(s), cut = len;
  if (cut > 40) {
    cut = 40;
    while (cut && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
  }
  if (cut + 4 > cap) cut = 0;
  size_t i = 0;
  for (; i < cut; i++) buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
  if (cut < len) {
    memcpy(buf + i, "...", 3);
    i += 3;
  }
  buf[i] = '\0';
  return buf;
}

/* Records the entry's first problem, at node at. */
static void entry_fail(check *c, idx_entry *e, const yn *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void entry_fail(check *c, idx_entry *e, const yn *at, const char *fmt, ...) {
  if (e->error || c->rc) return;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->plugin)
    e->error = str_printf("%s:%d:%d: plugin '%s': %s", c->path, at->line, at->col, c->plugin, msg);
  else
    e->error = str_printf("%s:%d:%d: %s", c->path, at->line, at->col, msg);
  if (!e->error) c->rc = SE_NOMEM;
}

static bool valid_name(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > IDX_MAX_NAME) return false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (i > 0 && (ch == '_' || ch == '-'));
    if (!ok) return false;
  }
  return true;
}

/* C0 and C1 controls, and the Unicode line and paragraph separators (YAML
 * line breaks, which a "one line" field must not hold either). */
static bool has_control(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) return true;
    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) return true;
    if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) return true;
  }
  return false;
}

/* "MAJOR.MINOR", each at most RNG_COMPONENT_MAX. */
static bool parse_abi(const char *s, uint32_t *major, uint32_t *minor) {
  uint32_t v[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    if (*s < '0' || *s > '9') return false;
    for (; *s >= '0' && *s <= '9'; s++) {
      v[i] = v[i] * 10 + (uint32_t)(*s - '0');
      if (v[i] > RNG_COMPONENT_MAX) return false;
    }
    if (i == 0 && *s++ != '.') return false;
  }
  if (*s) return false;
  *major = v[0];
  *minor = v[1];
  return true;
}

enum { K_NAME, K_FILE, K_VERSION, K_ABI, K_SHA256, K_DESCRIPTION, K_COMPAT, K_COUNT };
static const char *const k_entry_keys[K_COUNT] = {"name", "file", "version", "abi", "sha256", "description", "compat"};
#define ENTRY_KEYS "name, file, version, abi, sha256, description, compat"

/* The text of a required or optional value, or NULL (absent, null, or
 * refused with an entry error). */
static const yn *text_of(check *c, idx_entry *e, const char *key, const yn *k, const yn *v, bool required) {
  if (!v) return NULL;
  if (yml_is_null(v)) {
    if (required) entry_fail(c, e, k, "'%s' has no value", key);
    return NULL;
  }
  if (v->kind != YML_SCALAR) {
    entry_fail(c, e, v, "'%s' must be text, not %s", key, yml_kind_name(v));
    return NULL;
  }
  return v;
}

static void check_compat(check *c, idx_entry *e, const yn *m) {
  static const char *const keys[3] = {"go", "kernel", "sonde"};
  rng_range *ranges[3] = {&e->go, &e->kernel, &e->host};
  char **texts[3] = {&e->go_text, &e->kernel_text, &e->host_text};
  const yn *seen[3] = {NULL, NULL, NULL};
  char b[64];
  if (yml_is_null(m)) return;
  if (m->kind != YML_MAP) {
    entry_fail(c, e, m, "'compat' must be a mapping of go, kernel and sonde version ranges, not %s", yml_kind_name(m));
    return;
  }
  for (size_t i = 0; i + 1 < m->n; i += 2) {
    const yn *kk = m->kid[i], *v = m->kid[i + 1];
    if (kk->kind != YML_SCALAR) {
      entry_fail(c, e, kk, "a key in 'compat' must be text, not %s", yml_kind_name(kk));
      continue;
    }
    int j = 0;
    while (j < 3 && strcmp(kk->s, keys[j])) j++;
    if (j == 3) {
      entry_fail(c, e, kk, "unknown key '%s' in 'compat' (allowed: go, kernel, sonde)", show(kk->s, b, sizeof b));
      continue;
    }
    if (seen[j]) {
      entry_fail(c, e, kk, "duplicate key 'compat.%s' (also at line %d)", keys[j], seen[j]->line);
      continue;
    }
    seen[j] = kk;
    const yn *t = text_of(c, e, keys[j], kk, v, false);
    if (!t) continue;
    char *text = str_dup(c, t->s);
    if (!text) return;
    free(*texts[j]);
    *texts[j] = text;
    if (rng_parse(t->s, ranges[j]) != 0) entry_fail(c, e, t, "compat.%s: %s", keys[j], se_msg());
  }
}

static void check_entry(check *c, const yn *m, idx_entry *e) {
  char b[64];
  e->line = m->line;
  e->col = m->col;
  c->plugin = NULL;
  if (!(e->go_text = str_dup(c, "*")) || !(e->kernel_text = str_dup(c, "*")) || !(e->host_text = str_dup(c, "*")))
    return;
  if (m->kind != YML_MAP) {
    entry_fail(c, e, m, "a plugin entry must be a mapping (name: ..., file: ..., ...), not %s", yml_kind_name(m));
    return;
  }
  /* Find the name first, so that every message can say which plugin. */
  for (size_t i = 0; i + 1 < m->n; i += 2)
    if (m->kid[i]->kind == YML_SCALAR && !strcmp(m->kid[i]->s, "name") && m->kid[i + 1]->kind == YML_SCALAR &&
        valid_name(m->kid[i + 1]->s)) {
      c->plugin = m->kid[i + 1]->s;
      break;
    }

  const yn *key[K_COUNT] = {NULL}, *val[K_COUNT] = {NULL};
  for (size_t i = 0; i + 1 < m->n; i += 2) {
    const yn *k = m->kid[i];
    if (k->kind != YML_SCALAR) {
      entry_fail(c, e, k, "a key must be text, not %s", yml_kind_name(k));
      continue;
    }
    int j = 0;
    while (j < K_COUNT && strcmp(k->s, k_entry_keys[j])) j++;
    if (j == K_COUNT) {
      entry_fail(c, e, k, "unknown key '%s' (allowed: " ENTRY_KEYS ")", show(k->s, b, sizeof b));
    } else if (key[j]) {
      entry_fail(c, e, k, "duplicate key '%s' (also at line %d)", k_entry_keys[j], key[j]->line);
    } else {
      key[j] = k;
      val[j] = m->kid[i + 1];
    }
  }

  const yn *t;
  if ((t = text_of(c, e, "name", key[K_NAME], val[K_NAME], true))) {
    if (!(e->name = str_dup(c, t->s))) return;
    if (!valid_name(t->s))
      entry_fail(c, e, t,
                 "bad plugin name '%s': use 1 to %d of a-z, 0-9, '_' and '-', starting with a letter or digit "
                 "(it is the command `sonde NAME`)",
                 show(t->s, b, sizeof b), IDX_MAX_NAME);
  }
  if ((t = text_of(c, e, "file", key[K_FILE], val[K_FILE], true))) {
    if (!(e->file = str_dup(c, t->s))) return;
    if (!t->len)
      entry_fail(c, e, t, "'file' is empty: give the .so file, relative to the plugin directory");
    else if (has_control(t->s))
      entry_fail(c, e, t, "'file' holds a control character");
  }
  if ((t = text_of(c, e, "version", key[K_VERSION], val[K_VERSION], true))) {
    if (!(e->version = str_dup(c, t->s))) return;
    bool ok = t->len >= 1 && t->len <= IDX_MAX_VERSION;
    for (size_t i = 0; ok && i < t->len; i++) ok = (unsigned char)t->s[i] > ' ' && t->s[i] != 0x7f;
    if (!ok)
      entry_fail(c, e, t, "'version' must be 1 to %d characters without whitespace, like 1.0.0; got \"%s\"",
                 IDX_MAX_VERSION, show(t->s, b, sizeof b));
  }
  if ((t = text_of(c, e, "abi", key[K_ABI], val[K_ABI], true)) && !parse_abi(t->s, &e->abi_major, &e->abi_minor))
    entry_fail(c, e, t, "'abi' must be the plugin ABI version as MAJOR.MINOR, like \"1.0\"; got \"%s\"",
               show(t->s, b, sizeof b));
  if ((t = text_of(c, e, "sha256", key[K_SHA256], val[K_SHA256], true))) {
    if (!(e->sha256 = str_dup(c, t->s))) return;
    bool ok = t->len == 64;
    for (size_t i = 0; ok && i < t->len; i++)
      ok = (t->s[i] >= '0' && t->s[i] <= '9') || (t->s[i] >= 'a' && t->s[i] <= 'f');
    if (!ok)
      entry_fail(c, e, t,
                 "'sha256' must be the 64 lowercase hex digits that `sha256sum FILE` prints; got \"%s\" (%zu "
                 "characters)",
                 show(t->s, b, sizeof b), t->len);
  }
  if ((t = text_of(c, e, "description", key[K_DESCRIPTION], val[K_DESCRIPTION], false))) {
    if (!(e->description = str_dup(c, t->s))) return;
    size_t chars = 0;
    for (size_t i = 0; i < t->len; i++) chars += ((unsigned char)t->s[i] & 0xC0) != 0x80;
    if (has_control(t->s))
      entry_fail(c, e, t, "'description' must be one line without control characters");
    else if (chars > IDX_MAX_DESCRIPTION)
      entry_fail(c, e, t, "'description' is %zu characters long, more than %d", chars, IDX_MAX_DESCRIPTION);
  }
  if (val[K_COMPAT]) check_compat(c, e, val[K_COMPAT]);

  static const int required[] = {K_NAME, K_FILE, K_VERSION, K_ABI, K_SHA256};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!key[required[i]]) entry_fail(c, e, m, "missing required key '%s'", k_entry_keys[required[i]]);
}

static void entry_free(idx_entry *e) {
  free(e->name);
  free(e->file);
  free(e->version);
  free(e->description);
  free(e->sha256);
  free(e->go_text);
  free(e->kernel_text);
  free(e->host_text);
  free(e->error);
}

void idx_free(idx_index *ix) {
  if (!ix) return;
  for (size_t i = 0; i < ix->n; i++) entry_free(&ix->e[i]);
  free(ix->e);
  free(ix->path);
  memset(ix, 0, sizeof *ix);
}

/* Checks the top level and every entry of the tree into out. */
static int check_index(const char *path, const yn *root, idx_index *out) {
  char b[64];
  if (root->kind != YML_MAP)
    return fail_at(path, root->line, root->col,
                   "the plugin index must be a mapping with \"schema: %d\" and \"plugins:\", not %s", IDX_SCHEMA,
                   yml_kind_name(root));
  const yn *schema_k = NULL, *schema = NULL, *plugins_k = NULL, *plugins = NULL;
  for (size_t i = 0; i + 1 < root->n; i += 2) {
    const yn *k = root->kid[i], *v = root->kid[i + 1];
    if (k->kind != YML_SCALAR)
      return fail_at(path, k->line, k->col, "a top-level key must be text, not %s", yml_kind_name(k));
    const yn **kp = !strcmp(k->s, "schema") ? &schema_k : !strcmp(k->s, "plugins") ? &plugins_k : NULL;
    if (!kp)
      return fail_at(path, k->line, k->col, "unknown top-level key '%s' (allowed: schema, plugins)",
                     show(k->s, b, sizeof b));
    if (*kp) return fail_at(path, k->line, k->col, "duplicate top-level key '%s' (also at line %d)", k->s, (*kp)->line);
    *kp = k;
    if (kp == &schema_k)
      schema = v;
    else
      plugins = v;
  }
  if (!schema)
    return fail_at(path, root->line, root->col, "missing \"schema: %d\" (the version of this file's format)",
                   IDX_SCHEMA);
  if (schema->kind != YML_SCALAR || strcmp(schema->s, "1"))
    return fail_at(path, schema->line, schema->col, "unsupported schema \"%s\": this sonde reads schema %d",
                   schema->kind == YML_SCALAR ? show(schema->s, b, sizeof b) : yml_kind_name(schema), IDX_SCHEMA);
  size_t n = 0;
  if (plugins && !yml_is_null(plugins)) {
    if (plugins->kind != YML_SEQ)
      return fail_at(path, plugins->line, plugins->col,
                     "'plugins' must be a sequence of plugin entries (\"- name: ...\"), not %s", yml_kind_name(plugins));
    n = plugins->n;
    if (n > IDX_MAX_PLUGINS)
      return fail_at(path, plugins->kid[IDX_MAX_PLUGINS]->line, plugins->kid[IDX_MAX_PLUGINS]->col,
                     "more than %d plugins", IDX_MAX_PLUGINS);
  }

  check c = {path, NULL, 0};
  if (!(out->path = str_dup(&c, path)) || !(out->e = calloc(n ? n : 1, sizeof *out->e))) return nomem(path);
  out->n = n;
  for (size_t i = 0; i < n && !c.rc; i++) check_entry(&c, plugins->kid[i], &out->e[i]);
  /* The same name twice: both refused, since which was meant is unknown. */
  for (size_t i = 0; i < n && !c.rc; i++) {
    idx_entry *e = &out->e[i];
    if (e->error || !e->name || !valid_name(e->name)) continue;
    for (size_t j = 0; j < n; j++) {
      if (j == i || !out->e[j].name || strcmp(out->e[j].name, e->name)) continue;
      c.plugin = NULL;
      entry_fail(&c, e, plugins->kid[i], "duplicate plugin name '%s' (also at line %d): remove or rename one", e->name,
                 out->e[j].line);
      break;
    }
  }
  return c.rc ? nomem(path) : 0;
}

int idx_load_buffer(const char *name, const char *buf, size_t len, idx_index *out) {
  memset(out, 0, sizeof *out);
  if (!name) name = "(plugin index)";
  if (!buf) {
    buf = "";
    len = 0;
  }
  if (len > IDX_MAX_FILE)
    return se_set(SE_CONFIG, "%s: the plugin index is %zu bytes, larger than the limit of %d (1 MiB)", name, len,
                  IDX_MAX_FILE);
  yn *root;
  int rc = tree_build(name, buf, len, &root);
  if (rc) return rc;
  rc = check_index(name, root, out);
  yml_free(root);
  if (rc) idx_free(out);
  return rc;
}

/* Opened once; the trust check (base/file.h) and the read use the same
 * descriptor. */
static int load_file(const char *path, const bf_trust *t, idx_index *out) {
  memset(out, 0, sizeof *out);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return se_set(SE_IO, "cannot open the plugin index %s: %s", path, strerror(errno));
  struct stat st;
  char *buf = NULL;
  size_t len = 0;
  int rc = 0, e = fstat(fd, &st) ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
  if (!e && S_ISREG(st.st_mode) && st.st_size > IDX_MAX_FILE)
    rc = se_set(SE_CONFIG, "%s: the plugin index is %lld bytes, larger than the limit of %d (1 MiB)", path,
                (long long)st.st_size, IDX_MAX_FILE);
  else if (!e && t) rc = bf_check_trusted(fd, path, &st, t);
  if (!rc && !e) e = bf_read_fd(fd, IDX_MAX_FILE, &buf, &len);
  close(fd);
  if (!rc && e) rc = se_set(SE_IO, "cannot read the plugin index %s: %s", path, strerror(e));
  if (!rc) rc = idx_load_buffer(path, buf, len, out);
  free(buf);
  return rc;
}

int idx_load_file(const char *path, idx_index *out) { return load_file(path, NULL, out); }

int idx_load_trusted(const char *path, const bf_trust *t, idx_index *out) { return load_file(path, t, out); }

const idx_entry *idx_find(const idx_index *ix, const char *name) {
  if (!ix || !name) return NULL;
  for (size_t i = 0; i < ix->n; i++)
    if (ix->e[i].name && !strcmp(ix->e[i].name, name)) return &ix->e[i];
  return NULL;
}

/* ---- the verdict -------------------------------------------------------- */

static bool refuse(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool refuse(char *why, size_t n, const char *fmt, ...) {
  if (why && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
  }
  return false;
}

bool idx_verdict(const idx_entry *e, const idx_env *env, char *why, size_t n) {
  char have[40];
  if (e->error) return refuse(why, n, "%s", e->error);
  if (e->abi_major != env->abi_major)
    return refuse(why, n,
                  "built for plugin ABI %u.%u, this sonde speaks %u.%u: rebuild the plugin against this sonde's SDK",
                  e->abi_major, e->abi_minor, env->abi_major, env->abi_minor);
  if (e->abi_minor > env->abi_minor)
    return refuse(why, n, "built for plugin ABI %u.%u, newer than this sonde's %u.%u: upgrade sonde", e->abi_major,
                  e->abi_minor, env->abi_major, env->abi_minor);
  if (!rng_contains(&e->host, &env->host)) {
    rng_version_format(&env->host, true, have, sizeof have);
    return refuse(why, n, "needs sonde %s; this is %s", e->host_text ? e->host_text : "*", have);
  }
  if (!rng_contains(&e->kernel, &env->kernel)) {
    rng_version_format(&env->kernel, true, have, sizeof have);
    return refuse(why, n, "needs Linux kernel %s; this one is %s", e->kernel_text ? e->kernel_text : "*", have);
  }
  if (env->have_go && !rng_contains(&e->go, &env->go)) {
    rng_version_format(&env->go, false, have, sizeof have);
    return refuse(why, n, "needs Go %s; the target runs go%s", e->go_text ? e->go_text : "*", have);
  }
  if (why && n) why[0] = '\0';
  return true;
}
