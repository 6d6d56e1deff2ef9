/* buildinfo.h: the Go version and module information from .go.buildinfo.
 *
 * A pure parser over bytes: give it the .go.buildinfo section (or any
 * writable segment: the blob is found by its magic at 16-byte alignment).
 * Only the inline-string format of Go 1.18+ is supported; older binaries get
 * SE_NOTGO with a message saying so. Strings are copied into the arena. */
#ifndef SONDE_GORUNTIME_BUILDINFO_H
#define SONDE_GORUNTIME_BUILDINFO_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

typedef struct {
  const char *key, *value;
} bi_setting;

typedef struct {
  const char *go_version; /* "go1.27.3" or "go1.26.1 X:nogreenteagc" as in the binary */
  int go_major, go_minor, go_patch; /* 1, 27, 3; patch 0 for release candidates */
  const char *path;                 /* main package path */
  const char *mod_path, *mod_version, *mod_sum;
  bi_setting *settings;             /* build lines: -ldflags, CGO_ENABLED, vcs.revision, ... */
  size_t nsettings;
  size_t ndeps;
  const char *vcs, *vcs_revision, *vcs_time, *vcs_modified; /* NULL when absent */
} bi_info;

/* Finds and parses the blob inside [data, data+n). */
int bi_parse(const uint8_t *data, size_t n, arena *a, bi_info *out);
/* The value of a build setting, or NULL. */
const char *bi_setting_get(const bi_info *bi, const char *key);
/* Parses "go1.N[.P]..." into minor/patch; 0 on success. */
int bi_parse_version(const char *v, int *major, int *minor, int *patch);

#endif
