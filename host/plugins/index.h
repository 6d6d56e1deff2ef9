/* index.h: the plugin compatibility index (index/plugins.yaml): which plugins
 * exist, and which Go, kernel and sonde versions each may load with. The host
 * reads it before loading any plugin and loads only what idx_verdict allows.
 *
 * The schema (schema 1):
 *
 *   # sonde plugin compatibility index
 *   schema: 1                    # required; the only schema this sonde reads
 *   plugins:                     # optional (absent or empty: no plugins)
 *     - name: stackdiff          # [a-z0-9][a-z0-9_-]{0,31}: the command `sonde stackdiff ...`
 *       file: stackdiff.so       # relative to the plugin directory, or absolute
 *       version: 1.0.0           # the plugin's own version: free text, <= 32 bytes, no whitespace
 *       abi: "1.0"               # the plugin ABI MAJOR.MINOR it was built against
 *       sha256: 3f5a...          # 64 lowercase hex digits: the digest of the .so file
 *       description: one line    # optional, <= 200 characters, no line breaks
 *       compat:                  # optional, and so is each key; absent means "*"
 *         go: ">=1.21, <1.28"    # the target's Go version (range.h syntax)
 *         kernel: ">=4.14"       # uname -r
 *         sonde: ">=0.1, <1"     # this host's version
 *
 * Only these keys are allowed. Every value is read as text, so `abi: 1.0`
 * unquoted is the same as "1.0". An optional key with an empty value
 * (`compat:`, `go:`, `description:`) counts as absent.
 *
 * Error policy. A problem with the file as a whole fails idx_load_* and loads
 * nothing: the file cannot be read (SE_IO), or (SE_CONFIG, message
 * "PATH:LINE:COL: what is wrong", 1-based) it is larger than 1 MiB, is not
 * YAML, holds more than one document, its top level is not a mapping, has an
 * unknown or repeated top-level key, lacks `schema` or has one other than 1,
 * or `plugins` is not a sequence. The index comes from whoever installed the
 * plugins, so hostile input is refused the same way: YAML anchors and aliases,
 * nesting deeper than 8, a scalar longer than 4096 bytes, NUL bytes (raw or
 * escaped), more than 1024 plugins, more than IDX_MAX_NODES YAML nodes.
 * A problem inside one entry (unknown or repeated key, missing required key,
 * bad name, file, version, abi, sha256, description or range, a sequence or
 * mapping where text is expected) marks only that entry: its `error` says
 * "PATH:LINE:COL: what is wrong" (the first problem found), it never loads,
 * and the other entries load. Two entries with the same name both get an
 * error, since which one was meant is unknown. */
#ifndef SONDE_PLUGINS_INDEX_H
#define SONDE_PLUGINS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/file.h"
#include "plugins/range.h"

enum {
  IDX_SCHEMA = 1,
  IDX_MAX_FILE = 1 << 20, /* bytes */
  IDX_MAX_DEPTH = 8,      /* nested sequences and mappings; a valid index uses 4 */
  IDX_MAX_SCALAR = 4096,  /* bytes */
  IDX_MAX_PLUGINS = 1024,
  IDX_MAX_NODES = 1 << 17, /* scalars, sequences and mappings; a full valid index uses ~25k */
  IDX_MAX_NAME = 32,
  IDX_MAX_VERSION = 32,
  IDX_MAX_DESCRIPTION = 200, /* characters (UTF-8 code points) */
};

typedef struct {
  /* As written. In an entry with an error, a field that was missing or not
   * text is NULL, and one that was refused holds the refused text: use the
   * fields of such an entry only to name it in messages. description is
   * NULL when absent. */
  char *name, *file, *version, *description, *sha256;
  uint32_t abi_major, abi_minor;
  rng_range go, kernel, host;
  char *go_text, *kernel_text, *host_text; /* the ranges as written, "*" when absent; never NULL */
  int line, col;                           /* 1-based position of the entry */
  char *error; /* NULL when the entry is valid; else "PATH:LINE:COL: what is wrong" -- such an entry never loads */
} idx_entry;

typedef struct {
  idx_entry *e;
  size_t n;
  char *path; /* the path or name given to idx_load_*, for messages */
} idx_index;

/* Loads an index. On success *out owns everything (idx_free); on failure
 * *out is empty and se_msg() says why (see the error policy above). */
int idx_load_file(const char *path, idx_index *out);

/* idx_load_file for the index plugins are loaded from: the file and every
 * directory above it must be owned by root or you and writable by neither
 * group nor others (base/file.h), checked on the descriptor that is read;
 * else SE_PLUGIN naming the file or directory and the fix (bf_check_trusted;
 * t->what "plugin index"). */
int idx_load_trusted(const char *path, const bf_trust *t, idx_index *out);
/* The same from memory; name stands for the path in messages. */
int idx_load_buffer(const char *name, const char *buf, size_t len, idx_index *out);
/* Frees and empties ix; safe on an empty or already freed index. */
void idx_free(idx_index *ix);
/* The first entry named name, valid or not (an entry with an error is
 * returned so that the caller can say why it does not load); NULL if none. */
const idx_entry *idx_find(const idx_index *ix, const char *name);

/* Writes the index as YAML in the schema above with libyaml's emitter
 * (correct quoting), entries in order; what it writes loads back to the same
 * entries. Writes the *_text fields (NULL as "*"; "*" is left out), not the
 * parsed ranges. An entry with an error, or without name, file, version or
 * sha256, cannot be written faithfully: SE_CONFIG naming it, and nothing is
 * written. SE_IO when f fails. */
int idx_write(FILE *f, const idx_index *ix);

typedef struct {
  rng_version host;              /* this sonde's version */
  rng_version kernel;            /* uname -r */
  bool have_go;                  /* a target is attached ... */
  rng_version go;                /* ... and runs this Go version */
  uint32_t abi_major, abi_minor; /* the plugin ABI this host speaks */
} idx_env;

/* true when the entry may load in env. Otherwise false, and `why` (n bytes,
 * may be NULL) gets one sentence naming both sides and the fix: the entry's
 * own error, or the first failing check of: plugin ABI (loads when the majors
 * are equal and the plugin's minor <= the host's), sonde version, kernel,
 * Go (only when env->have_go). On true, why is "". */
bool idx_verdict(const idx_entry *e, const idx_env *env, char *why, size_t n);

#endif
