/* error.c: the thread-local last-error message behind error.h. */
#include "base/error.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char g_msg[1024];
static _Thread_local int g_code;

static const struct {
  const char *name;
  int status;
  const char *desc;
} k_errors[] = {
#define SE_ROW_(name, status, desc) {#name, status, desc},
    SE_ERRORS(SE_ROW_)
#undef SE_ROW_
};

static int index_of(int code) {
  int i = -code;
  return (i >= 0 && i < (int)SE_COUNT_) ? i : (int)(-SE_ERR);
}

int se_set(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_msg, sizeof g_msg, fmt, ap);
  va_end(ap);
  g_code = code;
  return code;
}

int se_wrap(int code, const char *fmt, ...) {
  char prefix[512], old[sizeof g_msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, g_msg, sizeof old);
  /* prefix + ": " + old message, cut to fit */
  size_t pl = strnlen(prefix, sizeof prefix), ol = strnlen(old, sizeof old - 1);
  size_t at = 0;
  for (const char *parts[] = {prefix, ": ", old}, **q = parts; q < parts + 3; q++) {
    size_t len = *q == prefix ? pl : *q == old ? ol : 2;
    if (len > sizeof g_msg - 1 - at) len = sizeof g_msg - 1 - at;
    memcpy(g_msg + at, *q, len);
    at += len;
  }
  g_msg[at] = '\0';
  g_code = code;
  return code;
}

const char *se_msg(void) { return g_msg[0] ? g_msg : se_desc(g_code); }
int se_code(void) { return g_code; }
void se_keep(se_kept *k) {
  k->code = g_code;
  memcpy(k->msg, g_msg, sizeof k->msg);
}

int se_restore(const se_kept *k) {
  memcpy(g_msg, k->msg, sizeof g_msg);
  g_msg[sizeof g_msg - 1] = '\0';
  g_code = k->code;
  return k->code;
}

void se_clear(void) {
  g_msg[0] = '\0';
  g_code = SE_OK;
}
int se_exit_status(int code) { return k_errors[index_of(code)].status; }
const char *se_name(int code) { return k_errors[index_of(code)].name; }
const char *se_desc(int code) { return k_errors[index_of(code)].desc; }
