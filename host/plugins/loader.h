/* loader.h: checking, loading and calling plugins.
 *
 * A plugin file is opened once, and every check (owner and permissions of
 * the file and of each directory above it, sha256 against the index, the
 * ELF note with its name and ABI) reads that one open file. dlopen then
 * loads the same inode through /proc/PID/fd/N, so the file cannot be
 * swapped between the checks and the load. No plugin code runs before the
 * checks pass (dlopen runs constructors). Every call into a plugin goes
 * through a guard: a crash inside it disables that plugin, not sonde. */
#ifndef SONDE_PLUGINS_LOADER_H
#define SONDE_PLUGINS_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <sonde/plugin.h>

#include "goruntime/goroutines.h"
#include "goruntime/heap.h"
#include "goruntime/reach.h"
#include "goruntime/waits.h"
#include "goruntime/runtime.h"
#include "goruntime/symbolize.h"
#include "plugins/config.h"
#include "target/mem.h"

/* What a plugin's note says, read from the file without running it. */
typedef struct {
  uint32_t abi_version;
  char name[SONDE_NOTE_PLUGIN_NAME_MAX + 1];
  char version[SONDE_NOTE_PLUGIN_VERSION_MAX + 1];
} plg_note;

typedef struct plg_plugin plg_plugin;

/* What a session that stays attached (`sonde attach`) offers plugins: a
 * goroutine snapshot taken when first asked for during a stop, and
 * breakpoints. NULL members answer SONDE_ENOTSUP. */
typedef struct {
  void *ctx;
  /* The goroutines now; NULL with an error set when there is no stop to
   * take them in. Valid until the target runs again. */
  gr_snapshot *(*snapshot)(void *ctx);
  /* The goroutine at the current hit alone (gr_snapshot_one); NULL outside
   * a hit. Valid until the target runs again. */
  gr_snapshot *(*hit_snapshot)(void *ctx);
  /* The Go heap now, with types and residency; NULL with an error set when
   * it cannot be read. Valid until the target runs again. */
  gr_heap *(*heap)(void *ctx);
  int (*breakpoint_set)(void *ctx, plg_plugin *p, const char *location, uint64_t *id);
  int (*breakpoint_clear)(void *ctx, plg_plugin *p, uint64_t id);
  /* Runs p's command (with its arguments, one string) every interval_ms,
   * as --every does. */
  int (*every)(void *ctx, plg_plugin *p, uint64_t interval_ms, const char *command);
} plg_session_ops;

/* The target as plugins see it: a snapshot taken while it was stopped,
 * and its memory as it runs now. */
typedef struct {
  pid_t pid;
  const char *exe, *kernel;
  gr_program *prog;
  gr_snapshot *snap;   /* NULL until a session takes one */
  gr_heap *heap;       /* read during the stop (SONDE_CMD_NEEDS_HEAP), else NULL */
  gr_waits *waits;     /* read during the stop (SONDE_CMD_NEEDS_WAITS), else NULL */
  gr_reach *reach;     /* computed during the stop (SONDE_CMD_NEEDS_LEAKS), else NULL */
  uint64_t reach_ns;   /* how long that took */
  uint64_t stop_ns;    /* how long the command's stop lasted */
  /* A one-shot command's heap_refresh: stops the process again and rereads
   * *heap. NULL in a session (the session's heap op serves). */
  int (*reread_heap)(void *ctx);
  void *reread_ctx;
  uint64_t snap_gen;   /* changes whenever snap is replaced */
  uint64_t hit_gen;    /* changes at every hit */
  tgt_mem *mem;
  const plg_session_ops *session; /* NULL for a one-shot command */
} plg_target;

/* The handle a plugin passes back to every service. */
struct sonde_host {
  plg_plugin *p;
};

struct plg_plugin {
  struct sonde_host handle;
  char name[SONDE_NOTE_PLUGIN_NAME_MAX + 1];
  int fd;   /* the checked file, kept open until unload */
  void *dl;
  const sonde_plugin *desc;
  void *state;
  bool loaded;   /* on_load succeeded: on_unload is due */
  bool attached; /* on_attach succeeded: on_detach is due */
  bool disabled; /* crashed or failed: never called again */
  bool crashed;
  /* set by the caller */
  const cfg_config *cfg;
  plg_target *target;
  FILE *out;
  const char *output_dir;
  /* services' state */
  char **strings;    /* symbolize's printed names handed to the plugin */
  size_t nstrings;
  char err[1024];      /* the plugin's own message (api->fail) */
  char last_err[1024]; /* why its last failed service call failed (api->last_error) */
  bool in_run;         /* inside a command's run: report_found is allowed */
  bool found;          /* the run called report_found */
};

/* Copies the first min(dst's struct_size, n) bytes of src (a complete
 * struct of this host's, n bytes) to dst and sets dst's struct_size to
 * what it copied (ABI 1.5). SONDE_EINVAL when dst's struct_size is below 4. */
int plg_fill_sized(void *dst, const void *src, size_t n);

/* The file checks, in order; each refusal is SE_PLUGIN with a message.
 * want_sha256 may be NULL (no index entry: `sonde index update`).
 * allow_unsafe turns a permission refusal into a warning. On success *fd is
 * the open file (O_RDONLY|O_CLOEXEC), note holds its ELF note and sha256
 * (when not NULL) its digest. */
int plg_check_file(const char *path, const char *want_sha256, bool allow_unsafe,
                   void (*warn)(void *payload, const char *msg), void *payload, int *fd, plg_note *note,
                   char sha256[65]);

/* dlopen's the checked file (fd and note from plg_check_file; p owns fd
 * from here on), finds the entry, checks the descriptor against the note
 * and this host's ABI, and runs on_load. `name` is the index entry's name. */
int plg_load(plg_plugin *p, const char *name, int fd, const plg_note *note, const cfg_config *cfg);
/* on_attach / on_detach with p->target set by the caller. */
int plg_attach(plg_plugin *p);
int plg_detach(plg_plugin *p);
/* The command's descriptor, NULL when the plugin has none by that name. */
/* on_state_change / on_breakpoint_hit; 0 when the plugin has no such hook
 * or is disabled. An error or crash disables the plugin (SE_PLUGIN). */
int plg_state_change(plg_plugin *p, sonde_state from, sonde_state to, sonde_reason why);
int plg_breakpoint_hit(plg_plugin *p, const sonde_breakpoint_hit *hit);
const sonde_command *plg_command(const plg_plugin *p, const char *name);
const sonde_command *plg_command_at(const plg_plugin *p, uint32_t i);
/* 0, PLG_FOUND when the command found what it checks for (it called
 * report_found, or, as ABI 1.4 plugins do, returned SONDE_FOUND), or an
 * error. */
enum { PLG_FOUND = 1 };
int plg_run(plg_plugin *p, const sonde_command *c, int argc, char **argv);
/* on_unload, then dlclose (not after a crash: its code may be broken). */
void plg_unload(plg_plugin *p);

/* The services table handed to on_load (services.c). */
const sonde_host_api *plg_host_api(void);
/* Frees what the services allocated for p (symbolizer, strings). */
void plg_services_reset(plg_plugin *p);

#endif
