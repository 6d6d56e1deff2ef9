/* sd.h: the stackdiff plugin's private interfaces.
 *
 * One model of a snapshot (sd_snap) serves every command: it is built from
 * the host's goroutine snapshot (model.c) or read back from a snapshot file
 * (snapfile.c), written as JSON by one writer (model.c), and two of them are
 * compared by diff.c. The one thing to know: strings (function and file
 * names, states) are interned in one table (sd_strtab) shared by the two
 * snapshots of a diff, so that comparing frames compares integers. */
#ifndef SD_H
#define SD_H

#include <stddef.h>
#include <stdint.h>

#include <sonde/plugin.h>

#define SD_FORMAT "sonde-stackdiff-snapshot"
#define SD_FORMAT_VERSION 1
#define SD_DIFF_FORMAT "sonde-stackdiff-diff"
#define SD_DIFF_FORMAT_VERSION 1

/* Bounds on what a snapshot file may hold. A file sonde wrote stays far
 * below them (Go shows at most 100 frames); anything past them is refused
 * as not a snapshot, so a hostile file cannot make the plugin loop or grow
 * without end in one place. */
enum {
  SD_MAX_FRAMES = 4096,           /* frames of one goroutine */
  SD_MAX_STRING = 1 << 16,        /* bytes of one string */
  SD_MAX_GOROUTINES = 50000000,   /* goroutines in one snapshot */
};

/* Errors of this plugin's own code: the host's api->fail records the
 * message, the code returned is the sonde_rc. */
typedef struct {
  sonde_host *h;
  const sonde_host_api *api;
} sd_ctx;

/* ---- interned strings (model.c) --------------------------------------------- */

typedef struct sd_block sd_block;
typedef struct {
  const char **s; /* id -> NUL-terminated string; id 0 is "" */
  uint32_t *len;
  uint32_t n, cap;
  uint32_t *slot; /* open addressing: id + 1, 0 = empty */
  uint32_t nslot; /* a power of two, at least twice n */
  sd_block *blocks;
} sd_strtab;

enum { SD_NOSTR = UINT32_MAX };

int sd_strtab_init(sd_strtab *t);
void sd_strtab_free(sd_strtab *t);
/* The id of s[0..n), added when new; SD_NOSTR when out of memory. */
uint32_t sd_intern(sd_strtab *t, const char *s, size_t n);

/* ---- the snapshot model (model.c) ----------------------------------------------- */

typedef struct {
  uint32_t fn, file; /* string ids */
  uint32_t line;
  uint32_t inlined;
  uint64_t pc;
} sd_frame;

enum { SD_G_SYSTEM = 1, SD_G_LOCKED = 2, SD_G_CREATOR = 4 };

typedef struct {
  int64_t id, parent_id, wait_minutes;
  uint32_t status, wait_reason; /* string ids */
  uint32_t flags;               /* SD_G_* */
  uint32_t nframes;
  uint64_t frame0;     /* index of its first frame in sd_snap.f */
  uint64_t stack_size; /* bytes, 0 when unknown */
  sd_frame creator;    /* when SD_G_CREATOR */
} sd_g;

typedef struct {
  sd_strtab *strs; /* shared, not owned */
  const char *file; /* where it was read from; NULL when taken live */
  int64_t pid;
  uint32_t go_version, exe, taken_at; /* string ids */
  int has_stack_size; /* the snapshot carries stack sizes */
  sd_g *g;
  size_t ng, capg;
  sd_frame *f;
  size_t nf, capf;
} sd_snap;

void sd_snap_init(sd_snap *s, sd_strtab *strs);
void sd_snap_free(sd_snap *s);
/* Room for ng goroutines and nf frames in all, when memory allows: a hint
 * (the add functions still grow the arrays as needed). */
void sd_snap_reserve(sd_snap *s, size_t ng, size_t nf);
/* Room for one more goroutine / n more frames; NULL when out of memory. */
sd_g *sd_snap_add_g(sd_snap *s);
sd_frame *sd_snap_add_frames(sd_snap *s, size_t n);
static inline const char *sd_str(const sd_snap *s, uint32_t id) { return s->strs->s[id]; }
/* Frame k of g onwards. A snapshot without a single frame has no array
 * (f NULL): never offset NULL, even by 0. */
