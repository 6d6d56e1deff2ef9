/* globals_code.c: finding runtime globals in a stripped binary.
 *
 * docs/go-runtime.md section 3: the pclntab survives -s -w, so runtime
 * functions are found by name and their RIP-relative operands decoded (Zydis)
 * to the addresses of the globals they load. All addresses here are link-time
 * addresses, like the symbol table's; the load bias is added at bind time. */
#include <Zydis/Zydis.h>
#include <elf.h>
#include <string.h>

#include "base/error.h"
#include "goruntime/globals.h"

enum { MAX_DECODE = 1024, MAX_WAITREASONS = 256, MAX_WAITREASON_LEN = 128 };

static bool seg_has(const gr_image *img, uint64_t addr, uint64_t n, uint32_t flag) {
  for (size_t i = 0; i < img->nsegs; i++) {
    const gr_segment *s = &img->segs[i];
    if ((s->flags & flag) && addr >= s->vaddr && addr - s->vaddr <= s->memsz && n <= s->memsz - (addr - s->vaddr))
      return true;
  }
  return false;
}

static bool rd64(const gr_image *img, uint64_t addr, uint64_t *out) {
  const uint8_t *b = gr_image_bytes_at(img, addr, 8);
  if (!b) return false;
  memcpy(out, b, 8);
  return true;
}

/* firstmoduledata: 1.26+ is exactly the .go.module section; before, a
 * word in .noptrdata equal to the pclntab address (moduledata.pcHeader)
 * where moduledata.funcnametab's data pointer is funcnametab's address
 * (pcHeader + funcnameOffset). */
static int find_moduledata(const gr_image *img, const pcln_table *t, const gr_layout *L, uint64_t *out) {
  const gr_section *pcs = gr_image_gopclntab(img);
  if (!pcs) return se_set(SE_NOTGO, "no .gopclntab section to anchor runtime.firstmoduledata");
  uint64_t pch = pcs->addr;
  const gr_section *gm = gr_image_section(img, ".go.module");
  const gr_section *nd = gr_image_section(img, ".noptrdata");
  /* .go.module holds only moduledata: its start is the one candidate */
  uint64_t lo = gm ? gm->addr : nd ? nd->addr : 0, hi = gm ? gm->addr + 16 : nd ? nd->addr + nd->size : 0;
  if (!lo) return se_set(SE_NOTGO, "no .go.module or .noptrdata section to search for runtime.firstmoduledata");
  /* moduledata is initialized data: a section with no bytes in the file
   * cannot hold it, and its size is unchecked (elfimage.c) */
  if ((gm ? gm : nd)->type == SHT_NOBITS)
    return se_set(SE_NOTGO, "%s has no bytes in the file: no runtime.firstmoduledata there", gm ? ".go.module" : ".noptrdata");
  for (uint64_t c = lo; c + 16 <= hi; c += 8) {
    uint64_t w0, w1, text, minpc, maxpc;
    if (!rd64(img, c + (uint64_t)GR_OFF(L, MD_PCHEADER), &w0) || w0 != pch) continue;
    if (!rd64(img, c + (uint64_t)GR_OFF(L, MD_FUNCNAMETAB), &w1) || w1 != pch + t->funcname_off) continue;
    /* text <= minpc < maxpc, all in executable memory */
    if (!rd64(img, c + (uint64_t)GR_OFF(L, MD_TEXT), &text) || !rd64(img, c + (uint64_t)GR_OFF(L, MD_MINPC), &minpc) ||
        !rd64(img, c + (uint64_t)GR_OFF(L, MD_MAXPC), &maxpc))
      continue;
    if (text > minpc || minpc >= maxpc || !seg_has(img, minpc, maxpc - minpc, 1 /* PF_X */)) continue;
    *out = c;
    return 0;
  }
  return se_set(SE_NOTGO, "cannot find runtime.firstmoduledata (no %s word points at the pclntab at 0x%llx)",
                gm ? ".go.module" : ".noptrdata", (unsigned long long)pch);
}

/* The first `want` RIP-relative memory operands of function `name`. */
static int rip_operands(const gr_image *img, const pcln_table *t, uint64_t text, const char *name, uint64_t *out,
                        int want) {
  pcln_func f;
  if (pcln_find_name(t, name, &f) != 0)
    return se_set(SE_NOTGO, "the pclntab has no %s, which sonde needs to find runtime variables", name);
  /* entries are text-relative until pcln_set_text: make them link-time */
  uint64_t entry = text + (f.entry - t->text), len = f.end - f.entry;
  if (len > MAX_DECODE) len = MAX_DECODE;
  const uint8_t *code = gr_image_bytes_at(img, entry, (size_t)len);
  if (!code) return se_set(SE_NOTGO, "the code of %s is not in the file", name);
  int n = gr_decode_rip_operands(code, (size_t)len, entry, out, want);
  if (n < 0) return se_wrap(n, "%s", name);
  if (n < want) return se_set(SE_NOTGO, "%s does not load the runtime variables sonde expects", name);
  return 0;
}

