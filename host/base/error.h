/* error.h: sonde's error codes and the thread-local "last error" message.
 *
 * Every fallible function returns 0 or a negative SE_* code and, on failure,
 * leaves a message for the user in se_msg(). Codes and their exit statuses come
 * from one X-macro list so that the enum, the names and the documented exit
 * codes (README "Exit codes") can never drift apart. */
#ifndef SONDE_BASE_ERROR_H
#define SONDE_BASE_ERROR_H

#include <stdarg.h>

/* X(name, exit status, short description) */
#define SE_ERRORS(X)                                                        \
  X(SE_OK,          0, "success")                                           \
  X(SE_ERR,         1, "internal error")                                    \
  X(SE_USAGE,       2, "bad command line")                                  \
  X(SE_NOPROC,      3, "no such process")                                   \
  X(SE_PERM,        4, "permission denied")                                 \
  X(SE_NOTGO,       5, "not a Go program, or unsupported Go version")       \
  X(SE_TRACED,      6, "already traced by another debugger")                \
  X(SE_EXITED,      7, "the process exited while sonde was reading it")     \
  X(SE_CORRUPT,     8, "unexpected or corrupt data in the target")          \
  X(SE_IO,          9, "cannot read a file")                                \
  X(SE_NOMEM,      10, "out of memory")                                   \
  X(SE_CONFIG,     11, "malformed configuration or plugin index")          \
  X(SE_PLUGIN,     12, "a plugin was refused, or failed")

typedef enum {
#define SE_ENUM_(name, status, desc) name##_IDX_,
  SE_ERRORS(SE_ENUM_)
#undef SE_ENUM_
  SE_COUNT_
} se_index;

/* Error codes are the negated indexes: SE_OK == 0, failures < 0. */
#define SE_CODE_(name, status, desc) enum { name = -(int)name##_IDX_ };
SE_ERRORS(SE_CODE_)
#undef SE_CODE_

/* Records code and a printf-style message for the caller; returns code. */
int se_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends context to the current message ("reading allgs: " + old). */
int se_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *se_msg(void);
int se_code(void);
void se_clear(void);
/* The process exit status documented for a code (0..12). */
int se_exit_status(int code);
const char *se_name(int code);
const char *se_desc(int code);

/* The two exit statuses that are not errors: a command worked and found
 * what it checks for (a plugin command returned SONDE_FOUND: goroutine-graph
 * leaks); the output was closed (a pipe whose reader quit, as `| head`
 * does): sonde stopped cleanly, the target let go (session/signals.h). */
enum { SE_EXIT_FOUND = 13, SE_EXIT_CLOSED = 14 };

/* Keeping an error across cleanup: code that runs after a failure (detach,
 * release, a plugin's hook) may set errors of its own; se_keep saves the
 * failure, se_restore puts it back and returns its code.
 *   se_kept k; se_keep(&k); tgt_detach(s); return se_restore(&k); */
typedef struct {
  int code;
  char msg[1024];
} se_kept;
void se_keep(se_kept *k);
int se_restore(const se_kept *k);

#endif
