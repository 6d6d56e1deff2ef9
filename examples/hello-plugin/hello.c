/* hello.c: the example sonde plugin, and the template for a team's own.
 *
 * Every piece a plugin needs, in the order the host meets them: the ELF note
 * (read from the file before anything runs), the descriptor returned by the
 * one exported function, the hooks (on_load reads [hello] greeting from
 * sonde.ini and keeps state; on_attach / on_detach bracket the target), and
 * two commands:
 *   sonde hello greet [NAME]                      no target needed
 *   sonde hello waits -p PID [--json] [--save NAME]  goroutines per wait reason
 * Build it with the Makefile beside it; docs/writing-plugins.md walks through
 * it. The plugin includes only <sonde/plugin.h> and the C library. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/plugin.h>


/* printf-style checking of our own helpers (a GNU attribute, as in plugin.h). */
#if defined(__GNUC__)
#define HELLO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define HELLO_PRINTF(fmt, args)
#endif

/* ---- the note ---------------------------------------------------------------
 * Name, version and ABI, placed in an ELF note that the host reads from the
 * file before dlopen (which would run code) and that `sonde index update`
 * copies into the index. Exactly once per plugin; the same name and version
 * as the descriptor below. */
SONDE_PLUGIN_NOTE("hello", "1.0.0");

/* ---- state ------------------------------------------------------------------
 * Created by on_load, handed back by the host to every hook and command,
 * freed by on_unload. It is the plugin's own memory: malloc/free are fine for
 * it. Only memory that crosses the boundary (a path from api->open_output)
 * goes back through api->free. */
typedef struct {
  const sonde_host_api *api; /* commands get no api argument: keep it here */
  const char *greeting;      /* [hello] greeting; host-owned until on_unload */
  /* The target, between on_attach and on_detach. */
  int attached;
  int32_t pid;
  const char *go_version; /* host-owned until on_detach returns */
} hello_state;

/* ---- a growing output buffer -------------------------------------------------
 * A command renders its whole output here and hands it to api->write_out in
 * one call (write_out takes bytes, not a format). */
typedef struct {
  char *p;
  size_t len, cap;
  int oom; /* an allocation failed: the content is incomplete */
} hello_buf;

