/* pclntab.c: mirrors runtime/symtab.go (findfunc, pcvalue, step, funcline1,
 * funcdata) and runtime/symtabinl.go (inlineUnwinder).
 *
 * The one thing to know: every number in the table is untrusted. Helpers
 * below (rd32/rd64/cstr_at) return failure rather than read past `size`. */
#include "goruntime/pclntab.h"

#include <string.h>

#include "base/text.h"
#include "base/error.h"

enum {
  MAGIC_118 = 0xfffffff0u, /* Go 1.18, 1.19 */
  MAGIC_120 = 0xfffffff1u, /* Go 1.20 .. 1.27 */
  HDR_SIZE = 72,
  PCDATA_INLTREEINDEX = 2,
  FUNCDATA_INLTREE = 3,
  MAX_INLINE_DEPTH = 256,
};

static bool in_range(size_t off, size_t n, size_t size) { return off <= size && n <= size - off; }

#define le32 sonde_le32
#define le64 sonde_le64

static bool rd32(const pcln_table *t, size_t off, uint32_t *out) {
  if (!in_range(off, 4, t->size)) return false;
  *out = le32(t->data + off);
  return true;
}

/* A NUL-terminated string starting at `off` inside [lo, lo+len). */
static const char *cstr_at(const pcln_table *t, size_t lo, size_t len, uint64_t off) {
  if (off >= len) return NULL;
  const uint8_t *s = t->data + lo + off;
  if (!memchr(s, 0, len - (size_t)off)) return NULL;
  return (const char *)s;
}

size_t pcln_uvarint32(const uint8_t *p, size_t n, uint32_t *out) {
  uint32_t v = 0;
  for (size_t i = 0; i < n && i < 5; i++) {
    v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80)) {
      *out = v;
      return i + 1;
    }
  }
  return 0;
}

static const char *k_special_names[PCLN_FID_COUNT_] = {
    [PCLN_FID_WRAPPER] = "runtime.deferreturn",
    [PCLN_FID_GOPANIC] = "runtime.gopanic",
    [PCLN_FID_SIGPANIC] = "runtime.sigpanic",
    [PCLN_FID_PANICWRAP] = "runtime.panicwrap",
    [PCLN_FID_RUNTIME_MAIN] = "runtime.main",
    [PCLN_FID_COROSTART] = "runtime.corostart",
    [PCLN_FID_HANDLEASYNCEVENT] = "runtime.handleAsyncEvent",
    [PCLN_FID_RUNFINQ] = "runtime.runfinq",
    [PCLN_FID_RUNFINALIZERS] = "runtime.runFinalizers",
    [PCLN_FID_RUNCLEANUPS] = "runtime.runCleanups",
    [PCLN_FID_ASYNCPREEMPT] = "runtime.asyncPreempt",
    [PCLN_FID_DEBUGCALLV2] = "runtime.debugCallV2",
};

static void learn_special_ids(pcln_table *t) {
  for (int i = 0; i < PCLN_FID_COUNT_; i++) t->special[i] = -1;
  for (uint64_t i = 0; i < t->nfunc; i++) {
    pcln_func f;
    if (pcln_func_at(t, i, &f)) continue;
    const char *name = pcln_name(t, &f);
    if (!name || strncmp(name, "runtime.", 8) != 0) continue;
    for (int k = 0; k < PCLN_FID_COUNT_; k++)
      if (t->special[k] < 0 && !strcmp(name, k_special_names[k])) t->special[k] = pcln_funcid(t, &f);
  }
}

