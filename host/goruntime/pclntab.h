/* pclntab.h: Go's PC-line table: PC -> function, file, line, SP delta and
 * inlined frames. It survives `-ldflags='-s -w'`, so sonde symbolizes from it
 * and never from DWARF.
 *
 * A pure parser over a byte range (the .gopclntab section). Every offset read
 * from the table is bounds-checked: a corrupt table yields errors or "not
 * found", never a read outside the bytes. Formats: Go 1.18-1.19 (magic
 * 0xfffffff0, 40-byte _func) and 1.20+ (0xfffffff1, 44-byte _func). */
#ifndef SONDE_GORUNTIME_PCLNTAB_H
#define SONDE_GORUNTIME_PCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Resolves a runtime address to `n` readable bytes, or NULL. Used for
 * funcdata (the inline tree), which lives outside .gopclntab before 1.26. */
typedef const uint8_t *(*pcln_bytes_fn)(void *ctx, uint64_t addr, size_t n);

/* Special functions, resolved by name when the table is opened because
 * FuncID numbers change between Go versions (docs/go-runtime.md section 1). */
typedef enum {
  PCLN_FID_WRAPPER,  /* learnt from runtime.deferreturn, tagged Wrapper in every version */
  PCLN_FID_GOPANIC,
  PCLN_FID_SIGPANIC,
  PCLN_FID_PANICWRAP,
  PCLN_FID_RUNTIME_MAIN,
  PCLN_FID_COROSTART,
  PCLN_FID_HANDLEASYNCEVENT,
  PCLN_FID_RUNFINQ,        /* <= 1.24 */
  PCLN_FID_RUNFINALIZERS,  /* 1.25+ */
  PCLN_FID_RUNCLEANUPS,    /* 1.25+ */
  PCLN_FID_ASYNCPREEMPT,
  PCLN_FID_DEBUGCALLV2,
  PCLN_FID_COUNT_
} pcln_special;

enum { PCLN_FLAG_TOPFRAME = 1, PCLN_FLAG_SPWRITE = 2, PCLN_FLAG_ASM = 4 };

typedef struct {
  const uint8_t *data;
  size_t size;
  uint32_t magic;
  bool go118;              /* 1.18/1.19 layout */
  uint64_t nfunc, nfiles;
  uint64_t text;           /* runtime address functab entry offsets are relative to */
  /* sub-tables: [off, off+len) within data */
  size_t funcname_off, funcname_len, cu_off, cu_len, file_off, file_len, pc_off, pc_len, pcln_off, pcln_len;
  size_t func_size;        /* sizeof(_func): 40 or 44 */
  int special[PCLN_FID_COUNT_]; /* FuncID of each special function, -1 when absent */
  /* funcdata */
  uint64_t gofunc;         /* moduledata.gofunc; 0 = unknown (no inline expansion) */
  pcln_bytes_fn bytes_at;
  void *bytes_ctx;
} pcln_table;

typedef struct {
  size_t off;     /* offset of the _func record within data */
  uint64_t entry; /* runtime entry PC */
  uint64_t end;   /* entry of the next function */
} pcln_func;

typedef struct {
  const char *func; /* NUL-terminated, inside the table */
  const char *file;
  int32_t line;
  uint8_t funcid;
  bool inlined;
} pcln_frame;

/* Parses the header and learns the special FuncIDs. Lookups need the text
 * address: pcln_set_text (moduledata.text of the running program). */
int pcln_open(pcln_table *t, const uint8_t *data, size_t size);
void pcln_set_text(pcln_table *t, uint64_t text);
/* pcHeader.textStart: the link-time text address for Go <= 1.25, 0 after. */
uint64_t pcln_header_text(const pcln_table *t);
void pcln_set_funcdata(pcln_table *t, uint64_t gofunc, pcln_bytes_fn fn, void *ctx);

/* 0 when pc is inside a function, else a negative code. */
int pcln_find(const pcln_table *t, uint64_t pc, pcln_func *out);
/* The function named `name` (a linear scan: for start-up, not hot paths). */
int pcln_find_name(const pcln_table *t, const char *name, pcln_func *out);
/* Function at functab index i (0 <= i < nfunc). */
int pcln_func_at(const pcln_table *t, uint64_t i, pcln_func *out);
const char *pcln_name(const pcln_table *t, const pcln_func *f);
uint8_t pcln_funcid(const pcln_table *t, const pcln_func *f);
uint8_t pcln_flag(const pcln_table *t, const pcln_func *f);
bool pcln_is_special(const pcln_table *t, uint8_t funcid, pcln_special which);

/* SP delta at pc (pcsp table); false when the function has none or it is corrupt. */
bool pcln_spdelta(const pcln_table *t, const pcln_func *f, uint64_t pc, int32_t *out);
/* File and line of the physical function at pc. */
bool pcln_fileline(const pcln_table *t, const pcln_func *f, uint64_t pc, const char **file, int32_t *line);
/* _func.args: bytes of arguments (and, with the register ABI, their spill
 * slots); PCLN_ARGS_UNKNOWN for some assembly and reflect frames. */
enum { PCLN_ARGS_UNKNOWN = (int32_t)0x80000000 };
int32_t pcln_args(const pcln_table *t, const pcln_func *f);
/* Runtime address of funcdata `id` of f (abi.FUNCDATA_*), 0 when none or
 * when funcdata is not bound (pcln_set_funcdata). */
uint64_t pcln_funcdata(const pcln_table *t, const pcln_func *f, uint32_t id);
/* Value of PCDATA table `id` at pc; -1 when absent. */
int32_t pcln_pcdata(const pcln_table *t, const pcln_func *f, uint32_t id, uint64_t pc);

/* Logical frames at symbolization pc `pc` in f, innermost inlined call first,
 * the physical function last. Returns the number written (at most max), or
 * a negative code. */
int pcln_expand(const pcln_table *t, const pcln_func *f, uint64_t pc, pcln_frame *out, int max);

/* Calls fn for every run of pcs [start, end) of f that share one innermost
 * position (file, line), in pc order: inlined code reports the inlined
 * function's file and line, as the runtime's own pcfile/pcln tables do. A
 * non-zero return from fn ends the walk and is returned. Returns 0, or a
 * negative code when f's tables are corrupt. */
typedef int (*pcln_line_fn)(void *ctx, uint64_t start, uint64_t end, const char *file, int32_t line);
int pcln_walk_lines(const pcln_table *t, const pcln_func *f, pcln_line_fn fn, void *ctx);

/* Decodes one unsigned LEB128 varint of at most 5 bytes (exposed for tests).
 * Returns bytes consumed, 0 when truncated or too long. */
size_t pcln_uvarint32(const uint8_t *p, size_t n, uint32_t *out);
/* Runs a pc-value table from entry; -1 and *ok=false when pc is not covered. */
int32_t pcln_pcvalue(const pcln_table *t, uint32_t tab_off, uint64_t entry, uint64_t pc, bool *ok);

#endif
