/* json.h: a small streaming JSON writer on top of strbuf.
 *
 * The writer tracks only whether a comma is due at each nesting level; it
 * does not validate structure (callers are few and tested). Strings are
 * escaped per RFC 8259; invalid UTF-8 bytes are replaced by U+FFFD so that
 * bytes read from a target can never produce an unparsable document. */
#ifndef SONDE_BASE_JSON_H
#define SONDE_BASE_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "base/strbuf.h"

enum { JSON_MAX_DEPTH = 32 };

typedef struct {
  strbuf *out;
  int depth;
  bool need_comma[JSON_MAX_DEPTH];
  bool after_key;
} json_w;

void json_init(json_w *w, strbuf *out);
void json_obj_begin(json_w *w);
void json_obj_end(json_w *w);
void json_arr_begin(json_w *w);
void json_arr_end(json_w *w);
void json_key(json_w *w, const char *key);
void json_str(json_w *w, const char *s);
void json_strn(json_w *w, const char *s, size_t n);
void json_u64(json_w *w, uint64_t v);
void json_i64(json_w *w, int64_t v);
void json_bool(json_w *w, bool v);
void json_null(json_w *w);

#endif