int pcln_open(pcln_table *t, const uint8_t *data, size_t size) {
  memset(t, 0, sizeof *t);
  t->data = data;
  t->size = size;
  if (size < HDR_SIZE) return se_set(SE_CORRUPT, "pclntab is %zu bytes, shorter than its header", size);
  t->magic = le32(data);
  if (t->magic == MAGIC_118) t->go118 = true;
  else if (t->magic != MAGIC_120)
    return se_set(SE_NOTGO, "unknown pclntab magic 0x%08x (Go 1.18 or newer is required)", t->magic);
  if (data[4] != 0 || data[5] != 0 || data[6] != 1 || data[7] != 8)
    return se_set(SE_CORRUPT, "pclntab header is not for amd64 (minLC %u, ptrSize %u)", data[6], data[7]);
  t->nfunc = le64(data + 8);
  t->nfiles = le64(data + 16);
  uint64_t offs[5];
  for (int i = 0; i < 5; i++) offs[i] = le64(data + 32 + 8 * i);
  /* funcname < cu < file < pc < pcln < end: each table ends where the next begins */
  uint64_t prev = HDR_SIZE;
  for (int i = 0; i < 5; i++) {
    if (offs[i] < prev || offs[i] > size)
      return se_set(SE_CORRUPT, "pclntab sub-table %d at offset %llu is out of order or past the end (%zu)", i,
                    (unsigned long long)offs[i], size);
    prev = offs[i];
  }
  t->funcname_off = (size_t)offs[0];
  t->funcname_len = (size_t)(offs[1] - offs[0]);
  t->cu_off = (size_t)offs[1];
  t->cu_len = (size_t)(offs[2] - offs[1]);
  t->file_off = (size_t)offs[2];
  t->file_len = (size_t)(offs[3] - offs[2]);
  t->pc_off = (size_t)offs[3];
  t->pc_len = (size_t)(offs[4] - offs[3]);
  t->pcln_off = (size_t)offs[4];
  t->pcln_len = size - (size_t)offs[4];
  if (t->nfunc == 0 || t->pcln_len < 16 || t->nfunc > t->pcln_len / 8 - 1)
    return se_set(SE_CORRUPT, "pclntab claims %llu functions, more than its %zu-byte function table holds",
                  (unsigned long long)t->nfunc, t->pcln_len);
  t->func_size = t->go118 ? 40 : 44;
  learn_special_ids(t);
  return 0;
}

void pcln_set_text(pcln_table *t, uint64_t text) { t->text = text; }
uint64_t pcln_header_text(const pcln_table *t) { return le64(t->data + 24); }

void pcln_set_funcdata(pcln_table *t, uint64_t gofunc, pcln_bytes_fn fn, void *ctx) {
  t->gofunc = gofunc;
  t->bytes_at = fn;
  t->bytes_ctx = ctx;
}

/* functab[i] = {entryoff, funcoff} */
static bool ftab(const pcln_table *t, uint64_t i, uint32_t *entryoff, uint32_t *funcoff) {
  size_t off = t->pcln_off + (size_t)i * 8;
  return rd32(t, off, entryoff) && rd32(t, off + 4, funcoff); /* format: pclntab functab */
}

int pcln_func_at(const pcln_table *t, uint64_t i, pcln_func *out) {
  uint32_t e0, fo, e1, fo1;
  if (i >= t->nfunc || !ftab(t, i, &e0, &fo) || !ftab(t, i + 1, &e1, &fo1))
    return se_set(SE_CORRUPT, "function index %llu out of range", (unsigned long long)i);
  size_t off = t->pcln_off + fo;
  if (fo >= t->pcln_len || !in_range(off, t->func_size, t->size))
    return se_set(SE_CORRUPT, "function record %llu is outside the pclntab", (unsigned long long)i);
  out->off = off;
  out->entry = t->text + e0;
  out->end = t->text + e1;
  return 0;
}

int pcln_find(const pcln_table *t, uint64_t pc, pcln_func *out) {
  uint32_t first, last, fo;
  if (!ftab(t, 0, &first, &fo) || !ftab(t, t->nfunc, &last, &fo)) return se_set(SE_CORRUPT, "corrupt functab");
  /* in offsets from text: text + entryoff can wrap past 2^64 in a corrupt table */
  uint64_t off = pc - t->text;
  if (!t->text || pc < t->text || off < first || off >= last)
    return se_set(SE_CORRUPT, "pc 0x%llx is outside Go text", (unsigned long long)pc);
  /* the last entry with entryoff <= off */
  uint64_t lo = 0, hi = t->nfunc; /* invariant: e(lo) <= off < e(hi) */
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    uint32_t e;
    if (!ftab(t, mid, &e, &fo)) return se_set(SE_CORRUPT, "corrupt functab");
    if (e <= off) lo = mid;
    else hi = mid;
  }
  int rc = pcln_func_at(t, lo, out);
  /* an unsorted (corrupt) functab can lead the search to a function that
   * does not hold pc: never answer with one */
  if (rc == 0 && (pc < out->entry || pc >= out->end))
    return se_set(SE_CORRUPT, "corrupt functab: no function holds pc 0x%llx", (unsigned long long)pc);
  return rc;
}

