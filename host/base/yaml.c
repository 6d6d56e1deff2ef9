/* yaml.c: YAML into a small tree under limits (yaml.h). */
#include "base/yaml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/error.h"

void yml_free(yml_node *y) {
  if (!y) return;
  for (size_t i = 0; i < y->n; i++) yml_free(y->kid[i]); /* depth <= max_depth <= YML_MAX_DEPTH_LIMIT */
  free(y->kid);
  free(y->s);
  free(y);
}

const char *yml_kind_name(const yml_node *y) {
  return y->kind == YML_SEQ ? "a sequence" : y->kind == YML_MAP ? "a mapping" : "text";
}

bool yml_is_null(const yml_node *y) {
  return y->kind == YML_SCALAR && y->plain &&
         (!y->len || !strcmp(y->s, "~") || !strcmp(y->s, "null") || !strcmp(y->s, "Null") || !strcmp(y->s, "NULL"));
}

const yml_node *yml_get(const yml_node *m, const char *key) {
  if (!m || m->kind != YML_MAP) return NULL;
  for (size_t i = 0; i + 1 < m->n; i += 2)
    if (m->kid[i]->kind == YML_SCALAR && !strcmp(m->kid[i]->s, key)) return m->kid[i + 1];
  return NULL;
}

const char *yml_text(const yml_node *m, const char *key) {
  const yml_node *v = yml_get(m, key);
  return v && v->kind == YML_SCALAR ? v->s : NULL;
}

int yml_vfail_at(const char *path, int code, int line, int col, const char *fmt, va_list ap) {
  char msg[768];
  vsnprintf(msg, sizeof msg, fmt, ap);
  return se_set(code, "%s:%d:%d: %s", path, line, col, msg);
}

int yml_fail_at(const char *path, int code, int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = yml_vfail_at(path, code, line, col, fmt, ap);
  va_end(ap);
  return rc;
}

/* 1-based line and column (in bytes) of byte offset off of buf. */
static void pos_of_offset(const char *buf, size_t len, size_t off, int *line, int *col) {
  int l = 1, c = 1;
  for (size_t i = 0; i < off && i < len; i++) {
    if (buf[i] == '\n') {
      l++;
      c = 1;
    } else if (c < INT32_MAX) {
      c++;
    }
  }
  *line = l;
  *col = c;
}

static int mark_line(yaml_mark_t m) { return m.line < INT32_MAX ? (int)m.line + 1 : INT32_MAX; }
static int mark_col(yaml_mark_t m) { return m.column < INT32_MAX ? (int)m.column + 1 : INT32_MAX; }

static int nomem(const char *path, const yml_limits *lim) {
  return se_set(SE_NOMEM, "%s: out of memory reading %s", path, lim->what);
}

static int parse_fail(const char *path, const yaml_parser_t *ps, const char *buf, size_t len, const yml_limits *lim) {
  const char *problem = ps->problem ? ps->problem : "unknown error";
  if (ps->error == YAML_MEMORY_ERROR) return nomem(path, lim);
  if (ps->error == YAML_READER_ERROR) { /* the reader has no line/column, only a byte offset */
    int line, col;
    pos_of_offset(buf, len, ps->problem_offset, &line, &col);
    return yml_fail_at(path, lim->code, line, col, "not valid YAML: %s (%s must be UTF-8 text)", problem, lim->what);
  }
  int line = mark_line(ps->problem_mark), col = mark_col(ps->problem_mark);
  if (ps->context)
    return yml_fail_at(path, lim->code, line, col, "not valid YAML: %s (%s at %d:%d)", problem, ps->context,
                       mark_line(ps->context_mark), mark_col(ps->context_mark));
  return yml_fail_at(path, lim->code, line, col, "not valid YAML: %s", problem);
}

