/* json.c: behind json.h. */
#include "base/json.h"
#include "base/text.h"

#include <string.h>

void json_init(json_w *w, strbuf *out) {
  memset(w, 0, sizeof *w);
  w->out = out;
}

static void before_value(json_w *w) {
  if (w->after_key) {
    w->after_key = false;
    return;
  }
  if (w->depth > 0 && w->depth <= JSON_MAX_DEPTH) {
    if (w->need_comma[w->depth - 1]) sb_putc(w->out, ',');
    w->need_comma[w->depth - 1] = true;
  }
}

static void open_(json_w *w, char c) {
  before_value(w);
  sb_putc(w->out, c);
  if (w->depth < JSON_MAX_DEPTH) w->need_comma[w->depth] = false;
  w->depth++;
}

static void close_(json_w *w, char c) {
  if (w->depth > 0) w->depth--;
  sb_putc(w->out, c);
}

void json_obj_begin(json_w *w) { open_(w, '{'); }
void json_obj_end(json_w *w) { close_(w, '}'); }
void json_arr_begin(json_w *w) { open_(w, '['); }
void json_arr_end(json_w *w) { close_(w, ']'); }

void json_strn(json_w *w, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  before_value(w);
  sb_putc(w->out, '"');
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      sb_putn(w->out, esc, 2);
      i++;
    } else if (c < 0x20) {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      sb_putn(w->out, esc, 6);
      i++;
    } else {
      size_t len = sonde_utf8_len(p + i, n - i);
      if (len == 0) {
        sb_puts(w->out, "\xef\xbf\xbd");
        i++;
      } else {
        sb_putn(w->out, s + i, len);
        i += len;
      }
    }
  }
  sb_putc(w->out, '"');
}

void json_str(json_w *w, const char *s) {
  if (!s) json_null(w);
  else json_strn(w, s, strlen(s));
}

void json_key(json_w *w, const char *key) {
  json_str(w, key);
  sb_putc(w->out, ':');
  w->after_key = true;
}

void json_u64(json_w *w, uint64_t v) {
  before_value(w);
  sb_put_u64(w->out, v);
}

void json_i64(json_w *w, int64_t v) {
  before_value(w);
  if (v < 0) {
    sb_putc(w->out, '-');
    sb_put_u64(w->out, (uint64_t)0 - (uint64_t)v);
  } else {
    sb_put_u64(w->out, (uint64_t)v);
  }
}

void json_bool(json_w *w, bool v) {
  before_value(w);
  sb_puts(w->out, v ? "true" : "false");
}

void json_null(json_w *w) {
  before_value(w);
  sb_puts(w->out, "null");
}
