/* yaml.h: the one YAML reader for files sonde is handed (the plugin index,
 * the layout tables): libyaml's event API into a small tree, under limits
 * that hold while parsing.
 *
 * Not the document API: it expands aliases before the caller can look (a
 * "billion laughs" costs memory exponential in the file's size). Here an
 * anchor or alias is refused where it appears, and depth, node count and
 * scalar length are checked per event, so no input costs more than O(its
 * size). One document per file; a NUL byte anywhere is refused. Every
 * message starts "PATH:LINE:COL: " (1-based; the column in bytes). */
#ifndef SONDE_BASE_YAML_H
#define SONDE_BASE_YAML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum { YML_MAX_DEPTH_LIMIT = 64 }; /* the deepest a caller may allow */

typedef enum { YML_SCALAR, YML_SEQ, YML_MAP } yml_kind;

typedef struct yml_node yml_node;
struct yml_node {
  yml_kind kind;
  int line, col; /* 1-based */
  bool plain;    /* a plain (unquoted) scalar: may be null */
  char *s;       /* scalars: the text, NUL-terminated, no NUL inside */
  size_t len;
  yml_node **kid; /* sequences: items; mappings: key, value, key, value, ... */
  size_t n, cap;
};

typedef struct {
  const char *what;     /* what the file is, in messages: "the plugin index" */
  int code;             /* the SE_* code for input that breaks a rule */
  size_t max_depth;     /* nested sequences and mappings, at most YML_MAX_DEPTH_LIMIT */
  size_t max_nodes;     /* scalars, sequences and mappings */
  size_t max_scalar;    /* bytes of one scalar */
  const char *depth_hint; /* appended to the depth message ("a valid index uses 4"), or NULL */
} yml_limits;

/* Parses buf (len bytes) into *out; *out stays NULL for an empty file.
 * 0, or lim->code (SE_NOMEM when memory runs out) with the message set. */
int yml_parse(const char *path, const char *buf, size_t len, const yml_limits *lim, yml_node **out);
void yml_free(yml_node *y);

/* YAML's null: an empty value ("key:"), "~" or "null", unquoted. */
bool yml_is_null(const yml_node *y);
/* "text", "a sequence" or "a mapping", for messages. */
const char *yml_kind_name(const yml_node *y);
/* The value of text key `key` in mapping m; NULL when m is no mapping or
 * has no such key. */
const yml_node *yml_get(const yml_node *m, const char *key);
/* The same, when that value is text: its string, else NULL. */
const char *yml_text(const yml_node *m, const char *key);
/* se_set(code, "PATH:LINE:COL: MESSAGE"). */
int yml_fail_at(const char *path, int code, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int yml_vfail_at(const char *path, int code, int line, int col, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

#endif