int gr_decode_rip_operands(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, int want) {
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction ins;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  int n = 0;
  for (size_t off = 0; off < len && n < want;) {
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, (ZyanUSize)(len - off), &ins, ops)))
      return se_set(SE_NOTGO, "cannot decode the instruction at +0x%zx", off);
    for (int k = 0; k < ins.operand_count_visible && n < want; k++) {
      ZyanU64 abs;
      if (ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[k].mem.base == ZYDIS_REGISTER_RIP &&
          ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&ins, &ops[k], addr + off, &abs)))
        out[n++] = abs;
    }
    off += ins.length;
  }
  return n;
}

/* waitReasonStrings: a [N]string in .data whose entry 0 is "" and entry 1
 * is "GC assist marking" (every version since Go 1.13). */
static int find_waitreasons(const gr_image *img, uint64_t *addr, uint64_t *size) {
  const gr_section *d = gr_image_section(img, ".data");
  const uint8_t *b = gr_image_section_bytes(img, d);
  if (!b) return se_set(SE_NOTGO, "no .data section to search for runtime.waitReasonStrings");
  static const char k_first[] = "GC assist marking";
  for (uint64_t off = 0; off + 48 <= d->size; off += 8) {
    uint64_t e[4];
    memcpy(e, b + off, sizeof e);
    if (e[0] || e[1] || e[3] != sizeof k_first - 1) continue;
    const uint8_t *s = gr_image_bytes_at(img, e[2], sizeof k_first - 1);
    if (!s || memcmp(s, k_first, sizeof k_first - 1)) continue;
    /* count entries: each a readable string of sane length */
    uint64_t n = 2;
    while (n < MAX_WAITREASONS && off + (n + 1) * 16 <= d->size) {
      uint64_t p, l;
      memcpy(&p, b + off + n * 16, 8);
      memcpy(&l, b + off + n * 16 + 8, 8);
      if (l == 0 || l > MAX_WAITREASON_LEN || !gr_image_bytes_at(img, p, (size_t)l)) break;
      n++;
    }
    *addr = d->addr + off;
    *size = n * 16;
    return 0;
  }
  return se_set(SE_NOTGO, "cannot find runtime.waitReasonStrings in .data");
}

/* runtime.mheap_, for the heap model. runtime.gcSweep (mgc.go) starts with
 * lock(&mheap_.lock), then mheap_.sweepgen += 2: its operands 1 and 2 are
 * mheap_ (lock is mheap's first field) and mheap_.sweepgen, which must be
 * sweepgen's offset apart. runtime.(*mcache).allocLarge (mcache.go) loads
 * mheap_ first: the two must agree. Verified on Go 1.19 and 1.21-1.27,
 * stripped, PIE, -race, PGO, -N -l and external linking builds. */
static int find_mheap(const gr_image *img, const pcln_table *t, uint64_t text, const gr_layout *L, uint64_t *out) {
  if (!GR_HAS(L, MH_SWEEPGEN) || !GR_HAS(L, MH_ALLSPANS))
    return se_set(SE_NOTGO, "the layout has no runtime.mheap fields to check runtime.mheap_ against");
  uint64_t g[3], a[1];
  int rc = rip_operands(img, t, text, "runtime.gcSweep", g, 3);
  if (rc == 0) rc = rip_operands(img, t, text, "runtime.(*mcache).allocLarge", a, 1);
  if (rc) return rc;
  uint64_t h = g[1];
  if (g[2] - h != (uint64_t)GR_OFF(L, MH_SWEEPGEN) || a[0] != h)
    return se_set(SE_NOTGO, "runtime.gcSweep and runtime.(*mcache).allocLarge do not load runtime.mheap_ as sonde "
                  "expects (0x%llx, 0x%llx, 0x%llx)", (unsigned long long)g[1], (unsigned long long)g[2],
                  (unsigned long long)a[0]);
  if (!seg_has(img, h, (uint64_t)GR_OFF(L, MH_ALLSPANS) + L->fsize[GRL_MH_ALLSPANS], 2 /* PF_W */))
    return se_set(SE_NOTGO, "the runtime.mheap_ candidate 0x%llx is not writable data", (unsigned long long)h);
  *out = h;
  return 0;
}

/* runtime.memstats. runtime.(*mcache).releaseAll (mcache.go) loads
 * &mheap_.sweepgen, &emptymspan, then memstats twice, as the receiver of
 * memstats.heapStats.acquire() and .release(): operand 0 must be mheap_'s
 * sweepgen, operands 2 and 3 the same writable address. Verified with
 * find_mheap's builds. */
