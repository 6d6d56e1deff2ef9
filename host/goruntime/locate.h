/* locate.h: where a breakpoint goes. A location is a Go function by its
 * full name ("main.(*Server).handle") or a source line ("server.go:42",
 * "pkg/server.go:42", or an absolute path).
 *
 * Both are resolved through the pclntab alone, so they work on stripped
 * binaries. A function resolves to its entry. A line resolves to every pc
 * that starts it: the first pc of each run of instructions whose innermost
 * position is that file and line, in every function, so each inlined copy
 * of the line gets its own breakpoint. */
#ifndef SONDE_GORUNTIME_LOCATE_H
#define SONDE_GORUNTIME_LOCATE_H

#include <stdbool.h>
#include <stdint.h>

#include "goruntime/pclntab.h"

enum { GR_LOC_MAX_PCS = 64 };

typedef struct {
  bool is_line;     /* file:line, else a function */
  const char *file; /* for a line: the file as the table spells it */
  int32_t line;
  size_t npcs;
  uint64_t pcs[GR_LOC_MAX_PCS];  /* ascending */
  const char *func[GR_LOC_MAX_PCS]; /* the physical function holding each pc */
  bool inlined[GR_LOC_MAX_PCS];  /* the pc's code was inlined into func */
} gr_location;

/* Resolves spec against t (with its text address set). Errors are SE_USAGE
 * with a message for the user: no such function, no such file (with the
 * spelling to use), a file name that matches several files (listed), a line
 * with no code (with the nearest lines that have code), too many pcs. */
int gr_locate(const pcln_table *t, const char *spec, gr_location *out);

/* Whether spec reads as FILE:LINE rather than a function name. */
bool gr_location_is_line(const char *spec, char *file, size_t filesz, int32_t *line);

#endif
