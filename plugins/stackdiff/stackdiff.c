/* stackdiff.c: the stackdiff plugin (issue 6), first slice: snapshots.
 *
 *   sonde stackdiff snapshot -p PID [-o FILE]
 *
 * writes every goroutine of the host's snapshot (state, wait, parent,
 * creation site, frames) as one JSON document, format
 * "sonde-stackdiff-snapshot" version 1, documented in docs/stackdiff.md.
 * The one thing to know: the document streams through a fixed 64 KiB
 * buffer, so 100,000 goroutines cost no more memory than 10. Only
 * <sonde/plugin.h> and the C library. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sonde/plugin.h>

#define SD_NAME "stackdiff"
#define SD_VERSION "0.1.0"
#define SD_FORMAT "sonde-stackdiff-snapshot"
#define SD_FORMAT_VERSION 1

SONDE_PLUGIN_NOTE(SD_NAME, SD_VERSION);

enum { SD_BUF_SIZE = 64 * 1024 };

/* ---- state ------------------------------------------------------------------
 * Commands get no api argument: on_load keeps the table here. */
typedef struct {
  const sonde_host_api *api;
  int attached;  /* between on_attach and on_detach */
  uint64_t seq;  /* snapshots taken since on_load: %n in -o */
} sd_state;

/* ---- output -----------------------------------------------------------------
 * A buffer flushed to -o FILE (fd >= 0) or to api->write_out whenever it
 * fills. The first error is kept in rc (already recorded with api->fail);
 * everything written after it is dropped, so callers check rc once, at the
 * end, instead of after every field. */
typedef struct {
  sonde_host *h;
  const sonde_host_api *api;
  int fd;           /* -1: standard output through api->write_out */
  const char *path; /* -o FILE, for messages */
  char *buf;        /* SD_BUF_SIZE bytes */
  size_t len;
  int rc;
} sd_out;

static void out_flush(sd_out *o) {
  if (o->rc != SONDE_OK || o->len == 0) return;
  if (o->fd < 0) {
    int rc = o->api->write_out(o->h, o->buf, o->len);
    if (rc != SONDE_OK) o->rc = o->api->fail(o->h, rc, "cannot write the snapshot to standard output");
  } else {
    for (size_t done = 0; done < o->len;) {
      ssize_t n = write(o->fd, o->buf + done, o->len - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        o->rc = o->api->fail(o->h, SONDE_EIO, "cannot write %s: %s", o->path,
                             n < 0 ? strerror(errno) : "nothing written (disk full?)");
        break;
      }
      done += (size_t)n;
    }
  }
  o->len = 0;
}

static void out_add(sd_out *o, const char *s, size_t n) {
  while (n > 0 && o->rc == SONDE_OK) {
    if (o->len == SD_BUF_SIZE) out_flush(o);
    size_t k = SD_BUF_SIZE - o->len;
    if (k > n) k = n;
    memcpy(o->buf + o->len, s, k);
    o->len += k;
    s += k;
    n -= k;
  }
}

static void out_puts(sd_out *o, const char *s) { out_add(o, s, strlen(s)); }

static void out_i64(sd_out *o, int64_t v) {
  char num[24];
  int n = snprintf(num, sizeof num, "%" PRId64, v);
  out_add(o, num, (size_t)n);
}

static void out_u64(sd_out *o, uint64_t v) {
  char num[24];
  int n = snprintf(num, sizeof num, "%" PRIu64, v);
  out_add(o, num, (size_t)n);
}

static void out_bool(sd_out *o, uint32_t v) { out_puts(o, v ? "true" : "false"); }

static void out_str(sd_out *o, const char *z);

/* `, "key": value`: the separator and key go first, as every member after
 * an object's first is written. */
static void key_str(sd_out *o, const char *key, const char *v) {
  out_puts(o, key);
  out_str(o, v);
}
static void key_i64(sd_out *o, const char *key, int64_t v) {
  out_puts(o, key);
  out_i64(o, v);
}
static void key_u64(sd_out *o, const char *key, uint64_t v) {
  out_puts(o, key);
  out_u64(o, v);
}
static void key_bool(sd_out *o, const char *key, uint32_t v) {
  out_puts(o, key);
  out_bool(o, v);
}

/* Length of the well-formed UTF-8 sequence at s (1 to 4), or 0 when the
 * byte at s does not start one: overlong forms, surrogates and code points
 * above U+10FFFF are ill-formed (Unicode 15, table 3-7). s is NUL-terminated,
 * and NUL is never a continuation byte, so no read passes the end. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
  size_t n;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0)
      lo = 0xa0; /* overlong */
    else if (c == 0xed)
      hi = 0x9f; /* U+D800..U+DFFF, surrogates */
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0)
      lo = 0x90; /* overlong */
    else if (c == 0xf4)
      hi = 0x8f; /* above U+10FFFF */
  } else {
    return 0; /* a continuation byte, C0, C1, F5..FF */
  }
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  return n;
}