/* Adds a node for ev under the innermost open collection (or as the root). */
static int tree_add(const char *path, const yml_limits *lim, const yaml_event_t *ev, yml_node **root,
                    yml_node **stack, size_t depth, yml_node **out) {
  yml_node *y = calloc(1, sizeof *y);
  if (!y) return nomem(path, lim);
  y->line = mark_line(ev->start_mark);
  y->col = mark_col(ev->start_mark);
  if (ev->type == YAML_SCALAR_EVENT) {
    y->kind = YML_SCALAR;
    y->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    y->len = ev->data.scalar.length;
    y->s = malloc(y->len + 1);
    if (!y->s) {
      free(y);
      return nomem(path, lim);
    }
    memcpy(y->s, ev->data.scalar.value, y->len);
    y->s[y->len] = '\0';
  } else {
    y->kind = ev->type == YAML_SEQUENCE_START_EVENT ? YML_SEQ : YML_MAP;
  }
  if (!depth) {
    *root = y;
  } else {
    yml_node *p = stack[depth - 1];
    if (p->n == p->cap) {
      size_t cap = p->cap ? p->cap * 2 : 8;
      yml_node **k = realloc(p->kid, cap * sizeof *k);
      if (!k) {
        yml_free(y);
        return nomem(path, lim);
      }
      p->kid = k;
      p->cap = cap;
    }
    p->kid[p->n++] = y;
  }
  *out = y;
  return 0;
}

/* One node's event, checked against the limits first. */
static int on_node(const char *path, const yml_limits *lim, const yaml_event_t *ev, yml_node **root,
                   yml_node **stack, size_t *depth, size_t *nodes) {
  int line = mark_line(ev->start_mark), col = mark_col(ev->start_mark), code = lim->code;
  const yaml_char_t *anchor = ev->type == YAML_SCALAR_EVENT           ? ev->data.scalar.anchor
                              : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                                                                      : ev->data.mapping_start.anchor;
  if (anchor) return yml_fail_at(path, code, line, col, "anchors and aliases are not allowed in %s", lim->what);
  if (++*nodes > lim->max_nodes)
    return yml_fail_at(path, code, line, col, "more than %zu YAML values: too large for %s", lim->max_nodes, lim->what);
  if (ev->type == YAML_SCALAR_EVENT) {
    if (ev->data.scalar.length > lim->max_scalar)
      return yml_fail_at(path, code, line, col, "a value of %zu bytes, longer than the %zu-byte limit",
                         ev->data.scalar.length, lim->max_scalar);
    if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
      return yml_fail_at(path, code, line, col, "a value holds a NUL byte (\"\\0\"), which no field allows");
  } else if (*depth == lim->max_depth) {
    return yml_fail_at(path, code, line, col, "nested deeper than %zu levels%s%s%s", lim->max_depth,
                       lim->depth_hint ? " (" : "", lim->depth_hint ? lim->depth_hint : "", lim->depth_hint ? ")" : "");
  }
  yml_node *y = NULL;
  int rc = tree_add(path, lim, ev, root, stack, *depth, &y);
  if (rc == 0 && ev->type != YAML_SCALAR_EVENT) stack[(*depth)++] = y;
  return rc;
}

int yml_parse(const char *path, const char *buf, size_t len, const yml_limits *lim, yml_node **out) {
  *out = NULL;
  if (lim->max_depth > YML_MAX_DEPTH_LIMIT) return se_set(SE_ERR, "yml_parse: a depth limit over %d", YML_MAX_DEPTH_LIMIT);
  const char *nul = memchr(buf, '\0', len);
  if (nul) {
    int line, col;
    pos_of_offset(buf, len, (size_t)(nul - buf), &line, &col);
    return yml_fail_at(path, lim->code, line, col, "NUL byte in %s (it must be UTF-8 text)", lim->what);
  }
  yaml_parser_t ps;
  if (!yaml_parser_initialize(&ps)) return nomem(path, lim);
  yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
  yml_node *root = NULL, *stack[YML_MAX_DEPTH_LIMIT];
  size_t depth = 0, nodes = 0;
  int docs = 0, rc = 0;
  for (bool done = false; !done && !rc;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&ps, &ev)) {
      rc = parse_fail(path, &ps, buf, len, lim);
      break;
    }
    int line = mark_line(ev.start_mark), col = mark_col(ev.start_mark);
    switch (ev.type) {
      case YAML_STREAM_END_EVENT: done = true; break;
      case YAML_DOCUMENT_START_EVENT:
        if (++docs > 1) rc = yml_fail_at(path, lim->code, line, col, "a second YAML document: %s is one document", lim->what);
        break;
      case YAML_ALIAS_EVENT:
        rc = yml_fail_at(path, lim->code, line, col, "aliases are not allowed in %s (write the value out)", lim->what);
        break;
      case YAML_SCALAR_EVENT:
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: rc = on_node(path, lim, &ev, &root, stack, &depth, &nodes); break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        if (depth) depth--;
        break;
      default: break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&ps);
  if (rc) {
    yml_free(root);
    return rc;
  }
  *out = root;
  return 0;
}
