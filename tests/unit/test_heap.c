/* test_heap.c: gr_heap_parse_span, the one place span bytes from a target
 * are trusted or not. Crafted mspans, laid out as Go 1.27 and Go 1.19 lay
 * them out (offsets from index/layouts), good and hostile: a hostile span
 * is refused, never turned into counts. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "goruntime/heap.h"

enum { SPAN_SIZE = 168, SWEEPGEN = 40 };

/* nelems_width 2: Go 1.22+ (uint16 at 50); 8: Go 1.19-1.21 (uintptr at 56) */
static void layout(gr_layout *L, int nelems_width) {
  gr_layout_init(L);
  struct {
    gr_field f;
    int64_t off;
    uint64_t size;
  } rows[] = {{GRL_MS_STARTADDR, 24, 8}, {GRL_MS_NPAGES, 32, 8},   {GRL_MS_FREEINDEX, 48, 2},
              {GRL_MS_NELEMS, nelems_width == 2 ? 50 : 56, (uint64_t)nelems_width},
              {GRL_MS_ALLOCBITS, 72, 8},  {GRL_MS_SWEEPGEN, 88, 4}, {GRL_MS_ALLOCCOUNT, 96, 2},
              {GRL_MS_SPANCLASS, 98, 1},  {GRL_MS_STATE, 99, 1},    {GRL_MS_ELEMSIZE, 104, 8}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    L->off[rows[i].f] = rows[i].off;
    L->fsize[rows[i].f] = rows[i].size;
  }
  L->size[GRL_SZ_MSPAN] = SPAN_SIZE;
}

static void put(uint8_t *b, int64_t off, uint64_t v, size_t n) { memcpy(b + off, &v, n); }

/* A one-page span of 48-byte objects (class 5, scan), 100 of 170 in use. */
static void good_span(const gr_layout *L, uint8_t *b) {
  memset(b, 0, SPAN_SIZE);
  put(b, L->off[GRL_MS_STARTADDR], 0xc000100000ull, 8);
  put(b, L->off[GRL_MS_NPAGES], 1, 8);
  put(b, L->off[GRL_MS_NELEMS], 170, L->fsize[GRL_MS_NELEMS]);
  put(b, L->off[GRL_MS_ALLOCCOUNT], 100, 2);
  put(b, L->off[GRL_MS_SPANCLASS], 5 << 1, 1);
  put(b, L->off[GRL_MS_STATE], GR_SPAN_INUSE, 1);
  put(b, L->off[GRL_MS_ELEMSIZE], 48, 8);
  put(b, L->off[GRL_MS_SWEEPGEN], SWEEPGEN, 4);
}

static void test_heap_good_span_is_read_at_each_nelems_width(void **state) {
  (void)state;
  for (int w = 2; w <= 8; w += 6) {
    gr_layout L;
    layout(&L, w);
    uint8_t b[SPAN_SIZE];
    good_span(&L, b);
    gr_span sp;
    uint8_t st;
    assert_true(gr_heap_parse_span(&L, b, SWEEPGEN, &sp, &st));
    assert_int_equal(st, GR_SPAN_INUSE);
    assert_int_equal(sp.base, 0xc000100000ull);
    assert_int_equal(sp.nelems, 170);
    assert_int_equal(sp.nalloc, 100);
    assert_int_equal(sp.sizeclass, 5);
    assert_false(sp.noscan);
    assert_int_equal(sp.elemsize, 48);
    assert_true(sp.swept);
  }
}

/* mheap.go: h->sweepgen swept; +3 swept then cached; -2, -1, +1 not swept;
 * -1 being swept (its freeindex and alloc bits change under the stop) */
static void test_heap_sweepgen_says_whether_counts_are_exact(void **state) {
  (void)state;
  gr_layout L;
  layout(&L, 2);
  uint8_t b[SPAN_SIZE];
  struct {
    uint32_t sg;
    bool swept, sweeping;
  } cases[] = {{SWEEPGEN, true, false}, {SWEEPGEN + 3, true, false}, {SWEEPGEN - 2, false, false},
               {SWEEPGEN - 1, false, true}, {SWEEPGEN + 1, false, false}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    good_span(&L, b);
    put(b, L.off[GRL_MS_SWEEPGEN], cases[i].sg, 4);
    put(b, L.off[GRL_MS_FREEINDEX], 0, 2); /* as sweep leaves it before the alloc bits change */
    gr_span sp;
    uint8_t st;
    assert_true(gr_heap_parse_span(&L, b, SWEEPGEN, &sp, &st));
    assert_int_equal(sp.swept, cases[i].swept);
    /* being swept: every slot counts as allocated, whatever freeindex says */
    assert_int_equal(sp.freeindex, cases[i].sweeping ? sp.nelems : 0);
  }
}