/* A JSON string (RFC 8259): quotes and backslashes escaped, control
 * characters as \u00XX, well-formed UTF-8 as it is, and each byte of
 * ill-formed UTF-8 as U+FFFD, as sonde's own JSON does (docs/json.md). Go
 * names are UTF-8, but the bytes come from the target's memory. */
static void out_str(sd_out *o, const char *z) {
  const unsigned char *s = (const unsigned char *)(z ? z : "");
  out_add(o, "\"", 1);
  while (*s) {
    /* the longest run that needs no escaping, copied at once */
    const unsigned char *run = s;
    while (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\') s++;
    out_add(o, (const char *)run, (size_t)(s - run));
    if (!*s) break;
    if (*s == '"' || *s == '\\') {
      char esc[2] = {'\\', (char)*s};
      out_add(o, esc, 2);
      s++;
    } else if (*s < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", *s);
      out_add(o, esc, 6);
      s++;
    } else {
      size_t n = utf8_len(s);
      if (n) {
        out_add(o, (const char *)s, n);
        s += n;
      } else {
        out_add(o, "\\ufffd", 6);
        s++;
      }
    }
  }
  out_add(o, "\"", 1);
}

/* ---- the document ------------------------------------------------------------
 * Keys in the order docs/stackdiff.md lists them; one frame per line, so the
 * file reads (and diffs) well with line-based tools too. */

static void put_frame(sd_out *o, const sonde_frame *f, int with_inlined) {
  key_str(o, "{\"function\": ", f->function);
  key_str(o, ", \"file\": ", f->file);
  key_u64(o, ", \"line\": ", f->line);
  key_u64(o, ", \"pc\": ", f->pc);
  if (with_inlined) key_bool(o, ", \"inlined\": ", f->inlined);
  out_puts(o, "}");
}

/* Goroutine i of the host's snapshot, as one element of "goroutines". */
static int put_goroutine(sd_out *o, uint64_t i, uint64_t n) {
  sonde_host *h = o->h;
  const sonde_host_api *api = o->api;
  sonde_goroutine g = SONDE_INIT(sonde_goroutine);
  int rc = api->goroutine_get(h, i, &g);
  if (rc != SONDE_OK)
    return api->fail(h, rc, "cannot read goroutine %" PRIu64 " of %" PRIu64 " from the snapshot", i, n);

  key_i64(o, i ? ",\n    {\"id\": " : "\n    {\"id\": ", g.id);
  key_str(o, ", \"status\": ", g.status);
  key_str(o, ", \"wait_reason\": ", g.wait_reason);
  key_i64(o, ", \"wait_minutes\": ", g.wait_minutes);
  key_i64(o, ", \"parent_id\": ", g.parent_id);
  key_bool(o, ", \"system\": ", g.system);
  key_bool(o, ", \"locked_to_thread\": ", g.locked_to_thread);

  out_puts(o, ",\n     \"created_by\": ");
  sonde_frame f = SONDE_INIT(sonde_frame);
  rc = g.has_creator ? api->creator_get(h, i, &f) : SONDE_ENOTFOUND;
  if (rc == SONDE_OK)
    put_frame(o, &f, 0); /* the go statement's call site: never an inlined frame of its own */
  else if (rc == SONDE_ENOTFOUND)
    out_puts(o, "null");
  else
    return api->fail(h, rc, "cannot read where goroutine %" PRId64 " was created", g.id);

  /* nframes is the host's count, already bounded by its unwinder (Go's
   * traceback limits); frame_get checks every index against it again. */
  out_puts(o, ",\n     \"frames\": [");
  for (uint32_t j = 0; j < g.nframes; j++) {
    f = SONDE_INIT(sonde_frame);
    rc = api->frame_get(h, i, j, &f);
    if (rc != SONDE_OK)
      return api->fail(h, rc, "cannot read frame %" PRIu32 " of %" PRIu32 " of goroutine %" PRId64, j, g.nframes, g.id);
    out_puts(o, j ? ",\n       " : "\n       ");
    put_frame(o, &f, 1);
  }
  out_puts(o, g.nframes ? "\n     ]}" : "]}");
  return o->rc;
}

/* RFC 3339 in UTC with milliseconds: "2026-11-30T12:06:41.123Z". */
static void format_now(char *dst, size_t n) {
  struct timespec ts;
  struct tm tm;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm)) {
    snprintf(dst, n, "1970-01-01T00:00:00.000Z"); /* cannot happen on Linux; keeps the field valid */
    return;
  }
  char sec[32];
  strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
  int ms = (int)(ts.tv_nsec / 1000000);
  if (ms < 0 || ms > 999) ms = 0; /* tv_nsec is below 10^9; this tells the compiler too */
  snprintf(dst, n, "%s.%03dZ", sec, ms);
}

