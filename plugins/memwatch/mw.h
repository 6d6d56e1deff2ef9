/* mw.h: the memwatch plugin's model: one heap snapshot, as read from the
 * host's heap service or from a snapshot file, and what is shared between
 * the plugin's files (memwatch.c: commands and hooks; model.c: the model
 * and the snapshot file; diff.c: two snapshots compared; pprof.c: the
 * profile.proto writer).
 *
 * A snapshot is rows. A row is objects that are told apart: a type the
 * runtime records, in one size class; or the objects of a size class whose
 * type the runtime does not record (Go before 1.22, objects of 512 bytes or
 * less, and pointer-free ones). Every object of the heap is in exactly one
 * row, so the rows add up to the totals. */
#ifndef SONDE_MEMWATCH_MW_H
#define SONDE_MEMWATCH_MW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sonde/util.h> /* sonde_json_string */

#define MW_FORMAT "sonde-memwatch-snapshot"
#define MW_DIFF_FORMAT "sonde-memwatch-diff"
#define MW_FORMAT_VERSION 1

enum { MW_NUM_CLASSES = 68 /* runtime._NumSizeClasses in Go 1.19-1.27 */ };

/* One size class of the heap (0: large objects, one per span). */
typedef struct {
  uint64_t object_size; /* the class's slot size; 0 for class 0 */
  uint64_t spans, span_bytes, slots, objects, bytes;
  uint64_t resident_bytes; /* of span_bytes, in RAM; MW_UNKNOWN when not read */
} mw_class;

#define MW_UNKNOWN UINT64_MAX

typedef struct {
  const char *name; /* "main.rec", "[]*int64"; NULL: the class's untyped objects */
  uint32_t sizeclass;
  uint64_t object_size; /* the class's slot size; for class 0, bytes / objects */
  uint64_t objects, bytes;
} mw_row;

typedef struct {
  /* where and when */
  int64_t pid;
  char *exe, *go_version;
  int64_t unix_ns;   /* when it was taken */
  uint64_t gc_cycle; /* runtime.memstats.numgc then; MW_UNKNOWN when unknown */
  /* how exact: counts include objects GC found dead in spans not swept since */
  uint64_t unswept_spans, unreadable_spans, bad_headers;
  bool has_types; /* the runtime records types (Go 1.22+) */
  /* totals over the heap's spans */
  uint64_t objects, bytes, spans, span_bytes;
  uint64_t resident_bytes; /* MW_UNKNOWN when not read */
  /* the runtime's own accounting, read in the same stop (MW_UNKNOWN: none) */
  uint64_t rt_objects, rt_bytes, rt_heap_inuse, rt_stacks_inuse;
  mw_class classes[MW_NUM_CLASSES];
  mw_row *rows;
  size_t nrows, caprows;
  /* strings (names, exe) live in this block list */
  struct mw_strblock *strs;
} mw_snap;

void mw_snap_init(mw_snap *s);
void mw_snap_free(mw_snap *s);
/* A copy of str owned by s; NULL when out of memory. */
char *mw_snap_str(mw_snap *s, const char *str);
/* Appends a row (name copied); 0 or -1 when out of memory. */
int mw_snap_add_row(mw_snap *s, const char *name, uint32_t sizeclass, uint64_t object_size, uint64_t objects,
                    uint64_t bytes);

/* The snapshot file (JSON, format MW_FORMAT version 1; docs/memwatch.md). */
int mw_snap_write_json(const mw_snap *s, FILE *f);
/* Reads path into s; on failure -1 with a message naming the file and what is
 * wrong in err. */
int mw_snap_read_json(const char *path, mw_snap *s, char *err, size_t errn);

/* "2026-11-30T17:00:00Z" */
void mw_time_rfc3339(int64_t unix_ns, char *dst, size_t n);

/* How a row reads in text and in pprof: its type name, or
 * "class 27 (640 B)" / "large objects" for the untyped. */
void mw_row_label(const mw_row *r, char *dst, size_t n);

/* ---- two snapshots compared (diff.c) ---- */
typedef struct {
  const char *name; /* points into A's or B's strings */
  uint64_t objects_a, objects_b, bytes_a, bytes_b;
} mw_dtype;

typedef struct {
  bool present; /* in A or B */
  uint64_t object_size;
  uint64_t objects_a, objects_b, bytes_a, bytes_b;
  uint64_t untyped_a, untyped_b; /* objects of no recorded type */
} mw_dclass;

typedef struct {
  mw_dtype *types; /* by name, largest change in bytes first */
  size_t ntypes;
  mw_dclass classes[MW_NUM_CLASSES];
} mw_diff;

/* 0, or -1 when out of memory. d points into a and b: free them after. */
int mw_diff_compute(const mw_snap *a, const mw_snap *b, mw_diff *d);
void mw_diff_free(mw_diff *d);
/* Text: the two sides, then at most `top` types and classes that changed. */
void mw_diff_text(const mw_diff *d, const mw_snap *a, const mw_snap *b, const char *fa, const char *fb, size_t top,
                  FILE *f);
/* JSON (format MW_DIFF_FORMAT): every type and every class. */
void mw_diff_json(const mw_diff *d, const mw_snap *a, const mw_snap *b, const char *fa, const char *fb, FILE *f);
/* "1.8 MiB", "+1.8 MiB" / "-200 B" with sign. */
void mw_human(char *dst, size_t n, int64_t v, bool sign);

/* A gzip-compressed profile.proto of s (pprof.c): sample types
 * inuse_objects/count and inuse_space/bytes, one sample per row, its stack
 * [row label, size class label], labels "class" and "object_size".
 * 0, or -1 with a message in err. */
int mw_pprof_write(const mw_snap *s, const char *path, char *err, size_t errn);

#endif