int pcln_find_name(const pcln_table *t, const char *name, pcln_func *out) {
  for (uint64_t i = 0; i < t->nfunc; i++) {
    if (pcln_func_at(t, i, out) != 0) continue;
    const char *n = pcln_name(t, out);
    if (n && !strcmp(n, name)) return 0;
  }
  se_clear();
  return se_set(SE_NOTGO, "no function %s in the pclntab", name);
}

static uint32_t fld32(const pcln_table *t, const pcln_func *f, size_t at) { return le32(t->data + f->off + at); }

int32_t pcln_args(const pcln_table *t, const pcln_func *f) { return (int32_t)fld32(t, f, 8); }

const char *pcln_name(const pcln_table *t, const pcln_func *f) {
  uint32_t nameoff = fld32(t, f, 4);
  return cstr_at(t, t->funcname_off, t->funcname_len, nameoff);
}

uint8_t pcln_funcid(const pcln_table *t, const pcln_func *f) { return t->data[f->off + (t->go118 ? 36 : 40)]; }
uint8_t pcln_flag(const pcln_table *t, const pcln_func *f) { return t->data[f->off + (t->go118 ? 37 : 41)]; }

bool pcln_is_special(const pcln_table *t, uint8_t funcid, pcln_special which) {
  return funcid != 0 && t->special[which] == (int)funcid;
}

/* One pc-value table as a sequence of runs: val holds up to end. Mirrors
 * runtime.step: a zero value delta ends the table except at entry. */
typedef struct {
  const uint8_t *p;
  size_t left;
  uint64_t end;
  int32_t val;
  bool ended;
} pcv_iter;

static bool pcv_init(const pcln_table *t, uint32_t tab_off, uint64_t entry, pcv_iter *it) {
  memset(it, 0, sizeof *it);
  if (tab_off == 0 || tab_off >= t->pc_len) return false;
  it->p = t->data + t->pc_off + tab_off;
  it->left = t->pc_len - tab_off;
  it->end = entry;
  it->val = -1;
  return true;
}

/* Steps to the next run; false at the table's end or on corruption. */
static bool pcv_next(pcv_iter *it, uint64_t entry) {
  if (it->ended || it->left == 0) return false;
  uint32_t uv, pcd;
  size_t n = pcln_uvarint32(it->p, it->left, &uv);
  if (!n || (uv == 0 && it->end != entry)) return (it->ended = true, false);
  it->p += n;
  it->left -= n;
  n = pcln_uvarint32(it->p, it->left, &pcd);
  if (!n) return (it->ended = true, false);
  it->p += n;
  it->left -= n;
  it->val = (int32_t)((uint32_t)it->val + (-(uv & 1) ^ (uv >> 1)));
  it->end += pcd;
  return true;
}

int32_t pcln_pcvalue(const pcln_table *t, uint32_t tab_off, uint64_t entry, uint64_t pc, bool *ok) {
  *ok = false;
  pcv_iter it;
  if (pc < entry || !pcv_init(t, tab_off, entry, &it)) return -1;
  while (pcv_next(&it, entry))
    if (pc < it.end) {
      *ok = true;
      return it.val;
    }
  return -1;
}

static const char *file_name(const pcln_table *t, const pcln_func *f, int32_t fileno);

int pcln_walk_lines(const pcln_table *t, const pcln_func *f, pcln_line_fn fn, void *ctx) {
  pcv_iter fi, li;
  if (!pcv_init(t, fld32(t, f, 20), f->entry, &fi) || !pcv_init(t, fld32(t, f, 24), f->entry, &li)) return -1;
  if (!pcv_next(&fi, f->entry) || !pcv_next(&li, f->entry)) return -1;
  uint64_t pc = f->entry;
  /* a run per change of either table; bounded by the function's extent */
  while (pc < f->end) {
    uint64_t end = fi.end < li.end ? fi.end : li.end;
    if (end > f->end) end = f->end;
    const char *file = file_name(t, f, fi.val);
    if (file) {
      int rc = fn(ctx, pc, end, file, li.val);
      if (rc) return rc;
    }
    pc = end;
    if (pc >= fi.end && !pcv_next(&fi, f->entry)) break;
    if (pc >= li.end && !pcv_next(&li, f->entry)) break;
  }
  return 0;
}

bool pcln_spdelta(const pcln_table *t, const pcln_func *f, uint64_t pc, int32_t *out) {
  bool ok;
  *out = pcln_pcvalue(t, fld32(t, f, 16), f->entry, pc, &ok);
  return ok;
}