static int find_memstats(const gr_image *img, const pcln_table *t, uint64_t text, const gr_layout *L, uint64_t mheap,
                         uint64_t *out) {
  if (!mheap || !GR_HAS(L, MST_NUMGC)) return se_set(SE_NOTGO, "no runtime.mheap_ to check runtime.memstats against");
  uint64_t r[4];
  int rc = rip_operands(img, t, text, "runtime.(*mcache).releaseAll", r, 4);
  if (rc) return rc;
  if (r[0] != mheap + (uint64_t)GR_OFF(L, MH_SWEEPGEN) || r[2] != r[3] || r[2] == mheap)
    return se_set(SE_NOTGO, "runtime.(*mcache).releaseAll does not load runtime.memstats as sonde expects");
  if (!seg_has(img, r[2], (uint64_t)GR_OFF(L, MST_NUMGC) + L->fsize[GRL_MST_NUMGC], 2 /* PF_W */))
    return se_set(SE_NOTGO, "the runtime.memstats candidate 0x%llx is not writable data", (unsigned long long)r[2]);
  *out = r[2];
  return 0;
}

/* runtime.semtable. runtime.semrelease1 (sema.go) starts with
 * semtable.rootFor(addr): its operand 0. runtime.semacquire1 does the same
 * twice among its first four operands ([0] and [2] in 1.21+, [2] and [3]
 * in 1.19, between blockprofilerate and mutexprofilerate): the check. */
static int find_semtable(const gr_image *img, const pcln_table *t, uint64_t text, const gr_layout *L, uint64_t *out) {
  uint64_t r[1], a[4];
  int rc = rip_operands(img, t, text, "runtime.semrelease1", r, 1);
  if (rc == 0) rc = rip_operands(img, t, text, "runtime.semacquire1", a, 4);
  if (rc) return rc;
  int seen = 0;
  for (int i = 0; i < 4; i++) seen += a[i] == r[0];
  if (seen < 2)
    return se_set(SE_NOTGO, "runtime.semrelease1 and runtime.semacquire1 do not load runtime.semtable as sonde expects");
  if (!seg_has(img, r[0], GR_SIZE(L, SZ_SEMTABLE) ? GR_SIZE(L, SZ_SEMTABLE) : 8, 2 /* PF_W */))
    return se_set(SE_NOTGO, "the runtime.semtable candidate 0x%llx is not writable data", (unsigned long long)r[0]);
  *out = r[0];
  return 0;
}

int gr_globals_from_code(const gr_image *img, const pcln_table *t, const gr_layout *L, gr_globals *out) {
  memset(out, 0, sizeof *out);
  out->source = "code and data patterns";
  uint64_t md = 0, text = 0, ops[2] = {0, 0};
  int rc = find_moduledata(img, t, L, &md);
  if (rc) return rc;
  out->addr[GR_GLOBAL_FIRSTMODULEDATA] = md;
  out->size[GR_GLOBAL_FIRSTMODULEDATA] = GR_SIZE(L, SZ_MODULEDATA);
  if (!rd64(img, md + (uint64_t)GR_OFF(L, MD_TEXT), &text)) return se_set(SE_NOTGO, "cannot read moduledata.text");
  /* forEachGRace: MOVQ runtime.allglen(SB), CX; MOVQ runtime.allgptr(SB), BX */
  if ((rc = rip_operands(img, t, text, "runtime.forEachGRace", ops, 2))) return rc;
  for (int i = 0; i < 2; i++)
    if (!seg_has(img, ops[i], 8, 2 /* PF_W */))
      return se_set(SE_NOTGO, "runtime.forEachGRace's operand %d (0x%llx) is not writable data: not %s", i + 1,
                    (unsigned long long)ops[i], i ? "runtime.allgptr" : "runtime.allglen");
  out->addr[GR_GLOBAL_ALLGLEN] = ops[0];
  out->addr[GR_GLOBAL_ALLGPTR] = ops[1];
  out->size[GR_GLOBAL_ALLGLEN] = out->size[GR_GLOBAL_ALLGPTR] = 8;
  rc = find_waitreasons(img, &out->addr[GR_GLOBAL_WAITREASONSTRINGS], &out->size[GR_GLOBAL_WAITREASONSTRINGS]);
  if (rc) return rc;
  /* optional: only the heap model needs it, and says so when it is missing */
  if (find_mheap(img, t, text, L, &out->addr[GR_GLOBAL_MHEAP]) != 0) se_clear();
  if (find_memstats(img, t, text, L, out->addr[GR_GLOBAL_MHEAP], &out->addr[GR_GLOBAL_MEMSTATS]) != 0) se_clear();
  if (find_semtable(img, t, text, L, &out->addr[GR_GLOBAL_SEMTABLE]) != 0) se_clear();
  return 0;
}