static int put_snapshot(sd_out *o) {
  sonde_host *h = o->h;
  const sonde_host_api *api = o->api;
  sonde_target_info ti = SONDE_INIT(sonde_target_info);
  int rc = api->target_info(h, &ti);
  if (rc != SONDE_OK) return api->fail(h, rc, "cannot read the target's description");
  char now[40];
  format_now(now, sizeof now);
  uint64_t n = api->goroutine_count(h);

  key_i64(o, "{\"format\": \"" SD_FORMAT "\", \"version\": ", SD_FORMAT_VERSION);
  key_i64(o, ",\n  \"pid\": ", ti.pid);
  key_str(o, ", \"go_version\": ", ti.go_version);
  key_str(o, ",\n  \"exe\": ", ti.exe);
  key_str(o, ",\n  \"taken_at\": ", now);
  key_u64(o, ", \"goroutine_count\": ", n);
  out_puts(o, ",\n  \"goroutines\": [");
  for (uint64_t i = 0; i < n; i++) {
    rc = put_goroutine(o, i, n);
    if (rc != SONDE_OK) return rc;
  }
  out_puts(o, n ? "\n  ]}\n" : "]}\n");
  out_flush(o);
  return o->rc;
}

/* ---- sonde stackdiff snapshot -p PID [-o FILE] -------------------------------- */

#define SNAPSHOT_USAGE "sonde stackdiff snapshot -p PID [-o FILE]"

/* -o FILE with %n (the snapshot's number in this run: 1, 2, ...), %t (the
 * UTC time, 20261130T120641Z) and %% expanded, so that `sonde attach
 * --every 5s 'stackdiff snapshot -o snap-%n.json'` keeps every snapshot.
 * 0, or -1 for an unknown % sequence or a name longer than n. */
static int expand_path(const char *in, uint64_t seq, char *out, size_t n) {
  size_t len = 0;
  for (const char *c = in; *c; c++) {
    char piece[32];
    const char *add = piece;
    if (*c != '%') {
      piece[0] = *c;
      piece[1] = 0;
    } else if (c[1] == 'n') {
      snprintf(piece, sizeof piece, "%" PRIu64, seq);
      c++;
    } else if (c[1] == 't') {
      time_t now = time(NULL);
      struct tm tm;
      if (!gmtime_r(&now, &tm) || !strftime(piece, sizeof piece, "%Y%m%dT%H%M%SZ", &tm)) return -1;
      c++;
    } else if (c[1] == '%') {
      add = "%";
      c++;
    } else {
      return -1;
    }
    size_t k = strlen(add);
    if (len + k >= n) return -1;
    memcpy(out + len, add, k);
    len += k;
  }
  out[len] = 0;
  return 0;
}

static int sd_cmd_snapshot(sonde_host *h, void *state, int argc, char **argv) {
  sd_state *st = state;
  const sonde_host_api *api = st->api;
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc)
      val = argv[++i];
    else if (!strncmp(a, "--output=", 9))
      val = a + 9;
    else
      return api->fail(h, SONDE_EINVAL, "snapshot: unknown or incomplete option '%s'; usage: %s", a, SNAPSHOT_USAGE);
    if (!val[0]) return api->fail(h, SONDE_EINVAL, "snapshot: %s needs a file name; usage: %s", a, SNAPSHOT_USAGE);
    if (path) return api->fail(h, SONDE_EINVAL, "snapshot: give -o once, not '%s' and '%s'", path, val);
    path = val;
  }
  if (!st->attached) /* cannot happen with SONDE_CMD_NEEDS_TARGET; says so if it
                        does */
    return api->fail(h, SONDE_ENOTARGET, "snapshot needs a target: give -p PID");

  char expanded[4096];
  if (path) {
    if (expand_path(path, st->seq + 1, expanded, sizeof expanded) != 0)
      return api->fail(h, SONDE_EINVAL, "snapshot: -o '%s': only %%n, %%t and %%%% may follow a %%, and the name must "
                       "stay under %zu bytes", path, sizeof expanded);
    path = expanded;
  }
  st->seq++;
  sd_out o = {.h = h, .api = api, .fd = -1, .path = path, .rc = SONDE_OK};
  o.buf = malloc(SD_BUF_SIZE);
  if (!o.buf) return api->fail(h, SONDE_ENOMEM, "out of memory");
  int regular = 0; /* -o names a regular file, which a failure removes */
  if (path) {
    o.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o.fd < 0) {
      int rc = api->fail(h, SONDE_EIO, "cannot create %s: %s", path, strerror(errno));
      free(o.buf);
      return rc;
    }
    struct stat sb;
    regular = fstat(o.fd, &sb) == 0 && S_ISREG(sb.st_mode);
  }

  int rc = put_snapshot(&o);
  if (o.fd >= 0) {
    if (close(o.fd) != 0 && rc == SONDE_OK) rc = api->fail(h, SONDE_EIO, "cannot write %s: %s", path, strerror(errno));
    /* No half document left behind to be mistaken for a snapshot. Only a
     * regular file: `-o /dev/null` must never unlink /dev/null. The message
     * recorded by api->fail stays the cause. */
    if (rc != SONDE_OK && regular) (void)unlink(path);
  }
  if (rc == SONDE_OK && path) api->message(h, SONDE_LOG_DEBUG, "wrote the snapshot to %s", path);
  free(o.buf);
  return rc;
}

