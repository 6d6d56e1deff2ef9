/* fuzz_pclntab.c: the PC-line table parser and every lookup sonde makes on
 * it (host/goruntime/pclntab.h): by pc, by name, each function's names,
 * pc-value tables, pcdata, funcdata and inline trees, its lines.
 *
 * Input: a 40-byte header of five little-endian u64 (text address, gofunc,
 * the table's address, the funcdata's address, the table's length), the
 * table, then the funcdata bytes that live outside it (Go <= 1.25). Seeds:
 * tests/fuzz/make_corpus.py. */
#include "fuzz.h"

#include <string.h>

#include "base/error.h"
#include "base/text.h"
#include "goruntime/pclntab.h"

enum { HDR = 40, MAX_FUNCS = 64, MAX_LINE_RUNS = 4096, MAX_FRAMES = 16 };

typedef struct {
  const uint8_t *p;
  size_t n;
  uint64_t addr;
} region;

typedef struct {
  region tab, fd;
} image;

static const uint8_t *region_at(const region *r, uint64_t addr, size_t n) {
  if (addr < r->addr || addr - r->addr > r->n || n > r->n - (addr - r->addr)) return NULL;
  return r->p + (addr - r->addr);
}

/* funcdata: inside the table (Go 1.26+) or in the bytes after it */
static const uint8_t *bytes_at(void *ctx, uint64_t addr, size_t n) {
  const image *im = ctx;
  const uint8_t *b = region_at(&im->tab, addr, n);
  return b ? b : region_at(&im->fd, addr, n);
}

static int on_line(void *ctx, uint64_t start, uint64_t end, const char *file, int32_t line) {
  size_t *runs = ctx;
  (void)line;
  FZ_CHECK(start <= end, "pcln_walk_lines: a run that ends before it starts [0x%llx, 0x%llx)", (unsigned long long)start,
           (unsigned long long)end);
  fz_touch(file);
  return ++*runs >= MAX_LINE_RUNS;
}

static void at_pc(const pcln_table *t, const pcln_func *f, uint64_t pc) {
  int32_t v;
  const char *file;
  (void)pcln_spdelta(t, f, pc, &v);
  if (pcln_fileline(t, f, pc, &file, &v)) fz_touch(file);
  for (uint32_t id = 0; id < 4; id++) (void)pcln_pcdata(t, f, id, pc);
  pcln_frame fr[MAX_FRAMES];
  int n = pcln_expand(t, f, pc, fr, MAX_FRAMES);
  FZ_CHECK(n >= 0 && n <= MAX_FRAMES, "pcln_expand returned %d frames for at most %d", n, MAX_FRAMES);
  for (int i = 0; i < n; i++) {
    fz_touch(fr[i].func);
    fz_touch(fr[i].file);
  }
}

static void exercise(const pcln_table *t, const pcln_func *f) {
  fz_touch(pcln_name(t, f));
  uint8_t id = pcln_funcid(t, f);
  for (int k = 0; k < PCLN_FID_COUNT_; k++) (void)pcln_is_special(t, id, (pcln_special)k);
  (void)pcln_flag(t, f);
  (void)pcln_args(t, f);
  for (uint32_t k = 0; k < 4; k++) (void)pcln_funcdata(t, f, k);
  uint64_t span = f->end > f->entry ? f->end - f->entry : 0;
  at_pc(t, f, f->entry);
  if (span) {
    at_pc(t, f, f->entry + span / 2);
    at_pc(t, f, f->end - 1);
  }
  size_t runs = 0;
  (void)pcln_walk_lines(t, f, on_line, &runs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < HDR) return 0;
  se_clear();
  uint64_t text = sonde_le64(data), gofunc = sonde_le64(data + 8), len = sonde_le64(data + 32);
  image im = {{data + HDR, size - HDR, sonde_le64(data + 16)}, {NULL, 0, sonde_le64(data + 24)}};
  if (len < im.tab.n) {
    im.fd.p = im.tab.p + len;
    im.fd.n = im.tab.n - (size_t)len;
    im.tab.n = (size_t)len;
  }
  pcln_table t;
  if (pcln_open(&t, im.tab.p, im.tab.n) != 0) return 0;
  pcln_set_text(&t, text ? text : pcln_header_text(&t));
  pcln_set_funcdata(&t, gofunc, bytes_at, &im);

  /* functions spread over the table, then the ones pcs fall in */
  uint64_t step = t.nfunc / MAX_FUNCS + 1;
  pcln_func f, first = {0}, last = {0};
  for (uint64_t i = 0; i < t.nfunc; i += step)
    if (pcln_func_at(&t, i, &f) == 0) exercise(&t, &f);
  if (pcln_func_at(&t, 0, &first) == 0 && pcln_func_at(&t, t.nfunc - 1, &last) == 0 && last.end > first.entry) {
    uint64_t lo = first.entry, span = last.end - first.entry;
    for (uint64_t k = 0; k <= 8; k++) {
      uint64_t pc = lo + span / 8 * k - (k == 8);
      if (pcln_find(&t, pc, &f) != 0) continue;
      FZ_CHECK(f.entry <= pc, "pcln_find(0x%llx) gave a function at 0x%llx, after it", (unsigned long long)pc,
               (unsigned long long)f.entry);
      exercise(&t, &f);
    }
  }
  (void)pcln_find(&t, 0, &f);
  (void)pcln_find(&t, UINT64_MAX, &f);
  if (pcln_find_name(&t, "runtime.main", &f) == 0) exercise(&t, &f);
  (void)pcln_find_name(&t, "main.main", &f);
  bool ok;
  (void)pcln_pcvalue(&t, 1, t.text, t.text, &ok);
  se_clear();
  return 0;
}