static void buf_add(hello_buf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (n >= b->cap - b->len || !b->p) {
    size_t cap = b->cap ? b->cap : 256;
    while (n >= cap - b->len) {
      if (cap > SIZE_MAX / 2) {
        b->oom = 1;
        return;
      }
      cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_puts(hello_buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_printf(hello_buf *b, const char *fmt, ...) HELLO_PRINTF(2, 3);
static void buf_printf(hello_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->oom = 1;
  } else if ((size_t)n < sizeof small) {
    buf_add(b, small, (size_t)n);
  } else { /* a long function name: format again into the heap */
    char *big = malloc((size_t)n + 1);
    if (big) {
      vsnprintf(big, (size_t)n + 1, fmt, ap2);
      buf_add(b, big, (size_t)n);
      free(big);
    } else {
      b->oom = 1;
    }
  }
  va_end(ap2);
}

/* A JSON string: quotes, backslashes and control characters escaped; other
 * bytes (UTF-8 in Go names) as they are. */
static void buf_json_str(hello_buf *b, const char *s) {
  buf_puts(b, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      buf_add(b, esc, 2);
    } else if (c < 0x20) {
      buf_printf(b, "\\u%04x", c);
    } else {
      buf_add(b, s, 1);
    }
  }
  buf_puts(b, "\"");
}

/* Hands the buffer to the host. */
static int buf_write_out(sonde_host *h, const sonde_host_api *api, const hello_buf *b) {
  if (b->oom)
    return api->fail(h, SONDE_ENOMEM, "out of memory while formatting the output");
  int rc = api->write_out(h, b->p ? b->p : "", b->len);
  if (rc != SONDE_OK)
    return api->fail(h, rc, "cannot write the output");
  return SONDE_OK;
}

/* ---- hooks ------------------------------------------------------------------ */

/* Once, after dlopen and before any command. Checks the host, reads the
 * configuration, creates the state. */
static int hello_on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  /* The host loads a plugin only when the majors match and the plugin's
   * minor is not newer than its own (plugin-api/ABI.md), so every service of
   * the header we were built with is in the table: this check cannot fail for
   * hello. It is the pattern for reading a member of a struct the host hands
   * over (SONDE_HAS_MEMBER: within struct_size), and costs nothing. */
  if (SONDE_ABI_MAJOR_OF(api->abi_version) != SONDE_ABI_MAJOR)
    return SONDE_ENOTSUP; /* not even api->fail is known to exist */
  if (!SONDE_HAS_MEMBER(api, sonde_host_api, open_output))
    return api->fail(h, SONDE_ENOTSUP, "sonde %s is too old for hello %s: upgrade sonde", api->host_version,
                     SONDE_PLUGIN_VERSION);

  /* sonde.ini, section [hello]: "greeting = bonjour". The string is the
   * host's and lives until on_unload: keeping the pointer is enough. */
  const char *greeting = api->config_get(h, "greeting");
  if (greeting && !*greeting)
    return api->fail(h, SONDE_EINVAL, "greeting is empty in [hello] of sonde.ini: give a word, or remove the key");

  hello_state *st = calloc(1, sizeof *st);
  if (!st)
    return api->fail(h, SONDE_ENOMEM, "out of memory");
  st->api = api;
  st->greeting = greeting ? greeting : "hello";
  *state = st;
  api->message(h, SONDE_LOG_DEBUG, "loaded; greeting \"%s\"", st->greeting);
  return SONDE_OK;
}

/* The host has attached to the target and taken its snapshot (only for a
 * command flagged SONDE_CMD_NEEDS_TARGET, before its run). */
static int hello_on_attach(sonde_host *h, void *state) {
  hello_state *st = state;
  /* An out parameter: SONDE_INIT sets struct_size to the size we know, and
   * the host writes only the members that fit (an older or newer host is
   * fine both ways). */
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  int rc = st->api->target_info(h, &ti);
  if (rc != SONDE_OK)
    return st->api->fail(h, rc, "cannot read the target's description");
  st->attached = 1;
  st->pid = ti.pid;
  st->go_version = ti.go_version; /* valid until on_detach returns */
  st->api->message(h, SONDE_LOG_DEBUG, "attached to pid %" PRId32 " (%s, %" PRIu64 " goroutines)", ti.pid,
               ti.go_version, ti.ngoroutines);
  return SONDE_OK;
}

/* The target runs again and its snapshot is about to go: forget every string
 * that came from it. Called even when the command failed. */
static int hello_on_detach(sonde_host *h, void *state) {
  hello_state *st = state;
  st->attached = 0;
  st->go_version = NULL;
  st->api->message(h, SONDE_LOG_DEBUG, "detached from pid %" PRId32, st->pid);
  return SONDE_OK;
}

/* Last call: free the state. The host's strings die after this returns. */
static void hello_on_unload(sonde_host *h, void *state) {
  (void)h;
  free(state);
}

/* ---- sonde hello greet [NAME] ------------------------------------------------ */

static int hello_cmd_greet(sonde_host *h, void *state, int argc, char **argv) {
  hello_state *st = state;
  const sonde_host_api *api = st->api;
  /* argv[0] is "greet"; the host has already taken out its own options. */
  const char *name = "world";
  if (argc > 2)
    return api->fail(h, SONDE_EINVAL, "greet takes one NAME at most, not %d arguments", argc - 1);
  if (argc == 2) {
    if (argv[1][0] == '-')
      return api->fail(h, SONDE_EINVAL, "greet: unknown option '%s'; usage: sonde hello greet [NAME]", argv[1]);
    name = argv[1];
  }

  hello_buf b = {0};
  buf_printf(&b, "%s, %s!\n", st->greeting, name);
  buf_printf(&b, "sonde %s, plugin ABI %" PRIu32 ".%" PRIu32 " (hello %s built for ABI %d.%d)\n", api->host_version,
             SONDE_ABI_MAJOR_OF(api->abi_version), SONDE_ABI_MINOR_OF(api->abi_version), SONDE_PLUGIN_VERSION,
             SONDE_ABI_MAJOR, SONDE_ABI_MINOR);
  int rc = buf_write_out(h, api, &b);
  free(b.p);
  return rc;
}

/* ---- sonde hello waits -p PID [--json] [--save NAME] ------------------------- */

/* One goroutine, reduced to what the table needs. Both strings belong to the
 * host's snapshot, valid until on_detach returns: no copies. */
typedef struct {
  const char *reason, *function;
} hello_pair;

/* One line of the table. */
typedef struct {
  const char *reason;
  uint64_t count;
  const char *top;    /* the most common top frame's function */
  uint64_t top_count; /* how many of the reason's goroutines have it on top */
} hello_row;

static int pair_cmp(const void *a, const void *b) {
  const hello_pair *x = a, *y = b;
  int c = strcmp(x->reason, y->reason);
  return c ? c : strcmp(x->function, y->function);
}

/* Most goroutines first; ties by name, so the output is stable. */
static int row_cmp(const void *a, const void *b) {
  const hello_row *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return strcmp(x->reason, y->reason);
}

static const char *plural(uint64_t n) { return n == 1 ? "" : "s"; }

static void render_text(hello_buf *b, const hello_state *st, const hello_row *rows, size_t nrows, size_t ngs) {
  int width = (int)strlen("WAIT REASON");
  for (size_t i = 0; i < nrows; i++) {
    size_t n = strlen(rows[i].reason);
    if (n > (size_t)width) /* Go's reasons are short; a long one only shifts its line */
      width = n > 40 ? 40 : (int)n;
  }
  buf_printf(b, "pid %" PRId32 " (%s): %zu goroutine%s, %zu wait reason%s\n", st->pid,
             st->go_version ? st->go_version : "?", ngs, plural(ngs), nrows, plural(nrows));
  buf_printf(b, "%7s  %-*s  %s\n", "COUNT", width, "WAIT REASON", "MOST COMMON TOP FRAME");
  for (size_t i = 0; i < nrows; i++)
    buf_printf(b, "%7" PRIu64 "  %-*s  %s: %" PRIu64 " goroutine%s\n", rows[i].count, width, rows[i].reason,
               rows[i].top, rows[i].top_count, plural(rows[i].top_count));
}

static void render_json(hello_buf *b, const hello_state *st, const hello_row *rows, size_t nrows, size_t ngs) {
  buf_printf(b, "{\"pid\": %" PRId32 ", \"go_version\": ", st->pid);
  buf_json_str(b, st->go_version ? st->go_version : "");
  buf_printf(b, ", \"goroutines\": %zu, \"wait_reasons\": [", ngs);
  for (size_t i = 0; i < nrows; i++) {
    buf_puts(b, i ? ",\n  {\"wait_reason\": " : "\n  {\"wait_reason\": ");
    buf_json_str(b, rows[i].reason);
    buf_printf(b, ", \"count\": %" PRIu64 ", \"top_function\": ", rows[i].count);
    buf_json_str(b, rows[i].top);
    buf_printf(b, ", \"top_function_count\": %" PRIu64 "}", rows[i].top_count);
  }
  buf_puts(b, nrows ? "\n]}\n" : "]}\n");
}

/* Writes the report to NAME in the output directory ([host] output_dir).
 * The host creates the file and hands back its path in memory from
 * api->alloc, which we return with api->free. */
static int save_report(sonde_host *h, const sonde_host_api *api, const char *name, const hello_buf *b) {
  char *path = NULL;
  int rc = api->open_output(h, name, &path);
  if (rc != SONDE_OK)
    return api->fail(h, rc, "cannot create '%s' in the output directory ([host] output_dir in sonde.ini)", name);
  FILE *f = fopen(path, "w");
  if (!f) {
    rc = api->fail(h, SONDE_EIO, "cannot open %s for writing", path);
    goto out;
  }
  size_t nw = fwrite(b->p ? b->p : "", 1, b->len, f);
  if (fclose(f) != 0 || nw != b->len) {
    rc = api->fail(h, SONDE_EIO, "cannot write %s (disk full?)", path);
    goto out;
  }
  api->message(h, SONDE_LOG_INFO, "saved the report to %s", path);
out:
  api->free(h, path);
  return rc;
}

static int hello_cmd_waits(sonde_host *h, void *state, int argc, char **argv) {
  hello_state *st = state;
  const sonde_host_api *api = st->api;
  int json = 0;
  const char *save = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
      save = argv[++i];
    else
      return api->fail(h, SONDE_EINVAL, "waits: unknown or incomplete option '%s'; usage: %s", argv[i],
                       "sonde hello waits -p PID [--json] [--save NAME]");
  }
  if (!st->attached) /* cannot happen with SONDE_CMD_NEEDS_TARGET; says so if it does */
    return api->fail(h, SONDE_ENOTARGET, "waits needs a target: give -p PID");

  int rc = SONDE_OK;
  hello_pair *pairs = NULL;
  hello_row *rows = NULL;
  hello_buf b = {0};
  size_t np = 0, nrows = 0;

  /* The snapshot was taken while the target was stopped; it runs again by
   * now, and these calls read only the copy. The count comes from the
   * target: bound it before using it as a size. */
  uint64_t n = api->goroutine_count(h);
  if (n > SIZE_MAX / sizeof *pairs) {
    rc = api->fail(h, SONDE_ENOMEM, "%" PRIu64 " goroutines is more than this machine can count", n);
    goto out;
  }
  pairs = malloc(n ? (size_t)n * sizeof *pairs : 1);
  if (!pairs) {
    rc = api->fail(h, SONDE_ENOMEM, "out of memory for %" PRIu64 " goroutines", n);
    goto out;
  }
  for (uint64_t i = 0; i < n; i++) {
    sonde_goroutine g = SONDE_INIT(sonde_goroutine);
    rc = api->goroutine_get(h, i, &g);
    if (rc != SONDE_OK) {
      rc = api->fail(h, rc, "cannot read goroutine %" PRIu64 " of %" PRIu64, i, n);
      goto out;
    }
    if (g.system) /* the runtime's own goroutines: Go's traceback hides them too */
      continue;
    /* The status Go prints in the goroutine's header: the wait reason when it
     * waits, else the status (mirrors runtime/traceback.go: goroutineheader). */
    const char *reason = g.wait_reason && g.wait_reason[0] ? g.wait_reason : g.status ? g.status : "?";
    const char *function = "(no frames)";
    if (g.nframes > 0) {
      sonde_frame f = SONDE_INIT(sonde_frame);
      rc = api->frame_get(h, i, 0, &f); /* frame 0 is the top: where it waits */
      if (rc != SONDE_OK) {
        rc = api->fail(h, rc, "cannot read the top frame of goroutine %" PRId64, g.id);
        goto out;
      }
      if (f.function && f.function[0])
        function = f.function;
    }
    pairs[np].reason = reason;
    pairs[np].function = function;
    np++;
  }

  /* Sorted by (reason, function), each reason is one run and each of its top
   * functions a run inside it: counting is one pass. */
  qsort(pairs, np, sizeof *pairs, pair_cmp);
  rows = malloc(np ? np * sizeof *rows : 1);
  if (!rows) {
    rc = api->fail(h, SONDE_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < np;) {
    hello_row *r = &rows[nrows++];
    r->reason = pairs[i].reason;
    r->count = 0;
    r->top = NULL;
    r->top_count = 0;
    while (i < np && strcmp(pairs[i].reason, r->reason) == 0) {
      size_t j = i;
      while (j < np && strcmp(pairs[j].reason, r->reason) == 0 && strcmp(pairs[j].function, pairs[i].function) == 0)
        j++;
      if (j - i > r->top_count) {
        r->top = pairs[i].function;
        r->top_count = j - i;
      }
      r->count += j - i;
      i = j;
    }
  }
  qsort(rows, nrows, sizeof *rows, row_cmp);

  if (json)
    render_json(&b, st, rows, nrows, np);
  else
    render_text(&b, st, rows, nrows, np);
  rc = buf_write_out(h, api, &b);
  if (rc == SONDE_OK && save)
    rc = save_report(h, api, save, &b);

out:
  free(b.p);
  free(rows);
  free(pairs);
  return rc;
}

/* ---- the descriptor ----------------------------------------------------------
 * Static and constant: the host reads it after dlopen, checks it against the
 * note and its own ABI, then calls on_load. struct_size and command_size let
 * a newer host read an older plugin (and the reverse) member by member. */
static const sonde_command hello_commands[] = {
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = 0, /* no target: runs without -p */
        .name = "greet",
        .summary = "print the greeting ([hello] greeting in sonde.ini) and the host's plugin ABI",
        .usage = "[NAME]",
        .help = "Prints \"GREETING, NAME!\" (NAME defaults to world, GREETING to hello;\n"
                "set it with `greeting = ...` in the [hello] section of sonde.ini), then the\n"
                "host's version and plugin ABI.\n",
        .run = hello_cmd_greet,
    },
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = SONDE_CMD_NEEDS_TARGET, /* the host takes -p PID, attaches, snapshots */
        .name = "waits",
        .summary = "count the target's goroutines per wait reason, with the most common top frame",
        .usage = "[--json] [--save NAME]",
        .help = "One line per wait reason (or status, for goroutines that do not wait), most\n"
                "goroutines first: how many goroutines, and the function most of them are in.\n"
                "System goroutines are left out, as Go's own traceback leaves them out.\n"
                "  --json       one JSON document: {\"pid\", \"go_version\", \"goroutines\",\n"
                "               \"wait_reasons\": [{\"wait_reason\", \"count\", \"top_function\",\n"
                "               \"top_function_count\"}]}\n"
                "  --save NAME  also write the report to NAME in the output directory\n"
                "               ([host] output_dir in sonde.ini)\n",
        .run = hello_cmd_waits,
    },
};

static const sonde_plugin hello_plugin = {
    .struct_size = (uint32_t)sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = SONDE_PLUGIN_NAME,
    .version = SONDE_PLUGIN_VERSION,
    .description = "the example plugin: a greeting, and goroutines per wait reason",
    .on_load = hello_on_load,
    .on_attach = hello_on_attach,
    .on_state_change = NULL,   /* only `sonde attach` sessions change state */
    .on_breakpoint_hit = NULL, /* hello sets no breakpoints */
    .on_detach = hello_on_detach,
    .on_unload = hello_on_unload,
    .commands = hello_commands,
    .ncommands = (uint32_t)(sizeof hello_commands / sizeof hello_commands[0]),
    .command_size = (uint32_t)sizeof(sonde_command),
};

/* The one exported symbol (-fvisibility=hidden hides everything else). The
 * declaration keeps -Wmissing-prototypes quiet. */
SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void);
SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &hello_plugin; }