static void test_heap_hostile_spans_are_refused(void **state) {
  (void)state;
  gr_layout L;
  layout(&L, 8);
  struct {
    gr_field f;
    uint64_t v;
    const char *why;
  } bad[] = {
      {GRL_MS_NPAGES, 0, "no pages"},
      {GRL_MS_NPAGES, 1ull << 40, "more than 32 GiB"},
      {GRL_MS_STARTADDR, ~0ull - 100, "wraps the address space"},
      {GRL_MS_ALLOCCOUNT, 171, "more allocated than slots"},
      {GRL_MS_NELEMS, 1ull << 33, "more slots than 32 bits"},
      {GRL_MS_NELEMS, 1000, "1000 48-byte objects do not fit in one page"},
      {GRL_MS_ELEMSIZE, 0, "no element size"},
      {GRL_MS_SPANCLASS, 68 << 1, "size class 68 does not exist"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t b[SPAN_SIZE];
    good_span(&L, b);
    put(b, L.off[bad[i].f], bad[i].v, L.fsize[bad[i].f]);
    gr_span sp;
    uint8_t st;
    if (gr_heap_parse_span(&L, b, SWEEPGEN, &sp, &st)) fail_msg("accepted a span with %s", bad[i].why);
  }
}

/* Stacks and other manual spans are counted apart, never checked as heap */
static void test_heap_manual_span_is_not_heap(void **state) {
  (void)state;
  gr_layout L;
  layout(&L, 2);
  uint8_t b[SPAN_SIZE];
  good_span(&L, b);
  put(b, L.off[GRL_MS_STATE], GR_SPAN_MANUAL, 1);
  put(b, L.off[GRL_MS_ELEMSIZE], 0, 8); /* stacks have none */
  gr_span sp;
  uint8_t st;
  assert_true(gr_heap_parse_span(&L, b, SWEEPGEN, &sp, &st));
  assert_int_equal(st, GR_SPAN_MANUAL);
}

/* abi.Name: flags byte, uvarint length, bytes */
static void test_heap_type_names_decode(void **state) {
  (void)state;
  char dst[GR_MAX_TYPE_NAME + 8];
  size_t need;
  const uint8_t simple[] = {0, 9, 'm', 'a', 'i', 'n', '.', 'n', 'o', 'd', 'e'};
  assert_true(gr_heap_decode_name(simple, sizeof simple, false, dst, sizeof dst, &need));
  assert_string_equal(dst, "main.node");
  assert_int_equal(need, sizeof simple);
  /* TFlagExtraStar: the descriptor of T stores "*T" */
  const uint8_t star[] = {0, 5, '*', 'm', '.', 'T', 'x'};
  assert_true(gr_heap_decode_name(star, sizeof star, true, dst, sizeof dst, &need));
  assert_string_equal(dst, "m.Tx");
  assert_true(gr_heap_decode_name(star, sizeof star, false, dst, sizeof dst, &need));
  assert_string_equal(dst, "*m.Tx");
  /* a two-byte length (200), read in part: cut, with need saying how much to read */
  uint8_t longname[3 + 200];
  longname[0] = 0;
  longname[1] = 200 | 0x80;
  longname[2] = 1;
  memset(longname + 3, 'x', 200);
  assert_true(gr_heap_decode_name(longname, 64, false, dst, sizeof dst, &need));
  assert_int_equal(need, 203);
  assert_int_equal(strlen(dst), 61);
  assert_string_equal(dst + 58, "...");
  assert_true(gr_heap_decode_name(longname, 203, false, dst, sizeof dst, &need));
  assert_int_equal(strlen(dst), 200);
  /* a name over GR_MAX_TYPE_NAME is cut there */
  uint8_t *huge = calloc(1, 3 + 5000);
  assert_non_null(huge);
  huge[1] = (uint8_t)(5000 & 0x7f) | 0x80;
  huge[2] = 5000 >> 7;
  memset(huge + 3, 'y', 5000);
  assert_true(gr_heap_decode_name(huge, 3 + 5000, false, dst, sizeof dst, &need));
  assert_int_equal(strlen(dst), GR_MAX_TYPE_NAME);
  assert_string_equal(dst + GR_MAX_TYPE_NAME - 3, "...");
  free(huge);
  /* hostile: no length, an endless varint, an empty name */
  const uint8_t shortb[] = {0};
  assert_false(gr_heap_decode_name(shortb, sizeof shortb, false, dst, sizeof dst, &need));
  const uint8_t endless[] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  assert_false(gr_heap_decode_name(endless, sizeof endless, false, dst, sizeof dst, &need));
  const uint8_t empty[] = {0, 0};
  assert_false(gr_heap_decode_name(empty, sizeof empty, false, dst, sizeof dst, &need));
}

/* address -> span and object start; spans are sorted by base */
static void test_heap_find_maps_addresses_to_objects(void **state) {
  (void)state;
  gr_span spans[] = {
      {.base = 0x10000, .npages = 1, .elemsize = 48, .nelems = 170},  /* 8160 of 8192 bytes in slots */
      {.base = 0x20000, .npages = 5, .elemsize = 40960, .nelems = 1}, /* a large object */
  };
  gr_heap h = {.spans = spans, .n = 2};
  uint64_t obj = 0;
  assert_ptr_equal(gr_heap_find(&h, 0x10000 + 100, &obj), &spans[0]);
  assert_int_equal(obj, 0x10000 + 96);
  assert_null(gr_heap_find(&h, 0x10000 + 8170, &obj)); /* the tail no slot covers */
  assert_null(gr_heap_find(&h, 0xffff, &obj));
  assert_null(gr_heap_find(&h, 0x12000, &obj));
  assert_ptr_equal(gr_heap_find(&h, 0x20000 + 40000, &obj), &spans[1]);
  assert_int_equal(obj, 0x20000);
  assert_null(gr_heap_find(&h, 0x20000 + 40960, &obj));
}


/* ---- types: gr_heap_read_types over crafted memory ------------------------
 * The "target" is this test process itself (process_vm_readv on our own
 * pid), laid out as Go 1.27 lays it out (index/layouts/go1.27.yaml): a
 * types section with descriptors and names, a span of 640-byte slots whose
 * headers point at good, oversized, unnamed, unmapped and garbage types,
 * and large spans. Every bad header is counted, none followed, no crash. */

enum { TYPES_SIZE = 4096, SLOT = 640, NSLOTS = 12 };
static _Alignas(64) uint8_t g_types[TYPES_SIZE];
static _Alignas(64) uint8_t g_span[NSLOTS * SLOT];
static _Alignas(64) uint8_t g_large[8192];
static uint8_t g_allocbits[32];

static uint64_t addr_of(const void *p) { return (uint64_t)(uintptr_t)p; }

/* A descriptor at types+at: Size_ = size, Str = name_off (0: none). */
static void put_type(const gr_layout *L, size_t at, uint64_t size, int32_t name_off, uint8_t tflag) {
  put(g_types + at, L->off[GRL_TY_SIZE], size, 8);
  put(g_types + at, L->off[GRL_TY_STR], (uint64_t)(uint32_t)name_off, 4);
  g_types[at + L->off[GRL_TY_TFLAG]] = tflag;
}

static void test_heap_types_from_headers_good_and_hostile(void **state) {
  (void)state;
  gr_program p;
  memset(&p, 0, sizeof p);
  char path[4096];
  snprintf(path, sizeof path, "%s/go1.27.yaml", SONDE_LAYOUTS_DIR);
  assert_int_equal(gr_layout_from_table(path, 27, &p.layout), 0);
  const gr_layout *L = &p.layout;
  tgt_mem mem;
  assert_int_equal(tgt_mem_open(&mem, getpid()), 0);
  p.mem = &mem;
  p.md_types = addr_of(g_types);
  p.md_etypes = addr_of(g_types) + TYPES_SIZE;

  memset(g_types, 0, sizeof g_types);
  const uint8_t good_name[] = {0, 10, '*', 'm', 'a', 'i', 'n', '.', 'g', 'o', 'o', 'd'};
  memcpy(g_types + 1024, good_name, sizeof good_name);
  put_type(L, 64, 600, 1024, 1 << 1);  /* main.good (stored as "*main.good", TFlagExtraStar) */
  put_type(L, 128, 5000, 1024, 1 << 1); /* too big for a 632-byte slot */
  put_type(L, 192, 100, -8, 0);        /* a nameOff before the section: no name */
  put_type(L, 256, 300, 5000, 0);      /* a nameOff past the section: no name */

  memset(g_span, 0, sizeof g_span);
  uint64_t headers[NSLOTS] = {
      addr_of(g_types + 64),  addr_of(g_types + 64), /* 2 x main.good */
      addr_of(g_types + 128),                       /* oversized: bad */
      0,                                            /* nil: bad */
      0xdead0000ull,                                /* unmapped: bad */
      addr_of(g_types + 192),                       /* unnamed, 6 values a slot: an array */
      addr_of(g_types + 3),                         /* garbage in the section: size 0, bad */
      0x7fff000000000000ull,                        /* not an address at all: bad */
      addr_of(g_types + 256),                       /* unnamed, 2 values a slot */
      addr_of(g_types + 64),                        /* allocated by allocBits, past freeindex */
      addr_of(g_types + 64),                        /* free: never read */
      addr_of(g_types + 64),                        /* free */
  };
  for (int i = 0; i < NSLOTS; i++) put(g_span + i * SLOT, 0, headers[i], 8);
  memset(g_allocbits, 0, sizeof g_allocbits);
  g_allocbits[1] = 1 << 1; /* slot 9 */

  gr_span spans[] = {
      {.base = addr_of(g_span), .npages = 1, .elemsize = SLOT, .nelems = NSLOTS, .nalloc = 10, .sizeclass = 28,
       .alloc_bits = addr_of(g_allocbits), .freeindex = 9, .swept = true},
      {.base = addr_of(g_large), .npages = 1, .elemsize = 8192, .nelems = 1, .nalloc = 1, .sizeclass = 0,
       .large_type = addr_of(g_types + 64), .swept = true},
      {.base = addr_of(g_large), .npages = 1, .elemsize = 8192, .nelems = 1, .nalloc = 1, .sizeclass = 0,
       .large_type = 0xffffffffffff0000ull, .swept = true}, /* hostile largeType */
  };
  gr_heap h;
  memset(&h, 0, sizeof h);
  h.spans = spans;
  h.n = sizeof spans / sizeof spans[0];
  assert_int_equal(gr_heap_read_types(&p, &h), 0);
  assert_true(h.has_types);
  /* slots 0, 1, 9: main.good; 5, 8: unnamed; 2, 3, 4, 6, 7: bad; large: one good, one bad */
  assert_int_equal(h.nbadheaders, 6);
  uint64_t good = 0, unnamed = 0, large_good = 0;
  for (size_t i = 0; i < h.ntyped; i++) {
    const gr_heap_typed *r = &h.typed[i];
    const gr_heap_type *t = &h.types[r->type];
    if (r->sizeclass == 28 && t->name && !strcmp(t->name, "main.good") && !r->array) good += r->objects;
    if (r->sizeclass == 28 && !t->name && r->array) unnamed += r->objects;
    if (r->sizeclass == 0 && t->name && !strcmp(t->name, "main.good") && r->array) large_good += r->objects;
    if (r->sizeclass == 0 && r->array) assert_string_equal(h.row_names[i], "[]main.good");
  }
  assert_int_equal(good, 3);
  assert_int_equal(unnamed, 2);
  assert_int_equal(large_good, 1);
  assert_int_equal(h.typed_objects, 6);
  h.spans = NULL; /* ours, on the stack */
  gr_heap_free(&h);
  tgt_mem_close(&mem);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_heap_good_span_is_read_at_each_nelems_width),
    cmocka_unit_test(test_heap_sweepgen_says_whether_counts_are_exact),
    cmocka_unit_test(test_heap_hostile_spans_are_refused),
    cmocka_unit_test(test_heap_manual_span_is_not_heap),
    cmocka_unit_test(test_heap_type_names_decode),
    cmocka_unit_test(test_heap_find_maps_addresses_to_objects),
    cmocka_unit_test(test_heap_types_from_headers_good_and_hostile),
};

UNIT_MAIN(tests)