static inline const sd_frame *sd_frames_at(const sd_snap *s, const sd_g *g, uint32_t k) {
  return s->f ? s->f + g->frame0 + k : NULL;
}
static inline const sd_frame *sd_frames(const sd_snap *s, const sd_g *g) { return sd_frames_at(s, g, 0); }

/* The host's goroutine snapshot, taken now (the target must be attached). */
int sd_snap_from_host(sd_ctx *c, sd_snap *out);

/* ---- output (out.c) -------------------------------------------------------------
 * A buffer flushed to a file descriptor (fd >= 0) or to api->write_out
 * whenever it fills. The first error is kept in rc (already recorded with
 * api->fail); everything written after it is dropped, so callers check rc
 * once, at the end. */
enum { SD_BUF_SIZE = 64 * 1024 };

typedef struct {
  sd_ctx *c;
  int fd;           /* -1: the command's output, through api->write_out */
  const char *path; /* for messages */
  char *buf;        /* SD_BUF_SIZE bytes */
  size_t len;
  int rc;
} sd_out;

int sd_out_open(sd_out *o, sd_ctx *c, int fd, const char *path);
/* Flushes and frees the buffer; returns o->rc. Does not close fd. */
int sd_out_close(sd_out *o);
void sd_out_flush(sd_out *o);
void sd_out_add(sd_out *o, const char *s, size_t n);
void sd_out_puts(sd_out *o, const char *z);
void sd_out_printf(sd_out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sd_out_i64(sd_out *o, int64_t v);
void sd_out_u64(sd_out *o, uint64_t v);
/* A JSON string: escapes as RFC 8259 asks, ill-formed UTF-8 as U+FFFD. */
void sd_out_str(sd_out *o, const char *z);
/* `key` (which carries its own separator, `, "id": `) and then the value. */
void sd_key_str(sd_out *o, const char *key, const char *v);
void sd_key_i64(sd_out *o, const char *key, int64_t v);
void sd_key_u64(sd_out *o, const char *key, uint64_t v);
void sd_key_bool(sd_out *o, const char *key, int v);

/* JSON writers shared by the snapshot and the diff (model.c). */
void sd_put_frame(sd_out *o, const sd_snap *s, const sd_frame *f, int with_inlined);
/* A frame list: `[` frames `]`, one per line after indent. */
void sd_put_frames(sd_out *o, const sd_snap *s, const sd_frame *f, size_t n, const char *indent);
/* One goroutine object, as in a snapshot's "goroutines". */
void sd_put_goroutine(sd_out *o, const sd_snap *s, const sd_g *g, const char *indent);
/* A whole snapshot document. */
int sd_put_snapshot(sd_out *o, const sd_snap *s);

/* RFC 3339 in UTC with milliseconds: "2026-11-30T12:06:41.123Z". */
void sd_format_now(char *dst, size_t n);

/* ---- snapshot files (snapfile.c) ------------------------------------------------- */

/* Reads the snapshot file path into out (initialised by the caller on its
 * string table). A file that is not a snapshot, is truncated, or breaks a
 * bound is refused: the sonde_rc is returned and err says why, naming the
 * file and where in it. Calls nothing of the host's, so two files can be
 * read at once on two threads (each on its own string table). */
int sd_snap_read(const char *path, sd_snap *out, char *err, size_t errn);
/* Moves s onto the string table to (its strings interned there, every id
 * rewritten), so that it compares with snapshots on that table. */
int sd_snap_rebase(sd_snap *s, sd_strtab *to);

/* ---- the diff (diff.c) ------------------------------------------------------------ */

typedef enum { SD_COLOR_AUTO, SD_COLOR_ALWAYS, SD_COLOR_NEVER } sd_color;

typedef struct {
  int json;        /* JSON instead of text */
  int lines;       /* signatures include file:line */
  int top;         /* text: rows per section, 0 for all */
  int samples;     /* sample ids per row */
  sd_color color;
} sd_diff_opts;

/* Compares a and b (on one string table) and writes the result to o. */
int sd_diff(sd_ctx *c, const sd_snap *a, const sd_snap *b, const sd_diff_opts *opts, sd_out *o);

#endif