/* The name of file number `fileno` of f's compilation unit, or NULL. */
static const char *file_name(const pcln_table *t, const pcln_func *f, int32_t fileno) {
  if (fileno < 0) return NULL;
  uint32_t cuoff = fld32(t, f, 32);
  uint64_t idx = (uint64_t)cuoff + (uint64_t)fileno;
  if (idx >= t->cu_len / 4) return NULL;
  uint32_t fileoff = le32(t->data + t->cu_off + idx * 4);
  if (fileoff == 0xffffffffu) return NULL;
  return cstr_at(t, t->file_off, t->file_len, fileoff);
}

bool pcln_fileline(const pcln_table *t, const pcln_func *f, uint64_t pc, const char **file, int32_t *line) {
  bool ok1, ok2;
  int32_t fileno = pcln_pcvalue(t, fld32(t, f, 20), f->entry, pc, &ok1);
  *line = pcln_pcvalue(t, fld32(t, f, 24), f->entry, pc, &ok2);
  *file = "?";
  if (!ok1 || !ok2) return false;
  const char *s = file_name(t, f, fileno);
  if (!s) return false;
  *file = s;
  return true;
}

int32_t pcln_pcdata(const pcln_table *t, const pcln_func *f, uint32_t id, uint64_t pc) {
  uint32_t npcdata = fld32(t, f, 28);
  if (id >= npcdata) return -1;
  uint32_t off;
  if (!rd32(t, f->off + t->func_size + (size_t)id * 4, &off)) return -1;
  bool ok;
  int32_t v = pcln_pcvalue(t, off, f->entry, pc, &ok);
  return ok ? v : -1;
}

/* Address of funcdata `id` of f, or 0. Mirrors runtime.funcdata. */
uint64_t pcln_funcdata(const pcln_table *t, const pcln_func *f, uint32_t id) {
  uint8_t nfuncdata = t->data[f->off + t->func_size - 1];
  uint32_t npcdata = fld32(t, f, 28);
  if (id >= nfuncdata || !t->gofunc) return 0;
  uint32_t off;
  if (!rd32(t, f->off + t->func_size + ((size_t)npcdata + id) * 4, &off) || off == 0xffffffffu) return 0;
  return t->gofunc + off;
}

int pcln_expand(const pcln_table *t, const pcln_func *f, uint64_t pc, pcln_frame *out, int max) {
  int n = 0;
  if (max <= 0) return 0;
  uint64_t tree = pcln_funcdata(t, f, FUNCDATA_INLTREE);
  size_t rec = t->go118 ? 20 : 16;
  uint64_t p = pc;
  int32_t idx = tree ? pcln_pcdata(t, f, PCDATA_INLTREEINDEX, p) : -1;
  /* mirrors runtime inlineUnwinder: each inlined call's file/line comes
   * from the physical function's tables at the current pc, then pc moves
   * to the call site (entry + parentPc). */
  for (int depth = 0; idx >= 0 && n < max - 1; depth++) {
    if (depth >= MAX_INLINE_DEPTH || !t->bytes_at) break;
    const uint8_t *r = t->bytes_at(t->bytes_ctx, tree + (uint64_t)idx * rec, rec);
    if (!r) break;
    uint8_t funcid = t->go118 ? r[2] : r[0];
    uint32_t nameoff = t->go118 ? le32(r + 12) : le32(r + 4);
    int32_t parentpc = (int32_t)(t->go118 ? le32(r + 16) : le32(r + 8));
    pcln_frame *fr = &out[n++];
    fr->func = cstr_at(t, t->funcname_off, t->funcname_len, nameoff);
    if (!fr->func) fr->func = "?";
    pcln_fileline(t, f, p, &fr->file, &fr->line);
    fr->funcid = funcid;
    fr->inlined = true;
    if (parentpc < 0 || f->entry + (uint64_t)parentpc >= f->end) break;
    p = f->entry + (uint64_t)parentpc;
    idx = pcln_pcdata(t, f, PCDATA_INLTREEINDEX, p);
  }
  pcln_frame *fr = &out[n++];
  fr->func = pcln_name(t, f);
  if (!fr->func) fr->func = "?";
  pcln_fileline(t, f, p, &fr->file, &fr->line);
  fr->funcid = pcln_funcid(t, f);
  fr->inlined = false;
  return n;
}