/* ---- hooks ------------------------------------------------------------------ */

static int sd_on_load(sonde_host *h, const sonde_host_api *api, void **state) {
  if (SONDE_ABI_MAJOR_OF(api->abi_version) != SONDE_ABI_MAJOR)
    return SONDE_ENOTSUP; /* not even api->fail is known to exist */
  sd_state *st = calloc(1, sizeof *st);
  if (!st) return api->fail(h, SONDE_ENOMEM, "out of memory");
  st->api = api;
  *state = st;
  return SONDE_OK;
}

static int sd_on_attach(sonde_host *h, void *state) {
  (void)h;
  sd_state *st = state;
  st->attached = 1;
  return SONDE_OK;
}

static int sd_on_detach(sonde_host *h, void *state) {
  (void)h;
  sd_state *st = state;
  st->attached = 0;
  return SONDE_OK;
}

static void sd_on_unload(sonde_host *h, void *state) {
  (void)h;
  free(state);
}

/* ---- the descriptor ---------------------------------------------------------- */

static const sonde_command sd_commands[] = {
    {
        .struct_size = (uint32_t)sizeof(sonde_command),
        .flags = SONDE_CMD_NEEDS_TARGET,
        .name = "snapshot",
        .summary = "write every goroutine's stack as a JSON snapshot (format version 1)",
        .usage = "[-o FILE]",
        .help = "Writes one JSON document describing every goroutine of the process, in\n"
                "the runtime's order, as `sonde goroutines` lists them (the runtime's own\n"
                "goroutines are left out): id, status, wait reason and minutes, parent id,\n"
                "locked to a thread or not, where it was created, and its frames (function,\n"
                "file, line, pc, inlined) as Go's traceback shows them. The process is\n"
                "stopped only while sonde copies the goroutines.\n"
                "\n"
                "  -o, --output FILE  write the snapshot to FILE (created, or truncated)\n"
                "                     instead of standard output. In FILE, %n is the\n"
                "                     snapshot's number in this run (1, 2, ...), %t the\n"
                "                     UTC time (20261130T120641Z), %% a %. If the snapshot\n"
                "                     cannot be completed, FILE is removed rather than\n"
                "                     left half written.\n"
                "\n"
                "The document starts {\"format\": \"sonde-stackdiff-snapshot\", \"version\": 1,\n"
                "...}; every field is described in docs/stackdiff.md. Examples:\n"
                "  sonde stackdiff snapshot -p 4242 -o before.json\n"
                "  sonde attach -p 4242 --every 10s 'stackdiff snapshot -o snap-%n.json' -d 60\n",
        .run = sd_cmd_snapshot,
    },
};

static const sonde_plugin sd_plugin = {
    .struct_size = (uint32_t)sizeof(sonde_plugin),
    .abi_version = SONDE_ABI_VERSION,
    .name = SD_NAME,
    .version = SD_VERSION,
    .description = "snapshots of every goroutine's stack, as versioned JSON",
    .on_load = sd_on_load,
    .on_attach = sd_on_attach,
    .on_detach = sd_on_detach,
    .on_unload = sd_on_unload,
    .commands = sd_commands,
    .ncommands = (uint32_t)(sizeof sd_commands / sizeof sd_commands[0]),
    .command_size = (uint32_t)sizeof(sonde_command),
};

/* The one exported symbol (-fvisibility=hidden hides everything else). */
SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void);
SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void) { return &sd_plugin; }
